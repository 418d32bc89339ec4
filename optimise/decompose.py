"""Block decomposition: an LP whose rows and columns split into independent blocks (no row or
column in common) is solved block by block, and the answers are put back in the model's order."""

from __future__ import annotations

import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from multiprocessing import get_context

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from optimise.highs_backend import MatrixLp, matrix_lp, run_highs
from optimise.model import IntArray, LpModel
from optimise.solution import Basis, Ranging, SolveResult, SolveStatus, empty_result

# Below this many columns a block is bundled with its neighbours: one HiGHS call costs a few
# milliseconds of set-up, and a model of many tiny independent pieces (say one per district
# when no budget couples them) would otherwise spend more on calls than on solving.
MIN_BLOCK_COLUMNS = 2_000
# A process pool pays for forking and pickling blocks only when there is real solving to
# share: measured at England scale (158k columns, 40 blocks) 2 workers took 3.5 s against
# 7.2 s in turn (see docs/benchmarks.md); below this many columns it runs in turn.
POOL_FROM_COLUMNS = 20_000


@dataclass(frozen=True)
class Decomposition:
    """How `solve` may split a model: `enabled=False` always solves it whole (the reference);
    `workers` > 1 solves blocks in a pool of forked processes once the model has
    `pool_from_columns` columns (off by default: forking inside a threaded server is unsafe,
    and on a shared machine the second core may be busy)."""

    enabled: bool = True
    min_block_columns: int = MIN_BLOCK_COLUMNS
    workers: int = 1
    pool_from_columns: int = POOL_FROM_COLUMNS


BY_BLOCKS = Decomposition()  # the default: split where the model splits, solve in turn
WHOLE = Decomposition(enabled=False)


@dataclass(frozen=True)
class Part:
    """Rows and columns of one block (or bundle of small blocks), ascending model indices."""

    rows: IntArray
    cols: IntArray


def parts(model: LpModel, min_columns: int = MIN_BLOCK_COLUMNS) -> list[Part]:
    """Connected components of the row-column graph, bundled up to `min_columns` columns each.
    A single part means the model is coupled and is best solved whole. A free row (no finite
    bound, such as a budget the even-waits stage splits by team) constrains nothing and
    couples nothing; it goes with one of the parts."""
    n_rows, n_cols = model.num_rows, model.num_cols
    m = model.matrix.tocoo()
    free = np.isinf(model.row_lower) & np.isinf(model.row_upper)
    row, col = m.row[~free[m.row]], m.col[~free[m.row]]
    size = n_rows + n_cols
    graph = sp.coo_matrix((np.ones(len(row)), (row, col + n_rows)), shape=(size, size))
    count, label = connected_components(graph, directed=False)
    group = _bundle(np.bincount(label[n_rows:], minlength=count), min_columns)
    return _split(group[label[:n_rows]], group[label[n_rows:]])


def _bundle(columns_per_component: IntArray, min_columns: int) -> IntArray:
    """Group number of each component: consecutive components until a group has min_columns."""
    ends = np.cumsum(columns_per_component)
    group = np.zeros(len(ends), dtype=np.int64)
    current, opened_at = 0, 0
    for c, end in enumerate(ends):
        group[c] = current
        if end - opened_at >= max(min_columns, 1):
            current, opened_at = current + 1, int(end)
    if len(ends) and ends[-1] == opened_at and current > 0:
        group[group == current] = current - 1  # columnless leftovers (free rows) join the last
    return group


def _split(row_group: IntArray, col_group: IntArray) -> list[Part]:
    groups = np.union1d(row_group, col_group)
    row_order, col_order = (
        np.argsort(row_group, kind="stable"),
        np.argsort(col_group, kind="stable"),
    )
    row_cuts = np.searchsorted(row_group[row_order], groups, side="right")[:-1]
    col_cuts = np.searchsorted(col_group[col_order], groups, side="right")[:-1]
    return [
        Part(np.asarray(r, dtype=np.int64), np.asarray(c, dtype=np.int64))
        for r, c in zip(np.split(row_order, row_cuts), np.split(col_order, col_cuts), strict=True)
    ]


def solve_blocks(
    model: LpModel,
    blocks: list[Part],
    time_limit_s: float | None,
    ranging: bool,
    how: Decomposition,
    start: Basis | None = None,
) -> SolveResult:
    """Solve each block with HiGHS (from its part of the `start` basis, if given) and
    assemble one result in the whole model's order."""
    started = time.perf_counter()
    lps = [matrix_lp(model, p.rows, p.cols) for p in blocks]
    starts = [None if start is None else start.part(p.rows, p.cols) for p in blocks]
    if how.workers > 1 and model.num_cols >= how.pool_from_columns:
        results = _in_pool(lps, starts, time_limit_s, ranging, how.workers)
    else:
        results = _in_turn(lps, starts, time_limit_s, ranging, started)
    return assemble(model, blocks, results)


def _in_turn(
    lps: list[MatrixLp],
    starts: list[Basis | None],
    time_limit_s: float | None,
    ranging: bool,
    started: float,
) -> list[SolveResult]:
    """Sequentially, each block getting what is left of the time limit."""
    out: list[SolveResult] = []
    for lp, start in zip(lps, starts, strict=True):
        left = None if time_limit_s is None else time_limit_s - (time.perf_counter() - started)
        if left is not None and left <= 0:
            out.append(empty_result("highs", SolveStatus.TIME_LIMIT, 0.0, "HiGHS: Time limit"))
            break
        out.append(run_highs(lp, left, ranging, start))
        if not out[-1].ok:
            break
    return out


def _in_pool(
    lps: list[MatrixLp],
    starts: list[Basis | None],
    time_limit_s: float | None,
    ranging: bool,
    workers: int,
) -> list[SolveResult]:
    """In `workers` forked processes (each HiGHS single-threaded), largest blocks first."""
    order = sorted(range(len(lps)), key=lambda i: -lps[i].num_cols)
    with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
        futures = {
            i: pool.submit(run_highs, lps[i], time_limit_s, ranging, starts[i]) for i in order
        }
        return [futures[i].result() for i in range(len(lps))]


def assemble(model: LpModel, blocks: list[Part], results: list[SolveResult]) -> SolveResult:
    """One SolveResult for the whole model: values, activities, duals and ranging scattered
    back to the model's row and column order; the first failed block decides a failure."""
    seconds = sum(r.solve_seconds for r in results)
    failed = next((r for r in results if not r.ok), None)
    if failed is not None or len(results) < len(blocks):
        status = failed.status if failed else SolveStatus.ERROR
        message = failed.message if failed else "HiGHS: a block was not solved"
        return empty_result("highs", status, seconds, f"{message} (in one of {len(blocks)} blocks)")
    cols, rows = np.zeros(model.num_cols), np.zeros(model.num_rows)
    value, dual, activity = cols.copy(), rows.copy(), rows.copy()
    col_dual, low, high = cols.copy(), rows.copy(), rows.copy()
    col_low, col_high = np.full(model.num_cols, np.nan), np.full(model.num_cols, np.nan)
    for part, r in zip(blocks, results, strict=True):
        value[part.cols], activity[part.rows], dual[part.rows] = (
            r.col_value,
            r.row_activity,
            r.row_dual,
        )
        col_dual[part.cols] = r.col_dual if r.col_dual is not None else np.nan
        if r.ranging is not None:
            low[part.rows], high[part.rows] = r.ranging.row_low, r.ranging.row_high
            if r.ranging.col_low is not None and r.ranging.col_high is not None:
                col_low[part.cols], col_high[part.cols] = r.ranging.col_low, r.ranging.col_high
    has_ranging = all(r.ranging is not None for r in results)
    basis = _basis(model, blocks, results)
    return SolveResult(
        status=SolveStatus.OPTIMAL,
        solver="highs",
        objective=float(sum(r.objective for r in results)),
        col_value=value,
        row_activity=activity,
        row_dual=dual,
        solve_seconds=seconds,
        message=f"HiGHS: Optimal ({len(blocks)} independent blocks solved apart)",
        ranging=Ranging(low, high, col_low, col_high) if has_ranging else None,
        ranging_seconds=sum(r.ranging_seconds for r in results),
        col_dual=col_dual,
        blocks=len(blocks),
        basis=basis,
    )


def _basis(model: LpModel, blocks: list[Part], results: list[SolveResult]) -> Basis | None:
    """The blocks' bases in the whole model's order (None unless every block has one)."""
    if any(r.basis is None for r in results):
        return None
    cols, rows = np.zeros(model.num_cols, np.int8), np.zeros(model.num_rows, np.int8)
    for part, r in zip(blocks, results, strict=True):
        assert r.basis is not None
        cols[part.cols], rows[part.rows] = r.basis.col_status, r.basis.row_status
    return Basis(cols, rows)
