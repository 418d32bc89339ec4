"""solve() returns typed outcomes, never exceptions: unknown solver, time limit, duals' signs."""

from __future__ import annotations

import optimise
from tests.optimise.factory import hand_config, hand_demand, inputs_of, rich_config, rich_demand


def test_unknown_solver_is_an_error_result() -> None:
    model = optimise.build_model(inputs_of(hand_config(), hand_demand()))
    outcome = optimise.solve(model, solver="gurobi")
    assert outcome.status is optimise.SolveStatus.ERROR
    assert "expected one of" in outcome.message and "'gurobi'" in outcome.message


def test_time_limit_gives_an_explained_plan() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), time_limit_s=0.0)
    assert result.status is optimise.PlanStatus.TIME_LIMIT
    assert result.message.startswith("No plan: the solver ended with status time_limit")
    assert result.to_dict()["hours"] == []


def test_build_is_pure_and_repeatable() -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    first, second = optimise.build_model(inputs), optimise.build_model(inputs)
    assert (first.matrix != second.matrix).nnz == 0
    assert first.names("rows") == second.names("rows")
