"""A what-if made with POST /v1/plans comes back set against the active config's latest plan,
as a sweep's rows are: its figures, each one's change from that plan, and the config fields it
changed, to the leaf."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from homeward import planning


def _figures(plan: dict[str, Any]) -> dict[str, float | None]:
    return planning.plan_figures(plan["objective_weighted_wait_days"], plan["result"])


def test_a_what_if_is_compared_with_the_active_configs_latest_plan(
    finance: httpx.Client,
) -> None:
    latest = finance.get("/v1/plans/latest").json()
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    [domcare] = [s for s in body["services"] if s["id"] == "domcare"]
    domcare["cost_per_hour_gbp"] = 25.0
    body["fees"]["dfg_fee_rate"] = 0.2
    made = finance.post("/v1/plans", json={"config": body})
    assert made.status_code == 201, made.text
    plan = made.json()
    comparison = plan["comparison"]
    assert comparison["compared_with_plan_id"] == latest["id"]
    assert comparison["plan_id"] == plan["id"] and comparison["dfg_fee_rate"] == 0.2
    assert comparison["config_changes"] == [
        f"fees.dfg_fee_rate: {latest_rate(finance):g} -> 0.2",
        "services[domcare].cost_per_hour_gbp: 23 -> 25",
    ]
    now, then = _figures(plan), _figures(latest)
    for name in planning.SWEEP_FIGURES:
        if name == "simulated_dtoc_days":  # the stored result's own, as both plans have
            now[name] = plan["result"]["simulated_dtoc_days"]
            then[name] = latest["result"]["simulated_dtoc_days"]
        value, before = now[name], then[name]
        assert comparison[name] == pytest.approx(value)
        assert value is not None and before is not None
        assert comparison[f"{name}_change"] == pytest.approx(value - before, abs=1e-6)
    assert comparison["fee_income_gbp_change"] > 0  # a higher fee on the same works
    # the plan stored is the plan alone, as before
    assert "comparison" not in finance.get(f"/v1/plans/{plan['id']}").json()


def latest_rate(client: httpx.Client) -> float:
    rate: float = client.get("/v1/configs/active").json()["body"]["fees"]["dfg_fee_rate"]
    return rate


def test_the_active_config_planned_again_changes_no_field(finance: httpx.Client) -> None:
    latest = finance.get("/v1/plans/latest").json()
    made = finance.post("/v1/plans", json={})
    assert made.status_code == 201, made.text
    comparison = made.json()["comparison"]
    assert comparison["config_changes"] == []
    assert comparison["compared_with_plan_id"] == latest["id"]
    assert comparison["weighted_wait_days_change"] == pytest.approx(0.0, abs=1e-3)


def test_a_what_if_over_other_periods_has_no_changes_and_says_why(
    finance: httpx.Client,
) -> None:
    latest = finance.get("/v1/plans/latest").json()
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    body["horizon_periods"] = latest["result"]["periods"] // 2
    made = finance.post("/v1/plans", json={"config": body})
    assert made.status_code == 201, made.text
    plan = made.json()
    comparison = plan["comparison"]
    assert comparison["compared_with_plan_id"] == latest["id"]
    first, days = latest["result"]["first_ds"], latest["result"]["period_days"]
    assert comparison["not_comparable"] == (
        f"plan {plan['id']} covers {body['horizon_periods']} periods of {days} days from "
        f"{first}, plan {latest['id']} {latest['result']['periods']} periods of {days} days "
        f"from {first}: totals over other periods are not compared, so every change is null"
    )
    for name in planning.SWEEP_FIGURES:
        assert comparison[f"{name}_change"] is None, name
    assert comparison["weighted_wait_days"] == pytest.approx(
        plan["objective_weighted_wait_days"]
    )  # its own figures are still given
