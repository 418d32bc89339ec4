"""Every call into PuLP for solving: translate an LpModel to an LpProblem, solve with CBC/HiGHS."""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pulp

from optimise.model import LpModel
from optimise.solution import SolveResult, SolveStatus, empty_result

_STATUS = {
    pulp.LpStatusOptimal: SolveStatus.OPTIMAL,
    pulp.LpStatusInfeasible: SolveStatus.INFEASIBLE,
    pulp.LpStatusUnbounded: SolveStatus.UNBOUNDED,
}


def to_pulp(model: LpModel) -> tuple[pulp.LpProblem, list[pulp.LpVariable], list[str]]:
    """An LpProblem with the same columns, rows and names as the matrix model."""
    problem = pulp.LpProblem("homeward_plan", pulp.LpMinimize)
    variables = [
        pulp.LpVariable(name, _bound(lo), _bound(hi))
        for name, lo, hi in zip(model.names("cols"), model.col_lower, model.col_upper, strict=True)
    ]
    problem.setObjective(
        pulp.LpAffineExpression(
            [(variables[j], c) for j in np.flatnonzero(model.cost) for c in [model.cost[j]]]
        )
    )
    row_names = model.names("rows")
    matrix = model.matrix
    for i, name in enumerate(row_names):
        if np.isinf(model.row_lower[i]) and np.isinf(model.row_upper[i]):
            continue  # a free row constrains nothing (its dual is 0)
        lo, hi = matrix.indptr[i], matrix.indptr[i + 1]
        terms = [
            (variables[j], v)
            for j, v in zip(matrix.indices[lo:hi], matrix.data[lo:hi], strict=True)
        ]
        sense, rhs = _sense(float(model.row_lower[i]), float(model.row_upper[i]), name)
        problem.addConstraint(pulp.LpConstraint(pulp.LpAffineExpression(terms), sense, name, rhs))
    return problem, variables, row_names


def _bound(value: float) -> float | None:
    return None if np.isinf(value) else float(value)


def _sense(lower: float, upper: float, name: str) -> tuple[int, float]:
    if lower == upper:
        return pulp.LpConstraintEQ, lower
    if np.isinf(lower):
        return pulp.LpConstraintLE, upper
    if np.isinf(upper):
        return pulp.LpConstraintGE, lower
    raise ValueError(f"row {name}: expected a one-sided or equality row, found [{lower}, {upper}]")


def _values(model: LpModel, variables: list[pulp.LpVariable]) -> np.ndarray:
    """Each column's value. PuLP sends a solver only the variables that appear in a row or
    the objective and leaves the others' `varValue` None; such a column is free of every row
    and costless, so any value within its bounds is optimal: the one nearest 0. Reading them
    as 0 instead broke fixed ones: the even-waits stage fixes relaxation slack at the first
    stage's amounts and frees the pooled budget row that held it, and a relaxed plan solved
    through PuLP then reported nothing relaxed."""
    found = np.array([np.nan if v.varValue is None else float(v.varValue) for v in variables])
    unsent = np.isnan(found)
    found[unsent] = np.clip(0.0, model.col_lower[unsent], model.col_upper[unsent])
    return found


def make_solver(
    solver: str, time_limit_s: float | None, tmp_dir: Path | None = None
) -> pulp.LpSolver:
    """PuLP's solver object; CBC writes its model and solution files in `tmp_dir` (default:
    the system temp dir, as PuLP does)."""
    if solver == "cbc":
        cbc = pulp.PULP_CBC_CMD(msg=False, timeLimit=time_limit_s, keepFiles=False)
        if tmp_dir is not None:
            cbc.tmpDir = str(tmp_dir)  # PuLP's own attribute, read as each solve names its files
        return cbc
    return pulp.HiGHS(msg=False, timeLimit=time_limit_s)


# CBC runs as a program reading an MPS file and writing a solution file, about 1.5 MB for the
# demo's plan, which PuLP writes straight into the temp dir and deletes only when the solve
# returns: a stop or a kill mid-solve left them there for good. Each solve gets a private
# folder instead, `homeward-cbc-<owner>-<random>`, removed whatever happens; one that a killed
# process left is removed when the service next starts (homeward/recovery.py).
SOLVER_DIR_PREFIX = "homeward-cbc-"
# tells this process's folders from a predecessor's with the same pid (a container's pid 1)
_PROCESS_TAG = secrets.token_hex(4)


def solver_dir_owner() -> str:
    """This process as its CBC folders name it: `<pid>-<tag>`, the tag random per process."""
    return f"{os.getpid()}-{_PROCESS_TAG}"


@contextmanager
def _solver_dir(solver: str) -> Iterator[Path | None]:
    """A private temp folder for a CBC solve, removed when the block ends; None for others,
    which write no files."""
    if solver != "cbc":
        yield None
        return
    path = Path(tempfile.mkdtemp(prefix=f"{SOLVER_DIR_PREFIX}{solver_dir_owner()}-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def solve_pulp(model: LpModel, solver: str, time_limit_s: float | None) -> SolveResult:
    """Solve through PuLP ('cbc' = bundled CBC, 'pulp-highs' = PuLP's in-memory HiGHS class)."""
    problem, variables, row_names = to_pulp(model)
    started = time.perf_counter()
    with _solver_dir(solver) as tmp_dir:
        code = problem.solve(make_solver(solver, time_limit_s, tmp_dir))
    seconds = time.perf_counter() - started
    status = _STATUS.get(code, SolveStatus.ERROR)
    text = pulp.LpStatus.get(code, str(code))
    if status is not SolveStatus.OPTIMAL:
        return empty_result(solver, status, seconds, f"PuLP/{solver}: {text}")
    values = _values(model, variables)
    rows = problem.constraints
    duals = np.array([(rows[n].pi or 0.0) if n in rows else 0.0 for n in row_names])
    return SolveResult(
        status=status,
        solver=solver,
        objective=float(pulp.value(problem.objective) or 0.0),
        col_value=values,
        row_activity=model.matrix @ values,
        row_dual=duals,
        solve_seconds=seconds,
        message=f"PuLP/{solver}: {text}",
    )
