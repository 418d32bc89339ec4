"""Plans as dashboards read them: the latest real plan, never a what-if.

Over a real HTTP server on the demo database (one pipeline run, its plan first); the tests run
in order and each adds the plans the next expects. API keys required; the weakest key that may.
"""

from __future__ import annotations

from typing import Any

import httpx


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
    viewer: httpx.Client, planner: httpx.Client, finance: httpx.Client
) -> None:
    active = viewer.get("/v1/configs/active").json()
    requested = planner.post("/v1/plans", json={})
    assert requested.status_code == 201, requested.text
    plan = requested.json()
    # the demo config is stored as written (defaults left out); it is still the active config
    assert plan["scenario"] is False and plan["config_id"] == active["id"]
    assert viewer.get("/v1/plans/latest").json()["id"] == plan["id"]
    unchanged = finance.post("/v1/plans", json={"config": active["body"]}).json()
    assert unchanged["scenario"] is False and unchanged["config_id"] == active["id"]
    assert viewer.get("/v1/plans/latest").json()["id"] == unchanged["id"]
