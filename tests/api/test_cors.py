"""A dashboard on another origin may call the API when HOMEWARD_CORS_ORIGINS names it, sending
every header a client legitimately sends (If-None-Match included); by
default no origin may; a malformed origin stops the service at start-up, named."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from api.app import create_app
from homeward import api_keys
from homeward.cli import main
from homeward.roles import Role
from homeward.settings import Settings, get_settings
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

DASHBOARD = "https://dashboard.example.org"
PREFLIGHT = {
    "Origin": DASHBOARD,
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization, content-type",
}


def test_origins_are_read_comma_separated(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOMEWARD_CORS_ORIGINS", f" {DASHBOARD}, HTTP://LocalHost:5173 ,")
    assert Settings().cors_origins == (DASHBOARD, "http://localhost:5173")
    monkeypatch.setenv("HOMEWARD_CORS_ORIGINS", "")
    assert Settings().cors_origins == ()


@pytest.mark.parametrize(
    "origin",
    [
        f"{DASHBOARD}/",
        f"{DASHBOARD}/app",
        "dashboard.example.org",
        "ftp://x.org",
        "http://:80",
        "https://x.org:99999",
        "https://user@x.org",
    ],
)
def test_a_malformed_origin_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch, origin: str
) -> None:
    monkeypatch.setenv("HOMEWARD_CORS_ORIGINS", f"{DASHBOARD},{origin}")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert f"found {origin!r}" in str(refused.value)


def test_serve_with_a_malformed_origin_stops_at_start_up(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMEWARD_CORS_ORIGINS", f"{DASHBOARD}/")
    get_settings.cache_clear()
    try:
        assert main(["serve"]) == 2
    finally:
        get_settings.cache_clear()
    err = capsys.readouterr().err
    assert "HOMEWARD_CORS_ORIGINS: expected an origin such as" in err
    assert f"found '{DASHBOARD}/'" in err


def _server(tmp_path: Path, **extra: object) -> Iterator[tuple[LiveServer, str]]:
    settings = keyed_settings(tmp_path, "cors.db", **extra)
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        yield server, key
    engine.dispose()


@pytest.fixture
def with_cors(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    yield from _server(tmp_path, cors_origins=(DASHBOARD,))


@pytest.fixture
def without_cors(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    yield from _server(tmp_path)


def test_a_named_origin_passes_the_preflight_and_reads_the_paging_headers(
    with_cors: tuple[LiveServer, str],
) -> None:
    server, key = with_cors
    preflight = httpx.options(f"{server.url}/v1/runs", headers=PREFLIGHT)
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == DASHBOARD
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    listed = httpx.get(f"{server.url}/v1/runs", headers={"Origin": DASHBOARD, **key_header(key)})
    assert listed.status_code == 200
    assert listed.headers["access-control-allow-origin"] == DASHBOARD
    exposed = {
        h.strip().lower() for h in listed.headers["access-control-expose-headers"].split(",")
    }
    assert {"x-total-count", "link", "location", "content-disposition"} <= exposed
    refused = httpx.get(f"{server.url}/v1/runs", headers={"Origin": DASHBOARD})
    assert refused.status_code == 401  # a browser can read why, too
    assert refused.headers["access-control-allow-origin"] == DASHBOARD
    other = httpx.options(
        f"{server.url}/v1/runs", headers={**PREFLIGHT, "Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers


def test_a_refused_preflight_names_the_header_and_those_allowed(
    with_cors: tuple[LiveServer, str],
) -> None:
    """Starlette's plain-text 'Disallowed CORS headers' named no header."""
    asked = {**PREFLIGHT, "Access-Control-Request-Headers": "authorization,cache-control"}
    server, _key = with_cors
    refused = httpx.options(f"{server.url}/v1/runs", headers=asked)
    assert refused.status_code == 400
    assert refused.headers["content-type"].startswith("application/problem+json")
    body = refused.json()
    assert body["code"] == "cors_not_allowed" and body["title"] == "Bad request"
    assert body["detail"].startswith("request headers not allowed: cache-control; allowed: ")
    assert "authorization" in body["detail"] and "x-api-key" in body["detail"]


def test_without_the_setting_no_origin_gets_cors_headers(
    without_cors: tuple[LiveServer, str],
) -> None:
    server, key = without_cors
    preflight = httpx.options(f"{server.url}/v1/runs", headers=PREFLIGHT)
    assert "access-control-allow-origin" not in preflight.headers
    listed = httpx.get(f"{server.url}/v1/runs", headers={"Origin": DASHBOARD, **key_header(key)})
    assert "access-control-allow-origin" not in listed.headers


def _preflight(server: LiveServer, path: str, request_headers: str) -> httpx.Response:
    """The browser's OPTIONS before a cross-origin GET sending `request_headers`."""
    return httpx.options(
        f"{server.url}{path}",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": request_headers,
        },
    )


@pytest.mark.parametrize(
    "header", ["if-none-match", "authorization", "x-api-key", "content-type", "prefer"]
)
def test_a_cross_origin_dashboard_may_send_each_header_a_client_sends(
    with_cors: tuple[LiveServer, str], header: str
) -> None:
    server, _key = with_cors
    preflight = _preflight(server, "/v1/plans/latest", header)
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == DASHBOARD
    allowed = {
        h.strip().lower() for h in preflight.headers["access-control-allow-headers"].split(",")
    }
    assert header in allowed


def test_a_cross_origin_dashboard_may_poll_with_if_none_match(
    with_cors: tuple[LiveServer, str],
) -> None:
    server, key = with_cors
    preflight = _preflight(server, "/v1/runs", "authorization, if-none-match")
    assert preflight.status_code == 200, preflight.text
    first = httpx.get(f"{server.url}/v1/runs", headers={"Origin": DASHBOARD, **key_header(key)})
    assert first.status_code == 200
    again = httpx.get(
        f"{server.url}/v1/runs",
        headers={"Origin": DASHBOARD, "If-None-Match": first.headers["etag"], **key_header(key)},
    )
    assert again.status_code == 304
    assert again.headers["access-control-allow-origin"] == DASHBOARD


@pytest.mark.parametrize(
    ("method", "path"),
    [("GET", "/v1/plans/latest"), ("POST", "/v1/observations"), ("DELETE", "/v1/series/a/b")],
)
def test_a_cross_origin_page_may_use_every_method_a_route_answers(
    with_cors: tuple[LiveServer, str], method: str, path: str
) -> None:
    """An admin page on a listed origin removes a series uploaded by mistake as it uploads
    one: the browser sends DELETE only after a preflight that allows it."""
    server, _key = with_cors
    preflight = httpx.options(
        f"{server.url}{path}",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert preflight.status_code == 200, preflight.text
    assert preflight.headers["access-control-allow-origin"] == DASHBOARD
    allowed = {m.strip() for m in preflight.headers["access-control-allow-methods"].split(",")}
    assert method in allowed
