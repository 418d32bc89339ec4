"""Starting the service closes the runs a previous process was cut off in."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import httpx

from api.app import create_app
from homeward import repository
from homeward.clock import code_version, utcnow
from homeward.pipeline import LOCK_NAME
from homeward.settings import Settings
from homeward.storage import transaction
from models import RunRow
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer


def test_a_run_left_running_by_a_stopped_service_is_interrupted_at_start(tmp_path: Path) -> None:
    settings = keyed_settings(tmp_path, "restart.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        run = RunRow(
            kind="pipeline",
            trigger="api",
            status="running",
            started_at=utcnow(),
            code_version=code_version(),
        )
        session.add(run)
        session.flush()
        run_id = run.id
    with LiveServer(create_app(settings)):
        pass  # a real server started (and stopped): its start-up ran
    with factory() as session:
        stored = session.get_one(RunRow, run_id)
        assert stored.status == "interrupted" and stored.finished_at is not None
    engine.dispose()


def test_a_killed_processs_lock_is_freed_at_start_and_runs_are_accepted_at_once(
    tmp_path: Path, either_database_url: str
) -> None:
    """kill -9 mid run, then a restart on the same host: the run stayed 'running' and POST
    /v1/runs answered 409 'poll /v1/runs/N' until the dead process's lease ran out."""
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          check=True, capture_output=True, text=True)  # fmt: skip
    holder = f"{int(dead.stdout)}@{os.uname().nodename}"
    settings = Settings(data_dir=tmp_path, database_url=either_database_url, auth="off",
                        scheduler_enabled=False)  # fmt: skip
    engine, factory = migrated(settings)
    try:
        with transaction(factory) as session:
            run_id = repository.start_run(session, "pipeline", "api", code_version()).id
        assert repository.acquire_lock(factory, LOCK_NAME, holder, timedelta(minutes=10))
        with transaction(factory) as session:
            repository.name_locked_run(session, LOCK_NAME, holder, run_id)
        with LiveServer(create_app(settings)) as server:
            accepted = httpx.post(f"{server.url}/v1/runs", timeout=30)
        assert accepted.status_code == 202, accepted.text
        with factory() as session:
            assert session.get_one(RunRow, run_id).status == "interrupted"
    finally:
        engine.dispose()
