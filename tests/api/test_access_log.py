"""The access log: one line per request with its duration in milliseconds and, for a 401 or
403, a reason code (never the key or the header sent)."""

from __future__ import annotations

import json
import logging
import re
import socket
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text

from api.app import create_app
from homeward import api_keys
from homeward.cli import JsonFormatter
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

SECRET = "hw_not-a-real-key-0123456789"
TIMED = r"\d+\.\d ms"


@dataclass(frozen=True)
class Served:
    server: LiveServer
    app: FastAPI
    viewer: str
    revoked: str
    expired: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = keyed_settings(tmp_path, "access.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        viewer = api_keys.create_key(session, "viewer", Role.VIEWER).secret
        revoked = api_keys.create_key(session, "gone", Role.ADMIN).secret
        api_keys.revoke_key(session, "gone")
        expired = api_keys.create_key(session, "ended", Role.ADMIN, expires_in_days=1).secret
        ended = "UPDATE api_keys SET expires_at = '2026-01-02 03:04:00' WHERE name = 'ended'"
        session.execute(text(ended))
    app = create_app(settings)
    with LiveServer(app) as server:
        yield Served(server, app, viewer, revoked, expired)
    engine.dispose()


def _logged(caplog: pytest.LogCaptureFixture, request_id: str) -> str:
    """The access line of the request with this id. The server writes it once the answer is
    sent, so it may come a moment after the client has the answer."""
    deadline = time.monotonic() + 10
    while True:
        lines = [
            r.getMessage()
            for r in caplog.records
            if r.name == "homeward.access" and f"request={request_id}" in r.getMessage()
        ]
        if lines or time.monotonic() > deadline:
            assert len(lines) == 1, lines
            return lines[0]
        time.sleep(0.02)


def _get(served: Served, path: str, request_id: str, **headers: str) -> httpx.Response:
    sent = {"X-Request-ID": request_id, **headers}
    return httpx.request("GET", f"{served.server.url}{path}", headers=sent, timeout=30)


def test_a_line_gives_the_request_its_status_and_duration(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    assert _get(served, "/livez?probe=1", "live-1").status_code == 200
    line = _logged(caplog, "live-1")
    assert re.fullmatch(
        rf'127\.0\.0\.1:\d+ "GET /livez\?probe=1 HTTP/1\.1" 200 {TIMED} request=live-1', line
    ), line


@pytest.mark.parametrize(
    ("request_id", "headers", "status", "reason"),
    [
        ("no-key", {}, 401, "no_key"),
        ("unknown", {"X-API-Key": SECRET}, 401, "unknown_key"),
        ("revoked", "revoked", 401, "revoked_key"),
        ("expired", "expired", 401, "expired_key"),
        ("scheme", {"Authorization": f"Token {SECRET}"}, 401, "not_bearer"),
        ("viewer", "viewer", 403, "role_too_weak"),
    ],
)
def test_a_refusal_says_why_and_never_the_key(
    served: Served,
    caplog: pytest.LogCaptureFixture,
    request_id: str,
    headers: dict[str, str] | str,
    status: int,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    # a known key's name, never a secret: a revoked or expired key's too, as its 401 names it,
    # so the log says which retired key a client still sends
    names = {"viewer": "viewer", "revoked": "gone", "expired": "ended"}
    named = f"key={names[request_id]} " if request_id in names else ""
    if isinstance(headers, str):
        headers = key_header(getattr(served, headers))
    path = "/v1/plans/sweeps" if status == 403 else "/v1/series"
    sent = {"X-Request-ID": request_id, **headers}
    method = "POST" if status == 403 else "GET"
    response = httpx.request(method, f"{served.server.url}{path}", headers=sent, json={})
    assert response.status_code == status, response.text
    line = _logged(caplog, request_id)
    assert re.fullmatch(
        rf'127\.0\.0\.1:\d+ "{method} {path} HTTP/1\.1" {status} {TIMED} '
        rf"reason={reason} {named}request={request_id}",
        line,
    ), line
    for secret in (SECRET, served.viewer, served.revoked, served.expired):
        assert secret not in line
    [record] = [r for r in caplog.records if r.getMessage() == line]
    entry = json.loads(JsonFormatter().format(record))  # HOMEWARD_LOG_FORMAT=json
    assert (entry["reason"], entry.get("key")) == (reason, names.get(request_id))


def test_a_line_names_the_key_that_sent_the_request(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """A council can tell which integration made a request by its key's name (the name
    `keys rotate` keeps), never by the key itself."""
    caplog.set_level(logging.INFO, logger="homeward.access")
    response = _get(served, "/v1/series", "named-1", **key_header(served.viewer))
    assert response.status_code == 200, response.text
    line = _logged(caplog, "named-1")
    assert re.fullmatch(
        rf'127\.0\.0\.1:\d+ "GET /v1/series HTTP/1\.1" 200 {TIMED} key=viewer request=named-1', line
    ), line
    assert served.viewer not in line
    # HOMEWARD_LOG_FORMAT=json writes the line's fields as fields of their own
    [record] = [r for r in caplog.records if r.getMessage() == line]
    entry = json.loads(JsonFormatter().format(record))
    assert re.fullmatch(r"127\.0\.0\.1:\d+", entry.pop("client")), entry
    assert isinstance(entry.pop("duration_ms"), float) and entry.pop("time")
    assert entry == {
        "level": "INFO",
        "logger": "homeward.access",
        "message": line,
        "method": "GET",
        "path": "/v1/series",
        "status": 200,
        "key": "viewer",
        "request_id": "named-1",
    }


def test_an_unhandled_error_is_logged_as_500(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")

    def no_session() -> None:
        raise RuntimeError("a bug in opening sessions (the test's)")

    served.app.state.session_factory = no_session
    assert _get(served, "/healthz", "bug-1").status_code == 500
    assert re.fullmatch(
        rf'127\.0\.0\.1:\d+ "GET /healthz HTTP/1\.1" 500 {TIMED} request=bug-1',
        _logged(caplog, "bug-1"),
    )


def test_a_path_or_query_cannot_forge_or_break_a_line(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    # the path and query are logged as sent: %0d, %22 and %20 stay encoded (decoded, a CR, a
    # quote and a space that splits the line), a raw quote or backslash is escaped
    target = '/v1/series/x%0dFORGED%22%5c%1b%20HTTP/1.1%3Fb?prefix="a"\\'
    with socket.create_connection(("127.0.0.1", served.server.port), timeout=30) as client:
        client.sendall(
            f"GET {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Request-ID: forged-1\r\n"
            "Connection: close\r\n\r\n".encode()
        )
        assert client.recv(100).startswith(b"HTTP/1.1 401 ")
    line = _logged(caplog, "forged-1")
    logged = r"/v1/series/x%0dFORGED%22%5c%1b%20HTTP/1.1%3Fb?prefix=\x22a\x22\\"
    assert line.split(" ")[1:4] == ['"GET', logged, 'HTTP/1.1"'], line
    assert line.count('"') == 2 and "\r" not in line and "\x1b" not in line, line


def test_a_forwarded_client_address_cannot_pass_for_a_request_line(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """uvicorn takes the client from X-Forwarded-For when a trusted proxy (by default one on
    127.0.0.1) sends it: a forged one wrote a whole fake request before the real one."""
    caplog.set_level(logging.INFO, logger="homeward.access")
    forged = '10.0.0.9 "DELETE /v1/keys/admin HTTP/1.1" 204 1.0 ms request=zz x'
    headers = {"X-Forwarded-For": forged, "X-Request-ID": "forwarded-1"}
    httpx.get(f"{served.server.url}/healthz", headers=headers, timeout=30)
    line = _logged(caplog, "forwarded-1")
    assert line.count('"') == 2 and line.split(" ")[1] == '"GET', line
    assert line.startswith("10.0.0.9\\x20\\x22DELETE"), line
