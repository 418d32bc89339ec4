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
