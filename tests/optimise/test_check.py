"""The residual checker: every solved plan satisfies every constraint, from its own numbers."""

from __future__ import annotations

from dataclasses import replace

import pytest

import optimise
from optimise.check import max_violation, residuals
from tests.optimise.factory import hand_config, hand_demand, inputs_of, rich_config, rich_demand


@pytest.mark.parametrize("solver", ["highs", "pulp-highs", "cbc"])
def test_rich_plan_has_no_residual(solver: str) -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    result = optimise.plan(inputs, solver=solver)
    assert result.status is optimise.PlanStatus.OPTIMAL
    assert max_violation(residuals(inputs, result)) < 1e-5


def test_checker_catches_a_tampered_plan() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    result = optimise.plan(inputs)
    hours = result.hours.copy()
    hours.loc[0, "hours"] += 1.0
    staffing = result.staffing.copy()
    staffing["staff_hours"] += 500.0
    broken = replace(result, hours=hours, staffing=staffing)
    names = {r.constraint for r in residuals(inputs, broken) if r.violation > 1e-6}
    assert {"hours_per_case", "team_hours_max", "revenue"} <= names


def test_every_family_is_checked() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    names = {r.constraint for r in residuals(inputs, optimise.plan(inputs))}
    assert {
        "backlog",
        "works",
        "capital",
        "team_hours_used",
        "team_hours_max",
        "team_hours_min",
        "revenue",
        "non_negative",
    } <= names
