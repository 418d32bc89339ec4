"""Long waits: a warning for each service whose wait in some period passes its limit.

A plan's averages over the year can hide a season of long waits: on the demo, reablement
averaged 42 days in North Warwickshire while its standard cases there waited 195 days in the
week of 2027-03-22, in a service meant to last up to about six weeks. The wait in a period is
the backlog table's (cases waiting over cases served that period, in days); a period with
people waiting and none served has a wait without end, so it is over any limit.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimise.horizon import period_unit
from optimise.inputs import PlanInputs, service_name
from optimise.result import PlanResult

WAITING_CASES = 1e-6  # fewer cases waiting than this is the solver's round-off, not a queue


def long_wait_warnings(inputs: PlanInputs, result: PlanResult) -> list[str]:
    """One warning per service with a `wait_warning_days` whose wait, in any district,
    priority class and period, passes it: the longest (where, of which class, when, how long),
    how many periods and districts are over, any periods serving none of those waiting, and
    the service's average wait over the plan beside it."""
    limits = inputs.wait_warning_days
    if limits is None or not len(result.backlog):
        return []
    warnings = []
    for service, limit in zip(inputs.services, limits, strict=True):
        rows = result.backlog[result.backlog["service"] == service]
        if np.isfinite(limit) and len(over := _over(rows, float(limit))):
            warnings.append(_sentence(inputs, result, service, float(limit), over))
    return warnings


def _over(rows: pd.DataFrame, limit_days: float) -> pd.DataFrame:
    """The rows whose wait passes the limit, with `wait_days` (inf where none are served and
    people wait), longest first (earliest first among equals)."""
    waiting = rows["backlog_cases"] > WAITING_CASES
    wait = rows["avg_wait_days"].where(rows["avg_wait_days"].notna() | ~waiting, np.inf)
    over = rows.assign(wait_days=wait)[wait > limit_days]
    return over.sort_values(["wait_days", "period"], ascending=[False, True], kind="stable")


def _sentence(
    inputs: PlanInputs, result: PlanResult, service: str, limit_days: float, over: pd.DataFrame
) -> str:
    unit, periods = period_unit(inputs), len(inputs.period_start)
    names = dict(zip(inputs.districts, inputs.district_names, strict=True))
    finite = over[np.isfinite(over["wait_days"])]
    worst = (finite if len(finite) else over).iloc[0]
    where = f"{worst['priority']} cases in {names.get(worst['district'], worst['district'])}"
    when = f"the {unit} of {pd.Timestamp(worst['ds']):%Y-%m-%d}"
    longest = (
        f"{worst['wait_days']:,.0f} days for {where} in {when}"
        if np.isfinite(worst["wait_days"])
        else f"without end for {where} in {when}, when none of them are served"
    )
    text = (
        f"{service_name(service)} waits pass its {limit_days:,.10g}-day limit (wait_warning_days) "
        f"in {over['period'].nunique()} of the plan's {_count(periods, unit)}, in "
        f"{over['district'].nunique()} of its {_count(len(inputs.districts), 'district')}: the "
        f"longest is {longest}"
    )
    if len(finite):
        text += _without_end(over[~np.isfinite(over["wait_days"])], unit)
    return text + _average(result, service, str(worst["district"]), names, limit_days)


def _without_end(endless: pd.DataFrame, unit: str) -> str:
    """', and in the week of 2026-11-23 cases wait with none served, ...' where some periods
    serve none of those waiting (beside a longest wait that is a number of days); '' if none."""
    if not len(endless):
        return ""
    first, n = pd.Timestamp(endless["ds"].min()), endless["period"].nunique()
    when = (
        f"the {unit} of {first:%Y-%m-%d}" if n == 1 else f"{n} {unit}s (the first {first:%Y-%m-%d})"
    )
    return f", and in {when} cases wait with none served, a wait without end"


def _count(n: int, thing: str) -> str:
    return f"{n} {thing}" if n == 1 else f"{n} {thing}s"


def _average(
    result: PlanResult, service: str, district: str, names: dict[str, str], limit_days: float
) -> str:
    """'; its average wait over the plan, 32 days (42 in North Warwickshire), is under the
    limit, which the average hides' from the plan's district_waits; '' without them."""
    waits = result.district_waits
    if not len(waits):
        return ""
    rows = waits[waits["service"] == service]
    served = float(rows["cases_served"].sum())
    if served <= 0:
        return ""
    average = float(rows["person_days"].sum()) / served
    own = rows.loc[rows["district"] == district, "avg_wait_days"]
    there = f" ({float(own.iloc[0]):,.0f} in {names.get(district, district)})" if len(own) else ""
    judged = (
        "under the limit: the average hides these waits"
        if average <= limit_days
        else "over the limit too"
    )
    return f"; its average wait over the plan is {average:,.0f} days{there}, {judged}"
