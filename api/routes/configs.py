"""Planning configs: read the active one, store a new version (validated before it is stored)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, SessionDep, allowed
from api.errors import NotFound
from api.schemas import ConfigPublic
from homeward import planning, repository
from homeward.roles import Action
from models import PlanningConfigRow
from optimise.config import PlanningConfig

router = APIRouter(prefix="/v1/configs", tags=["configs"], route_class=AuthFirstRoute)


def _public(row: PlanningConfigRow) -> ConfigPublic:
    return ConfigPublic(
        id=row.id,
        name=row.name,
        version=row.version,
        created_at=row.created_at,
        body_hash=row.body_hash,
        body=row.body,
    )


@router.get("/active", response_model=ConfigPublic, dependencies=[allowed(Action.READ)])
def active_config(session: SessionDep) -> ConfigPublic:
    """The config the scheduled pipeline plans with (the newest stored)."""
    row = repository.active_config(session)
    if row is None:
        raise NotFound("no planning config stored yet: POST one to /v1/configs")
    return _public(row)


@router.post(
    "",
    response_model=ConfigPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.CONFIGURE)],
)
def store_config(config: PlanningConfig, session: SessionDep) -> ConfigPublic:
    """Store a new planning config version; it becomes the active one."""
    body = config.model_dump(mode="json")
    return _public(repository.save_config(session, body, planning.config_hash(body)))
