"""Demand risk: what the plan's hours give if referrals come in low or high over the year.

The plan is solved for one demand (the forecast mean, raised in winter periods). Its hours are
then held fixed and evaluated (the fluid model of optimise/fluid.py: urgent cases first, DFG
works at the plan's pace within each district's capital) against two more: the planned demand
of every period multiplied by a low and a high factor, one plus the 10% and 90% quantiles of how
far the forecasts' totals over their backtest windows missed (forecast/totals.py). A period's
own interval would not do: it is mostly that period's noise, which averages out over a year,
while a year that runs high is a level error that persists. Under the plan's own demand the
evaluation reproduces the plan's waits, so the three rows of a district compare like with like.
The same evaluations, period by period, give `risk_periods`: per period (a week or a month),
the high year's extra queue and delayed days, and the contingency: the hours that would serve
the high year's extra arrivals that period so its queues stay as planned, split per team into
what the plan's idle paid hours cover (a team held at its `min_per_period` floor pays for
hours it does not use), what can be bought within the config's limits (the team's
`max_per_period`, `max_change_per_period` and `agency_max_per_period`, each district's own
`hours.<service>.max_per_period`, and the revenue budget the plan leaves unspent; and its
cost), what those limits allow but the budget does not pay for, and what is beyond the
limits; and for DFG works, the capital the extra works
cost. The waiting columns hold the plan's used hours fixed: a team's idle paid hours would
shorten a high year's queues too, which they do not count. All of it evaluates the solved
plan: nothing is solved again.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from optimise.budgets import row_of_period
from optimise.fluid import FluidOutcome, evaluate_hours
from optimise.frames import budget_sum, ratio, team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult

SCENARIOS = ("low", "planned", "high")
# A high year giving more than this many times the planned delayed days in hospital is a plan
# with little slack for demand: the demo's hours (to 2025) give 20,060 against 5,105 (3.9 times),
# and no warning said so. 1.5: a high year (referrals a tenth or so above the forecast) that
# raises the delayed days by half is more than its share; queues near full use rise faster than
# the demand, which is what this flags.
HIGH_DTOC_TIMES = 1.5
WORKS = "dfg_works"
RISK_COLUMNS = [
    "scenario",
    "service",
    "district",
    "new_cases",
    "cases_served",
    "person_days",
    "avg_wait_days",
    "end_backlog_cases",
    "dtoc_days",
]
RISK_PERIOD_COLUMNS = [
    "service",
    "period",
    "ds",
    "planned_waiting_cases",
    "high_waiting_cases",
    "extra_waiting_cases",
    "planned_dtoc_days",
    "high_dtoc_days",
    "extra_cases_arriving",
    "contingency_hours",
    "contingency_cost_gbp",
    "idle_paid_hours_used",
    "extra_hours_within_limits",
    "hours_beyond_limits",
    "hours_beyond_budget",
    "cost_beyond_budget_gbp",
    "contingency_capital_gbp",
]
# The staffing table's columns (per service, team and period) the contingency's split reads.
STAFFING_COLUMNS = ("staff_hours", "agency_hours", "hours_used", "max_hours", "agency_max_hours")


@dataclass(frozen=True)
class DemandRisk:
    """The plan's hours against low and high demand: whole-horizon totals per scenario,
    service and district (`demand_risk`), and per period and service the planned and high
    years' waiting and delayed days and the high year's contingency (`risk_periods`), both
    from one evaluation per scenario."""

    totals: pd.DataFrame
    periods: pd.DataFrame


def scenario_demand(inputs: PlanInputs) -> dict[str, Array] | None:
    """Demand (S, D, T) per scenario, or None when the demand gave no low and high factors."""
    low, high = inputs.demand_low_factor, inputs.demand_high_factor
    if low is None or high is None:
        return None
    planned = inputs.demand_cases
    return {
        "low": planned * low[:, :, None],
        "planned": planned,
        "high": planned * high[:, :, None],
    }


def demand_risk(inputs: PlanInputs, result: PlanResult, hours: Array) -> pd.DataFrame:
    """Per scenario, service (and DFG works) and district: new cases, cases served, person-days
    waiting, average wait (person-days over cases served, as the plan's district waits), the
    backlog left at the end of the horizon and delayed (DTOC) days, for the plan's `hours`
    (S, D, T). Empty when the plan was not solved or the demand has no low and high factors."""
    return evaluate_risk(inputs, result, hours).totals


def evaluate_risk(inputs: PlanInputs, result: PlanResult, hours: Array) -> DemandRisk:
    """`demand_risk`'s totals and, from the same evaluations, `risk_periods`: per service (and
    DFG works, summed over districts) and period, the cases waiting at the period's end and
    the delayed days in it, planned and high, and the contingency a high year needs
    (`contingency_cases`, split per team by `contingency_split`). Both empty, with their
    columns, where `demand_risk` is."""
    demands = scenario_demand(inputs)
    if demands is None or not result.ok:
        empty = pd.DataFrame(columns=RISK_PERIOD_COLUMNS)
        return DemandRisk(pd.DataFrame(columns=RISK_COLUMNS), empty)
    districts = len(inputs.districts)
    works = result.capital["works_completed"].to_numpy().reshape(districts, -1)
    outcomes = {
        name: evaluate_hours(_with_demand(inputs, demands[name]), hours, works)
        for name in SCENARIOS
    }
    frames = [_rows(inputs, outcomes[name], name) for name in SCENARIOS]
    totals = pd.concat(frames, ignore_index=True)[RISK_COLUMNS]
    periods = _period_rows(inputs, outcomes["planned"], outcomes["high"])
    extra = contingency_cases(inputs, demands["high"] - demands["planned"])
    return DemandRisk(totals, _with_contingency(inputs, result, periods, extra, hours))


def budget_headroom(inputs: PlanInputs, result: PlanResult) -> Array:
    """(B, T) GBP: each budget's revenue left unspent by the plan in each period (its
    `revenue_by_budget` rows' `headroom_gbp`: budget less net cost)."""
    shape = (len(inputs.budgets), len(inputs.period_start))
    return result.revenue_by_budget["headroom_gbp"].to_numpy(dtype=float).reshape(shape)


def _with_demand(inputs: PlanInputs, demand: Array) -> PlanInputs:
    return replace(inputs, demand_cases=demand)


def _rows(inputs: PlanInputs, outcome: FluidOutcome, scenario: str) -> pd.DataFrame:
    days = inputs.period_days
    backlog = outcome.backlog.sum(axis=3)  # (S, D, T)
    waited = np.concatenate([backlog.sum(axis=2), outcome.works_backlog.sum(axis=1)[None]])
    done = np.concatenate([outcome.served.sum(axis=2), outcome.works_done.sum(axis=1)[None]])
    dtoc = (backlog.sum(axis=2) * inputs.hospital_share[:, None]) * days
    index = pd.MultiIndex.from_product(
        [[*inputs.services, WORKS], list(inputs.districts)], names=["service", "district"]
    )
    frame = index.to_frame(index=False)
    frame.insert(0, "scenario", scenario)
    frame["new_cases"] = np.concatenate(
        [outcome.arrivals.sum(axis=2), outcome.works_referred.sum(axis=1)[None]]
    ).ravel()
    frame["cases_served"] = done.ravel()
    frame["person_days"] = (waited * days).ravel()
    frame["avg_wait_days"] = ratio(waited * days, done).ravel()
    frame["end_backlog_cases"] = np.concatenate(
        [backlog[:, :, -1], outcome.works_backlog[:, -1][None]]
    ).ravel()
    frame["dtoc_days"] = np.concatenate([dtoc, np.zeros((1, dtoc.shape[1]))]).ravel()
    return frame


def _period_rows(inputs: PlanInputs, planned: FluidOutcome, high: FluidOutcome) -> pd.DataFrame:
    """Per service (then dfg_works) and period: the planned and high years' cases waiting at
    the period's end and delayed days in it, over every district."""
    starts = list(inputs.period_start)
    index = pd.MultiIndex.from_product(
        [[*inputs.services, WORKS], range(1, len(starts) + 1)], names=["service", "period"]
    )
    frame = index.to_frame(index=False)
    frame["ds"] = starts * (len(inputs.services) + 1)
    for name, outcome in (("planned", planned), ("high", high)):
        frame[f"{name}_waiting_cases"] = _waiting(outcome).ravel()
    frame["extra_waiting_cases"] = frame["high_waiting_cases"] - frame["planned_waiting_cases"]
    for name, outcome in (("planned", planned), ("high", high)):
        frame[f"{name}_dtoc_days"] = _delayed_days(inputs, outcome).ravel()
    return frame


def _with_contingency(
    inputs: PlanInputs, result: PlanResult, frame: pd.DataFrame, extra: Array, hours: Array
) -> pd.DataFrame:
    """`frame` with the contingency columns from `extra` (S + 1, D, T) cases: the hours at
    each service's hours_per_case and their split (`contingency_split`, against the plan's
    `hours` (S, D, T) per district), summed over teams;
    DFG works have no hours (NaN, null when served), paid from capital: the extra works at
    each district's capital per works case (`inputs.cost_per_adaptation_gbp`: the config's
    cost plus the period's fee where it is charged to the grant), summed; care services have no
    capital (NaN)."""
    cases = extra.sum(axis=1)
    headroom = budget_headroom(inputs, result)
    split = contingency_split(inputs, result.staffing, extra[:-1], headroom, hours)
    no_hours = np.full((1, cases.shape[1]), np.nan)
    capital = (extra[-1] * inputs.cost_per_adaptation_gbp).sum(axis=0)
    no_capital = np.full((len(inputs.services), cases.shape[1]), np.nan)
    staff = {
        name: np.concatenate([grid.sum(axis=1), no_hours]).ravel() for name, grid in split.items()
    }
    return frame.assign(
        extra_cases_arriving=cases.ravel(),
        **staff,
        contingency_capital_gbp=np.concatenate([no_capital, capital[None]]).ravel(),
    )[RISK_PERIOD_COLUMNS]


def contingency_split(
    inputs: PlanInputs,
    staffing: pd.DataFrame,
    extra: Array,
    headroom_gbp: Array,
    district_hours: Array,
) -> dict[str, Array]:
    """The contingency of `extra` (S, D, T) cases per service, team and period (S, G, T):
    `contingency_hours`, the hours they need (times hours_per_case). A district with its own
    ceiling (`district_hours_max`, the LP's district_hours_max rows) can take no more than
    that ceiling less the plan's `district_hours` (S, D, T) for it that period (0 where the
    plan is at it; `district_room`): the rest of its need is beyond the limits, whatever its
    team has. Of the need within that room, `idle_paid_hours_used` is
    the part the team's paid but unused hours cover that period (staff plus agency hours
    above hours used, as a `min_per_period` floor leaves them), at no extra cost; of the
    rest, the team's limits allow in-house hours up to `max_per_period` and as far as
    `max_change_per_period` lets the period's staff hours rise (`ramp_room`), then agency
    hours to `agency_max_per_period`; `hours_beyond_limits`, what they do not allow. Of the
    hours the limits allow, `extra_hours_within_limits` are those the revenue budget the plan
    leaves, `headroom_gbp` (B, T) GBP, pays for (`funded_share`), and `hours_beyond_budget`
    the others; `contingency_cost_gbp` and `cost_beyond_budget_gbp` price each at
    cost_per_hour_gbp and agency_cost_per_hour_gbp, before charge income. `staffing` is the
    plan's staffing table (STAFFING_COLUMNS)."""
    shape = (len(inputs.services), len(inputs.teams), len(inputs.period_start))
    grid = {c: staffing[c].to_numpy(dtype=float).reshape(shape) for c in STAFFING_COLUMNS}
    per_district = extra * inputs.hours_per_case[:, None, None]
    need = team_sum(inputs, per_district)
    reachable = need
    if inputs.district_hours_max is not None:
        room_left = district_room(inputs, district_hours)
        reachable = team_sum(inputs, np.minimum(per_district, room_left))
    paid = grid["staff_hours"] + grid["agency_hours"]
    idle = np.minimum(reachable, np.maximum(paid - grid["hours_used"], 0.0))
    ceiling = np.maximum(grid["max_hours"] - grid["staff_hours"], 0.0)
    in_house = np.minimum(
        reachable - idle, np.minimum(ceiling, ramp_room(inputs, grid["staff_hours"]))
    )
    room = np.maximum(grid["agency_max_hours"] - grid["agency_hours"], 0.0)
    agency = np.minimum(reachable - idle - in_house, room)
    cost = (
        in_house * inputs.cost_per_hour_gbp[:, None, :]
        + agency * inputs.agency_cost_per_hour_gbp[:, None, :]
    )
    share = funded_share(inputs, cost, in_house + agency, idle, headroom_gbp)
    share = share[inputs.budget_of_team][None]  # (1, G, T): a team's budget's share
    return {
        "contingency_hours": need,
        "contingency_cost_gbp": cost * share,
        "idle_paid_hours_used": idle,
        "extra_hours_within_limits": (in_house + agency) * share,
        "hours_beyond_limits": need - idle - in_house - agency,
        "hours_beyond_budget": (in_house + agency) * (1.0 - share),
        "cost_beyond_budget_gbp": cost * (1.0 - share),
    }


def district_room(inputs: PlanInputs, district_hours: Array) -> Array:
    """(S, D, T) hours: how many more hours each district's cases of a service may be served
    with each period under its own ceiling (the LP's district_hours_max rows,
    sum_k hours_per_case * x <= `districts[].hours.<service>.max_per_period`): the ceiling
    less the plan's `district_hours` (S, D, T), never below 0 (a plan at its ceiling, to the
    solver's round-off, has none); inf where the district gives no ceiling."""
    cap = inputs.district_hours_max
    if cap is None:
        return np.full_like(district_hours, np.inf)
    return np.maximum(cap[:, :, None] - district_hours, 0.0)


def ramp_room(inputs: PlanInputs, staff_hours: Array) -> Array:
    """(S, G, T) hours: how far each period's staff hours may rise above the plan's
    `staff_hours` (S, G, T) under the LP's recruitment rows, |e[t] - e[t-1]| <= the team's
    max_change_per_period (the first period against current_per_period where it is given),
    with the neighbouring periods' hours held at the plan's: the rise from the period
    before, and the fall to the period after, each stay within the limit. Any choice of
    extra hours within these bounds, in any periods together, keeps every row: a rise in
    the period before only narrows the step up, a rise in the period after only narrows the
    step down. It is a sound bound, not the most a planner could add: one who keeps extra
    hours on for several periods can step up further each period, which only a path over
    the whole horizon (another LP) would find. inf where no limit applies."""
    limit = inputs.max_change_hours[:, :, None]
    before = np.concatenate([inputs.current_hours[:, :, None], staff_hours[:, :, :-1]], axis=2)
    after = np.concatenate([staff_hours[:, :, 1:], np.full_like(staff_hours[:, :, :1], np.nan)], 2)
    rise = np.fmin(limit - (staff_hours - before), limit - (staff_hours - after))  # nan: none
    return np.maximum(np.where(np.isnan(rise), np.inf, rise), 0.0)


def funded_share(
    inputs: PlanInputs, cost_gbp: Array, bought_hours: Array, idle_hours: Array, headroom: Array
) -> Array:
    """(B, T): the share of the hours the teams' limits allow to be bought, `bought_hours`
    (S, G, T) costing `cost_gbp` (S, G, T), that each budget's money left pays for, as the
    LP's revenue rows count it: per budget and period, or per financial year under
    `revenue_budget_basis: financial_year`, the plan's `headroom` (B, T) GBP (a row's sum,
    0 where it is overspent) pays the period's cost less the charge income of every hour of
    contingency served (`idle_hours`, already paid for, as well), period by period in order,
    as a planner facing a high year spends as it comes. A period the money left cannot pay
    for in full gets the same share of each of its teams' and services' hours."""
    charge = inputs.charge_income_gbp_per_hour[:, None, :]  # (S, 1, T): each period's
    net = budget_sum(inputs, (cost_gbp - charge * bought_hours).sum(axis=0), "team")
    income = budget_sum(inputs, (charge * idle_hours).sum(axis=0), "team")
    rows = row_of_period(inputs)
    left = np.zeros((headroom.shape[0], int(rows.max()) + 1))
    np.add.at(left.T, rows, headroom.T)
    left = np.maximum(left, 0.0)
    share = np.ones_like(net)
    for t, r in enumerate(rows):
        money = left[:, r] + income[:, t]
        short = net[:, t] > money
        share[:, t] = np.where(short, money / np.where(short, net[:, t], 1.0), 1.0)
        left[:, r] = money - share[:, t] * net[:, t]
    return share


def contingency_cases(inputs: PlanInputs, extra_demand: Array) -> Array:
    """The extra new cases (S + 1, D, T) each service and the DFG works queue get in a high
    year when every extra case is served in the period it arrives (the contingency's premise,
    which keeps every service's queue as planned): `extra_demand` (S, D, T), high less
    planned referrals, plus the knock-ons of serving them, as the fluid model routes them:
    `p_reab_dom` of reablement's extra cases reach home care the period after, and `p_ot_dfg`
    of OT's are referred for DFG works the same period."""
    cases = np.array(extra_demand, dtype=np.float64)
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    if reab is not None and dom is not None:
        cases[dom, :, 1:] += inputs.p_reab_dom * extra_demand[reab, :, :-1]
    ot = inputs.service_index("ot")
    works = np.zeros(cases.shape[1:]) if ot is None else inputs.p_ot_dfg * cases[ot]
    return np.concatenate([cases, works[None]])


def _waiting(outcome: FluidOutcome) -> Array:
    """Cases waiting at each period's end (S + 1, T): each service's over its districts and
    classes, then the DFG works'."""
    services = outcome.backlog.sum(axis=(1, 3))
    return np.concatenate([services, outcome.works_backlog.sum(axis=0)[None]])


def _delayed_days(inputs: PlanInputs, outcome: FluidOutcome) -> Array:
    """Delayed days in hospital in each period (S + 1, T), as `_rows` counts them; none for
    DFG works."""
    services = outcome.backlog.sum(axis=(1, 3)) * inputs.hospital_share[:, None]
    return np.concatenate([services * inputs.period_days, np.zeros((1, services.shape[1]))])


def demand_risk_warning(risk: pd.DataFrame) -> str | None:
    """A warning when the plan's hours give over HIGH_DTOC_TIMES the planned delayed days in
    hospital if referrals come in high (the `demand_risk` rows of `demand_risk`); None
    otherwise, with no risk rows, or with no delayed days planned (no ratio to give)."""
    if risk.empty:
        return None
    dtoc = risk.groupby("scenario")["dtoc_days"].sum()
    low, planned, high = (float(dtoc.get(name, 0.0)) for name in SCENARIOS)
    if planned <= 0 or high <= HIGH_DTOC_TIMES * planned:
        return None
    # a ratio to a planned figure under one day (756,786.6 times "0") says nothing
    times = f"{high / planned:,.1f} times the" if planned >= 1 else "against"
    return (
        f"if referrals come in high, the plan's hours give {high:,.0f} delayed days in hospital "
        f"(DTOC), {times} {planned:,.0f} planned (low: {low:,.0f}): its "
        "hours leave little room for a high year. See the demand_risk table for the services "
        "and districts, and hold reserve hours (agency, or teams' max_per_period above the "
        "plan's) for them; the planned figure is the LP's, and its queue simulation's "
        "(simulated_dtoc_days) is the one to expect"
    )


def beyond_limits_warning(periods: pd.DataFrame) -> str | None:
    """A warning when a high year's contingency (the `risk_periods` rows) needs hours beyond
    the teams' max_per_period, max_change_per_period and agency_max_per_period, or a
    district's own max_per_period; None otherwise."""
    beyond = _by_service(periods, "hours_beyond_limits")
    if beyond is None:
        return None
    need = float(periods["contingency_hours"].sum())
    return (
        f"if referrals come in high, {beyond.sum():,.0f} of the {need:,.0f} contingency hours "
        f"a high year needs ({_named(beyond)}) are beyond the teams' max_per_period, "
        "max_change_per_period and agency_max_per_period, or their districts' own "
        "max_per_period: the config allows no more hours to buy for them (see the "
        "risk_periods table's hours_beyond_limits)"
    )


def beyond_budget_warning(periods: pd.DataFrame) -> str | None:
    """A warning when a high year's contingency (the `risk_periods` rows) needs hours the
    teams' limits allow but the revenue budget the plan leaves does not pay for; None
    otherwise."""
    beyond = _by_service(periods, "hours_beyond_budget")
    if beyond is None:
        return None
    cost = float(periods["cost_beyond_budget_gbp"].sum())
    return (
        f"if referrals come in high, buying the {beyond.sum():,.0f} contingency hours the "
        f"teams' limits allow but the plan's budget does not cover ({_named(beyond)}) would "
        f"overspend the revenue budget by up to GBP {cost:,.0f} (their cost before the charge "
        "income they bring): the budget the plan leaves unspent pays only for "
        "extra_hours_within_limits (see the risk_periods table's hours_beyond_budget and "
        "cost_beyond_budget_gbp)"
    )


def _by_service(periods: pd.DataFrame, column: str) -> pd.Series | None:
    """`column` summed per service, the services with more than half an hour of it (under
    that is round-off, not a shortfall); None where none has (or the table lacks it)."""
    if periods.empty or column not in periods:
        return None
    hours = periods.groupby("service")[column].sum()
    hours = hours[hours > 0.5]
    return None if hours.empty else hours


def _named(hours: pd.Series) -> str:
    return ", ".join(f"{service} {value:,.0f}" for service, value in hours.items())
