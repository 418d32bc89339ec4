"""The demo planning config: valid, capital as published, a budget short of every hour wanted."""

from __future__ import annotations

import pandas as pd
import pytest

from homeward import demo_config
from homeward.calibration import CALIBRATION
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


def test_home_care_ceilings_can_serve_its_referrals_and_those_from_reablement() -> None:
    """Home care's demand in the LP is its referrals plus P_REAB_DOM of reablement's completions;
    sized on its referrals alone, its ceilings served 40 cases a week against 64 arriving."""
    body = demo_config.demo_planning_config()
    hours_per_case = {s["id"]: s["hours_per_case"] for s in body["services"]}
    ceiling_cases = (
        sum(team["hours"]["domcare"]["max_per_period"] for team in body["teams"])
        / hours_per_case["domcare"]
    )
    arriving = sum(DEMO_BASE_WEEKLY_REFERRALS["domcare"].values()) + body["flows"][
        "p_reab_dom"
    ] * sum(DEMO_BASE_WEEKLY_REFERRALS["reablement"].values())
    assert arriving == pytest.approx(64.1, abs=0.1)
    assert ceiling_cases > arriving * demo_config.GROWTH_ALLOWANCE


def test_hospital_shares_put_warwickshires_measured_delays_in_hospital_on_day_one() -> None:
    """People waiting in hospital at the start = Warwickshire's 2018 delays per day for the
    matching reason: E (a care package at home) for home care, C (non-acute NHS care, which
    includes reablement) for reablement."""
    body = demo_config.demo_planning_config()
    share = {s["id"]: s.get("hospital_share") for s in body["services"]}
    waiting = {
        s: sum(d["initial_backlog_cases"][s] for d in body["districts"])
        for s in ("reablement", "domcare")
    }
    delays = CALIBRATION.delays_by_reason
    assert share["domcare"] * waiting["domcare"] == pytest.approx(
        delays.care_package_home_per_day, rel=1e-3
    )
    assert share["reablement"] * waiting["reablement"] == pytest.approx(
        delays.further_nhs_nonacute_per_day, rel=1e-3
    )
    assert share["ot"] is None and share["hao"] is None  # no hospital delay is modelled for them


def test_works_limits_allow_a_tenth_above_the_pace_the_grant_pays_for() -> None:
    body = demo_config.demo_planning_config()
    weekly = sum(d["max_works_per_period"] for d in body["districts"])
    pace = demo_config.DFG_CAPITAL_WARWICKSHIRE_GBP / demo_config.COST_PER_ADAPTATION_GBP / 52
    assert weekly == pytest.approx(1.10 * pace, rel=1e-3)
    config = PlanningConfig.model_validate(body)
    assert all(d.max_works_per_period is not None for d in config.districts)
