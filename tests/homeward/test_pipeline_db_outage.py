"""A pipeline run cut off by a database outage says so, and gives back the lock, once the
database answers again: not left 'running' to be closed as if the service had stopped."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event, select
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from homeward import pipeline
from homeward.clock import utcnow
from homeward.pipeline import LOCK_NAME, run_pipeline
from homeward.recovery import (
    RETRY_TRIGGER,
    close_interrupted_runs,
    cut_off_to_retry,
    database_unavailable,
)
from homeward.scheduler import recover
from homeward.settings import Settings
from homeward.storage import transaction
from models import LockRow, RunRow

LOST = "server closed the connection unexpectedly"


def _outage(factory: sessionmaker[Session], failing: dict[str, int]) -> None:
    """Fail the next `failing[text]` statements holding `text`, for each text, as a dropped
    connection fails them."""

    def fail(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        for text, left in failing.items():
            if text in statement and left:
                failing[text] = left - 1
                raise sqlite3.OperationalError(LOST)

    event.listen(factory.kw["bind"], "before_cursor_execute", fail)


def test_a_run_the_database_cut_off_records_its_failure_once_it_answers(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing: dict[str, int] = {}

    def forecast_and_plan(step: object) -> None:
        # the outage fails the run's work, and then its first tries at recording that and at
        # giving back the lock
        failing.update({"FROM runs": 2, "DELETE FROM locks": 2})
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError(LOST))

    _outage(factory, failing)
    monkeypatch.setattr(pipeline, "_forecast_and_plan", forecast_and_plan)
    monkeypatch.setattr(pipeline, "_RETRY_WAITS_S", (0.0, 0.0, 0.0))
    monkeypatch.setattr(pipeline, "_RELEASE_WAITS_S", (0.0, 0.0))
    with pytest.raises(OperationalError, match=LOST):
        run_pipeline(factory, sqlite_settings, "api")
    left, _ = dict(failing), failing.clear()  # the database answers from here on
    with factory() as session:
        run = session.scalars(select(RunRow)).one()
        assert run.status == "failed" and LOST in (run.message or "")
        assert session.get(LockRow, LOCK_NAME) is None
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    assert left == {"FROM runs": 0, "DELETE FROM locks": 0}  # the outage was met


def test_a_run_the_database_was_away_too_long_for_is_closed_as_cut_off_by_it(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Away for longer than the run tries for: recovery closes the run once its lease ends,
    saying what cut it off (the service never stopped)."""
    failing: dict[str, int] = {}

    def forecast_and_plan(step: object) -> None:
        failing.update({"FROM runs": 99, "DELETE FROM locks": 99})
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError(LOST))

    _outage(factory, failing)
    monkeypatch.setattr(pipeline, "_forecast_and_plan", forecast_and_plan)
    monkeypatch.setattr(pipeline, "_RETRY_WAITS_S", (0.0,))
    monkeypatch.setattr(pipeline, "_RELEASE_WAITS_S", (0.0,))
    with pytest.raises(OperationalError, match=LOST):
        run_pipeline(factory, sqlite_settings, "api")
    failing.clear()  # the database is back, after the run gave up
    with transaction(factory) as session:  # its lease ends
        session.get_one(LockRow, LOCK_NAME).expires_at = utcnow() - timedelta(seconds=1)
    [run_id] = close_interrupted_runs(factory, LOCK_NAME)
    with factory() as session:
        message = session.get_one(RunRow, run_id).message or ""
    assert message.startswith(
        "interrupted: cut off: its process lost the database (the service kept running); "
    )


def _failing_run(
    factory: sessionmaker[Session], settings: Settings, monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> int:  # fmt: skip
    def forecast_and_plan(step: object) -> None:
        raise error

    monkeypatch.setattr(pipeline, "_forecast_and_plan", forecast_and_plan)
    monkeypatch.setattr(pipeline, "_RETRY_WAITS_S", ())
    with pytest.raises(type(error)):
        run_pipeline(factory, settings, "scheduler")
    with factory() as session:
        return session.scalars(select(RunRow.id).order_by(RunRow.id.desc())).first() or 0


class _Refused(sqlite3.OperationalError):
    """A driver's error as psycopg raises it: with the server's SQLSTATE, if any."""

    def __init__(self, message: str, sqlstate: str | None) -> None:
        super().__init__(message)
        self.sqlstate = sqlstate


def test_a_run_the_database_failed_is_run_again_once_when_it_answers(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A PostgreSQL restart failed the 06:00 run (recorded 'failed' once it came back): the
    recovery pass runs it again once, as a cut-off run, instead of leaving it to next week."""
    refused = _Refused("connection failed: Connection refused", None)
    failed = _failing_run(
        factory, sqlite_settings, monkeypatch, OperationalError("SELECT 1", {}, refused)
    )
    with factory() as session:
        message = session.get_one(RunRow, failed).message or ""
    assert message.startswith("database unavailable: OperationalError: ")
    assert cut_off_to_retry(factory) == failed
    ran: list[str | None] = []
    monkeypatch.setattr(
        "homeward.scheduler.scheduled_run",
        lambda _f, _s, run_id=None, trigger=None: ran.append(trigger),
    )
    caplog.set_level(logging.WARNING, logger="homeward.scheduler")
    recover(factory, sqlite_settings)
    assert ran == ["recovery"]
    assert (
        f"pipeline run {failed} failed: the database was unavailable; running it again once"
        in caplog.messages
    )


@pytest.mark.parametrize(
    "error",
    [
        ValueError("a bug"),
        # a statement timeout: the database answered, and refused the statement
        OperationalError("SELECT 1", {}, _Refused("canceling statement", "57014")),
        # SQLite's errors carry no SQLSTATE, and every one was taken for an outage: a
        # missing table, or a lock held past the busy wait, is SQLite refusing a statement
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such table: runs")),
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("database is locked")),
    ],
)
def test_a_run_failed_for_another_reason_is_not_run_again(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    error: Exception,
) -> None:
    failed = _failing_run(factory, sqlite_settings, monkeypatch, error)
    with factory() as session:
        assert session.get_one(RunRow, failed).status == "failed"
    assert cut_off_to_retry(factory) is None


def test_a_retry_the_database_failed_too_is_not_run_again(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    refused = OperationalError("SELECT 1", {}, _Refused("connection failed", None))
    failed = _failing_run(factory, sqlite_settings, monkeypatch, refused)
    with transaction(factory) as session:
        session.get_one(RunRow, failed).trigger = RETRY_TRIGGER
    assert cut_off_to_retry(factory) is None


def test_a_sqlite_file_that_cannot_be_opened_is_the_database_unavailable() -> None:
    gone = OperationalError(
        "SELECT 1", {}, sqlite3.OperationalError("unable to open database file")
    )
    assert database_unavailable(gone)
    assert not database_unavailable(
        OperationalError("SELECT 1", {}, sqlite3.OperationalError("no such column: x"))
    )
