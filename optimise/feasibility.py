"""How far a solver's values break the LP they solve: the check before any solution is used.

A solver's "optimal" is its word, not a proof: on a badly scaled LP (a coefficient of 7e20
beside ones of 0.1) CBC returned an all-zero plan, nothing served and nothing waiting, with
status optimal, breaking the backlog balance by every case waiting. `solve()` therefore
recomputes every row and bound from the values (one sparse product, a few ms on England's
LP) and turns a solution off by more than round-off into an error that says where.

This checks the matrix the solver was given; optimise/check.py recomputes a plan's
constraints from its published frames instead (slower, for the tests)."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from optimise.model import Array, Block, LpModel
from optimise.solution import SolveResult, SolveStatus, empty_result

# Largest violation taken for round-off, relative to the size of what it is measured against
# (a row: its terms' absolute sum or its bound; a column: its value or its bound; at least 1).
# HiGHS and CBC hold rows to 1e-7 absolute on their internally scaled LP; so measured, the
# demo's solutions (both solvers, both stages) are within 5e-8 of their rows and the bench's
# (bench/plan_scale.py, 151 authorities, 26 weeks) within 3e-8, and a broken one is off by
# a sizeable part of one (1.0: nothing served where 40 cases wait). 1e-5 leaves
# round-off 200 times the room it took, and is still 0.01 of an hour in 1,000.
TOLERANCE = 1e-5

SOLVER_NAMES = {"highs": "HiGHS", "pulp-highs": "HiGHS (through PuLP)", "cbc": "CBC"}


@dataclass(frozen=True)
class Violation:
    """The worst-broken row or column bound: by how much (in its unit) and relative to its
    size, and which one (`where`, e.g. `backlog ot/aa/1/standard`)."""

    relative: float
    amount: float
    where: str

    @property
    def ok(self) -> bool:
        return self.relative <= TOLERANCE

    def words(self, solver: str) -> str:
        """What went wrong and what to do, for a planner."""
        name = SOLVER_NAMES.get(solver, solver)
        return (
            f"{name} returned a solution that breaks the LP it solved, {self.where} off by "
            f"{self.amount:.3g}, {self.relative:.2g} of its size where round-off stays under "
            f"{TOLERANCE:g}: {LOST_PRECISION}, so the solution is not used; try the other "
            "solver, and look in the config and forecast for figures near zero or far larger "
            "than the others"
        )


LOST_PRECISION = "the solver lost precision"


def violation(model: LpModel, values: Array) -> Violation:
    """The worst row or bound violation of `values` in `model`, relative to its size."""
    if len(values) != model.num_cols or not np.all(np.isfinite(values)):
        return Violation(np.inf, np.inf, "its values (missing, or not numbers)")
    activity = model.matrix @ values
    terms = abs(model.matrix) @ np.abs(values)
    row_off = np.maximum(model.row_lower - activity, activity - model.row_upper)
    row_size = _size(terms, model.row_lower, model.row_upper)
    col_off = np.maximum(model.col_lower - values, values - model.col_upper)
    col_size = _size(np.abs(values), model.col_lower, model.col_upper)
    relative = np.concatenate([row_off / row_size, col_off / col_size, [0.0]])
    worst = int(np.argmax(relative))
    if relative[worst] <= 0.0:
        return Violation(0.0, 0.0, "nothing")
    if worst < model.num_rows:
        return Violation(relative[worst], row_off[worst], _name(model, model.rows, worst))
    col = worst - model.num_rows
    return Violation(relative[worst], col_off[col], _name(model, model.columns, col) + " bound")


def checked(model: LpModel, outcome: SolveResult) -> SolveResult:
    """`outcome`, or an error in its place (saying where and what to do) when it claims a
    solution that breaks `model` beyond round-off."""
    if not outcome.ok:
        return outcome
    found = violation(model, outcome.col_value)
    if found.ok:
        return outcome
    failed = empty_result(
        outcome.solver, SolveStatus.ERROR, outcome.solve_seconds, found.words(outcome.solver)
    )
    return replace(failed, blocks=outcome.blocks)


def _size(magnitude: Array, lower: Array, upper: Array) -> Array:
    finite = [np.where(np.isfinite(b), np.abs(b), 0.0) for b in (lower, upper)]
    return np.asarray(np.maximum.reduce([np.ones_like(magnitude), magnitude, *finite]), np.float64)


def _name(model: LpModel, blocks: dict[str, Block], index: int) -> str:
    """`family label/label/...` of entry `index` (a row or column number)."""
    block = next(b for b in blocks.values() if b.start <= index < b.stop)
    coords = [int(c[index - block.start]) for c in block.coords()]
    labels = [str(model.labels[axis][c]) for axis, c in zip(block.axes, coords, strict=True)]
    return f"{block.name} {'/'.join(labels)}".strip()
