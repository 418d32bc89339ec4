"""The dashboard shows any stored plan, not only the latest: `/?plan=12` reads GET
/v1/plans/12 and says which plan it is (a what-if or not, when it was made, its config) with a
way back to the latest; a picker lists the plans GET /v1/plans pages through; the links that
name a plan (a sweep's rates, a what-if's number, the plan a comparison is against) open it in
the page; and an address naming no plan says so, offering the latest. Real headless Chromium
against the real server, API keys required."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from homeward import repository
from homeward.roles import Role
from models import PlanRow
from tests.api.conftest import DemoDatabase, key_header, keyed_client, open_with_key
from tests.api.test_dashboard_accessibility import _harmful_violations
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def finance(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    yield from keyed_client(demo_server, role_keys[Role.FINANCE])


@pytest.fixture(scope="module")
def plans(finance: httpx.Client) -> dict[str, dict[str, Any]]:
    """The latest plan and a what-if of the active config at a 20% DFG fee (POST /v1/plans
    with a changed config: stored with `scenario: true`, never the latest)."""
    latest = finance.get("/v1/plans/latest").raise_for_status().json()
    body = copy.deepcopy(finance.get("/v1/configs/active").raise_for_status().json()["body"])
    body["fees"] = {**body.get("fees", {}), "dfg_fee_rate": 0.2}
    what_if = finance.post("/v1/plans", json={"config": body}, timeout=300)
    assert what_if.status_code == 201, what_if.text
    assert what_if.json()["scenario"] is True
    return {"latest": latest, "what_if": what_if.json()}


def _shown(browser: webdriver.Chrome) -> dict[str, Any]:
    """The summary as shown, read in one step (a load under way may redraw it)."""
    shown: dict[str, Any] = browser.execute_script(
        "const s = document.querySelector('#summary');"
        "return { id: s.querySelector('#plan-id')?.textContent ?? null,"
        "  heading: s.querySelector('h2')?.textContent ?? null,"
        "  chosen: s.querySelector('#plan-chosen')?.textContent"
        "    .replace(/\\s+/g, ' ').trim() ?? null,"
        "  fee: s.querySelector('#plan-fee')?.textContent ?? null,"
        "  hours: s.querySelector('#downloads [data-path$=\"/hours.csv\"]')?.dataset.path ?? null,"
        "  address: location.pathname + location.search, picked: document.querySelector("
        "    '#plan-pick').value, busy: s.getAttribute('aria-busy') };"
    )
    return shown


def _until_shown(wait: WebDriverWait, plan_id: int) -> dict[str, Any]:
    """The summary once it shows plan `plan_id` with its figures (its hours card drawn too)."""

    def shown(browser: webdriver.Chrome) -> dict[str, Any] | None:
        now = _shown(browser)
        drawn = browser.find_elements(By.ID, "hours-table")
        return now if now["id"] == str(plan_id) and now["fee"] and drawn else None

    found: dict[str, Any] = wait.until(shown)
    return found


def _made(plan: dict[str, Any]) -> str:
    """When a plan was made, as the page writes it: "2026-01-05 14:03 UTC"."""
    made = datetime.fromisoformat(plan["created_at"].replace("Z", "+00:00"))
    return f"{made:%Y-%m-%d %H:%M} UTC"


def _picker(browser: webdriver.Chrome) -> Any:
    return browser.find_element(By.ID, "plan-pick")


def _options(browser: webdriver.Chrome) -> list[tuple[str, str]]:
    """The plan picker's options, value and text."""
    found: list[list[str]] = browser.execute_script(
        "return [...document.querySelector('#plan-pick').options].map((o) => [o.value, o.text])"
    )
    return [(value, text) for value, text in found]


def _hint(browser: webdriver.Chrome) -> str:
    """What the picker says of the plans it lists."""
    return str(browser.find_element(By.ID, "plan-pick-hint").text)


def _uncaught(browser: webdriver.Chrome) -> list[str]:
    """Script errors in the console since it was last read (a failed request's own line, such
    as a 404, is the browser's report of the answer, not the page's error)."""
    return [
        e["message"]
        for e in browser.get_log("browser")
        if e["level"] == "SEVERE" and "Failed to load resource" not in e["message"]
    ]


def test_a_what_if_opens_by_its_address_saying_which_plan_it_is_and_back_to_the_latest(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    plans: dict[str, dict[str, Any]],
) -> None:
    latest, what_if = plans["latest"], plans["what_if"]
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    before = _until_shown(wait, latest["id"])
    browser.get(f"{demo_server.url}/?plan={what_if['id']}")
    shown = _until_shown(wait, what_if["id"])
    assert shown["heading"] == f"What-if plan #{what_if['id']}"
    assert shown["chosen"] == (
        f"A what-if, made {_made(what_if)} with config #{what_if['config_id']} (a changed "
        "config sent to POST /v1/plans, or one rate of a fee sweep: a what-if is never the "
        "latest plan). Show the latest plan"
    )
    assert what_if["config_id"] != latest["config_id"]
    # its figures and downloads are the what-if's: a higher fee raises more fee income
    assert shown["fee"] != before["fee"]
    assert shown["hours"] == f"/v1/plans/{what_if['id']}/hours.csv"
    assert shown["picked"] == str(what_if["id"])
    assert browser.title == f"Homeward: plan #{what_if['id']}"
    # the active config's note is about the latest plan: a what-if's heading says what it is
    assert not browser.find_element(By.ID, "plan-config-note").is_displayed()
    assert _harmful_violations(browser) == [], "a what-if plan"
    # back to the latest, in the page, and Back shows the what-if again
    browser.find_element(By.ID, "plan-latest-link").click()
    shown = _until_shown(wait, latest["id"])
    assert shown["heading"] == f"Latest plan (#{latest['id']})"
    assert (shown["address"], shown["picked"], shown["fee"]) == ("/", "latest", before["fee"])
    assert browser.find_elements(By.ID, "plan-chosen") == []
    browser.back()
    assert _until_shown(wait, what_if["id"])["address"] == f"/?plan={what_if['id']}"
    # an earlier plan that is not a what-if says so
    browser.get(f"{demo_server.url}/?plan={latest['id']}")
    shown = _until_shown(wait, latest["id"])
    assert shown["heading"] == f"Plan #{latest['id']}"
    assert shown["chosen"].startswith(
        f"Not a what-if, made {_made(latest)} with config #{latest['config_id']}. "
    )
    assert _uncaught(browser) == []


def test_the_picker_lists_the_plans_newest_first_and_opens_the_one_chosen(
    browser: webdriver.Chrome,
    demo_db: DemoDatabase,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    plans: dict[str, dict[str, Any]],
) -> None:
    latest, what_if = plans["latest"], plans["what_if"]
    viewer = key_header(role_keys[Role.VIEWER])
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    _until_shown(wait, latest["id"])
    listed = httpx.get(f"{demo_server.url}/v1/plans", headers=viewer, timeout=60).json()
    wait.until(lambda b: len(_options(browser)) == 1 + len(listed))
    assert browser.find_element(By.CSS_SELECTOR, "label[for='plan-pick']").text == "Plan"
    assert _options(browser) == [("latest", "the latest plan")] + [
        (
            str(p["id"]),
            f"#{p['id']}, {'what-if' if p['scenario'] else 'plan'} of config "
            f"#{p['config_id']}, {_made(p)}, {p['status']}",
        )
        for p in listed
    ]
    assert str(what_if["id"]) in [o[0] for o in _options(browser)]
    Select(_picker(browser)).select_by_value(str(what_if["id"]))
    browser.find_element(By.CSS_SELECTOR, "#plan-form button[type='submit']").click()
    assert _until_shown(wait, what_if["id"])["address"] == f"/?plan={what_if['id']}"
    Select(_picker(browser)).select_by_value("latest")
    browser.find_element(By.CSS_SELECTOR, "#plan-form button[type='submit']").click()
    assert _until_shown(wait, latest["id"])["address"] == "/"

    # more than a page of plans (20): "Older plans" reads the next page by its Link header
    with demo_db.factory.begin() as session:
        stored = session.get(PlanRow, what_if["id"])
        assert stored is not None
        for _ in range(20):
            repository.store_plan(
                session, stored.run_id, stored.config_id, "optimal", 1.0, 0.1, stored.result
            )
    total = int(httpx.get(f"{demo_server.url}/v1/plans", headers=viewer).headers["x-total-count"])
    assert total > 20
    browser.refresh()
    _until_shown(wait, latest["id"])
    wait.until(lambda b: len(_options(browser)) == 21)
    assert _hint(browser) == f"the 20 newest of {total} plans, what-ifs included"
    more = browser.find_element(By.ID, "plan-more")
    assert more.is_displayed() and more.text == "Older plans"
    more.click()
    wait.until(lambda b: len(_options(browser)) == 1 + total)
    every = httpx.get(f"{demo_server.url}/v1/plans?limit=100", headers=viewer).json()
    assert [o[0] for o in _options(browser)[1:]] == [str(p["id"]) for p in every]
    assert not more.is_displayed()
    assert _hint(browser) == f"all {total} plans, what-ifs included"
    # the oldest, the demo's first plan, opens from the second page
    Select(_picker(browser)).select_by_value(str(every[-1]["id"]))
    browser.find_element(By.CSS_SELECTOR, "#plan-form button[type='submit']").click()
    _until_shown(wait, every[-1]["id"])
    # a plan asked for by its address that the first page does not reach is still named
    browser.get(f"{demo_server.url}/?plan={every[-1]['id']}")
    _until_shown(wait, every[-1]["id"])
    picked = Select(_picker(browser)).first_selected_option.text
    assert picked.startswith(f"#{every[-1]['id']}, plan ")
    wait.until(lambda b: _hint(browser) == f"the 20 newest of {total} plans, what-ifs included")
    browser.find_element(By.ID, "plan-more").click()
    wait.until(lambda b: _hint(browser) == f"all {total} plans, what-ifs included")
    assert [o[0] for o in _options(browser)[1:]] == [str(p["id"]) for p in every]  # in its place
    assert _picker(browser).get_attribute("value") == str(every[-1]["id"])
    assert _uncaught(browser) == []


def test_a_sweeps_rates_and_the_plans_a_what_if_names_open_those_plans_in_the_page(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    plans: dict[str, dict[str, Any]],
) -> None:
    latest, what_if = plans["latest"], plans["what_if"]
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    _until_shown(wait, latest["id"])
    # a finished sweep's table, as the page draws it from GET /v1/runs/{id}
    row = {"dfg_fee_rate": 0.2, "plan_id": what_if["id"], "status": "optimal"}
    row |= {"compared_with_plan_id": latest["id"], "not_comparable": None}
    run = {"id": 1, "status": "succeeded", "message": "1 of 1 rates planned", "sweep": [row]}
    browser.execute_script("renderSweep(arguments[0])", run)
    rate = browser.find_element(By.CSS_SELECTOR, "#sweep-table tbody th a")
    assert rate.text == "20%"
    assert rate.get_attribute("title") == f"open what-if plan #{what_if['id']} on this page"
    rate.click()
    shown = _until_shown(wait, what_if["id"])
    assert shown["address"] == f"/?plan={what_if['id']}"
    # the page did not reload: the sweep's table is still there, and the summary has the focus
    assert browser.find_elements(By.ID, "sweep-table")
    assert browser.switch_to.active_element.get_attribute("id") == "summary"
    caption_link = browser.find_element(By.CSS_SELECTOR, "#sweep-caption a")
    assert caption_link.text == f"#{latest['id']}"
    caption_link.click()
    assert _until_shown(wait, latest["id"])["address"] == f"/?plan={latest['id']}"

    # a what-if run from the page: its number and the current plan's open them
    fee = browser.find_element(By.ID, "fee")
    fee.clear()
    fee.send_keys("12")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    headline = WebDriverWait(browser, 300).until(
        ec.presence_of_element_located((By.CSS_SELECTOR, "#whatif-headline a"))
    )
    new_id = int(headline.text.lstrip("#"))
    assert new_id not in (latest["id"], what_if["id"])
    browser.find_element(By.CSS_SELECTOR, "#whatif-headline a").send_keys("\n")  # the keyboard
    _until_shown(wait, new_id)
    assert browser.find_element(By.ID, "whatif-headline").text.startswith(f"what-if #{new_id}:")
    compared = browser.find_element(By.CSS_SELECTOR, "#whatif-changes caption a")
    assert compared.text == f"#{latest['id']}"
    compared.click()
    _until_shown(wait, latest["id"])
    assert _uncaught(browser) == []


@pytest.mark.parametrize(
    ("query", "said"),
    [
        ("abc", 'found "abc"'),
        ("0", 'found "0"'),
        ("2.5", 'found "2.5"'),
        ("", "found nothing"),
        ("1&plan=2", 'once; found it 2 times ("1", "2")'),
    ],
)
def test_an_address_naming_no_plan_id_says_so_and_offers_the_latest(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    plans: dict[str, dict[str, Any]],
    query: str,
    said: str,
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.get(f"{demo_server.url}/?plan={query}")
    error = wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert error.text.startswith(
        "?plan= in the address: expected a plan id, a whole number from 1 to 2147483647 "
        "(as in ?plan=12)"
    )
    assert said in error.text
    assert error.get_attribute("role") == "alert"
    assert browser.find_element(By.CSS_SELECTOR, "#summary h2").text == "Plan asked for"
    for card in ("hours", "waits", "capital", "demand", "backlog", "shadow"):
        note = browser.find_element(By.CSS_SELECTOR, f"#{card} p.no-plan").text
        assert note == "Nothing to show: no plan could be read (see Plan asked for above)."
    assert _uncaught(browser) == []
    browser.find_element(By.ID, "plan-latest-link").click()
    shown = _until_shown(wait, plans["latest"]["id"])
    assert shown["address"] == "/"
    assert browser.find_elements(By.ID, "plan-error") == []


def test_a_plan_id_no_plan_has_is_said_naming_it_and_the_latest_is_offered(
    browser: webdriver.Chrome,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
    plans: dict[str, dict[str, Any]],
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    browser.get(f"{demo_server.url}/?plan=987654")
    error = wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert error.text == (
        "?plan=987654 in the address: expected the id of a stored plan (the list above offers "
        "them); found 987654, which no stored plan has (the server answered: no plan with id "
        "987654). It may be mistyped, or the plan removed."
    )
    assert browser.find_element(By.CSS_SELECTOR, "#summary h2").text == "Plan #987654"
    assert browser.find_elements(By.ID, "plan-none") == []  # not "no plan has been made yet"
    latest_link = browser.find_element(By.ID, "plan-latest-link")
    assert latest_link.text == "Show the latest plan"
    assert _harmful_violations(browser) == [], "a plan id no plan has"
    assert _uncaught(browser) == []
    # the keyboard follows it too
    latest_link.send_keys("\n")
    _until_shown(wait, plans["latest"]["id"])
    wait.until(ec.presence_of_element_located((By.ID, "backlog-chart")))
    # Back to the address in the page: no card keeps the plan shown before
    browser.back()
    wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert browser.find_elements(By.CSS_SELECTOR, "#plan-id, #hours-table, #backlog-chart") == []
    for card in ("hours", "waits", "capital", "demand", "backlog", "shadow"):
        note = browser.find_element(By.CSS_SELECTOR, f"#{card} p.no-plan").text
        assert note == "Nothing to show: no plan could be read (see Plan #987654 above)."
