"""The demo planning config: valid, capital as published, a budget short of every hour wanted."""

from __future__ import annotations

import pandas as pd

from homeward import demo_config
from homeward.demo_series import DEMO_BASE_WEEKLY_REFERRALS
from homeward.planning import with_winter_pressure
from optimise import plan
from optimise.check import residuals
from optimise.config import PlanningConfig
from optimise.inputs import build_inputs


def test_demo_config_is_a_valid_planning_config() -> None:
    config = PlanningConfig.model_validate(demo_config.demo_planning_config())
    assert config.horizon_periods == 52 and config.period_days == 7
    assert {d.team for d in config.districts} == {"north", "south"}


def test_dfg_capital_sums_to_the_published_warwickshire_grant() -> None:
    body = demo_config.demo_planning_config()
    assert sum(d["capital_gbp"] for d in body["districts"]) == 4_516_609
    assert all(d["capital_gbp"] > 0 for d in body["districts"])


def test_revenue_budget_cannot_fund_every_hour_wanted() -> None:
    body = demo_config.demo_planning_config()
    costs = {s["id"]: s["cost_per_hour_gbp"] for s in body["services"]}
    max_hours_cost = sum(
        costs[s] * bounds["max_per_period"]
        for team in body["teams"]
        for s, bounds in team["hours"].items()
    )
    min_hours_cost = sum(
        costs[s] * bounds["min_per_period"]
        for team in body["teams"]
        for s, bounds in team["hours"].items()
    )
    assert min_hours_cost < body["revenue_budget_gbp_per_period"] < max_hours_cost


def test_demo_plan_respects_every_constraint_and_the_budget_binds() -> None:
    body = demo_config.demo_planning_config(horizon_periods=8)
    config = PlanningConfig.model_validate(body)
    weeks = pd.date_range("2026-01-05", periods=8, freq="W-MON")
    demand = pd.DataFrame(
        [
            {
                "service": s,
                "district": d,
                "ds": w,
                "cases": DEMO_BASE_WEEKLY_REFERRALS[s][d] * 1.08,
                "q90": DEMO_BASE_WEEKLY_REFERRALS[s][d] * 1.3,
            }
            for s in DEMO_BASE_WEEKLY_REFERRALS
            for d in DEMO_BASE_WEEKLY_REFERRALS[s]
            for w in weeks
        ]
    )
    index = pd.DataFrame({"ds": pd.to_datetime(["2026-01-01", "2026-02-01"]), "index": [1.1, 1.05]})
    inputs = build_inputs(config, with_winter_pressure(demand, index))
    assert (inputs.demand_cases > inputs.forecast_cases).any()  # admissions raise winter weeks
    result = plan(inputs, simulation_runs=0)
    assert result.status.value == "optimal"
    assert max(r.violation for r in residuals(inputs, result)) < 1e-6
    assert "revenue" in set(result.binding["constraint"])
