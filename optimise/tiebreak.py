"""Even waits: a second solve that picks, among the plans with the least weighted waiting, the
one whose districts wait most evenly within each team and service.

Waiting costs the same in every district of a team, and hours move freely between a team's
districts, so the LP usually has many optimal plans that differ only in which district gets
the hours; the spend tie-break does not choose between them, and the solver's vertex did (on
the demo: domiciliary care 438 days in North Warwickshire, 31 in Rugby, same team). This
module makes the choice on purpose, lexicographically:

1. the first stage is the plan's LP as built (least weighted waiting, then least spend);
2. the second stage keeps the first stage's weighted waiting (what a plan reports as
   `objective_weighted_wait_days`) within a relative tolerance (`equity.even_waits_tolerance`,
   1e-6 by default) for each independent part, and with a worst-district weight its
   worst-district term within the same tolerance (row `keep_worst_district`: each is kept on
   its own, so the second stage cannot trade waiting for that term), and minimises the sum
   over service, team and period of the longest average wait of the team's districts, plus
   the same spend tie-break as the first stage, plus `steady_hours_weight` days per hour of
   week-to-week move in each district's and each team's hours of care (`_add_steady_hours`:
   plans tying on waiting should not swing a roster). It does not move money between teams: a
   budget several teams share (the pooled one) is split into each team's first-stage share
   (one of the equally good splits, the solver's pick for the LP in its canonical order, so
   not the order the config lists its districts and teams in: optimise/canonical.py),
   so the second stage falls apart into one block per team even when the first was one
   coupled LP, and relaxation slack stays what the first stage found.

A district's average wait in a period is, by Little's law, its backlog over its arrivals per
day: `sum_k b[s,d,t,k] x period_days / mean_t D[s,d,t]`, linear in the backlog, with the
district's mean demand over the horizon as its arrival rate (see `wait_days_per_case`);
districts with no demand (a mean below `MIN_DEMAND_CASES`, a millionth of a case a period)
have no average wait and are left out. `worst_wait[s,g,t]` is at least each
of its districts' waits (rows `worst_wait`), so at the optimum it is the longest.

Why two solves rather than one with a small weight on the evenness term: a weight eps can
trade real waiting for evenness, by up to eps x (the evenness term's range), and that range has
no useful a-priori bound (a period with little demand makes one case's wait very long); a
weight small enough to be safe for every instance comes near the solver's optimality
tolerance (at England scale a weight of 1e-4 already doubled the solve time). The second stage
states its price exactly (the tolerance), and it is cheap: it starts from the first stage's
optimal basis (primal simplex from the first stage's plan, see `start_basis`) and is solved
team by team. Measured in docs/benchmarks.md: build and solve 1.2x to 2x the first stage's
alone. It also keeps the first stage's duals, which are the ones that mean "weighted waiting
days saved per extra GBP 1,000 or hour": the plan published is (within the tolerance) optimal
for the first stage too, and any optimal plan and any optimal dual of an LP are complementary,
so the first stage's shadow prices and ranging are reported with the second stage's plan (the
second stage's own duals price evenness, not waiting).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from optimise.assemble import Assembler
from optimise.build import SDT, SGT, SPEND_COLUMNS, WAITING_COLUMNS, weighted_wait_days
from optimise.decompose import BY_BLOCKS, Decomposition, parts
from optimise.feasibility import LOST_PRECISION, checked
from optimise.frames import team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array, IntArray, LpModel
from optimise.result import PlanResult
from optimise.solution import Basis, SolveResult, SolveStatus
from optimise.solve import solve

# Room (weighted waiting days) on top of the relative tolerance, shared over the parts: a plan
# with no waiting at all must still leave the second stage feasible to a solver.
ABSOLUTE_ROOM_DAYS = 1e-6

# A district's mean demand (cases a period) below which it counts as having none: no average
# wait, no even-waits term. Demand is a count of referrals; a millionth of a case a period is
# one referral in about 20,000 years of weekly periods, so no real series is near it, but a
# forecast decaying to zero or a rounding residue (1e-20) is. Its wait coefficient,
# period_days / mean demand, would be 7e20 days a case beside the others' 0.1 to 10: CBC then
# returned an all-zero plan that broke the backlog balance, and HiGHS gave up ("unbounded").
# At the floor the coefficient is at most 28 / 1e-6 = 2.8e7, a range both solvers handle.
MIN_DEMAND_CASES = 1e-6


def wait_days_per_case(inputs: PlanInputs) -> Array:
    """(S, D, T): days one waiting case adds to a district's average wait, by Little's law:
    period_days / the district's arrival rate, taken as its mean demand per period over the
    horizon (a week's forecast wiggle is not a new arrival rate: evening waits against each
    week's own demand chases that noise, and left the England instance's domiciliary care
    gaps at 19 days median against 3.5); 0 for a district with no demand (a mean below
    `MIN_DEMAND_CASES`)."""
    rate = np.broadcast_to(
        inputs.demand_cases.mean(axis=2, keepdims=True), inputs.demand_cases.shape
    )
    has = rate >= MIN_DEMAND_CASES
    return np.where(has, inputs.period_days / np.where(has, rate, 1.0), 0.0)


def has_demand(inputs: PlanInputs) -> npt.NDArray[np.bool_]:
    """(S, D, T): where a district's average wait is defined (it has demand on the horizon)."""
    return wait_days_per_case(inputs) > 0


def district_wait_days(inputs: PlanInputs, backlog: Array) -> Array:
    """(S, D, T) average wait in days from a backlog grid (S, D, T, K); nan without demand."""
    waits = backlog.sum(axis=3) * wait_days_per_case(inputs)
    return np.where(has_demand(inputs), waits, np.nan)


def worst_wait_sum_days(inputs: PlanInputs, backlog: Array) -> float:
    """The tie-break term: the sum over service, team and period of the longest average wait
    of the team's districts, in days (what the second stage minimises); summed exactly, so
    that it does not depend on the order of the config's lists."""
    waits = np.nan_to_num(district_wait_days(inputs, backlog), nan=-np.inf)
    worst = np.full((waits.shape[0], len(inputs.teams), waits.shape[2]), -np.inf)
    np.maximum.at(worst.transpose(1, 0, 2), inputs.team_of_district, waits.transpose(1, 0, 2))
    return math.fsum(worst[np.isfinite(worst)])


def even_waits_model(inputs: PlanInputs, model: LpModel, first: SolveResult) -> LpModel:
    """The second-stage LP: `model` (solved as `first`) with the second stage's objective,
    `worst_wait` columns and rows, money kept per team, one `keep_waiting` row per
    independent part and, with a worst-district term, a `keep_worst_district` row. Same
    columns and rows as `model` first, in the same order."""
    started = time.perf_counter()
    split = _split_by_team(inputs, model, first)
    groups = parts(split, min_columns=1)
    asm = Assembler.extend(split, {"part": tuple(str(i + 1) for i in range(len(groups)))})
    kept = _cost_of(model, WAITING_COLUMNS, split.num_cols)
    has = np.array([np.any(kept[p.cols] != 0) for p in groups])
    found = np.array([float(kept[p.cols] @ _padded(first, split)[p.cols]) for p in groups])
    room = inputs.even_waits_tolerance * np.abs(found) + ABSOLUTE_ROOM_DAYS / max(has.sum(), 1)
    rows = asm.add_rows("keep_waiting", ("part",), -np.inf, found + room, has)
    for i, part in enumerate(groups):
        asm.coef(rows[i], part.cols, kept[part.cols])
    if "z" in model.columns:  # the worst district's waiting days per referral
        z = model.columns["z"].start
        most = first.col_value[z] * (1 + inputs.even_waits_tolerance) + ABSOLUTE_ROOM_DAYS
        asm.coef(asm.add_rows("keep_worst_district", ("all",), -np.inf, most), z, 1.0)
    second = asm.finish(model.penalties)
    return replace(second, build_seconds=time.perf_counter() - started)


def _split_by_team(inputs: PlanInputs, model: LpModel, first: SolveResult) -> LpModel:
    """`model` with the tie-break's columns, rows and objective, where no row couples two
    teams: each row shared by teams (a pooled revenue budget) is freed and replaced by one row
    per team holding that team's part of it to its first-stage value (`team_share`), and
    relaxation slack stays what the first stage found. The second stage then splits into a
    block per team (or per group of teams a worst-district term ties together)."""
    team, fixed = _team_of_columns(inputs, model), _penalty_columns(model)
    shared = _shared_rows(model, team, fixed)
    later = model.labels["period"][1:]
    asm = Assembler.extend(
        model, {"shared": tuple(str(i + 1) for i in range(len(shared))), LATER: later}
    )
    _add_team_shares(asm, inputs, model, first, team, shared)
    worst = _add_worst_wait(asm, inputs, model)
    moves = _add_steady_hours(asm, inputs, model)
    out = asm.finish(model.penalties)
    cost = np.zeros(out.num_cols)
    cost[: model.num_cols] = _cost_of(model, SPEND_COLUMNS, model.num_cols)
    cost[worst.ravel()] = 1.0
    cost[moves.ravel()] = inputs.steady_hours_weight
    row_lower, row_upper = out.row_lower.copy(), out.row_upper.copy()
    row_lower[shared], row_upper[shared] = -np.inf, np.inf
    col_lower, col_upper = out.col_lower.copy(), out.col_upper.copy()
    col_lower[fixed] = col_upper[fixed] = np.maximum(first.col_value[fixed], 0.0)
    return replace(
        out,
        cost=cost,
        row_lower=row_lower,
        row_upper=row_upper,
        col_lower=col_lower,
        col_upper=col_upper,
    )


def _add_team_shares(
    asm: Assembler,
    inputs: PlanInputs,
    model: LpModel,
    first: SolveResult,
    team: IntArray,
    shared: IntArray,
) -> None:
    """Rows team_share[r, g]: team g's terms of shared row r, bounded (on the side or sides
    row r is) by their first-stage value."""
    coo = model.matrix.tocoo()
    on = np.isin(coo.row, shared) & (team[coo.col] >= 0)
    row, col, value = np.searchsorted(shared, coo.row[on]), coo.col[on], coo.data[on]
    share = np.zeros((len(shared), len(inputs.teams)))
    np.add.at(share, (row, team[col]), value * first.col_value[col])
    present = np.zeros(share.shape, bool)
    present[row, team[col]] = True
    lower = np.where(np.isfinite(model.row_lower[shared])[:, None], share, -np.inf)
    upper = np.where(np.isfinite(model.row_upper[shared])[:, None], share, np.inf)
    rows = asm.add_rows("team_share", ("shared", "team"), lower, upper, present)
    asm.coef(rows[row, team[col]], col, value)


def _add_worst_wait(asm: Assembler, inputs: PlanInputs, model: LpModel) -> IntArray:
    """Columns worst_wait[s,g,t] >= each district's average wait (rows worst_wait[s,d,t],
    where the district has demand); returns the columns, (S, G, T)."""
    worst = asm.add_columns("worst_wait", SGT)
    rows = asm.add_rows("worst_wait", SDT, -np.inf, 0.0, has_demand(inputs))
    block = model.columns["b"]
    b = np.arange(block.start, block.stop).reshape(block.shape)
    asm.coef(rows[..., None], b, wait_days_per_case(inputs)[..., None])
    asm.coef(rows, worst[:, inputs.team_of_district, :], -1.0)
    return worst


# Hours moves are indexed by the later of the two periods (2 to T): period 1's hours have no
# period before them in the plan.
LATER = "later_period"
STEADY = {  # row family: its axes
    "steady_district": ("service", "district", LATER),
    "steady_team": ("service", "team", LATER),
}


def _add_steady_hours(asm: Assembler, inputs: PlanInputs, model: LpModel) -> IntArray:
    """Columns `rise` and `fall` >= 0 per district and per team, service and period from the
    second, with rows `hours[t] - hours[t-1] - rise[t] + fall[t] = 0` on the hours of care
    given (a team's: its districts' summed), so that at the optimum rise + fall is the hours'
    move from the period before; returns every rise and fall column. A team's in-house staff
    hours follow its hours given through the spend tie-break; steadying the staff hours
    themselves would pay for idle hours to keep a roster flat, moving money the first stage
    did not."""
    moved = np.zeros(0, dtype=np.int64)
    block = model.columns["x"]
    x = np.arange(block.start, block.stop).reshape(block.shape)
    scale = np.broadcast_to(inputs.hours_per_case[:, None, None], x.shape[:3])[..., 1:]
    for name, axes in STEADY.items():
        rise = asm.add_columns(f"{name}_rise", axes)
        fall = asm.add_columns(f"{name}_fall", axes)
        rows = asm.add_rows(name, axes, 0.0, 0.0)
        of_district = rows if name == "steady_district" else rows[:, inputs.team_of_district]
        for k in range(x.shape[3]):
            asm.coef(of_district, x[:, :, 1:, k], scale)
            asm.coef(of_district, x[:, :, :-1, k], -scale)
        asm.coef(rows, rise, -1.0)
        asm.coef(rows, fall, 1.0)
        moved = np.concatenate([moved, rise.ravel(), fall.ravel()])
    return moved


def _team_of_columns(inputs: PlanInputs, model: LpModel) -> IntArray:
    """Index of the team each column belongs to (by its team or district axis), else -1."""
    out = np.full(model.num_cols, -1, dtype=np.int64)
    for block in model.columns.values():
        coords = dict(zip(block.axes, block.coords(), strict=True))
        if "team" in coords:
            out[block.start : block.stop] = coords["team"]
        elif "district" in coords:
            out[block.start : block.stop] = inputs.team_of_district[coords["district"]]
    return out


def _penalty_columns(model: LpModel) -> IntArray:
    spans = [np.arange(model.columns[n].start, model.columns[n].stop) for n in model.penalties]
    return np.concatenate(spans) if spans else np.zeros(0, dtype=np.int64)


def _shared_rows(model: LpModel, team: IntArray, fixed: IntArray) -> IntArray:
    """Rows with columns of two or more teams and no other columns but fixed slack."""
    coo = model.matrix.tocoo()
    lowest = np.full(model.num_rows, np.iinfo(np.int64).max)
    highest = np.full(model.num_rows, -1)
    np.minimum.at(lowest, coo.row, np.where(team[coo.col] >= 0, team[coo.col], lowest.max()))
    np.maximum.at(highest, coo.row, team[coo.col])
    loose = (team[coo.col] < 0) & ~np.isin(coo.col, fixed)
    other = np.zeros(model.num_rows, bool)
    other[coo.row[loose]] = True
    return np.flatnonzero((highest > lowest) & (highest >= 0) & ~other)


def _padded(first: SolveResult, model: LpModel) -> Array:
    """The first stage's values with zeros for the columns the second stage adds."""
    out = np.zeros(model.num_cols)
    out[: len(first.col_value)] = first.col_value
    return out


AT_LOWER, BASIC, AT_UPPER = 0, 1, 2  # basis codes (solution.Basis)


def start_basis(
    inputs: PlanInputs, model: LpModel, second: LpModel, first: SolveResult
) -> Basis | None:
    """The first stage's optimal basis extended to the second stage's LP, so that primal
    simplex starts from the first stage's plan (primal feasible there) rather than from
    scratch. Rows and columns the second stage adds are basic, except: each
    `worst_wait[s,g,t]` is basic in place of the slack of its longest-waiting district's row
    (that row at its bound, so the column equals the longest wait), and one with no district
    rows stays at 0; a freed shared row is basic, and if it was at its bound, the share of
    the team with the largest part of it is at its bound instead."""
    if first.basis is None:
        return None
    cols = np.full(second.num_cols, BASIC, np.int8)
    rows = np.full(second.num_rows, BASIC, np.int8)
    cols[: model.num_cols], rows[: model.num_rows] = first.basis.col_status, first.basis.row_status
    _basic_longest(inputs, model, second, first, cols, rows)
    _basic_shares(model, second, rows)
    _basic_moves(inputs, model, second, first, cols, rows)
    return Basis(cols, rows)


def _basic_moves(
    inputs: PlanInputs,
    model: LpModel,
    second: LpModel,
    first: SolveResult,
    cols: npt.NDArray[np.int8],
    rows: npt.NDArray[np.int8],
) -> None:
    """Each steady row at its bound (it is an equation), with the rise column basic where the
    first stage's hours rose (or stayed) and the fall column basic where they fell; the other
    one at 0."""
    served = np.maximum(model.col_values(first.col_value, "x"), 0.0).sum(axis=3)
    district = served * inputs.hours_per_case[:, None, None]
    for name in STEADY:
        hours = district if name == "steady_district" else team_sum(inputs, district)
        rising = np.diff(hours, axis=-1) >= 0
        rise, fall = (_col_grid(second, f"{name}_{side}") for side in ("rise", "fall"))
        cols[rise[~rising]] = cols[fall[rising]] = AT_LOWER
        rows[second.rows[name].start : second.rows[name].stop] = AT_LOWER


def _col_grid(model: LpModel, name: str) -> IntArray:
    block = model.columns[name]
    return np.arange(block.start, block.stop).reshape(block.shape)


def _basic_longest(
    inputs: PlanInputs,
    model: LpModel,
    second: LpModel,
    first: SolveResult,
    cols: npt.NDArray[np.int8],
    rows: npt.NDArray[np.int8],
) -> None:
    waits = district_wait_days(inputs, np.maximum(model.col_values(first.col_value, "b"), 0.0))
    waits = np.nan_to_num(waits, nan=-np.inf)
    row_of = _row_grid(second, "worst_wait")
    worst = second.columns["worst_wait"]
    worst_col = np.arange(worst.start, worst.stop).reshape(worst.shape)
    for g in range(len(inputs.teams)):
        members = np.flatnonzero(inputs.team_of_district == g)
        longest = members[np.argmax(waits[:, members, :], axis=1)]  # (S, T) district index
        s, t = np.indices(longest.shape)
        has = np.isfinite(waits[s, longest, t])
        rows[row_of[s[has], longest[has], t[has]]] = AT_UPPER
        cols[worst_col[:, g, :][~has]] = AT_LOWER


def _basic_shares(model: LpModel, second: LpModel, rows: npt.NDArray[np.int8]) -> None:
    block = second.rows["team_share"]
    if block.size == 0:
        return
    row_of = _row_grid(second, "team_share")  # (shared, team)
    span = slice(0, model.num_rows)
    freed = np.flatnonzero(np.isinf(second.row_lower[span]) & np.isinf(second.row_upper[span]))
    bound = np.where(np.isfinite(second.row_upper), second.row_upper, second.row_lower)
    size = np.where(row_of >= 0, np.abs(bound[np.maximum(row_of, 0)]), -1.0)
    for i, r in enumerate(freed):
        if rows[r] != BASIC:
            rows[row_of[i, np.argmax(size[i])]] = rows[r]
            rows[r] = BASIC


def _row_grid(model: LpModel, name: str) -> IntArray:
    """Row index of each entry of a row family's grid (-1 where masked out)."""
    block = model.rows[name]
    index = np.full(int(np.prod(block.shape)), -1, dtype=np.int64)
    flat = np.arange(index.size) if block.positions is None else block.positions
    index[flat] = np.arange(block.start, block.stop)
    return index.reshape(block.shape)


def _cost_of(model: LpModel, names: tuple[str, ...], num_cols: int) -> Array:
    """The first stage's objective on the named column families only, zero elsewhere and on
    the columns a later stage adds (up to `num_cols`)."""
    cost = np.zeros(num_cols)
    for name in names:
        if name in model.columns:
            block = model.columns[name]
            cost[block.start : block.stop] = model.cost[block.start : block.stop]
    return cost


@dataclass(frozen=True)
class TieBreak:
    """The outcome of the second stage, for `plan()` and the benchmarks.

    `outcome` is what to extract against the first-stage model: the second stage's plan with
    the first stage's duals and ranging (or the first stage alone if the second failed)."""

    outcome: SolveResult
    used: bool  # the second stage's plan is published
    first_wait_days: float  # the first stage's weighted waiting
    first_worst_wait_sum_days: float  # the tie-break term of the first stage's plan
    build_seconds: float
    solve_seconds: float
    warning: str | None = None

    def report(self, result: PlanResult) -> PlanResult:
        """`result` (extracted from `outcome`) with the two stages reported apart."""
        return result.with_extras(
            tie_break="even_waits" if self.used else "none",
            first_stage_weighted_wait_days=self.first_wait_days,
            first_stage_worst_wait_sum_days=self.first_worst_wait_sum_days,
            tie_break_seconds=self.build_seconds + self.solve_seconds,
            build_seconds=result.build_seconds + self.build_seconds,
            warnings=(*result.warnings, *([self.warning] if self.warning else [])),
        )


def even_waits(
    inputs: PlanInputs,
    model: LpModel,
    first: SolveResult,
    solver: str = "highs",
    time_limit_s: float | None = None,
    decomposition: Decomposition = BY_BLOCKS,
) -> TieBreak:
    """Solve the second stage after `first` (an optimal solve of `model`); if it does not
    solve, or its plan breaks the first stage's rows (solve() has checked it against its own,
    which hold the first stage's waiting), keep the first stage's plan and say why in a
    warning."""
    waiting = weighted_wait_days(model, first.col_value)
    worst = worst_wait_sum_days(inputs, np.maximum(model.col_values(first.col_value, "b"), 0.0))
    second_model = even_waits_model(inputs, model, first)
    start = start_basis(inputs, model, second_model, first)
    second = solve(second_model, solver, time_limit_s, False, decomposition, start)
    build_s, solve_s = second_model.build_seconds, second.solve_seconds
    if second.ok:  # a pooled budget is only its teams' shares here: check it whole too
        second = checked(model, replace(second, col_value=second.col_value[: model.num_cols]))
    if not second.ok:
        warning = fallback_warning(inputs, second)
        return TieBreak(first, False, waiting, worst, build_s, solve_s, warning)
    values = second.col_value
    outcome = replace(
        first,
        col_value=values,
        row_activity=model.matrix @ values,
        solve_seconds=first.solve_seconds + second.solve_seconds,
        message=f"{first.message}; even waits: {second.message}",
    )
    return TieBreak(outcome, True, waiting, worst, build_s, solve_s)


# A mean forecast (cases a period) under which a fallback warning names the series: one
# referral in two years of weekly periods, so rarely real; the even-waits LP divides by it.
NEAR_ZERO_CASES = 0.01


def fallback_warning(inputs: PlanInputs, second: SolveResult) -> str:
    """Why the even-waits stage was set aside, in words a planner can act on. Its LP always
    has a plan (the first stage's) and a bounded objective, so short of the time limit a
    failure is the solver losing precision; a near-zero forecast is the usual cause."""
    if second.status is SolveStatus.TIME_LIMIT:
        why = "ran out of time (a longer time limit lets it finish)"
    elif LOST_PRECISION in second.message:  # feasibility.checked has said why
        why = f"did not give a usable plan ({second.message})"
    else:
        why = (
            f"did not give a usable plan ({second.message}); its LP has a plan, the first "
            f"solve's, so {LOST_PRECISION}"
        )
    return (
        "even waits: the second solve, which only evens out waits between a team's "
        f"districts, {why}. The plan is the first solve's, with the same weighted waiting, "
        "but which of a team's districts gets the hours may be arbitrary" + _near_zero(inputs)
    )


def _near_zero(inputs: PlanInputs) -> str:
    """The series with the smallest mean forecast, where it is near zero but counted."""
    rate = inputs.demand_cases.mean(axis=2)
    counted = np.where(rate >= MIN_DEMAND_CASES, rate, np.inf)
    s, d = np.unravel_index(int(np.argmin(counted)), counted.shape)
    if counted[s, d] >= NEAR_ZERO_CASES:
        return ""
    return (
        f". {inputs.services[s]} in {inputs.districts[d]} has a mean forecast of "
        f"{counted[s, d]:.2g} cases a period, which the even-waits LP divides by: if it has "
        "no real demand, set its forecast to 0"
    )
