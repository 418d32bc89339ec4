"""A finance officer's fee sweep over real HTTP: POST /v1/plans/sweeps queues one what-if plan
per DFG fee rate as a job, and the sweep run reports each rate's figures as it goes."""

from __future__ import annotations

import csv
import io
import re
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import transaction
from models import RunRow
from tests.api.conftest import HORIZON_WEEKS, DemoDatabase, keyed_settings, migrated, serve_with_key

PROBLEM_JSON = "application/problem+json"
FIGURES = ("weighted_wait_days", "fee_income_gbp", "staff_cost_gbp", "staff_hours", "dtoc_days")
PROGRESS = re.compile(r"^(\d+) of (\d+) rates planned")


def _run_count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(RunRow)) or 0)


def _figures(plan: dict[str, Any]) -> dict[str, float]:
    """A plan's figures as GET /v1/plans/{id} gives them, summed here independently."""
    result = plan["result"]
    return {
        "weighted_wait_days": plan["objective_weighted_wait_days"],
        "fee_income_gbp": sum(r["fee_income_gbp"] for r in result["revenue"]),
        "staff_cost_gbp": sum(r["staff_cost_gbp"] for r in result["revenue"]),
        "staff_hours": sum(r["staff_hours"] for r in result["staffing"]),
        "dtoc_days": result["total_dtoc_days"],
    }


def _poll(client: httpx.Client, location: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The run at `location` once it is no longer queued or running, and every state seen."""
    deadline = time.monotonic() + 300
    seen = [client.get(location).json()]
    while seen[-1]["status"] in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.2)
        seen.append(client.get(location).json())
    return seen[-1], seen


@pytest.fixture(scope="module")
def swept(finance: httpx.Client) -> dict[str, Any]:
    """One sweep of three rates, the demo's own 0.10 among them, polled until it finished."""
    latest_before = finance.get("/v1/plans/latest").json()
    accepted = finance.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.0, 0.10, 0.30]})
    assert accepted.status_code == 202, accepted.text
    run, seen = _poll(finance, accepted.headers["location"])
    return {"accepted": accepted, "run": run, "seen": seen, "latest_before": latest_before}


def test_a_sweep_is_queued_as_a_run_of_kind_sweep(swept: dict[str, Any]) -> None:
    accepted = swept["accepted"]
    job = accepted.json()
    assert accepted.headers["location"] == f"/v1/runs/{job['id']}"
    assert "preference-applied" not in accepted.headers  # no Prefer was sent
    assert job["kind"] == "sweep" and job["status"] in {"queued", "running", "succeeded"}
    # asked for once: the time it was queued is kept when its work starts
    run = swept["run"]
    assert (
        run["queued_at"] == job["queued_at"] is not None and run["started_at"] >= job["queued_at"]
    )
    assert run["parent_run_id"] is None


def test_polling_the_sweep_shows_it_finishing_with_its_progress(swept: dict[str, Any]) -> None:
    run, seen = swept["run"], swept["seen"]
    assert run["status"] == "succeeded", run
    assert run["finished_at"] is not None
    assert run["message"].startswith("3 of 3 rates planned")
    done = []
    for state in seen:
        if state["status"] == "queued":
            continue
        match = PROGRESS.match(state["message"] or "")
        assert match is not None and match.group(2) == "3", state["message"]
        assert len(state["sweep"]) == int(match.group(1))  # the table grows with the count
        done.append(int(match.group(1)))
    assert done == sorted(done) and done[-1] == 3


def test_a_sweep_of_three_rates_gives_three_what_if_plans_reported_as_stored(
    finance: httpx.Client, swept: dict[str, Any]
) -> None:
    table = swept["run"]["sweep"]
    assert [row["dfg_fee_rate"] for row in table] == [0.0, 0.10, 0.30]
    assert len({row["plan_id"] for row in table}) == 3
    for row in table:
        plan = finance.get(f"/v1/plans/{row['plan_id']}").json()
        assert plan["scenario"] is True and row["status"] == plan["status"] == "optimal"
        config = finance.get(f"/v1/configs/{plan['config_id']}").json()
        assert config["body"]["fees"]["dfg_fee_rate"] == row["dfg_fee_rate"]
        plan_run = finance.get(f"/v1/runs/{plan['run_id']}").json()
        assert (plan_run["kind"], plan_run["trigger"], plan_run["sweep"]) == ("plan", "sweep", None)
        # and back from the plan to the sweep that made it
        assert plan_run["parent_run_id"] == swept["run"]["id"]
        assert plan_run["config_id"] == plan["config_id"]
        for name, value in _figures(plan).items():
            assert row[name] == pytest.approx(value, rel=1e-9, abs=1e-6), name
    fees = [row["fee_income_gbp"] for row in table]
    assert fees[0] == pytest.approx(0.0, abs=1e-6) and fees[0] < fees[1] < fees[2]


def test_each_change_is_from_the_active_configs_latest_plan_which_stays_latest(
    finance: httpx.Client, swept: dict[str, Any]
) -> None:
    before = swept["latest_before"]
    after = finance.get("/v1/plans/latest").json()
    assert after["id"] == before["id"] and after["scenario"] is False
    baseline = _figures(before)
    for row in swept["run"]["sweep"]:
        for name in FIGURES:
            change = row[f"{name}_change"]
            assert change == pytest.approx(row[name] - baseline[name], abs=1e-6), name
    at_active_rate = swept["run"]["sweep"][1]  # 0.10: the active config's own rate
    assert at_active_rate["fee_income_gbp_change"] == pytest.approx(0.0, abs=1e-3)
    assert swept["run"]["message"].endswith(f"compared with plan {before['id']}")


def test_each_row_names_the_plan_its_changes_are_from(
    finance: httpx.Client, swept: dict[str, Any]
) -> None:
    before = swept["latest_before"]
    rows = swept["run"]["sweep"]
    assert [row["compared_with_plan_id"] for row in rows] == [before["id"]] * len(rows)
    for state in swept["seen"]:  # named from the first row a poller sees, not only at the end
        assert all(row["compared_with_plan_id"] == before["id"] for row in state["sweep"] or [])
    stored = finance.get(f"/v1/runs/{swept['run']['id']}").json()  # read back, not the poll's
    assert [row["compared_with_plan_id"] for row in stored["sweep"]] == [before["id"]] * 3


def test_other_runs_have_no_sweep_table(finance: httpx.Client, swept: dict[str, Any]) -> None:
    runs = finance.get("/v1/runs").json()
    assert {r["kind"] for r in runs} >= {"pipeline", "plan", "sweep"}
    for run in runs:
        assert (run["sweep"] is None) == (run["kind"] != "sweep"), run


def test_a_sweeps_table_downloads_as_csv_with_its_json_rows_columns(
    viewer: httpx.Client, swept: dict[str, Any]
) -> None:
    run = swept["run"]
    response = viewer.get(f"/v1/runs/{run['id']}/sweep.csv")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert f'filename="homeward-sweep-{run["id"]}.csv"' in response.headers["content-disposition"]
    lines = response.text.splitlines()
    assert lines[0].split(",") == list(run["sweep"][0])  # the JSON rows' columns, in order
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == len(run["sweep"]) == 3
    for shown, row in zip(table, run["sweep"], strict=True):
        assert shown["plan_id"] == str(row["plan_id"])  # whole, not 16.0
        assert shown["compared_with_plan_id"] == str(row["compared_with_plan_id"])
        assert shown["status"] == row["status"]
        for name in planning.SWEEP_FIGURES:
            assert float(shown[name]) == pytest.approx(row[name], rel=1e-9, abs=1e-6)
            assert float(shown[f"{name}_change"]) == pytest.approx(
                row[f"{name}_change"], rel=1e-9, abs=1e-6
            )


def test_a_run_that_is_no_sweep_has_no_sweep_csv(viewer: httpx.Client) -> None:
    pipeline = viewer.get("/v1/runs", params={"kind": "pipeline"}).json()[0]
    refused = viewer.get(f"/v1/runs/{pipeline['id']}/sweep.csv")
    assert refused.status_code == 404
    assert "is a pipeline run, not a sweep" in refused.json()["detail"]
    assert viewer.get("/v1/runs/999999/sweep.csv").status_code == 404


@pytest.mark.parametrize(
    ("rates", "location", "expected"),
    [
        ([0.1], "body/dfg_fee_rates", "at least 2"),
        ([0.05] * 13, "body/dfg_fee_rates", "at most 12"),
        ([0.1, 1.5], "body/dfg_fee_rates/1", "a fraction from 0 to 1 (0.15 for 15%)"),
        ([0.1, 150], "body/dfg_fee_rates/1", "less than or equal to 1"),
        ("0.1, 0.2", "body/dfg_fee_rates", "valid list"),
        (None, "body/dfg_fee_rates", "required"),
    ],
    ids=["one-rate", "thirteen-rates", "rate-1.5", "rate-150", "not-a-list", "missing"],
)
@pytest.mark.parametrize("role", ["finance", "planner", "admin"])
def test_a_bad_sweep_body_is_422_naming_the_field_and_queues_nothing(
    request: pytest.FixtureRequest,
    demo_db: DemoDatabase,
    role: str,
    rates: Any,
    location: str,
    expected: str,
) -> None:
    client: httpx.Client = request.getfixturevalue(role)
    before = _run_count(demo_db.factory)
    body = {} if rates is None else {"dfg_fee_rates": rates}
    response = client.post("/v1/plans/sweeps", json=body)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    problem = response.json()
    assert problem["title"] == "Invalid input" and location in problem["detail"]
    [found] = problem["problems"]
    assert found["location"] == location and expected in found["expected"], found
    assert "found" in found
    assert _run_count(demo_db.factory) == before


def test_a_sweep_of_a_bad_config_is_422_before_it_is_queued(
    finance: httpx.Client, demo_db: DemoDatabase
) -> None:
    before = _run_count(demo_db.factory)
    config = finance.get("/v1/configs/active").json()["body"]
    config["revenue_budget_gbp_per_period"] = -5
    response = finance.post(
        "/v1/plans/sweeps", json={"config": config, "dfg_fee_rates": [0.1, 0.2]}
    )
    assert response.status_code == 422, response.text
    [found] = response.json()["problems"]
    assert found["location"] == "body/config/revenue_budget_gbp_per_period"
    assert _run_count(demo_db.factory) == before


@pytest.mark.parametrize(
    ("path", "extra", "headers"),
    [
        ("/v1/plans", {}, {"Prefer": "respond-async"}),
        ("/v1/plans/sweeps", {"dfg_fee_rates": [0.1, 0.2]}, {}),
    ],
    ids=["plan-job", "sweep"],
)
def test_a_job_whose_config_periods_do_not_fit_the_demand_is_the_same_422_before_it_is_queued(
    finance: httpx.Client,
    demo_db: DemoDatabase,
    path: str,
    extra: dict[str, Any],
    headers: dict[str, str],
) -> None:
    """A plan asked for as a job, or a sweep, gets every check a plan solved at once gets
    before solving, not only the config's schema."""
    config = finance.get("/v1/configs/active").json()["body"]
    config["period_days"] = 30  # the demo's demand is weekly
    at_once = finance.post("/v1/plans", json={"config": config})
    assert at_once.status_code == 422, at_once.text
    before = _run_count(demo_db.factory)
    as_job = finance.post(path, json={"config": config, **extra}, headers=headers)
    assert as_job.status_code == 422, as_job.text
    assert as_job.json()["detail"] == at_once.json()["detail"]
    assert "period_days" in as_job.json()["detail"]
    assert _run_count(demo_db.factory) == before  # nothing queued to fail later


def test_a_viewer_may_not_sweep(viewer: httpx.Client, demo_db: DemoDatabase) -> None:
    before = _run_count(demo_db.factory)
    response = viewer.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.1, 0.2]})
    assert response.status_code == 403, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert _run_count(demo_db.factory) == before


@pytest.fixture(scope="module")
def no_forecasts(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Any, Any]]:
    """A fresh database holding the demo config and no forecasts, and a finance client on it."""
    settings: Settings = keyed_settings(
        tmp_path_factory.mktemp("sweep-new"), "new.db", forecast_horizon_weeks=HORIZON_WEEKS
    )
    engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
        secret = api_keys.create_key(session, "sweep-finance", Role.FINANCE).secret
    for client in serve_with_key(settings, secret):
        yield client, factory
    engine.dispose()


def test_a_sweep_before_any_forecast_is_409_and_queues_nothing(
    no_forecasts: tuple[httpx.Client, sessionmaker[Session]],
) -> None:
    client, factory = no_forecasts
    response = client.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.1, 0.2]})
    assert response.status_code == 409, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "no referral forecasts" in response.json()["detail"]
    assert "location" not in response.headers
    assert _run_count(factory) == 0
