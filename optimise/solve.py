"""solve(): hand an LpModel to a solver and get a typed SolveResult back (never an exception)."""

from __future__ import annotations

import time
from typing import Literal, get_args

from optimise.decompose import BY_BLOCKS, Decomposition, parts, solve_blocks
from optimise.feasibility import checked
from optimise.highs_backend import solve_highs
from optimise.model import LpModel
from optimise.pulp_backend import solve_pulp
from optimise.solution import Basis, SolveResult, SolveStatus, empty_result

# every solver a plan can name (its result's `solver`; api/schemas.py types it with this)
Solver = Literal["highs", "pulp-highs", "cbc"]
SOLVERS: tuple[Solver, ...] = get_args(Solver)


def solve(
    model: LpModel,
    solver: str = "highs",
    time_limit_s: float | None = None,
    ranging: bool = True,
    decomposition: Decomposition = BY_BLOCKS,
    start: Basis | None = None,
) -> SolveResult:
    """Solve `model`. 'highs': HiGHS in memory from the matrix (duals and ranging), block by
    block where the model splits into independent blocks (unless `decomposition` says not),
    from the `start` basis if given (primal simplex: it should be primal feasible);
    'pulp-highs' / 'cbc': through PuLP, whole (duals, no ranging, no start). Failures come
    back as a status, and so does a solution that breaks `model` beyond round-off
    (optimise/feasibility.py): an error saying where, never an optimal status."""
    if solver not in SOLVERS:
        return empty_result(
            solver, SolveStatus.ERROR, 0.0, f"solver: expected one of {SOLVERS}, found {solver!r}"
        )
    started = time.perf_counter()
    try:
        if solver == "highs":
            outcome = _solve_highs(model, time_limit_s, ranging, decomposition, start)
        else:
            outcome = solve_pulp(model, solver, time_limit_s)
    except Exception as exc:  # a solver crash becomes a result the caller can show
        seconds = time.perf_counter() - started
        return empty_result(solver, SolveStatus.ERROR, seconds, f"{solver} failed: {exc}")
    return checked(model, outcome)


def _solve_highs(
    model: LpModel,
    time_limit_s: float | None,
    ranging: bool,
    how: Decomposition,
    start: Basis | None,
) -> SolveResult:
    blocks = parts(model, how.min_block_columns) if how.enabled else []
    if len(blocks) <= 1:
        return solve_highs(model, time_limit_s, ranging, start)
    return solve_blocks(model, blocks, time_limit_s, ranging, how, start)
