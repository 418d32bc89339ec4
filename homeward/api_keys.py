"""API keys: make one (shown once, stored as its sha256), rotate or revoke it, and say who a
request is."""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from homeward import repository
from homeward.errors import HomewardError
from homeward.roles import Action, Role, allows, roles_allowing
from models import ApiKeyRow

KEY_PREFIX = "hw_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
HOW_TO_SEND = "send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'"


class KeyNameTaken(HomewardError):
    """A key with that name exists already (names are never reused, even once revoked)."""


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
            f" (revoked at {utc_minute(existing.revoked_at)}; a name is never reused, so "
            "a revoked key's name keeps meaning that key)"
            if existing.revoked_at is not None
            else ""
        )
        raise KeyNameTaken(f"a key named {name!r} exists already{revoked}; choose another name")
    return _new_key(session, name, role)


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
    return _new_key(session, name, Role(row.role))


def _new_key(session: Session, name: str, role: Role) -> NewKey:
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    repository.add_api_key(session, name, role.value, key_hash(secret))
    return NewKey(name=name, role=role, secret=secret)


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
