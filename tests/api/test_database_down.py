"""The database down: /healthz and every /v1 request answer 503 'database unavailable',
naming its backend only, never its host, file, user or password, instead of a 500."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine

from api.app import create_app
from homeward import api_keys
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer, need_postgres_server
from tests.pg_server import running_postgres

PASSWORD = "s3cret-pw"  # the trust-auth test server ignores it; no answer may show it


def _assert_unavailable(response: httpx.Response, names: str) -> dict[str, Any]:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["retry-after"] == "10"
    body: dict[str, Any] = response.json()
    assert body["title"] == "Service unavailable" and body["status"] == 503
    assert body["detail"] == (
        f"database unavailable: {names} did not answer (the server log says more); "
        "try again shortly"
    )
    return body


@pytest.fixture
def sqlite_gone(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A keyed server started on a SQLite file whose sessions then open a missing one."""
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite:///{tmp_path / 'up.db'}", scheduler_enabled=False
    )
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    app = create_app(settings)
    with LiveServer(app) as server:
        missing = create_engine(f"sqlite:///{tmp_path / 'no-such-folder' / 'gone.db'}")
        app.state.session_factory = session_factory(missing)
        yield server, key
        missing.dispose()
    engine.dispose()


def test_healthz_and_v1_answer_503_when_the_sqlite_file_cannot_be_opened(
    sqlite_gone: tuple[LiveServer, str],
) -> None:
    server, key = sqlite_gone
    names = "the sqlite database"
    health = _assert_unavailable(httpx.get(f"{server.url}/healthz", timeout=30), names)
    assert "gone.db" not in health["detail"]
    # the key check reads the database first: it is what fails
    _assert_unavailable(
        httpx.get(f"{server.url}/v1/series", headers=key_header(key), timeout=30), names
    )


def test_503_when_postgresql_stops_and_the_password_is_never_shown() -> None:
    need_postgres_server()  # (a server of its own, as it stops it: not the session's)
    with ExitStack() as app_running:
        with running_postgres() as url:
            with_password = url.replace("homeward@", f"homeward:{PASSWORD}@")
            settings = Settings(database_url=with_password, scheduler_enabled=False, auth="off")
            server = app_running.enter_context(LiveServer(create_app(settings)))
            assert httpx.get(f"{server.url}/healthz", timeout=30).status_code == 200
        # PostgreSQL has stopped; the service has not
        port = url.rsplit(":", 1)[1].split("/")[0]
        names = "the postgresql database"
        for path in ("/healthz", "/v1/series", "/v1/runs", "/v1/plans/latest"):
            response = httpx.get(f"{server.url}{path}", timeout=30)
            body = _assert_unavailable(response, names)
            assert PASSWORD not in response.text and "homeward" not in body["detail"], body
            assert "127.0.0.1" not in response.text and port not in response.text, body
