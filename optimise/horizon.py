"""The end of a plan's horizon: queues the LP leaves to the weeks after it.

Waiting after the last period costs the LP nothing, so where money is short it plans the last
weeks lean and queues rise towards the end (on the demo, home care from none waiting for most
of the year to 199 cases in its last week). Plans are re-solved as weeks pass, with the weeks
after in view, so the first weeks are the ones to act on; the warning says so where it
matters instead of the figures reading as a plan to run a service down.
"""

from __future__ import annotations

from optimise.inputs import PlanInputs
from optimise.result import PlanResult

# A queue "rises at the end" when, over the last eighth of the horizon (at least 2 periods),
# it grows by more than this many periods of its arrivals beyond the trend it had before, and
# ends above where it started. A queue that grows all year for want of money is not flagged.
RISE_PERIODS = 2.0


def end_of_horizon_warning(inputs: PlanInputs, result: PlanResult) -> str | None:
    """A warning naming each queue that rises at the end of the horizon, or None."""
    periods = len(inputs.period_start)
    if not len(result.backlog) or periods < 8:
        return None
    by_period = result.backlog.groupby(["service", "period"])["backlog_cases"].sum().unstack(0)
    last = max(2, periods // 8)
    start, arrivals = _starting(inputs), _arrivals_per_period(inputs)
    risen = []
    for service in by_period.columns:
        b = by_period[service].to_numpy(dtype=float)
        before = b[-1 - last]
        trend = (before - b[0]) / (periods - 1 - last)
        excess = b[-1] - before - trend * last
        if b[-1] > start.get(service, 0.0) and excess > max(RISE_PERIODS * arrivals[service], 1.0):
            risen.append(f"{_name(service)} from {before:,.0f} to {b[-1]:,.0f}")
    if not risen:
        return None
    return (
        f"queues rise in the plan's last {last} periods beyond their trend before: "
        + "; ".join(risen)
        + " cases waiting. Waiting after the horizon costs the plan nothing, so its last "
        "periods are planned lean; act on its first periods, which the next run re-plans with "
        "the periods after them in view"
    )


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


def _name(service: str) -> str:
    return {"domcare": "home care", "dfg_works": "DFG works", "ot": "OT", "hao": "HAO"}.get(
        service, service
    )
