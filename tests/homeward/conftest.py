"""Fixtures shared by the service-side tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import commands
from homeward.pipeline import PipelineOutcome
from homeward.settings import Settings, get_settings
from homeward.storage import make_engine, session_factory, upgrade


@pytest.fixture
def factory(sqlite_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh, migrated SQLite database (test_storage.py runs PostgreSQL too)."""
    engine = make_engine(sqlite_settings.resolved_database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


@pytest.fixture
def db_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """Point the CLI at a fresh SQLite file through DATABASE_URL, as a user would."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


@pytest.fixture
def demo_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """`homeward demo` with its pipeline run replaced by a stub: the list gets "run" each
    time the command would have run the pipeline (the pipeline is tested on its own)."""
    ran: list[str] = []

    def pipeline(*args: object, **kwargs: object) -> PipelineOutcome:
        ran.append("run")
        return PipelineOutcome(len(ran), "succeeded", None, "")

    monkeypatch.setattr(commands, "run_pipeline", pipeline)
    return ran
