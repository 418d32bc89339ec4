"""What the dashboard says beside a figure that could be misread: a forecast of a history
corrected since it was made (`history_changed`), a forecast card over stored series none (or
not all) of which has a forecast yet, and a what-if opened by its id, against the plan it would
be compared with. Real headless Chromium against the real server, API keys required."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest

from api.app import create_app
from homeward import api_keys, repository
from homeward.ingest import observations_hash
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_client, keyed_settings, migrated, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def admin(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    yield from keyed_client(demo_server, role_keys[Role.ADMIN])


def _text(browser: Any, element_id: str) -> str:
    """An element's text with its white space as one space each."""
    return " ".join(browser.find_element(By.ID, element_id).text.split())


def _first_charted(admin: httpx.Client) -> str:
    """The series the forecast card draws first: the first referral series with a forecast."""
    series = admin.get("/v1/series").raise_for_status().json()
    return next(
        s["id"]
        for s in series
        if s["id"].startswith("referrals/") and s["forecast_run_id"] is not None
    )


def test_a_what_if_opened_by_its_id_shows_its_config_changes_against_the_current_plan(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str], admin: httpx.Client
) -> None:
    """Opened by `?plan=` (or the picker), a what-if said only "A what-if ... with config #4":
    not what it changed nor what that did, which only a what-if made on the page showed."""
    latest = admin.get("/v1/plans/latest").raise_for_status().json()
    body = copy.deepcopy(admin.get("/v1/configs/active").raise_for_status().json()["body"])
    body["fees"] = {**body.get("fees", {}), "dfg_fee_rate": 0.2}
    made = admin.post("/v1/plans", json={"config": body}, timeout=300)
    assert made.status_code == 201, made.text
    what_if = made.json()
    compared = admin.get(f"/v1/plans/{what_if['id']}/compare/{latest['id']}").json()
    assert compared["config_changes"], compared
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.get(f"{demo_server.url}/?plan={what_if['id']}")
    changes = wait.until(ec.presence_of_element_located((By.ID, "plan-compared-config-changes")))
    shown = [" ".join(li.text.split()) for li in changes.find_elements(By.TAG_NAME, "li")]
    assert shown == compared["config_changes"]
    caption = _text(browser, "plan-compared")
    assert f"against the current plan #{latest['id']}" in caption
    fee_row = browser.find_element(
        By.XPATH, "//table[@id='plan-compared-changes']//tr[th='fee income (GBP)']"
    )
    change = compared["fee_income_gbp_change"]
    assert fee_row.find_elements(By.TAG_NAME, "td")[2].text.startswith("+" if change > 0 else "-")
    # the ids of the what-if card's own tables are not repeated: it may show a what-if too
    assert not browser.find_elements(By.CSS_SELECTOR, "#summary [id^='whatif-']")
    # on a laptop the summary, holding the comparison's tables, has the whole row: in one
    # column of three its per-service table scrolled and its caption was cut
    size = browser.get_window_size()
    try:
        browser.set_window_size(1440, 900)
        widths = browser.execute_script(
            "const s = document.querySelector('#summary'), h = document.querySelector('#hours');"
            "const t = document.querySelector('#plan-compared-services');"
            "return [s.getBoundingClientRect().width, s.parentElement.clientWidth,"
            " h.getBoundingClientRect().top > s.getBoundingClientRect().bottom,"
            " t.parentElement.scrollWidth <= t.parentElement.clientWidth];"
        )
        assert widths[0] > 0.9 * widths[1] and widths[2] and widths[3], widths
    finally:
        browser.set_window_size(size["width"], size["height"])
    # the latest plan is no what-if: it has no comparison
    browser.get(f"{demo_server.url}/")
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-id"), str(latest["id"])))
    assert not browser.find_elements(By.ID, "plan-compared")
    assert "wide-card" not in (browser.find_element(By.ID, "summary").get_attribute("class") or "")


def _weeks_csv(series_id: str, history: list[dict[str, Any]], add: float) -> bytes:
    rows = "\n".join(f"{series_id},{h['ds'][:10]},{h['y'] + add}" for h in history)
    return f"unique_id,ds,y\n{rows}\n".encode()


def test_a_forecast_of_a_history_corrected_since_is_said_so_on_its_card(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str], admin: httpx.Client
) -> None:
    """After an upload corrects a series' values, GET /v1/forecasts/{id} says
    `history_changed: true`: the chart drew the corrected history beside the old forecast with
    no word of it."""
    series_id = _first_charted(admin)
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    assert not browser.find_elements(By.ID, "chart-history-changed")
    history = admin.get(f"/v1/observations/{series_id}?last=3").raise_for_status().json()
    upload = admin.post(
        "/v1/observations",
        content=_weeks_csv(series_id, history, 5.0),
        headers={"content-type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text
    forecast = admin.get(f"/v1/forecasts/{series_id}").raise_for_status().json()
    assert forecast["history_changed"] is True
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    note = wait.until(ec.visibility_of_element_located((By.ID, "chart-history-changed")))
    # a warning to the planner, as the plan's warnings and notes are: their class, role and
    # look (it was a muted grey aside, read past as a caption)
    assert "warnings" in (note.get_attribute("class") or "").split()
    assert "muted" not in (note.get_attribute("class") or "").split()
    assert note.get_attribute("role") == "note"
    looks = browser.execute_script(
        "const look = (e) => { const s = getComputedStyle(e);"
        "  return [s.color, s.backgroundColor, s.borderLeftStyle, s.borderLeftColor,"
        "    s.borderLeftWidth]; };"
        "return [look(arguments[0]), look(document.querySelector('#plan-synthetic.warnings'))];",
        note,
    )
    assert looks[0] == looks[1]
    assert looks[0][2] == "solid"
    text = " ".join(note.text.split())
    assert text.startswith(f"The history of {series_id} changed after this forecast was made ")
    assert f"(run #{forecast['run_id']})" in text and "POST /v1/observations" in text
    assert "it is of the older history until the next pipeline run (POST /v1/runs" in text


def test_a_series_stored_since_the_newest_run_is_offered_without_being_drawn_first(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str], admin: httpx.Client
) -> None:
    """A series uploaded since the last run sorts first (`referrals/aaa/...`) but has no
    forecast: the card drew it first, found none, and said "no series to show" beside the
    list it had just filled."""
    weeks = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    rows = "\n".join(f"referrals/aaa/rugby,{d:%Y-%m-%d},{20 + d.week % 5}" for d in weeks)
    upload = admin.post(
        "/v1/observations",
        content=f"unique_id,ds,y\n{rows}\n".encode(),
        headers={"content-type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text
    first = _first_charted(admin)
    open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    picker = browser.find_element(By.ID, "series")
    assert picker.is_enabled() and picker.get_attribute("value") == first
    assert not browser.find_elements(By.ID, "chart-error")
    labels = browser.execute_script(
        "return [...document.querySelector('#series').options].map((o) => [o.value, o.text])"
    )
    assert ["referrals/aaa/rugby", "referrals/aaa/rugby (no forecast yet)"] in labels


@pytest.fixture
def unforecast(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A server over a database holding two series, as `homeward import` stores them, and
    no pipeline run: no forecast, no config, no plan; and a viewer key."""
    settings = keyed_settings(tmp_path, "unforecast.db")
    engine, factory = migrated(settings)
    weeks = pd.date_range("2023-01-02", periods=60, freq="W-MON")
    frame = pd.concat(
        pd.DataFrame({"unique_id": sid, "ds": weeks, "y": 20.0 + weeks.isocalendar().week % 5})
        for sid in ("dtoc_days/barking-and-dagenham", "referrals/ot/rugby")
    ).reset_index(drop=True)
    with transaction(factory) as session:
        repository.store_observations(session, frame, "hist.csv", observations_hash(frame))
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        yield server, key
    engine.dispose()


def test_stored_series_with_no_forecast_yet_are_said_so_once(
    browser: Any, unforecast: tuple[LiveServer, str]
) -> None:
    """The card said "no series to show" in its picker while a red error named a series it
    had tried to draw: two stored series and no pipeline run yet is one plain state."""
    server, key = unforecast
    browser.get(server.url + "/")
    browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
    browser.refresh()
    wait = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.ID, "plan-none")))
    wait.until(lambda b: b.find_element(By.ID, "chart").get_attribute("aria-busy") == "false")
    assert not browser.find_elements(By.ID, "chart-error")
    picker = browser.find_element(By.ID, "series")
    assert not picker.is_enabled()
    assert picker.find_element(By.TAG_NAME, "option").text == "no forecasts yet"
    assert _text(browser, "forecast-unmade") == (
        "No forecasts yet: 2 series are stored (dtoc_days/barking-and-dagenham, "
        "referrals/ot/rugby), but no pipeline run has forecast them. An administrator starts "
        "one (POST /v1/runs), or the weekly schedule will; forecasts appear here after it."
    )
