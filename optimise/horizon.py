"""The end of a plan's horizon: queues the LP leaves to the weeks after it.

Waiting after the last period costs the LP nothing, so where money is short it plans the last
weeks lean and queues rise towards the end (on the demo, domiciliary care from none waiting for
most of the year to 199 cases in its last week). Plans are re-solved as weeks pass, with the
weeks after in view; the warning says so, so the figures do not read as a plan to run a
service down. DFG works are different: they stop when the capital runs out, which re-planning
does not change, so that has a warning of its own.
"""

from __future__ import annotations

import numpy as np

from optimise.inputs import PlanInputs
from optimise.result import PlanResult

# A queue "rises at the end" when, over the last eighth of the horizon (at least 2 periods),
# it grows by more than this many periods of its arrivals beyond the trend it had before, and
# ends above where it started. A queue that grows all year for want of money is not flagged.
RISE_PERIODS = 2.0
SPENT = 0.999  # capital counts as spent at this share of the horizon's (round-off aside)
NAMES = {"ot": "OT", "hao": "HAO", "domcare": "domiciliary care", "dfg_works": "DFG works"}


def end_of_horizon_warnings(inputs: PlanInputs, result: PlanResult) -> list[str]:
    """Warnings for queues that rise at the end of the horizon: DFG works that stop because
    the capital is spent, and care queues planned lean because later waiting is not counted."""
    periods = len(inputs.period_start)
    if not len(result.backlog) or periods < 8:
        return []
    by_period = result.backlog.groupby(["service", "period"])["backlog_cases"].sum().unstack(0)
    last = max(2, periods // 8)
    start, arrivals = _starting(inputs), _arrivals_per_period(inputs)
    risen = {}
    for service in by_period.columns:
        b = by_period[service].to_numpy(dtype=float)
        before = b[-1 - last]
        trend = (before - b[0]) / (periods - 1 - last)
        excess = b[-1] - before - trend * last
        if b[-1] > start.get(service, 0.0) and excess > max(RISE_PERIODS * arrivals[service], 1.0):
            risen[service] = (before, float(b[-1]))
    warnings = []
    works = risen.pop("dfg_works", None)
    stopped = _works_stop(inputs, result)
    if works is not None and stopped is not None:
        warnings.append(
            f"the DFG capital is spent by the week of {stopped}: no works are completed after "
            f"it, so the works queue rises from {works[0]:,.0f} to {works[1]:,.0f} cases by the "
            "plan's end (capital for later periods, such as next year's grant, is not in this "
            "plan's districts' capital_gbp)"
        )
    elif works is not None:
        risen["dfg_works"] = works
    if risen:
        when = f"{inputs.period_start[-last]:%Y-%m-%d}"
        shown = "; ".join(
            f"{NAMES.get(s, s)} from {a:,.0f} to {b:,.0f} cases waiting"
            for s, (a, b) in risen.items()
        )
        warnings.append(
            f"queues rise in the plan's last {last} periods (from {when}) beyond their trend "
            f"before: {shown}. Waiting after the plan's last period is not counted, so those "
            "periods are planned lean; each run re-plans them with the periods after in view"
        )
    return warnings


def _works_stop(inputs: PlanInputs, result: PlanResult) -> str | None:
    """The first period after which no works are completed, as a date, if the capital is
    spent by then and works stop before the last period; else None."""
    capital = result.capital
    if not len(capital) or capital["capital_gbp"].sum() < SPENT * inputs.capital_gbp.sum():
        return None
    done = capital.groupby("period")["works_completed"].sum().to_numpy(dtype=float)
    working = np.flatnonzero(done > 1e-6)
    if not len(working) or working[-1] >= len(done) - 1:
        return None
    return f"{inputs.period_start[working[-1]]:%Y-%m-%d}"


def _starting(inputs: PlanInputs) -> dict[str, float]:
    start = {s: float(inputs.initial_backlog_cases[i].sum()) for i, s in enumerate(inputs.services)}
    start["dfg_works"] = float(inputs.initial_works_backlog_cases.sum())
    return start


def _arrivals_per_period(inputs: PlanInputs) -> dict[str, float]:
    periods = len(inputs.period_start)
    out = {s: float(inputs.demand_cases[i].sum()) / periods for i, s in enumerate(inputs.services)}
    ot = inputs.service_index("ot")
    if ot is not None:
        out["dfg_works"] = inputs.p_ot_dfg * out["ot"]
    return out
