"""No solution that breaks its LP is used: solve() checks every row and bound of what a solver
returns (optimise/feasibility.py), so a corrupted first solve is no plan and a corrupted
second solve falls back to the first."""

from __future__ import annotations

import importlib
from dataclasses import replace
from typing import Any

import numpy as np
import pytest
import scipy.sparse as sp

import optimise
from optimise.feasibility import TOLERANCE, checked, violation
from optimise.model import Block, LpModel
from optimise.solution import SolveResult, SolveStatus, empty_result
from tests.optimise.factory import inputs_of, rich_config, rich_demand

SOLVE = importlib.import_module("optimise.solve")  # `optimise.solve` is also the function


def zeroed(outcome: SolveResult) -> SolveResult:
    """What CBC returned on the badly scaled even-waits LP: every value 0, status optimal."""
    return replace(outcome, col_value=np.zeros_like(outcome.col_value))


def corrupting(real: Any, when: str | None = None) -> Any:
    """`real` (a backend) with its solutions zeroed; only for models with column family
    `when`, if given (worst_wait: the second stage's)."""

    def backend(model: LpModel, *args: Any, **kwargs: Any) -> SolveResult:
        outcome = real(model, *args, **kwargs)
        return zeroed(outcome) if when is None or when in model.columns else outcome

    return backend


@pytest.mark.parametrize("solver", ["highs", "pulp-highs", "cbc"])
def test_a_solvers_solution_is_within_round_off(solver: str) -> None:
    model = optimise.build_model(inputs_of(rich_config(), rich_demand()))
    outcome = optimise.solve(model, solver)
    assert outcome.ok
    assert violation(model, outcome.col_value).relative < TOLERANCE / 10


def test_a_broken_value_is_found_and_named() -> None:
    model = optimise.build_model(inputs_of(rich_config(), rich_demand()))
    values = optimise.solve(model).col_value.copy()
    served = model.columns["x"].start  # ot, rugby, period 1, standard
    values[served] += 5.0
    found = violation(model, values)
    assert not found.ok
    assert found.where == "backlog ot/rugby/1/standard" and found.amount == pytest.approx(5.0)
    assert not violation(model, np.full_like(values, np.nan)).ok
    assert not violation(model, values[:-1]).ok


@pytest.mark.parametrize(("solver", "backend"), [("cbc", "solve_pulp"), ("highs", "_solve_highs")])
def test_a_corrupted_first_solve_is_no_plan(
    monkeypatch: pytest.MonkeyPatch, solver: str, backend: str
) -> None:
    monkeypatch.setattr(SOLVE, backend, corrupting(getattr(SOLVE, backend)))
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), solver, simulation_runs=0)
    assert result.status is optimise.PlanStatus.ERROR
    assert result.message.startswith("No plan: the solver ended with status error")
    assert "returned a solution that breaks the LP it solved" in result.message
    assert "off by" in result.message and "try the other solver" in result.message


@pytest.mark.parametrize(("solver", "backend"), [("cbc", "solve_pulp"), ("highs", "_solve_highs")])
def test_a_corrupted_second_solve_falls_back_to_the_first(
    monkeypatch: pytest.MonkeyPatch, solver: str, backend: str
) -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    first = optimise.plan(replace(inputs, even_waits=False), solver, simulation_runs=0)
    monkeypatch.setattr(SOLVE, backend, corrupting(getattr(SOLVE, backend), "worst_wait"))
    result = optimise.plan(inputs, solver, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL and result.tie_break == "none"
    (warning,) = [w for w in result.warnings if w.startswith("even waits")]
    assert "breaks the LP it solved" in warning and "The plan is the first solve's" in warning
    assert result.objective_weighted_wait_days == first.objective_weighted_wait_days
    assert result.hours["hours"].equals(first.hours["hours"])


def test_a_second_solve_is_checked_against_the_first_stages_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A second-stage solution that reaches even_waits unchecked (here past solve() itself)
    is still checked against the first stage's rows (the pooled budget's whole among them:
    the second stage holds only its teams' shares)."""
    real = optimise.solve

    def unchecked(model: LpModel, *args: Any, **kwargs: Any) -> SolveResult:
        outcome = real(model, *args, **kwargs)
        return zeroed(outcome) if outcome.ok else outcome

    monkeypatch.setattr("optimise.tiebreak.solve", unchecked)
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL and result.tie_break == "none"
    assert any("breaks the LP it solved" in w for w in result.warnings)


def _one_row_model() -> LpModel:
    """Hours columns h (ot, hao) in [0, 10] and works column w (rugby) in [0, 5]; one row:
    ot + hao <= 12."""
    return LpModel(
        columns={
            "h": Block("h", 0, ("service",), (2,)),
            "w": Block("w", 2, ("district",), (1,)),
        },
        rows={"cap": Block("cap", 0, ("team",), (1,))},
        cost=np.zeros(3),
        col_lower=np.zeros(3),
        col_upper=np.array([10.0, 10.0, 5.0]),
        matrix=sp.csr_matrix(np.array([[1.0, 1.0, 0.0]])),
        row_lower=np.array([-np.inf]),
        row_upper=np.array([12.0]),
        labels={"service": ("ot", "hao"), "district": ("rugby",), "team": ("north",)},
    )


def test_a_value_beyond_its_own_bound_is_found_and_named() -> None:
    """feasibility.py:75-78 (a column bound the worst) is run by no test: every broken value
    in test_feasibility breaks a row first. Dropping its return (None: checked() then fails
    with AttributeError), `worst - num_rows` -> `+` (IndexError) and `worst < num_rows` ->
    `<=` (the first column named as a row: StopIteration) all survived. A solver answering
    -4 hours (below its bound of 0) with every row kept must be refused, and named."""
    model = _one_row_model()
    found = violation(model, np.array([-4.0, 1.0, 0.0]))
    assert not found.ok
    assert (found.where, found.amount) == ("h ot bound", pytest.approx(4.0))
    assert found.relative == pytest.approx(4.0 / 10.0)  # measured against its bound of 10
    found = violation(model, np.array([1.0, 10.5, 0.0]))
    assert (found.where, found.amount) == ("h hao bound", pytest.approx(0.5))
    # the first entry of a later block is named from its own block (line 102, `<` -> `<=`)
    found = violation(model, np.array([1.0, 1.0, 6.0]))
    assert (found.where, found.amount) == ("w rugby bound", pytest.approx(1.0))
    # an exactly feasible answer (row at its bound) is within round-off (line 74, 0.0 -> 1.0)
    assert violation(model, np.array([6.0, 6.0, 5.0])).ok
    # one value not a number is named as such (line 63, np.all -> np.any)
    assert violation(model, np.array([1.0, np.nan, 0.0])).where == (
        "its values (missing, or not numbers)"
    )
    claimed = replace(
        empty_result("highs", SolveStatus.OPTIMAL, 0.1, ""), col_value=np.array([-4.0, 1.0, 0.0])
    )
    refused = checked(model, claimed)
    assert refused.status is SolveStatus.ERROR
    assert "HiGHS returned a solution that breaks the LP it solved, h ot bound off by 4" in (
        refused.message
    )


def test_an_outcome_without_a_solution_is_passed_on_as_it_is() -> None:
    """feasibility.py:84-85 (`if not outcome.ok: return outcome`) survived test_feasibility
    (dropped, or returning None): an infeasible LP's outcome would be checked as a solution
    of no values and turned into 'the solver lost precision' (or None), so plan() would not
    relax an infeasible config but report a solver error."""
    model = _one_row_model()
    outcome = empty_result("highs", SolveStatus.INFEASIBLE, 0.1, "infeasible")
    assert checked(model, outcome) is outcome
