"""After `kill -9` and a restart on the same host: the dead process's lock is freed at once and
its run closed, and a run the lock does not name is closed while another run holds it; locks of
live processes, and of other hosts sharing the database, are left to their lease."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import pipeline, repository
from homeward.clock import code_version
from homeward.pipeline import LOCK_NAME, run_pipeline
from homeward.recovery import close_interrupted_runs, lock_holder
from homeward.settings import Settings
from homeward.storage import transaction
from models import LockRow, RunRow

LEASE = timedelta(minutes=10)  # live for the whole test: only a dead holder frees it
HOST = os.uname().nodename


def _running(factory: sessionmaker[Session]) -> int:
    with transaction(factory) as session:
        return repository.start_run(session, "pipeline", "test", code_version()).id


def _status(factory: sessionmaker[Session], run_id: int) -> str:
    with factory() as session:
        return session.get_one(RunRow, run_id).status


def _lock(factory: sessionmaker[Session]) -> LockRow | None:
    with factory() as session:
        return session.get(LockRow, LOCK_NAME)


def _held_by(factory: sessionmaker[Session], holder: str, run_id: int | None) -> None:
    assert repository.acquire_lock(factory, LOCK_NAME, holder, LEASE)
    if run_id is not None:
        with transaction(factory) as session:
            repository.name_locked_run(session, LOCK_NAME, holder, run_id)


@pytest.fixture
def dead_pid() -> int:
    """The pid of a process of this host that has ended (and been reaped)."""
    child = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                           capture_output=True, text=True)  # fmt: skip
    return int(child.stdout)


@pytest.fixture
def live_pid() -> Iterator[int]:
    """The pid of a process of this host that is still running."""
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    yield child.pid
    child.kill()
    child.wait()


def test_a_dead_local_holders_lock_is_freed_at_once_and_its_run_closed(
    factory: sessionmaker[Session], dead_pid: int
) -> None:
    run_id = _running(factory)
    _held_by(factory, f"{dead_pid}@{HOST}", run_id)
    assert close_interrupted_runs(factory, LOCK_NAME) == [run_id]
    assert _lock(factory) is None  # scheduled and API runs can take it now, not in a lease


def test_a_live_local_holders_lock_and_run_are_left_alone(
    factory: sessionmaker[Session], live_pid: int
) -> None:
    run_id = _running(factory)
    _held_by(factory, f"{live_pid}@{HOST}", run_id)
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    assert _status(factory, run_id) == "running" and _lock(factory) is not None


def test_another_hosts_lock_waits_for_its_lease(
    factory: sessionmaker[Session], dead_pid: int
) -> None:
    """On PostgreSQL several hosts share the database: a pid dead here may live there."""
    run_id = _running(factory)
    _held_by(factory, f"{dead_pid}@another-{HOST}", run_id)
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    assert _status(factory, run_id) == "running" and _lock(factory) is not None


def test_a_series_delete_by_a_dead_local_process_frees_its_lock_too(
    factory: sessionmaker[Session], dead_pid: int
) -> None:
    _held_by(factory, f"delete-series:{dead_pid}@{HOST}", None)
    close_interrupted_runs(factory, LOCK_NAME)
    assert _lock(factory) is None


def test_a_run_the_lock_does_not_name_is_closed_while_another_holds_it(
    factory: sessionmaker[Session], live_pid: int
) -> None:
    """The killed process's run, after another process took the lock: not two runs 'running'."""
    dead_run = _running(factory)
    live_run = _running(factory)
    _held_by(factory, f"{live_pid}@{HOST}", live_run)
    assert close_interrupted_runs(factory, LOCK_NAME) == [dead_run]
    assert _status(factory, live_run) == "running"


def test_a_run_of_a_live_local_process_is_left_alone_even_without_the_lock(
    factory: sessionmaker[Session], live_pid: int, dead_pid: int
) -> None:
    """A run whose process lost its lease (the database away longer than a lease) goes on;
    its process is alive on this host, so it is not closed, with the lock another's or none."""
    live_run, dead_run = _running(factory), _running(factory)
    with transaction(factory) as session:
        session.get_one(RunRow, live_run).holder = f"{live_pid}@{HOST}"
        session.get_one(RunRow, dead_run).holder = f"{dead_pid}@{HOST}"
    other = _running(factory)
    _held_by(factory, f"4242@another-{HOST}", other)
    assert close_interrupted_runs(factory, LOCK_NAME) == [dead_run]
    with transaction(factory) as session:
        session.delete(session.get_one(LockRow, LOCK_NAME))
    assert close_interrupted_runs(factory, LOCK_NAME) == [other]
    assert _status(factory, live_run) == "running"


def test_a_run_is_not_judged_before_the_holder_names_its_own(
    factory: sessionmaker[Session],
) -> None:
    """Between taking the lock and recording its run, the holder's run is not yet known."""
    run_id = _running(factory)
    _held_by(factory, "4242@another-host", None)
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    assert _status(factory, run_id) == "running"


@pytest.mark.parametrize("token", ["#0badcafe", ""])  # a predecessor's, an older release's
def test_this_pids_lock_is_a_predecessors_unless_it_is_this_process(
    factory: sessionmaker[Session], token: str
) -> None:
    """A restarted container keeps its host name and often its server's pid: the lock its
    killed predecessor left names this very pid, and only the token tells them apart."""
    run_id = _running(factory)
    _held_by(factory, lock_holder(), run_id)  # this process's own: left alone
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    with transaction(factory) as session:  # as the predecessor left it
        session.get_one(LockRow, LOCK_NAME).holder = f"{os.getpid()}@{HOST}{token}"
    assert close_interrupted_runs(factory, LOCK_NAME) == [run_id]
    assert _lock(factory) is None


def test_a_busy_attempt_beside_a_live_run_leaves_its_lock_and_run_alone(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """The scheduler's firing during an API run (two threads of one process): the busy one
    once cleared a mark the other still needed, and the next recovery pass freed the live
    lock, closed the live run and started a second pipeline beside it."""
    run_id = _running(factory)
    _held_by(factory, lock_holder(), run_id)
    with pytest.raises(pipeline.PipelineBusy):
        run_pipeline(factory, sqlite_settings, trigger="scheduler", report=lambda _m: None)
    assert close_interrupted_runs(factory, LOCK_NAME) == []
    assert _status(factory, run_id) == "running"
    lock = _lock(factory)
    assert lock is not None and lock.holder == lock_holder()


def test_a_pipeline_run_names_itself_on_the_lock(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[int | None, str]] = []

    def step(stage: pipeline._Pass) -> tuple[int | None, str, str]:
        lock = _lock(factory)
        assert lock is not None
        seen.append((lock.run_id, lock.holder))
        assert close_interrupted_runs(factory, LOCK_NAME) == []  # its own lock, its own run
        return None, "skipped", "stub"

    monkeypatch.setattr(pipeline, "_forecast_and_plan", step)
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert seen == [(outcome.run_id, lock_holder())]
    with factory() as session:
        assert session.get_one(RunRow, outcome.run_id).holder == lock_holder()
    assert _lock(factory) is None


def test_a_lock_taken_after_expiry_forgets_the_old_run(factory: sessionmaker[Session]) -> None:
    run_id = _running(factory)
    assert repository.acquire_lock(factory, LOCK_NAME, "a@elsewhere", timedelta(seconds=-1))
    with transaction(factory) as session:
        repository.name_locked_run(session, LOCK_NAME, "a@elsewhere", run_id)
    assert repository.acquire_lock(factory, LOCK_NAME, "b@elsewhere", LEASE)
    lock = _lock(factory)
    assert lock is not None and lock.run_id is None
