"""Revenue budgets per team: a hand-solved two-team instance, validation, and a property."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import optimise
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig
from optimise.result import PlanResult
from tests.optimise.factory import (
    bounds,
    demand_frame,
    district,
    full_config,
    inputs_of,
    rich_demand,
    service,
)
from tests.optimise.test_properties import PROPERTY, instances, money


def two_teams(north_gbp: float = 100.0, south_gbp: float = 200.0) -> dict[str, Any]:
    """OT only; north (rugby) and south (warwick) each pay their staff from their own budget."""
    hours = {"ot": bounds(0, 100)}
    return {
        "name": "two-teams",
        "version": "1",
        "period_days": 7,
        "horizon_periods": 2,
        "services": [service("ot", 2.0, 10.0, 1.0)],
        "teams": [
            {"id": "north", "hours": hours, "revenue_budget_gbp_per_period": north_gbp},
            {"id": "south", "hours": hours, "revenue_budget_gbp_per_period": south_gbp},
        ],
        "districts": [
            district("rugby", "north", 0.0, {"ot": 10.0}),
            district("warwick", "south", 0.0, {"ot": 4.0}),
        ],
        "fees": {"dfg_fee_rate": 0.0},
        "flows": {"p_ot_dfg": 0.0, "p_reab_dom": 0.0},
    }


def two_team_demand() -> pd.DataFrame:
    return demand_frame({("ot", "rugby"): [6.0, 6.0], ("ot", "warwick"): [3.0, 3.0]})


@pytest.fixture(scope="module")
def split_plan() -> PlanResult:
    return optimise.plan(inputs_of(two_teams(), two_team_demand()))


def test_each_team_spends_only_its_own_budget(split_plan: PlanResult) -> None:
    # North: GBP 100 = 10 h = 5 cases a week against 10 + 6 waiting. South's GBP 200 would buy
    # 10 cases a week but warwick only has 4 + 3, then 3: it serves them all and keeps the rest.
    hours = split_plan.hours.set_index(["district", "period"])["hours"]
    assert hours.to_dict() == pytest.approx(
        {("rugby", 1): 10.0, ("rugby", 2): 10.0, ("warwick", 1): 14.0, ("warwick", 2): 6.0}
    )
    # Rugby waits 11 then 12 cases; warwick none: 7 days x 23.
    assert split_plan.objective_weighted_wait_days == pytest.approx(7 * 23)
    spend = split_plan.revenue_by_budget.set_index(["budget", "period"])["staff_cost_gbp"]
    assert spend.to_dict() == pytest.approx(
        {("north", 1): 100.0, ("north", 2): 100.0, ("south", 1): 140.0, ("south", 2): 60.0}
    )
    assert split_plan.revenue["budget_gbp"].to_list() == pytest.approx([300.0, 300.0])


def test_team_budget_shadow_prices(split_plan: PlanResult) -> None:
    prices = split_plan.shadow_prices.set_index(["constraint", "index"])
    value = prices["value"]
    # GBP 1 more for north in week 1 serves 0.05 cases two weeks sooner: 0.7 days per GBP,
    # less the spend tie-break; south's budget is slack, so more of it is worth nothing.
    tie = 1000 * SPEND_TIE_BREAK_DAYS_PER_GBP
    assert value[("revenue", "north/1")] == pytest.approx(700.0 - tie)
    assert value[("revenue", "north/2")] == pytest.approx(350.0 - tie)
    assert value[("revenue", "south/1")] == pytest.approx(0.0, abs=1e-9)
    assert value[("revenue", "south/2")] == pytest.approx(0.0, abs=1e-9)
    statement = prices.loc[("revenue", "north/1"), "statement"]
    assert "team north's revenue budget" in statement and "GBP 1,000" in statement


def test_a_pooled_budget_would_move_money_between_teams(split_plan: PlanResult) -> None:
    raw = two_teams()
    for team in raw["teams"]:
        del team["revenue_budget_gbp_per_period"]
    pooled = optimise.plan(
        inputs_of({**raw, "revenue_budget_gbp_per_period": 300.0}, two_team_demand())
    )
    assert pooled.objective_weighted_wait_days < split_plan.objective_weighted_wait_days - 1.0
    assert pooled.shadow_prices.set_index("constraint").loc["revenue", "index"].to_list() == [
        "1",
        "2",
    ]


def test_split_plan_has_no_residual(split_plan: PlanResult) -> None:
    inputs = inputs_of(two_teams(), two_team_demand())
    assert max_violation(residuals(inputs, split_plan)) < 1e-6


def test_checker_catches_one_team_overspending(split_plan: PlanResult) -> None:
    inputs = inputs_of(two_teams(), two_team_demand())
    staffing = split_plan.staffing.copy()
    north = staffing["team"] == "north"
    staffing.loc[north, "staff_hours"] += 5.0  # GBP 50 over north's budget; south still has room
    hours = split_plan.hours.copy()
    broken = split_plan.with_extras(staffing=staffing, hours=hours)
    over = [r for r in residuals(inputs, broken) if r.constraint == "revenue" and r.violation > 1]
    assert [r.violation for r in over][:2] == pytest.approx([50.0, 50.0])


def test_team_over_budget_is_relaxed_and_named() -> None:
    raw = two_teams(north_gbp=100.0)
    raw["teams"][0]["hours"] = {"ot": bounds(15, 100)}  # a floor of 15 h costs GBP 150
    result = optimise.plan(inputs_of(raw, two_team_demand()))
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    relaxed = result.relaxations.set_index(["constraint", "index"])["amount"]
    assert relaxed.to_dict() == pytest.approx(
        {("revenue", "north/1"): 50.0, ("revenue", "north/2"): 50.0}
    )
    assert list(result.relaxations["where"]) == ["budget north, period 1", "budget north, period 2"]


def test_budgets_must_cover_every_team() -> None:
    raw = two_teams()
    del raw["teams"][1]["revenue_budget_gbp_per_period"]
    with pytest.raises(ValidationError, match=r'revenue_budget_gbp_per_period.*\["south"\]'):
        PlanningConfig.model_validate(raw)
    mixed = optimise.plan(
        inputs_of({**raw, "revenue_budget_gbp_per_period": 200.0}, two_team_demand())
    )
    assert set(mixed.revenue_by_budget["budget"]) == {"north", "pooled"}
    with pytest.raises(ValidationError, match="expected none because every team has its own"):
        PlanningConfig.model_validate({**two_teams(), "revenue_budget_gbp_per_period": 1.0})
    with pytest.raises(ValidationError, match="revenue_budget_gbp_per_period"):
        PlanningConfig.model_validate(two_teams(north_gbp=-1.0))


def with_team_budgets(raw: dict[str, Any], budgets: list[float]) -> dict[str, Any]:
    """The same instance with each team paying from its own budget instead of the pool."""
    teams = [
        {**t, "revenue_budget_gbp_per_period": b}
        for t, b in zip(raw["teams"], budgets, strict=False)
    ]
    out = {**raw, "teams": teams}
    out.pop("revenue_budget_gbp_per_period")
    return out


@PROPERTY
@given(instances(), st.lists(money, min_size=2, max_size=2), money, st.integers(0, 1))
def test_more_budget_for_one_team_never_increases_waiting(
    instance: tuple[dict[str, Any], pd.DataFrame], budgets: list[float], extra: float, who: int
) -> None:
    raw, demand = instance
    before = with_team_budgets(raw, budgets)
    richer = [b + (extra if i == who else 0.0) for i, b in enumerate(budgets)]
    low = optimise.plan(inputs_of(before, demand), simulation_runs=0)
    high = optimise.plan(inputs_of(with_team_budgets(raw, richer), demand), simulation_runs=0)
    # Hours floors are 0 in these instances, so every request is feasible.
    assert low.status is high.status is optimise.PlanStatus.OPTIMAL
    tolerance = 1e-6 * max(1.0, abs(low.objective_weighted_wait_days))
    assert high.objective_weighted_wait_days <= low.objective_weighted_wait_days + tolerance


def test_team_budgets_in_the_full_model_have_no_residual() -> None:
    raw = with_team_budgets(full_config(), [9000.0, 7000.0])
    inputs = inputs_of(raw, rich_demand())
    result = optimise.plan(inputs)
    assert result.status is optimise.PlanStatus.OPTIMAL
    assert max_violation(residuals(inputs, result)) < 1e-5
    assert {"plan", "proportional_to_demand"} <= set(result.baselines["name"])
