"""The role table: which API key role may do what. The one place access rules are written."""

from __future__ import annotations

from enum import StrEnum
from types import MappingProxyType


class Role(StrEnum):
    """The role an API key carries."""

    VIEWER = "viewer"
    PLANNER = "planner"
    FINANCE = "finance"
    ADMIN = "admin"


class Action(StrEnum):
    """What a request does; each route declares exactly one."""

    READ = "read plans, forecasts, series, configs and runs"
    PLAN = "solve a plan, a what-if scenario or a sweep of fee rates"
    RUN = "run the pipeline"
    CONFIGURE = "store a planning config"
    UPLOAD = "upload observations"
    AUDIT = "read the audit trail"


ROLE_ACTIONS: MappingProxyType[Role, frozenset[Action]] = MappingProxyType(
    {
        Role.VIEWER: frozenset({Action.READ}),
        Role.PLANNER: frozenset({Action.READ, Action.PLAN, Action.RUN}),
        Role.FINANCE: frozenset({Action.READ, Action.PLAN, Action.CONFIGURE}),
        Role.ADMIN: frozenset(Action),
    }
)


def allows(role: Role, action: Action) -> bool:
    """Whether a key with `role` may do `action`."""
    return action in ROLE_ACTIONS[role]


def roles_allowing(action: Action) -> tuple[Role, ...]:
    """Every role that may do `action`, weakest first (the order of `Role`)."""
    return tuple(role for role in Role if allows(role, action))


def parse_role(text: str) -> Role:
    """The role named `text`, or a ValueError naming the roles there are."""
    try:
        return Role(text)
    except ValueError:
        names = ", ".join(r.value for r in Role)
        raise ValueError(f"expected a role, one of {names}; found {text!r}") from None
