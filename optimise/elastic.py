"""Elastic relaxation: slack on the rows that can conflict, each with a stated penalty."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from optimise.build import backlog_cost
from optimise.inputs import PlanInputs
from optimise.model import Array, Block, LpModel
from optimise.solution import SolveResult

ELASTIC = (
    "revenue",
    "team_hours_min",
    "team_hours_max",
    "recruitment_up",
    "recruitment_down",
    "equity_cap",
    "district_hours_min",
    "district_hours_max",
    "district_wait_cap",
)
SAFETY = 10.0
# A staffing limit (a team's or district's floor or ceiling of hours) costs this much more per
# hour than the pace a team's hours may change at (`max_change_per_period`), so that where
# both cannot hold, the pace gives way first: hours beyond a ceiling are staff the config says
# the team does not have, while changing faster than planned is something a council can do
# (agency cover let go, staff redeployed). At equal penalties the split between them was
# arbitrary: a plan stepping down from 100 hours to a ceiling of 50 at 1 an hour worked 51, one
# over the ceiling, because the budget paid for it and the penalties cancelled.
LIMIT_OVER_PACE = 1.5
PACE = ("recruitment_up", "recruitment_down")


def penalties(inputs: PlanInputs) -> dict[str, float]:
    """Penalty per unit of slack, in weighted waiting days: SAFETY x the most one unit could save.

    One case served one period earlier saves at most max(backlog cost) per period, for at most
    T periods (plus the worst-district term); a GBP buys at most 1/min(cost_per_hour) hours,
    each serving at most 1/min(hours_per_case) cases.
    """
    periods = len(inputs.period_start)
    per_case = float(backlog_cost(inputs).max()) * periods + inputs.worst_district_weight
    per_case = max(per_case, 1.0) * SAFETY
    per_gbp = (
        per_case
        / float(inputs.hours_per_case.min())
        / max(float(inputs.cost_per_hour_gbp.min()), 1.0)
    )
    # An hour of a staffing rule costs more than the money that would pay for it at any rate,
    # so a budget conflict is reported as missing money rather than as broken staffing rules.
    per_hour = 2.0 * per_gbp * max(float(inputs.agency_cost_per_hour_gbp.max()), 1.0)
    unit = {"revenue": per_gbp, "equity_cap": per_case, "district_wait_cap": per_case}
    unit |= {name: per_hour for name in PACE}
    return {f"slack_{name}": unit.get(name, LIMIT_OVER_PACE * per_hour) for name in ELASTIC}


def relax(model: LpModel, inputs: PlanInputs) -> LpModel:
    """A copy of `model` with one penalised slack column per row of every elastic family."""
    price = penalties(inputs)
    columns, used = dict(model.columns), {}
    blocks, start = [], model.num_cols
    for name in ELASTIC:
        if name not in model.rows:
            continue
        rows = model.rows[name]
        slack = Block(f"slack_{name}", start, rows.axes, rows.shape, rows.positions)
        columns[slack.name], used[slack.name] = slack, price[slack.name]
        blocks.append((rows, slack))
        start = slack.stop
    return replace(
        model,
        columns=columns,
        cost=np.concatenate([model.cost, *(np.full(s.size, used[s.name]) for _, s in blocks)]),
        col_lower=np.concatenate([model.col_lower, np.zeros(start - model.num_cols)]),
        col_upper=np.concatenate([model.col_upper, np.full(start - model.num_cols, np.inf)]),
        matrix=sp.hstack([model.matrix, _slack_matrix(model, blocks, start)], format="csr"),
        penalties=used,
    )


def _slack_matrix(model: LpModel, blocks: list[tuple[Block, Block]], stop: int) -> sp.csr_matrix:
    """-1 on upper-bounded rows (activity - s <= ub), +1 on lower-bounded rows."""
    rows, cols, vals = [], [], []
    for row_block, slack in blocks:
        r = np.arange(row_block.start, row_block.stop)
        rows.append(r)
        cols.append(np.arange(slack.start, slack.stop) - model.num_cols)
        vals.append(np.where(np.isfinite(model.row_upper[r]), -1.0, 1.0))
    shape = (model.num_rows, stop - model.num_cols)
    if not rows:
        return sp.csr_matrix(shape)
    return sp.csr_matrix(
        (np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=shape
    )


def held(model: LpModel, relaxed: Array) -> LpModel:
    """`model` (a relaxed one) with each slack column fixed at its amount in `relaxed` (the
    solution's column values): the LP of the plan with what had to give taken as given."""
    lower, upper = model.col_lower.copy(), model.col_upper.copy()
    for name in model.penalties:
        block = model.columns[name]
        span = slice(block.start, block.stop)
        lower[span] = upper[span] = np.maximum(relaxed[span], 0.0)
    return replace(model, col_lower=lower, col_upper=upper)


def with_held_prices(relaxed: SolveResult, priced: SolveResult) -> SolveResult:
    """The relaxed plan (its values and basis) with the duals, reduced costs and ranging of
    the held LP (`held`), when that solved.

    A relaxed LP's own duals price its objective, waiting *plus* the relaxation penalty: on
    a budget short of its floors, "an extra GBP 1,000 saves 24,500 weighted waiting days"
    was the penalty (SAFETY x the most a GBP could save) of the shortfall it would cover,
    not waiting. Holding the relaxations at the plan's amounts leaves the same plan optimal
    (any better one would have been better for the relaxed LP too) and prices bounds in
    waiting days again: what the next GBP 1,000 or hour saves with the shortfall covered.
    If the held LP did not solve, the prices are NaN (none) rather than the penalty's."""
    if not priced.ok:
        seconds = relaxed.solve_seconds + priced.solve_seconds
        nothing = np.full(len(relaxed.row_dual), np.nan)
        return replace(
            relaxed, row_dual=nothing, col_dual=None, ranging=None, solve_seconds=seconds
        )
    return replace(
        relaxed,
        row_dual=priced.row_dual,
        col_dual=priced.col_dual,
        ranging=priced.ranging,
        ranging_seconds=relaxed.ranging_seconds + priced.ranging_seconds,
        solve_seconds=relaxed.solve_seconds + priced.solve_seconds,
        message=f"{relaxed.message}; prices with the relaxations held: {priced.message}",
    )
