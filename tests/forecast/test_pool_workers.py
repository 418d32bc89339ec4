"""Forecast pool workers never outlive the process that started them: not a kill -9 of the
service, not a stop while they are fitting."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from forecast import parallel
from forecast.settings import ForecastSettings
from tests.forecast import blocking_job

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="the parent-death signal is Linux's"
)


def _workers(pid_dir: Path, count: int, timeout_s: float = 60) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = [int(p.name) for p in pid_dir.iterdir()]
        if len(pids) >= count:
            return pids
        time.sleep(0.1)
    raise AssertionError(f"expected {count} workers to start, found {len(pids)}")


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for a reaper counts as gone)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")


def _gone_within(pids: list[int], timeout_s: float) -> list[int]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and any(_alive(p) for p in pids):
        time.sleep(0.1)
    return [p for p in pids if _alive(p)]


def test_workers_die_when_the_process_that_started_them_is_killed(tmp_path: Path) -> None:
    env = {**os.environ, "HOMEWARD_TEST_PID_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)}
    parent = subprocess.Popen(
        [sys.executable, "-m", "tests.forecast.blocking_job"], cwd=ROOT, env=env
    )
    try:
        workers = _workers(tmp_path, 2)
        parent.kill()  # kill -9: no clean-up of any kind runs
        parent.wait(timeout=10)
        left = _gone_within(workers, timeout_s=5)
    finally:
        parent.kill()
    for pid in left:  # do not leave them to the next test
        os.kill(pid, signal.SIGKILL)
    assert left == [], f"workers {left} outlived their parent"


def test_stopping_the_pools_ends_their_workers_and_fails_the_run_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOMEWARD_TEST_PID_DIR", str(tmp_path))
    monkeypatch.setattr(parallel, "run_series", blocking_job.block_and_record)
    monkeypatch.setattr(parallel, "MIN_SERIES_PER_WORKER", 1)  # a pool even for two series
    failure: list[BaseException] = []

    def run() -> None:
        try:
            parallel.map_series([0, 1], ForecastSettings(horizon=1, n_jobs=2), None)  # type: ignore[list-item]
        except BaseException as exc:  # the test reads it
            failure.append(exc)

    thread = threading.Thread(target=run)
    thread.start()
    workers = _workers(tmp_path, 2)
    assert parallel.stop_pools() == 1
    thread.join(timeout=10)
    assert not thread.is_alive(), "the run still waits on its stopped workers"
    assert _gone_within(workers, timeout_s=5) == []
    assert len(failure) == 1 and isinstance(failure[0], parallel.WorkersStopped), failure
    assert parallel.stop_pools() == 0  # the ended pool is no longer listed
