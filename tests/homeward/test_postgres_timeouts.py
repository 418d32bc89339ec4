"""A PostgreSQL server that takes a query and never answers fails the query, not the service:
the server cancels a statement past HOMEWARD_DB_STATEMENT_TIMEOUT_S (a 503, as the database
unavailable), libpq drops a connection to a host gone silent, and migrating is not held to
the statement timeout."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from homeward.repository import lock_observations
from homeward.storage import (
    MIGRATION_LOCK_KEY,
    make_engine,
    schema_revision,
    session_factory,
    upgrade,
)


def test_a_statement_past_the_timeout_fails_as_the_database_unavailable(
    fresh_postgres_url: str,
) -> None:
    """OperationalError is what api/errors.py answers with a 503 "database unavailable"."""
    engine = make_engine(fresh_postgres_url, statement_timeout_s=0.2)
    with pytest.raises(OperationalError, match="statement timeout"), engine.connect() as db:
        db.execute(text("SELECT pg_sleep(30)"))  # without a timeout: 30 s, then no error
    engine.dispose()


def test_connections_probe_a_silent_host_and_the_url_has_the_last_word(
    fresh_postgres_url: str,
) -> None:
    engine = make_engine(f"{fresh_postgres_url}?keepalives_idle=7")
    with engine.connect() as db:
        given = db.connection.driver_connection.info.get_parameters()  # type: ignore[union-attr]
        timeout = db.execute(text("SHOW statement_timeout")).scalar_one()
    engine.dispose()
    assert (given["keepalives"], given["keepalives_idle"]) == ("1", "7")
    assert given["tcp_user_timeout"] == "30000" and timeout == "1min"


def test_a_migration_waiting_for_another_outlasts_the_statement_timeout(
    fresh_postgres_url: str,
) -> None:
    """Another process migrating holds the lock for longer than the timeout; this one waits
    for it, then finds nothing to do, rather than failing its start."""
    engine = make_engine(fresh_postgres_url, statement_timeout_s=0.2)
    holder = make_engine(fresh_postgres_url)
    other = holder.connect()
    other.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
    release = threading.Timer(1.0, lambda: other.execute(text("SELECT pg_advisory_unlock_all()")))
    release.start()
    try:
        upgrade(engine)
    finally:
        release.cancel()
        release.join()
    assert schema_revision(engine) is not None
    other.close()
    holder.dispose()
    engine.dispose()


def test_an_upload_waiting_behind_another_outlasts_the_statement_timeout(
    fresh_postgres_url: str,
) -> None:
    """A council-sized upload holds the observations lock for minutes; one sent meanwhile
    waits its turn, then is stored. Held to the statement timeout, its wait was cancelled and
    answered 503 "database unavailable", though the database was answering."""
    engine = make_engine(fresh_postgres_url, statement_timeout_s=0.2)
    upgrade(engine)
    sessions = session_factory(engine)
    holder = sessions()
    lock_observations(holder)  # the long upload, in its transaction
    waited: list[BaseException | None] = []

    def second_upload() -> None:
        try:
            with sessions() as session, session.begin():
                lock_observations(session)
                session.execute(text("SELECT 1"))
            waited.append(None)
        except BaseException as exc:
            waited.append(exc)

    thread = threading.Thread(target=second_upload)
    thread.start()
    with engine.connect() as db:  # wait until it is waiting, then past the timeout
        for _ in range(600):
            if db.execute(text(_WAITING)).scalar_one():
                break
            time.sleep(0.05)
        time.sleep(0.6)
    holder.commit()
    thread.join(timeout=60)
    holder.close()
    engine.dispose()
    assert waited == [None]


_WAITING = "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
