"""Plans and their configs as dashboards read them: the latest real plan (never a what-if), the
plan history, and a plan's config by id.

Over a real HTTP server on the demo database (one pipeline run, its plan first); the tests run
in order and each adds the plans the next expects. API keys required; the weakest key that may.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"
SUMMARY_FIELDS = {
    "id",
    "created_at",
    "run_id",
    "config_id",
    "scenario",
    "status",
    "objective_weighted_wait_days",
    "solve_seconds",
    "created_by",
}
# read from the plan's result, so a list can head each plan without fetching it whole
HORIZON_FIELDS = {"first_ds", "last_ds", "periods", "warnings"}


def _what_if(finance: httpx.Client, fee_rate: float) -> dict[str, Any]:
    config = finance.get("/v1/configs/active").json()["body"]
    config["fees"]["dfg_fee_rate"] = fee_rate
    response = finance.post("/v1/plans", json={"config": config})
    assert response.status_code == 201, response.text
    plan: dict[str, Any] = response.json()
    return plan


def test_a_what_if_never_becomes_the_latest_plan(
    viewer: httpx.Client, finance: httpx.Client
) -> None:
    pipeline = viewer.get("/v1/plans/latest").json()
    active = viewer.get("/v1/configs/active").json()
    assert pipeline["scenario"] is False and pipeline["config_id"] == active["id"]
    what_if = _what_if(finance, 0.15)
    assert what_if["scenario"] is True and what_if["config_id"] != active["id"]
    assert what_if["id"] > pipeline["id"]
    latest = viewer.get("/v1/plans/latest").json()
    assert latest["id"] == pipeline["id"] and latest["scenario"] is False
    again = viewer.get(f"/v1/plans/{what_if['id']}").json()
    assert again["scenario"] is True and again["config_id"] == what_if["config_id"]


def test_a_plan_of_the_active_config_on_request_is_the_latest(
    viewer: httpx.Client, planner: httpx.Client
) -> None:
    active = viewer.get("/v1/configs/active").json()
    requested = planner.post("/v1/plans", json={})
    assert requested.status_code == 201, requested.text
    plan = requested.json()
    # the demo config is stored as written (defaults left out); it is still the active config
    assert plan["scenario"] is False and plan["config_id"] == active["id"]
    assert viewer.get("/v1/plans/latest").json()["id"] == plan["id"]
    # the active config sent unchanged is its plan too, by a key that may run the pipeline (a
    # finance key's plans are all what-ifs: tests/api/test_auth.py)
    unchanged = planner.post("/v1/plans", json={"config": active["body"]}).json()
    assert unchanged["scenario"] is False and unchanged["config_id"] == active["id"]
    assert viewer.get("/v1/plans/latest").json()["id"] == unchanged["id"]


def test_plans_lists_summaries_newest_first(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/plans")
    assert response.status_code == 200, response.text
    plans = response.json()
    # the pipeline's, the 15% what-if, one requested without a config, one with it unchanged
    assert len(plans) == 4
    assert all(set(p) == SUMMARY_FIELDS | HORIZON_FIELDS for p in plans)  # no `result`
    assert [p["id"] for p in plans] == sorted((p["id"] for p in plans), reverse=True)
    assert [p["scenario"] for p in plans] == [False, False, True, False]
    latest = viewer.get("/v1/plans/latest").json()
    from_result = {k: latest["result"][k] for k in HORIZON_FIELDS}
    assert {k: latest[k] for k in SUMMARY_FIELDS} | from_result == plans[0]


def test_plans_filter_by_scenario_and_page(viewer: httpx.Client) -> None:
    everything = [p["id"] for p in viewer.get("/v1/plans").json()]
    scenarios = viewer.get("/v1/plans", params={"scenario": "true"}).json()
    assert [p["id"] for p in scenarios] == [everything[2]]
    real = viewer.get("/v1/plans", params={"scenario": "false"}).json()
    assert [p["id"] for p in real] == [everything[i] for i in (0, 1, 3)]
    pages = [viewer.get("/v1/plans", params={"limit": 3, "offset": o}) for o in (0, 3, 6)]
    assert [[p["id"] for p in page.json()] for page in pages] == [
        everything[:3],
        everything[3:],
        [],
    ]
    # every page, the empty one past the end too, says how many there are in all
    assert [page.headers["x-total-count"] for page in pages] == ["4"] * 3
    real_page = viewer.get("/v1/plans", params={"scenario": "false", "limit": 1, "offset": 1})
    assert [p["id"] for p in real_page.json()] == [everything[1]]
    assert real_page.headers["x-total-count"] == str(len(real)) == "3"  # counted as filtered
    only_what_ifs = viewer.get("/v1/plans", params={"scenario": "true", "offset": 5})
    assert (only_what_ifs.json(), only_what_ifs.headers["x-total-count"]) == ([], "1")


def test_plans_default_to_twenty(viewer: httpx.Client, finance: httpx.Client) -> None:
    for fee in range(17):  # 4 plans so far; 21 after these
        _what_if(finance, 0.2 + fee / 100)
    first_page = viewer.get("/v1/plans")
    assert len(first_page.json()) == 20 and first_page.headers["x-total-count"] == "21"
    assert len(viewer.get("/v1/plans", params={"limit": 100}).json()) == 21


@pytest.mark.parametrize(
    ("params", "parameter", "expected", "found"),
    [
        ({"limit": "101"}, "limit", "100", "101"),
        ({"limit": "0"}, "limit", "1", "0"),
        ({"offset": "-1"}, "offset", "0", "-1"),
        ({"scenario": "maybe"}, "scenario", "boolean", "maybe"),
    ],
)
def test_a_bad_plans_query_is_422_naming_parameter_expected_and_found(
    viewer: httpx.Client, params: dict[str, str], parameter: str, expected: str, found: str
) -> None:
    response = viewer.get("/v1/plans", params=params)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["title"] == "Invalid input"
    [problem] = body["problems"]
    assert problem["location"] == f"query/{parameter}"
    assert expected in problem["expected"] and found in problem["found"]


def test_a_plans_config_by_id(viewer: httpx.Client) -> None:
    active = viewer.get("/v1/configs/active").json()
    assert active["scenario"] is False
    same = viewer.get(f"/v1/configs/{active['id']}")
    assert same.status_code == 200, same.text
    assert same.json() == active
    what_if = viewer.get("/v1/plans", params={"scenario": "true", "limit": 1}).json()[0]
    config = viewer.get(f"/v1/configs/{what_if['config_id']}").json()
    assert config["scenario"] is True and config["id"] == what_if["config_id"]
    assert config["name"] == active["name"] and config["version"] == active["version"]
    assert set(config) >= {"body", "body_hash", "created_at"}
    assert config["body"]["fees"]["dfg_fee_rate"] != active["body"]["fees"]["dfg_fee_rate"]


def test_a_missing_config_is_404_problem_json(viewer: httpx.Client) -> None:
    missing = viewer.get("/v1/configs/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith(PROBLEM_JSON)
    assert missing.json()["title"] == "Not found" and "999999" in missing.json()["detail"]
    bad = viewer.get("/v1/configs/latest")
    assert bad.status_code == 422 and bad.json()["problems"][0]["location"] == "path/config_id"


def test_openapi_describes_plan_history_and_configs_by_id(demo_server: LiveServer) -> None:
    spec = httpx.get(f"{demo_server.url}/openapi.json").json()
    listing = spec["paths"]["/v1/plans"]["get"]
    item = listing["responses"]["200"]["content"]["application/json"]["schema"]["items"]
    summary = spec["components"]["schemas"][item["$ref"].rsplit("/", 1)[1]]
    assert set(summary["properties"]) == SUMMARY_FIELDS | HORIZON_FIELDS
    params = {p["name"]: p["schema"] for p in listing["parameters"]}
    assert params["limit"]["maximum"] == 100 and params["limit"]["default"] == 20
    assert {"scenario", "offset"} <= set(params)
    plan = spec["components"]["schemas"]["PlanPublic"]["properties"]
    assert plan["scenario"]["type"] == "boolean" and "config_id" in plan
    by_id = spec["paths"]["/v1/configs/{config_id}"]["get"]["responses"]["200"]
    assert by_id["content"]["application/json"]["schema"]["$ref"].endswith("/ConfigPublic")
    config = spec["components"]["schemas"]["ConfigPublic"]["properties"]
    assert config["scenario"]["type"] == "boolean"
