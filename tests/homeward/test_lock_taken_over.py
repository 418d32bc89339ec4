"""The database away for longer than a lease, with two servers on it: server B's recovery takes
the expired pipeline lock and runs the pipeline; server A's run, still working, must then stop
without storing forecasts or a plan, so /v1/plans/latest is never a plan of a run listed as
interrupted. A lock that merely lapsed, which nobody took, is taken back and the run goes on."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import pipeline, planning, repository
from homeward.clock import code_version, utcnow
from homeward.pipeline import LOCK_NAME, run_pipeline
from homeward.recovery import close_interrupted_runs, lock_holder
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ForecastRow, LockRow, PlanRow, RunRow
from tests.homeward.test_unsolved_plans import _store_config, _store_referrals
from tests.optimise.factory import hand_config

SERVER_B = "4242@server-b#b0b0b0b0"  # another host sharing the database


@pytest.fixture(params=["sqlite", "postgresql"])
def one_database(
    request: pytest.FixtureRequest, factory: sessionmaker[Session]
) -> Iterator[sessionmaker[Session]]:
    """The database both servers share: SQLite, and PostgreSQL (HOMEWARD_REQUIRE_POSTGRES=1
    makes a missing server a failure), where the run's check reads the lock for update."""
    if request.param == "sqlite":
        yield factory
        return
    engine = make_engine(request.getfixturevalue("fresh_postgres_url"))
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def plannable(one_database: sessionmaker[Session]) -> sessionmaker[Session]:
    """Referrals for every service and district of a small config, and that config active."""
    factory = one_database
    body = hand_config()
    _store_referrals(factory, body)  # 120 weeks from 2023-01-02, every service and district
    _store_config(factory, body)
    return factory


def _lease_runs_out(factory: sessionmaker[Session]) -> None:
    """Server A's lease ends unrenewed while the database is away."""
    with transaction(factory) as session:
        session.get_one(LockRow, LOCK_NAME).expires_at = utcnow() - timedelta(seconds=1)


def _server_b_runs(factory: sessionmaker[Session]) -> int:
    """Server B takes the expired lock and starts its own run, named on the lock."""
    assert repository.acquire_lock(factory, LOCK_NAME, SERVER_B, timedelta(minutes=10))
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "recovery", code_version())
        run.holder = SERVER_B
        repository.name_locked_run(session, LOCK_NAME, SERVER_B, run.id)
        return run.id


def _during(monkeypatch: pytest.MonkeyPatch, name: str, before: Callable[[], None]) -> None:
    """`before` runs as the pipeline calls `name` (a step of its work), then the step itself."""
    real = getattr(pipeline if name == "forecast_by_frequency" else planning, name)

    def step(*args: Any, **kwargs: Any) -> Any:
        before()
        return real(*args, **kwargs)

    monkeypatch.setattr(pipeline if name == "forecast_by_frequency" else planning, name, step)


def _count(factory: sessionmaker[Session], table: Any, run_id: int) -> int:
    with factory() as session:
        stmt = select(func.count()).select_from(table).where(table.run_id == run_id)
        return int(session.scalar(stmt) or 0)


@pytest.mark.parametrize("b_closed_it", [False, True])
def test_a_run_whose_lock_another_server_took_stops_and_stores_nothing(
    plannable: sessionmaker[Session],
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    b_closed_it: bool,
) -> None:
    """B's own run (`b_closed_it` False: B's recovery has not closed A's run yet), or B's
    recovery's, which closed A's run as interrupted first: either way A's line names B."""
    factory = plannable
    taken: list[int] = []

    def outage() -> None:
        _lease_runs_out(factory)
        taken.append(_server_b_runs(factory))
        if b_closed_it:
            assert len(close_interrupted_runs(factory, LOCK_NAME)) == 1

    _during(monkeypatch, "forecast_by_frequency", outage)
    caplog.set_level(logging.INFO, logger="homeward")
    outcome = run_pipeline(factory, sqlite_settings, "scheduler", report=lambda _m: None)
    assert (outcome.status, outcome.plan_id) == ("interrupted", None)
    assert _count(factory, ForecastRow, outcome.run_id) == 0
    assert _count(factory, PlanRow, outcome.run_id) == 0
    with factory() as session:
        run = session.get_one(RunRow, outcome.run_id)
        lock = session.get_one(LockRow, LOCK_NAME)
        assert repository.latest_plan(session) is None
    assert run.status == "interrupted"
    assert (SERVER_B in (run.message or "")) is not b_closed_it  # else B's recovery's words
    assert (lock.holder, lock.run_id) == (SERVER_B, taken[0])  # B's, still
    [said] = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert said.startswith(f"pipeline run {outcome.run_id} stopped: the pipeline lock is held by")
    assert SERVER_B in said and not any(r.exc_info for r in caplog.records)


def test_a_run_another_servers_recovery_closed_stores_no_plan(
    plannable: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lock lapsed while the solver worked and B's recovery closed A's run as interrupted
    (nobody took the lock): the plan it solved is not stored, and the run keeps B's words."""
    factory = plannable

    def outage() -> None:
        _lease_runs_out(factory)
        assert len(close_interrupted_runs(factory, LOCK_NAME)) == 1

    _during(monkeypatch, "solve_prepared", outage)
    outcome = run_pipeline(factory, sqlite_settings, "scheduler", report=lambda _m: None)
    assert (outcome.status, outcome.plan_id) == ("interrupted", None)
    assert _count(factory, PlanRow, outcome.run_id) == 0
    with factory() as session:
        run = session.get_one(RunRow, outcome.run_id)
        assert repository.latest_plan(session) is None
    assert run.status == "interrupted"
    assert (run.message or "").startswith("interrupted: cut off: its process lost the database")


def test_a_lock_that_lapsed_and_nobody_took_is_taken_back(
    plannable: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = plannable
    seen: list[tuple[str, int | None]] = []

    def freed() -> None:  # lapsed, and freed (as a purge of an expired lock would)
        with transaction(factory) as session:
            session.delete(session.get_one(LockRow, LOCK_NAME))

    def planning_under() -> None:
        with factory() as session:
            lock = session.get_one(LockRow, LOCK_NAME)
            seen.append((lock.holder, lock.run_id))

    _during(monkeypatch, "forecast_by_frequency", freed)
    _during(monkeypatch, "solve_prepared", planning_under)
    outcome = run_pipeline(factory, sqlite_settings, "scheduler", report=lambda _m: None)
    assert outcome.status == "succeeded" and outcome.plan_id is not None
    assert seen == [(lock_holder(), outcome.run_id)]
    with factory() as session:
        assert session.get(LockRow, LOCK_NAME) is None  # given back at the end
