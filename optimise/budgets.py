"""Budget rows: revenue per budget and period (or financial year), and DFG capital per district
over the horizon (or per financial year), as the config gives them."""

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


def capital_axes(inputs: PlanInputs) -> tuple[str, ...]:
    """Axes of the capital rows: per district, and per financial year where given so."""
    return ("district", "year") if inputs.capital_per_financial_year else ("district",)


def capital_bounds(inputs: PlanInputs) -> Array:
    """(D, R) GBP: each district's capital over the horizon (R = 1) or per financial year."""
    if inputs.capital_by_year_gbp is not None:
        return inputs.capital_by_year_gbp
    return inputs.capital_gbp[:, None]


def capital_row_of_period(inputs: PlanInputs) -> IntArray:
    """(T,) index of the capital row (along R) each period's works are paid from."""
    if inputs.capital_per_financial_year:
        return inputs.year_of_period
    return np.zeros(len(inputs.period_start), dtype=np.int64)
