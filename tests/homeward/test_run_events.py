"""Runs reaching an end are told once, as their transaction commits: a run written through the
ORM, a run recovery closes in bulk, never one whose transaction rolled back or a run written
again with the status it had."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward.clock import code_version, utcnow
from homeward.pipeline import LOCK_NAME
from homeward.recovery import close_interrupted_runs, close_stopped_runs, lock_holder
from homeward.run_events import notify_ended
from homeward.storage import transaction
from models import RunRow


def _run(session: Session, kind: str, status: str, age: timedelta = timedelta(0)) -> RunRow:
    run = RunRow(
        kind=kind,
        trigger="api",
        status=status,
        started_at=utcnow() - age,
        code_version=code_version(),
    )
    session.add(run)
    session.flush()
    return run


@pytest.fixture
def told(factory: sessionmaker[Session]) -> list[tuple[str, str]]:
    heard: list[tuple[str, str]] = []
    notify_ended(factory, lambda kind, status: heard.append((kind, status)))
    return heard


def test_a_run_ended_through_the_orm_is_told_once_it_commits(
    factory: sessionmaker[Session], told: list[tuple[str, str]]
) -> None:
    with transaction(factory) as session:
        run = _run(session, "pipeline", "running")
        run_id = run.id
        assert told == []
    with transaction(factory) as session:
        ended = session.get_one(RunRow, run_id)
        ended.status, ended.finished_at = "succeeded", utcnow()
        session.flush()
        assert told == []  # flushed, not yet committed
    assert told == [("pipeline", "succeeded")]
    with transaction(factory) as session:
        session.get_one(RunRow, run_id).message = "a later note, status unchanged"
    with transaction(factory) as session:
        _run(session, "plan", "failed")  # a run stored already ended (a skipped run is)
    assert told == [("pipeline", "succeeded"), ("plan", "failed")]


def test_a_run_ended_in_a_transaction_rolled_back_is_not_told(
    factory: sessionmaker[Session], told: list[tuple[str, str]]
) -> None:
    with pytest.raises(RuntimeError), transaction(factory) as session:
        _run(session, "sweep", "succeeded")
        raise RuntimeError("the transaction fails after the flush")
    with transaction(factory) as session:
        _run(session, "plan", "queued")
    assert told == []


def test_runs_recovery_closes_in_bulk_are_told_as_interrupted(
    factory: sessionmaker[Session], told: list[tuple[str, str]]
) -> None:
    with transaction(factory) as session:
        stale = _run(session, "plan", "queued", timedelta(hours=7)).id
        stopped = _run(session, "sweep", "running").id
    assert close_interrupted_runs(factory, LOCK_NAME, timedelta(hours=6)) == [stale]
    assert close_stopped_runs(factory, [stopped], LOCK_NAME, lock_holder()) == [stopped]
    assert told == [("plan", "interrupted"), ("sweep", "interrupted")]
