"""A clean stop during a pipeline run closes the run as interrupted and gives the lock back,
so the next start can run the pipeline at once; and a busy lock does not keep the demo down."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api import app as app_module
from api.app import create_app
from forecast import parallel
from homeward import api_keys, commands, planning, repository
from homeward.ingest import observations_hash
from homeward.pipeline import LOCK_NAME, PipelineBusy
from homeward.roles import Role
from homeward.settings import get_settings
from homeward.storage import transaction
from models import LockRow, RunRow
from tests.api.conftest import _short_demo, keyed_client, keyed_settings, migrated
from tests.conftest import LiveServer
from tests.forecast import blocking_job
from tests.forecast.test_pool_workers import _gone_within, _workers

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="counts the pool's workers through /proc"
)


def _lock(factory: sessionmaker[Session]) -> LockRow | None:
    with factory() as session:
        return session.get(LockRow, LOCK_NAME)


def _runs(factory: sessionmaker[Session]) -> list[tuple[int, str, str | None]]:
    with factory() as session:
        return [(r.id, r.status, r.message) for r in session.query(RunRow).order_by(RunRow.id)]


@pytest.fixture
def blocked_workers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every series sent to a forecast pool blocks in its worker (a long fit); the folder
    where each worker writes its pid."""
    pid_dir = tmp_path / "workers"
    pid_dir.mkdir()
    monkeypatch.setenv("HOMEWARD_TEST_PID_DIR", str(pid_dir))
    monkeypatch.setattr(parallel, "run_series", blocking_job.block_and_record)
    monkeypatch.setattr(parallel, "MIN_SERIES_PER_WORKER", 1)  # a pool even for few series
    yield pid_dir
    parallel.stop_pools()


def test_stopping_the_server_mid_run_interrupts_the_run_and_frees_the_lock(
    tmp_path: Path,
    blocked_workers: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # the run records its end at once: the grace is only an upper bound
    monkeypatch.setattr(app_module, "STOP_GRACE_S", 30.0, raising=False)
    settings = keyed_settings(
        tmp_path, "stop.db", forecast_horizon_weeks=13, forecast_backtest_folds=2, forecast_n_jobs=2
    )
    engine, factory = migrated(settings)
    frame = _short_demo()
    with transaction(factory) as session:
        repository.store_observations(session, frame, "synthetic demo", observations_hash(frame))
        key = api_keys.create_key(session, "stopper", Role.PLANNER).secret
    with LiveServer(create_app(settings)) as server:
        for client in keyed_client(server, key):
            accepted = client.post("/v1/runs")
            assert accepted.status_code == 202, accepted.text
        workers = _workers(blocked_workers, 2)  # forecasting, in the pool, holding the lock
        assert _lock(factory) is not None
    assert _gone_within(workers, timeout_s=5) == []
    (run_id, status, message), *_ = _runs(factory)
    assert (run_id, status) == (accepted.json()["id"], "interrupted")
    assert message is not None and "stopped while this run was running" in message
    assert _lock(factory) is None  # the next start can run the pipeline at once
    # a clean stop is not a fault: no error (and no traceback) for log-based alerting
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert any("cut off: the service is stopping" in r.getMessage() for r in caplog.records)
    engine.dispose()


def test_sigterm_during_the_demo_run_interrupts_it_and_frees_the_lock(tmp_path: Path) -> None:
    pid_dir = tmp_path / "workers"
    pid_dir.mkdir()
    script = (
        "import sys\n"
        "from forecast import parallel\n"
        "from tests.forecast.blocking_job import block_and_record\n"
        "parallel.run_series = block_and_record\n"
        "parallel.MIN_SERIES_PER_WORKER = 1\n"
        "from homeward.cli import main\n"
        "sys.exit(main(['demo']))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "HOMEWARD_TEST_PID_DIR": str(pid_dir),
        "HOMEWARD_DATA_DIR": str(tmp_path),
        "HOMEWARD_FORECAST_N_JOBS": "2",
    }
    env.pop("DATABASE_URL", None)
    env.pop("HOMEWARD_DATABASE_URL", None)
    demo = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT, env=env)
    try:
        workers = _workers(pid_dir, 2, timeout_s=180)
        demo.send_signal(signal.SIGTERM)  # what `docker stop` sends
        assert demo.wait(timeout=30) == 143
    finally:
        demo.kill()
    assert _gone_within(workers, timeout_s=5) == []
    _engine, factory = migrated(keyed_settings(tmp_path, "homeward.db"))
    assert _lock(factory) is None
    assert [status for _id, status, _m in _runs(factory)] == ["interrupted"]


@pytest.fixture
def demo_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[sessionmaker[Session]]:
    """`homeward demo` on a database in tmp_path whose pipeline lock another process holds."""
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("HOMEWARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    engine, factory = migrated(keyed_settings(tmp_path, "homeward.db"))
    assert repository.acquire_lock(factory, LOCK_NAME, "1@elsewhere", timedelta(minutes=10))
    yield factory
    get_settings.cache_clear()
    engine.dispose()


def _args(serve: bool) -> argparse.Namespace:
    return argparse.Namespace(serve=serve, rerun=False, host=None, port=None, no_scheduler=True)


def test_demo_serve_warns_and_serves_when_another_run_holds_the_lock(
    demo_env: sessionmaker[Session],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served: list[str] = []
    monkeypatch.setattr(commands, "_serve", lambda settings, _args: served.append("yes") or 0)
    assert commands.demo(_args(serve=True)) == 0
    assert served == ["yes"]
    assert "warning: demo pipeline not run: another pipeline run holds the lock" in (
        capsys.readouterr().err
    )


def test_demo_without_serve_still_reports_the_busy_lock(
    demo_env: sessionmaker[Session],
) -> None:
    with pytest.raises(PipelineBusy):
        commands.demo(_args(serve=False))


def test_a_stop_closes_this_processs_plan_jobs_queued_or_still_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A plan job still running after the grace period, and one queued behind it that will
    never start, are closed as interrupted at the stop (they used to wait for the 6-hour
    rule, showing 'running' and 'queued' to anyone polling them)."""
    started, release = threading.Event(), threading.Event()

    def slow_plan(
        factory: sessionmaker[Session],
        _body: object,
        _solver: str,
        run_id: int,
        *,
        what_if_only: bool = False,
    ) -> None:
        with transaction(factory) as session:
            session.get_one(RunRow, run_id).status = "running"
        started.set()
        release.wait(30)

    monkeypatch.setattr(planning, "checked_body", lambda _session, _body: {})
    monkeypatch.setattr(planning, "run_plan_job", slow_plan)
    monkeypatch.setattr(app_module, "STOP_GRACE_S", 0.5)
    settings = keyed_settings(tmp_path, "jobs.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "planner", Role.PLANNER).secret
    asked = {"Prefer": "respond-async"}
    try:
        with LiveServer(create_app(settings)) as server:
            for client in keyed_client(server, key):
                first = client.post("/v1/plans", json={}, headers=asked)
                second = client.post("/v1/plans", json={}, headers=asked)
                assert (first.status_code, second.status_code) == (202, 202), first.text
                assert started.wait(10)
    finally:
        release.set()
    statuses = {run_id: (status, message) for run_id, status, message in _runs(factory)}
    running, queued = statuses[first.json()["id"]], statuses[second.json()["id"]]
    assert running[0] == queued[0] == "interrupted"
    assert running[1] is not None and "while this run was running" in running[1]
    assert queued[1] is not None and "while this run was queued" in queued[1]
    engine.dispose()
