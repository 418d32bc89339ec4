"""Long waits: a warning for each service whose wait in some period passes its limit.

A plan's averages over the year can hide a season of long waits: on the demo, reablement
averaged 42 days in North Warwickshire while its standard cases there waited 195 days in the
week of 2027-03-22, in a service meant to last up to about six weeks. The wait in a period is
the backlog table's (cases waiting over cases served that period, in days). A period with
people waiting and none served has no such wait: where no later period of the plan serves that
district's cases of that class, the queue is never served and its wait is without end, over any
limit; where one does, that period's queue is the one it serves, and takes its wait (the demo's
first week served only urgent reablement cases, and its standard cases, served from the second
week, were said to wait without end).
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
    how many periods and districts are over, any periods serving none of a queue then or later, and
    the average wait of the longest wait's class over the plan beside it."""
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
    """The rows whose wait passes the limit, with `wait_days` and `served_later`, longest
    first (earliest first among equals). A row with people waiting and none served has the
    wait of the next period that serves its district's cases of its class (`served_later`),
    or inf where no later period does. Such a period is counted among those over the limit
    when that next wait is: it is the same queue, still waiting, and a planner reading '51 of
    52 weeks' for a queue over the limit every week it is served would be misled; but it is
    not the longest wait, which is that next period's, dated when it is served."""
    rows = rows.sort_values("period", kind="stable")
    waiting = rows["backlog_cases"] > WAITING_CASES
    unserved = rows["avg_wait_days"].isna() & waiting
    following = rows.groupby(["district", "priority"])["avg_wait_days"].bfill()
    wait = rows["avg_wait_days"].where(~unserved, following.fillna(np.inf))
    judged = rows.assign(wait_days=wait, served_later=unserved & following.notna())
    over = judged[wait > limit_days]
    return over.sort_values(["wait_days", "period"], ascending=[False, True], kind="stable")


def _sentence(
    inputs: PlanInputs, result: PlanResult, service: str, limit_days: float, over: pd.DataFrame
) -> str:
    unit, periods = period_unit(inputs), len(inputs.period_start)
    names = dict(zip(inputs.districts, inputs.district_names, strict=True))
    finite = over[np.isfinite(over["wait_days"]) & ~over["served_later"]]
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
    return text + _average(inputs, result, worst, names, limit_days)


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
    inputs: PlanInputs,
    result: PlanResult,
    worst: pd.Series,
    names: dict[str, str],
    limit_days: float,
) -> str:
    """'; its standard cases' average wait over the plan is 63 days (76 in North
    Warwickshire), over the limit too': the average of the longest wait's service and class
    (person-days waiting over cases served, as district_waits has it per service), over every
    district and in the longest wait's; '' where none of the class are served. A service's
    average over both classes compared an urgent class that waits about 0 with a standard
    class's longest wait: on the demo it said 35 days, under the 42-day limit, while the
    standard cases averaged 63."""
    backlog = result.backlog
    rows = backlog[
        (backlog["service"] == worst["service"]) & (backlog["priority"] == worst["priority"])
    ]
    average = _person_days_per_case(inputs, rows)
    if np.isnan(average):
        return ""
    district = str(worst["district"])
    own = _person_days_per_case(inputs, rows[rows["district"] == district])
    there = "" if np.isnan(own) else f" ({own:,.0f} in {names.get(district, district)})"
    judged = (
        "under the limit: the average hides these waits"
        if average <= limit_days
        else "over the limit too"
    )
    return (
        f"; its {worst['priority']} cases' average wait over the plan is {average:,.0f} days"
        f"{there}, {judged}"
    )


def _person_days_per_case(inputs: PlanInputs, rows: pd.DataFrame) -> float:
    """Days waited per case served over backlog rows (nan where none are served)."""
    served = float(rows["cases_served"].sum())
    if served <= 0:
        return float("nan")
    return float(rows["backlog_cases"].sum()) * inputs.period_days / served
