"""API keys over real HTTP: an expired key gets 401 saying when it expired, GET /v1/keys/me
shows when the key expires and was last used, and a use the database is too busy to record is
logged without failing the request."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, repository
from homeward.clock import utcnow
from homeward.recovery import as_utc
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

ME = "/v1/keys/me"


@dataclass(frozen=True)
class Served:
    server: LiveServer
    engine: Engine
    factory: sessionmaker[Session]


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = keyed_settings(tmp_path, "key-use.db")
    engine, factory = migrated(settings)
    with LiveServer(create_app(settings)) as server:
        yield Served(server, engine, factory)
    engine.dispose()


def _key(served: Served, name: str, expires_in_days: int | None = None) -> str:
    with transaction(served.factory) as session:
        return api_keys.create_key(session, name, Role.VIEWER, expires_in_days).secret


def _last_used(served: Served, name: str) -> datetime | None:
    with served.factory() as session:
        row = repository.api_key_by_name(session, name)
        assert row is not None
        return None if row.last_used_at is None else as_utc(row.last_used_at)


def test_an_expired_key_is_401_saying_when_it_expired_and_never_the_key(served: Served) -> None:
    secret = _key(served, "contractor", expires_in_days=90)
    url = served.server.url + "/v1/series"
    assert httpx.get(url, headers=key_header(secret), timeout=30).status_code == 200
    with transaction(served.factory) as session:  # 90 days on
        session.execute(text("UPDATE api_keys SET expires_at = '2026-01-02 03:04:00'"))
    refused = httpx.get(url, headers=key_header(secret), timeout=30)
    assert refused.status_code == 401, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["www-authenticate"] == 'Bearer error="invalid_token"'
    assert refused.json()["detail"] == (
        "the API key 'contractor' expired at 2026-01-02 03:04 UTC; an admin can give it a new "
        "key with `homeward keys rotate contractor --expires-in DAYS`"
    )
    assert secret not in refused.text
    # a code and the moment for a client's code, which had only the prose (the dashboard
    # matched "expired" in it, so a revoked key named 'expired-...' was said to have expired)
    assert refused.json()["code"] == "key_expired"
    assert refused.json()["expires_at"] == "2026-01-02T03:04:00Z"


def test_keys_me_says_when_the_key_expires_and_was_last_used(served: Served) -> None:
    """A key's first request records its use (this one included); the answer gives the
    moments in UTC, and the expiry `keys create --expires-in` set."""
    secret = _key(served, "contractor", expires_in_days=90)
    assert _last_used(served, "contractor") is None
    before = utcnow()
    answer = httpx.get(served.server.url + ME, headers=key_header(secret), timeout=30)
    assert answer.status_code == 200, answer.text
    recorded = _last_used(served, "contractor")
    assert recorded is not None and before <= recorded <= utcnow()
    with served.factory() as session:
        row = repository.api_key_by_name(session, "contractor")
        assert row is not None and row.expires_at is not None
        expires = as_utc(row.expires_at)
    body = answer.json()
    assert datetime.fromisoformat(body["last_used_at"]) == recorded
    assert datetime.fromisoformat(body["expires_at"]) == expires
    assert body["expires_at"].endswith("Z") and body["last_used_at"].endswith("Z")
    again = httpx.get(served.server.url + ME, headers=key_header(secret), timeout=30).json()
    assert again["last_used_at"] == body["last_used_at"]  # within 5 minutes: not written again
    assert _last_used(served, "contractor") == recorded


def test_a_use_the_database_cannot_record_is_logged_and_the_request_answered(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """An import holds SQLite's write lock while a dashboard asks: the dashboard is answered,
    and the log says its use was not recorded, once: the requests in the next
    LAST_USED_RETRY_AFTER are answered without trying again (the first after it records the
    use: tests/homeward/test_key_use_and_expiry.py)."""
    secret = _key(served, "dashboard")
    caplog.set_level(logging.WARNING, logger="homeward.api_keys")
    with served.engine.connect() as importer:
        importer.exec_driver_sql("BEGIN IMMEDIATE")
        answer = httpx.get(served.server.url + "/v1/series", headers=key_header(secret))
        importer.rollback()
    assert answer.status_code == 200, answer.text
    assert _last_used(served, "dashboard") is None
    said = [r.getMessage() for r in caplog.records if r.name == "homeward.api_keys"]
    assert said == [
        "could not record that API key 'dashboard' was used (database is locked); not tried "
        "again for 30 s"
    ]
    with served.engine.connect() as importer:
        importer.exec_driver_sql("BEGIN IMMEDIATE")  # the import goes on: no second warning
        for _ in range(3):
            again = httpx.get(served.server.url + "/v1/series", headers=key_header(secret))
            assert again.is_success
        importer.rollback()
    assert [r.getMessage() for r in caplog.records if r.name == "homeward.api_keys"] == said
    assert _last_used(served, "dashboard") is None
