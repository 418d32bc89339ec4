"""The audit trail: who changed what is stored, and when (homeward.audit), for an admin."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response

from api.created import CreatedWindowDep
from api.deps import AuthFirstRoute, BeforeIdQuery, OffsetQuery, SessionDep, allowed
from api.errors import error_responses, refused_unless_role
from api.paging import PAGED_RESPONSES, send_next, send_total
from api.schemas import AuditEventPublic
from homeward import repository
from homeward.roles import Action
from models.tables import AuditAction

router = APIRouter(prefix="/v1", tags=["audit"], route_class=AuthFirstRoute)


@router.get(
    "/audit",
    operation_id="list_audit_events",
    response_model=list[AuditEventPublic],
    dependencies=[allowed(Action.AUDIT)],
    responses=PAGED_RESPONSES | error_responses(422) | refused_unless_role(Action.AUDIT),
)
def list_audit_events(
    session: SessionDep,
    request: Request,
    response: Response,
    created: CreatedWindowDep,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50,
    offset: OffsetQuery = 0,
    action: Annotated[AuditAction | None, Query(description="only entries of this action")] = None,
    actor: Annotated[
        str | None,
        Query(
            min_length=1,  # `?actor=` is no actor (200 [] read as "nobody did anything")
            max_length=100,
            description="only entries of this actor: a key's name, `(auth off)` or `(cli)`",
        ),
    ] = None,
    before_id: BeforeIdQuery = None,
) -> list[AuditEventPublic]:
    """Who changed what is stored, and when, newest first: uploads and imports, configs
    stored, plans, sweeps and pipeline runs asked for, series deleted and runs purged, each
    written in the transaction of what it records (a delete that failed left none). Entries
    are never changed or deleted. Paged as GET /v1/runs is: `X-Total-Count` with the same
    filters (`before_id` aside), `Link` to the next page by `before_id`; `created_from` and
    `created_to` keep those made (`at`) in a window."""
    kept = repository.AuditFilter(action, actor, before_id, created)
    send_total(response, repository.count_audit(session, kept))
    found = repository.list_audit(session, limit + 1, offset, kept)  # one more: a next page?
    if len(found) > limit:
        send_next(response, request, {"before_id": found[limit - 1].id, "offset": None})
    return [AuditEventPublic.model_validate(row) for row in found[:limit]]
