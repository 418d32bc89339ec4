"""Starting the service closes the runs a previous process was cut off in."""

from __future__ import annotations

from pathlib import Path

from api.app import create_app
from homeward.clock import code_version, utcnow
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
