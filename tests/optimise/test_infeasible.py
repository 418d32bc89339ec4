"""An infeasible request comes back explained (elastic slack with a stated penalty)."""

from __future__ import annotations

import pytest

import optimise
from optimise.check import residuals
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of


def _too_dear() -> dict[str, object]:
    # 30 HAO hours at GBP 10 must be paid, but the budget is GBP 200 a week.
    hours = {"ot": bounds(0, 100), "hao": bounds(30, 40)}
    return hand_config(teams=[{"id": "north", "hours": hours}])


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_minimum_hours_over_budget_is_explained(solver: str) -> None:
    inputs = inputs_of(_too_dear(), hand_demand())
    result = optimise.plan(inputs, solver=solver)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    relaxed = result.relaxations.set_index(["constraint", "index"])["amount"]
    assert relaxed.to_dict() == pytest.approx({("revenue", "1"): 100.0, ("revenue", "2"): 100.0})
    assert list(result.relaxations["where"]) == ["period 1", "period 2"]
    assert "cannot be met" in result.message and "revenue (period 1) by 100.0 GBP" in result.message
    assert (result.relaxations["penalty_per_unit"] > 0).all()


def test_relaxed_plan_breaks_only_what_it_reports() -> None:
    inputs = inputs_of(_too_dear(), hand_demand())
    result = optimise.plan(inputs)
    broken = [r for r in residuals(inputs, result) if r.violation > 1e-6]
    assert {r.constraint for r in broken} == {"revenue"}
    assert sum(r.violation for r in broken) == result.relaxations["amount"].sum()


def test_direct_solve_reports_infeasible_status() -> None:
    inputs = inputs_of(_too_dear(), hand_demand())
    outcome = optimise.solve(optimise.build_model(inputs))
    assert outcome.status is optimise.SolveStatus.INFEASIBLE
    assert "nfeasible" in outcome.message


@pytest.mark.parametrize("solver", ["highs", "cbc"])
def test_the_pace_of_change_gives_way_before_a_teams_ceiling(solver: str) -> None:
    """OT at 100 hours a week, a ceiling of 50 and at most 1 hour of change a week cannot all
    hold in week 1: the pace gives way (49 hours), not the ceiling, however much the demand and
    the budget would use hours over it (at equal penalties they cancelled, and the plan worked
    hours the config says the team does not have)."""
    ot = bounds(0, 50, current_per_period=100, max_change_per_period=1)
    raw = hand_config(
        teams=[{"id": "north", "hours": {"ot": ot, "hao": bounds(0, 5)}}],
        revenue_budget_gbp_per_period=100_000,
    )
    busy = hand_demand().assign(cases=lambda d: d["cases"] * 20)  # far more than 50 hours serve
    result = optimise.plan(inputs_of(raw, busy), solver=solver)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    relaxed = result.relaxations.set_index(["constraint", "index"])["amount"]
    assert relaxed.to_dict() == pytest.approx({("recruitment_down", "ot/north/1"): 49.0})
    ot_hours = result.hours[result.hours["service"] == "ot"].groupby("period")["hours"].sum()
    assert ot_hours.to_dict() == pytest.approx({1: 50.0, 2: 50.0}, abs=1e-6)
