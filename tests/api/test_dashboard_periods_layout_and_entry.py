"""The dashboard in real headless Chromium, read as a workforce planner and a finance officer
read it: every total says the weeks it covers and adds up to GET /v1/plans/latest, hours come
by district and service with their totals and an average week, nothing overflows its card on a
1366-pixel laptop, figures read with one key are not left as current while another key loads,
fee entries are refused next to their field (duplicated rates too), and a second click while a
what-if or sweep runs sends nothing."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import (
    browser_clock,
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

SERVICES = ("ot", "hao", "reablement", "domcare")
# a chart's title (what a point counts) and its scale's top and bottom: not the dates it spans
# or its month ticks (test_dashboard_date_ticks.py)
SCALE_LABELS = "text:not(.axis-dates):not(.axis-tick)"
SERVICE_HEADERS = ("OT", "HAO", "reablement", "domiciliary care")


def _shown(x: float, digits: int = 0) -> str:
    """A number as the page writes it (en-GB, half away from zero, thousands separated)."""
    exact = Decimal(repr(float(x))).quantize(Decimal(1).scaleb(-digits), ROUND_HALF_UP)
    return f"{exact:,.{digits}f}"


def _get(server: LiveServer, key: str, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", headers=key_header(key), timeout=60)
    return response.raise_for_status().json()


def _period(plan: dict[str, Any]) -> tuple[int, str]:
    """The number of weeks a plan covers and how the page names them."""
    result = plan["result"]
    weeks = sorted(
        {row["ds"][:10] for part in ("revenue", "hours", "demand") for row in result[part]}
    )
    last = dt.date.fromisoformat(weeks[-1]) + dt.timedelta(days=6)
    return len(weeks), f"over the plan's {len(weeks)} weeks, {weeks[0]} to {last.isoformat()}"


@pytest.fixture
def laptop(browser: Any) -> Iterator[Any]:
    """The browser at a 1366x768 laptop's size, put back afterwards."""
    before = browser.get_window_size()
    browser.set_window_size(1366, 768)
    yield browser
    browser.set_window_size(before["width"], before["height"])


def test_the_summary_says_the_weeks_its_totals_cover_and_they_add_up_to_the_api(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    open_with_key(browser, demo_server, key, timeout_s=90)
    plan = _get(demo_server, key, "/v1/plans/latest")
    weeks, period = _period(plan)
    assert weeks > 1
    assert browser.find_element(By.ID, "plan-period").text == f"Totals {period}"
    revenue = plan["result"]["revenue"]
    shown = {
        name: browser.find_element(By.ID, f"plan-{name}").text
        for name in (
            "wait", "staff", "agency", "fee", "charge", "net", "budget", "unspent", "dtoc",
            "sim-dtoc",
        )
    }  # fmt: skip
    assert shown == {
        "wait": _shown(plan["objective_weighted_wait_days"]),
        "staff": _shown(sum(r["staff_cost_gbp"] for r in revenue)),
        "agency": _shown(sum(r["agency_cost_gbp"] for r in revenue)),
        "fee": _shown(sum(r["fee_income_gbp"] for r in revenue)),
        "charge": _shown(sum(r["charge_income_gbp"] for r in revenue)),
        "net": _shown(sum(r["net_cost_gbp"] for r in revenue)),
        # what a finance officer holds the plan to: the revenue budget and what it leaves unspent
        "budget": _shown(sum(r["budget_gbp"] for r in revenue)),
        "unspent": _shown(sum(r["headroom_gbp"] for r in revenue)),
        "dtoc": _shown(plan["result"]["total_dtoc_days"]),
        # beside the LP's, the queue simulation's, which is the larger on the demo
        "sim-dtoc": _shown(plan["result"]["simulated_dtoc_days"]),
    }
    # what is left waiting if referrals come in high is a count of cases, and says so
    risk_head = browser.find_elements(By.CSS_SELECTOR, "#risk-table thead th")
    assert risk_head[-1].text == "cases still waiting at the end, high"
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#summary .kpi .muted")]
    assert [label for label in labels if "GBP" in label] == [
        "staff cost, GBP",
        "agency cost, GBP",
        "fee income, GBP",
        "charge income, GBP",
        "net cost (less fees and charges), GBP",
        "revenue budget, GBP",
        "budget left unspent, GBP",
    ]


def _hours_table(browser: Any) -> dict[str, Any]:
    """The hours table read in one step: caption, header cells with their scope, body rows
    and the totals row."""
    table: dict[str, Any] = browser.execute_script(
        "const t = document.querySelector('#hours-table');"
        "const cells = (tr) => [...tr.cells].map((c) => c.textContent.trim());"
        "return { caption: t.caption.textContent.replace(/\\s+/g, ' ').trim(),"
        "  head: [...t.tHead.rows[0].cells].map((c) => [c.tagName, c.getAttribute('scope'),"
        "    c.textContent.trim()]),"
        "  body: [...t.tBodies[0].rows].map(cells), foot: cells(t.tFoot.rows[0]),"
        "  footHeader: t.tFoot.rows[0].cells[0].tagName + ':'"
        "    + t.tFoot.rows[0].cells[0].getAttribute('scope') };"
    )
    return table


def test_hours_show_each_districts_total_and_an_average_week_as_the_api_adds_them_up(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    plan = _get(demo_server, key, "/v1/plans/latest")
    weeks, period = _period(plan)
    # the page read on a Thursday in the plan's middle week (the demo's plan is over by now)
    planned = sorted({r["ds"][:10] for r in plan["result"]["hours"]})
    this_week = planned[len(planned) // 2]
    now = dt.datetime.fromisoformat(f"{this_week}T12:00:00+00:00") + dt.timedelta(days=3)
    with browser_clock(browser, now):
        wait = open_with_key(browser, demo_server, key, timeout_s=90)
    # each district by the name its config gives it ("North Warwickshire"), in that order
    config = _get(demo_server, key, f"/v1/configs/{plan['config_id']}")
    names = {d["id"]: d["name"] for d in config["body"]["districts"]}
    hours: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for row in plan["result"]["hours"]:
        hours[row["district"]][row["service"]] += row["hours"]

    def expected(scale: float) -> tuple[list[list[str]], list[str]]:
        body = [
            [
                names[d],
                *(_shown(hours[d][s] * scale) for s in SERVICES),
                _shown(sum(hours[d].values()) * scale),
            ]
            for d in sorted(hours, key=lambda d: names[d])
        ]
        totals = [sum(hours[d][s] for d in hours) for s in SERVICES]
        foot = ["all districts", *(_shown(t * scale) for t in totals), _shown(sum(totals) * scale)]
        return body, foot

    # the plan's hours rows are the hours worked, in-house and agency both, as the caption says
    staffing = plan["result"]["staffing"]
    assert sum(r["hours"] for r in plan["result"]["hours"]) == pytest.approx(
        sum(s["staff_hours"] + s["agency_hours"] for s in staffing)
    )
    table = _hours_table(browser)
    assert table["head"] == [
        ["TH", "col", name] for name in ("district", *SERVICE_HEADERS, "all services")
    ]
    assert table["caption"] == f"Hours worked (in-house and agency) in total {period}"
    assert (table["body"], table["foot"]) == expected(1.0)
    assert table["footHeader"] == "TH:row"
    # the hours a planner rosters: an average week, the totals divided by the plan's weeks
    Select(browser.find_element(By.ID, "hours-per")).select_by_visible_text("average a week")
    wait.until(ec.text_to_be_present_in_element((By.ID, "hours-caption"), "average week"))
    table = _hours_table(browser)
    assert table["caption"] == (
        "Hours worked (in-house and agency) in an average week: "
        f"the hours {period}, divided by {weeks}"
    )
    assert (table["body"], table["foot"]) == expected(1 / weeks)
    assert browser.find_element(By.CSS_SELECTOR, "label[for='hours-per']").text == "Show"
    # one week of the plan, as rostered (the plan's weeks differ by a third between seasons)
    week = plan["result"]["hours"][-1]["ds"][:10]
    Select(browser.find_element(By.ID, "hours-per")).select_by_value(f"ds:{week}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "hours-caption"), f"week of {week}"))
    table = _hours_table(browser)
    assert table["caption"] == f"Hours worked (in-house and agency) in the week of {week}"
    hours.clear()
    for row in plan["result"]["hours"]:
        if row["ds"][:10] == week:
            hours[row["district"]][row["service"]] += row["hours"]
    assert (table["body"], table["foot"]) == expected(1.0)
    options = browser.execute_script(
        "return [...document.querySelectorAll('#hours-per optgroup option')].map(o => o.value)"
    )
    assert options == [f"ds:{w}" for w in planned]
    # the week under way is marked as this week, and no other
    marked = browser.execute_script(
        "return [...document.querySelectorAll('#hours-per optgroup option')]"
        ".filter(o => o.text.endsWith('(this week)')).map(o => o.value)"
    )
    assert marked == [f"ds:{this_week}"]

    # the queues week by week, one service at a time, as the plan's backlog rows add up
    section = browser.find_element(By.ID, "backlog")
    services = [o.get_attribute("value") for o in section.find_elements(By.TAG_NAME, "option")]
    assert services == ["ot", "hao", "reablement", "domcare", "dfg_works"]
    Select(browser.find_element(By.ID, "backlog-service")).select_by_value("domcare")
    wait.until(ec.text_to_be_present_in_element((By.ID, "backlog-caption"), "domiciliary care"))
    waiting: dict[str, float] = defaultdict(float)
    for row in plan["result"]["backlog"]:
        if row["service"] == "domcare":
            waiting[row["ds"][:10]] += row["backlog_cases"]
    shown = browser.execute_script(
        "return [...document.querySelectorAll('#backlog-table tbody tr')]"
        ".map(tr => [...tr.cells].map(c => c.textContent))"
    )
    assert shown == [[ds, f"{waiting[ds]:,.1f}"] for ds in sorted(waiting)]
    line = browser.find_element(By.CSS_SELECTOR, "#backlog-chart svg polyline.backlog")
    # today is marked, where it falls between the weeks the line is drawn at
    xs = [float(p.split(",")[0]) for p in (line.get_attribute("points") or "").split()]
    days = sorted(waiting)
    assert len(xs) == len(days) and days[0] < this_week < days[-1]
    after = next(i for i, d in enumerate(days) if d > now.date().isoformat())
    between = (now - dt.datetime.fromisoformat(f"{days[after - 1]}T00:00:00+00:00")) / (
        dt.date.fromisoformat(days[after]) - dt.date.fromisoformat(days[after - 1])
    )
    marks = browser.find_elements(By.CSS_SELECTOR, "#backlog-chart svg g.today")
    assert len(marks) == 1
    assert marks[0].find_element(By.TAG_NAME, "text").text == "today"
    at = float(marks[0].find_element(By.TAG_NAME, "line").get_attribute("x1") or "nan")
    assert at == pytest.approx(xs[after - 1] + between * (xs[after] - xs[after - 1]), abs=0.5)


def _overflowing(browser: Any) -> list[str]:
    """Cards whose content is wider than the card (spilling over its edge, not scrolling in a
    box of its own), and pairs of cards that overlap."""
    found: list[str] = browser.execute_script(
        "const cards = [...document.querySelectorAll('main > section')];"
        "const out = cards.filter((s) => s.scrollWidth > s.clientWidth + 1)"
        "  .map((s) => `${s.id} ${s.scrollWidth}>${s.clientWidth}`);"
        "const r = cards.map((s) => s.getBoundingClientRect());"
        "for (let i = 0; i < r.length; i++) for (let j = i + 1; j < r.length; j++) {"
        "  const a = r[i], b = r[j];"
        "  if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1"
        "      && b.top < a.bottom - 1) out.push(`${cards[i].id} overlaps ${cards[j].id}`); }"
        "if (document.documentElement.scrollWidth > document.documentElement.clientWidth)"
        "  out.push('page scrolls sideways');"
        "return out;"
    )
    return found


def _wrapped_cells(browser: Any) -> list[str]:
    """Table body cells whose visible text runs onto a second line ("north-" over
    "warwickshire"), read as table id and cell text."""
    found: list[str] = browser.execute_script(
        "const out = [];"
        "for (const cell of document.querySelectorAll("
        "    'main tbody td, main tbody th, main tfoot td, main tfoot th')) {"
        "  const tops = new Set();"
        "  const walk = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT);"
        "  for (let node = walk.nextNode(); node; node = walk.nextNode()) {"
        "    if (node.parentElement.closest('.visually-hidden')) continue;"
        "    const range = document.createRange(); range.selectNodeContents(node);"
        "    for (const r of range.getClientRects()) if (r.width > 0) tops.add(Math.round(r.top));"
        "  }"
        "  if (tops.size > 1) out.push(`${cell.closest('table').id}: ${cell.textContent.trim()}`);"
        "}"
        "return out;"
    )
    return found


def test_nothing_spills_out_of_its_card_on_a_1366_pixel_laptop(
    laptop: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(laptop, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    assert laptop.execute_script("return window.innerWidth") >= 1300
    assert _overflowing(laptop) == []
    assert _wrapped_cells(laptop) == []  # each district, figure and total on one line


def test_figures_read_with_one_key_are_not_left_as_current_while_another_key_loads(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "hours-table")))
    # the new key's plan is slow to come: until it does, the old key's plan is not shown
    browser.execute_script(
        "const f = window.fetch; window.fetch = (url, opts) =>"
        "  String(url) === '/v1/plans/latest' ? new Promise(() => {}) : f(url, opts);"
    )
    field = browser.find_element(By.ID, "api-key")
    field.send_keys(role_keys[Role.PLANNER])
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    summary = browser.find_element(By.ID, "summary")
    assert summary.text == "Latest plan\nloading…"
    assert summary.get_attribute("aria-busy") == "true"
    for card in ("hours", "waits", "shadow", "demand"):
        assert "loading…" in browser.find_element(By.ID, card).text
    assert browser.find_elements(By.CSS_SELECTOR, "#plan-id, #hours-table, #waits-table") == []


def _spy(browser: Any) -> None:
    """Record each request the page starts from now on (method, URL) in `window.__sent`."""
    browser.execute_script(
        "window.__sent = [];"
        "if (!window.__spied) { const f = window.fetch; window.__spied = true;"
        "  window.fetch = (url, opts = {}) => {"
        "    window.__sent.push([opts.method || 'GET', String(url)]); return f(url, opts); }; }"
    )


def _sent(browser: Any) -> list[list[str]]:
    sent: list[list[str]] = browser.execute_script("return window.__sent")
    return sent


def _submit(browser: Any, field_id: str, form_id: str, text: str) -> None:
    field = browser.find_element(By.ID, field_id)
    field.clear()
    field.send_keys(text)
    browser.find_element(By.CSS_SELECTOR, f"#{form_id} button").click()


def _error_tied_to(browser: Any, field_id: str, error_id: str) -> str:
    """The error shown for a field, checked to be read out with it: the field names it in
    aria-describedby and is marked invalid, and the error is an alert."""
    field = browser.find_element(By.ID, field_id)
    error = browser.find_element(By.ID, error_id)
    assert error_id in (field.get_attribute("aria-describedby") or "").split()
    assert field.get_attribute("aria-invalid") == "true"
    assert error.get_attribute("role") == "alert"
    text: str = error.text
    return text


def test_fee_entries_are_refused_next_to_their_field_duplicated_rates_too(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    _spy(browser)
    for rates, wrong in (
        ("10, 10%", "10% is given twice: enter each fee rate once"),
        ("5, 7.5, 7.50", "7.50% is given twice"),
        ("ten, 20", '"ten" is not a number'),
        ("5, 150", "150% is not a fee rate"),
        ("10", "Only 1 rate given"),
    ):
        _submit(browser, "sweep-rates", "sweep-form", rates)
        assert wrong in _error_tied_to(browser, "sweep-rates", "sweep-error")
    # the fee box is the page's to check, as typed: the browser's own "Please fill out this
    # field" or a number box that drops letters never stands in for the page's message
    for fee, wrong in (
        ("abc", '"abc" is not a number: enter the fee rate in percent'),
        ("", "Enter a DFG fee rate in percent, from 0 to 100"),
        ("150", "150% is not a fee rate"),
    ):
        _submit(browser, "fee", "fee-form", fee)
        assert wrong in _error_tied_to(browser, "fee", "whatif-error")
    assert not [s for s in _sent(browser) if s[0] == "POST"]
    # a good entry clears the error's tie to the field
    _submit(browser, "sweep-rates", "sweep-form", "")  # (empty: refused, still tied)
    field = browser.find_element(By.ID, "sweep-rates")
    browser.execute_script("arguments[0].value = '5, 10'", field)
    browser.execute_script("window.fetch = () => new Promise(() => {})")  # nothing reaches the API
    browser.find_element(By.CSS_SELECTOR, "#sweep-form button").click()
    assert field.get_attribute("aria-describedby") == "sweep-hint"
    assert field.get_attribute("aria-invalid") == "false"


def _submit_twice(browser: Any, form_id: str) -> list[int]:
    """Submit a form twice in one go, as a double click does before anything comes back: the
    requests started by the first submit and by the second, and whether the button was
    disabled in between."""
    counts: list[int] = browser.execute_script(
        "const form = document.querySelector(arguments[0]);"
        "const before = window.__sent.length; form.requestSubmit();"
        "const first = window.__sent.length - before;"
        "const disabled = form.querySelector('button').disabled ? 1 : 0;"
        "form.requestSubmit();"
        "return [first, window.__sent.length - before - first, disabled];",
        f"#{form_id}",
    )
    return counts


def test_a_second_click_while_a_what_if_or_sweep_runs_sends_nothing(
    laptop: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    browser = laptop
    key = role_keys[Role.FINANCE]
    open_with_key(browser, demo_server, key, timeout_s=90)
    wait = WebDriverWait(browser, 120)
    field = browser.find_element(By.ID, "fee")
    field.clear()
    field.send_keys("12")
    _spy(browser)
    first, second, disabled = _submit_twice(browser, "fee-form")
    assert first >= 1 and second == 0 and disabled == 1
    assert (
        "Planning a what-if at a DFG fee rate of 12%"
        in browser.find_element(By.ID, "whatif-result").text
    )
    headline = wait.until(ec.presence_of_element_located((By.ID, "whatif-headline")))
    # the what-if's figures read as the page's text, not as a grey note
    assert _text_style(browser, "#whatif-headline") == BODY_TEXT
    assert browser.find_element(By.CSS_SELECTOR, "#fee-form button").is_enabled()
    assert [s for s in _sent(browser) if s[0] == "POST"] == [["POST", "/v1/plans"]]
    # the what-if's totals say the weeks they cover, as its plan in the API has them
    what_if_id = re.match(r"what-if #(\d+):", headline.text)
    assert what_if_id is not None
    _weeks, period = _period(_get(demo_server, key, f"/v1/plans/{what_if_id.group(1)}"))
    assert headline.text.endswith(period)
    caption = browser.find_element(By.CSS_SELECTOR, "#whatif-changes caption").text
    assert caption.startswith(f"Totals {period}, against the current plan #")
    # on a laptop each measure and figure of the comparison reads on one line
    assert [c for c in _wrapped_cells(browser) if c.startswith("whatif-changes")] == []

    rates = browser.find_element(By.ID, "sweep-rates")
    rates.clear()
    rates.send_keys("5, 10")
    _spy(browser)
    first, second, disabled = _submit_twice(browser, "sweep-form")
    assert first >= 1 and second == 0 and disabled == 1
    wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-status"), "finished"))
    assert [s for s in _sent(browser) if s[0] == "POST"] == [["POST", "/v1/plans/sweeps"]]
    # the sweep's totals say the weeks they cover, as its what-if plans in the API have them
    run_id = re.match(r"Sweep run #(\d+) ", browser.find_element(By.ID, "sweep-status").text)
    assert run_id is not None
    run = _get(demo_server, key, f"/v1/runs/{run_id.group(1)}")
    _weeks, period = _period(_get(demo_server, key, f"/v1/plans/{run['sweep'][0]['plan_id']}"))
    wait.until(ec.text_to_be_present_in_element((By.ID, "sweep-period"), "Totals"))
    assert browser.find_element(By.ID, "sweep-period").text == f". Totals {period}"
    assert _text_style(browser, "#sweep-table tbody td")[0] == BODY_TEXT[0]  # its own 12 px
    # on a laptop the sweep's table fits its box, every column in view (no sideways scroll)
    box = browser.find_element(By.CSS_SELECTOR, "#sweep-result .wide")
    assert browser.execute_script(
        "return arguments[0].scrollWidth <= arguments[0].clientWidth", box
    ), browser.execute_script("return [arguments[0].scrollWidth, arguments[0].clientWidth]", box)
    hidden: list[str] = browser.execute_script(
        "const box = arguments[0].getBoundingClientRect();"
        "return [...document.querySelectorAll('#sweep-table th, #sweep-table td')].filter((c) => {"
        "  const r = c.getBoundingClientRect();"
        "  return r.left < box.left - 1 || r.right > box.right + 1;"
        "}).map((c) => c.textContent);",
        box,
    )
    assert hidden == []
    # and its caption wraps within the box rather than running off along the table
    overrun = browser.execute_script(
        "arguments[0].scrollLeft = 0;"
        "return document.querySelector('#sweep-caption').getBoundingClientRect().right"
        "  - arguments[0].getBoundingClientRect().right;",
        box,
    )
    assert overrun <= 1
    # twelve rates of a council's larger figures are wider than the card: the table scrolls in
    # its box, and the page itself never scrolls sideways (the words kept for screen readers
    # in each change cell used to widen it)
    rows = [
        {**row, **{k: v * 1000 for k, v in row.items() if isinstance(v, float)}, "dfg_fee_rate": r}
        for r in (0.05, 0.075, 0.1, 0.125, 0.15, 0.175, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
        for row in run["sweep"][:1]
    ]
    browser.execute_script(
        "document.querySelector('#sweep-result').replaceChildren(); renderSweep(arguments[0])",
        {**run, "sweep": rows},
    )
    box = browser.find_element(By.CSS_SELECTOR, "#sweep-result .wide")
    assert browser.execute_script(
        "const page = document.documentElement;"
        "return [arguments[0].scrollWidth > arguments[0].clientWidth,"
        "  page.scrollWidth - page.clientWidth];",
        box,
    ) == [True, 0]


BODY_TEXT = ("rgb(29, 39, 51)", "15px")  # the page's text: index.html's body colour and size


def _text_style(browser: Any, css: str) -> tuple[str, str]:
    """The colour and size of the first element matching `css`."""
    style: list[str] = browser.execute_script(
        "const s = getComputedStyle(document.querySelector(arguments[0]));"
        "return [s.color, s.fontSize];",
        css,
    )
    return style[0], style[1]


def _cards(browser: Any) -> list[dict[str, Any]]:
    """Each card's id and box, the gap below its content (its padding and the last element's
    margin when it is as tall as its content) and the grid's content width."""
    cards: list[dict[str, Any]] = browser.execute_script(
        "const main = document.querySelector('main'), style = getComputedStyle(main);"
        "const width = main.clientWidth - parseFloat(style.paddingLeft)"
        "  - parseFloat(style.paddingRight);"
        "return [...main.children].map((s) => { const r = s.getBoundingClientRect();"
        "  const bottoms = [...s.children].map((c) => c.getBoundingClientRect().bottom);"
        "  const bottom = Math.max(...bottoms);"
        "  return { id: s.id, top: r.top, left: r.left, width: r.width,"
        "    below: r.bottom - bottom, grid: width }; });"
    )
    return cards


def test_laptop_widths_leave_no_blank_column_beside_the_summary_and_no_stretched_card(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """The hours card spanned two grid columns wherever there were two: at 1024 and 1280 px it
    dropped under the summary, leaving a blank column beside it, and at 1366 it stretched to
    the summary's height, a white card 1,000 px taller than its table. The summary has the
    whole row at each (test_wide_screens_leave_no_blank_beside_the_hours_card)."""
    before = browser.get_window_size()
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    try:
        for width, height in ((1024, 768), (1280, 800), (1366, 768)):
            browser.set_window_size(width, height)
            cards = _cards(browser)
            summary = cards[0]
            beside = [c for c in cards if abs(c["top"] - summary["top"]) < 1]
            filled = sum(c["width"] for c in beside) + 16 * (len(beside) - 1)
            assert filled == pytest.approx(summary["grid"], abs=2), (width, beside)
            assert [c["id"] for c in beside] == ["summary"]
            stretched = [f"{c['id']} {c['below']:.0f}" for c in cards if c["below"] > 40]
            assert stretched == [], width
            assert _overflowing(browser) == [], width
    finally:
        browser.set_window_size(before["width"], before["height"])


def _blank_in_rows(browser: Any, ids: tuple[str, ...]) -> dict[str, dict[str, float]]:
    """For the grid row each of the cards `ids` starts in: its area (the grid's content width
    by the height of its tallest card) and the share of it no card covers (nor the gaps
    between them): the blank a short card leaves beside a tall one."""
    rows: dict[str, dict[str, float]] = browser.execute_script(
        "const main = document.querySelector('main'), style = getComputedStyle(main);"
        "const width = main.clientWidth - parseFloat(style.paddingLeft)"
        "  - parseFloat(style.paddingRight), gap = parseFloat(style.columnGap);"
        "const cards = [...main.children].map((s) => s.getBoundingClientRect());"
        "return Object.fromEntries(arguments[0].map((id) => {"
        "  const top = document.getElementById(id).getBoundingClientRect().top;"
        "  const row = cards.filter((r) => Math.abs(r.top - top) < 1);"
        "  const height = Math.max(...row.map((r) => r.bottom)) - top;"
        "  const covered = row.reduce((a, r) => a + r.width * r.height, 0)"
        "    + gap * height * (row.length - 1);"
        "  return [id, { cards: row.length, area: width * height,"
        "    blank: 1 - covered / (width * height) }]; }));",
        list(ids),
    )
    return rows


def test_wide_screens_leave_no_blank_beside_the_hours_card(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """From 1360 px the latest plan's summary kept the first grid column, 2,000 px and more
    tall on the demo, with the hours card beside it 300 px tall: 1,300 px wide by 2,000 px of
    blank under the hours (58% of the row at 1366 px). The summary has the whole row now, its
    figures, warnings and notes flowing in columns, and the hours the row under it; from a
    phone to a 1920 px screen no row holding either is more than a tenth blank, and nothing
    spills out of its card."""
    before = browser.get_window_size()
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    try:
        for width in (390, 768, 1024, 1366, 1600, 1920):
            browser.set_window_size(width, 900)
            rows = _blank_in_rows(browser, ("summary", "hours"))
            assert all(r["blank"] <= 0.1 for r in rows.values()), (width, rows)
            assert _overflowing(browser) == [], width
    finally:
        browser.set_window_size(before["width"], before["height"])


SHADOW_KINDS = ("revenue", "capital", "team_hours_max", "team_hours_min", "works_limit")


def _shadow_expected(plan: dict[str, Any]) -> list[list[str]]:
    """Per kind of constraint, in the page's order, its two largest shadow prices as the page
    words them: a period's week named by its start date, a bound in e-notation written out."""
    result = plan["result"]
    dates = {
        str(r["period"]): r["ds"][:10]
        for part in ("revenue", "hours", "demand")
        for r in result[part]
    }

    def words(statement: str) -> str:
        found = re.match(r"Period (\d+):", statement)
        if found and found.group(1) in dates:
            n = found.group(1)
            statement = f"Week of {dates[n]} (period {n}):" + statement[found.end() :]
        return re.sub(
            r"\b\d+(?:\.\d+)?e[+-]?\d+\b",
            lambda m: _shown(float(m.group(0))),
            statement,
            flags=re.IGNORECASE,
        )

    prices = sorted(
        (p for p in result["shadow_prices"] if abs(p["value"]) > 1e-9),
        key=lambda p: -abs(p["value"]),
    )
    return [
        [words(p["statement"]) for p in prices if p["constraint"] == kind][:2]
        for kind in SHADOW_KINDS
        if any(p["constraint"] == kind for p in prices)
    ]


def test_shadow_prices_come_by_kind_so_pounds_do_not_crowd_out_hours_and_name_their_week(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    open_with_key(browser, demo_server, key, timeout_s=90)
    plan = _get(demo_server, key, "/v1/plans/latest")
    expected = _shadow_expected(plan)
    # the demo's plan has binding prices of more than one kind: pounds and hours both
    assert len(expected) > 1
    shown: list[list[str]] = browser.execute_script(
        "return [...document.querySelectorAll('#shadow ul')]"
        ".map((ul) => [...ul.children].map((li) => li.textContent))"
    )
    assert shown == expected
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#shadow h3")]
    assert len(headings) == len(expected) and headings[0].startswith("Revenue budget")
    assert headings[-1].startswith("DFG works limit")  # the demo limits works, and it binds
    assert not any(re.search(r"\de[+-]\d", line) for group in shown for line in group)
    assert not any(line.startswith("Period ") for group in shown for line in group)


def test_a_refused_key_empties_every_card_saying_why_and_the_header_says_it_was_refused(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    assert browser.find_element(By.ID, "key-status").text == "a key is in use for this tab"
    field = browser.find_element(By.ID, "api-key")
    field.send_keys("hw_not-a-key")
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    error = wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert "not known" in error.text
    # the header does not say the refused key is in use
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-status"), "not accepted"))
    assert browser.find_element(By.ID, "key-status").text == "the key was not accepted"
    for card in ("hours", "waits", "capital", "demand", "shadow"):
        note = browser.find_element(By.CSS_SELECTOR, f"#{card} p.no-plan").text
        assert note == "Nothing to show: no plan could be read (see Latest plan above)."
    # the forecast card no longer offers the series the old key could read
    chart_error = wait.until(ec.presence_of_element_located((By.ID, "chart-error")))
    assert "not known" in chart_error.text
    series = browser.find_element(By.ID, "series")
    assert not series.is_enabled()
    assert [o.text for o in series.find_elements(By.TAG_NAME, "option")] == ["no series to show"]
    # an empty box forgets the key, and the header says none is sent
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-status"), "no key in use"))
    assert browser.execute_script("return sessionStorage.getItem('homeward-api-key')") is None


def test_the_forecast_chart_says_its_scale_is_a_week_and_is_described_by_its_caption(
    laptop: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    wait = open_with_key(laptop, demo_server, key, timeout_s=90)
    caption = wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    series_id = caption.text.split(":")[0]
    forecast = _get(demo_server, key, f"/v1/forecasts/{series_id}")
    history = _get(demo_server, key, f"/v1/observations/{series_id}?last=104")
    values = [h["y"] for h in history]
    values += [p[band] for p in forecast["points"] for band in ("lo-95", "hi-95")]
    low, high = _shown(min(values)), _shown(max(values))
    svg = laptop.find_element(By.CSS_SELECTOR, "#chart svg")
    assert svg.get_attribute("aria-label") == (
        f"forecast of {series_id}, a week, on a scale from {low} to {high}"
    )
    # a screen reader hears the caption and the backtest's accuracy with the chart
    described = (svg.get_attribute("aria-describedby") or "").split()
    assert described == ["chart-caption", "chart-accuracy"]
    assert all(laptop.find_element(By.ID, d).text for d in described)
    # what a point counts, then the scale's top and bottom (not the date span or month ticks)
    scale = [t.text for t in svg.find_elements(By.CSS_SELECTOR, SCALE_LABELS)]
    assert scale == ["per week", high, low]
    # drawn at its own width and shape: no blank band above and below the lines, and its
    # text the size it is written at
    width, height, box_width, box_height = laptop.execute_script(
        "const r = arguments[0].getBoundingClientRect(), v = arguments[0].viewBox.baseVal;"
        "return [r.width, r.height, v.width, v.height];",
        svg,
    )
    assert width == pytest.approx(box_width, abs=2)
    assert height == pytest.approx(width * box_height / box_width, abs=2)


def test_the_demand_chart_says_its_scale_is_cases_a_week(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    plan = _get(demo_server, key, "/v1/plans/latest")
    weeks: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0])
    for row in plan["result"]["demand"]:
        weeks[row["ds"]][0] += row["forecast_cases"]
        weeks[row["ds"]][1] += row["planned_cases"]
    values = [v for pair in weeks.values() for v in pair]
    low, high = _shown(0.0), _shown(max(values))  # from 0, not from the smallest week's cases
    svg = browser.find_element(By.CSS_SELECTOR, "#demand svg")
    scale = [t.text for t in svg.find_elements(By.CSS_SELECTOR, SCALE_LABELS)]
    assert scale == ["cases a week", high, low]
    dates = sorted(str(ds)[:10] for ds in weeks)  # and the weeks it spans
    assert svg.find_element(By.CSS_SELECTOR, ".axis-dates").text == f"{dates[0]} to {dates[-1]}"
    assert f"on a scale from {low} to {high}" in (svg.get_attribute("aria-label") or "")


def test_a_what_if_sent_with_one_key_is_not_shown_after_the_key_changes(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    # the what-if's answer is held until the key has changed
    browser.execute_script(
        "let release; window.__release = new Promise((r) => { release = r; });"
        "window.__go = () => release(); const f = window.fetch;"
        "window.fetch = (url, opts = {}) => (opts.method === 'POST' && String(url) === '/v1/plans')"
        "  ? window.__release.then(() => f(url, opts)) : f(url, opts);"
    )
    field = browser.find_element(By.ID, "fee")
    field.clear()
    field.send_keys("14")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    assert "Planning a what-if" in browser.find_element(By.ID, "whatif-result").text
    key_field = browser.find_element(By.ID, "api-key")
    key_field.send_keys(role_keys[Role.PLANNER])
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), "optimal"))
    browser.execute_script("window.__go()")
    # the held what-if comes back and finishes (its button is free again), shown nowhere
    wait.until(lambda b: b.find_element(By.CSS_SELECTOR, "#fee-form button").is_enabled())
    assert browser.find_elements(By.ID, "whatif-headline") == []
    assert browser.find_element(By.ID, "whatif-result").text == ""


def test_no_plan_yet_is_said_as_such_with_how_a_plan_is_made_not_as_a_failure(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = keyed_settings(tmp_path_factory.mktemp("noplan"), "noplan.db")
    _engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "noplan-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        latest = httpx.get(f"{server.url}/v1/plans/latest", headers=key_header(key))
        assert latest.status_code == 404
        browser.get(server.url + "/")
        browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
        browser.refresh()
        wait = WebDriverWait(browser, 30)
        note = wait.until(ec.presence_of_element_located((By.ID, "plan-none")))
        assert note.text.startswith("No plan has been made yet.")
        assert "POST /v1/runs" in note.text
        assert browser.find_elements(By.CSS_SELECTOR, "#summary .error, #plan-error") == []
        for card in ("hours", "waits", "capital", "demand", "shadow"):
            text = browser.find_element(By.ID, card).text
            assert text.endswith("Nothing to show until the first plan is made.")
        # a 404 that is not the service's (a proxy's page) is still reported as a failure
        browser.execute_script(
            "const f = window.fetch; window.fetch = (url, opts) =>"
            "  String(url) === '/v1/plans/latest'"
            "  ? Promise.resolve(new Response('<h1>Not Found</h1>',"
            "    {status: 404, statusText: 'Not Found', headers: {'content-type': 'text/html'}}))"
            "  : f(url, opts); load();"
        )
        error = wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
        assert "404 Not Found from /v1/plans/latest" in error.text
        assert browser.find_elements(By.ID, "plan-none") == []


def _monthly(plan: dict[str, Any], months: list[str]) -> dict[str, Any]:
    """The demo's plan cut to its first periods, dated as months: a config with monthly
    demand plans by month (period_days 28 to 31)."""
    result = plan["result"]
    firsts = sorted({row["ds"][:10] for row in result["demand"]})[: len(months)]
    as_month = dict(zip(firsts, months, strict=True))
    for part in ("revenue", "hours", "demand", "backlog", "capital"):
        rows = [r for r in result.get(part) or [] if str(r.get("ds", ""))[:10] in as_month]
        result[part] = [{**r, "ds": as_month[r["ds"][:10]]} for r in rows]
    result["period_days"] = 30
    return plan


def test_a_monthly_plan_is_shown_by_month_not_by_week(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """A plan of monthly demand was shown as weeks: 'week of 2026-02-01', 'average a week',
    totals 'over the plan's 3 weeks, 2026-01-01 to 2026-03-07'."""
    key = role_keys[Role.VIEWER]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "backlog-table")))
    plan = _monthly(
        _get(demo_server, key, "/v1/plans/latest"), ["2026-01-01", "2026-02-01", "2026-03-01"]
    )
    browser.execute_script(
        "const plan = arguments[0]; renderHours(plan); renderDemand(plan, null);"
        "renderBacklog(plan); renderCapital(plan);",
        plan,
    )
    options = [o.text for o in browser.find_elements(By.CSS_SELECTOR, "#hours-per option")]
    assert options == [
        "total over the plan",
        "average a month",
        "month of 2026-01-01",
        "month of 2026-02-01",
        "month of 2026-03-01",
    ]
    Select(browser.find_element(By.ID, "hours-per")).select_by_visible_text("average a month")
    assert browser.find_element(By.ID, "hours-caption").text.endswith(
        "in an average month: the hours over the plan's 3 months, 2026-01-01 to 2026-03-31, "
        "divided by 3"
    )
    for table in ("demand-table", "backlog-table"):
        header = browser.find_element(By.CSS_SELECTOR, f"#{table} th").text
        assert header == "month starting", table
    caption = browser.find_element(By.ID, "backlog-caption").text
    assert "after the first month" in caption and "in the month of 2026-0" in caption
    capital = browser.find_element(By.ID, "capital-table").text
    assert "last month with works" in capital and "week" not in capital
