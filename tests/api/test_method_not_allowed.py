"""A method a path does not answer is 405 with Allow naming every method it does answer
(RFC 9110 15.5.6), as /openapi.json lists them, not only the first route's."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = keyed_settings(Path(tmp_path_factory.mktemp("allow")), "allow.db")
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as live:
        yield live
    engine.dispose()


def _concrete(path: str) -> str:
    """A request path for a documented one: a series id or 1 for each `{parameter}`."""
    return re.sub(
        r"\{(\w+)\}", lambda m: "referrals/ot/rugby" if m[1] == "series_id" else "1", path
    )


def _methods_fitting(document: dict[str, Any], path: str) -> set[str]:
    """The methods of every documented path `path` fits (`/v1/plans/sweeps` fits
    `/v1/plans/{plan_id}` too, whose GET answers it with a 422 naming plan_id), and HEAD
    wherever GET is (every GET answers HEAD; the document does not list it)."""
    methods = {
        method.upper()
        for template, operations in document["paths"].items()
        if re.fullmatch(re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template)), path)
        or template == path
        for method in operations
    }
    return methods | {"HEAD"} if "GET" in methods else methods


def test_a_path_with_a_get_and_a_post_allows_both(server: LiveServer) -> None:
    response = httpx.delete(f"{server.url}/v1/plans")
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD, POST"
    assert response.json()["detail"].endswith("allowed: GET, HEAD, POST")


def test_every_documented_path_allows_exactly_its_documented_methods(
    server: LiveServer,
) -> None:
    # the document is built on its first request: slow on a busy machine (httpx waits 5 s)
    document = httpx.get(f"{server.url}/openapi.json", timeout=60).json()
    wrong: dict[str, tuple[str, str]] = {}
    for path in document["paths"]:
        response = httpx.request("PUT", server.url + _concrete(path))
        documented = ", ".join(sorted(_methods_fitting(document, _concrete(path))))
        if response.status_code != 405 or response.headers.get("allow") != documented:
            wrong[path] = (str(response.status_code), response.headers.get("allow", ""))
    assert wrong == {}
