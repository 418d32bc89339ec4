"""Edge cases a planner can send: nothing to do, no money, one district, a district without
capital, a unit slip in hours per case, a long weekly horizon and monthly periods. Each gets
an answer that holds (or a refusal naming the field), never a crash."""

from __future__ import annotations

import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import MIN_HOURS_PER_CASE, PlanningConfig
from tests.optimise.factory import START, inputs_of, rich_config, rich_demand


def _checked(raw: dict[str, object], demand: pd.DataFrame) -> optimise.PlanResult:
    inputs = inputs_of(raw, demand)
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL, result.message
    assert max_violation(residuals(inputs, result)) < 1e-6
    return result


def _no_demand() -> pd.DataFrame:
    demand = rich_demand()
    demand[["cases", "q90"]] = 0.0
    return demand


def test_nothing_waiting_and_nothing_coming_costs_nothing() -> None:
    raw = rich_config()
    for d in raw["districts"]:
        d["initial_backlog_cases"], d["initial_works_backlog_cases"] = {}, 0.0
    for team in raw["teams"]:
        for hours in team["hours"].values():
            hours["min_per_period"] = 0.0
    result = _checked(raw, _no_demand())
    assert result.objective_weighted_wait_days == 0.0
    assert result.staffing["staff_hours"].sum() == pytest.approx(0.0, abs=1e-9)
    assert result.revenue["staff_cost_gbp"].sum() == pytest.approx(0.0, abs=1e-6)


def test_no_new_demand_clears_the_waiting_list() -> None:
    result = _checked(rich_config(revenue_budget_gbp_per_period=1e6), _no_demand())
    care = result.backlog[result.backlog["service"] != "dfg_works"]
    # at most 120 OT hours a week per team (20 cases): the 70 in the north take 4 weeks (up
    # to the even-waits stage's room, 1e-6 of the plan's weighted waiting: a few 0.0001 cases)
    assert care[care["period"] >= 4]["backlog_cases"].max() == pytest.approx(0.0, abs=1e-3)
    assert care[care["period"] == 1]["backlog_cases"].max() > 0


def test_no_budget_and_no_floors_plans_no_staff() -> None:
    raw = rich_config(revenue_budget_gbp_per_period=0.0, fees={"dfg_fee_rate": 0.0})
    for team in raw["teams"]:
        for hours in team["hours"].values():
            hours["min_per_period"] = 0.0
    result = _checked(raw, rich_demand())
    assert result.staffing["staff_hours"].sum() == pytest.approx(0.0, abs=1e-6)
    assert result.capital["works_completed"].sum() > 0  # capital is not revenue: works go on


def test_no_budget_with_floors_is_relaxed_naming_the_money() -> None:
    result = optimise.plan(
        inputs_of(rich_config(revenue_budget_gbp_per_period=0.0), rich_demand()),
        simulation_runs=0,
    )
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    assert set(result.relaxations["constraint"]) == {"revenue"}
    assert "relaxes revenue (period" in result.message


def test_one_district() -> None:
    raw = rich_config()
    raw["districts"], raw["teams"] = raw["districts"][:1], raw["teams"][:1]
    demand = rich_demand()
    _checked(raw, demand[demand["district"] == "rugby"])


def test_a_district_with_no_capital_completes_no_works_and_borrows_none() -> None:
    raw = rich_config()
    raw["districts"][0]["capital_gbp"] = 0.0
    result = _checked(raw, rich_demand())
    totals = result.capital_total.set_index("district")
    assert totals.loc["rugby", "capital_spent_gbp"] == pytest.approx(0.0, abs=1e-6)
    others = totals.drop(index="rugby")
    assert (others["capital_spent_gbp"] <= others["capital_available_gbp"] + 1e-6).all()
    works = result.backlog[(result.backlog["service"] == "dfg_works")]
    rugby = works[works["district"] == "rugby"]["backlog_cases"].to_numpy()
    assert (rugby[1:] >= rugby[:-1] - 1e-9).all()  # its works list only grows


@pytest.mark.parametrize("hours_per_case", [0.0, MIN_HOURS_PER_CASE / 2, -1.0])
def test_a_unit_slip_in_hours_per_case_is_refused_at_its_field(hours_per_case: float) -> None:
    raw = rich_config()
    raw["services"][0]["hours_per_case"] = hours_per_case
    with pytest.raises(ValidationError) as info:
        PlanningConfig.model_validate(raw)
    assert info.value.errors()[0]["loc"] == ("services", 0, "hours_per_case")


def test_three_years_of_weeks() -> None:
    weeks = 156
    _checked(rich_config(horizon_periods=weeks), rich_demand(weeks))


def test_monthly_periods() -> None:
    demand = rich_demand(12)
    month = (demand["ds"] - START).dt.days // 7
    demand["ds"] = [pd.Timestamp("2025-01-01") + pd.DateOffset(months=int(m)) for m in month]
    result = _checked(rich_config(period_days=30, horizon_periods=12), demand)
    assert result.backlog["avg_wait_days"].dropna().ge(0).all()
