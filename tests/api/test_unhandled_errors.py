"""Unhandled errors (api/errors.py UnhandledErrors): a 500 is logged once, with its error id and
request id, before its access line; it carries CORS headers for an allowed origin; a client
that went away mid-request is an access line, not an error."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import StreamingResponse

from api.app import create_app
from api.plan_tables import PlanTable, public_rows
from api.schemas import LivePublic
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer

DASHBOARD = "https://dashboard.example.gov.uk"
TIMED = r"\d+\.\d ms"
_STORED_SECRET = "a stored value the client must not see"


class _Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextmanager
def _served_and_logged(app: FastAPI) -> Iterator[tuple[LiveServer, list[logging.LogRecord]]]:
    """The app served, and every record logged meanwhile: the app's (through the root logger)
    and uvicorn's own (`uvicorn.error` does not reach the root). The records are complete once
    the block ends: the server has stopped."""
    kept = _Kept()
    root, uvicorn_errors = logging.getLogger(), logging.getLogger("uvicorn.error")
    level = root.level
    root.setLevel(logging.INFO)
    server = LiveServer(app)  # uvicorn sets up its loggers here: the handler is added after
    root.addHandler(kept)
    uvicorn_errors.addHandler(kept)
    try:
        with server:
            yield server, kept.records
    finally:
        root.removeHandler(kept)
        uvicorn_errors.removeHandler(kept)
        root.setLevel(level)


@contextmanager
def _sessions_broken(app: FastAPI) -> Iterator[None]:
    """Every session the app opens meanwhile is a bug (mended before the stop, which opens one)."""

    def no_session() -> None:
        raise RuntimeError("a bug in opening sessions (the test's)")

    working = app.state.session_factory
    app.state.session_factory = no_session
    try:
        yield
    finally:
        app.state.session_factory = working


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    """The app, with an allowed dashboard origin and a route that fails mid-answer."""
    settings = keyed_settings(tmp_path, "unhandled.db", cors_origins=(DASHBOARD,))
    engine, _factory = migrated(settings)
    app = create_app(settings)

    @app.get("/test-only/breaks-mid-body", include_in_schema=False)
    def breaks_mid_body() -> StreamingResponse:
        async def parts() -> AsyncIterator[bytes]:
            yield b"the first part, "
            raise RuntimeError("a bug after the answer began (the test's)")

        return StreamingResponse(parts(), media_type="text/plain")

    # an answer that fails its own schema, as a stored plan's row of an older shape would:
    # built in the route (pydantic refuses it there), or returned for FastAPI to check
    @app.get("/test-only/builds-a-bad-answer", include_in_schema=False)
    def builds_a_bad_answer() -> LivePublic:
        return LivePublic.model_validate({"status": _STORED_SECRET})

    @app.get("/test-only/tables-a-bad-answer", include_in_schema=False)
    def tables_a_bad_answer() -> list[dict[str, Any]]:  # as GET /v1/plans/{id}/{table} does
        return public_rows(PlanTable.risk_periods, [{"service": [_STORED_SECRET]}])

    @app.get("/test-only/returns-a-bad-answer", response_model=LivePublic, include_in_schema=False)
    def returns_a_bad_answer() -> dict[str, str]:
        return {"status": _STORED_SECRET}

    # a bug raising a ValueError of Python's own (an answer that fails to encode, an int() of
    # a stored value): no request's fault, though the engines' input errors are ValueErrors
    @app.get("/test-only/raises-a-value-error", include_in_schema=False)
    def raises_a_value_error() -> None:
        raise ValueError(f"a bug's message quoting {_STORED_SECRET}")

    yield app
    engine.dispose()


def _access_lines(records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if r.name == "homeward.access"]


def test_a_500_is_logged_once_with_its_ids_then_its_access_line(app: FastAPI) -> None:
    with _served_and_logged(app) as (server, records), _sessions_broken(app):
        sent = {"X-Request-ID": "bug-2"}
        response = httpx.get(f"{server.url}/healthz", headers=sent, timeout=30)
        sent = {"X-Request-ID": "bug-3"}
        head = httpx.head(f"{server.url}/healthz", headers=sent, timeout=30)
    assert response.status_code == 500 and response.headers["x-request-id"] == "bug-2"
    assert head.status_code == 500 and head.content == b""
    error_id = response.json()["error_id"]
    tracebacks = [r for r in records if r.exc_info is not None]
    assert [r.name for r in tracebacks] == ["api.errors", "api.errors"], [
        (r.name, r.getMessage()) for r in tracebacks
    ]
    assert error_id in tracebacks[0].getMessage() and "bug-2" in tracebacks[0].getMessage()
    assert "bug-3" in tracebacks[1].getMessage()
    assert [r.getMessage() for r in records if r.name.startswith("uvicorn")] == []
    # each request's access line after its error's: its time includes the 500's answer
    order = [r.getMessage() for r in records if r.exc_info or r.name == "homeward.access"]
    assert len(order) == 4, order
    for (error, line), (method, request_id) in zip(
        (order[0:2], order[2:4]), (("GET", "bug-2"), ("HEAD", "bug-3")), strict=True
    ):
        assert error.startswith("unhandled error ") and f"{method} /healthz" in error, error
        expected = (
            rf'127\.0\.0\.1:\d+ "{method} /healthz HTTP/1\.1" 500 {TIMED} request={request_id}'
        )
        assert re.fullmatch(expected, line), line


@pytest.mark.parametrize("how", ["builds", "tables", "returns"])
def test_an_answer_failing_its_own_schema_is_a_500_not_invalid_input(
    app: FastAPI, how: str
) -> None:
    """The server's own answer, not the request, was wrong: a 500 naming only the error and
    request ids, its traceback logged once. Built in a route it was a 422 "Invalid input"
    whose detail quoted the refused value."""
    with _served_and_logged(app) as (server, records):
        sent = {"X-Request-ID": f"schema-{how}"}
        path = f"/test-only/{how}-a-bad-answer"
        response = httpx.get(f"{server.url}{path}", headers=sent, timeout=30)
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["code"] == "internal_error" and body["title"] == "Internal server error"
    assert _STORED_SECRET not in response.text
    assert response.headers["x-request-id"] == f"schema-{how}"
    tracebacks = [r for r in records if r.exc_info is not None]
    assert [r.name for r in tracebacks] == ["api.errors"]
    said = tracebacks[0].getMessage()
    assert body["error_id"] in said and f"schema-{how}" in said and path in said


def test_a_value_error_from_a_bug_is_a_logged_500_not_invalid_input(app: FastAPI) -> None:
    """It was a 422 "Invalid input" whose detail was Python's message; an engine's input error
    (a ValueError too) is still a 422 (tests/api/test_plan_input_problems.py)."""
    with _served_and_logged(app) as (server, records):
        sent = {"X-Request-ID": "value-1"}
        path = "/test-only/raises-a-value-error"
        response = httpx.get(f"{server.url}{path}", headers=sent, timeout=30)
    assert response.status_code == 500, response.text
    body = response.json()
    assert body["code"] == "internal_error" and _STORED_SECRET not in response.text
    tracebacks = [r for r in records if r.exc_info is not None]
    assert [r.name for r in tracebacks] == ["api.errors"]
    assert body["error_id"] in tracebacks[0].getMessage() and path in tracebacks[0].getMessage()


def test_an_error_after_the_answer_began_is_logged_once(app: FastAPI) -> None:
    with _served_and_logged(app) as (server, records):
        sent = {"X-Request-ID": "mid-1"}
        with pytest.raises(httpx.RemoteProtocolError):  # the body is cut off
            httpx.get(f"{server.url}/test-only/breaks-mid-body", headers=sent, timeout=30)
    tracebacks = [r for r in records if r.exc_info is not None]
    assert [r.name for r in tracebacks] == ["api.errors"]
    assert "mid-1" in tracebacks[0].getMessage()
    [line] = _access_lines(records)
    assert '"GET /test-only/breaks-mid-body HTTP/1.1" 200 ' in line and "request=mid-1" in line


def test_a_500_can_be_read_by_an_allowed_origin_only(app: FastAPI) -> None:
    def sent_from(origin: str) -> httpx.Response:
        headers = {"Origin": origin, "X-Request-ID": "cors-1"}
        return httpx.get(f"{server.url}/healthz", headers=headers, timeout=30)

    with _served_and_logged(app) as (server, _records), _sessions_broken(app):
        allowed, other = sent_from(DASHBOARD), sent_from("https://elsewhere.example")
    assert allowed.status_code == 500 and other.status_code == 500
    assert allowed.headers["access-control-allow-origin"] == DASHBOARD
    exposed = [
        h.strip().lower() for h in allowed.headers["access-control-expose-headers"].split(",")
    ]
    assert "x-request-id" in exposed
    assert "origin" in [v.strip().lower() for v in allowed.headers["vary"].split(",")]
    assert "access-control-allow-origin" not in other.headers
    assert allowed.json()["error_id"] and allowed.headers["x-request-id"] == "cors-1"


def _line_of(records: list[logging.LogRecord], request_id: str) -> str:
    """The request's access line, written once the server has finished with the request."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [m for m in _access_lines(records) if m.endswith(f"request={request_id}")]
        if lines:
            return lines[0]
        time.sleep(0.02)
    raise AssertionError(f"no access line for request {request_id}")


@pytest.mark.parametrize(
    ("path", "kind", "start"),
    [
        ("/v1/observations", "text/csv", b"unique_id,ds,y\n"),
        ("/v1/plans", "application/json", b'{"scenario": true, "config": {"name": "'),
    ],
    ids=["csv", "json"],
)
def test_an_aborted_upload_is_an_access_line_not_an_error(
    tmp_path: Path, path: str, kind: str, start: bytes
) -> None:
    """A JSON body FastAPI reads itself turned the disconnect into a 422 for no one."""
    settings = keyed_settings(tmp_path, "aborted.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        admin = api_keys.create_key(session, "uploader", Role.ADMIN).secret
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        f"Authorization: Bearer {admin}\r\nContent-Type: {kind}\r\n"
        "Content-Length: 500000\r\nX-Request-ID: gone-1\r\n\r\n"
    )  # within HOMEWARD_MAX_JSON_BYTES (1 MiB): a larger one is refused before it is read
    with _served_and_logged(create_app(settings)) as (server, records):
        # 17 KB of a 500 KB body, then the client gives up and closes the connection
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as client:
            client.sendall(head.encode() + start + b"x" * 17_000)
        line = _line_of(records, "gone-1")
    engine.dispose()
    assert re.fullmatch(
        rf'127\.0\.0\.1:\d+ "POST {path} HTTP/1\.1" 499 {TIMED} '
        r"reason=client_disconnected key=uploader request=gone-1",
        line,
    ), line
    assert [r for r in records if r.levelno >= logging.WARNING or r.exc_info] == []
