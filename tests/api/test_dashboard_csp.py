"""The dashboard and the documentation work whole under their Content-Security-Policy, in real
headless Chromium: plan, charts, a CSV download and a what-if, Swagger UI and ReDoc, with not
one violation in the browser's console (api/security_headers.py)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from homeward.roles import Role
from tests.api.conftest import open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

REDOCLY_LOGO = "'https://cdn.redoc.ly/redoc/logo-mini.svg' violates"


def violations(browser: Any) -> list[str]:
    """The console's Content-Security-Policy messages since it was last read."""
    return [
        entry["message"]
        for entry in browser.get_log("browser")
        if "Content Security Policy" in entry["message"]
    ]


def _policy(server: LiveServer, path: str) -> str:
    return httpx.get(server.url + path, timeout=30).headers["content-security-policy"]


def test_the_dashboard_works_whole_under_its_policy(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    assert "script-src 'self';" in _policy(demo_server, "/")  # the page the browser gets
    violations(browser)  # the console from here on
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    # every chart drawn: inline SVG, sized by the stylesheet (its proportions, not a fixed height)
    for chart in ("#demand-chart svg", "#backlog-chart svg", "#chart-figure svg"):
        svg = wait.until(ec.visibility_of_element_located((By.CSS_SELECTOR, chart)))
        box = svg.get_dom_attribute("viewBox")
        width, height = (float(x) for x in box.split()[2:])
        shown = browser.execute_script("return arguments[0].getBoundingClientRect()", svg)
        assert shown["height"] == pytest.approx(shown["width"] * height / width, abs=1.5), chart
    assert violations(browser) == []  # the page, its styles and charts
    tagline = browser.find_element(By.CSS_SELECTOR, "header .tagline")
    assert tagline.value_of_css_property("color") == "rgba(201, 214, 227, 1)"
    # a CSV download: fetched with the key, handed to a link as a blob: URL
    [hours] = [
        b
        for b in browser.find_elements(By.CSS_SELECTOR, "#downloads button.download")
        if b.text == "hours"
    ]
    hours.click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), "saved homeward-plan-"))
    # a what-if, planned as a job and polled, its tables written into the page
    fee = wait.until(ec.element_to_be_clickable((By.ID, "fee")))
    fee.clear()
    fee.send_keys("15")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    WebDriverWait(browser, 120).until(
        ec.text_to_be_present_in_element((By.ID, "whatif-result"), "weighted waiting days")
    )
    assert violations(browser) == []  # the download and the what-if's tables
    # and the console does show a violation: an inline style attribute is refused
    browser.execute_script(
        "document.body.insertAdjacentHTML('beforeend', '<b style=\"color: red\">x</b>')"
    )
    WebDriverWait(browser, 10).until(lambda b: (found := violations(b)) and found)


def test_swagger_ui_renders_under_its_policy(browser: Any, demo_server: LiveServer) -> None:
    assert "script-src 'self';" in _policy(demo_server, "/docs")
    document = httpx.get(demo_server.url + "/openapi.json", timeout=30).json()
    operations = sum(len(ops) for ops in document["paths"].values())
    violations(browser)
    browser.get(demo_server.url + "/docs")
    WebDriverWait(browser, 60).until(
        lambda b: len(b.find_elements(By.CSS_SELECTOR, ".opblock")) == operations
    )
    # an operation opened: its parameters and responses drawn
    browser.find_element(By.CSS_SELECTOR, ".opblock-summary").click()
    WebDriverWait(browser, 30).until(
        lambda b: b.find_elements(By.CSS_SELECTOR, ".opblock-body .responses-wrapper")
    )
    assert violations(browser) == []


def test_redoc_renders_under_its_policy(browser: Any, demo_server: LiveServer) -> None:
    assert "script-src 'self';" in _policy(demo_server, "/redoc")
    violations(browser)
    browser.get(demo_server.url + "/redoc")
    WebDriverWait(browser, 60).until(
        lambda b: "Homeward" in " ".join(h.text for h in b.find_elements(By.TAG_NAME, "h1"))
    )
    WebDriverWait(browser, 60).until(lambda b: b.find_elements(By.CSS_SELECTOR, ".api-content"))
    # ReDoc's one request to another host, its maker's logo, is refused, as a page that must
    # open on a network blocking CDNs should; the logo hides itself when it does not load
    assert [v for v in violations(browser) if REDOCLY_LOGO not in v] == []
