"""The cards' breakdowns in real headless Chromium: where a config gives DFG capital per
financial year, the capital card's table of each district's capital, spend, what is left and
works per year. A plan with capital over the horizon shows its card as before, and axe finds
nothing serious on the table."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated, open_with_key
from tests.api.test_dashboard_accessibility import _harmful_violations
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402


def _rows(browser: Any, table: str, part: str = "tbody") -> list[list[str]]:
    """A table's rows of `part` (tbody or tfoot), cells as shown, read in one step."""
    rows: list[list[str]] = browser.execute_script(
        f"return [...document.querySelectorAll('#{table} {part} tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent.replace(/\\s+/g, ' ').trim()))"
    )
    return rows


def _year_row(district: str, year: str, periods: int, capital: float | None, spent: float) -> Any:
    """A capital_by_year row as a plan stores it (`capital` None: capital_gbp over the horizon)."""
    left = None if capital is None else capital - spent
    return {"district": district, "year": year, "periods": periods} | {
        "works_completed": spent / 7000,
        "capital_spent_gbp": spent,
        "capital_available_gbp": capital,
        "capital_left_gbp": left,
    }


def _result(**tables: Any) -> dict[str, Any]:
    """A stored plan's result: a fortnight, no hours, the given tables."""
    return {
        "status": "optimal",
        "message": "Optimal plan",
        "solver": "highs",
        "solve_seconds": 0.1,
        "period_days": 7,
        "warnings": [],
        "revenue": [],
        "demand": [],
        "hours": [],
        "shadow_prices": [],
        "total_dtoc_days": 0.0,
        "simulation": [],
        "baselines": [],
    } | tables


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server and a viewer key, and `store(result)`, which stores a plan as the latest."""
    settings = keyed_settings(tmp_path_factory.mktemp("years"), "years.db")
    _engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    with transaction(factory) as session:
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
        key = api_keys.create_key(session, "years-viewer", Role.VIEWER).secret

    def store(result: dict[str, Any]) -> None:
        with transaction(factory) as session:
            run = repository.start_run(session, "plan", "api", "test")
            repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, result)

    with LiveServer(create_app(settings)) as server:
        yield server, key, store


def test_capital_by_financial_year_shows_each_years_capital_spend_left_and_works(
    browser: Any, stored: Any
) -> None:
    server, key, store = stored
    years = [
        _year_row("warwick", "2027-28", 33, 70000.0, 63000.0),
        _year_row("rugby", "2026-27", 19, 14000.0, 14000.0),
        _year_row("warwick", "2026-27", 19, 21000.0, 21000.0),
        _year_row("rugby", "2027-28", 33, 35000.0, 28000.0),
    ]
    totals = [
        {"district": "rugby", "capital_spent_gbp": 42000.0, "capital_available_gbp": 49000.0},
        {"district": "warwick", "capital_spent_gbp": 84000.0, "capital_available_gbp": 91000.0},
    ]
    store(_result(capital_total=totals, capital_by_year=years))
    wait = open_with_key(browser, server, key)
    table = wait.until(ec.presence_of_element_located((By.ID, "capital-year-table")))
    # districts by the config's names, years in order; a district's name heads its years
    assert _rows(browser, "capital-year-table") == [
        ["Rugby", "2026-27 (19 weeks)", "14,000", "14,000", "0", "2.0"],
        ["2027-28 (33 weeks)", "35,000", "28,000", "7,000", "4.0"],
        ["Warwick", "2026-27 (19 weeks)", "21,000", "21,000", "0", "3.0"],
        ["2027-28 (33 weeks)", "70,000", "63,000", "7,000", "9.0"],
    ]
    assert _rows(browser, "capital-year-table", "tfoot") == [
        ["all districts", "2026-27 (19 weeks)", "35,000", "35,000", "0", "5.0"],
        ["2027-28 (33 weeks)", "105,000", "91,000", "14,000", "13.0"],
    ]
    heads = browser.execute_script(
        "return [...document.querySelectorAll('#capital-year-table th')].map((th) =>"
        " [th.textContent.replace(/\\s+/g, ' ').trim(), th.scope])"
    )
    assert heads[:6] == [
        ["district", "col"],
        ["financial year", "col"],
        ["capital (GBP)", "col"],
        ["spent (GBP)", "col"],
        ["left (GBP)", "col"],
        ["works completed", "col"],
    ]
    assert ["Rugby", "rowgroup"] in heads and ["2026-27 (19 weeks)", "row"] in heads
    caption = table.find_element(By.TAG_NAME, "caption").text
    assert "financial year (1 April to 31 March)" in caption and "not carried" in caption
    assert browser.find_element(By.ID, "capital-year-heading").text == "By financial year"
    assert _harmful_violations(browser) == []


def test_capital_over_the_horizon_adds_no_years_table(browser: Any, stored: Any) -> None:
    # capital_gbp: the plan's years carry spend, their capital null; the card is as it was
    server, key, store = stored
    years = [_year_row("rugby", "2026-27", 19, None, 14000.0)]
    totals = [{"district": "rugby", "capital_spent_gbp": 14000.0, "capital_available_gbp": 2e4}]
    store(_result(capital_total=totals, capital_by_year=years))
    wait = open_with_key(browser, server, key)
    wait.until(ec.presence_of_element_located((By.ID, "capital-table")))
    assert _rows(browser, "capital-table")[0][:3] == ["Rugby", "20,000", "14,000"]
    assert browser.find_elements(By.CSS_SELECTOR, "#capital-year-table, #capital h3") == []
