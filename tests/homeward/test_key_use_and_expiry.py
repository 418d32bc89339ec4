"""API keys that expire and that record when they were last used: an expired key is refused
saying when it expired (never the key), a rotation keeps or renews the expiry, and a key's use
is written at most once per LAST_USED_EVERY, never failing the request it was made for."""

from __future__ import annotations

import logging
import threading
from contextlib import AbstractContextManager
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Connection, Engine, text
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, repository
from homeward.clock import utcnow
from homeward.recovery import as_utc
from homeward.roles import Role
from homeward.storage import brief_lock_wait, transaction

DAY = timedelta(days=1)


def _row(factory: sessionmaker[Session], name: str) -> tuple[datetime | None, datetime | None]:
    """The name's newest key's (expires_at, last_used_at), both in UTC."""
    with factory() as session:
        row = repository.api_key_by_name(session, name)
        assert row is not None
        return _utc(row.expires_at), _utc(row.last_used_at)


def _utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def test_a_key_expires_its_days_after_it_is_made_saying_when_and_never_the_key(
    either_factory: sessionmaker[Session],
) -> None:
    """A contractor's key made for 90 days works on day 89 and is refused from day 90 on,
    as `expired_key`, with the moment it expired in UTC; a key with no expiry still works a
    century on."""
    before = utcnow()
    with transaction(either_factory) as session:
        contractor = api_keys.create_key(session, "contractor", Role.VIEWER, expires_in_days=90)
        staff = api_keys.create_key(session, "staff", Role.VIEWER)
    expires, _ = _row(either_factory, "contractor")
    assert expires is not None and before + 90 * DAY <= expires <= utcnow() + 90 * DAY
    assert contractor.expires_at == expires and staff.expires_at is None
    with either_factory() as session:
        caller = api_keys.authenticate(session, contractor.secret, expires - timedelta(seconds=1))
        assert caller == api_keys.Caller("contractor", Role.VIEWER)
        assert caller.expires_at is not None and _utc(caller.expires_at) == expires
        with pytest.raises(api_keys.NotAuthenticated) as refused:
            api_keys.authenticate(session, contractor.secret, expires)
        assert api_keys.authenticate(session, staff.secret, expires + 36500 * DAY).name == "staff"
    assert refused.value.reason == "expired_key"
    said = str(refused.value)
    assert said == (
        f"the API key 'contractor' expired at {api_keys.utc_minute(expires)}; an admin can "
        "give it a new key with `homeward keys rotate contractor --expires-in DAYS`"
    )
    assert contractor.secret not in said


def test_a_revoked_key_that_has_also_expired_is_refused_as_revoked(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        new = api_keys.create_key(session, "gone", Role.VIEWER, expires_in_days=1)
        api_keys.revoke_key(session, "gone")
    with factory() as session, pytest.raises(api_keys.NotAuthenticated) as refused:
        api_keys.authenticate(session, new.secret, utcnow() + 2 * DAY)
    assert refused.value.reason == "revoked_key"


def test_creating_an_expired_keys_name_says_how_to_renew_it(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        api_keys.create_key(session, "contractor", Role.VIEWER, expires_in_days=30)
        session.execute(text("UPDATE api_keys SET expires_at = '2026-01-02 03:04:00'"))
    with pytest.raises(api_keys.KeyNameTaken) as taken, transaction(factory) as session:
        api_keys.create_key(session, "contractor", Role.VIEWER, expires_in_days=30)
    assert str(taken.value) == (
        "a key named 'contractor' exists already (it expired at 2026-01-02 03:04 UTC; `keys "
        "rotate contractor --expires-in DAYS` gives it a new key); choose another name"
    )


def test_a_rotation_keeps_the_expiry_unless_given_a_new_term_or_none(
    either_factory: sessionmaker[Session],
) -> None:
    """A leaked contractor key is replaced and still ends with the contract; `--expires-in`
    gives a new term from now, and `--no-expiry` none."""
    with transaction(either_factory) as session:
        api_keys.create_key(session, "contractor", Role.VIEWER, expires_in_days=90)
    contract_ends, _ = _row(either_factory, "contractor")
    with transaction(either_factory) as session:
        kept = api_keys.rotate_key(session, "contractor")
    assert _row(either_factory, "contractor")[0] == contract_ends == _utc(kept.expires_at)
    before = utcnow()
    with transaction(either_factory) as session:
        renewed = api_keys.rotate_key(session, "contractor", expires_in_days=7)
    renewed_to, _ = _row(either_factory, "contractor")
    assert renewed_to is not None and before + 7 * DAY <= renewed_to <= utcnow() + 7 * DAY
    assert _utc(renewed.expires_at) == renewed_to
    with transaction(either_factory) as session:
        api_keys.rotate_key(session, "contractor", no_expiry=True)
    assert _row(either_factory, "contractor")[0] is None
    with pytest.raises(ValueError, match="not both"), transaction(either_factory) as session:
        api_keys.rotate_key(session, "contractor", expires_in_days=7, no_expiry=True)


def test_rotating_an_expired_key_needs_a_new_term(factory: sessionmaker[Session]) -> None:
    """Keeping an expiry that has passed would make a key refused from the start."""
    with transaction(factory) as session:
        old = api_keys.create_key(session, "contractor", Role.PLANNER, expires_in_days=30)
        session.execute(text("UPDATE api_keys SET expires_at = '2026-01-02 03:04:00'"))
    with pytest.raises(api_keys.KeyExpiredAlready) as refused, transaction(factory) as session:
        api_keys.rotate_key(session, "contractor")
    assert str(refused.value) == (
        "key 'contractor' expired at 2026-01-02 03:04 UTC, so a new key keeping its expiry "
        "would be expired already; give it a new term with `--expires-in DAYS` (or "
        "`--no-expiry`)"
    )
    with factory() as session:
        assert len(repository.list_api_keys(session)) == 1  # nothing changed
    with transaction(factory) as session:
        new = api_keys.rotate_key(session, "contractor", expires_in_days=30)
    with factory() as session:
        assert api_keys.authenticate(session, new.secret) == api_keys.Caller(
            "contractor", Role.PLANNER
        )
        with pytest.raises(api_keys.NotAuthenticated) as old_refused:
            api_keys.authenticate(session, old.secret)
    assert old_refused.value.reason == "revoked_key"


def _use(factory: sessionmaker[Session], secret: str, now: datetime) -> api_keys.Caller:
    """What a request does with its key at `now`: authenticate, then record the use."""
    with factory() as session:
        caller = api_keys.authenticate(session, secret, now)
    return api_keys.record_use(factory, caller, now)


def test_a_keys_use_is_recorded_at_most_once_per_interval(
    either_factory: sessionmaker[Session],
) -> None:
    """Never used, then used: recorded. Used again within LAST_USED_EVERY: not written (the
    caller is told the recorded time). Used once the interval has passed: written again."""
    with transaction(either_factory) as session:
        secret = api_keys.create_key(session, "dashboard", Role.VIEWER).secret
    assert _row(either_factory, "dashboard")[1] is None
    first = utcnow().replace(microsecond=0)
    assert _utc(_use(either_factory, secret, first).last_used_at) == first
    assert _row(either_factory, "dashboard")[1] == first
    soon = first + api_keys.LAST_USED_EVERY - timedelta(seconds=1)
    assert _utc(_use(either_factory, secret, soon).last_used_at) == first
    assert _row(either_factory, "dashboard")[1] == first
    later = first + api_keys.LAST_USED_EVERY
    assert _utc(_use(either_factory, secret, later).last_used_at) == later
    assert _row(either_factory, "dashboard")[1] == later


def test_requests_at_once_that_find_an_old_use_write_it_once(
    either_factory: sessionmaker[Session],
) -> None:
    """Two requests (threads or processes) both read the key before either recorded its use:
    the write's own condition lets the first through and the second finds it done."""
    with transaction(either_factory) as session:
        api_keys.create_key(session, "dashboard", Role.VIEWER)
        key_id = repository.list_api_keys(session)[0].id
    first = utcnow().replace(microsecond=0)
    second = first + timedelta(seconds=2)
    every = api_keys.LAST_USED_EVERY
    engine = either_factory.kw["bind"]
    with engine.begin() as connection:
        assert repository.note_api_key_use(connection, key_id, first, first - every)
    with engine.begin() as connection:
        assert not repository.note_api_key_use(connection, key_id, second, second - every)
    assert _row(either_factory, "dashboard")[1] == first


def test_a_use_that_cannot_be_recorded_is_logged_and_the_request_goes_on(
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An import holds SQLite's write lock: the key still authenticates, the write gives up
    (after LAST_USED_LOCK_WAIT_S, not the usual 30 s busy timeout), a warning names the key
    (never the secret), and the pooled connection has its usual busy timeout back."""
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "dashboard", Role.VIEWER).secret
    engine = factory.kw["bind"]
    waits: list[float] = []  # how long the write was let wait (not timed: asked)

    def noting_the_wait(engine: Engine, seconds: float) -> AbstractContextManager[Connection]:
        waits.append(seconds)
        return brief_lock_wait(engine, seconds)

    monkeypatch.setattr(api_keys, "brief_lock_wait", noting_the_wait)
    caplog.set_level(logging.WARNING, logger="homeward.api_keys")
    with engine.connect() as importer:
        importer.exec_driver_sql("BEGIN IMMEDIATE")  # the write lock, as a long import holds it
        caller = _use(factory, secret, utcnow())
        importer.rollback()
    assert caller == api_keys.Caller("dashboard", Role.VIEWER) and caller.last_used_at is None
    assert waits == [api_keys.LAST_USED_LOCK_WAIT_S]
    assert _row(factory, "dashboard")[1] is None
    [warning] = [r.getMessage() for r in caplog.records if r.name == "homeward.api_keys"]
    assert warning == (
        "could not record that API key 'dashboard' was used (database is locked); not tried "
        "again for 30 s"
    )
    assert secret not in warning
    with engine.connect() as a, engine.connect() as b, engine.connect() as c:  # every pooled one
        waits = [x.exec_driver_sql("PRAGMA busy_timeout").scalar_one() for x in (a, b, c)]
    assert waits == [30000] * 3


def test_after_a_use_that_cannot_be_recorded_the_key_is_not_tried_again_for_a_while(
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """While an import holds SQLite's write lock, the key's use fails once, logged once;
    requests in the next LAST_USED_RETRY_AFTER neither try (nor wait for the lock) nor log,
    even once the lock is free; the first request after it records the use (a soak on SQLite
    logged the same warning 15 times in 5 s, each request waiting for the lock again)."""
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    engine = factory.kw["bind"]
    tries: list[float] = []

    def noting_the_try(engine: Engine, seconds: float) -> AbstractContextManager[Connection]:
        tries.append(seconds)
        return brief_lock_wait(engine, seconds)

    monkeypatch.setattr(api_keys, "brief_lock_wait", noting_the_try)
    caplog.set_level(logging.WARNING, logger="homeward.api_keys")
    failed = utcnow().replace(microsecond=0)
    retry = api_keys.LAST_USED_RETRY_AFTER
    assert retry == timedelta(seconds=30)  # the interval the warning states
    with engine.connect() as importer:
        importer.exec_driver_sql("BEGIN IMMEDIATE")
        for later_s in (0, 1, 2, 29):
            assert _use(factory, secret, failed + timedelta(seconds=later_s)).last_used_at is None
        importer.rollback()
    soon = failed + retry - timedelta(seconds=1)
    assert _use(factory, secret, soon).last_used_at is None  # the lock is free: not yet tried
    assert len(tries) == 1 and _row(factory, "viewer")[1] is None
    said = [r.getMessage() for r in caplog.records if r.name == "homeward.api_keys"]
    assert said == [
        "could not record that API key 'viewer' was used (database is locked); not tried "
        "again for 30 s"
    ]
    after = failed + retry
    assert _utc(_use(factory, secret, after).last_used_at) == after
    assert len(tries) == 2 and _row(factory, "viewer")[1] == after


def test_a_keys_use_is_written_by_one_request_at_a_time(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request arriving while another is writing the same key's use (perhaps waiting for a
    lock) does not try too: each would wait and, failing, log."""
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "viewer", Role.VIEWER).secret
        other = api_keys.create_key(session, "other", Role.VIEWER).secret
    writing, go_on = threading.Event(), threading.Event()
    tries: list[float] = []

    def held_write(engine: Engine, seconds: float) -> AbstractContextManager[Connection]:
        tries.append(seconds)
        if len(tries) == 1:
            writing.set()
            assert go_on.wait(60), "the test never let the first write go on"
        return brief_lock_wait(engine, seconds)

    monkeypatch.setattr(api_keys, "brief_lock_wait", held_write)
    now = utcnow().replace(microsecond=0)
    first = threading.Thread(target=_use, args=(factory, secret, now))
    first.start()
    try:
        assert writing.wait(60)
        assert _use(factory, secret, now).last_used_at is None  # not tried: one is writing
        assert len(tries) == 1
        assert _utc(_use(factory, other, now).last_used_at) == now  # another key is its own
    finally:
        go_on.set()
        first.join(60)
    assert _row(factory, "viewer")[1] == now and len(tries) == 2
    later = now + api_keys.LAST_USED_EVERY  # written: the next write is in the usual interval
    assert _utc(_use(factory, secret, later).last_used_at) == later


def test_recording_a_use_waits_briefly_for_a_lock_and_restores_the_usual_wait(
    either_factory: sessionmaker[Session],
) -> None:
    """The write's transaction waits LAST_USED_LOCK_WAIT_S for another's lock (SQLite's busy
    timeout, PostgreSQL's lock_timeout), not the 30 s every other statement may, and its
    pooled connection has the usual wait again afterwards."""
    engine = either_factory.kw["bind"]
    sqlite = engine.dialect.name == "sqlite"
    ask = "PRAGMA busy_timeout" if sqlite else "SHOW lock_timeout"
    with brief_lock_wait(engine, api_keys.LAST_USED_LOCK_WAIT_S) as connection:
        assert str(connection.exec_driver_sql(ask).scalar_one()) == ("250" if sqlite else "250ms")
    with engine.connect() as a, engine.connect() as b:  # the one used above among them
        usual = [str(x.exec_driver_sql(ask).scalar_one()) for x in (a, b)]
    assert usual == (["30000"] * 2 if sqlite else ["0"] * 2)
