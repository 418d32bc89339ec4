"""HEAD answers as GET would, without the body: uptime monitors `curl -I /healthz`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    settings = keyed_settings(tmp_path, "head.db")
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as live:
        yield live
    engine.dispose()


def test_head_healthz_is_get_without_the_body(server: LiveServer) -> None:
    got = httpx.get(f"{server.url}/healthz")
    head = httpx.head(f"{server.url}/healthz")
    assert head.status_code == got.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == got.headers["content-type"]
    assert head.headers["content-length"] == str(len(got.content))


def test_head_elsewhere_answers_as_get_does(server: LiveServer) -> None:
    unkeyed = httpx.head(f"{server.url}/v1/runs")
    assert unkeyed.status_code == 401 and unkeyed.content == b""
    assert unkeyed.headers["www-authenticate"] == "Bearer"
    post_only = httpx.head(f"{server.url}/v1/observations")
    assert post_only.status_code == 405 and post_only.headers["allow"] == "POST"
    page = httpx.head(f"{server.url}/static/dashboard.js")
    assert page.status_code == 200 and page.content == b""
