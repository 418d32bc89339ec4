"""`created_from` and `created_to` on the history lists, as Power BI's incremental refresh
sends its RangeStart and RangeEnd: from inclusive, to exclusive, with the other filters and
paging kept, and a window that is empty or not a moment refused naming the parameter.

Over a real HTTP server on the demo database, with plans and runs made in 2001 (before the
demo's own, made today) at the moments each test needs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from homeward import repository
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase

NOON = datetime(2001, 1, 5, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
HOUR = timedelta(hours=1)
WINDOW = {"created_from": "2001-01-05T12:00:00Z", "created_to": "2001-01-05T13:00:00Z"}


@pytest.fixture(scope="module")
def made(demo_db: DemoDatabase) -> dict[str, list[int]]:
    """Plans made, and pipeline runs asked for, at a moment before noon, noon, just before
    one, and one; ids in that order. One more run asked for before noon and taken by a worker
    at noon, which stays before noon (`queued_at`, not `started_at`)."""
    moments = [NOON - TICK, NOON, NOON + HOUR - TICK, NOON + HOUR]
    with transaction(demo_db.factory) as session:
        config_id = repository.active_config(session).id  # type: ignore[union-attr]
        plans, runs = [], []
        for moment in moments:
            run = repository.start_run(session, "pipeline", "api", "test")
            run.queued_at = run.started_at = moment
            plan = repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, {})
            plan.created_at = moment
            plans.append(plan.id)
            runs.append(run.id)
        taken = repository.start_run(session, "pipeline", "api", "test")
        taken.queued_at, taken.started_at = NOON - TICK, NOON
        runs.append(taken.id)
    return {"plans": plans, "runs": runs}


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
def test_from_is_inclusive_and_to_exclusive(
    viewer: httpx.Client, made: dict[str, list[int]], path: str
) -> None:
    before, noon, inside, one = made[path.removeprefix("/v1/")][:4]
    answer = viewer.get(path, params=WINDOW)
    assert answer.status_code == 200, answer.text
    assert [r["id"] for r in answer.json()] == [inside, noon]
    assert answer.headers["x-total-count"] == "2"
    # the next window starts where this one ends: the item at one o'clock is in it alone
    after = viewer.get(
        path, params={"created_from": WINDOW["created_to"], "created_to": "2001-01-06"}
    )
    assert [r["id"] for r in after.json()] == [one]
    until = viewer.get(path, params={"created_to": WINDOW["created_from"]})
    assert [r["id"] for r in until.json()][-1:] == [before]


def test_a_run_is_in_the_window_it_was_asked_for_in(
    viewer: httpx.Client, made: dict[str, list[int]]
) -> None:
    before, *_, taken = made["runs"]
    earlier = viewer.get(
        "/v1/runs", params={"created_from": "2001-01-05", "created_to": WINDOW["created_from"]}
    )
    assert [r["id"] for r in earlier.json()] == [taken, before]
    assert taken not in [r["id"] for r in viewer.get("/v1/runs", params=WINDOW).json()]


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
def test_a_date_or_a_time_without_a_zone_is_utc_and_an_offset_is_kept(
    viewer: httpx.Client, made: dict[str, list[int]], path: str
) -> None:
    expected = [r["id"] for r in viewer.get(path, params=WINDOW).json()]
    for same in (
        {"created_from": "2001-01-05T12:00:00", "created_to": "2001-01-05T13:00"},
        {"created_from": "2001-01-05T13:00:00+01:00", "created_to": "2001-01-05T08:00:00-05:00"},
        # Power Query's round-trip format ("o") writes seven digits of a second
        {
            "created_from": "2001-01-05T12:00:00.0000000",
            "created_to": "2001-01-05T13:00:00.0000000",
        },
    ):
        assert [r["id"] for r in viewer.get(path, params=same).json()] == expected, same
    # a tenth of a microsecond after noon keeps what a microsecond after would: not noon's
    finer = viewer.get(
        path,
        params={"created_from": "2001-01-05T12:00:00.0000001", "created_to": WINDOW["created_to"]},
    )
    assert [r["id"] for r in finer.json()] == expected[:1]
    day = viewer.get(path, params={"created_from": "2001-01-05", "created_to": "2001-01-06"})
    assert day.headers["x-total-count"] == str(len(made[path.removeprefix("/v1/")]))


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
def test_the_window_keeps_the_other_filters_and_the_paging(
    viewer: httpx.Client, made: dict[str, list[int]], path: str
) -> None:
    day = {"created_from": "2001-01-05", "created_to": "2001-01-06"}
    everything = [r["id"] for r in viewer.get(path, params=day).json()]
    followed: list[int] = []
    page = viewer.get(path, params=day | {"limit": 2})
    while True:
        followed += [r["id"] for r in page.json()]
        assert page.headers["x-total-count"] == str(len(everything))
        if "link" not in page.headers:
            break
        target = page.headers["link"].split(";")[0].strip("<> ")
        assert "created_from=2001-01-05" in target and "created_to=2001-01-06" in target
        page = viewer.get(target)
    assert followed == everything and len(everything) >= 4
    by_offset = viewer.get(path, params=day | {"limit": 1, "offset": 1})
    assert [r["id"] for r in by_offset.json()] == everything[1:2]
    other = {"scenario": "true"} if path == "/v1/plans" else {"kind": "plan"}
    none = viewer.get(path, params=day | other)
    assert none.json() == [] and none.headers["x-total-count"] == "0"


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
@pytest.mark.parametrize(
    "window",
    [
        {"created_from": "2001-01-05T13:00:00Z", "created_to": "2001-01-05T12:00:00Z"},
        {"created_from": "2001-01-05", "created_to": "2001-01-05T00:00:00Z"},
    ],
)
def test_an_empty_window_is_refused_naming_both(
    viewer: httpx.Client, path: str, window: dict[str, str]
) -> None:
    answer = viewer.get(path, params=window)
    assert answer.status_code == 422, answer.text
    problems = {p["location"]: p for p in answer.json()["problems"]}
    assert set(problems) == {"query/created_from", "query/created_to"}
    sent_from, sent_to = window["created_from"], window["created_to"]
    assert problems["query/created_from"] == {
        "location": "query/created_from",
        "expected": f"a moment before `created_to` ({sent_to})",
        "found": repr(sent_from),
    }
    assert problems["query/created_to"]["expected"] == (
        f"a moment after `created_from` ({sent_from})"
    )


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
@pytest.mark.parametrize(
    "sent", ["yesterday", "2001-02-30", "05/01/2001", "2001-01-05 12:00", "1700000000", ""]
)
def test_a_value_that_is_no_moment_is_refused_saying_what_is_expected(
    viewer: httpx.Client, path: str, sent: str
) -> None:
    answer = viewer.get(path, params={"created_to": sent})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["location"] == "query/created_to" and problem["found"] == repr(sent)
    assert problem["expected"].startswith("an ISO 8601 date or date-time, e.g. 2026-01-05")


@pytest.mark.parametrize("path", ["/v1/plans", "/v1/runs"])
@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("created_from", "0001-01-01T00:00:00+01:00"),  # in year 0 once in UTC
        ("created_to", "9999-12-31T23:59:59-01:00"),  # in year 10000
        ("created_to", "9999-12-31T23:59:59.9999999Z"),  # rounded up past the last microsecond
    ],
)
def test_a_moment_outside_the_years_a_datetime_holds_is_refused_not_a_500(
    viewer: httpx.Client, path: str, name: str, sent: str
) -> None:
    """Python's datetimes hold years 1 to 9999: converting these to UTC overflowed, and the
    OverflowError was a 500 where a date that is no moment is a 422."""
    answer = viewer.get(path, params={name: sent})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["location"] == f"query/{name}" and problem["found"] == repr(sent)
    assert problem["expected"].startswith("an ISO 8601 date or date-time, e.g. 2026-01-05")
    assert "to 9999-12-31T23:59:59.999999Z once in UTC" in problem["expected"]
    # the first and last moments themselves are kept
    assert viewer.get(path, params={"created_from": "0001-01-01T00:00:00Z"}).status_code == 200
    last = viewer.get(path, params={"created_to": "9999-12-31T23:59:59.999999Z"})
    assert last.status_code == 200, last.text


def test_an_offset_whose_plus_was_not_encoded_is_refused_saying_so(viewer: httpx.Client) -> None:
    answer = viewer.get("/v1/runs?created_from=2001-01-05T12:00:00+01:00")
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["found"] == repr("2001-01-05T12:00:00 01:00")
    assert "sent as %2B" in problem["expected"]


def test_the_openapi_document_describes_both(viewer: httpx.Client) -> None:
    paths = viewer.get("/openapi.json").json()["paths"]
    for path in ("/v1/plans", "/v1/runs"):
        parameters = {p["name"]: p for p in paths[path]["get"]["parameters"]}
        made_from, made_to = parameters["created_from"], parameters["created_to"]
        assert made_from["schema"]["type"] == "string" and not made_from.get("required")
        assert "(inclusive)" in made_from["description"]
        assert "(exclusive)" in made_to["description"]
