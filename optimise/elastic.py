"""Elastic relaxation: slack on the rows that can conflict, each with a stated penalty."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import scipy.sparse as sp

from optimise.build import backlog_cost
from optimise.inputs import PlanInputs
from optimise.model import Block, LpModel

ELASTIC = (
    "revenue",
    "team_hours_min",
    "team_hours_max",
    "recruitment_up",
    "recruitment_down",
    "equity_cap",
)
SAFETY = 10.0


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
    unit = {"revenue": per_gbp, "equity_cap": per_case}
    return {f"slack_{name}": unit.get(name, per_hour) for name in ELASTIC}


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
