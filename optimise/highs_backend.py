"""Every direct call into highspy: pass a matrix LP in memory, solve, read duals and ranging."""

from __future__ import annotations

import time
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimise.model import Array, LpModel
from optimise.solution import Basis, Ranging, SolveResult, SolveStatus, empty_result

_STATUS = {
    highspy.HighsModelStatus.kOptimal: SolveStatus.OPTIMAL,
    highspy.HighsModelStatus.kInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnboundedOrInfeasible: SolveStatus.INFEASIBLE,
    highspy.HighsModelStatus.kUnbounded: SolveStatus.UNBOUNDED,
    highspy.HighsModelStatus.kTimeLimit: SolveStatus.TIME_LIMIT,
}


@dataclass(frozen=True)
class MatrixLp:
    """min cost @ v s.t. row bounds on matrix @ v, column bounds: plain arrays (picklable, so
    a block can be sent to a worker process)."""

    cost: Array
    col_lower: Array
    col_upper: Array
    row_lower: Array
    row_upper: Array
    matrix: sp.csc_matrix

    @property
    def num_cols(self) -> int:
        return len(self.cost)


def matrix_lp(
    model: LpModel, rows: slice | np.ndarray = slice(None), cols: slice | np.ndarray = slice(None)
) -> MatrixLp:
    """The whole model, or the block of it on the given rows and columns."""
    return MatrixLp(
        cost=model.cost[cols],
        col_lower=model.col_lower[cols],
        col_upper=model.col_upper[cols],
        row_lower=model.row_lower[rows],
        row_upper=model.row_upper[rows],
        matrix=sp.csc_matrix(model.matrix[rows][:, cols]),
    )


def _highs_lp(m: MatrixLp) -> highspy.HighsLp:
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = m.num_cols, len(m.row_lower)
    lp.col_cost_ = m.cost
    lp.col_lower_, lp.col_upper_ = m.col_lower, m.col_upper
    lp.row_lower_, lp.row_upper_ = m.row_lower, m.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = m.matrix.indptr
    lp.a_matrix_.index_ = m.matrix.indices
    lp.a_matrix_.value_ = m.matrix.data
    return lp


def to_highs_lp(model: LpModel, with_names: bool = False) -> highspy.HighsLp:
    """The model as a HighsLp (column-wise matrix); names only when asked (they cost time)."""
    lp = _highs_lp(matrix_lp(model))
    if with_names:
        lp.col_names_ = model.names("cols")
        lp.row_names_ = model.names("rows")
    return lp


IPM_FROM_COLUMNS = 50_000  # measured: England scale takes ~30 s by IPM, 100 s+ by dual simplex


def new_highs(
    time_limit_s: float | None, num_cols: int = 0, from_basis: bool = False
) -> highspy.Highs:
    """A quiet single-threaded HiGHS; interior point (with crossover, so duals and ranging
    still come from a basis) for large models, HiGHS's own choice (simplex) otherwise, and
    primal simplex when started `from_basis` (a primal feasible one: the even-waits stage)."""
    h: highspy.Highs = highspy.Highs()  # type: ignore[no-untyped-call]
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if time_limit_s is not None:
        h.setOptionValue("time_limit", float(time_limit_s))
    if from_basis:
        h.setOptionValue("simplex_strategy", PRIMAL_SIMPLEX)
    elif num_cols >= IPM_FROM_COLUMNS:
        h.setOptionValue("solver", "ipm")
    return h


PRIMAL_SIMPLEX = 4  # HiGHS's simplex_strategy code
_STATUS_OF_CODE = tuple(highspy.HighsBasisStatus(code) for code in range(5))


def solve_highs(
    model: LpModel, time_limit_s: float | None, ranging: bool, start: Basis | None = None
) -> SolveResult:
    """Solve the whole model with HiGHS in memory (the monolithic path)."""
    return run_highs(matrix_lp(model), time_limit_s, ranging, start)


def run_highs(
    m: MatrixLp, time_limit_s: float | None, ranging: bool, start: Basis | None = None
) -> SolveResult:
    """Solve one matrix LP, from the `start` basis if given; duals and the optimal basis
    always, ranging when asked (needs a simplex basis)."""
    h = new_highs(time_limit_s, m.num_cols, from_basis=start is not None)
    h.passModel(_highs_lp(m))
    if start is not None:
        h.setBasis(_highs_basis(start))
    started = time.perf_counter()
    h.run()
    seconds = time.perf_counter() - started
    status = _STATUS.get(h.getModelStatus(), SolveStatus.ERROR)
    text = h.modelStatusToString(h.getModelStatus())
    if status is not SolveStatus.OPTIMAL:
        return empty_result("highs", status, seconds, f"HiGHS: {text}")
    solution = h.getSolution()
    started = time.perf_counter()
    ranges = (
        _ranging(h, m, np.asarray(solution.row_value), np.asarray(solution.col_value))
        if ranging
        else None
    )
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
        col_dual=np.asarray(solution.col_dual),
        basis=_basis(h),
    )


def _highs_basis(basis: Basis) -> highspy.HighsBasis:
    out = highspy.HighsBasis()
    out.col_status = [_STATUS_OF_CODE[c] for c in basis.col_status.tolist()]
    out.row_status = [_STATUS_OF_CODE[c] for c in basis.row_status.tolist()]
    out.valid = True
    return out


def _basis(h: highspy.Highs) -> Basis | None:
    basis = h.getBasis()
    if not basis.valid:
        return None
    return Basis(_codes(basis.col_status), _codes(basis.row_status))


def _codes(statuses: list[highspy.HighsBasisStatus]) -> npt.NDArray[np.int8]:
    return np.fromiter((int(s) for s in statuses), dtype=np.int8, count=len(statuses))


def _ranging(h: highspy.Highs, m: MatrixLp, activity: Array, value: Array) -> Ranging | None:
    """Per row, the values of its bound (the upper where finite, else the lower: the bound
    optimise/explain.py reports) between which its dual stays what it is.

    HiGHS's `row_bound_dn/up` mean that only for a row that is nonbasic (at its bound, its dual
    the price of moving it). For a basic row (slack in the basis: not binding, dual 0) they are
    the range of the row's *activity* in the basis, not of its bound, so they need not contain
    the bound at all (a floor of 203.7 hours "holding" from 369.7 to 373.5). For such a row the
    price stays 0 while the bound stays on the slack side of the activity: a ceiling from the
    activity up, a floor from minus infinity up to the activity.
    """
    status, ranging = h.getRanging()
    if status != highspy.HighsStatus.kOk or not ranging.valid:
        return None
    basis = h.getBasis()
    if not basis.valid:
        return None
    low = np.asarray(ranging.row_bound_dn.value_, dtype=np.float64).copy()
    high = np.asarray(ranging.row_bound_up.value_, dtype=np.float64).copy()
    basic = _codes(basis.row_status) == int(highspy.HighsBasisStatus.kBasic)
    ceiling = basic & np.isfinite(m.row_upper)
    floor = basic & ~np.isfinite(m.row_upper) & np.isfinite(m.row_lower)
    free = basic & ~ceiling & ~floor
    low[ceiling], high[ceiling] = activity[ceiling], np.inf
    low[floor], high[floor] = -np.inf, activity[floor]
    low[free], high[free] = -np.inf, np.inf
    low[low <= -highspy.kHighsInf], high[high >= highspy.kHighsInf] = -np.inf, np.inf
    col_low, col_high = _upper_bound_ranging(ranging, _codes(basis.col_status), value, m.col_lower)
    return Ranging(row_low=low, row_high=high, col_low=col_low, col_high=col_high)


def _upper_bound_ranging(
    ranging: highspy.HighsRanging, status: npt.NDArray[np.int8], value: Array, lower: Array
) -> tuple[Array, Array]:
    """Per column, the values of its upper bound between which its price (the reduced cost
    at that bound) stays what it is. HiGHS ranges a nonbasic column's active bound, not
    stopping at the column's lower bound (a limit of 0 ranged down to -0.3): an upper bound
    below the lower is no LP, so the range stops there. A column not at its upper bound has
    price 0 while that bound stays at or above its value."""
    low = np.asarray(ranging.col_bound_dn.value_, dtype=np.float64).copy()
    high = np.asarray(ranging.col_bound_up.value_, dtype=np.float64).copy()
    low = np.maximum(low, lower)
    below = status != int(highspy.HighsBasisStatus.kUpper)
    low[below], high[below] = value[below], np.inf
    low[low <= -highspy.kHighsInf], high[high >= highspy.kHighsInf] = -np.inf, np.inf
    return low, high


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
