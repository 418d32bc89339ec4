"""The scheduler's job: a failed run is recorded and logged once, the next run still happens, a
database that is down is one line, and a finished run logs its id, status and timings."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta

import pandas as pd
import pytest
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from homeward import pipeline, repository
from homeward.pipeline import LOCK_NAME
from homeward.scheduler import JOB_ID, recover, scheduled_run, start_scheduler
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction

UNREACHABLE = "postgresql+psycopg://homeward@127.0.0.1:1/homeward"  # nothing listens on port 1


def _store(factory: sessionmaker[Session], series_ids: list[str], freq: str) -> None:
    periods = pd.date_range("2018-01-01", periods=80, freq=freq)  # a Monday, a 1st
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": sid, "ds": periods, "y": [20.0 + i % 12 for i in range(80)]})
            for sid in series_ids
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.name for r in caplog.records if r.exc_info and r.levelno >= logging.INFO]


def test_a_failing_run_is_recorded_logged_once_and_the_next_run_still_happens(
    factory: sessionmaker[Session], sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """Pooled models need weekly siblings; a lone monthly series has none, so every run fails
    on the series, not on the scheduler."""
    _store(factory, ["winter/admissions/area"], "MS")
    settings = sqlite_settings.model_copy(update={"forecast_models": ("pooled_ses",)})
    caplog.set_level(logging.INFO)
    scheduled_run(factory, settings)
    # the series' fault, said in its own words: no traceback pointing at Homeward's code
    assert _tracebacks(caplog) == []
    [failed] = [
        r.getMessage()
        for r in caplog.records
        if r.name == "homeward.pipeline" and "failed" in r.getMessage()
    ]
    assert failed.startswith("pipeline run ") and "failed: models:" in failed
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    with factory() as session:
        [run] = repository.list_runs(session, 10)
    assert line.startswith(f"scheduler pipeline run {run.id} failed: ForecastInputError: models:")
    scheduled_run(factory, settings)  # the next firing runs again
    with factory() as session:
        runs = repository.list_runs(session, 10)
    assert [(r.trigger, r.status) for r in runs] == [("scheduler", "failed")] * 2
    assert runs[0].message is not None and "pooled_ses" in runs[0].message


def test_a_finished_run_logs_its_id_status_and_timings(
    factory: sessionmaker[Session], sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    _store(factory, ["referrals/ot/rugby", "referrals/ot/warwick"], "W-MON")
    caplog.set_level(logging.INFO, logger="homeward.scheduler")
    scheduled_run(factory, sqlite_settings.model_copy(update={"forecast_models": ("naive",)}))
    with factory() as session:
        [run] = repository.list_runs(session, 1)
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert line.startswith(f"scheduler pipeline run {run.id} forecast_only in ")
    assert "(forecast_s " in line and line.endswith("; plan None")


def test_a_firing_skipped_for_the_lock_is_recorded_saying_who_held_it(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """Before, only a log line said so: GET /v1/runs showed nothing for the firing."""
    with transaction(factory) as session:
        holding = repository.start_run(session, "pipeline", "api", "v").id
    assert repository.acquire_lock(factory, LOCK_NAME, "4242@elsewhere", timedelta(minutes=10))
    with transaction(factory) as session:
        repository.name_locked_run(session, LOCK_NAME, "4242@elsewhere", holding)
    scheduled_run(factory, sqlite_settings)
    scheduled_run(factory, sqlite_settings, trigger="recovery")
    with factory() as session:
        runs = repository.list_runs(session, 10)
    assert [(r.trigger, r.status) for r in runs] == [
        ("recovery", "skipped"),
        ("scheduler", "skipped"),
        ("api", "running"),
    ]
    message = runs[1].message or ""
    assert message.startswith(
        f"skipped: another pipeline run held the lock (run {holding}, held by 4242@elsewhere "
        "until 20"
    )
    assert runs[1].finished_at is not None and message.endswith("Z)")
    # a recovery pass catching up a missed firing tries at every pass while the lock is
    # held: it records no skipped run each time (the log says it)
    scheduled_run(factory, sqlite_settings, record_skip=False)
    with factory() as session:
        assert repository.count_runs(session) == len(runs)


def test_a_database_that_is_down_is_one_line_not_a_traceback(
    sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    engine = make_engine(UNREACHABLE)
    caplog.set_level(logging.INFO)
    try:
        scheduled_run(session_factory(engine), sqlite_settings)
        recover(session_factory(engine), sqlite_settings)
    finally:
        engine.dispose()
    assert _tracebacks(caplog) == []
    lines = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert [line.split(": database unavailable: ")[0] for line in lines] == [
        "scheduler pipeline run (not recorded) failed",
        "recovery pass skipped",
    ]
    assert all("Connection refused" in line or "connection failed" in line for line in lines)


def test_the_scheduler_says_when_it_will_run_next(
    factory: sessionmaker[Session], sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator checking a new HOMEWARD_SCHEDULE_CRON reads the day it means in the log."""
    caplog.set_level(logging.INFO, logger="homeward.scheduler")
    settings = sqlite_settings.model_copy(update={"schedule_cron": "30 5 * * 1"})
    scheduler = start_scheduler(factory, settings)
    try:
        due = scheduler.get_job(JOB_ID).next_run_time
    finally:
        scheduler.shutdown(wait=False)
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert line == (
        f"scheduler started: pipeline on cron '30 5 * * 1' (UTC), "
        f"next run Mon {due:%Y-%m-%d} 05:30 UTC"
    )


def test_a_run_the_database_failed_is_named_in_the_schedulers_line(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run was recorded before the database went: its line names it, an API run's too,
    so an operator can find it in GET /v1/runs."""

    def forecast_and_plan(step: object) -> None:
        raise OperationalError("SELECT 1", {}, sqlite3.OperationalError("connection refused"))

    monkeypatch.setattr(pipeline, "_forecast_and_plan", forecast_and_plan)
    monkeypatch.setattr(pipeline, "_RETRY_WAITS_S", ())
    caplog.set_level(logging.INFO)
    scheduled_run(factory, sqlite_settings)
    queued = pipeline.queue_run(factory, "api")
    scheduled_run(factory, sqlite_settings, run_id=queued)
    with factory() as session:
        runs = repository.list_runs(session, 10)
    lines = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert [line.split(": ")[0] for line in lines] == [
        f"scheduler pipeline run {runs[1].id} failed",
        f"api pipeline run {queued} failed",
    ]
    assert all(": database unavailable: " in line for line in lines)
