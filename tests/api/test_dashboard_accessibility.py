"""The dashboard against WCAG 2.2 AA in real headless Chromium, as council staff who use a
screen reader, the keyboard alone or 400% zoom meet it: axe-core finds nothing serious or
critical on the loaded page, its no-key error state or a refused fee; every control and every
table that scrolls in its box is reached by Tab with its focus shown; errors are announced; the
page reflows at 320 CSS px; the forecast chart's figures are a table a screen reader can reach."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from homeward.roles import Role
from tests.api.conftest import key_header, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
axe_selenium = pytest.importorskip("axe_core_python.selenium")
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

WCAG_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]  # axe 4.4 has no wcag22 tags
HARMFUL = ("serious", "critical")
CONTROLS = ("api-key", "hours-per", "demand-service", "backlog-service", "series", "fee",
            "sweep-rates")  # fmt: skip
BUTTONS = ("#key-form button", "#fee-form button", "#sweep-form button", "#chart-table summary")


def _harmful_violations(browser: Any) -> list[str]:
    """axe's serious and critical violations of WCAG 2.x A and AA on the page as it stands,
    each as id, impact, help and its first few targets."""
    options = {"runOnly": {"type": "tag", "values": WCAG_AA}}
    results = axe_selenium.Axe().run(browser, options=options)
    return [
        f"{v['id']} ({v['impact']}): {v['help']}; at {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v["impact"] in HARMFUL
    ]


def test_axe_finds_nothing_serious_on_the_page_its_no_key_error_or_a_refused_fee(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    browser.get(demo_server.url + "/")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert _harmful_violations(browser) == [], "without a key"
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    wait.until(ec.element_to_be_clickable((By.ID, "fee")))
    assert _harmful_violations(browser) == [], "the loaded plan"
    fee = browser.find_element(By.ID, "fee")
    fee.clear()
    fee.send_keys("150", Keys.ENTER)  # Enter submits, as a keyboard user sends it
    wait.until(ec.presence_of_element_located((By.ID, "whatif-error")))
    assert fee.get_attribute("aria-invalid") == "true"
    assert "whatif-error" in str(fee.get_attribute("aria-describedby")).split()
    assert _harmful_violations(browser) == [], "a refused fee"


def _tab_through(browser: Any) -> list[dict[str, Any]]:
    """Each element Tab reaches from the top of the page, once round: how it is named and
    whether its focus is drawn (an outline, the browser's own or the page's)."""
    browser.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    reached: list[dict[str, Any]] = []
    for _ in range(150):
        ActionChains(browser).send_keys(Keys.TAB).perform()
        focused = browser.execute_script(
            "const e = document.activeElement, s = getComputedStyle(e);"
            "if (e === document.body) return null;"
            "const by = document.getElementById(e.getAttribute('aria-labelledby') || '');"
            "return { id: e.id, tag: e.tagName.toLowerCase(), role: e.getAttribute('role'),"
            "  css: e.matches('#key-form button') ? '#key-form button'"
            "    : e.matches('#fee-form button') ? '#fee-form button'"
            "    : e.matches('#sweep-form button') ? '#sweep-form button'"
            "    : e.matches('#chart-table summary') ? '#chart-table summary' : null,"
            "  scroller: e.matches('.wide, .scroll'), name: by ? by.textContent.trim() : '',"
            "  shown: e.matches(':focus-visible') && s.outlineStyle !== 'none'"
            "    && parseFloat(s.outlineWidth) > 0 };"
        )
        if focused is None:
            break
        reached.append(focused)
    return reached


def test_the_keyboard_reaches_every_control_and_scrolling_table_with_its_focus_shown(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    wait.until(ec.element_to_be_clickable((By.ID, "fee")))
    reached = _tab_through(browser)
    assert set(CONTROLS) <= {r["id"] for r in reached}
    assert set(BUTTONS) <= {r["css"] for r in reached}
    assert [r for r in reached if not r["shown"]] == []
    # the weeks' tables scroll in their boxes: each is a region named by its card, so arrow
    # keys scroll it and a screen reader says whose it is
    scrollers = [r for r in reached if r["scroller"]]
    assert {r["name"] for r in scrollers} >= {
        "Demand planned for, whole area",
        "Cases waiting, whole area",
    }
    assert all(r["role"] == "region" and r["name"] for r in scrollers)
    # Space opens the forecast chart's figures: every forecast point a row
    browser.find_element(By.CSS_SELECTOR, "#chart-table summary").send_keys(Keys.SPACE)
    series = browser.find_element(By.ID, "series").get_attribute("value")
    forecast = httpx.get(
        f"{demo_server.url}/v1/forecasts/{series}", headers=key_header(role_keys[Role.FINANCE])
    ).json()
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#chart-table tbody tr')]"
        ".filter((tr) => tr.cells[2].textContent).map((tr) => tr.cells[0].textContent)"
    )
    assert shown == [str(p["ds"])[:10] for p in forecast["points"]]
    assert browser.find_element(By.CSS_SELECTOR, "#chart-table table").is_displayed()


def test_errors_are_announced_and_the_page_reflows_at_400_percent_zoom(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    # a sweep the server refuses is said at once; the what-if's result region, already live,
    # says its own without a second alert
    roles = browser.execute_script(
        "showError('#sweep-result', '', 'refused'); showError('#whatif-result', '', 'refused');"
        "return ['#sweep-result', '#whatif-result'].map("
        "  (s) => document.querySelector(`${s} .error`).getAttribute('role'));"
    )
    assert roles == ["alert", None]
    for live in ("whatif-result", "sweep-status", "download-status"):
        assert browser.find_element(By.ID, live).get_attribute("aria-live") == "polite"
    # 1280 px at 400%: 320 CSS px, where text reflows rather than scrolling sideways; a table
    # wider than that scrolls in its own box, which the keyboard can then reach
    browser.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 320, "height": 800, "deviceScaleFactor": 1, "mobile": False},
    )
    try:
        WebDriverWait(browser, 10).until(
            lambda b: (
                b.execute_script("return innerWidth") == 320
                and b.execute_script("return document.querySelector('#hours-view').tabIndex") == 0
            )
        )
        page = "document.documentElement"
        wide, shown = browser.execute_script(f"return [{page}.scrollWidth, {page}.clientWidth]")
        assert wide <= shown
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def _contrast(one: str, other: str) -> float:
    """WCAG's contrast ratio of two colours as the browser computes them ('rgb(r, g, b)')."""

    def luminance(colour: str) -> float:
        channels = [int(c) / 255 for c in colour[colour.index("(") + 1 : -1].split(",")[:3]]
        linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]

    high, low = sorted((luminance(one), luminance(other)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_the_forecast_intervals_are_drawn_with_edges_of_3_to_1_against_what_they_border(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    # WCAG 1.4.11: the interval bands' light fills are under 3:1 against white, so each
    # band's two edges are drawn as lines that meet 3:1 against white and both fills
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    drawn = browser.execute_script(
        "const svg = document.querySelector('#chart svg'), css = (e, p) => getComputedStyle(e)[p];"
        "return { fills: [...svg.querySelectorAll('polygon')].map((p) => css(p, 'fill')),"
        "  edges: [...svg.querySelectorAll('polyline[class^=edge-]')].map((e) => ({"
        "    level: e.getAttribute('class'), stroke: css(e, 'stroke'),"
        "    points: e.getAttribute('points').trim().split(/\\s+/).length })),"
        "  periods: svg.querySelector('polyline.mean').getAttribute('points').trim()"
        "    .split(/\\s+/).length }"
    )
    assert len(drawn["fills"]) == 2
    assert sorted(e["level"] for e in drawn["edges"]) == ["edge-80"] * 2 + ["edge-95"] * 2
    for edge in drawn["edges"]:
        assert edge["points"] == drawn["periods"]
        for background in ["rgb(255, 255, 255)", *drawn["fills"]]:
            assert _contrast(edge["stroke"], background) >= 3, (edge, background)
