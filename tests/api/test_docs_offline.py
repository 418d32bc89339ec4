"""/docs and /redoc open on a network that blocks CDNs: every script and style they load comes
from the service itself, and Swagger UI renders the OpenAPI 3.1 document in a real browser."""

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

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

ASSET = re.compile(r"""(?:src|href|specUrl|url)\s*[=:]\s*['"]([^'"]+)['"]""")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = keyed_settings(Path(tmp_path_factory.mktemp("docs")), "docs.db")
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as live:
        yield live
    engine.dispose()


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_documentation_loads_nothing_from_another_host(server: LiveServer, page: str) -> None:
    html = httpx.get(server.url + page, timeout=30)
    assert html.status_code == 200
    assets = ASSET.findall(html.text)
    assert assets, html.text
    assert [a for a in assets if re.match(r"(https?:)?//", a)] == []  # no CDN, no other host
    for asset in assets:
        assert httpx.get(server.url + asset, timeout=30).status_code == 200, asset


def test_swagger_ui_renders_every_operation_without_a_cdn(browser: Any, server: LiveServer) -> None:
    document = httpx.get(server.url + "/openapi.json", timeout=30).json()
    operations = sum(len(ops) for ops in document["paths"].values())
    browser.get(server.url + "/docs")
    WebDriverWait(browser, 60).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) == operations
    )
    assert browser.find_elements(By.CSS_SELECTOR, ".swagger-ui .info .title")
