"""After a restart: runs cut off by the stop are closed, and a missed schedule runs once."""

from __future__ import annotations

import logging
import os
import sqlite3
import subprocess
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from sqlalchemy import create_engine, event
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import repository
from homeward.clock import code_version, utcnow
from homeward.pipeline import LOCK_NAME, Lease, _finish, _keep_lease
from homeward.recovery import (
    as_utc,
    close_interrupted_runs,
    close_stopped_runs,
    cut_off_to_retry,
    lock_holder,
    missed_firing,
    remove_stale_solver_dirs,
)
from homeward.scheduler import JOB_ID, RECOVERY_JOB_ID, recover, start_scheduler
from homeward.settings import Settings
from homeward.storage import CONNECT_TIMEOUT_S, make_engine, session_factory, transaction, upgrade
from models import LockRow, RunRow
from optimise.pulp_backend import SOLVER_DIR_PREFIX, solver_dir_owner
from tests.conftest import LiveServer

HOURS = timedelta(hours=6)  # the lock's lifetime, as in the default settings


def _run(factory: sessionmaker[Session], kind: str, status: str, age: timedelta) -> int:
    with transaction(factory) as session:
        run = RunRow(
            kind=kind,
            trigger="demo",
            status=status,
            started_at=utcnow() - age,
            code_version=code_version(),
        )
        session.add(run)
        session.flush()
        return run.id


def _status(factory: sessionmaker[Session], run_id: int) -> str:
    with factory() as session:
        return session.get_one(RunRow, run_id).status


def test_runs_no_process_can_still_be_working_on_are_closed(
    factory: sessionmaker[Session],
) -> None:
    cut_off = _run(factory, "pipeline", "running", timedelta(minutes=5))
    queued_long_ago = _run(factory, "plan", "queued", timedelta(hours=7))
    queued_now = _run(factory, "plan", "queued", timedelta(minutes=1))
    done = _run(factory, "pipeline", "succeeded", timedelta(days=3))
    assert close_interrupted_runs(factory, LOCK_NAME, HOURS) == [cut_off, queued_long_ago]
    assert _status(factory, cut_off) == "interrupted"
    assert _status(factory, queued_now) == "queued" and _status(factory, done) == "succeeded"
    with factory() as session:
        message = session.get_one(RunRow, cut_off).message
    assert message is not None and "while this run was running" in message


def test_a_running_pipeline_whose_process_holds_the_lock_is_left_alone(
    factory: sessionmaker[Session],
) -> None:
    running = _run(factory, "pipeline", "running", timedelta(minutes=5))
    assert repository.acquire_lock(factory, LOCK_NAME, "another-process", timedelta(hours=1))
    assert close_interrupted_runs(factory, LOCK_NAME, HOURS) == []
    assert _status(factory, running) == "running"


def test_a_firing_missed_while_down_is_found_and_run_at_start(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    weekly = "0 6 * * mon"
    assert missed_firing(factory, weekly, "UTC") is None  # never run: nothing to catch up
    _run(factory, "pipeline", "succeeded", timedelta(days=8))
    missed = missed_firing(factory, weekly, "UTC")
    assert missed is not None and missed.weekday() == 0 and missed.hour == 6
    assert utcnow() - timedelta(days=8) < missed <= utcnow()
    settings = sqlite_settings.model_copy(update={"schedule_cron": weekly})
    scheduler = start_scheduler(factory, settings, paused=True)
    try:
        job = scheduler.get_job(JOB_ID)
        assert job.next_run_time <= utcnow()  # due now, not next Monday
    finally:
        scheduler.shutdown(wait=False)
    _run(factory, "pipeline", "succeeded", timedelta(0))
    assert missed_firing(factory, weekly, "UTC") is None


def test_a_killed_process_lock_frees_and_its_run_is_closed_then(
    factory: sessionmaker[Session],
) -> None:
    running = _run(factory, "pipeline", "running", timedelta(minutes=30))
    # the killed process last renewed its lease (the default lifetime) 15 minutes ago
    lease = timedelta(seconds=Settings().pipeline_lock_ttl_s)
    left = lease - timedelta(minutes=15)
    assert repository.acquire_lock(factory, LOCK_NAME, "dead-process", left)
    assert close_interrupted_runs(factory, LOCK_NAME) == [running]


def test_a_run_started_at_a_firings_very_instant_is_that_firing(
    factory: sessionmaker[Session],
) -> None:
    weekly = "0 6 * * mon"
    run_id = _run(factory, "pipeline", "succeeded", timedelta(days=8))
    firing = missed_firing(factory, weekly, "UTC")
    assert firing is not None
    with transaction(factory) as session:  # as a scheduler firing on time to the microsecond
        session.get_one(RunRow, run_id).started_at = firing.replace(tzinfo=None)
    again = missed_firing(factory, weekly, "UTC")
    assert again is None or again == firing + timedelta(days=7)


def test_a_run_cut_off_does_not_count_as_the_schedule_having_run(
    factory: sessionmaker[Session],
) -> None:
    weekly = "0 6 * * mon"
    _run(factory, "pipeline", "succeeded", timedelta(days=8))
    cut_off = _run(factory, "pipeline", "running", timedelta(days=1))
    assert close_interrupted_runs(factory, LOCK_NAME) == [cut_off]
    assert missed_firing(factory, weekly, "UTC") is not None  # the run it was doing never finished


class _Beats:
    """The `stop` event `_keep_lease` waits on, with the clock the lock is read by: each wait
    is a beat that moves the clock on by as long as it asked to wait, and after `beats` of
    them it says stop. So the lease's renewals are counted in its own time, not the
    machine's: a loaded machine's late thread cannot let the lease lapse in the test (CI
    shares two cores), and a beat that never renews cannot pass unseen."""

    def __init__(self, beats: int, monkeypatch: pytest.MonkeyPatch) -> None:
        self.beats, self.waits = beats, list[float]()
        self.now = utcnow()
        monkeypatch.setattr(repository, "utcnow", lambda: self.now)

    def wait(self, timeout: float) -> bool:
        self.waits.append(timeout)
        if len(self.waits) > self.beats:
            return True
        self.now += timedelta(seconds=timeout)
        return False


def test_the_lease_is_renewed_while_the_run_lasts(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = timedelta(seconds=0.3)
    beats = _Beats(9, monkeypatch)
    taken = beats.now
    assert repository.acquire_lock(factory, LOCK_NAME, "me", lease)
    _keep_lease(factory, "me", lease, beats)  # type: ignore[arg-type]
    assert beats.now - taken >= 3 * lease  # three lease lifetimes: unrenewed, it had lapsed
    assert all(0 < waited < lease.total_seconds() / 2 for waited in beats.waits)  # in good time
    assert not repository.acquire_lock(factory, LOCK_NAME, "other", lease)
    assert not repository.renew_lock(factory, LOCK_NAME, "other", lease)  # not theirs


def test_the_recovery_pass_closes_cut_off_runs_and_catches_up(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _run(factory, "pipeline", "succeeded", timedelta(days=8))
    cut_off = _run(factory, "plan", "queued", timedelta(hours=7))
    recover(factory, sqlite_settings.model_copy(update={"schedule_cron": "0 6 * * mon"}))
    assert _status(factory, cut_off) == "interrupted"
    with factory() as session:
        newest = repository.list_runs(session, 1)[0]
    assert newest.kind == "pipeline" and newest.trigger == "scheduler"  # the missed run ran


def test_a_run_a_stop_closed_keeps_interrupted_when_its_thread_ends_later(
    factory: sessionmaker[Session],
) -> None:
    """A stop waits a few seconds for the run, then closes it as interrupted; a thread that
    was still planning and finishes afterwards does not overwrite that."""
    running = _run(factory, "pipeline", "running", timedelta(minutes=1))
    assert close_stopped_runs(factory, [running], LOCK_NAME, lock_holder()) == [running]
    _finish(factory, running, "succeeded", "planned", {})
    assert _status(factory, running) == "interrupted"
    still_running = _run(factory, "pipeline", "running", timedelta(minutes=1))
    _finish(factory, still_running, "succeeded", "planned", {})
    assert _status(factory, still_running) == "succeeded"


def test_stored_moments_come_back_in_utc_whatever_postgresqls_time_zone(
    fresh_postgres_url: str,
) -> None:
    """A run's start read through a session in +05:30 (never UTC in any season) is printed by
    the API as '...Z' (a 409 naming the run holding the pipeline): it must be UTC."""
    engine = create_engine(fresh_postgres_url, connect_args={"options": "-c timezone=Asia/Kolkata"})
    upgrade(engine)
    factory = session_factory(engine)
    try:
        started = utcnow().replace(microsecond=0)
        run_id = _run(factory, "pipeline", "running", utcnow() - started)
        with factory() as session:
            stored = session.get_one(RunRow, run_id).started_at
        assert stored.utcoffset() == timedelta(hours=5, minutes=30)
        assert f"{as_utc(stored):%Y-%m-%dT%H:%M:%S%z}" == f"{started:%Y-%m-%dT%H:%M:%S}+0000"
    finally:
        engine.dispose()


def _trigger(factory: sessionmaker[Session], run_id: int, trigger: str) -> None:
    with transaction(factory) as session:
        session.get_one(RunRow, run_id).trigger = trigger


def test_a_pipeline_run_a_crash_cut_off_is_run_again_once(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """kill -9 during a run after an upload: the restart's own run is skipped while the dead
    process's lock lives, then recovery closes the cut-off run; it runs again, once."""
    ran: list[str | None] = []
    monkeypatch.setattr(
        "homeward.scheduler.scheduled_run",
        lambda _f, _s, run_id=None, trigger=None: ran.append(trigger),
    )
    monkeypatch.setattr("homeward.scheduler.missed_firing", lambda *_a: None)
    settings = sqlite_settings
    _run(factory, "pipeline", "succeeded", timedelta(days=2))
    cut_off = _run(factory, "pipeline", "running", timedelta(minutes=20))  # no live lock
    _trigger(factory, cut_off, "demo")
    _run(factory, "pipeline", "skipped", timedelta(minutes=5))  # the restart's, lock still held
    recover(factory, settings)
    assert _status(factory, cut_off) == "interrupted" and ran == ["recovery"]
    assert cut_off_to_retry(factory) == cut_off  # until the retry starts
    retry = _run(factory, "pipeline", "interrupted", timedelta(minutes=1))
    _trigger(factory, retry, "recovery")
    assert cut_off_to_retry(factory) is None  # the retry cut off too: not again
    recover(factory, settings)
    assert ran == ["recovery"]


def test_the_start_up_log_says_when_a_cut_off_run_runs_again_and_how_to_prevent_it(
    factory: sessionmaker[Session], sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    """An operator who stopped a run on purpose read nothing until it came back 10 minutes
    after the restart."""
    caplog.set_level(logging.WARNING, logger="homeward.scheduler")
    _run(factory, "pipeline", "succeeded", timedelta(minutes=50))
    cut_off = _run(factory, "pipeline", "running", timedelta(minutes=20))
    assert close_stopped_runs(factory, [cut_off], LOCK_NAME, lock_holder()) == [cut_off]
    with factory() as session:
        stopped = as_utc(session.get_one(RunRow, cut_off).finished_at)
    scheduler = start_scheduler(factory, sqlite_settings, paused=True)
    try:
        recovery_at = scheduler.get_job(RECOVERY_JOB_ID).next_run_time
    finally:
        scheduler.shutdown(wait=False)
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert line == (
        f"pipeline run {cut_off} was cut off by a stop at {stopped:%Y-%m-%d %H:%M} UTC; it runs "
        f"again once at {recovery_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC (the recovery pass), "
        "unless another pipeline run starts first; to prevent that, set "
        "HOMEWARD_RETRY_CUT_OFF_RUNS=false and restart before then"
    )


def test_a_cut_off_run_is_not_retried_when_the_operator_says_no(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    ran: list[str | None] = []
    monkeypatch.setattr(
        "homeward.scheduler.scheduled_run",
        lambda _f, _s, run_id=None, trigger=None: ran.append(trigger),
    )
    monkeypatch.setattr("homeward.scheduler.missed_firing", lambda *_a: None)
    caplog.set_level(logging.WARNING, logger="homeward.scheduler")
    settings = sqlite_settings.model_copy(update={"retry_cut_off_runs": False})
    _run(factory, "pipeline", "interrupted", timedelta(minutes=20))
    start_scheduler(factory, settings, paused=True).shutdown(wait=False)
    recover(factory, settings)
    assert ran == []
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert "; not run again (HOMEWARD_RETRY_CUT_OFF_RUNS=false): POST /v1/runs" in line, line


def test_nothing_is_retried_after_a_run_that_finished_or_is_still_going(
    factory: sessionmaker[Session],
) -> None:
    assert cut_off_to_retry(factory) is None  # no run at all
    _run(factory, "pipeline", "interrupted", timedelta(hours=1))
    done = _run(factory, "pipeline", "failed", timedelta(minutes=30))
    assert cut_off_to_retry(factory) is None  # a failure is a person's call, as for the cron
    queued = _run(factory, "pipeline", "queued", timedelta(minutes=1))
    assert cut_off_to_retry(factory) is None and done < queued


def test_a_run_whose_lock_was_taken_says_so(
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The database away for longer than a lease: another process took the lock meanwhile,
    so two pipelines may run at once; the run that lost it says so instead of carrying on
    silently."""
    lease = timedelta(seconds=0.2)
    assert repository.acquire_lock(factory, LOCK_NAME, "other", lease)  # not this run's
    _keep_lease(factory, "me", lease, _Beats(1, monkeypatch))  # type: ignore[arg-type]
    assert "the pipeline lock expired and is no longer this run's: other took it" in caplog.text


def test_a_pipeline_runs_lease_taken_by_another_names_it_and_stops_renewing(
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The run checks the lease at its next step and says so itself (test_lock_taken_over)."""
    lease = timedelta(seconds=0.2)
    assert repository.acquire_lock(factory, LOCK_NAME, "4242@server-b", lease)
    kept = Lease("me", lease, checked=True)
    beats = _Beats(5, monkeypatch)
    _keep_lease(factory, "me", lease, beats, kept)  # type: ignore[arg-type]
    assert kept.lost_to == "4242@server-b" and len(beats.waits) == 1
    assert caplog.records == []


def test_a_lapsed_lock_nobody_took_is_taken_back_and_named_again(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = timedelta(seconds=0.2)
    run_id = _run(factory, "pipeline", "running", timedelta(minutes=1))
    kept = Lease("me", lease, checked=True, run_id=run_id)
    _keep_lease(factory, "me", lease, _Beats(2, monkeypatch), kept)  # type: ignore[arg-type]
    with factory() as session:
        lock = session.get_one(LockRow, LOCK_NAME)
    assert (lock.holder, lock.run_id, kept.lost_to) == ("me", run_id, None)


def test_a_renewal_the_database_refused_is_one_line(
    factory: sessionmaker[Session],
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not a 90-line traceback every third of a lease for as long as the outage lasts."""
    refused = sqlite3.OperationalError("connection failed: Connection refused\nIs it running?")

    def renew(*_args: object) -> bool:
        raise OperationalError("UPDATE locks", {}, refused)

    monkeypatch.setattr(repository, "renew_lock", renew)
    _keep_lease(factory, "me", timedelta(seconds=0.3), _Beats(2, monkeypatch))  # type: ignore[arg-type]
    assert [r.exc_info for r in caplog.records] == [None, None]
    assert caplog.messages[0] == (
        "could not renew the pipeline lock: the database is away (OperationalError: "
        "(sqlite3.OperationalError) connection failed: Connection refused); again in 0.1 s"
    )


class _NotConnecting(Exception):
    """Raised in place of the driver's connect, once the engine has said what it would pass."""


def test_a_postgresql_engine_gives_up_connecting_in_seconds() -> None:
    """The real engine hands psycopg a connect_timeout (no server needed: the connect is stopped
    at the driver's door, after SQLAlchemy has merged the URL and connect_args)."""
    engine = make_engine("postgresql+psycopg://council@db.example.org/homeward")
    reached: dict[str, object] = {}

    @event.listens_for(engine, "do_connect")
    def stop(_dialect: object, _record: object, _args: object, params: dict[str, object]) -> None:
        reached.update(params)
        raise _NotConnecting

    with pytest.raises(_NotConnecting):
        engine.connect()
    assert (reached["host"], reached["connect_timeout"]) == ("db.example.org", CONNECT_TIMEOUT_S)
    # (sqlite3.connect has no such argument: given one, it would refuse to open the file)
    with make_engine("sqlite:///:memory:").connect() as conn:
        assert conn.exec_driver_sql("select 1").scalar() == 1


def _solver_dir(root: Path, owner: str, age_days: float = 0.0) -> Path:
    """A CBC solve's private folder as optimise/pulp_backend.py names it, with a file in it."""
    path = root / f"{SOLVER_DIR_PREFIX}{owner}-x1y2z3"
    path.mkdir()
    (path / "0a1b-pulp.mps").write_text("NAME homeward_plan\n")
    then = time.time() - age_days * 86_400
    os.utime(path, (then, then))
    return path


def test_the_start_sweep_removes_solver_folders_left_by_stopped_processes_only(
    tmp_path: Path,
) -> None:
    ended = subprocess.Popen(["true"])
    ended.wait()
    mine = solver_dir_owner()
    left = {
        "dead": _solver_dir(tmp_path, f"{ended.pid}-0a0a0a0a"),
        "same pid, earlier process": _solver_dir(tmp_path, f"{os.getpid()}-0b0b0b0b"),
        "live, a day old": _solver_dir(tmp_path, f"{os.getppid()}-0c0c0c0c", age_days=1.5),
    }
    kept = {
        "this process's": _solver_dir(tmp_path, mine),
        "live": _solver_dir(tmp_path, f"{os.getppid()}-0d0d0d0d"),
        "not named by us": tmp_path / f"{SOLVER_DIR_PREFIX}report",
        "a file": tmp_path / f"{SOLVER_DIR_PREFIX}1-2-3.txt",
        "someone else's": tmp_path / "0a1b-pulp.mps",
    }
    kept["not named by us"].mkdir()
    for path in (kept["a file"], kept["someone else's"]):
        path.write_text("not ours")
    assert sorted(remove_stale_solver_dirs(tmp_path)) == sorted(left.values())
    assert sorted(tmp_path.iterdir()) == sorted(kept.values())


def test_the_service_sweeps_leftover_solver_folders_as_it_starts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    ended = subprocess.Popen(["true"])
    ended.wait()
    left = _solver_dir(temp, f"{ended.pid}-0a0a0a0a")
    foreign = temp / "notes.txt"
    foreign.write_text("not ours")
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'h.db'}", scheduler_enabled=False
    )
    with caplog.at_level(logging.WARNING, logger="homeward"), LiveServer(create_app(settings)):
        pass
    assert list(temp.iterdir()) == [foreign]
    assert f"removed {left}: a CBC solve's files that a stopped process left" in caplog.text
