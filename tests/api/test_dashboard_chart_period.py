"""The forecast chart names the period a point counts, from the series' own step: a monthly
series (delayed days, admissions) reads "a month", not "a week", in real headless Chromium."""

from __future__ import annotations

from typing import Any

import pytest

from homeward.roles import Role
from tests.api.conftest import open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402

SCALE_LABELS = "text:not(.axis-dates):not(.axis-tick)"


def _monthly(series_id: str) -> dict[str, Any]:
    points = [
        {"ds": f"2019-{m:02d}-01", "mean": 2000.0 + m, "lo-80": 1800.0, "hi-80": 2200.0,
         "lo-95": 1700.0, "hi-95": 2300.0}
        for m in range(1, 13)
    ]  # fmt: skip
    return {"series_id": series_id, "model": "mean_best2", "points": points,
            "backtest": [], "level_shifts": []}  # fmt: skip


@pytest.mark.parametrize(
    ("starts", "said"),
    [
        (["2019-01-01", "2019-02-01"], "a month"),
        (["2019-02-01", "2019-03-01"], "a month"),  # February's 28 days
        (["2026-01-05", "2026-01-12"], "a week"),
        (["2026-01-05"], "a period"),
    ],
)
def test_the_period_a_point_counts_comes_from_the_series_step(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str], starts: list[str], said: str
) -> None:
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    points = [{"ds": ds} for ds in starts]
    assert browser.execute_script("return perPeriod(arguments[0])", points) == said


def test_a_monthly_series_chart_reads_a_month(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.execute_script(
        "renderChart(arguments[0], [], 'observed')", _monthly("dtoc_days/warwickshire")
    )
    svg = browser.find_element(By.CSS_SELECTOR, "#chart svg")
    # what a point counts, then the scale's top and bottom (not the date span or month ticks)
    scale = [t.text for t in svg.find_elements(By.CSS_SELECTOR, SCALE_LABELS)]
    assert scale == ["per month", "2,300", "1,700"]
    assert svg.find_element(By.CSS_SELECTOR, ".axis-dates").text == "2019-01-01 to 2019-12-01"
    ticks = [t.get_attribute("data-date") for t in svg.find_elements(By.CSS_SELECTOR, ".axis-tick")]
    assert ticks and all("2019-01-01" <= str(d) <= "2019-12-01" for d in ticks)
    assert (svg.get_attribute("aria-label") or "").startswith(
        "forecast of dtoc_days/warwickshire, a month, on a scale"
    )
