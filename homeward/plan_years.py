"""How many periods of a stored plan's grid a whole financial year holds: worked out from the
plan's horizon when the plan is read, and served on its `revenue_by_year` rows
(`year_periods`, beside `periods`, those the plan covers), so the dashboard and the summary's
`part_year[..]` read one count instead of each reckoning its own. Worked out on read, not
stored, so a plan stored before the count was served has it too.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from homeward.planning import PlanHorizon, plan_horizon

# the revenue_by_year column of the whole year's periods, beside `periods` (the plan's)
YEAR_PERIODS = "year_periods"


def with_year_periods(result: Mapping[str, Any]) -> dict[str, Any]:
    """A stored plan's `result` as served: a copy whose `revenue_by_year` rows each carry
    `year_periods` (`whole_year_periods`). The stored result and its rows are not changed."""
    rows = result.get("revenue_by_year") or []
    if not rows:
        return dict(result)
    whole = whole_year_periods(result)
    served = [{**r, YEAR_PERIODS: whole.get(r["year"])} for r in rows]
    return {**result, "revenue_by_year": served}


def whole_year_periods(result: Mapping[str, Any]) -> dict[str, int | None]:
    """Each financial year of the plan's `revenue_by_year` rows (e.g. `2026-27`) -> how many
    periods of the plan's grid start in the whole year (`year_periods`); None where the plan
    does not say its grid."""
    horizon = plan_horizon(result)
    monthly = monthly_periods(result, horizon)
    years = dict.fromkeys(r["year"] for r in result.get("revenue_by_year") or [])
    return {year: _year_periods(year, horizon, monthly) for year in years}


def monthly_periods(result: Mapping[str, Any], horizon: PlanHorizon) -> bool:
    """Calendar months: periods of 28 to 31 days, each starting on the 1st (as
    optimise/part_years.py counts them)."""
    starts = [str(r.get("ds") or "")[:10] for r in result.get("revenue") or []]
    if horizon.period_days is None or not 28 <= horizon.period_days <= 31:
        return False
    return bool(starts) and all(s.endswith("-01") for s in starts)


def _year_periods(year: str, horizon: PlanHorizon, monthly: bool) -> int | None:
    """How many periods of the plan's grid (every period_days from its first period, extended
    both ways, or calendar months) start in financial year `year`, as
    optimise/part_years.py counts a whole year's; None where the plan does not say its grid."""
    if monthly:
        return 12
    if horizon.period_days is None or horizon.first_ds is None:
        return None
    start = int(year[:4])
    origin, days = date.fromisoformat(horizon.first_ds), horizon.period_days
    a, b = (date(start, 4, 1) - origin).days, (date(start + 1, 4, 1) - origin).days
    return -(-b // days) + (-a // days)  # ceil(b / days) - ceil(a / days)
