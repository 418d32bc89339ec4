"""The dashboard's line charts (the forecast and the weekly demand planned for) in real headless
Chromium: month ticks along each chart's foot, dated within the weeks it spans, in order left
to right, each where its date falls between the weeks drawn, none overlapping another label;
the charts' text is at least 12 px on a 1366-pixel laptop and a 1920-pixel screen (each chart
is drawn at its own width, and again when that changes); and the fee sweep's table fits a
laptop without scrolling sideways or losing a column."""

from __future__ import annotations

import datetime as dt
import itertools
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from homeward.roles import Role
from tests.api.conftest import browser_clock, key_header, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
STEPS = (1, 3, 6, 12, 24, 60, 120)  # months between labelled ticks, as the page chooses them
SCREENS = ((1366, 900), (1920, 1080))


def _get(server: LiveServer, key: str, path: str) -> Any:
    response = httpx.get(f"{server.url}{path}", headers=key_header(key), timeout=60)
    return response.raise_for_status().json()


@pytest.fixture
def screen(browser: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    """The browser at the (width, height) the test is parametrised with, put back afterwards."""
    before = browser.get_window_size()
    browser.set_window_size(*request.param)
    yield browser
    browser.set_window_size(before["width"], before["height"])


def _chart(browser: Any, selector: str) -> dict[str, Any]:
    """A chart read in one step: its box and viewBox, every label's text, class, box and size
    as drawn (px on the screen), its tick labels' dates and its tick marks' x (viewBox)."""
    chart: dict[str, Any] = browser.execute_script(
        "const svg = document.querySelector(arguments[0]);"
        "const box = svg.getBoundingClientRect();"
        "const scale = box.width / svg.viewBox.baseVal.width;"
        "const rect = (e) => { const r = e.getBoundingClientRect();"
        "  return { left: r.left, right: r.right, top: r.top, bottom: r.bottom }; };"
        "return { box: rect(svg), viewBox: [svg.viewBox.baseVal.width, svg.viewBox.baseVal.height],"
        "  texts: [...svg.querySelectorAll('text')].map((t) => ({ cls: t.getAttribute('class'),"
        "    text: t.textContent, px: parseFloat(getComputedStyle(t).fontSize) * scale,"
        "    ...rect(t) })),"
        "  ticks: [...svg.querySelectorAll('text.axis-tick')].map((t) => ({"
        "    date: t.dataset.date, text: t.textContent, ...rect(t) })),"
        "  marks: [...svg.querySelectorAll('line.tick:not(.minor)')]"
        "    .map((l) => Number(l.getAttribute('x1'))),"
        "  today: [...svg.querySelectorAll('g.today line')]"
        "    .map((l) => Number(l.getAttribute('x1'))) };",
        selector,
    )
    return chart


def _overlaps(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["left"] < b["right"] - 0.5
        and b["left"] < a["right"] - 0.5
        and a["top"] < b["bottom"] - 0.5
        and b["top"] < a["bottom"] - 0.5
    )


def _check_ticks(chart: dict[str, Any], first: str, last: str) -> list[dt.date]:
    """The chart's ticks are month starts from `first` to `last`, a whole step apart, in order
    left to right, labelled with their month (and year in January or on the first label when
    none is January); no label overlaps another or leaves the chart. Their dates, in order."""
    ticks = chart["ticks"]
    assert len(ticks) >= 2, ticks
    dates = [dt.date.fromisoformat(t["date"]) for t in ticks]
    assert all(d.day == 1 for d in dates)
    assert all(first <= d.isoformat() <= last for d in dates), (first, last, dates)
    months = [d.year * 12 + d.month for d in dates]
    steps = {b - a for a, b in itertools.pairwise(months)}
    assert len(steps) == 1 and steps <= set(STEPS), steps
    step = steps.pop()
    assert all((m - 1) % step == 0 for m in months)  # counted from January: quarters, years...
    yearless = not any(d.month == 1 for d in dates)
    for i, (tick, d) in enumerate(zip(ticks, dates, strict=True)):
        with_year = d.month == 1 or (yearless and i == 0)
        assert tick["text"] == (
            f"{MONTHS[d.month - 1]} {d.year}" if with_year else MONTHS[d.month - 1]
        )
    # in order left to right, marks and labels alike, each label centred on its mark or
    # clamped inside the chart
    centres = [(t["left"] + t["right"]) / 2 for t in ticks]
    assert centres == sorted(centres) and len(set(centres)) == len(centres)
    assert chart["marks"] == sorted(chart["marks"]) and len(chart["marks"]) == len(ticks)
    # no label overlaps another (ticks, scale, title, dates spanned), and none leaves the chart
    texts = chart["texts"]
    clashes = [
        (a["text"], b["text"])
        for i, a in enumerate(texts)
        for b in texts[i + 1 :]
        if _overlaps(a, b)
    ]
    assert clashes == []
    box = chart["box"]
    outside = [
        t["text"]
        for t in texts
        if t["left"] < box["left"] - 0.5
        or t["right"] > box["right"] + 0.5
        or t["top"] < box["top"] - 0.5
        or t["bottom"] > box["bottom"] + 0.5
    ]
    assert outside == []
    return dates


def _a_thursday_in_the_plan(server: LiveServer, key: str) -> tuple[list[str], dt.datetime]:
    """The latest plan's weeks, and noon on the Thursday of its middle week: the day the page
    is read on (the demo's plan is over by now)."""
    plan = _get(server, key, "/v1/plans/latest")
    weeks = sorted({str(row["ds"])[:10] for row in plan["result"]["demand"]})
    noon = dt.datetime.fromisoformat(f"{weeks[len(weeks) // 2]}T12:00:00+00:00")
    return weeks, noon + dt.timedelta(days=3)


def _check_today(
    chart: dict[str, Any], dates: list[dt.date], days: list[str], xs: list[float], now: dt.datetime
) -> None:
    """Today is marked once, labelled, after the ticks before it and before any after it, and
    where it falls between the two of `days` (drawn at `xs`) either side of it."""
    assert [t["text"] for t in chart["texts"] if t["cls"] == "axis-today"] == ["today"]
    assert len(chart["today"]) == 1
    at = chart["today"][0]
    before = [m for d, m in zip(dates, chart["marks"], strict=True) if d <= now.date()]
    after = [m for d, m in zip(dates, chart["marks"], strict=True) if d > now.date()]
    assert before and before[-1] < at, (dates, chart["marks"], at)
    assert not after or at < after[0], (dates, chart["marks"], at)  # none after it on a year
    assert len(xs) == len(days) and days[0] < now.date().isoformat() < days[-1]
    i = next(i for i, d in enumerate(days) if d > now.date().isoformat())
    start = dt.datetime.fromisoformat(f"{days[i - 1]}T00:00:00+00:00")
    share = (now - start) / (dt.date.fromisoformat(days[i]) - start.date())
    assert at == pytest.approx(xs[i - 1] + share * (xs[i] - xs[i - 1]), abs=0.5)


def _readable(chart: dict[str, Any]) -> None:
    """Every label at least 12 px as drawn, and the chart drawn at its own width (1:1)."""
    assert [(t["text"], t["px"]) for t in chart["texts"] if t["px"] < 12] == []
    assert chart["viewBox"][0] == pytest.approx(chart["box"]["right"] - chart["box"]["left"], abs=2)


@pytest.mark.parametrize("screen", SCREENS, indirect=True, ids=("1366", "1920"))
def test_the_forecast_chart_has_month_ticks_within_its_span_in_order_and_apart(
    screen: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    _, now = _a_thursday_in_the_plan(demo_server, key)
    with browser_clock(screen, now):
        wait = open_with_key(screen, demo_server, key, timeout_s=90)
    caption = wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    series_id = caption.text.split(":")[0]
    seen = _get(demo_server, key, f"/v1/observations/{series_id}?last=104")
    ahead = _get(demo_server, key, f"/v1/forecasts/{series_id}")["points"]
    first, last = str(seen[0]["ds"])[:10], str(ahead[-1]["ds"])[:10]
    chart = _chart(screen, "#chart svg")
    dates = _check_ticks(chart, first, last)
    _readable(chart)
    classes = [t["cls"] for t in chart["texts"]]
    assert classes[:4] == ["axis-unit", "axis-dates", "axis-top", "axis-bottom"]
    assert set(classes[4:]) == {"axis-tick", "axis-today"}
    # today falls among the forecast's weeks, drawn along its mean
    mean = screen.find_element(By.CSS_SELECTOR, "#chart svg polyline.mean")
    xs = [float(p.split(",")[0]) for p in (mean.get_attribute("points") or "").split()]
    _check_today(chart, dates, [str(p["ds"])[:10] for p in ahead], xs, now)


@pytest.mark.parametrize("screen", SCREENS, indirect=True, ids=("1366", "1920"))
def test_the_demand_chart_has_month_ticks_where_their_dates_fall_between_its_weeks(
    screen: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    weeks, now = _a_thursday_in_the_plan(demo_server, key)
    with browser_clock(screen, now):
        wait = open_with_key(screen, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    chart = _chart(screen, "#demand svg")
    dates = _check_ticks(chart, weeks[0], weeks[-1])
    _readable(chart)
    # each tick's mark lies between the two weeks its date falls between, as the lines draw them
    points = screen.find_element(By.CSS_SELECTOR, "#demand svg polyline.planned")
    xs = [float(p.split(",")[0]) for p in (points.get_attribute("points") or "").split()]
    assert len(xs) == len(weeks)
    for d, mark in zip(dates, chart["marks"], strict=True):
        after = next(i for i, w in enumerate(weeks) if w >= d.isoformat())
        if weeks[after] == d.isoformat():
            assert mark == pytest.approx(xs[after], abs=0.01)
        else:
            assert xs[after - 1] < mark < xs[after]
    _check_today(chart, dates, weeks, xs, now)


def _today_label(browser: Any, selector: str) -> dict[str, Any]:
    """A chart's "today" label and line and its plotted shapes, in the chart's own units (drawn
    1:1): the label's box, the line's x, and the top of every line and band."""
    found: dict[str, Any] = browser.execute_script(
        "const svg = document.querySelector(arguments[0]);"
        "const label = svg.querySelector('g.today text.axis-today').getBBox();"
        "const shapes = [...svg.querySelectorAll('polyline, polygon')].map((s) => {"
        "  const ys = [...s.points].map((p) => p.y);"
        "  return { cls: s.getAttribute('class') || s.tagName, top: Math.min(...ys),"
        "    width: parseFloat(getComputedStyle(s).strokeWidth) || 0 }; });"
        "return { label: { left: label.x, right: label.x + label.width, top: label.y,"
        "    bottom: label.y + label.height },"
        "  at: Number(svg.querySelector('g.today line').getAttribute('x1')),"
        "  width: svg.viewBox.baseVal.width, shapes };",
        selector,
    )
    return found


@pytest.mark.parametrize("screen", SCREENS, indirect=True, ids=("1366", "1920"))
def test_the_today_label_stands_clear_of_every_charts_lines_and_bands(
    screen: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """The "today" label was drawn inside the plot, 14 px under its top: over the forecast's
    bands and, on the demo, over the demand and backlog lines at their first weeks. It sits
    above the plot now, over its line: wholly above the highest point of every line and band
    (their strokes too), inside the chart."""
    key = role_keys[Role.VIEWER]
    _, now = _a_thursday_in_the_plan(demo_server, key)
    with browser_clock(screen, now):
        wait = open_with_key(screen, demo_server, key, timeout_s=90)
    wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
    wait.until(ec.presence_of_element_located((By.CSS_SELECTOR, "#backlog svg g.today")))
    for selector in ("#chart svg", "#demand svg", "#backlog svg"):
        chart = _today_label(screen, selector)
        label, shapes = chart["label"], chart["shapes"]
        assert len(shapes) >= 1, selector
        under = [
            (s["cls"], s["top"] - s["width"] / 2, label["bottom"])
            for s in shapes
            if label["bottom"] > s["top"] - s["width"] / 2
        ]
        assert under == [], selector
        # by its line (over it, or as near as the chart's edges let it be), inside the chart
        centre, wide = (label["left"] + label["right"]) / 2, label["right"] - label["left"]
        assert abs(centre - chart["at"]) <= wide, (selector, label, chart["at"])
        assert label["top"] >= 0 and label["left"] >= 0 and label["right"] <= chart["width"]
        _readable(_chart(screen, selector))


@pytest.mark.parametrize(
    ("weeks", "steps"),
    [
        (13, {1}),  # a quarter: every month
        (52, {1, 3}),  # a year: months or quarters, as the width allows
        (156, {6, 12}),  # three years: half-years or years
        (520, {12, 24, 60}),  # ten years: years or more
    ],
)
def test_the_tick_step_comes_from_the_span(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str], weeks: int, steps: set[int]
) -> None:
    before = browser.get_window_size()
    browser.set_window_size(1366, 900)
    try:
        wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
        # the page's own chart first, so it cannot replace the one drawn here
        wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
        start = dt.date(2020, 1, 6)
        points = [
            {"ds": (start + dt.timedelta(weeks=i)).isoformat(), "mean": 10.0 + i % 7,
             "lo-80": 8.0, "hi-80": 20.0, "lo-95": 5.0, "hi-95": 25.0}
            for i in range(weeks)
        ]  # fmt: skip
        forecast = {"series_id": "referrals/ot/rugby", "model": "mean_best2", "points": points,
                    "backtest": [], "level_shifts": []}  # fmt: skip
        browser.execute_script("renderChart(arguments[0], [], 'observed')", forecast)
        chart = _chart(browser, "#chart svg")
        dates = _check_ticks(chart, points[0]["ds"], points[-1]["ds"])
        months = [d.year * 12 + d.month for d in dates]
        assert months[1] - months[0] in steps
        _readable(chart)
    finally:
        browser.set_window_size(before["width"], before["height"])


def test_a_chart_is_drawn_again_at_its_new_width_when_the_window_changes(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    before = browser.get_window_size()
    try:
        browser.set_window_size(1366, 900)
        wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
        wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
        wait.until(ec.presence_of_element_located((By.ID, "demand-table")))
        narrow = {s: _chart(browser, s)["viewBox"][0] for s in ("#chart svg", "#demand svg")}
        browser.set_window_size(1100, 900)  # two cards a row: each chart wider

        def redrawn(driver: Any) -> bool:
            charts = [_chart(driver, s) for s in ("#chart svg", "#demand svg")]
            return all(
                abs(c["viewBox"][0] - (c["box"]["right"] - c["box"]["left"])) <= 2 for c in charts
            )

        WebDriverWait(browser, 10).until(redrawn)
        for selector, width in narrow.items():
            chart = _chart(browser, selector)
            assert chart["viewBox"][0] > width + 50
            _readable(chart)
    finally:
        browser.set_window_size(before["width"], before["height"])


@pytest.mark.parametrize("screen", SCREENS, indirect=True, ids=("1366", "1920"))
def test_the_fee_sweep_table_fits_the_screen_with_every_column(
    screen: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(screen, demo_server, role_keys[Role.FINANCE], timeout_s=90)
    field = screen.find_element(By.ID, "sweep-rates")
    field.clear()
    field.send_keys("5, 12.5, 20")
    screen.find_element(By.CSS_SELECTOR, "#sweep-form button").click()
    WebDriverWait(screen, 300).until(
        ec.text_to_be_present_in_element((By.ID, "sweep-status"), "finished")
    )
    wait.until(ec.presence_of_element_located((By.ID, "sweep-table")))
    box = screen.find_element(By.CSS_SELECTOR, "#sweep-result .wide")
    fit: dict[str, Any] = screen.execute_script(
        "const box = arguments[0], edge = box.getBoundingClientRect();"
        "const t = document.querySelector('#sweep-table');"
        "const rows = [...t.tBodies[0].rows];"
        "return { scroll: box.scrollWidth - box.clientWidth,"
        "  cells: rows.map((tr) => tr.cells.length),"
        "  hidden: rows.flatMap((tr) => [...tr.cells]).filter((c) => {"
        "    const r = c.getBoundingClientRect();"
        "    return r.width < 20 || r.left < edge.left - 1 || r.right > edge.right + 1;"
        "  }).map((c) => c.textContent),"
        "  page: document.documentElement.scrollWidth - document.documentElement.clientWidth };",
        box,
    )
    assert fit["scroll"] <= 0 and fit["page"] <= 0
    assert fit["cells"] == [24] * 3  # the rate, eleven measures' value and change, the plan
    assert fit["hidden"] == []
    # a change keeps its unit for a screen reader (the heading above names it for the eye)
    units: list[list[Any]] = screen.execute_script(
        "return [...document.querySelectorAll('#sweep-table td.change')].map((c) => {"
        "  const unit = c.querySelector('.visually-hidden');"
        "  return [c.textContent, unit ? unit.getBoundingClientRect().width : null]; });"
    )
    assert units
    pattern = r"[-+]?[\d,.]+ (days|GBP|hours|cases)( \([-+]?[\d.]+%\))?"
    assert [u for u in units if not re.fullmatch(pattern, u[0]) or u[1] is None or u[1] > 1] == []
