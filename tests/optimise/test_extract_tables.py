"""Plan tables pinned where a mutation run found them unchecked: capital_total as a total,
the DFG works rows' priority, the demand table, and FTE on monthly periods."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from optimise.result import PlanResult
from tests.optimise.factory import demand_frame, hand_config, hand_demand, inputs_of


@pytest.fixture(scope="module")
def hand_plan() -> PlanResult:
    return optimise.plan(inputs_of(hand_config(), hand_demand()), simulation_runs=0)


# ---- optimise/extract.py -------------------------------------------------------------------


def test_capital_total_is_the_capital_spent_over_the_whole_horizon(hand_plan: PlanResult) -> None:
    """extract.py:134 `.sum(axis=1)` -> `.mean(axis=1)` survived: capital_total would show the
    average spent per period (GBP 2,500) as the district's total (GBP 5,000 for 5 works at
    GBP 1,000, all in week 1)."""
    totals = hand_plan.capital_total.set_index("district")
    assert totals.loc["rugby", "capital_spent_gbp"] == pytest.approx(5000.0)
    assert totals.loc["rugby", "capital_spent_gbp"] == pytest.approx(
        hand_plan.capital["capital_gbp"].sum()
    )


def test_dfg_works_rows_of_the_backlog_are_standard_priority(hand_plan: PlanResult) -> None:
    """extract.py:194 dropping `works.insert(2, "priority", "standard")` survived: the works
    rows of the backlog table would have a blank priority (NaN), so a filter on
    priority == "standard" (or a pivot by priority) loses the DFG works queue."""
    works = hand_plan.backlog[hand_plan.backlog["service"] == "dfg_works"]
    assert len(works) == 2
    assert works["priority"].tolist() == ["standard", "standard"]
    assert not hand_plan.backlog["priority"].isna().any()
    assert hand_plan.backlog.index.is_unique  # pd.concat(ignore_index=True), line 195


def test_plan_demand_table_is_the_forecast_it_planned_for(hand_plan: PlanResult) -> None:
    """extract.py:282 `demand_frame` returning None survived the optimise tests: the plan's
    demand table (forecast and planned cases) is read by no optimise test."""
    demand = hand_plan.demand.set_index(["service", "period"])
    assert demand["forecast_cases"].to_dict() == pytest.approx(
        {("ot", 1): 5.0, ("ot", 2): 6.0, ("hao", 1): 8.0, ("hao", 2): 8.0}
    )
    assert (demand["planned_cases"] == demand["forecast_cases"]).all()


def test_fte_of_monthly_periods_is_hours_over_a_months_weeks() -> None:
    """extract.py:116 `per_fte * weeks` -> `per_fte / weeks` survived: every test plan is weekly
    (weeks = 1). On 30-day periods, 100 staff hours at 37 h/week is 100 / (37 x 30/7) =
    0.63 FTE; the mutant says 100 x (30/7) / 37 = 11.6 FTE."""
    raw = hand_config(period_days=30)
    raw["services"][0]["hours_per_fte"] = 37.0
    demand = demand_frame({("ot", "rugby"): [5.0, 6.0], ("hao", "rugby"): [8.0, 8.0]})
    demand["ds"] = [pd.Timestamp("2025-01-01"), pd.Timestamp("2025-02-01")] * 2
    result = optimise.plan(inputs_of(raw, demand), simulation_runs=0)
    ot = result.staffing[result.staffing["service"] == "ot"]
    assert (ot["staff_hours"] > 1).all()
    assert ot["fte"].to_numpy() == pytest.approx(ot["staff_hours"].to_numpy() / (37.0 * 30 / 7))
