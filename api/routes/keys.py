"""Who the caller is: the key a request was sent with, its role and what that role may do, so a
dashboard can offer only what the key may do (before a request comes back 403)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter
from sqlalchemy import select

from api.deps import AuthFirstRoute, SessionDep, allowed
from api.schemas import KeyPublic
from homeward import api_keys
from homeward.api_keys import Caller
from homeward.roles import Action, Role, allows, roles_allowing

router = APIRouter(prefix="/v1/keys", tags=["keys"], route_class=AuthFirstRoute)

ActionName = Literal["read", "plan", "run", "configure", "upload", "audit"]
# The actions by the short names the answer gives them (homeward/roles.py's Action, by name).
ACTION_NAMES: dict[Action, ActionName] = {
    Action.READ: "read",
    Action.PLAN: "plan",
    Action.RUN: "run",
    Action.CONFIGURE: "configure",
    Action.UPLOAD: "upload",
    Action.AUDIT: "audit",
}
RoleName = Literal["viewer", "planner", "finance", "admin"]
ROLE_NAMES: dict[Role, RoleName] = {
    Role.VIEWER: "viewer",
    Role.PLANNER: "planner",
    Role.FINANCE: "finance",
    Role.ADMIN: "admin",
}
# The caller the key check resolved (every role may read, so any valid key is let through).
CallerDep = Annotated[Caller, allowed(Action.READ)]


@router.get(
    "/me",
    operation_id="get_my_key",
    response_model=KeyPublic,
    dependencies=[allowed(Action.READ)],
)
def get_my_key(session: SessionDep, caller: CallerDep) -> KeyPublic:
    """The key this request was sent with: its name, its role, when it expires and was last
    used, what that role may do, and for every action the roles that may. With
    HOMEWARD_AUTH=off there is no key: `auth` is `off`, `name` null and the role admin. Like
    every /v1 answer it needs the database: a 200 says the key is good and the service can
    answer (keys on or off), a 503 that the database cannot."""
    session.execute(select(1))
    off = caller is api_keys.AUTH_OFF
    return KeyPublic(
        auth="off" if off else "keys",
        name=None if off else caller.name,
        role=ROLE_NAMES[caller.role],
        expires_at=caller.expires_at,
        last_used_at=caller.last_used_at,
        may=[name for action, name in ACTION_NAMES.items() if allows(caller.role, action)],
        roles_allowing={
            name: [ROLE_NAMES[role] for role in roles_allowing(action)]
            for action, name in ACTION_NAMES.items()
        },
    )
