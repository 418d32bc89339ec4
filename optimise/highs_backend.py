"""Every direct call into highspy: pass a matrix LP in memory, solve, read duals and ranging."""

from __future__ import annotations

import time

import highspy
import numpy as np

from optimise.model import LpModel
from optimise.solution import Ranging, SolveResult, SolveStatus, empty_result

_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.TIME_LIMIT,
}


def to_highs_lp(model: LpModel, with_names: bool = False) -> highspy.HighsLp:
    """The model as a HighsLp (column-wise matrix); names only when asked (they cost time)."""
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = model.num_cols, model.num_rows
    lp.col_cost_ = model.cost
    lp.col_lower_, lp.col_upper_ = model.col_lower, model.col_upper
    lp.row_lower_, lp.row_upper_ = model.row_lower, model.row_upper
    csc = model.matrix.tocsc()
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = csc.indptr
    lp.a_matrix_.index_ = csc.indices
    lp.a_matrix_.value_ = csc.data
    if with_names:
        lp.col_names_ = model.names("cols")
        lp.row_names_ = model.names("rows")
    return lp


IPM_FROM_COLUMNS = 50_000  # measured: England scale takes ~30 s by IPM, 100 s+ by dual simplex


def new_highs(time_limit_s: float | None, num_cols: int = 0) -> highspy.Highs:
    """A quiet single-threaded HiGHS; interior point (with crossover, so duals and ranging
    still come from a basis) for large models, HiGHS's own choice (simplex) otherwise."""
    h: highspy.Highs = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    if num_cols >= IPM_FROM_COLUMNS:
        h.setOptionValue("solver", "ipm")
    return h


def solve_highs(model: LpModel, time_limit_s: float | None, ranging: bool) -> SolveResult:
    """Solve with HiGHS in memory; duals always, ranging when asked (needs a simplex basis)."""
    h = new_highs(time_limit_s, model.num_cols)
    h.passModel(to_highs_lp(model))
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    status = _STATUS.get(h.getModelStatus(), SolveStatus.ERROR)
    text = h.modelStatusToString(h.getModelStatus())
    if status is not SolveStatus.OPTIMAL:
        return empty_result("highs", status, seconds, f"HiGHS: {text}")
    solution = h.getSolution()
    started = time.perf_counter()
    ranges = _ranging(h) if ranging else None
    return SolveResult(
        status=status,
        solver="highs",
        objective=float(h.getInfo().objective_function_value),
        col_value=np.asarray(solution.col_value),
        row_activity=np.asarray(solution.row_value),
        row_dual=np.asarray(solution.row_dual),
        solve_seconds=seconds,
        message=f"HiGHS: {text}",
        ranging=ranges,
        ranging_seconds=time.perf_counter() - started,
    )


def _ranging(h: highspy.Highs) -> Ranging | None:
    status, ranging = h.getRanging()
    if status != highspy.HighsStatus.kOk or not ranging.valid:
        return None
    return Ranging(
        row_low=np.asarray(ranging.row_bound_dn.value_),
        row_high=np.asarray(ranging.row_bound_up.value_),
    )


def write_model(model: LpModel, path: str) -> None:
    """Write the model (with names) as MPS, or LP if the path ends in .lp."""
    h = new_highs(None)
    h.passModel(to_highs_lp(model, with_names=True))
    h.writeModel(path)


def objective_of_file(path: str) -> float:
    """Read an MPS/LP file into a fresh HiGHS, solve it, return the optimal objective."""
    h = new_highs(None)
    h.readModel(path)
    h.run()
    return float(h.getInfo().objective_function_value)
