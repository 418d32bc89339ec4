"""The dashboard in real headless Chromium says only what is so: a what-if and a sweep compare
with the active config's plan (or say there is none), cost counts agency spend, the fee box
starts at the active config's rate and refuses to send nothing, a missing figure reads n/a
rather than 0, an HTML error page is reported as one, and an empty database's forecast card
says how forecasts are made."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase, key_header, keyed_settings, migrated, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


def _spy(browser: Any) -> None:
    browser.execute_script(
        "window.__sent = []; const f = window.fetch;"
        "window.fetch = (url, opts = {}) => {"
        "  window.__sent.push([opts.method || 'GET', String(url), opts.body || null]);"
        "  return f(url, opts); };"
    )


def _posts(browser: Any) -> list[list[Any]]:
    sent: list[list[Any]] = browser.execute_script("return window.__sent")
    return [s for s in sent if s[0] == "POST"]


def _get(server: LiveServer, key: str, path: str) -> Any:
    return httpx.get(f"{server.url}{path}", headers=key_header(key), timeout=60).json()


def _what_if_table(browser: Any) -> dict[str, list[str]]:
    rows: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#whatif-changes tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent.trim()))"
    )
    return {r[0]: r[1:] for r in rows}


def test_the_fee_box_starts_at_the_active_rate_and_refuses_to_send_nothing(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    key = role_keys[Role.FINANCE]
    open_with_key(browser, demo_server, key, timeout_s=90)
    rate = _get(demo_server, key, "/v1/configs/active")["body"]["fees"]["dfg_fee_rate"]
    wait = WebDriverWait(browser, 30)
    wait.until(lambda b: b.find_element(By.ID, "fee").get_attribute("value") != "")
    field = browser.find_element(By.ID, "fee")
    assert float(field.get_attribute("value")) == pytest.approx(100 * rate)
    # a text box the page checks (the browser's own check would speak for it), required all
    # the same, with a number pad on a phone
    assert (field.get_attribute("type"), field.get_attribute("inputmode")) == ("text", "decimal")
    assert field.get_attribute("aria-required") == "true"
    result = browser.find_element(By.ID, "whatif-result")
    assert result.get_attribute("aria-live") == "polite"
    _spy(browser)
    field.clear()  # an empty box: the page's check refuses it, saying why; nothing is sent
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    wait.until(ec.presence_of_element_located((By.ID, "whatif-error")))
    assert "Enter a DFG fee rate in percent" in browser.find_element(By.ID, "whatif-error").text
    assert field.get_attribute("aria-invalid") == "true"
    time.sleep(0.5)
    assert _posts(browser) == []


def test_a_missing_objective_reads_n_a_not_zero(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    key = role_keys[Role.VIEWER]
    open_with_key(browser, demo_server, key, timeout_s=90)
    plan = _get(demo_server, key, "/v1/plans/latest")
    unsolved = {
        **plan,
        "status": "infeasible",
        "objective_weighted_wait_days": None,
        "result": {
            **plan["result"],
            "revenue": [],
            "total_dtoc_days": None,
            "simulated_dtoc_days": None,  # an unsolved plan is not simulated
        },
    }
    browser.execute_script("renderSummary(arguments[0])", unsolved)
    assert browser.find_element(By.ID, "plan-wait").text == "n/a"
    kpis = [b.text for b in browser.find_elements(By.CSS_SELECTOR, "#summary .kpi b")]
    assert "0" not in kpis and kpis.count("n/a") == len(kpis) - 1  # all but the status


def test_a_figure_that_rounds_to_nothing_is_never_minus_zero(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    """A financial year's budget spent to the penny leaves -2.6e-10 GBP of round-off unspent
    in an older plan's rows: the page showed "-0", which reads as an overspend."""
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    shown = browser.execute_script(
        "return [fmt(-2.6e-10), fmt(-0), fmt(-0.04, 1), fmt(-0.4), fmt(-0.6), fmt(-1234.5, 1)]"
    )
    assert shown == ["0", "0", "0.0", "0", "-1", "-1,234.5"]


def test_a_sweep_over_other_periods_than_the_current_plan_says_why_it_has_no_changes(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    key = role_keys[Role.VIEWER]
    open_with_key(browser, demo_server, key, timeout_s=90)
    plan = _get(demo_server, key, "/v1/plans/latest")
    why = f"plan 98 covers 26 periods of 7 days from 2026-01-05, plan {plan['id']} 52 periods"
    row = {"dfg_fee_rate": 0.2, "plan_id": 98, "status": "optimal"}
    for name in planning.SWEEP_FIGURES:
        row |= {name: 1000.0, f"{name}_change": None}
    row |= {"compared_with_plan_id": plan["id"], "not_comparable": why}
    run = {"id": 97, "status": "succeeded", "message": "1 of 1 rates planned", "sweep": [row]}
    browser.execute_script("renderSweep(arguments[0])", run)
    caption = browser.find_element(By.ID, "sweep-caption").text
    assert caption.startswith(f"Against the current plan #{plan['id']} ")
    assert f"; no changes: {why}" in caption


def test_an_html_error_page_is_reported_as_one(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.execute_script(
        "const f = window.fetch; window.fetch = (url, opts) => String(url) === '/v1/plans/latest'"
        "  ? Promise.resolve(new Response('<html><body>Bad gateway</body></html>',"
        "      {status: 502, statusText: 'Bad Gateway', headers: {'content-type': 'text/html'}}))"
        "  : f(url, opts); load();"
    )
    error = WebDriverWait(browser, 30).until(ec.presence_of_element_located((By.ID, "plan-error")))
    text = error.text
    assert "502 Bad Gateway from /v1/plans/latest" in text and "text/html" in text
    assert "Unexpected token" not in text


def test_an_empty_database_says_there_are_no_forecasts_and_how_to_make_them(
    browser: Any,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    settings = keyed_settings(tmp_path_factory.mktemp("empty"), "empty.db")
    _engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "empty-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        browser.get(server.url + "/")
        browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
        browser.refresh()
        wait = WebDriverWait(browser, 30)
        note = wait.until(ec.presence_of_element_located((By.ID, "forecast-none")))
        assert note.text.startswith("No forecasts yet")
        assert "POST /v1/runs" in note.text and "homeward demo" in note.text
        assert not browser.find_element(By.ID, "series").is_enabled()


@pytest.fixture
def new_config(
    demo_db: DemoDatabase, demo_server: LiveServer, role_keys: dict[Role, str]
) -> Iterator[dict[str, Any]]:
    """A new active config (a bigger revenue budget) stored as a finance officer would, not
    yet planned; the original config is active again afterwards."""
    finance = key_header(role_keys[Role.FINANCE])
    before = httpx.get(f"{demo_server.url}/v1/configs/active", headers=finance, timeout=60).json()
    body = dict(before["body"])
    body["revenue_budget_gbp_per_period"] = 1.3 * body["revenue_budget_gbp_per_period"]
    # a content of its own each time: a plan an earlier test made of a config with the same
    # content would be this config's plan too
    body["version"] = f"{body['version']}-bigger-budget-{time.time_ns()}"
    # the shared database has no hospital-pressure series, which a config stored now may not
    # name (the original's plans were made without the winter uplift anyway)
    body["winter"] = None
    stored = httpx.post(
        f"{demo_server.url}/v1/configs", json=body, headers=finance, timeout=60
    ).raise_for_status()
    yield {"before": before, "after": stored.json()}
    original = before["body"]  # active again as it was, as the pipeline's config is stored
    with transaction(demo_db.factory) as session:
        repository.save_config(session, original, planning.config_hash(original))


def test_a_what_if_after_a_new_config_compares_with_that_configs_plan_only(
    browser: Any,
    demo_db: DemoDatabase,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    new_config: dict[str, Any],
) -> None:
    key = role_keys[Role.FINANCE]
    latest = _get(demo_server, key, "/v1/plans/latest")
    active = new_config["after"]
    assert latest["config_id"] == new_config["before"]["id"] != active["id"]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    note = wait.until(ec.visibility_of_element_located((By.ID, "plan-config-note")))
    assert f"the active config is now #{active['id']}" in note.text
    browser.find_element(By.ID, "fee").clear()
    browser.find_element(By.ID, "fee").send_keys("10")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    shown = wait.until(ec.presence_of_element_located((By.ID, "whatif-no-current")))
    assert f"No plan of the active config #{active['id']}" in shown.text
    assert not browser.find_elements(By.ID, "whatif-changes")
    assert f"#{latest['id']}" not in browser.find_element(By.ID, "whatif-result").text

    # once the new config is planned, the what-if is compared with that plan, agency included
    current = planning.plan_scenario(demo_db.factory, None, "highs").plan_id
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    table = wait.until(ec.presence_of_element_located((By.ID, "whatif-changes")))
    caption = table.find_element(By.TAG_NAME, "caption").text
    assert f"current plan #{current} " in caption
    assert f"active config #{active['id']}" in caption
    rows = _what_if_table(browser)
    assert list(rows) == [
        "weighted waiting days",
        "fee income (GBP)",
        "charge income (GBP)",
        "staff cost (GBP)",
        "agency cost (GBP)",
        "staff and agency cost (GBP)",
        "revenue budget (GBP)",
        "net of fee and charge income (GBP)",
        "budget left unspent (GBP)",
        "delayed days in hospital (DTOC)",
        "delayed days in hospital, simulated",
    ]
    plan = _get(demo_server, key, f"/v1/plans/{current}")
    revenue = plan["result"]["revenue"]
    staff = sum(r["staff_cost_gbp"] for r in revenue)
    agency = sum(r["agency_cost_gbp"] for r in revenue)
    shown_then = {label: cells[0] for label, cells in rows.items()}
    assert shown_then["agency cost (GBP)"] == f"{agency:,.0f}"
    assert shown_then["staff and agency cost (GBP)"] == f"{staff + agency:,.0f}"
    # the budget beside net cost and unspent budget, so a what-if's figures add up on the page
    budget = sum(r["budget_gbp"] for r in revenue)
    assert shown_then["revenue budget (GBP)"] == f"{budget:,.0f}"
    # the same rate as the active config: nothing changes, whatever the old config's plan said
    assert rows["weighted waiting days"][2].startswith("0 days")


def test_a_sweep_after_a_new_config_names_no_old_plan(
    browser: Any,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    new_config: dict[str, Any],
) -> None:
    key = role_keys[Role.FINANCE]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    field = browser.find_element(By.ID, "sweep-rates")
    field.clear()
    field.send_keys("10, 20")
    browser.find_element(By.CSS_SELECTOR, "#sweep-form button").click()
    WebDriverWait(browser, 300).until(
        ec.text_to_be_present_in_element((By.ID, "sweep-status"), "finished")
    )
    run_id = re.match(r"Sweep run #(\d+) ", browser.find_element(By.ID, "sweep-status").text)
    assert run_id is not None
    run = _get(demo_server, key, f"/v1/runs/{run_id.group(1)}")
    assert all(r["compared_with_plan_id"] is None for r in run["sweep"])
    assert "no changes" in run["message"]
    caption = wait.until(ec.presence_of_element_located((By.ID, "sweep-caption"))).text
    assert caption.startswith("No plan of the active config to compare with")
    heads = [th.text for th in browser.find_elements(By.CSS_SELECTOR, "#sweep-table thead th")]
    assert "agency cost (GBP)" in heads and "staff and agency cost (GBP)" in heads


def test_the_original_config_stored_back_is_still_the_latest_plans_config(
    browser: Any, demo_db: DemoDatabase, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """The active config planned, a bigger budget tried, then the original stored back: a new
    version (a new id) of the config the latest plan was made with. The page neither says the
    plan is another config's nor finds no plan to compare a what-if with (it did both until
    the pipeline ran again)."""
    key = role_keys[Role.FINANCE]
    original = _get(demo_server, key, "/v1/configs/active")["body"]
    bigger = {**original, "version": f"{original['version']}-bigger-{time.time_ns()}"}
    bigger["revenue_budget_gbp_per_period"] = 1.3 * original["revenue_budget_gbp_per_period"]
    planned = planning.plan_scenario(demo_db.factory, None, "highs").plan_id
    with transaction(demo_db.factory) as session:
        repository.save_config(session, bigger, planning.config_hash(bigger))
        again = repository.save_config(session, original, planning.config_hash(original)).id
    latest = _get(demo_server, key, "/v1/plans/latest")
    assert latest["id"] == planned and latest["config_id"] != again
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    browser.find_element(By.ID, "fee").clear()
    browser.find_element(By.ID, "fee").send_keys("10")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    table = wait.until(ec.presence_of_element_located((By.ID, "whatif-changes")))
    caption = table.find_element(By.TAG_NAME, "caption").text
    assert f"current plan #{planned} " in caption and f"active config #{again}" in caption
    assert not browser.find_element(By.ID, "plan-config-note").is_displayed()
