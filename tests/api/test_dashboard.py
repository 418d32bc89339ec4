"""The web dashboard in real headless Chromium against the real server (API keys required):
the key field, plan, its warnings and the demand it planned for, forecast, what-if (which never
becomes the plan the page shows) and what it changes against the plan shown, and a fee sweep:
checked in the page, polled to its end, its table read against GET /v1/runs/{id}."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from dataclasses import replace
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.demo_series import ADMISSIONS_SERIES, generate_demo_observations
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.roles import Role
from homeward.storage import transaction
from optimise.inputs import PlanInputs
from tests.api.conftest import (
    HORIZON_WEEKS,
    key_header,
    keyed_settings,
    migrated,
    open_with_key,
)
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def winter_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveServer, str]]:
    """A server whose plan raises winter weeks: the demo's referrals from 2022 and its
    emergency-admissions series, so the demo config's winter section has a pressure index (the
    shared demo database has no admissions, so its plan is made without the uplift and warns).
    Yields the server and a viewer key."""
    settings = keyed_settings(
        tmp_path_factory.mktemp("winter"),
        "winter.db",
        forecast_horizon_weeks=HORIZON_WEEKS,
        forecast_backtest_folds=2,
        forecast_n_jobs=2,
        forecast_models=("seasonal_naive", "ses"),
    )
    _engine, factory = migrated(settings)
    demo = generate_demo_observations()
    referrals = demo["unique_id"].str.startswith("referrals/") & (demo["ds"] >= "2022-01-03")
    frame = demo[referrals | (demo["unique_id"] == ADMISSIONS_SERIES)].reset_index(drop=True)
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.store_observations(session, frame, "synthetic demo", observations_hash(frame))
        repository.save_config(session, body, planning.config_hash(body))
    run_pipeline(factory, settings, trigger="demo")
    with transaction(factory) as session:
        key = api_keys.create_key(session, "test-winter-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        yield server, key


def _get_plan(server: LiveServer, key: str, plan_id: str = "latest") -> dict[str, Any]:
    """GET /v1/plans/{plan_id}, as a BI tool would read it."""
    response = httpx.get(f"{server.url}/v1/plans/{plan_id}", headers=key_header(key), timeout=60)
    plan: dict[str, Any] = response.raise_for_status().json()
    return plan


def _district_names(server: LiveServer, key: str, plan: dict[str, Any]) -> dict[str, str]:
    """The plan's districts by id, named as its config names them (GET /v1/configs/{id})."""
    url = f"{server.url}/v1/configs/{plan['config_id']}"
    config = httpx.get(url, headers=key_header(key), timeout=60).raise_for_status().json()
    return {d["id"]: d["name"] for d in config["body"]["districts"]}


def _demand_by_week(plan: dict[str, Any], service: str | None = None) -> list[list[str]]:
    """The demand table the page should show: cases summed over districts for each week."""
    weeks: dict[str, list[float]] = {}
    for row in plan["result"]["demand"]:
        if service is None or row["service"] == service:
            week = weeks.setdefault(row["ds"][:10], [0.0, 0.0])
            week[0] += row["forecast_cases"]
            week[1] += row["planned_cases"]
    return [[ds, f"{f:,.1f}", f"{p:,.1f}"] for ds, (f, p) in sorted(weeks.items())]


def _demand_table(browser: webdriver.Chrome) -> list[list[str]]:
    """The page's demand table, cells as shown; read in one step (the view may redraw)."""
    rows: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#demand-table tbody tr')]"
        ".map((tr) => [...tr.cells].map((td) => td.textContent))"
    )
    return rows


def test_the_plan_shows_its_warnings_and_that_demand_was_planned_at_the_forecast(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    plan = _get_plan(demo_server, role_keys[Role.VIEWER])
    # the fixture's database has no admissions series: its plan says winter was planned without it
    assert any("planned without hospital pressure" in w for w in plan["result"]["warnings"])
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER])
    items = browser.find_elements(By.CSS_SELECTOR, "#summary #plan-warnings li")
    shown = browser.find_elements(By.CSS_SELECTOR, "#plan-warnings li .warning-text")
    assert [w.text for w in shown] == plan["result"]["warnings"]
    heading = browser.find_element(By.CSS_SELECTOR, "#plan-warnings h3").text
    assert heading == (f"{len(items)} warnings" if len(items) > 1 else "Warning")
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    headers = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#demand-table th")]
    assert headers[:3] == ["week starting", "forecast cases", "planned cases"]
    shown = _demand_table(browser)
    assert [r[:3] for r in shown] == _demand_by_week(plan) and len(shown) == HORIZON_WEEKS
    assert all(r[1] == r[2] and r[3] == "0%" for r in shown)
    caption = browser.find_element(By.ID, "demand-caption").text
    assert caption == "Demand is planned at the forecast in every week."
    assert browser.find_elements(By.CSS_SELECTOR, "#demand svg polyline.planned")
    # nothing the page asked for failed (a missing favicon used to log a 404 on every load),
    # apart from the 401s of the first load, before the key was in the tab
    severe = [e["message"] for e in browser.get_log("browser") if e["level"] == "SEVERE"]
    assert [m for m in severe if "401 (Unauthorized)" not in m] == []


def test_winter_weeks_show_planned_above_the_forecast_by_the_pressure_index(
    browser: webdriver.Chrome, winter_server: tuple[LiveServer, str]
) -> None:
    server, key = winter_server
    plan = _get_plan(server, key)
    wait = open_with_key(browser, server, key)
    shown_warnings = [
        w.text for w in browser.find_elements(By.CSS_SELECTOR, "#plan-warnings .warning-text")
    ]
    assert shown_warnings == plan["result"]["warnings"]  # none shown when there are none
    assert not any("hospital pressure" in w for w in shown_warnings)
    wait.until(ec.text_to_be_present_in_element((By.ID, "demand-caption"), "Winter weeks"))
    caption = browser.find_element(By.ID, "demand-caption").text
    assert "planned above the forecast by the hospital-pressure index" in caption
    # the index raises each district's normal week, so holiday dips rise most: said, not hidden
    assert "normal week, its mean forecast over the year ahead, raised by the index" in caption
    assert ADMISSIONS_SERIES in caption
    shown = _demand_table(browser)
    assert [r[:3] for r in shown] == _demand_by_week(plan)
    raised = [r for r in shown if r[3] != "0%"]
    assert raised and all(re.fullmatch(r"\+\d+\.\d%", r[3]) for r in raised)
    services = Select(browser.find_element(By.ID, "demand-service"))
    offered = dict.fromkeys(row["service"] for row in plan["result"]["demand"])
    assert [o.text for o in services.options] == [
        "all services",
        *(_service_name(s) for s in offered),
    ]
    services.select_by_visible_text("reablement")
    assert [r[:3] for r in _demand_table(browser)] == _demand_by_week(plan, "reablement")


def _use_key(browser: webdriver.Chrome, key: str) -> None:
    field = browser.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()


def test_dashboard_asks_for_a_key_then_shows_the_plan_and_a_forecast(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    browser.get(demo_server.url + "/")
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait = WebDriverWait(browser, 30)
    error = wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert "needs an API key" in error.text and "Authorization: Bearer <key>" in error.text
    _use_key(browser, role_keys[Role.VIEWER])
    status = wait.until(ec.presence_of_element_located((By.ID, "plan-status")))
    assert status.text == "optimal"
    rows = browser.find_elements(By.CSS_SELECTOR, "#hours-table tbody tr")
    # each row is headed by its district, by the name the config gives it (not its id), so a
    # screen reader names it with every figure
    headers = [r.find_element(By.CSS_SELECTOR, "th[scope='row']") for r in rows]
    assert {th.text for th in headers} >= {"Rugby", "Warwick", "North Warwickshire"}
    caption = wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    assert (
        "referrals/" in caption.text and "80% (edged dotted) and 95% (edged dashed)" in caption.text
    )
    assert browser.find_elements(By.CSS_SELECTOR, "#chart svg polygon")
    accuracy = browser.find_element(By.ID, "chart-accuracy").text
    assert "backtest MASE" in accuracy and "80% interval held" in accuracy
    assert "level shift" in accuracy  # found or not, the page says which
    # every stored series can be chosen (the page lists all of them, not one prefix)
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#series option")]
    assert {"referrals/ot/rugby", "referrals/hao/warwick"} <= set(options)
    Select(browser.find_element(By.ID, "series")).select_by_visible_text("referrals/hao/warwick")
    wait.until(ec.text_to_be_present_in_element((By.ID, "chart-caption"), "referrals/hao/warwick"))
    # the chart names the dates it spans: the first observed week to the last forecast week
    key = role_keys[Role.VIEWER]
    seen = httpx.get(  # the page shows the last two years of history
        f"{demo_server.url}/v1/observations/referrals/hao/warwick?last=104",
        headers=key_header(key),
    ).json()
    ahead = httpx.get(
        f"{demo_server.url}/v1/forecasts/referrals/hao/warwick", headers=key_header(key)
    ).json()
    first = min(str(o["ds"])[:10] for o in seen)
    last = max(str(p["ds"])[:10] for p in ahead["points"])
    span = browser.find_element(By.CSS_SELECTOR, "#chart svg .axis-dates").text
    assert span == f"{first} to {last}"
    assert (
        browser.execute_script("return sessionStorage.getItem('homeward-api-key')")
        == (role_keys[Role.VIEWER])
    )
    browser.refresh()  # the key is kept for the tab
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))


def test_fee_what_if_needs_a_finance_key_and_replans_from_the_page(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    browser.get(demo_server.url + "/")
    wait = WebDriverWait(browser, 60)
    _use_key(browser, role_keys[Role.VIEWER])
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    # a viewer key is known as one before anything is asked: the form is there but disabled,
    # saying which keys may (tests/api/test_dashboard_key_role.py has the rest)
    note = wait.until(ec.visibility_of_element_located((By.ID, "plan-role-note")))
    assert "planner, finance or admin" in note.text
    assert not browser.find_element(By.CSS_SELECTOR, "#fee-form button").is_enabled()
    _use_key(browser, role_keys[Role.FINANCE])
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#fee-form button")))
    latest = wait.until(_shown_plan_id)
    _what_if(browser, "15")
    wait.until(ec.text_to_be_present_in_element((By.ID, "whatif-result"), "weighted waiting days"))
    result = browser.find_element(By.ID, "whatif-result").text
    assert "optimal" in result and result.startswith("what-if #")
    _assert_changes_shown(browser, demo_server, role_keys[Role.FINANCE], latest)
    _assert_services_shown(browser, demo_server, role_keys[Role.FINANCE], latest)
    _assert_new_warnings_shown(browser, demo_server, role_keys[Role.FINANCE], latest)
    _assert_config_changes_shown(browser, demo_server, role_keys[Role.FINANCE], "0.15")
    _assert_not_comparable_shown(browser)
    browser.refresh()  # the page still shows the real latest plan, not the what-if
    assert wait.until(_shown_plan_id) == latest
    assert f"#{latest}:" not in result


# The page's GET /v1/configs/active answered as if the active config gave the DFG fee by
# financial year (fees.by_year, no dfg_fee_rate), and each POST it sends counted
_FEES_BY_YEAR = """
const f = window.fetch;
window.posted = [];
window.fetch = async (url, opts = {}) => {
  if (opts.method === "POST") window.posted.push(String(url));
  const answer = await f(url, opts);
  if (!String(url).endsWith("/v1/configs/active") || !answer.ok) return answer;
  const active = await answer.json();
  delete active.body.fees.dfg_fee_rate;
  active.body.fees.by_year = {"2025-26": {dfg_fee_rate: 0.1}, "2026-27": {dfg_fee_rate: 0.12}};
  return new Response(JSON.stringify(active), { status: answer.status, headers: answer.headers });
};
"""


def test_an_active_config_with_fees_by_year_turns_the_fee_forms_off_and_says_why(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """With no one fee rate to start from or to set, the what-if and the sweep are off (a
    sweep of such a config is refused, 422), a note names fees.by_year and its years and says
    to send a what-if config instead, and a submit sends nothing; a config with one rate
    turns them on again."""
    browser.get(demo_server.url + "/")
    wait = WebDriverWait(browser, 60)
    browser.execute_script(_FEES_BY_YEAR)
    _use_key(browser, role_keys[Role.FINANCE])
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    note = wait.until(ec.visibility_of_element_located((By.ID, "fees-by-year-note")))
    assert "fees.by_year: 2025-26, 2026-27" in note.text
    assert "POST /v1/plans" in note.text
    for field in ("#fee", "#fee-form button", "#sweep-rates", "#sweep-form button"):
        assert not browser.find_element(By.CSS_SELECTOR, field).is_enabled(), field
    assert browser.find_element(By.ID, "fee").get_attribute("value") == ""
    assert not browser.find_element(By.ID, "plan-role-note").is_displayed()  # the key may plan
    browser.execute_script(
        "for (const id of ['fee-form', 'sweep-form']) document.getElementById(id).requestSubmit();"
    )
    assert browser.execute_script("return window.posted") == []
    browser.refresh()  # the real active config, one rate: the forms are on again
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#fee-form button")))
    assert browser.find_element(By.ID, "fee").get_attribute("value") == "10"
    assert browser.find_element(By.CSS_SELECTOR, "#sweep-form button").is_enabled()
    assert not browser.find_element(By.ID, "fees-by-year-note").is_displayed()


def _assert_new_warnings_shown(
    browser: webdriver.Chrome, server: LiveServer, key: str, current_id: str
) -> None:
    """The what-if's warnings are listed under its table, with its own figures; none, no list."""
    headline = browser.find_element(By.ID, "whatif-headline").text
    what_if_id = re.match(r"what-if #(\d+):", headline)
    assert what_if_id is not None and what_if_id.group(1) != current_id
    warnings = _get_plan(server, key, what_if_id.group(1))["result"]["warnings"]
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#whatif-warnings li")]
    assert shown == warnings


def _signed(x: float, digits: int) -> str:
    """A change as the page writes it: "+1,234", "-3.2", a plain "0" when it rounds to nothing."""
    text = f"{abs(x):,.{digits}f}"
    return text if not re.search("[1-9]", text) else ("+" if x > 0 else "-") + text


def _figures(plan: dict[str, Any]) -> dict[str, float]:
    revenue = plan["result"]["revenue"]
    return {
        "weighted waiting days": plan["objective_weighted_wait_days"],
        "fee income (GBP)": sum(r["fee_income_gbp"] for r in revenue),
        "charge income (GBP)": sum(r["charge_income_gbp"] for r in revenue),
        "staff cost (GBP)": sum(r["staff_cost_gbp"] for r in revenue),
        "agency cost (GBP)": sum(r["agency_cost_gbp"] for r in revenue),
        "staff and agency cost (GBP)": sum(
            r["staff_cost_gbp"] + r["agency_cost_gbp"] for r in revenue
        ),
        "revenue budget (GBP)": sum(r["budget_gbp"] for r in revenue),
        "net of fee and charge income (GBP)": sum(r["net_cost_gbp"] for r in revenue),
        "budget left unspent (GBP)": sum(r["headroom_gbp"] for r in revenue),
        "delayed days in hospital (DTOC)": plan["result"]["total_dtoc_days"],
        "delayed days in hospital, simulated": plan["result"]["simulated_dtoc_days"],
    }


def _assert_changes_shown(
    browser: webdriver.Chrome, server: LiveServer, key: str, current_id: str
) -> None:
    """The what-if's table of changes holds the what-if minus the current plan, signed, with
    units, and names the current plan it compares with."""
    headline = browser.find_element(By.ID, "whatif-headline").text
    what_if_id = re.match(r"what-if #(\d+):", headline)
    assert what_if_id is not None
    now = _figures(_get_plan(server, key, what_if_id.group(1)))
    then = _figures(_get_plan(server, key, current_id))
    table = browser.find_element(By.ID, "whatif-changes")
    assert f"current plan #{current_id} " in table.find_element(By.TAG_NAME, "caption").text
    headers = [th.text for th in table.find_elements(By.CSS_SELECTOR, "thead th")]
    assert headers == ["measure", "current plan", "what-if", "change"]
    shown = {
        tr.find_element(By.TAG_NAME, "th").text: tr.find_elements(By.TAG_NAME, "td")[-1].text
        for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")
    }
    wait_change = now["weighted waiting days"] - then["weighted waiting days"]
    percent = 100 * wait_change / then["weighted waiting days"]
    assert shown == {
        "weighted waiting days": f"{_signed(wait_change, 0)} days ({_signed(percent, 1)}%)",
        "fee income (GBP)": f"{_signed(now['fee income (GBP)'] - then['fee income (GBP)'], 0)} GBP",
        **{
            label: f"{_signed(now[label] - then[label], 0)} GBP"
            for label in (
                "charge income (GBP)",
                "staff cost (GBP)",
                "agency cost (GBP)",
                "staff and agency cost (GBP)",
                "revenue budget (GBP)",
                "net of fee and charge income (GBP)",
                "budget left unspent (GBP)",
            )
        },
        **{
            label: _signed(now[label] - then[label], 0) + " days"
            for label in ("delayed days in hospital (DTOC)", "delayed days in hospital, simulated")
        },
    }
    # a higher fee rate brings in more fee income: the sign says so
    assert shown["fee income (GBP)"].startswith("+")


def _by_service(plan: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """{service: (hours, net cost)} of a plan, its revenue_by_service rows summed here."""
    out: dict[str, tuple[float, float]] = {}
    for r in plan["result"]["revenue_by_service"]:
        hours, net = out.get(r["service"], (0.0, 0.0))
        paid = r["staff_cost_gbp"] + r["agency_cost_gbp"] - r["charge_income_gbp"]
        out[r["service"]] = (hours + r["staff_hours"] + r["agency_hours"], net + paid)
    return out


def _assert_services_shown(
    browser: webdriver.Chrome, server: LiveServer, key: str, current_id: str
) -> None:
    """Under the changes, each service's hours and net cost in the current plan and the
    what-if and the change, a row a service in the config's order."""
    headline = browser.find_element(By.ID, "whatif-headline").text
    what_if_id = re.match(r"what-if #(\d+):", headline)
    assert what_if_id is not None
    now = _by_service(_get_plan(server, key, what_if_id.group(1)))
    then = _by_service(_get_plan(server, key, current_id))
    active = httpx.get(f"{server.url}/v1/configs/active", headers=key_header(key)).json()
    order = [s["id"] for s in active["body"]["services"]]
    rows = browser.execute_script(
        "return [...document.querySelectorAll('#whatif-services tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent.trim()))"
    )
    expected = []
    for service in order:
        (hours, net), (hours_then, net_then) = now[service], then[service]
        expected.append(
            [
                f"{hours_then:,.0f}",
                f"{hours:,.0f}",
                _signed(hours - hours_then, 0),
                f"{net_then:,.0f}",
                f"{net:,.0f}",
                _signed(net - net_then, 0),
            ]
        )
    assert [r[1:] for r in rows] == expected
    assert len({r[0] for r in rows}) == len(order)  # a row a service, each named


def _assert_config_changes_shown(
    browser: webdriver.Chrome, server: LiveServer, key: str, rate: str
) -> None:
    """The fields the what-if changed, as the server's comparison lists them, under its table."""
    active = httpx.get(f"{server.url}/v1/configs/active", headers=key_header(key)).json()
    before = active["body"]["fees"]["dfg_fee_rate"]
    shown = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#whatif-config-changes li")]
    assert shown == [f"fees.dfg_fee_rate: {before!r} -> {rate}"]


# The server's answer to the next POST /v1/plans as a what-if over other periods than the
# current plan's gets it: no changes, and why (the dashboard's fee box cannot change the
# horizon; newer referrals moving the plans' start can)
_OTHER_PERIODS = """
const f = window.fetch, why = arguments[0];
window.fetch = async (url, opts = {}) => {
  const answer = await f(url, opts);
  if (opts.method !== "POST" || !String(url).endsWith("/v1/plans")) return answer;
  const plan = await answer.json();
  const c = plan.comparison;
  for (const k of Object.keys(c)) if (k.endsWith("_change")) c[k] = null;
  for (const r of c.by_service) r.hours_change = r.net_cost_gbp_change = null;
  c.not_comparable = why;
  return new Response(JSON.stringify(plan), { status: answer.status, headers: answer.headers });
};
"""


def _assert_not_comparable_shown(browser: webdriver.Chrome) -> None:
    """A comparison with no changes because the plans cover other periods says so, and its
    table shows no change and no current figure rather than figures of other weeks."""
    why = "plan 99 covers 26 periods of 7 days from 2026-01-05, plan 1 52 periods of 7 days"
    browser.execute_script(_OTHER_PERIODS, why)
    _what_if(browser, "15")
    shown = WebDriverWait(browser, 60).until(
        ec.presence_of_element_located((By.ID, "whatif-not-comparable"))
    )
    assert shown.text == f"No changes: {why}."
    for tr in browser.find_elements(By.CSS_SELECTOR, "#whatif-changes tbody tr"):
        then, now, change = (td.text for td in tr.find_elements(By.TAG_NAME, "td"))
        assert (then, change) == ("n/a", "n/a") and now != "n/a"
    # each service's figures in both plans are still shown, not their changes
    for tr in browser.find_elements(By.CSS_SELECTOR, "#whatif-services tbody tr"):
        cells = [td.text for td in tr.find_elements(By.TAG_NAME, "td")]
        assert [cells[2], cells[5]] == ["n/a", "n/a"] and "n/a" not in cells[:2] + cells[3:5]


def _shown_plan_id(browser: webdriver.Chrome) -> str | None:
    """The plan id the summary shows, read in one step: a load still under way may redraw the
    summary between finding an element and reading it."""
    shown: str | None = browser.execute_script(
        "return document.querySelector('#plan-id')?.textContent || null"
    )
    return shown


def _submit(browser: webdriver.Chrome, field_id: str, form_id: str, text: str) -> None:
    """Type `text` into a form's field, as a user would, and press its button."""
    field = browser.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, f"#{form_id} button").click()


def _what_if(browser: webdriver.Chrome, fee_percent: str) -> None:
    _submit(browser, "fee", "fee-form", fee_percent)


def test_an_area_total_is_offered_as_a_total_and_drawn_without_history(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    browser.get(demo_server.url + "/")
    key = role_keys[Role.VIEWER]
    browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
    browser.refresh()  # one load with the key, so nothing re-renders the chart behind the test
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#chart polyline.history")))
    totals = browser.find_elements(By.CSS_SELECTOR, "#series optgroup[label*='totals'] option")
    assert {"referrals_area/ot", "referrals_team/ot/north"} <= {o.text for o in totals}
    assert all(o.text.startswith(("referrals_area/", "referrals_team/")) for o in totals)
    Select(browser.find_element(By.ID, "series")).select_by_visible_text("referrals_area/ot")
    wait.until(ec.text_to_be_present_in_element((By.ID, "chart-caption"), "referrals_area/ot"))
    caption = browser.find_element(By.ID, "chart-caption").text
    assert (
        "sum of its districts' forecasts" in caption
        and "80% (edged dotted) and 95% (edged dashed)" in caption
    )
    assert "calibrated on the total's own backtest" in caption
    assert len(browser.find_elements(By.CSS_SELECTOR, "#chart svg polygon")) == 2
    assert browser.find_elements(By.CSS_SELECTOR, "#chart polyline.mean")
    assert not browser.find_elements(By.CSS_SELECTOR, "#chart polyline.history")
    accuracy = browser.find_element(By.ID, "chart-accuracy").text
    assert "backtest MASE" in accuracy and "80% interval held" in accuracy
    assert "districts' histories added up" in accuracy


MARKUP = '<img id="injected" src="x">'


def test_text_from_a_stored_config_is_shown_as_text_not_run(
    browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a district id written by a finance key into a config, reaching the plan's hours and
    # shadow-price sentences: the page must show it, never turn it into an element
    settings = keyed_settings(tmp_path_factory.mktemp("markup"), "markup.db")
    _engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        run = repository.start_run(session, "plan", "api", "test")
        result = {
            "status": "optimal",
            "message": f"Optimal plan; binding: capital ({MARKUP})",
            "solver": "highs",
            "solve_seconds": 0.1,
            "warnings": [],
            "revenue": [],
            "demand": [],
            "hours": [_hours_row(MARKUP, 10.0)],
            "shadow_prices": [_price_row(f"{MARKUP} capital is worth 1 day")],
            "total_dtoc_days": 0.0,
            "district_waits": [_wait_row(MARKUP, MARKUP, 2.0)],
            "simulation": [_sim_row(MARKUP, MARKUP, 2.0, 3.0)],
            "baselines": [_baseline_row(MARKUP, 5.0)],
        }
        repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, result)
        key = api_keys.create_key(session, "markup-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        wait = open_with_key(browser, server, key)
        wait.until(ec.text_to_be_present_in_element((By.ID, "hours-table"), MARKUP))
        assert browser.find_elements(By.ID, "injected") == []
        assert MARKUP in browser.find_element(By.ID, "shadow").text
        assert MARKUP in browser.find_element(By.ID, "summary").text
        assert MARKUP in browser.find_element(By.ID, "waits-table").text
        assert MARKUP in browser.find_element(By.ID, "baselines-table").text


def _hours_row(district: str, hours: float) -> dict[str, Any]:
    """An `hours` row as a plan stores it: OT in `district`, the first week."""
    return {"service": "ot", "district": district, "team": "north", "period": 1} | {
        "ds": "2026-01-05",
        "hours": hours,
        "cases_served": hours / 10,
    }


def _price_row(statement: str) -> dict[str, Any]:
    """A DFG capital shadow price as a plan stores it (no period: capital is for the horizon)."""
    return {"constraint": "capital", "index": "rugby", "dual": 1.0, "value": 1.0} | {
        "unit": "weighted waiting days per GBP 1,000",
        "statement": statement,
    }


def _wait_row(service: str, district: str, wait_days: float | None) -> dict[str, Any]:
    """A district_waits row as GET /v1/plans gives it (`None`: no case served)."""
    return {
        "service": service,
        "district": district,
        "hours": None if service == "dfg_works" else 100.0,
        "cases_served": 0.0 if wait_days is None else 10.0,
        "person_days": 0.0 if wait_days is None else 10.0 * wait_days,
        "avg_wait_days": wait_days,
    }


def _sim_row(service: str, district: str, lp_days: float, sim_days: float) -> dict[str, Any]:
    """A simulation row as GET /v1/plans gives it, flagged over 15% as the planner flags it."""
    difference = 100.0 * (sim_days / lp_days - 1.0)
    return {
        "service": service,
        "district": district,
        "lp_person_days": 10.0 * lp_days,
        "sim_person_days": 10.0 * sim_days,
        "lp_wait_days": lp_days,
        "sim_wait_days": sim_days,
        "difference_pct": difference,
        "flagged": abs(difference) > 15.0,
    }


def _baseline_row(name: str, vs_plan_pct: float) -> dict[str, Any]:
    """A baselines row: weighted waiting `vs_plan_pct` percent above a plan's 1,000 days."""
    return {
        "name": name,
        "weighted_wait_days": 1000.0 * (1.0 + vs_plan_pct / 100.0),
        "dtoc_days": 50.0 + vs_plan_pct,
        "staff_cost_gbp": 20000.0,
        "vs_plan_pct": vs_plan_pct,
    }


def _waits_table(browser: webdriver.Chrome) -> dict[str, Any]:
    """The page's waits table, read in one step: header, and per row the district and each
    cell's planned wait, simulated wait, flag mark, words for a screen reader and title."""
    table: dict[str, Any] = browser.execute_script(
        "const t = document.querySelector('#waits-table');"
        "const part = (td, css) => td.querySelector(css)?.textContent ?? null;"
        "return { caption: t.caption.textContent.replace(/\\s+/g, ' '),"
        "  head: [...t.tHead.rows[0].cells].map((c) => c.textContent),"
        "  rows: [...t.tBodies[0].rows].map((tr) => [tr.cells[0].textContent,"
        "    ...[...tr.cells].slice(1).map((td) => ({ text: td.textContent,"
        "      lp: part(td, '.lp'), sim: part(td, '.sim'), mark: part(td, '.flag'),"
        "      said: part(td, '.visually-hidden'), title: td.title,"
        "      flagged: td.classList.contains('flagged') }))]) };"
    )
    return table


# Services as the people who plan them name them, in every card (an id the page does not know
# is shown with its underscores as spaces).
SERVICE_NAMES = {
    "ot": "OT",
    "hao": "HAO",
    "reablement": "reablement",
    "domcare": "domiciliary care",
    "dfg_works": "DFG works",
}


def _service_name(service: str) -> str:
    return SERVICE_NAMES.get(service, service.replace("_", " "))


def _expected_waits(result: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The waits table the page should show for a plan's result: districts by `names`, in their
    order, services in the plan's order, each cell's planned wait and, where simulated, the
    simulated one."""
    waits, sims = result["district_waits"], result.get("simulation") or []
    services = list(dict.fromkeys(w["service"] for w in waits))
    planned = {(w["service"], w["district"]): w["avg_wait_days"] for w in waits}
    simulated = {(s["service"], s["district"]): s for s in sims}

    def days(x: float | None) -> str:
        return "n/a" if x is None else _shown_number(x, 1)

    rows = []
    for district in sorted({w["district"] for w in waits}, key=lambda d: names[d]):
        cells: list[Any] = [names[district]]
        for service in services:
            sim = simulated.get((service, district))
            cells.append(
                {
                    "lp": days(planned[service, district]),
                    "sim": None if sim is None else f"(sim {days(sim['sim_wait_days'])})",
                    "flagged": bool(sim and sim["flagged"]),
                }
            )
        rows.append(cells)
    return {"head": ["district", *(_service_name(s) for s in services)], "rows": rows}


def _shown_waits(table: dict[str, Any]) -> dict[str, Any]:
    """The parts of the page's waits table that `_expected_waits` says."""
    rows = [
        [r[0], *({k: c[k] for k in ("lp", "sim", "flagged")} for c in r[1:])] for r in table["rows"]
    ]
    return {"head": table["head"], "rows": rows}


def test_waits_card_shows_each_districts_planned_and_simulated_waits_and_marks_flagged_ones(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    plan = _get_plan(demo_server, role_keys[Role.VIEWER])
    result, names = plan["result"], _district_names(demo_server, role_keys[Role.VIEWER], plan)
    sims = result["simulation"]
    flagged = [s for s in sims if s["flagged"]]
    assert flagged and len(flagged) < len(sims)  # the demo plan has both kinds of cell
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER])
    wait.until(ec.presence_of_element_located((By.ID, "waits-table")))
    table = _waits_table(browser)
    assert _shown_waits(table) == _expected_waits(result, names)
    assert table["head"][-1] == "DFG works" and len(table["rows"]) == 5
    assert {"OT", "HAO", "domiciliary care"} <= set(table["head"])
    # a planner's question, answered in one cell: reablement in Rugby
    reablement = table["head"].index("reablement")
    rugby = next(r for r in table["rows"] if r[0] == "Rugby")[reablement]
    planned = next(
        w
        for w in result["district_waits"]
        if (w["service"], w["district"]) == ("reablement", "rugby")
    )
    simulated = next(s for s in sims if (s["service"], s["district"]) == ("reablement", "rugby"))
    lp, sim = planned["avg_wait_days"], simulated["sim_wait_days"]
    assert rugby["text"].startswith(f"{_shown_number(lp, 1)} (sim {_shown_number(sim, 1)})")
    # flagged cells carry a mark and words (not colour alone); the caption says what it means
    cells = [c for r in table["rows"] for c in r[1:] if c["sim"] is not None]
    for cell in cells:
        if cell["flagged"]:
            assert cell["mark"] == "⚑" and "flagged: the simulated wait is" in cell["said"]
            assert cell["title"] and cell["title"] in cell["said"]
        else:
            assert cell["mark"] is None and cell["said"] is None and not cell["title"]
    assert sum(c["flagged"] for c in cells) == len(flagged)
    legend = browser.find_element(By.ID, "waits-legend").text
    assert legend.startswith(f"⚑ marks the {len(flagged)} of {len(sims)} where the simulated")
    assert "as planned, and (sim) as simulated" in table["caption"]
    note = browser.find_element(By.ID, "waits-note").text
    assert "referrals arriving at random" in note and "full use wait longer" in note
    # the plan card's warning about the simulation points to this card by its heading
    warning = next(
        li
        for li in browser.find_elements(By.CSS_SELECTOR, "#plan-warnings li")
        if "simulated waits differ" in li.text
    )
    link = warning.find_element(By.CSS_SELECTOR, "a[href='#waits']")
    heading = browser.find_element(By.CSS_SELECTOR, "#waits h2").text
    assert link.text == heading == "Waits by service and district"


def _against_plan(vs_plan_pct: float) -> str:
    """A baseline against the plan as the page words it: vs_plan_pct is how much more weighted
    waiting the baseline has than the plan; negative, how much less."""
    text = _shown_number(abs(vs_plan_pct), 1)
    if not re.search("[1-9]", text):
        return "the same weighted waiting"
    return f"{text}% {'more' if vs_plan_pct > 0 else 'less'} weighted waiting"


BASELINE_NAMES = {
    "plan": "the plan",
    "proportional_to_demand": "allocating hours in proportion to demand",
    "carried_forward": "carrying today's staffing forward",
}


def _expected_baselines(baselines: list[dict[str, Any]]) -> list[list[str]]:
    return [
        [
            BASELINE_NAMES[b["name"]],
            _shown_number(b["weighted_wait_days"]),
            "" if b["name"] == "plan" else _against_plan(b["vs_plan_pct"]),
            _shown_number(b["dtoc_days"]),
        ]
        for b in baselines
    ]


def _baselines_table(browser: webdriver.Chrome) -> list[list[str]]:
    rows: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#baselines-table tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent))"
    )
    return rows


def test_the_plan_is_set_against_simple_allocations_as_vs_plan_pct_says(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    baselines = _get_plan(demo_server, role_keys[Role.VIEWER])["result"]["baselines"]
    assert [b["name"] for b in baselines] == ["plan", "proportional_to_demand", "carried_forward"]
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER])
    wait.until(ec.presence_of_element_located((By.ID, "baselines-table")))
    assert browser.find_element(By.ID, "baselines-heading").text == "Against simple allocations"
    shown = _baselines_table(browser)
    assert shown == _expected_baselines(baselines)
    # the plan waits less than either simple rule: each says how much more it waits
    assert all(b["vs_plan_pct"] > 0 for b in baselines[1:])
    assert all(row[2].endswith("% more weighted waiting") for row in shown[1:])
    # and says why a simple rule may still have fewer delayed days
    caption = browser.find_element(By.CSS_SELECTOR, "#baselines-table caption").text
    assert "not the delayed days alone" in caption


def _expected_risk(risk: list[dict[str, Any]]) -> list[list[str]]:
    """Per service, in the plan's order: the area's average wait (person-days over cases
    served) low, planned and high, and the cases still waiting at the end if high."""
    services = list(dict.fromkeys(r["service"] for r in risk))
    rows = []
    for service in services:
        mine = [r for r in risk if r["service"] == service]

        def wait(scenario: str, mine: list[dict[str, Any]] = mine) -> str:
            chosen = [r for r in mine if r["scenario"] == scenario]
            served = sum(r["cases_served"] for r in chosen)
            days = sum(r["person_days"] for r in chosen)
            return _shown_number(days / served, 1) if served > 0 else "n/a"

        left = sum(r["end_backlog_cases"] for r in mine if r["scenario"] == "high")
        rows.append(
            [
                _service_name(service),
                wait("low"),
                wait("planned"),
                wait("high"),
                _shown_number(left),
            ]
        )
    return rows


def test_the_waits_card_shows_what_low_or_high_referrals_would_do_to_the_plans_waits(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    risk = _get_plan(demo_server, role_keys[Role.VIEWER])["result"]["demand_risk"]
    assert {r["scenario"] for r in risk} == {"low", "planned", "high"}
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER])
    wait.until(ec.presence_of_element_located((By.ID, "risk-table")))
    heading = browser.find_element(By.ID, "risk-heading").text
    assert heading == "If referrals come in low or high"
    shown: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#risk-table tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent))"
    )
    assert shown == _expected_risk(risk)
    dtoc = [
        _shown_number(sum(r["dtoc_days"] for r in risk if r["scenario"] == s))
        for s in ("low", "planned", "high")
    ]
    referred = [
        _shown_number(
            sum(r["new_cases"] for r in risk if r["scenario"] == s and r["service"] != "dfg_works")
        )
        for s in ("low", "planned", "high")
    ]
    caption = browser.find_element(By.CSS_SELECTOR, "#risk-table caption").text
    assert f"Referrals over the plan: {' / '.join(referred)};" in caption
    assert f"{' / '.join(dtoc)} (low / planned / high)" in caption


def test_a_plan_without_simulation_or_baselines_shows_its_waits_alone(
    browser: webdriver.Chrome, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # a relaxed plan that was not simulated, one baseline waiting less than it and one the same;
    # then a newer plan with neither a simulation nor baselines
    settings = keyed_settings(tmp_path_factory.mktemp("nosim"), "nosim.db")
    _engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    waits = [
        _wait_row("reablement", "rugby", 1.25),
        _wait_row("reablement", "warwick", None),
        _wait_row("dfg_works", "rugby", 96.04),
        _wait_row("dfg_works", "warwick", 120.0),
    ]
    relaxed = {
        "status": "infeasible_relaxed",
        "message": "The request cannot be met as stated; the closest plan relaxes capital",
        "solver": "highs",
        "solve_seconds": 0.1,
        "warnings": [],
        "revenue": [],
        "demand": [],
        "hours": [],
        "shadow_prices": [_price_row("capital is worth 1 day")],
        "total_dtoc_days": 0.0,
        "district_waits": waits,
        "simulation": [],
        "baselines": [
            _baseline_row("plan", 0.0),
            _baseline_row("proportional_to_demand", -2.04),
            _baseline_row("carried_forward", 0.04),
        ],
    }
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        run = repository.start_run(session, "plan", "api", "test")
        repository.store_plan(
            session, run.id, config.id, "infeasible_relaxed", 1000.0, 0.1, relaxed
        )
        key = api_keys.create_key(session, "nosim-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        wait = open_with_key(browser, server, key, "infeasible_relaxed")
        wait.until(ec.presence_of_element_located((By.ID, "waits-table")))
        table = _waits_table(browser)
        names = {d["id"]: d["name"] for d in body["districts"]}  # the config's, as shown
        assert _shown_waits(table) == _expected_waits(relaxed, names)
        assert [[c["text"] for c in r[1:]] for r in table["rows"]] == [
            ["1.3", "96.0"],
            ["n/a", "120.0"],
        ]
        assert "not simulated" in table["caption"]
        assert not browser.find_elements(By.ID, "waits-legend")
        assert "Sim:" not in browser.find_element(By.ID, "waits-note").text
        assert _baselines_table(browser) == [
            ["the plan", "1,000", "", "50"],
            ["allocating hours in proportion to demand", "980", "2.0% less weighted waiting", "48"],
            ["carrying today's staffing forward", "1,000", "the same weighted waiting", "50"],
        ]
        assert browser.find_elements(By.ID, "plan-error") == []
        assert "capital is worth 1 day" in browser.find_element(By.ID, "shadow").text

        # (a plan stored before plans kept a simulation and baselines has neither key)
        without = {k: v for k, v in relaxed.items() if k not in ("simulation", "baselines")}
        without["status"] = "optimal"
        with transaction(factory) as session:
            run = repository.start_run(session, "plan", "api", "test")
            repository.store_plan(session, run.id, config.id, "optimal", 1000.0, 0.1, without)
        wait = open_with_key(browser, server, key)
        wait.until(ec.presence_of_element_located((By.ID, "waits-table")))
        assert _shown_waits(_waits_table(browser)) == _expected_waits(without, names)
        assert not browser.find_elements(By.CSS_SELECTOR, "#waits .sim, #waits .flag")
        assert not browser.find_elements(By.ID, "baselines-table")
        assert browser.find_elements(By.ID, "plan-error") == []


def _shown_number(x: float, digits: int = 0) -> str:
    """A number as the page writes it (en-GB, rounding the shortest decimal of the float half
    away from zero, as the browser's toLocaleString does)."""
    exact = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{exact:,.{digits}f}"


def _shown_change(delta: float | None, base: float | None, unit: str, percent: bool) -> str:
    """A sweep row's change as the page writes it: signed, with its unit, and for waiting its
    share of the current plan's figure (`base`) too."""

    def signed(x: float, digits: int) -> str:
        text = _shown_number(abs(x), digits)
        return text if not re.search("[1-9]", text) else ("+" if x > 0 else "-") + text

    if delta is None:
        return "n/a"
    text = f"{signed(delta, 0)} {unit}"
    if percent and base:
        text += f" ({signed(100 * delta / base, 1)}%)"
    return text


SWEEP_MEASURES = (
    ("weighted waiting days", "weighted_wait_days", "days", True),
    ("fee income (GBP)", "fee_income_gbp", "GBP", False),
    ("charge income (GBP)", "charge_income_gbp", "GBP", False),
    ("staff hours", "staff_hours", "hours", False),
    ("staff cost (GBP)", "staff_cost_gbp", "GBP", False),
    ("agency cost (GBP)", "agency_cost_gbp", "GBP", False),
    ("staff and agency cost (GBP)", "revenue_cost_gbp", "GBP", False),
    ("net of fee and charge income (GBP)", "net_revenue_cost_gbp", "GBP", False),
    ("budget left unspent (GBP)", "unspent_budget_gbp", "GBP", False),
    ("DFG works completed", "works_completed", "cases", False),
    ("delayed days in hospital (DTOC)", "dtoc_days", "days", False),
    ("delayed days in hospital, simulated", "simulated_dtoc_days", "days", False),
)


SWEEP_PATHS = ("/v1/plans", "/v1/runs")  # what a sweep reads and sends
# a sweep's run is polled at most once a second: dashboard.js's SWEEP_POLL_MS is at least this
SWEEP_POLL_MIN_MS = 1000


def _sweep_measures(run: dict[str, Any]) -> tuple[tuple[str, str, str, bool], ...]:
    """The measures the page shows for a sweep: charge income only where a row has some."""
    charged = any(r["charge_income_gbp"] or r["charge_income_gbp_change"] for r in run["sweep"])
    return tuple(m for m in SWEEP_MEASURES if m[1] != "charge_income_gbp" or charged)


def _sweep_rows_expected(run: dict[str, Any]) -> list[list[str]]:
    """The sweep table the page should show for a finished run, read from GET /v1/runs/{id}."""
    rows = []
    for r in run["sweep"]:
        cells = [f"{100 * r['dfg_fee_rate']:g}%"]
        for _label, key, unit, percent in _sweep_measures(run):
            value, delta = r[key], r[f"{key}_change"]
            base = None if value is None or delta is None else value - delta
            cells.append("n/a" if value is None else _shown_number(value))
            cells.append(_shown_change(delta, base, unit, percent))
        cells.append(f"#{r['plan_id']} {r['status']}")
        rows.append(cells)
    return rows


def _spy_on_requests(browser: webdriver.Chrome) -> None:
    """Record every request the page sends from now on (method, URL, body) in `window.__sent`."""
    browser.execute_script(
        "window.__sent = [];"
        "if (!window.__spied) { const f = window.fetch; window.__spied = true;"
        "  window.fetch = (url, opts = {}) => {"
        "    window.__sent.push([opts.method || 'GET', String(url), opts.body || null]);"
        "    return f(url, opts); }; }"
    )


def _spy_on_timers(browser: webdriver.Chrome) -> None:
    """Record each timer the page asks for in `window.__sent`, in order among its requests, as
    ("timer", delay in ms, null); call after `_spy_on_requests`, which starts a new record."""
    browser.execute_script(
        "if (!window.__timed) { const t = window.setTimeout; window.__timed = true;"
        "  window.setTimeout = (f, ms, ...rest) => {"
        "    window.__sent.push(['timer', Number(ms) || 0, null]);"
        "    return t(f, ms, ...rest); }; }"
    )


def _delays_before_each_poll(sent: list[list[Any]], run_id: str) -> list[list[int]]:
    """For each GET of the sweep's run, the timer delays (ms) the page asked for since the
    sweep's request before it (its POST or the poll before)."""
    delays: list[list[int]] = []
    since: list[int] = []
    for method, url, _body in sent:
        if method == "timer":
            since.append(url)
        elif (method, url) in (("POST", "/v1/plans/sweeps"), ("GET", f"/v1/runs/{run_id}")):
            if method == "GET":
                delays.append(since)
            since = []
    return delays


def _sent(browser: webdriver.Chrome) -> list[list[Any]]:
    sent: list[list[Any]] = browser.execute_script("return window.__sent")
    return sent


def _sweep(browser: webdriver.Chrome, rates: str) -> None:
    _submit(browser, "sweep-rates", "sweep-form", rates)


def _sweep_table(browser: webdriver.Chrome) -> dict[str, Any]:
    """The page's sweep table, read in one step: caption, header rows and body rows as shown."""
    table: dict[str, Any] = browser.execute_script(
        "const t = document.querySelector('#sweep-table');"
        "const cells = (tr) => [...tr.cells].map((c) => c.textContent);"
        "return { caption: t.caption.textContent.replace(/\\s+/g, ' '),"
        "  head: [...t.tHead.rows].map(cells), body: [...t.tBodies[0].rows].map(cells),"
        "  rowHeaders: [...t.tBodies[0].rows].map((tr) => tr.cells[0].tagName + ':'"
        "    + tr.cells[0].getAttribute('scope')) };"
    )
    return table


def test_fee_sweep_runs_from_the_page_and_shows_each_rate_against_the_current_plan(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    browser.get(demo_server.url + "/")
    wait = WebDriverWait(browser, 120)
    _use_key(browser, role_keys[Role.VIEWER])
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    assert browser.find_element(By.CSS_SELECTOR, "label[for='sweep-rates']").text
    # a viewer key may not sweep: the form stays in view, disabled, naming the keys that may
    note = wait.until(ec.visibility_of_element_located((By.ID, "plan-role-note")))
    assert "planner, finance or admin" in note.text
    assert browser.find_element(By.ID, "sweep-rates").is_displayed()
    assert not browser.find_element(By.ID, "sweep-rates").is_enabled()
    assert not browser.find_element(By.CSS_SELECTOR, "#sweep-form button").is_enabled()
    _use_key(browser, role_keys[Role.FINANCE])
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#sweep-form button")))
    _spy_on_requests(browser)
    # a bad list is refused in the page, saying what was wrong, and nothing is sent
    for rates, wrong in (
        ("5", "Only 1 rate given: a sweep compares 2 to 12 rates"),
        ("150", "150% is not a fee rate: each rate must be from 0 to 100"),
        ("5, 10, ten", '"ten" is not a number'),
        (", ".join(["5"] * 13), "13 rates given: a sweep compares 2 to 12 rates"),
    ):
        _sweep(browser, rates)
        assert wrong in browser.find_element(By.ID, "sweep-error").text
        field = browser.find_element(By.ID, "sweep-rates")
        assert field.get_attribute("aria-invalid") == "true"
    # (the page's own load may still be reading series and forecasts: those are not the sweep's)
    assert [s for s in _sent(browser) if s[0] != "GET" or s[1].startswith(SWEEP_PATHS)] == []
    assert not browser.find_elements(By.ID, "sweep-table")

    # the second rate's plan waits until the page has shown the first one's progress
    first_planned = threading.Event()
    slow = planning.plan_scenario
    calls: list[int] = []

    def gated(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            first_planned.wait(timeout=120)
        return slow(*args, **kwargs)

    monkeypatch.setattr(planning, "plan_scenario", gated)
    _use_key(browser, role_keys[Role.FINANCE])  # the key sent again: the page reloads with it
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    latest = wait.until(_shown_plan_id)
    assert browser.find_element(By.ID, "sweep-result").text == ""  # a new load clears the old
    _spy_on_requests(browser)
    _spy_on_timers(browser)
    try:
        _sweep(browser, "5, 12.5, 20")
        progress = "1 of 3 rates planned"
        wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-status"), progress))
        status = browser.find_element(By.ID, "sweep-status").text
        assert re.fullmatch(r"Sweep run #\d+ running: 1 of 3 rates planned", status)
        assert not browser.find_element(By.CSS_SELECTOR, "#sweep-form button").is_enabled()
        assert not browser.find_elements(By.ID, "sweep-table")
    finally:
        first_planned.set()
    wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-status"), "finished"))
    shown_id = re.match(r"Sweep run #(\d+) ", browser.find_element(By.ID, "sweep-status").text)
    assert shown_id is not None
    run_id = shown_id.group(1)
    finance = key_header(role_keys[Role.FINANCE])
    run = httpx.get(f"{demo_server.url}/v1/runs/{run_id}", headers=finance, timeout=60).json()
    assert run["kind"] == "sweep" and run["status"] == "succeeded"
    assert browser.find_element(By.ID, "sweep-status").text == (
        f"Sweep run #{run_id} finished: {run['message']}"
    )
    assert run["message"] == f"3 of 3 rates planned, compared with plan {latest}"
    assert browser.find_element(By.CSS_SELECTOR, "#sweep-form button").is_enabled()
    # the rates went as fractions, and the page polled the run's Location, each poll only after
    # asking to wait a second since the request before it (the delay asked for, not the time
    # taken: a busy machine may run the timer late, but a page that polled at once would not ask)
    sent = _sent(browser)
    posts = [s for s in sent if s[0] == "POST"]
    assert len(posts) == 1 and posts[0][1] == "/v1/plans/sweeps"
    assert json.loads(posts[0][2]) == {"dfg_fee_rates": [0.05, 0.125, 0.2]}
    polls = [s for s in sent if s[1] == f"/v1/runs/{run_id}"]
    assert polls and all(s[0] == "GET" for s in polls)
    delays = _delays_before_each_poll(sent, run_id)
    assert len(delays) == len(polls)
    # the poll's own delay, not any long timer (a download's 60 s clean-up would pass for one)
    poll_ms = browser.execute_script("return SWEEP_POLL_MS")
    assert poll_ms >= SWEEP_POLL_MIN_MS, f"SWEEP_POLL_MS: expected >= 1000 ms, found {poll_ms}"
    assert all(poll_ms in asked for asked in delays), (poll_ms, delays)
    # one row per rate, each figure and its change as GET /v1/runs/{id} gives them
    assert [r["dfg_fee_rate"] for r in run["sweep"]] == [0.05, 0.125, 0.2]
    table = _sweep_table(browser)
    assert table["body"] == _sweep_rows_expected(run)
    assert [r[0] for r in table["body"]] == ["5%", "12.5%", "20%"]
    assert table["rowHeaders"] == ["TH:row"] * 3
    assert table["head"] == [
        ["DFG fee rate", *(m[0] for m in _sweep_measures(run)), "what-if plan"],
        ["value", "change"] * len(_sweep_measures(run)),
    ]
    assert f"current plan #{latest} " in table["caption"]
    # a higher rate raises more fee income than the lower ones, and the changes say so
    fees = [r["fee_income_gbp"] for r in run["sweep"]]
    assert fees == sorted(fees) and fees[0] < fees[-1]
    assert all(r[4].endswith(" GBP") for r in table["body"])
    browser.refresh()  # the sweep's plans are what-ifs: the page still shows the same plan
    assert wait.until(_shown_plan_id) == latest


def test_a_failed_sweep_shows_its_message_as_text_with_the_rates_it_planned(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    solve = planning.plan_scenario
    calls: list[int] = []

    def fails_second(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError(f"solver lost {MARKUP}")
        return solve(*args, **kwargs)

    monkeypatch.setattr(planning, "plan_scenario", fails_second)
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE])
    _sweep(browser, "7%, 9")
    wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-status"), "failed"))
    status = browser.find_element(By.ID, "sweep-status").text
    shown_id = re.match(r"Sweep run #(\d+) failed$", status)
    assert shown_id is not None
    finance = key_header(role_keys[Role.FINANCE])
    url = f"{demo_server.url}/v1/runs/{shown_id.group(1)}"
    run = httpx.get(url, headers=finance, timeout=60).json()
    assert run["status"] == "failed" and MARKUP in run["message"]
    assert browser.find_element(By.ID, "sweep-error").text == run["message"]
    assert browser.find_elements(By.ID, "injected") == []
    table = _sweep_table(browser)
    assert table["body"] == _sweep_rows_expected(run) and len(table["body"]) == 1
    assert table["body"][0][0] == "7%"
    assert "(the 1 rate planned before the sweep failed)" in table["caption"]
    # its message names no plan: the caption's is the one its row says the changes are from
    compared = run["sweep"][0]["compared_with_plan_id"]
    assert compared is not None and f"current plan #{compared} " in table["caption"]


def test_a_sweep_whose_every_rate_the_solver_could_not_plan_says_none_was_solved(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Every rate's solve ending without a plan (here HiGHS' status error, from cases of
    1e15 hours) used to be a "succeeded" sweep of rows with no figures, and DTOC days 0."""
    solve = planning.plan

    def unsolvable(inputs: PlanInputs, *args: Any, **kwargs: Any) -> Any:
        return solve(replace(inputs, hours_per_case=inputs.hours_per_case * 1e15), *args, **kwargs)

    monkeypatch.setattr(planning, "plan", unsolvable)
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE])
    _sweep(browser, "7%, 9")
    wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-status"), "failed"))
    shown_id = re.match(
        r"Sweep run #(\d+) failed$", browser.find_element(By.ID, "sweep-status").text
    )
    assert shown_id is not None
    finance = key_header(role_keys[Role.FINANCE])
    url = f"{demo_server.url}/v1/runs/{shown_id.group(1)}"
    run = httpx.get(url, headers=finance, timeout=60).json()
    assert run["message"] == (
        "2 of 2 rates planned; none solved (0.07: error, 0.09: error): the solver ended without "
        "a plan, so those rows have no figures (each one's plan run, whose parent_run_id is "
        "this sweep's, says why)"
    )
    assert [(r["status"], r["dtoc_days"]) for r in run["sweep"]] == [("error", None)] * 2
    assert "solver ended with status error, without a plan" in run["sweep"][0]["not_comparable"]
    assert browser.find_element(By.ID, "sweep-error").text == run["message"]
    table = _sweep_table(browser)
    assert table["body"] == _sweep_rows_expected(run)
    assert "(the 2 rates planned, none solved)" in table["caption"]
    # a rate's plan, opened: no hours, delays or prices, rather than 0s and "no constraint binds"
    unsolved = run["sweep"][0]["plan_id"]
    plan = httpx.get(f"{demo_server.url}/v1/plans/{unsolved}", headers=finance, timeout=60)
    assert plan.json()["result"]["total_dtoc_days"] is None
    browser.get(f"{demo_server.url}/?plan={unsolved}")
    wait.until(lambda b: _shown_plan_id(b) == str(unsolved))
    assert browser.find_element(By.ID, "plan-dtoc").text == "n/a"
    assert browser.find_element(By.ID, "hours-none").text == "This plan records no hours."
    assert browser.find_element(By.ID, "shadow-none").text == (
        "This plan records no shadow prices: its solver ended with status error, without a plan."
    )


def test_the_capital_card_shows_each_districts_grant_spend_works_and_last_week(
    browser: webdriver.Chrome, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """DFG capital is half of what the plan allocates; the page showed none of it."""
    plan = _get_plan(demo_server, role_keys[Role.VIEWER])
    result, names = plan["result"], _district_names(demo_server, role_keys[Role.VIEWER], plan)
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER])
    table = wait.until(ec.presence_of_element_located((By.ID, "capital-table")))
    rows: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#capital-table tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent.trim()))"
    )
    end = max(r["ds"] for r in result["capital"])
    waits = {
        w["district"]: w["avg_wait_days"]
        for w in result["district_waits"]
        if w["service"] == "dfg_works"
    }
    expected = []
    for total in sorted(result["capital_total"], key=lambda t: names[t["district"]]):
        mine = [c for c in result["capital"] if c["district"] == total["district"]]
        done = [c["ds"] for c in mine if c["works_completed"] > 1e-6]
        last = "none" if not done else "to the end" if max(done) == end else max(done)
        expected.append(
            [
                names[total["district"]],
                f"{total['capital_available_gbp']:,.0f}",
                f"{total['capital_spent_gbp']:,.0f}",
                f"{sum(c['works_completed'] for c in mine):,.1f}",
                last,
                f"{waits[total['district']]:,.1f}",
            ]
        )
    assert rows == expected
    assert "not pooled, and not for staff" in table.find_element(By.TAG_NAME, "caption").text
    foot = table.find_element(By.CSS_SELECTOR, "tfoot tr").text
    assert f"{sum(t['capital_spent_gbp'] for t in result['capital_total']):,.0f}" in foot
