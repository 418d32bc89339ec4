"""Revenue rows: one per budget and period, or per budget and financial year where configured."""

from __future__ import annotations

import numpy as np

from optimise.inputs import Array, IntArray, PlanInputs


def revenue_axes(inputs: PlanInputs) -> tuple[str, ...]:
    """Axes of the revenue rows: the time axis, after 'budget' unless one budget is pooled."""
    time = "year" if inputs.budget_per_financial_year else "period"
    return (time,) if inputs.pooled_only else ("budget", time)


def row_of_period(inputs: PlanInputs) -> IntArray:
    """(T,) index of the revenue row (along the time axis) that each period's money counts in."""
    if inputs.budget_per_financial_year:
        return inputs.year_of_period
    return np.arange(len(inputs.period_start), dtype=np.int64)


def revenue_bounds(inputs: PlanInputs) -> Array:
    """(B, R) GBP: each budget per period, or summed over each financial year's periods in
    the horizon (so a part year gets a part budget)."""
    rows = row_of_period(inputs)
    out = np.zeros((len(inputs.budgets), int(rows.max()) + 1))
    np.add.at(out.T, rows, inputs.revenue_budget_gbp.T)
    return out
