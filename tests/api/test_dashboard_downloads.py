"""The dashboard's CSV downloads save what the API's CSV routes serve, fetched with the tab's
key (a plain link could not send it), and the series picker labels the synthetic demo's
series, in real headless Chromium."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pandas as pd
import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from models import PlanRow
from tests.api.conftest import (
    DemoDatabase,
    key_header,
    keyed_settings,
    migrated,
    open_with_key,
)
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

# Saved files are caught where the page hands them to the browser: the blob behind the link,
# as text (a leading byte order mark read as UTF-8 is not text) and as its bytes, base64.
CATCH_SAVES = """
window.savedFiles = [];
window.savedBytes = [];
const make = URL.createObjectURL;
URL.createObjectURL = (blob) => {
  blob.arrayBuffer().then((buffer) => {
    const bytes = new Uint8Array(buffer);
    let binary = "";
    for (const b of bytes) binary += String.fromCharCode(b);
    window.savedBytes.push(btoa(binary));
    window.savedFiles.push(new TextDecoder().decode(bytes));
  });
  return make(blob);
};
"""
UTF8_BOM = b"\xef\xbb\xbf"


def _saved_bytes(browser: Any, index: int) -> bytes:
    return base64.b64decode(browser.execute_script(f"return window.savedBytes[{index}]"))


def _click_download(browser: Any, label: str) -> None:
    buttons = browser.find_elements(By.CSS_SELECTOR, "#downloads button.download")
    [button] = [b for b in buttons if b.text == label]
    button.click()


def test_a_plan_table_and_every_forecast_download_as_the_api_serves_them(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    plan_id = browser.find_element(By.ID, "plan-id").text
    browser.execute_script(CATCH_SAVES)
    _click_download(browser, "hours")
    saved = f"saved homeward-plan-{plan_id}-hours.csv"
    wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), saved))
    wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 1)
    served = httpx.get(
        f"{demo_server.url}/v1/plans/{plan_id}/hours.csv", headers=key_header(key), timeout=60
    )
    assert browser.execute_script("return window.savedFiles[0]") == served.text
    _click_download(browser, "every forecast")
    wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), "homeward-forecasts"))
    wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 2)
    forecasts = browser.execute_script("return window.savedFiles[1]")
    assert forecasts.startswith("unique_id,ds,model,mean,lo-80,hi-80,lo-95,hi-95,run_id\n")
    # revenue by financial year too: what a finance officer reports against
    _click_download(browser, "revenue by financial year")
    wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 3)
    served = httpx.get(
        f"{demo_server.url}/v1/plans/{plan_id}/revenue_by_year.csv",
        headers=key_header(key),
        timeout=60,
    )
    assert served.text.startswith("budget,year,periods,")
    assert browser.execute_script("return window.savedFiles[2]") == served.text
    # and the summary a planner hands to a head of service: figures, config and data dates
    _click_download(browser, "summary")
    wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 4)
    served = httpx.get(
        f"{demo_server.url}/v1/plans/{plan_id}/summary.csv", headers=key_header(key), timeout=60
    )
    assert served.text.startswith("figure,value,unit,note\n")
    assert browser.execute_script("return window.savedFiles[3]") == served.text


def test_a_download_is_saved_with_a_byte_order_mark_for_excel(
    browser: Any, demo_server: LiveServer, demo_db: DemoDatabase, role_keys: dict[Role, str]
) -> None:
    """Excel UK opens a double-clicked CSV without a byte order mark as Windows-1252, so a
    team named "Gogledd Môn" read "Gogledd MÃ´n": the saved file starts with the UTF-8 mark
    and is otherwise byte for byte the API's answer, which has none."""
    with transaction(demo_db.factory) as session:
        latest = repository.latest_plan(session)
        assert latest is not None
        result = dict(latest.result)
        result["hours"] = [{**r, "team": "Gogledd Môn – £"} for r in result["hours"]]
        plan_id = repository.store_plan(
            session, latest.run_id, latest.config_id, "optimal", 1.0, 0.5, result
        ).id
    try:
        key = role_keys[Role.VIEWER]
        wait = open_with_key(browser, demo_server, key, timeout_s=90)
        browser.execute_script(CATCH_SAVES)
        served = httpx.get(
            f"{demo_server.url}/v1/plans/{plan_id}/hours.csv", headers=key_header(key), timeout=60
        )
        assert not served.content.startswith(UTF8_BOM)  # the API's answer is raw UTF-8
        assert "Gogledd Môn – £".encode() in served.content
        browser.execute_script(
            "download(arguments[0], document.querySelector('#download-status'))",
            f"/v1/plans/{plan_id}/hours.csv",
        )
        saved = f"saved homeward-plan-{plan_id}-hours.csv"
        wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), saved))
        wait.until(lambda b: len(b.execute_script("return window.savedBytes")) == 1)
        assert _saved_bytes(browser, 0) == UTF8_BOM + served.content
        # every button saves so: the plan's own tables and every forecast
        _click_download(browser, "every forecast")
        wait.until(lambda b: len(b.execute_script("return window.savedBytes")) == 2)
        forecasts = httpx.get(
            f"{demo_server.url}/v1/forecasts.csv", headers=key_header(key), timeout=60
        )
        assert _saved_bytes(browser, 1) == UTF8_BOM + forecasts.content
    finally:
        with transaction(demo_db.factory) as session:
            session.delete(session.get_one(PlanRow, plan_id))


def test_the_winter_indices_download_as_the_api_serves_them(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """GET /v1/winter.csv had no button: a planner read each series' index one at a time."""
    key = role_keys[Role.VIEWER]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    browser.execute_script(CATCH_SAVES)
    _click_download(browser, "winter indices")
    saved = "saved homeward-winter.csv"
    wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), saved))
    wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 1)
    served = httpx.get(f"{demo_server.url}/v1/winter.csv", headers=key_header(key), timeout=60)
    assert served.status_code == 200, served.text
    assert served.text.startswith("unique_id,ds,winter_index,")
    assert browser.execute_script("return window.savedFiles[0]") == served.text


def test_the_forecast_caption_names_a_combinations_members(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """A series forecast by mean_best2 said so, but not which two models it averaged."""
    key = role_keys[Role.VIEWER]
    chosen = httpx.get(
        f"{demo_server.url}/v1/metrics.csv",
        params={"prefix": "referrals/", "chosen": "true"},
        headers=key_header(key),
        timeout=60,
    )
    metrics = pd.read_csv(io.StringIO(chosen.text), keep_default_na=False)
    combined = metrics[metrics["members"] != ""]
    assert not combined.empty, "the demo run chose no combination for any referral series"
    series_id, model, members = combined.iloc[0][["unique_id", "model", "members"]]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    Select(browser.find_element(By.ID, "series")).select_by_value(series_id)
    wait.until(ec.text_to_be_present_in_element((By.ID, "chart-caption"), series_id))
    named = f"model {model} ({' + '.join(members.split(';'))}) for "
    assert named in browser.find_element(By.ID, "chart-caption").text


def test_a_refused_download_says_why_next_to_the_buttons(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.execute_script("sessionStorage.setItem('homeward-api-key', 'hw_not-a-key')")
    _click_download(browser, "hours")  # the key was revoked or mistyped since the page loaded
    wait.until(ec.text_to_be_present_in_element((By.ID, "download-status"), "could not download"))
    assert "API key" in browser.find_element(By.ID, "download-status").text


def test_the_synthetic_demos_series_are_labelled_in_the_picker(
    browser: Any, demo_server: LiveServer, demo_db: DemoDatabase, role_keys: dict[Role, str]
) -> None:
    invented = pd.DataFrame(
        {
            "unique_id": "synthetic/label-check",
            "ds": pd.date_range("2025-01-06", periods=3, freq="W-MON"),
            "y": 1.0,
        }
    )
    with transaction(demo_db.factory) as session:
        repository.store_observations(session, invented, repository.SYNTHETIC_DEMO_SOURCE, "x")
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    options = {
        o.get_attribute("value"): o.text
        for o in browser.find_elements(By.CSS_SELECTOR, "#series option")
    }
    # stored since the newest run, it has no forecast yet either, and says so too
    assert options["synthetic/label-check"] == (
        "synthetic/label-check (synthetic demo; no forecast yet)"
    )
    assert options["referrals/ot/rugby"] == "referrals/ot/rugby"  # uploaded by the test: real


def test_a_sweeps_table_and_its_what_if_plans_download_from_the_sweep_card(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Nothing of a sweep could be taken to a spreadsheet: its table now downloads as GET
    /v1/runs/{id}/sweep.csv serves it, and each row's what-if plan number downloads that plan's
    hours."""
    settings = keyed_settings(tmp_path_factory.mktemp("sweepcsv"), "sweepcsv.db")
    _engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    result: dict[str, Any] = {
        "status": "optimal",
        "message": "Optimal plan over 2 periods of 7 days",
        "solver": "highs",
        "solve_seconds": 0.1,
        "warnings": [],
        "revenue": [],
        "hours": [],
        "demand": [],
        "shadow_prices": [],
        "total_dtoc_days": 0.0,
    }
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        plan_run = repository.start_run(session, "plan", "api", "test")
        plan = repository.store_plan(session, plan_run.id, config.id, "optimal", 10.0, 0.1, result)
        figures = planning.plan_figures(10.0, result)
        sweep = repository.start_run(session, "sweep", "api", "test")
        sweep.status, sweep.message = "succeeded", "1 of 1 rates planned"
        sweep.sweep = [planning.sweep_row(0.2, plan.id, "optimal", figures, None)]
        sweep_id, plan_id = sweep.id, plan.id
        key = api_keys.create_key(session, "sweepcsv-finance", Role.FINANCE).secret
    with LiveServer(create_app(settings)) as server:
        wait = open_with_key(browser, server, key)
        run = httpx.get(f"{server.url}/v1/runs/{sweep_id}", headers=key_header(key)).json()
        browser.execute_script("renderSweep(arguments[0])", run)  # as a finished sweep shows
        browser.execute_script(CATCH_SAVES)
        browser.find_element(By.ID, "sweep-csv").click()
        status = (By.ID, "sweep-download-status")
        wait.until(ec.text_to_be_present_in_element(status, f"homeward-sweep-{sweep_id}.csv"))
        wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 1)
        served = httpx.get(f"{server.url}/v1/runs/{sweep_id}/sweep.csv", headers=key_header(key))
        assert served.text.startswith("dfg_fee_rate,plan_id,status,")
        assert browser.execute_script("return window.savedFiles[0]") == served.text
        plan_cell = browser.find_element(By.CSS_SELECTOR, "#sweep-table .plan-cell")
        assert plan_cell.text == f"#{plan_id} optimal"
        plan_cell.find_element(By.CSS_SELECTOR, "button.download").click()
        saved = f"homeward-plan-{plan_id}-hours.csv"
        wait.until(ec.text_to_be_present_in_element(status, saved))
        wait.until(lambda b: len(b.execute_script("return window.savedFiles")) == 2)
        hours = httpx.get(f"{server.url}/v1/plans/{plan_id}/hours.csv", headers=key_header(key))
        assert browser.execute_script("return window.savedFiles[1]") == hours.text
