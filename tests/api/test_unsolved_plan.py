"""POST /v1/plans whose solver ends without a plan is a 422 `plan_not_solved` naming the
failed run, not a 201 with an empty plan of status error; the latest plan stays, and /metrics
counts a failed plan run. The active config is one stored before the entry ceilings
(hours_per_case 1e15, refused by POST /v1/configs now), which is still read and planned."""

from __future__ import annotations

import httpx

from homeward import planning, repository
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase


def _failed_plan_runs(metrics: str) -> float:
    line = next(
        line
        for line in metrics.splitlines()
        if line.startswith('homeward_runs_finished_total{kind="plan",status="failed"}')
    )
    return float(line.split()[-1])


def test_a_plan_the_solver_cannot_solve_is_a_422_and_the_latest_plan_stays(
    demo_db: DemoDatabase, planner: httpx.Client
) -> None:
    latest = planner.get("/v1/plans/latest").json()["id"]
    before = _failed_plan_runs(planner.get("/metrics").text)
    with transaction(demo_db.factory) as session:
        active = repository.active_config(session)
        assert active is not None
        body = {**active.body, "version": "extreme"}
        body["services"] = [dict(s) for s in body["services"]]
        body["services"][0]["hours_per_case"] = 1e15
        repository.save_config(session, body, planning.config_hash(body))
    answer = planner.post("/v1/plans", json={})
    assert answer.status_code == 422, answer.text
    problem = answer.json()
    assert problem["code"] == "plan_not_solved"
    assert "the solver ended with status error" in problem["detail"]
    assert f"GET /v1/plans/latest still serves plan {latest}" in problem["detail"]
    run_id = problem["run_id"]
    assert isinstance(run_id, int) and f"run {run_id} failed: " in problem["detail"]
    run = planner.get(f"/v1/runs/{run_id}").json()
    assert (run["status"], run["solver_status"], run["plan_id"]) == ("failed", "error", None)
    assert planner.get("/v1/plans/latest").json()["id"] == latest
    assert _failed_plan_runs(planner.get("/metrics").text) == before + 1


def test_post_plans_422_documents_the_failed_runs_id(planner: httpx.Client) -> None:
    spec = planner.get("/openapi.json").json()
    said = spec["paths"]["/v1/plans"]["post"]["responses"]["422"]
    assert "`run_id` the plan run recorded as failed" in said["description"]
    ref = said["content"]["application/problem+json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    run_id = spec["components"]["schemas"][ref]["properties"]["run_id"]
    assert "plan_not_solved" in run_id["description"]
    assert {"type": "integer"} in run_id["anyOf"]
