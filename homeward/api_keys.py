"""API keys: make one (shown once, stored as its sha256), rotate or revoke it, and say who a
request is."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from homeward import repository
from homeward.errors import HomewardError
from homeward.roles import Action, Role, allows, roles_allowing
from models import ApiKeyRow

KEY_PREFIX = "hw_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
HOW_TO_SEND = "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


class KeyNameTaken(HomewardError):
    """A key has or had that name: `keys create` takes no name any key has had, revoked or
    not, so a name in `keys list` and the access log is one client's keys; `keys rotate` is
    what gives a name a new key, and only while its key is active."""


class KeyChangedMeanwhile(HomewardError):
    """Another `keys create` or `keys rotate` gave the name an active key while this one ran
    (a name is unique among active keys); this one changed nothing."""


class UnknownKeyName(HomewardError):
    """No key has that name."""


class KeyAlreadyRevoked(HomewardError):
    """The key was revoked before."""


class NotAuthenticated(HomewardError):
    """The request carried no key, or one that is unknown or revoked. `reason` is a code for
    the access log (`no_key`, `unknown_key`, `revoked_key`, `not_bearer`), never the key."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class RoleTooWeak(HomewardError):
    """The key is valid but its role may not do what the request asks."""

    def __init__(self, caller: Caller, action: Action, what: str) -> None:
        self.needed = roles_allowing(action)
        self.found = caller.role
        super().__init__(
            f"{what} needs a key with role {_either(self.needed)}; "
            f"key {caller.name!r} has role {caller.role.value}"
        )


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key's name and role."""

    name: str
    role: Role


# Every request is this caller when the service runs with HOMEWARD_AUTH=off.
AUTH_OFF = Caller(name="(auth off)", role=Role.ADMIN)


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` exists only here, to be shown once."""

    name: str
    role: Role
    secret: str


def key_hash(secret: str) -> str:
    """The sha256 of a key, as 64 hex digits: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(session: Session, name: str, role: Role) -> NewKey:
    """Make a random key for `name` with `role` and store only its hash."""
    if not NAME_PATTERN.fullmatch(name):
        raise ValueError(
            "expected a key name of 1-100 letters, digits, '.', '_', '@' or '-' "
            f"starting with a letter or digit, found {name!r}"
        )
    existing = repository.api_key_by_name(session, name)
    if existing is not None:
        revoked = (
            f" (revoked at {utc_minute(existing.revoked_at)}; `keys create` takes no name a "
            "key has had, so a name's keys are one client's; `keys rotate` gives a name a new "
            "key, but only while its key is active)"
            if existing.revoked_at is not None
            else ""
        )
        raise KeyNameTaken(f"a key named {name!r} exists already{revoked}; choose another name")
    return _new_key(session, name, role, "created")


def rotate_key(session: Session, name: str) -> NewKey:
    """A new key for `name` with its role, and its old key revoked, in the caller's one
    transaction: a client moves to the new key under the same name, and the old one (leaked,
    or simply old) gets 401 from the commit on. Only an active key is rotated."""
    row = repository.api_key_by_name(session, name)
    if row is None:
        raise UnknownKeyName(
            f"no key named {name!r} to rotate; `homeward keys list` lists the keys"
        )
    if row.revoked_at is not None:
        raise KeyAlreadyRevoked(
            f"key {name!r} was revoked at {utc_minute(row.revoked_at)}, so there is no active "
            "key to rotate; make a new one under another name with `homeward keys create`"
        )
    repository.revoke_api_key(session, row)  # first: a name is unique among active keys
    return _new_key(session, name, Role(row.role), "rotated")


def _new_key(session: Session, name: str, role: Role, done: str) -> NewKey:
    """Store a new key for `name`. Two commands run at once may both find the name free (or
    its key active) and both add a key; the index making a name unique among active keys
    refuses the second, which is told so rather than shown the driver's UniqueViolation."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        repository.add_api_key(session, name, role.value, key_hash(secret))
    except IntegrityError as exc:
        if not _active_name_taken(exc):
            raise
        raise KeyChangedMeanwhile(
            f"key {name!r} was {done} by someone else at the same time, so this command "
            "changed nothing; `homeward keys list` shows its keys now: try again if it still "
            "needs doing"
        ) from exc
    return NewKey(name=name, role=role, secret=secret)


def _active_name_taken(exc: IntegrityError) -> bool:
    """Whether `exc` is the active-name index refusing a second active key of one name:
    PostgreSQL names the index, SQLite the column."""
    said = str(exc.orig)
    return "uq_api_keys_active_name" in said or "api_keys.name" in said


def revoke_key(session: Session, name: str) -> ApiKeyRow:
    """Revoke the key named `name`; requests with it get 401 from now on."""
    row = repository.api_key_by_name(session, name)
    if row is None:
        raise UnknownKeyName(f"no key named {name!r}; `homeward keys list` lists the keys")
    if row.revoked_at is not None:
        raise KeyAlreadyRevoked(
            f"key {name!r} was revoked already, at {utc_minute(row.revoked_at)}"
        )
    return repository.revoke_api_key(session, row)


def authenticate(session: Session, secret: str | None) -> Caller:
    """The caller a key belongs to; NotAuthenticated if it is missing, unknown or revoked."""
    if not secret:
        raise NotAuthenticated(f"this request needs an API key: {HOW_TO_SEND}", "no_key")
    row = repository.api_key_by_hash(session, key_hash(secret))
    if row is None:
        raise NotAuthenticated(
            f"the API key sent is not known; {HOW_TO_SEND} with a current key", "unknown_key"
        )
    if row.revoked_at is not None:
        raise NotAuthenticated(f"the API key {row.name!r} has been revoked", "revoked_key")
    return Caller(name=row.name, role=Role(row.role))


def authorise(caller: Caller, action: Action, what: str) -> None:
    """Nothing if the caller's role may do `action`; RoleTooWeak naming the roles that may."""
    if not allows(caller.role, action):
        raise RoleTooWeak(caller, action, what)


def utc_minute(moment: datetime) -> str:
    """'2026-11-22 21:32 UTC' for a stored moment: PostgreSQL hands it back in its session's
    time zone (Europe/London on many council servers), SQLite naive in UTC."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return f"{aware.astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _either(roles: tuple[Role, ...]) -> str:
    names = [r.value for r in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
