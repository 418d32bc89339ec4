"""The cards' breakdowns in real headless Chromium: the summary's revenue by financial year
(each year's weeks in the plan, part or whole, budget, net cost and unspent, as the summary
table gives them); where a config gives DFG capital per
financial year, the capital card's table of each district's capital, spend, what is left and
works per year; where a plan has priority classes, the waits card's table of each class's
average wait and longest week (the average over both classes hid standard reablement cases
waiting 195 days while it read 42). A plan without either shows its cards as before, and axe
finds nothing serious on either table."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated, open_with_key
from tests.api.test_dashboard import _shown_number, _wait_row
from tests.api.test_dashboard_accessibility import _harmful_violations
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402

WAITING_CASES = 1e-6  # optimise/long_waits.py's round-off


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


def _backlog_row(
    service: str, priority: str, period: int, waiting: float, served: float
) -> dict[str, Any]:
    """A backlog row in Rugby as a plan stores it, a week each period (wait null: none served)."""
    return {"service": service, "district": "rugby", "priority": priority, "period": period} | {
        "ds": f"2026-01-{5 + 7 * (period - 1):02d}",
        "backlog_cases": waiting,
        "cases_served": served,
        "avg_wait_days": waiting * 7 / served if served else None,
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


def _revenue_year_row(budget: str, year: str, periods: int, gbp: float, net: float) -> Any:
    """A revenue_by_year row as a plan stores it (a budget per period: no whole year's)."""
    return {"budget": budget, "year": year, "periods": periods} | {
        "staff_cost_gbp": net,
        "agency_cost_gbp": 0.0,
        "fee_income_gbp": 0.0,
        "charge_income_gbp": 0.0,
        "budget_gbp": gbp,
        "net_cost_gbp": net,
        "headroom_gbp": gbp - net,
        "year_budget_gbp": None,
    }


def _revenue_row(period: int, ds: str) -> dict[str, Any]:
    """A revenue row (its figures are not what these tests read)."""
    money = ("staff_cost_gbp", "agency_cost_gbp", "fee_income_gbp", "charge_income_gbp")
    return {"period": period, "ds": ds} | dict.fromkeys(
        (*money, "budget_gbp", "net_cost_gbp", "headroom_gbp"), 0.0
    )


def _served_years(server: LiveServer, key: str) -> dict[str, tuple[int, int | None]]:
    """Each financial year of the latest plan's revenue_by_year rows as GET /v1/plans/latest
    serves them: year -> (the plan's periods in it, the whole year's `year_periods`)."""
    plan = httpx.get(f"{server.url}/v1/plans/latest", headers=key_header(key), timeout=30)
    assert plan.status_code == 200, plan.text
    rows = plan.json()["result"]["revenue_by_year"]
    return {r["year"]: (r["periods"], r["year_periods"]) for r in rows}


def _shown_years(browser: Any) -> dict[str, str]:
    """Each year's heading and periods cell in the revenue table, as shown: year -> `2 of 52
    (part)` (its periods' row is the first, named by the plan's period word)."""
    heads = browser.find_elements(By.CSS_SELECTOR, "#revenue-year-table thead th")
    years = [th.text for th in heads][1:]
    periods = _rows(browser, "revenue-year-table")[0][1:]
    shown = {}
    for head, cell in zip(years, periods, strict=True):
        year, _, part = head.partition(" ")
        shown[year] = f"{cell} {part}".strip()
    return shown


def _as_served(served: dict[str, tuple[int, int | None]]) -> dict[str, str]:
    """What the page should show of each year served: `2 of 52 (part)`, or the plan's periods
    alone where the whole year's are not known."""
    return {
        year: str(periods)
        if whole is None
        else f"{periods} of {whole} ({'part' if periods < whole else 'whole'})"
        for year, (periods, whole) in served.items()
    }


def test_revenue_by_financial_year_shows_each_years_budget_net_cost_and_part(
    browser: Any, stored: Any
) -> None:
    """Three weeks from Monday 23 March 2026, two budgets: two of 2025-26's last weeks and
    2026-27's first, each year's figures every budget's summed here by hand, and each year
    said to be part of one, as the summary's part_year[...] says."""
    server, key, store = stored
    weeks = ["2026-03-23", "2026-03-30", "2026-04-06"]
    revenue = [_revenue_row(i + 1, ds) for i, ds in enumerate(weeks)]
    years = [
        _revenue_year_row("pooled", "2025-26", 2, 20000.0, 15000.0),
        _revenue_year_row("pooled", "2026-27", 1, 10000.0, 10500.0),
        _revenue_year_row("north", "2025-26", 2, 4000.0, 3000.0),
        _revenue_year_row("north", "2026-27", 1, 2000.0, 1000.0),
    ]
    store(_result(revenue=revenue, revenue_by_year=years, first_ds=weeks[0], periods=3))
    wait = open_with_key(browser, server, key)
    table = wait.until(ec.presence_of_element_located((By.ID, "revenue-year-table")))
    # a column a year (few years: the summary's card is narrow), a row a figure
    heads = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert heads == ["financial year", "2025-26 (part)", "2026-27 (part)"]
    shown = {r[0]: r[1:] for r in _rows(browser, "revenue-year-table")}
    assert shown["weeks"] == ["2 of 52", "1 of 52"]
    # the whole years' weeks as the API serves them (year_periods), not reckoned by the page
    served = _served_years(server, key)
    assert served == {"2025-26": (2, 52), "2026-27": (1, 52)}
    assert _shown_years(browser) == _as_served(served)
    for column, label in (
        ("budget_gbp", "budget"),
        ("net_cost_gbp", "net cost"),
    ):
        sums = [sum(r[column] for r in years if r["year"] == y) for y in ("2025-26", "2026-27")]
        assert shown[label] == [f"{v:,.0f}" for v in sums], label
    assert shown["unspent"] == ["6,000", "500"]  # 24,000 - 18,000; 12,000 - 11,500
    # as the summary says: the page and the pack agree
    summary = httpx.get(
        f"{server.url}/v1/plans/latest/summary", headers=key_header(key), timeout=30
    ).json()
    figures = {r["figure"]: r["value"] for r in summary}
    assert figures["part_year[2025-26]"] is True and figures["part_year[2026-27]"] is True
    assert figures["net_revenue_cost_gbp[2026-27]"] == 11500.0
    assert figures["unspent_budget_gbp[2026-27]"] == 500.0
    assert "financial year (1 April to 31 March)" in table.find_element(By.TAG_NAME, "caption").text
    assert browser.find_element(By.ID, "revenue-year-heading").text == "Revenue by financial year"
    assert _harmful_violations(browser) == []


def test_three_years_of_a_county_budget_fit_the_summary_card_on_a_desktop(
    browser: Any, stored: Any
) -> None:
    """A plan over three financial years, with a county's budgets in the millions: every year
    stays in view in the summary card beside the hours (its narrowest, from about 1400 px), no
    sideways scroll (with each year's part or whole in its cells and long row labels, the
    later years were cut off at 1400 and 1920 px)."""
    server, key, store = stored
    first = date(2026, 11, 23)
    weeks = [(first + timedelta(days=7 * i)).isoformat() for i in range(80)]
    years = [
        _revenue_year_row("pooled", "2026-27", 19, 12_345_678.0, 12_345_678.0),
        _revenue_year_row("pooled", "2027-28", 52, 48_765_432.0, 48_765_432.0),
        _revenue_year_row("pooled", "2028-29", 9, 8_765_432.0, 8_765_432.0),
    ]
    revenue = [_revenue_row(i + 1, ds) for i, ds in enumerate(weeks)]
    store(_result(revenue=revenue, revenue_by_year=years, first_ds=weeks[0], periods=80))
    size = browser.get_window_size()
    try:
        for width in (1440, 1920):
            browser.set_window_size(width, 900)
            open_with_key(browser, server, key).until(
                ec.presence_of_element_located((By.ID, "revenue-year-table"))
            )
            box = browser.find_element(By.CSS_SELECTOR, "#summary .wide:has(#revenue-year-table)")
            widths = browser.execute_script(
                "return [arguments[0].scrollWidth, arguments[0].clientWidth]", box
            )
            assert widths[0] <= widths[1], (width, widths)
    finally:
        browser.set_window_size(size["width"], size["height"])


def test_a_whole_year_reads_as_one(browser: Any, stored: Any) -> None:
    """53 weeks from Monday 30 March 2026: its first week is 2025-26's last, the other 52 the
    whole of 2026-27."""
    server, key, store = stored
    first = date(2026, 3, 30)
    weeks = [(first + timedelta(days=7 * i)).isoformat() for i in range(53)]
    revenue = [_revenue_row(i + 1, ds) for i, ds in enumerate(weeks)]
    years = [
        _revenue_year_row("pooled", "2025-26", 1, 100.0, 50.0),
        _revenue_year_row("pooled", "2026-27", 52, 5200.0, 5000.0),
    ]
    store(_result(revenue=revenue, revenue_by_year=years, first_ds=weeks[0], periods=53))
    open_with_key(browser, server, key).until(
        ec.presence_of_element_located((By.ID, "revenue-year-table"))
    )
    shown = {r[0]: r[1:] for r in _rows(browser, "revenue-year-table")}
    assert shown["weeks"] == ["1 of 52", "52 of 52"]
    heads = browser.find_elements(By.CSS_SELECTOR, "#revenue-year-table thead th")
    assert [th.text for th in heads] == ["financial year", "2025-26 (part)", "2026-27 (whole)"]
    served = _served_years(server, key)
    assert served == {"2025-26": (1, 52), "2026-27": (52, 52)}
    assert _shown_years(browser) == _as_served(served)
    summary = httpx.get(
        f"{server.url}/v1/plans/latest/summary", headers=key_header(key), timeout=30
    ).json()
    figures = {r["figure"]: r["value"] for r in summary}
    assert figures["part_year[2025-26]"] is True and figures["part_year[2026-27]"] is False


def test_a_plan_stored_before_its_horizon_shows_the_whole_years_the_api_serves(
    browser: Any, stored: Any
) -> None:
    """Three calendar months from February 2026, stored before a plan gave its period_days:
    the API reads months from the revenue rows' dates (12 to a year, as the summary's
    part_year counts them) and the page shows its count; reckoned in the page, a plan without
    period_days was taken as weekly, and its years read `2 of 52`."""
    server, key, store = stored
    months = ["2026-02-01", "2026-03-01", "2026-04-01"]
    revenue = [_revenue_row(i + 1, ds) for i, ds in enumerate(months)]
    years = [
        _revenue_year_row("pooled", "2025-26", 2, 200.0, 100.0),
        _revenue_year_row("pooled", "2026-27", 1, 100.0, 50.0),
    ]
    result = _result(revenue=revenue, revenue_by_year=years)
    del result["period_days"]
    store(result)
    open_with_key(browser, server, key).until(
        ec.presence_of_element_located((By.ID, "revenue-year-table"))
    )
    served = _served_years(server, key)
    assert served == {"2025-26": (2, 12), "2026-27": (1, 12)}
    assert _shown_years(browser) == {"2025-26": "2 of 12 (part)", "2026-27": "1 of 12 (part)"}
    summary = httpx.get(
        f"{server.url}/v1/plans/latest/summary", headers=key_header(key), timeout=30
    ).json()
    figures = {r["figure"]: r["value"] for r in summary}
    assert figures["part_year[2025-26]"] is True and figures["part_year[2026-27]"] is True


def test_a_year_whose_whole_is_not_served_says_no_part_or_whole(browser: Any, stored: Any) -> None:
    """A plan that does not say its grid (no revenue rows, no horizon): the API serves
    year_periods null, and the page shows the plan's periods alone, as the summary's
    part_year is null."""
    server, key, store = stored
    result = _result(revenue_by_year=[_revenue_year_row("pooled", "2026-27", 3, 300.0, 100.0)])
    del result["period_days"]
    store(result)
    open_with_key(browser, server, key).until(
        ec.presence_of_element_located((By.ID, "revenue-year-table"))
    )
    assert _served_years(server, key) == {"2026-27": (3, None)}
    assert _shown_years(browser) == {"2026-27": "3"}


def test_waits_by_priority_class_show_each_class_average_and_longest_week(
    browser: Any, stored: Any
) -> None:
    server, key, store = stored
    backlog = [
        # standard: 14 days in week 1, none waiting in week 2 nor 3; over the plan 10 x 7 / 15
        _backlog_row("reablement", "standard", 1, 10.0, 5.0),
        _backlog_row("reablement", "standard", 2, 0.0, 10.0),
        _backlog_row("reablement", "standard", 3, 0.0, 0.0),
        # urgent: none served in week 1, whose queue week 2 serves (0.7 days), and in week 3,
        # the last, a wait without end; over the plan 7 x 7 / 10
        _backlog_row("reablement", "urgent", 1, 2.0, 0.0),
        _backlog_row("reablement", "urgent", 2, 1.0, 10.0),
        _backlog_row("reablement", "urgent", 3, 4.0, 0.0),
        # works have one class: not in the classes' table
        _backlog_row("dfg_works", "standard", 1, 3.0, 1.0),
    ]
    waits = [_wait_row("reablement", "rugby", 4.0), _wait_row("dfg_works", "rugby", 21.0)]
    store(_result(backlog=backlog, district_waits=waits))
    wait = open_with_key(browser, server, key)
    wait.until(ec.presence_of_element_located((By.ID, "class-waits-table")))
    assert _rows(browser, "class-waits-table", "thead") == [["district", "priority", "reablement"]]
    assert _rows(browser, "class-waits-table") == [
        ["Rugby", "urgent", "4.9 (longest 0.7; without end in 1 week)"],
        ["standard", "4.7 (longest 14.0)"],
    ]
    caption = browser.find_element(By.CSS_SELECTOR, "#waits-table caption").text
    assert caption.endswith("over every priority class (each class's is below)")
    assert browser.find_element(By.ID, "class-waits-heading").text == "By priority class"
    assert _harmful_violations(browser) == []

    # a plan with one class (every backlog row standard) shows the waits as before
    one_class = [r for r in backlog if r["priority"] == "standard"]
    store(_result(backlog=one_class, district_waits=waits))
    wait = open_with_key(browser, server, key)
    wait.until(ec.presence_of_element_located((By.ID, "waits-table")))
    caption = browser.find_element(By.CSS_SELECTOR, "#waits-table caption").text
    assert caption == "Average wait in days as planned (this plan was not simulated)"
    assert browser.find_elements(By.CSS_SELECTOR, "#class-waits-table, #class-waits-heading") == []


def _expected_classes(result: dict[str, Any], names: dict[str, str]) -> list[list[str]]:
    """The classes' table the page should show for a real plan: per district (by name) and class
    (urgent first), per service with more than one class, the average wait over the plan, the
    longest week and the weeks whose cases wait without end (none served then or later)."""
    by_cell: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
    for b in sorted(result["backlog"], key=lambda b: b["period"]):
        by_cell[b["service"], b["district"], b["priority"]].append(b)
    cells: dict[tuple[str, str, str], tuple[float, float, float, int]] = {}
    for key, rows in by_cell.items():
        served = [i for i, b in enumerate(rows) if b["avg_wait_days"] is not None]
        last = max(served, default=-1)
        cells[key] = (
            sum(b["backlog_cases"] for b in rows) * result["period_days"],
            sum(b["cases_served"] for b in rows),
            max((rows[i]["avg_wait_days"] for i in served), default=0.0),
            sum(1 for b in rows[last + 1 :] if b["backlog_cases"] > WAITING_CASES),
        )
    order = list(dict.fromkeys(w["service"] for w in result["district_waits"]))
    classes = {s: {k for (s2, _d, k) in cells if s2 == s} for s in order}
    services = [s for s in order if len(classes[s]) > 1]

    def cell(waited: float, served: float, longest: float, endless: int) -> str:
        none = f"; without end in {endless} week{'' if endless == 1 else 's'}" if endless else ""
        return f"{_shown_number(waited / served, 1)} (longest {_shown_number(longest, 1)}{none})"

    rows = []
    for district in sorted({d for (_s, d, _k) in cells}, key=lambda d: names[d]):
        for i, kind in enumerate(["urgent", "standard"]):
            row = [kind, *(cell(*cells[s, district, kind]) for s in services)]
            rows.append([names[district], *row] if i == 0 else row)
    return rows


def test_the_demo_plans_standard_cases_wait_far_longer_than_its_averages_show(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    plan = httpx.get(f"{demo_server.url}/v1/plans/latest", headers=key_header(key), timeout=60)
    result = plan.raise_for_status().json()["result"]
    config = httpx.get(
        f"{demo_server.url}/v1/configs/{plan.json()['config_id']}", headers=key_header(key)
    ).json()
    names = {d["id"]: d["name"] for d in config["body"]["districts"]}
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "class-waits-table")))
    shown = _rows(browser, "class-waits-table")
    assert shown == _expected_classes(result, names)
    # each district's classes add up to the waits table's average over both (days waited over
    # cases served), so the two tables are the same plan's figures
    for w in result["district_waits"]:
        rows = [
            b
            for b in result["backlog"]
            if (b["service"], b["district"]) == (w["service"], w["district"])
        ]
        waited = sum(b["backlog_cases"] for b in rows) * result["period_days"]
        assert waited / sum(b["cases_served"] for b in rows) == pytest.approx(w["avg_wait_days"])
    # what the average hid: standard reablement cases wait longer than both classes' average
    for w in [w for w in result["district_waits"] if w["service"] == "reablement"]:
        rows = [b for b in result["backlog"] if b["district"] == w["district"]]
        standard = [b for b in rows if (b["service"], b["priority"]) == ("reablement", "standard")]
        waited = sum(b["backlog_cases"] for b in standard) * result["period_days"]
        assert waited / sum(b["cases_served"] for b in standard) > 1.2 * w["avg_wait_days"]
    # the demo config gives capital over the horizon: no years' table
    assert browser.find_elements(By.ID, "capital-year-table") == []
