"""API keys: make one (shown once, stored as its sha256, optionally expiring), rotate or revoke
it, say who a request is, and record when each key was last used."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import threading
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from homeward import audit, repository
from homeward.clock import utc_text, utcnow
from homeward.errors import HomewardError
from homeward.roles import Action, Role, allows, roles_allowing
from homeward.storage import brief_lock_wait
from models import ApiKeyRow
from models.tables import AuditAction

log = logging.getLogger(__name__)

KEY_PREFIX = "hw_"
# What a key looks like where it must not be shown (a URL's `?api_key=...` in the access log,
# a 422 quoting that parameter): KEY_PREFIX and 32 or more of token_urlsafe's characters. A
# key has 43 (`_new_key`); 32 still catches one cut short, most of a secret all the same.
KEY_LIKE = re.compile(KEY_PREFIX + r"[A-Za-z0-9_-]{32,}")
# The same written in a URL as sent, any of its characters percent-encoded (`hw%5F...%2D...`,
# as a client's URL encoder may write `_` and `-`): each a character of a key or its `%XX`
# (`0-9` 30-39, `A-Z` 41-5A, `a-z` 61-7A, `-` 2D, `_` 5F). The access log keeps a path as sent.
_KEY_CHAR_SENT = r"(?:[A-Za-z0-9_-]|%(?:3[0-9]|[46][1-9A-Fa-f]|[57][0-9Aa]|5[Ff]|2[Dd]))"
_KEY_LIKE_SENT = re.compile(rf"(?:h|%68)(?:w|%77)(?:_|%5[Ff]){_KEY_CHAR_SENT}{{32,}}")
# A key masked: none of the secret kept (every character of it is random; a key's name is what
# identifies it), only that a key was there.
MASKED_KEY = KEY_PREFIX + "****"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$")
HOW_TO_SEND = (
    "'Authorization: Bearer <key>', 'X-API-Key: <key>' or Basic credentials with the key as "
    "the password (any user name)"
)
# `--expires-in DAYS` at most: ten years. Past that a key is, for any policy, one that does
# not expire, and saying so (no --expires-in) is plainer than a date in 2080.
MAX_EXPIRY_DAYS = 3650
# A key's last use is recorded at most this often: "unused for 90 days" needs days, not
# seconds, and a dashboard polling every few seconds would otherwise write on every request.
LAST_USED_EVERY = timedelta(minutes=5)
# How long recording a use may wait for another transaction's lock (an import holding
# SQLite's write lock) before it is skipped for this request: the request is not held up.
LAST_USED_LOCK_WAIT_S = 0.25
# After a use could not be recorded, that key's use is not tried again in this process for
# this long: the requests meanwhile neither wait for the lock again nor each log the same
# warning (a soak on SQLite logged it 15 times in 5 s). Nor is a key's use tried by two
# requests at once. The first request after it records the use.
LAST_USED_RETRY_AFTER = timedelta(seconds=30)
_use_writes_lock = threading.Lock()
# (database, key id): when that key's use may next be written, while one is being written or
# after one failed
_use_writes_held: dict[tuple[str, int], datetime] = {}


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


class KeyExpiredAlready(HomewardError):
    """`keys rotate` would keep the expiry of a key that has expired: the new key would be
    expired from the start."""


class NotAuthenticated(HomewardError):
    """The request carried no key, or one that is unknown, revoked or expired. `reason` is a
    code for the access log (`no_key`, `unknown_key`, `revoked_key`, `expired_key`,
    `not_bearer`, `bad_basic`), never the key; `key_name`, the name of a revoked or expired
    key (which the answer names too), so the log can say which retired key is still used;
    `expires_at`, when an expired key expired (the answer gives it)."""

    def __init__(
        self,
        message: str,
        reason: str,
        key_name: str | None = None,
        expires_at: datetime | None = None,
    ) -> None:
        super().__init__(message)
        self.reason = reason
        self.key_name = key_name
        self.expires_at = expires_at


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
    """Who made a request: the key's name and role. Its stored id, when it expires and when
    its use was last recorded are facts about the key, not who the caller is, so two callers
    are equal by name and role alone."""

    name: str
    role: Role
    key_id: int | None = field(default=None, compare=False)
    expires_at: datetime | None = field(default=None, compare=False)
    last_used_at: datetime | None = field(default=None, compare=False)


# Every request is this caller when the service runs with HOMEWARD_AUTH=off.
AUTH_OFF = Caller(name=audit.AUTH_OFF, role=Role.ADMIN)


@dataclass(frozen=True)
class NewKey:
    """A key just made: `secret` exists only here, to be shown once."""

    name: str
    role: Role
    secret: str
    expires_at: datetime | None = None


def mask_keys(text: str) -> str:
    """`text` with anything that looks like an API key as `hw_****`: for whatever echoes what a
    request sent (the access log's request line, a problem's `detail` and `problems`, a log
    line naming the path), where a key sent in the wrong place would otherwise be kept. A key
    still percent-encoded, in part or whole, is masked too."""
    return _KEY_LIKE_SENT.sub(MASKED_KEY, text)


def key_hash(secret: str) -> str:
    """The sha256 of a key, as 64 hex digits: what is stored and looked up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    session: Session, name: str, role: Role, expires_in_days: int | None = None
) -> NewKey:
    """Make a random key for `name` with `role`, expiring `expires_in_days` days from now
    (None: never), and store only its hash."""
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
            else _expired_aside(existing)
        )
        raise KeyNameTaken(f"a key named {name!r} exists already{revoked}; choose another name")
    new = _new_key(session, name, role, "created", _expiry(utcnow(), expires_in_days))
    _record(session, "create_key", new)
    return new


def _record(session: Session, action: AuditAction, key: NewKey) -> None:
    """Put a key made (`create_key`) or replaced (`rotate_key`) in the audit trail, in the
    transaction that stores it: its name, role and expiry, never its secret. Keys are made
    at the shell (`homeward keys`, or `homeward demo` for its own), so by `(cli)`."""
    expires = None if key.expires_at is None else utc_text(key.expires_at)
    repository.record_audit(
        session, audit.CLI, action, name=key.name, role=key.role.value, expires_at=expires
    )


def _expired_aside(row: ApiKeyRow) -> str:
    """For a refused `keys create`: that the name's key has expired, and how to renew it."""
    expired = when_expired(row, utcnow())
    if expired is None:
        return ""
    return (
        f" (it expired at {utc_minute(expired)}; `keys rotate {row.name} --expires-in "
        "DAYS` gives it a new key)"
    )


def _expiry(now: datetime, days: int | None) -> datetime | None:
    return None if days is None else now + timedelta(days=days)


def when_expired(key: ApiKeyRow | Caller, now: datetime) -> datetime | None:
    """When the key (a stored one, or a caller it identified) expired, if it has by `now`;
    None if it has not or never will."""
    expires = key.expires_at
    return expires if expires is not None and _aware(expires) <= now else None


def rotate_key(
    session: Session, name: str, expires_in_days: int | None = None, no_expiry: bool = False
) -> NewKey:
    """A new key for `name` with its role, and its old key revoked, in the caller's one
    transaction: a client moves to the new key under the same name, and the old one (leaked,
    or simply old) gets 401 from the commit on. Only an active key is rotated.

    The new key keeps the old one's expiry moment (a contractor's key replaced because it
    leaked still ends with the contract) unless `expires_in_days` gives a new term from now
    or `no_expiry` takes the expiry away; keeping an expiry that has passed is refused."""
    if expires_in_days is not None and no_expiry:
        raise ValueError("expected --expires-in DAYS or --no-expiry, not both")
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
    expires_at = _rotated_expiry(row, utcnow(), expires_in_days, no_expiry)
    repository.revoke_api_key(session, row)  # first: a name is unique among active keys
    new = _new_key(session, name, Role(row.role), "rotated", expires_at)
    _record(session, "rotate_key", new)
    return new


def _rotated_expiry(
    row: ApiKeyRow, now: datetime, expires_in_days: int | None, no_expiry: bool
) -> datetime | None:
    """When the key replacing `row` expires: a new term, never, or as `row` does."""
    if no_expiry or expires_in_days is not None:
        return _expiry(now, expires_in_days)
    expired = when_expired(row, now)
    if expired is not None:
        raise KeyExpiredAlready(
            f"key {row.name!r} expired at {utc_minute(expired)}, so a new key keeping its "
            "expiry would be expired already; give it a new term with `--expires-in DAYS` "
            "(or `--no-expiry`)"
        )
    return row.expires_at


def _new_key(
    session: Session, name: str, role: Role, done: str, expires_at: datetime | None
) -> NewKey:
    """Store a new key for `name`. Two commands run at once may both find the name free (or
    its key active) and both add a key; the index making a name unique among active keys
    refuses the second, which is told so rather than shown the driver's UniqueViolation."""
    secret = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        repository.add_api_key(session, name, role.value, key_hash(secret), expires_at)
    except IntegrityError as exc:
        if not _active_name_taken(exc):
            raise
        raise KeyChangedMeanwhile(
            f"key {name!r} was {done} by someone else at the same time, so this command "
            "changed nothing; `homeward keys list` shows its keys now: try again if it still "
            "needs doing"
        ) from exc
    return NewKey(name=name, role=role, secret=secret, expires_at=expires_at)


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
    revoked = repository.revoke_api_key(session, row)
    repository.record_audit(session, audit.CLI, "revoke_key", name=name, role=row.role)
    return revoked


def authenticate(session: Session, secret: str | None, now: datetime | None = None) -> Caller:
    """The caller a key belongs to; NotAuthenticated if it is missing, unknown, revoked or
    expired (at `now`, by default the clock's now). Records nothing: see `record_use`."""
    if not secret:
        raise NotAuthenticated(f"this request needs an API key: send {HOW_TO_SEND}", "no_key")
    row = repository.api_key_by_hash(session, key_hash(secret))
    if row is None:
        raise NotAuthenticated(
            f"the API key sent is not known; send a current key as {HOW_TO_SEND}", "unknown_key"
        )
    if row.revoked_at is not None:
        newest = repository.api_key_by_name(session, row.name)
        if newest is not None and newest.id != row.id and newest.revoked_at is None:
            # rotated: the name still works, with the key given at the rotation
            raise NotAuthenticated(
                f"the API key {row.name!r} sent was replaced at {utc_minute(row.revoked_at)} "
                "(`homeward keys rotate`): send the new key given then",
                "revoked_key",
                row.name,
            )
        raise NotAuthenticated(
            f"the API key {row.name!r} has been revoked", "revoked_key", row.name
        )
    expired = when_expired(row, now or utcnow())
    if expired is not None:
        raise NotAuthenticated(
            f"the API key {row.name!r} expired at {utc_minute(expired)}; an admin can "
            f"give it a new key with `homeward keys rotate {row.name} --expires-in DAYS`",
            "expired_key",
            row.name,
            _aware(expired),
        )
    return Caller(
        name=row.name,
        role=Role(row.role),
        key_id=row.id,
        expires_at=row.expires_at,
        last_used_at=row.last_used_at,
    )


def record_use(factory: sessionmaker[Session], caller: Caller, now: datetime) -> Caller:
    """Record that `caller`'s key was used at `now` if its last use was recorded
    LAST_USED_EVERY or more before (so at most one write per key per interval, whatever the
    requests), and the caller with the last use as now recorded. A failed write (the database
    busy or gone) is logged and skipped: the request it was made for goes on, the key's use is
    not tried again for LAST_USED_RETRY_AFTER (nor while another request is writing it), and
    a request after that records it."""
    last = caller.last_used_at
    if caller.key_id is None or (last is not None and now - _aware(last) < LAST_USED_EVERY):
        return caller
    engine: Engine = factory.kw["bind"]
    held = (engine.url.render_as_string(), caller.key_id)
    if not _may_write_use(held, now):
        return caller
    try:
        with brief_lock_wait(engine, LAST_USED_LOCK_WAIT_S) as connection:
            repository.note_api_key_use(connection, caller.key_id, now, now - LAST_USED_EVERY)
    except SQLAlchemyError as exc:
        said = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        log.warning(
            "could not record that API key %r was used (%s); not tried again for %d s",
            caller.name,
            said,
            LAST_USED_RETRY_AFTER.total_seconds(),
        )
        return caller  # held until LAST_USED_RETRY_AFTER after `now` (_may_write_use)
    with _use_writes_lock:
        _use_writes_held.pop(held, None)
    return replace(caller, last_used_at=now)


def _may_write_use(held: tuple[str, int], now: datetime) -> bool:
    """Whether a key's use may be written now (not after a failure LAST_USED_RETRY_AFTER
    ago, nor while another request writes it); if so, held for LAST_USED_RETRY_AFTER, which
    a write that succeeds ends."""
    with _use_writes_lock:
        until = _use_writes_held.get(held)
        if until is not None and now < until:
            return False
        _use_writes_held[held] = now + LAST_USED_RETRY_AFTER
        return True


def authorise(caller: Caller, action: Action, what: str) -> None:
    """Nothing if the caller's role may do `action`; RoleTooWeak naming the roles that may."""
    if not allows(caller.role, action):
        raise RoleTooWeak(caller, action, what)


def utc_minute(moment: datetime) -> str:
    """'2026-11-22 21:32 UTC' for a stored moment: PostgreSQL hands it back in its session's
    time zone (Europe/London on many council servers), SQLite naive in UTC."""
    return f"{_aware(moment).astimezone(UTC):%Y-%m-%d %H:%M} UTC"


def _aware(moment: datetime) -> datetime:
    """A stored moment with its zone: SQLite hands them back naive, in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _either(roles: tuple[Role, ...]) -> str:
    names = [r.value for r in roles]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
