"""The demo planning config: valid, capital as published, a budget short of every hour wanted."""

from __future__ import annotations

from homeward import demo_config
from optimise.config import PlanningConfig


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
