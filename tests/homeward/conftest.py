"""Fixtures shared by the service-side tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, upgrade


@pytest.fixture
def factory(sqlite_settings: Settings) -> Iterator[sessionmaker[Session]]:
    """Sessions on a fresh, migrated SQLite database (test_storage.py runs PostgreSQL too)."""
    engine = make_engine(sqlite_settings.resolved_database_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()
