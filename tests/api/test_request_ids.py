"""Request and error ids: every answer carries X-Request-ID (the client's own when it is safe
to echo, else a new one), and a 500 gives an `error_id` that the log line holding its
traceback names, so a council's IT can match a user's complaint to the log."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from api.request_ids import accepted_id
from homeward.settings import Settings
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer

GENERATED = re.compile(r"[0-9a-f]{16}")


def _no_session() -> None:
    raise RuntimeError("a bug in opening sessions (the test's)")


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[LiveServer, object]]:
    settings: Settings = keyed_settings(tmp_path, "ids.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    with LiveServer(app) as server:
        yield server, app
    engine.dispose()


def test_a_500_gives_an_error_id_that_the_logged_traceback_names(
    served: tuple[LiveServer, object], caplog: pytest.LogCaptureFixture
) -> None:
    server, app = served
    app.state.session_factory = _no_session  # type: ignore[attr-defined]
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = httpx.get(
            f"{server.url}/healthz", headers={"X-Request-ID": "ticket-4711.a_b"}, timeout=30
        )
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.headers["x-request-id"] == "ticket-4711.a_b"
    body = response.json()
    assert body["title"] == "Internal server error" and body["status"] == 500
    assert re.fullmatch(r"[0-9a-f]{12}", body["error_id"]), body
    assert body["error_id"] in body["detail"]
    [record] = [r for r in caplog.records if body["error_id"] in r.getMessage()]
    assert record.exc_info is not None and record.exc_info[0] is RuntimeError
    assert "ticket-4711.a_b" in record.getMessage() and "GET /healthz" in record.getMessage()


def test_every_answer_echoes_a_valid_request_id_and_replaces_an_invalid_one(
    served: tuple[LiveServer, object],
) -> None:
    server, _app = served
    for path, status in (("/livez", 200), ("/v1/series", 401), ("/nowhere", 404)):
        mine = httpx.get(f"{server.url}{path}", headers={"X-Request-ID": "Abc-1.2_3"})
        assert mine.status_code == status and mine.headers["x-request-id"] == "Abc-1.2_3"
        none = httpx.get(f"{server.url}{path}")
        assert GENERATED.fullmatch(none.headers["x-request-id"]), path
    for refused in ("x" * 65, "has space", "<script>", "a;b", "id\u00e9"):
        sent = {"X-Request-ID": refused.encode("utf-8")}
        answer = httpx.get(f"{server.url}/livez", headers=sent)
        assert GENERATED.fullmatch(answer.headers["x-request-id"]), refused


def test_accepted_id_keeps_only_safe_ids() -> None:
    assert accepted_id("x" * 64) == "x" * 64
    assert accepted_id("AZaz09._-") == "AZaz09._-"
    for unsafe in (None, "", "x" * 65, "a b", "a\nb", "a/b", 'a"b'):
        assert GENERATED.fullmatch(accepted_id(unsafe)), unsafe
