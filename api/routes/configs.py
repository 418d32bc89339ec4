"""Planning configs: read the active one or any by id, store a new version (validated before it
is stored)."""

from __future__ import annotations

from fastapi import APIRouter, status

from api.deps import AuthFirstRoute, IdPath, SessionDep, allowed
from api.errors import NotFound, error_responses
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
        scenario=row.scenario,
        body=row.body,
    )


@router.get(
    "/active",
    response_model=ConfigPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, said={404: "no planning config stored yet"}),
)
def active_config(session: SessionDep) -> ConfigPublic:
    """The config the scheduled pipeline plans with (the newest stored that is not a what-if)."""
    row = repository.active_config(session)
    if row is None:
        raise NotFound("no planning config stored yet: POST one to /v1/configs")
    return _public(row)


@router.get(
    "/{config_id}",
    response_model=ConfigPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422),
)
def get_config(config_id: IdPath, session: SessionDep) -> ConfigPublic:
    """One stored config by id: the active one, an older version, or a what-if's (`scenario`);
    a plan's `config_id` names the config it was planned with."""
    row = session.get(PlanningConfigRow, config_id)
    if row is None:
        raise NotFound(f"no planning config with id {config_id}")
    return _public(row)


@router.post(
    "",
    response_model=ConfigPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.CONFIGURE)],
    responses=error_responses(422),
)
def store_config(config: PlanningConfig, session: SessionDep) -> ConfigPublic:
    """Store a new planning config version; it becomes the active one."""
    body = config.model_dump(mode="json")
    return _public(repository.save_config(session, body, planning.config_hash(body)))
