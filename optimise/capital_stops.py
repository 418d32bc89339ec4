"""DFG works that stop within a plan because a financial year's capital is spent.

With districts' capital_by_year_gbp, each year's capital pays for that year's works alone,
none carried into the next: works stop when a year's capital runs out and wait for the next
year's. The end-of-horizon warning names works stopped for the rest of the plan only where the
works queue rises at its end; a district given {"2026-27": 100000, "2027-28": 0} stopped its
works in March 2027 and its queue grew steadily to the plan's end, without a word.
"""

from __future__ import annotations

import numpy as np

from optimise.budgets import capital_bounds, capital_row_of_period
from optimise.inputs import PlanInputs
from optimise.result import PlanResult

SPENT = 0.999  # a year's capital counts as spent at this share of it (round-off aside)
WORKS = 1e-6  # fewer works completed than this in a period is the solver's round-off


def capital_year_stops_note(inputs: PlanInputs, result: PlanResult) -> str | None:
    """A note naming each district whose works stop before a financial year of the plan
    that is not its last ends, or at its end, because that year's capital is spent: the year,
    the last week with works, and the week they restart with a later year's capital, or that
    none do. None where no district's works so stop."""
    if not inputs.capital_per_financial_year or not len(result.capital):
        return None
    done = result.capital.pivot_table(
        index="district", columns="period", values="works_completed", aggfunc="sum"
    )
    spent = result.capital.pivot_table(
        index="district", columns="period", values="capital_gbp", aggfunc="sum"
    )
    shown = []
    for d, district in enumerate(inputs.districts):
        if district not in done.index:
            continue
        works = done.loc[district].to_numpy(dtype=float)
        for year, stop, restart in _stops(inputs, d, works, spent.loc[district].to_numpy(float)):
            shown.append(_stop_text(inputs, d, year, stop, restart))
    if not shown:
        return None
    return (
        "DFG works stop within the plan as a financial year's capital_by_year_gbp is spent: "
        + "; ".join(shown)
        + ". Each year's capital pays for that year's works alone, none carried into the next: "
        "works cases wait meanwhile for a later year's"
    )


def _stops(
    inputs: PlanInputs, d: int, works: np.ndarray, spent_gbp: np.ndarray
) -> list[tuple[int, int, int | None]]:
    """[(year row, last period with works, the next period with works or None)] for each
    financial year of district `d` before the plan's last whose capital is spent and after
    whose last works the next period completes none."""
    bounds, rows = capital_bounds(inputs), capital_row_of_period(inputs)
    spent = np.zeros(bounds.shape[1])
    np.add.at(spent, rows, spent_gbp)
    out = []
    for r in range(bounds.shape[1] - 1):  # a year with a later year of the plan after it
        if bounds[d, r] <= 0 or spent[r] < SPENT * bounds[d, r]:
            continue
        working = np.flatnonzero((rows == r) & (works > WORKS))
        if not len(working) or works[working[-1] + 1] > WORKS:
            continue
        stop = int(working[-1])
        later = np.flatnonzero(works[stop + 1 :] > WORKS)
        out.append((r, stop, stop + 1 + int(later[0]) if len(later) else None))
    return out


def _stop_text(inputs: PlanInputs, d: int, r: int, stop: int, restart: int | None) -> str:
    """'in Rugby after the week of 2027-03-22, its 2026-27 capital (GBP 100,000) spent, and
    none restart in the plan (2027-28: GBP 0)', or '..., restarting in the week of
    2027-04-05 with 2027-28's'."""
    bounds, rows = capital_bounds(inputs), capital_row_of_period(inputs)
    unit = "week" if inputs.period_days == 7 else "period"
    years = inputs.financial_years
    head = (
        f"in {inputs.district_names[d]} after the {unit} of {inputs.period_start[stop]:%Y-%m-%d}, "
        f"its {years[r]} capital (GBP {bounds[d, r]:,.0f}) spent"
    )
    if restart is not None:
        return (
            f"{head}, restarting in the {unit} of {inputs.period_start[restart]:%Y-%m-%d} with "
            f"{years[rows[restart]]}'s"
        )
    later = ", ".join(f"{years[k]}: GBP {bounds[d, k]:,.0f}" for k in range(r + 1, len(years)))
    return f"{head}, and none restart in the plan ({later})"
