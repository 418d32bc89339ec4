"""DFG capital by financial year for a year the plan reaches only in part.

With districts' capital_by_year_gbp, a year's amount bounds the works of the plan's periods in
that year, however few they are. 52 weeks from 2026-11-23 (the demo's horizon; the demo gives
capital_gbp) reach 2026-27's last 19 weeks and 2027-28's first 33: given a whole year's 2027-28
allocation of GBP 420,000, a one-district plan with works waiting spent all of it in those 33
weeks, leaving none for the rest of the year, and nothing said so (capital_gbp over a short
horizon has a warning of its own, optimise/scale.py).

The amounts are taken as the config documents them: the first year's is what is left of that
year's allocation from the plan's start, each later year's the whole year's. So the rule is:

- a year whose end the plan does not reach (its last, or its only year) is warned of when a
  district spends more of it than its pro rata share of the periods the amount is for (the
  whole year's, or for an only year the periods from the plan's start to the year's end) that
  the plan covers;
- the first year, reached from part way through, is what is left of it and may be spent in
  full; it is warned of only when a district's amount looks like a whole year's instead: it
  gives the plan's weeks in that year more capital a week than the next year's allocation
  gives each of that year's, and the plan spends it beyond its pro rata share of the whole
  year (given that way, the year's earlier weeks have spent part of it already).

A year the plan covers in full is never warned of. Periods are counted on the plan's own grid
(every `period_days` from its first period, or calendar months for monthly periods), as the
periods a financial year holds are (year_of_period: the year a period starts in).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimise.demand import MONTH_DAYS
from optimise.inputs import Array, PlanInputs
from optimise.result import PlanResult

# (district, financial year): what the plan spends of its capital_by_year_gbp, GBP
Spent = dict[tuple[str, str], float]

# spend above a pro rata share by more than this share of the amount given (of GBP 1 at least)
# is beyond it, not the solver's round-off
ROUND_OFF = 1e-6


@dataclass(frozen=True)
class _Year:
    """A financial year of the plan, row `r` of financial_years, and its periods: `covered` by
    the plan, `whole` in the year, `left` from the plan's start to the year's end."""

    r: int
    label: str
    end: pd.Timestamp  # the next 1 April
    covered: int
    whole: int
    left: int


def part_year_capital_warnings(inputs: PlanInputs, result: PlanResult) -> list[str]:
    """A warning for the plan's last financial year (or its only one) when the plan does not
    reach its end and a district spends beyond its pro rata share of the periods covered; and
    one for its first, reached part way through, when a district's amount looks like a whole
    year's (above) and is spent beyond that year's pro rata share. [] with capital_gbp, or
    where no such year is so spent."""
    given = inputs.capital_by_year_gbp
    if given is None or not len(result.capital_by_year):
        return []
    frame = result.capital_by_year
    gbp = frame["capital_spent_gbp"].to_numpy(dtype=float)
    spent = {
        (str(d), str(y)): float(v)
        for d, y, v in zip(frame["district"], frame["year"], gbp, strict=True)
    }
    years = [_year(inputs, r) for r in range(len(inputs.financial_years))]
    warnings = [
        _first_year_warning(inputs, years, given, spent),
        _last_year_warning(inputs, years, given, spent),
    ]
    return [w for w in warnings if w is not None]


def _year(inputs: PlanInputs, r: int) -> _Year:
    start = int(inputs.financial_years[r][:4])
    first, end = pd.Timestamp(start, 4, 1), pd.Timestamp(start + 1, 4, 1)
    return _Year(
        r=r,
        label=inputs.financial_years[r],
        end=end,
        covered=int(np.sum(inputs.year_of_period == r)),
        whole=_grid_periods(inputs, first, end),
        left=_grid_periods(inputs, max(first, inputs.period_start[0]), end),
    )


def _monthly(inputs: PlanInputs) -> bool:
    """Calendar months: every period starts on the 1st and is 28 to 31 days (as the demand's
    spacing is checked, optimise/demand.py)."""
    return inputs.period_days in MONTH_DAYS and all(ts.day == 1 for ts in inputs.period_start)


def _grid_periods(inputs: PlanInputs, lo: pd.Timestamp, hi: pd.Timestamp) -> int:
    """How many periods of the plan's grid, extended both ways, start in [lo, hi)."""
    if _monthly(inputs):
        month = lo if lo.day == 1 else lo + pd.offsets.MonthBegin(1)
        return (hi.year - month.year) * 12 + hi.month - month.month
    days, origin = inputs.period_days, inputs.period_start[0]
    a, b = (lo - origin).days, (hi - origin).days
    return -(-b // days) + (-a // days)  # ceil(b / days) - ceil(a / days)


def _unit(inputs: PlanInputs) -> str:
    if _monthly(inputs):
        return "month"
    return "week" if inputs.period_days == 7 else "period"


def _beyond(spent: float, share: float, given: float) -> bool:
    return spent > share + ROUND_OFF * max(given, 1.0)


def _last_year_warning(
    inputs: PlanInputs, years: list[_Year], by_year: Array, spent: Spent
) -> str | None:
    """The last year (or the only one), whose end the plan does not reach: its amount is for
    the whole year (an only year's, what is left of it from the plan's start), and each
    district's spend in the plan's periods is held to their pro rata share of it."""
    year, only = years[-1], len(years) == 1
    meant = year.left if only else year.whole  # the periods the amount is for
    if year.covered >= meant:
        return None
    shown = []
    for d, district in enumerate(inputs.districts):
        given = float(by_year[d, year.r])
        share, used = given * year.covered / meant, spent.get((district, year.label), 0.0)
        if _beyond(used, share, given):
            shown.append(
                f"{inputs.district_names[d]} spends GBP {used:,.0f} of its GBP {given:,.0f} in "
                f"them, beyond their pro rata share (GBP {share:,.0f})"
            )
    if not shown:
        return None
    unit = _unit(inputs)
    last = f"{inputs.period_start[-1]:%Y-%m-%d}"
    year_end = f"{year.end - pd.Timedelta(days=1):%Y-%m-%d}"
    if only:
        what = (
            f"the plan's only financial year (its first and last), is what is left of that "
            f"year's allocation from the plan's start, but the plan reaches only {year.covered} "
            f"of the {meant} {unit}s left in it (to the {unit} of {last}; the year ends "
            f"{year_end})"
        )
    else:
        what = (
            f"the plan's last financial year, is for the whole year (as every year's after the "
            f"first is), but the plan reaches only its first {year.covered} of {meant} {unit}s "
            f"(to the {unit} of {last}; the year ends {year_end})"
        )
    return (
        f"DFG capital_by_year_gbp for {year.label}, {what}: "
        + "; ".join(shown)
        + f". A year's capital spent in part of it leaves none for the rest of {year.label}, "
        f"which the plan does not see: give {year.label}'s amount for these {unit}s (the pro "
        "rata share, or what the rest of the year will not need), or extend horizon_periods "
        "to the year's end"
    )


def _first_year_warning(
    inputs: PlanInputs, years: list[_Year], by_year: Array, spent: Spent
) -> str | None:
    """The first year, reached part way through, before a later year of the plan: its amount
    is what is left of it, unless it gives the plan's periods in it more a period than the
    next year's allocation gives each of that year's; then it is held, as a whole year's, to
    the pro rata share of the periods covered."""
    if len(years) < 2 or years[0].covered >= years[0].whole:
        return None
    year, after = years[0], years[1]
    unit = _unit(inputs)
    shown = []
    for d, district in enumerate(inputs.districts):
        given = float(by_year[d, year.r])
        following = float(by_year[d, after.r])
        rate, usual = given / year.covered, following / after.whole
        share, used = given * year.covered / year.whole, spent.get((district, year.label), 0.0)
        if following > 0 and rate > usual and _beyond(used, share, given):
            shown.append(
                f"{inputs.district_names[d]}'s GBP {given:,.0f} is GBP {rate:,.0f} a {unit} "
                f"against {after.label}'s GBP {usual:,.0f} (GBP {following:,.0f} over its "
                f"{after.whole} {unit}s), and the plan spends GBP {used:,.0f} of it, beyond the "
                f"pro rata share of a whole year's (GBP {share:,.0f})"
            )
    if not shown:
        return None
    return (
        f"DFG capital_by_year_gbp for {year.label}, the plan's first financial year, which it "
        f"reaches only from the {unit} of {inputs.period_start[0]:%Y-%m-%d} (the year's last "
        f"{year.covered} of {year.whole} {unit}s), should be what is left of that year's "
        "allocation, but looks like a whole year's: "
        + "; ".join(shown)
        + f". If it is the whole year's, the plan spends in these {unit}s capital the year's "
        f"earlier {unit}s have spent or committed already: give what is left of {year.label}'s "
        "allocation (the pro rata share, if it has been spent evenly so far)"
    )
