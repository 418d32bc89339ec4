"""A dashboard on another origin may send every header a client of the API legitimately
sends, If-None-Match (polling with the ETag) included."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

DASHBOARD = "http://localhost:5173"


@pytest.fixture
def with_cors(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    settings = keyed_settings(tmp_path, "cors.db", cors_origins=(DASHBOARD,))
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        yield server, key
    engine.dispose()


@pytest.mark.parametrize(
    "header", ["if-none-match", "authorization", "x-api-key", "content-type", "prefer"]
)
def test_a_cross_origin_dashboard_may_send_each_header_a_client_sends(
    with_cors: tuple[LiveServer, str], header: str
) -> None:
    server, _key = with_cors
    preflight = httpx.options(
        f"{server.url}/v1/plans/latest",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": header,
        },
    )
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
    preflight = httpx.options(
        f"{server.url}/v1/runs",
        headers={
            "Origin": DASHBOARD,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization, if-none-match",
        },
    )
    assert preflight.status_code == 200, preflight.text
    first = httpx.get(f"{server.url}/v1/runs", headers={"Origin": DASHBOARD, **key_header(key)})
    assert first.status_code == 200
    again = httpx.get(
        f"{server.url}/v1/runs",
        headers={"Origin": DASHBOARD, "If-None-Match": first.headers["etag"], **key_header(key)},
    )
    assert again.status_code == 304
    assert again.headers["access-control-allow-origin"] == DASHBOARD
