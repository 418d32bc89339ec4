"""SolveStatus and SolveResult: the typed outcome of handing an LpModel to a solver."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]


class SolveStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE = "infeasible"
    UNBOUNDED = "unbounded"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass(frozen=True)
class Ranging:
    """Right-hand-side values between which each row's dual stays valid (HiGHS ranging), and
    the same for each column's upper bound (its reduced cost where the column is at it)."""

    row_low: Array
    row_high: Array
    col_low: Array | None = None
    col_high: Array | None = None


@dataclass(frozen=True)
class Basis:
    """A simplex basis, per column and per row (HiGHS's codes): 0 at its lower bound, 1 basic,
    2 at its upper bound, 3 free at zero, 4 nonbasic."""

    col_status: npt.NDArray[np.int8]
    row_status: npt.NDArray[np.int8]

    def part(self, rows: npt.NDArray[np.int64], cols: npt.NDArray[np.int64]) -> Basis:
        """The basis of the block on these rows and columns."""
        return Basis(self.col_status[cols], self.row_status[rows])


@dataclass(frozen=True)
class SolveResult:
    """Solver outcome. Duals are d(objective)/d(row bound): negative where more helps a min."""

    status: SolveStatus
    solver: str
    objective: float
    col_value: Array
    row_activity: Array
    row_dual: Array
    solve_seconds: float
    message: str
    ranging: Ranging | None = None
    ranging_seconds: float = 0.0
    col_dual: Array | None = None  # reduced costs, where the solver gives them
    blocks: int = 1  # independent blocks solved apart (1: the model was solved whole)
    basis: Basis | None = None  # the optimal basis, where the solver gives one (HiGHS)

    @property
    def ok(self) -> bool:
        return self.status is SolveStatus.OPTIMAL


def empty_result(solver: str, status: SolveStatus, seconds: float, message: str) -> SolveResult:
    nothing = np.zeros(0)
    return SolveResult(status, solver, float("nan"), nothing, nothing, nothing, seconds, message)
