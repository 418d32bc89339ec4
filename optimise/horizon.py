"""The end of a plan's horizon: queues the LP leaves to the weeks after it.

Waiting after the last period costs the LP nothing, so where money is short it plans the last
weeks lean and queues rise towards the end (on the demo, domiciliary care from none waiting for
most of the year to 199 cases in its last week). Plans are re-solved as weeks pass, with the
weeks after in view; the warning says so, so the figures do not read as a plan to run a
service down. DFG works are different: they stop when the capital runs out, which re-planning
does not change, so that has a warning of its own; and their fees, which pay for staff, stop
with them, so the queue warning names a fall in fee income as a cause where there is one (on
the demo, valuing the queues left at the end as four more weeks of waiting only took domiciliary
care's last week from 199 to 135 cases; staff spend falls by the lost fees, GBP 9,557 a
week, in the same weeks as winter demand peaks).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from optimise.budgets import capital_bounds, capital_row_of_period
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP
from optimise.capital_stops import capital_year_stops_note
from optimise.demand import MONTH_DAYS
from optimise.inputs import POOLED, PlanInputs, service_name
from optimise.result import PlanResult

# A queue "rises at the end" when, over the last eighth of the horizon (at least 2 periods),
# it grows by more than this many periods of its arrivals beyond the trend it had before, and
# ends above where it started. A queue that grows all year for want of money is not flagged.
RISE_PERIODS = 2.0
SPENT = 0.999  # capital counts as spent at this share of the horizon's or year's (round-off aside)


def end_of_horizon_warnings(inputs: PlanInputs, result: PlanResult) -> list[str]:
    """Warnings for queues that rise at the end of the horizon: DFG works that stop because
    the capital is spent, and care queues planned lean because later waiting is not counted;
    and a note of works that stop within the plan as a financial year's capital is spent
    (optimise/capital_stops.py), which says when a district's stop, where the first warning
    gives only the last district's."""
    warnings = _end_rises(inputs, result)
    if note := capital_year_stops_note(inputs, result):
        warnings.append(note)
    return warnings


def _end_rises(inputs: PlanInputs, result: PlanResult) -> list[str]:
    """The warnings of queues that rise at the end of the horizon (above)."""
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
    stops = _works_stops(inputs, result)
    if works is not None and stops:
        queue = by_period["dfg_works"].to_numpy(dtype=float)
        first = min(stops.values())
        whose = "" if len(stops) == len(inputs.districts) else f" of {', '.join(sorted(stops))}"
        warnings.append(
            f"the DFG capital{whose} is spent by the {period_unit(inputs)} of "
            f"{inputs.period_start[max(stops.values())]:%Y-%m-%d}: no works are completed after "
            f"it, so the works queue rises from {queue[first]:,.0f} to {queue[-1]:,.0f} cases by "
            f"the plan's end ({_not_in_plan(inputs, stops)})"
        )
    elif works is not None:
        risen["dfg_works"] = works
    if risen:
        when = f"{inputs.period_start[-last]:%Y-%m-%d}"
        shown = "; ".join(
            f"{service_name(s)} from {a:,.0f} to {b:,.0f} cases waiting"
            for s, (a, b) in risen.items()
        )
        lean = (
            "waiting after the plan's last period is not counted, so those periods are planned "
            "lean; each run re-plans them with the periods after in view"
        )
        fees = _fees_fall(inputs, result, last)
        warnings.append(
            f"queues rise in the plan's last {last} periods (from {when}) beyond their trend "
            f"before: {shown}. " + (f"{fees}; and {lean}" if fees else lean[:1].upper() + lean[1:])
        )
    return warnings


# A care service's demand "outruns the plan" when the plan serves less than this share of the
# cases arriving over the horizon and its queue ends more than RISE_PERIODS of arrivals above
# where it started: money or staff too short for the demand all year, or demand in the wrong
# units (monthly counts on weekly rows are 4.3 times too high: `_units_hint`), which a plan
# still solves; or waiting weights that make serving it worth nothing (a weight of 0, or OT's
# at or below what its assessments add to the DFG works queue), which no money or staff would
# change: the warning names which, from the plan's binding rows and their prices.
SERVED_SHARE = 0.90


def unserved_demand_warning(inputs: PlanInputs, result: PlanResult) -> str | None:
    """A warning naming each care service whose queue grows all through the plan because it
    serves well under what arrives (the end-of-horizon warning leaves such queues alone), with
    its arrivals, what is served, its queue and its wait at the end; None if there is none."""
    if not len(result.backlog):
        return None
    care = result.backlog[result.backlog["service"] != "dfg_works"]
    periods = len(inputs.period_start)  # the backlog's periods are numbered 1 to this
    start = _starting(inputs)
    served_by = care.groupby("service")["cases_served"].sum()
    per_period = _arrivals_per_period(inputs)
    shown, causes = [], set()
    for service in inputs.services:
        rows = care[care["service"] == service]
        arrived = per_period[service] * periods
        if service == "domcare":  # reablement's completions that need home care join its queue
            arrived += inputs.p_reab_dom * float(served_by.get("reablement", 0.0))
        served = float(rows["cases_served"].sum())
        at_end = rows[rows["period"] == periods]
        queue = float(at_end["backlog_cases"].sum())
        if arrived <= 0 or served >= SERVED_SHARE * arrived:
            continue
        if queue <= start.get(service, 0.0) + RISE_PERIODS * arrived / periods:
            continue
        served_last = float(at_end["cases_served"].sum())
        wait = (
            f"{queue * inputs.period_days / served_last:,.0f} days"
            if served_last > 0
            else "without end (none served)"
        )
        by_limits, cause = _held_back(inputs, result, service)
        causes.add(by_limits)
        shown.append(
            f"{service_name(service)} {arrived / periods:,.0f} cases arriving a "
            f"{period_unit(inputs)}, "
            f"{served / periods:,.0f} served ({int(100 * served / arrived)}%), waiting cases from "
            f"{start.get(service, 0.0):,.0f} to {queue:,.0f}, the wait at the end {wait}, "
            f"held back by {cause}"
        )
    if not shown:
        return None
    said = []
    if True in causes:
        said.append(
            "Where the budget or staff limits hold a service back, they cannot keep up with this "
            f"demand; if it is higher than expected, check its units ({_units_hint(inputs)})"
        )
    if False in causes:
        said.append(
            "Where the objective's weights hold a service back, more money or staff would not "
            "serve it: give it a higher wait weight"
        )
    return "demand outruns the plan all through it: " + "; ".join(shown) + ". " + ". ".join(said)


def _units_hint(inputs: PlanInputs) -> str:
    """The unit slip that makes demand too high on rows of the plan's period: monthly counts on
    weekly rows; on monthly rows, which weekly counts would make too low, a quarter's or a
    year's count (a monthly plan was told of weekly rows, which it has none of)."""
    if inputs.period_days == 7:
        return "monthly counts on weekly rows are 4.3 times too high"
    if period_unit(inputs) == "month":
        return "each row of a monthly series should count one month's referrals, not a quarter's"
    return f"each row should count one period's referrals, {inputs.period_days} days'"


# An hour of a service is worth more to the plan than it costs when its row "hours used <= hours
# paid" is priced above this many times the spend tie-break on its dearest (agency) hour: at or
# below it, one more hour of it would lower the weighted waiting by nothing (the price is then
# only what paying for an hour it does not use would cost), so no budget or staff limit is what
# holds the service back, but the objective's weights.
VALUED_TIMES = 2.0
# What holds a service back is judged period by period: in a period its cases wait (some are
# still waiting at its end), either more of its hours would cut waiting (its row "hours used <=
# hours paid" valued, or a staff limit of it priced, above VALUED_TIMES the tie-break) and the
# budget or staff limits binding then hold it back, or they would go unused and the weights do.
# The cause named is the one of more periods, and the budget and staff limits are counted only
# in the periods they hold it back. On the demo with OT's weights at 1e-06, the revenue budget,
# spent in the last 4 of 52 weeks for other services' sake, priced OT's hours in those weeks
# alone, while OT's cases waited in all 52 and its paid hours sat idle in 19 to 26 weeks per
# team: judged over the whole plan at once, those 4 weeks had named the budget as OT's cause.
# A service whose hours are idle until a late surge of demand that the budget cannot serve is
# held back by the budget: its cases wait only in the weeks of the surge.
WAITING_CASES = 1e-6  # fewer cases waiting than this is the solver's round-off, not a queue
# The limits on a service's hours a plan can be held back by, as its binding rows name them,
# and how each reads.
STAFF_LIMITS = {
    "team_hours_max": "at max_per_period",
    "recruitment_up": "rising as fast as max_change_per_period allows",
    "district_hours_max": "at the district's own max_per_period",
}


def _held_back(inputs: PlanInputs, result: PlanResult, service: str) -> tuple[bool, str]:
    """What holds back a service the plan serves well under its arrivals, judged period by
    period (see WAITING_CASES above): (True, the revenue budgets spent and its staff limits
    reached, in the periods they hold it back) where more of its hours would cut waiting in at
    least as many periods as they would go unused while its cases wait, (False, the
    objective's weights, named, and any periods the limits hold it back) where not."""
    valued = _valued(inputs, result, service)
    held = {int(p) for p in valued["period"]}
    backlog = result.backlog[result.backlog["service"] == service]
    queue = backlog.groupby("period")["backlog_cases"].sum()
    unused = {int(p) for p in queue.index[queue > WAITING_CASES]} - held
    if not held:
        return False, _weights_cause(inputs, service, "")
    kinds, parts = _limits(inputs, result, service, held, set(valued["team"]))
    if len(unused) > len(held):
        periods, unit = len(inputs.period_start), f"{period_unit(inputs)}s"
        limits = f": {', '.join(parts)}" if parts else ""
        return False, _weights_cause(
            inputs,
            service,
            f" in {len(unused)} of the plan's {periods} {unit}, with its cases waiting; in "
            f"{len(held)}, more would cut waiting{limits}",
        )
    if not parts:
        return True, "the config's limits, though no budget or staff limit of it binds alone"
    return True, " and ".join(kinds) + ": " + ", ".join(parts)


def _valued(inputs: PlanInputs, result: PlanResult, service: str) -> pd.DataFrame:
    """The service's binding rows "hours used <= hours paid", and its staff limits, priced
    above VALUED_TIMES the spend tie-break on its dearest hour (or with no price: CBC may give
    none, and then the binding limits alone say): the teams and periods in which more of its
    hours would cut waiting."""
    binding = result.binding
    i = inputs.services.index(service)
    rows = binding[
        binding["constraint"].isin(["team_hours_used", *STAFF_LIMITS])
        & (binding["service"] == service)
    ]
    tie = SPEND_TIE_BREAK_DAYS_PER_GBP * float(inputs.agency_cost_per_hour_gbp[i].max())
    duals = rows["dual"].to_numpy(dtype=float)
    valued: pd.DataFrame = rows[~np.isfinite(duals) | (np.abs(duals) > VALUED_TIMES * tie)]
    return valued


def _limits(
    inputs: PlanInputs, result: PlanResult, service: str, held: set[int], teams: set[str]
) -> tuple[list[str], list[str]]:
    """(['the budget', 'staff limits'] as they bind, each binding limit in words), counting
    only the periods `held` (or their financial years) in which the service's hours are
    valued, and the revenue budgets of `teams`, whose hours they are."""
    parts = _budgets_spent(inputs, result, held, teams)
    kinds = ["the budget"] if parts else []
    binding = result.binding
    limits = binding["constraint"].isin(list(STAFF_LIMITS))
    staff = binding[limits & (binding["service"] == service) & binding["period"].isin(held)]
    for (constraint, team, district), rows in staff.groupby(
        ["constraint", "team", "district"], dropna=False, sort=True
    ):
        whose = f"district {district}'s" if isinstance(district, str) else f"team {team}'s"
        parts.append(
            f"{whose} {service_name(service)} hours {STAFF_LIMITS[str(constraint)]} "
            f"{_in_periods(inputs, rows)}"
        )
    if len(staff):
        kinds.append("staff limits")
    return kinds, parts


def _budgets_spent(
    inputs: PlanInputs, result: PlanResult, held: set[int], teams: set[str]
) -> list[str]:
    """Each revenue budget of `teams` spent in a period of `held` (or in the financial year
    of one), in words."""
    budgets = {
        inputs.budgets[inputs.budget_of_team[inputs.teams.index(t)]]
        for t in teams
        if t in inputs.teams
    }
    years = {inputs.financial_years[inputs.year_of_period[p - 1]] for p in held}
    binding = result.binding
    revenue = binding[binding["constraint"] == "revenue"]
    # the one pooled budget's rows have no budget axis (optimise/budgets.py revenue_axes)
    revenue = revenue.assign(budget=revenue["budget"].fillna(POOLED))
    spent = revenue[
        revenue["budget"].isin(budgets)
        & (revenue["period"].isin(held) | revenue["year"].isin(years))
    ]
    parts = []
    for budget, rows in spent.groupby("budget", sort=True):
        name = "the revenue budget" if budget == POOLED else f"team {budget}'s revenue budget"
        spent_in = sorted(str(y) for y in rows["year"].dropna().unique())
        if len(spent_in) == 1:
            parts.append(f"{name} spent in financial year {spent_in[0]}")
        elif spent_in:
            parts.append(
                f"{name} spent in financial years {', '.join(spent_in[:-1])} and {spent_in[-1]}"
            )
        else:
            parts.append(f"{name} spent {_in_periods(inputs, rows)}")
    return parts


def _in_periods(inputs: PlanInputs, rows: pd.DataFrame) -> str:
    """'in all 16 weeks', 'in 3 of 16 weeks': the periods `rows` are in."""
    n, periods = rows["period"].nunique(), len(inputs.period_start)
    unit = f"{period_unit(inputs)}s"
    return f"in all {periods} {unit}" if n == periods else f"in {n} of {periods} {unit}"


def _weights_cause(inputs: PlanInputs, service: str, unused: str) -> str:
    """The objective's weights that make serving a service worth nothing, in words: OT's
    below what its assessments add to the DFG works queue, a weight of 0, or else its own;
    `unused` says in which periods more of its hours would go unused, where not in all."""
    i = inputs.services.index(service)
    hospital = float(inputs.hospital_delay_weight[i] * inputs.hospital_share[i])
    present = inputs.class_share[i] > 0
    weights = inputs.wait_weight[i][present] + hospital
    named = ", ".join(
        f"{'urgent_wait_weight' if k == 'urgent' else 'wait_weight'} {w:g}"
        for k, w in zip(
            np.asarray(inputs.classes)[present], inputs.wait_weight[i][present], strict=True
        )
    )
    if hospital > 0:
        named += f", plus hospital_delay_weight x hospital_share {hospital:g}"
    moved = inputs.p_ot_dfg * inputs.works_wait_weight
    head = (
        "the objective's weights, not by the budget or staff limits (more of its hours would go "
        f"unused{unused}): "
    )
    if float(weights.max()) == 0:
        return head + f"its weight is 0 ({named}), so its waiting costs the plan nothing"
    if service == "ot" and moved > 0 and float(weights.min()) <= moved * (1 + 1e-12):
        return head + (
            f"each OT case assessed puts p_ot_dfg {inputs.p_ot_dfg:g} of a person in the DFG works "
            f"queue, whose days weigh works_wait_weight {inputs.works_wait_weight:g}: {moved:g} a "
            f"day, at least OT's own ({named}), and the works cannot all be completed (capital or "
            f"max_works_per_period); an OT weight above {moved:g} serves it"
        )
    return head + (
        f"its {named} weighs its waiting at less than serving it costs the plan (the spend "
        "tie-break, or the queues its cases go on to)"
    )


FEE_FALL = 0.10  # fee income this much lower at the end than before is named as a cause


def _fees_fall(inputs: PlanInputs, result: PlanResult, last: int) -> str:
    """'DFG fee income, which pays for staff, falls from GBP 9,557 a week ...' when the
    fees of the last periods are well below those before (works stop when capital is spent, and
    their fees stop with them): the rise is then partly less money. '' otherwise."""
    revenue = result.revenue
    if not len(revenue) or "fee_income_gbp" not in revenue:
        return ""
    fees = revenue.groupby("period")["fee_income_gbp"].sum().to_numpy(dtype=float)
    if len(fees) <= last:
        return ""
    before, end = float(fees[:-last].mean()), float(fees[-last:].mean())
    if before <= 0 or end > (1 - FEE_FALL) * before:
        return ""
    return (
        f"DFG fee income, which pays for staff, falls from GBP {before:,.0f} a "
        f"{period_unit(inputs)} on average before to GBP {end:,.0f} in those periods, as works "
        "stop when the capital is spent (re-planning does not restore it)"
    )


def _not_in_plan(inputs: PlanInputs, stops: dict[str, int]) -> str:
    """Why no capital is left after the works stop, as the config gives capital."""
    if not inputs.capital_per_financial_year:
        return (
            "capital for later periods, such as next year's grant, is not in this plan's "
            "districts' capital_gbp"
        )
    rows = capital_row_of_period(inputs)
    years = sorted({inputs.financial_years[rows[p]] for p in stops.values()})
    return (
        f"their capital_by_year_gbp for {' and '.join(years)} is spent by then, and no later "
        "financial year of the plan gives them more: a later allocation is not in this plan"
    )


def _works_stops(inputs: PlanInputs, result: PlanResult) -> dict[str, int]:
    """{district: its last period with works} for each district whose works stop before the
    last period because its capital is spent: over the horizon, or with capital by financial
    year, the capital of that period's year and of every year after it in the plan."""
    capital = result.capital
    if not len(capital):
        return {}
    grids = {
        name: capital.pivot_table(index="district", columns="period", values=name, aggfunc="sum")
        for name in ("works_completed", "capital_gbp")
    }
    done = grids["works_completed"]
    bounds, rows = capital_bounds(inputs), capital_row_of_period(inputs)
    stops = {}
    for d, district in enumerate(inputs.districts):
        if district not in done.index:
            continue
        working = np.flatnonzero(done.loc[district].to_numpy(dtype=float) > 1e-6)
        if not len(working) or working[-1] >= done.shape[1] - 1:
            continue
        spent = np.zeros(bounds.shape[1])
        np.add.at(spent, rows, grids["capital_gbp"].loc[district].to_numpy(dtype=float))
        last_row = rows[working[-1]]
        if bounds[d, last_row] > 0 and np.all(spent[last_row:] >= SPENT * bounds[d, last_row:]):
            stops[str(district)] = int(working[-1])
    return stops


def period_unit(inputs: PlanInputs) -> str:
    """What a plan's period is called in its warnings: 'week', 'month' for calendar months
    (each period starting on the 1st, 28 to 31 days, as optimise/demand.py checks them), or
    'period' otherwise."""
    if inputs.period_days == 7:
        return "week"
    monthly = inputs.period_days in MONTH_DAYS
    return "month" if monthly and all(ts.day == 1 for ts in inputs.period_start) else "period"


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
