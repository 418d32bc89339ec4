"""Baselines at the plan's own staff spend per budget: hours in proportion to demand, and
staffing carried forward from the first period, each evaluated by the same fluid model as the
plan's hours, with DFG works at the plan's pace (capital timing is the plan's; unused pace
carries forward).

A baseline keeps every staffing limit the plan keeps, in one sentence: **each team's staff
hours follow the simple rule, but start from the team's current hours and change by no more
than its recruitment limit a period, never below its floor nor above its ceiling, and a
budget never spends more in a period than the plan spent from it.** The rule
(`keep_staffing_limits`) walks forward a period at a time: each team's hours move toward the
simple rule's hours as far as the limits allow; where the plan's spend in the period cannot
pay for that (hours that may only come down slowly cost more than the rule's), every team of
the budget is scaled down by the same factor toward the rule's hours, with room kept to make
the cuts later periods' spend needs in time. That is always possible when the plan itself
keeps the limits: going down as fast as the limits allow is the cheapest way on from any
staffing, and the plan's own staffing costs at least that much in every period.

Before, the baselines kept floors and ceilings but not the recruitment limits: the money the
plan had to spend on agency hours while its teams were still recruiting bought in-house
hours at once, and on about 1 random plan in 90 a baseline "beat" the plan by hiring faster
than the plan is allowed to.

What a baseline does not match is the plan's income: it spends the plan's staff money but
earns the DFG fees and care charges of its own hours, which may be less, so it can be over
the plan's budget net of income (on random instances with recruitment limits, about one
baseline in ten to fifteen, by up to a few thousand GBP in a period or year). Such a baseline
is not a plan the LP could have chosen; none of them, in 1,440 of them, waited less than the
plan.

Where the plan is `infeasible_relaxed` it breaks a limit itself, and so may the baselines:
where limits conflict, floors and the limit on cuts win over ceilings and the limit on
hiring, and a budget spends what the least staffing left to it costs where that is more than
the plan spent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

from optimise.fluid import evaluate_hours
from optimise.frames import budget_sum, team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult

BASELINE_COLUMNS = [
    "name",
    "weighted_wait_days",
    "dtoc_days",
    "staff_cost_gbp",
    "agency_cost_gbp",
    "vs_plan_pct",
]


def compare_baselines(inputs: PlanInputs, result: PlanResult) -> pd.DataFrame:
    """One row each for the plan and the two baselines: weighted waiting days, DTOC days and
    what each pays, as the plan's `revenue` rows define it: `staff_cost_gbp` for in-house
    staff hours at the in-house rate (every hour of a team's floor is paid, used or not) and
    `agency_cost_gbp` for agency hours at the agency rate. The plan's row is its revenue rows
    summed; the baselines hire in-house only (their hours are capped at each team's maximum
    staff hours), so their agency cost is 0."""
    if not result.ok:
        return pd.DataFrame(columns=BASELINE_COLUMNS)
    money = _money(inputs, result)
    planned = plan_hours(inputs, result.hours)
    rows = [
        ("plan", planned),
        ("proportional_to_demand", proportional_hours(inputs, money)),
        ("carried_forward", carried_forward_hours(inputs, money)),
    ]
    works = result.capital["works_completed"].to_numpy().reshape(len(inputs.districts), -1)
    plan_days = evaluate_hours(inputs, planned, works).weighted_wait_days
    out = []
    for name, hours in rows:
        outcome = evaluate_hours(inputs, hours, works)
        staff, agency = _plan_costs(result) if name == "plan" else (_staff_cost(inputs, hours), 0.0)
        change = 100.0 * (outcome.weighted_wait_days / plan_days - 1.0) if plan_days > 0 else 0.0
        out.append((name, outcome.weighted_wait_days, outcome.dtoc_days, staff, agency, change))
    return pd.DataFrame(out, columns=BASELINE_COLUMNS)


# A baseline with this share fewer delayed days in hospital than the plan is worth a word:
# the plan traded them for less waiting elsewhere, at the config's weights.
FEWER_DTOC = 0.10


def dtoc_trade_warning(inputs: PlanInputs, baselines: pd.DataFrame) -> str | None:
    """A warning when a simple allocation (a baseline row) has well fewer DTOC days than the
    plan: the plan minimises weighted waiting over every service, so it can keep more people
    waiting in hospital to cut other queues; what it weighs a hospital day at, and how to value
    it more. None when no baseline has fewer by FEWER_DTOC."""
    rows = {
        str(name): (float(days), float(more))
        for name, days, more in baselines[["name", "dtoc_days", "vs_plan_pct"]].itertuples(
            index=False
        )
    }
    plan = rows.pop("plan", (float("nan"), 0.0))[0]
    fewer = {name: row for name, row in rows.items() if row[0] < (1 - FEWER_DTOC) * plan}
    if not fewer:
        return None
    best = min(fewer, key=lambda name: fewer[name][0])
    days, more = fewer[best]
    weights = ", ".join(
        f"{s} {w:g} + {h:g}"
        for s, w, h in zip(
            inputs.services, _standard_weights(inputs), inputs.hospital_delay_weight, strict=True
        )
        if h > 0
    )
    return (
        f"the plan has {plan:,.0f} delayed days in hospital (DTOC), more than the "
        f"{best.replace('_', ' ')} allocation's {days:,.0f}, which has {more:.0f}% more "
        "weighted waiting: the plan "
        "minimises weighted waiting over every service, and weighs a day in hospital at the "
        f"service's wait_weight plus its hospital_delay_weight ({weights}); raise "
        "hospital_delay_weight to value hospital days more"
    )


def _standard_weights(inputs: PlanInputs) -> list[float]:
    """Each service's wait weight for a standard (non-urgent) case."""
    return [float(inputs.wait_weight[i, -1]) for i in range(len(inputs.services))]


def _plan_costs(result: PlanResult) -> tuple[float, float]:
    """The plan's in-house staff and agency cost over the horizon: its revenue rows summed."""
    revenue = result.revenue
    return float(revenue["staff_cost_gbp"].sum()), float(revenue["agency_cost_gbp"].sum())


def _staff_cost(inputs: PlanInputs, hours: Array) -> float:
    """What a baseline's hours (S, D, T), all in-house, cost: each team's hours, or its floor
    where they fall below it (floor hours are paid whether used or not), at the in-house rate."""
    paid = np.maximum(team_sum(inputs, hours), inputs.hours_min[:, :, None])
    return _at_rates(paid, inputs.cost_per_hour_gbp)


def _at_rates(hours: Array, rate: Array) -> float:
    """GBP: `hours` (S, G, T) at `rate` (S, T), the periods with the same rates summed together
    (a config with one rate a service, or a plan within one financial year: all of them, as
    one rate a service was, to the bit)."""
    rates, group = np.unique(rate.T, axis=0, return_inverse=True)
    if len(rates) == 1:
        return float(np.einsum("sgt,s->", hours, rates[0]))
    group = group.ravel()
    return sum(float(np.einsum("sgt,s->", hours[:, :, group == k], r)) for k, r in enumerate(rates))


def _money(inputs: PlanInputs, result: PlanResult) -> Array:
    """The plan's staff and agency spend per budget and period, (B, T): baselines spend the
    same money from the same budgets (a team's own budget never pays another team's staff)."""
    frame = result.revenue_by_budget
    spend = frame["staff_cost_gbp"].to_numpy() + frame["agency_cost_gbp"].to_numpy()
    return np.asarray(spend.reshape(inputs.revenue_budget_gbp.shape), dtype=np.float64)


def proportional_hours(inputs: PlanInputs, money_gbp: Array) -> Array:
    """Each budget's money (B, T) shared over its districts and services in proportion to the
    cost of the forecast demand, but never below a team's floor (its floor hours are paid
    whether used or not, so a baseline uses them), then capped at each team's maximum hours.
    (S, D, T)."""
    return keep_staffing_limits(inputs, _proportional_rule(inputs, money_gbp), money_gbp)


def _proportional_rule(inputs: PlanInputs, money_gbp: Array) -> Array:
    wanted = expected_arrivals(inputs) * inputs.hours_per_case[:, None, None]
    return _cap_to_teams(inputs, _spend(inputs, wanted, money_gbp, scale_up=True))


def expected_arrivals(inputs: PlanInputs) -> Array:
    """Cases expected to arrive per service, district and period (S, D, T): the forecast
    demand, plus for domiciliary care the share of the previous period's reablement demand
    that needs ongoing care (`p_reab_dom`, the LP's flow, with reablement's demand standing in
    for its completions; for the first period, its own reablement demand). A baseline sized
    on referrals alone starved home care of the cases reablement sends it (64 arriving a week
    against 40 referred, on the demo), and the carried-forward one all year."""
    arrivals = np.array(inputs.demand_cases, dtype=np.float64)
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    if reab is not None and dom is not None:
        # the first period's from the period before the plan, as if demand were steady: the
        # carried-forward baseline holds the first period's staffing all year
        previous = np.concatenate(
            [inputs.demand_cases[reab, :, :1], inputs.demand_cases[reab, :, :-1]], axis=1
        )
        arrivals[dom] += inputs.p_reab_dom * previous
    return arrivals


def carried_forward_hours(inputs: PlanInputs, money_gbp: Array) -> Array:
    """The first period's staffing (current hours where known, else the proportional split)
    held for every period, scaled down where it costs more than that period's money (never
    below a team's floor); then within the recruitment limits (`keep_staffing_limits`)."""
    first = _proportional_rule(inputs, money_gbp)[:, :, :1]
    current = _current_split(inputs)
    first = np.where(np.isnan(current), first, current)
    hours = np.repeat(first, len(inputs.period_start), axis=2)
    rule = _cap_to_teams(inputs, _spend(inputs, hours, money_gbp, scale_up=False))
    return keep_staffing_limits(inputs, rule, money_gbp)


def keep_staffing_limits(inputs: PlanInputs, hours: Array, money_gbp: Array) -> Array:
    """A rule's hours (S, D, T) walked forward within every staffing limit the plan keeps.

    Period by period, each team's staff hours are the rule's, times a factor per budget (at
    most 1), kept within [floor, ceiling] and within the recruitment limit of the period
    before (of the current hours in the first period, where those are known); the factor is
    the largest at which the budget spends no more than `money_gbp` (B, T) in this period and
    could still, by cutting as fast as the limits allow, spend no more than it in every later
    period. A team's hours go to its districts as the rule's do. Without recruitment limits
    this is the rule's hours unchanged (they already keep floors, ceilings and the money)."""
    rule = team_sum(inputs, hours)  # (S, G, T)
    money = np.atleast_2d(money_gbp)  # (B, T)
    staff = np.empty_like(rule)
    limit = inputs.max_change_hours
    known = np.isfinite(inputs.current_hours) & np.isfinite(limit)
    previous = np.where(known, inputs.current_hours, np.nan)  # (S, G); nan: no limit yet
    for t in range(rule.shape[2]):
        period = _Period(inputs, previous, money[:, t:], inputs.cost_per_hour_gbp[:, t:])
        staff[:, :, t] = period.staff(rule[:, :, t])
        previous = staff[:, :, t]
    return _share_out(inputs, hours, staff)


class _Period:
    """One period of the walk: the hours each team may have (within its floor, ceiling and
    recruitment limits from `previous`, (S, G), nan where no limit applies yet) and what each
    budget may spend in it and after (`money`, (B, 1 + later periods)), an hour costing `rate`
    (S, 1 + later periods) in each."""

    def __init__(self, inputs: PlanInputs, previous: Array, money: Array, rate: Array) -> None:
        self.inputs = inputs
        self.rate = rate
        floor, ceiling, limit = inputs.hours_min, inputs.hours_max, inputs.max_change_hours
        held = np.isfinite(previous) & np.isfinite(limit)
        self.low = np.where(held, np.maximum(floor, previous - limit), floor)
        high = np.where(held, np.minimum(ceiling, previous + limit), ceiling)
        self.high = np.maximum(high, self.low)  # only where the plan itself relaxed a limit
        self.steps = np.arange(1, money.shape[1], dtype=np.float64)[:, None, None]  # (K, 1, 1)
        # The money, or the least the budget can spend from here where that is more (a plan
        # at a floor within the solver's tolerance, or one that had to relax a limit).
        self.allowed = np.maximum(money, self.spend(self.low))

    def spend(self, staff: Array) -> Array:
        """(B, 1 + K) GBP: in this period with `staff` (S, G), then in each later one
        cutting as fast as the limits allow (the cheapest way on from `staff`)."""
        inputs = self.inputs
        cheapest = np.maximum(inputs.hours_min, staff - self.steps * inputs.max_change_hours)
        hours = np.concatenate([staff[None], cheapest])  # (1 + K, S, G)
        per_team = np.einsum("ksg,sk->gk", hours, self.rate)
        return budget_sum(self.inputs, per_team, "team")

    def staff(self, rule: Array) -> Array:
        """The rule's hours (S, G) times the largest factor per budget that fits."""
        factor = _largest(lambda f: self._fits(f, rule), len(self.inputs.budgets))
        return self._scaled(factor, rule)

    def _scaled(self, factor: Array, rule: Array) -> Array:
        scaled = factor[self.inputs.budget_of_team][None] * rule
        return np.asarray(np.clip(scaled, self.low, self.high), dtype=np.float64)

    def _fits(self, factor: Array, rule: Array) -> Array:
        spent = self.spend(self._scaled(factor, rule))
        return np.asarray((spent <= self.allowed).all(axis=1))


def _largest(fits: Callable[[Array], Array], budgets: int) -> Array:
    """Per budget, the largest factor in [0, 1] that fits (0 where none does), by bisection:
    `fits` holds for every factor below one that fits."""
    one = np.ones(budgets)
    done = fits(one)
    if done.all():
        return one
    low, high = np.zeros(budgets), one
    for _ in range(_BISECTIONS):
        middle = (low + high) / 2
        ok = fits(middle)
        low, high = np.where(ok, middle, low), np.where(ok, high, middle)
    return np.where(done, one, low)


def _spend(inputs: PlanInputs, hours: Array, money_gbp: Array, scale_up: bool) -> Array:
    """`hours` (S, D, T) scaled, per budget and period, by the factor at which its teams'
    hours, each raised to its floor, cost that budget's money; the factor at most 1 unless
    `scale_up`. A team's floor hours go to its districts as its hours do (evenly where it
    has none). Without floors this is `hours` x money / their cost.

    Before, the split ignored floors and the floor was paid on top: with floors a baseline
    spent more than the plan's money ("at the same staff spend") on hours it left idle while
    cases waited."""
    team = team_sum(inputs, hours)  # (S, G, T)
    floor = np.broadcast_to(inputs.hours_min[:, :, None], team.shape)
    cost = inputs.cost_per_hour_gbp[:, None, :]  # (S, 1, T): each period's rate
    money = np.atleast_2d(money_gbp)  # (B, T)

    def spend(factor: Array) -> Array:  # (B, T) -> (B, T) GBP
        paid = np.maximum(floor, factor[inputs.budget_of_team][None] * team) * cost
        return np.asarray(budget_sum(inputs, paid.sum(axis=0), "team"), dtype=np.float64)

    linear = budget_sum(inputs, (team * cost).sum(axis=0), "team")
    with np.errstate(over="ignore"):  # money / a denormal cost: no cost, as far as it goes
        ratio = np.divide(money, linear, out=np.full_like(money, _NO_COST), where=linear > 0)
    high = np.minimum(ratio, _NO_COST)
    low = np.zeros_like(high)
    for _ in range(_BISECTIONS):  # spend() rises with the factor: bisect for the money
        middle = (low + high) / 2
        fits = spend(middle) <= money
        low, high = np.where(fits, middle, low), np.where(fits, high, middle)
    factor = low if scale_up else np.minimum(low, 1.0)
    raised = np.maximum(floor, factor[inputs.budget_of_team][None] * team)  # (S, G, T)
    return _share_out(inputs, hours, raised)


def _share_out(inputs: PlanInputs, hours: Array, team_hours: Array) -> Array:
    """Teams' hours (S, G, T) shared over their districts as `hours` (S, D, T) are (evenly
    where a team has none)."""
    team = team_sum(inputs, hours)
    members = np.bincount(inputs.team_of_district, minlength=len(inputs.teams))
    even = np.broadcast_to(1.0 / members[inputs.team_of_district][None, :, None], hours.shape)
    of_team = team[:, inputs.team_of_district]
    share = np.where(of_team > 0, hours / np.where(of_team > 0, of_team, 1.0), even)
    return np.asarray(share * team_hours[:, inputs.team_of_district], dtype=np.float64)


_NO_COST = 1e12  # the factor for hours that cost nothing: the teams' maximum hours cap them
_BISECTIONS = 100


def _current_split(inputs: PlanInputs) -> Array:
    """Teams' current hours shared over their districts by first-period demand, (S, D, 1)."""
    demand = expected_arrivals(inputs)[:, :, 0]
    team_demand = team_sum(inputs, demand[:, :, None])[:, :, 0]
    of_team = team_demand[:, inputs.team_of_district]
    share = np.where(of_team > 0, demand / np.where(of_team > 0, of_team, 1.0), 0.0)
    return (share * inputs.current_hours[:, inputs.team_of_district])[:, :, None]


def _cap_to_teams(inputs: PlanInputs, hours: Array) -> Array:
    used = team_sum(inputs, hours)
    cap = np.broadcast_to(inputs.hours_max[:, :, None], used.shape)
    over = used > cap  # divide only there: cap / a denormal number of hours overflows
    scale = np.divide(cap, used, out=np.ones_like(used), where=over)
    return hours * scale[:, inputs.team_of_district, :]


def plan_hours(inputs: PlanInputs, hours: pd.DataFrame) -> Array:
    """A plan's `hours` rows as an (S, D, T) grid, 0 where a row is missing."""
    shape = (len(inputs.services), len(inputs.districts), len(inputs.period_start))
    ordered = hours.set_index(["service", "district", "period"])["hours"]
    index = pd.MultiIndex.from_product(
        [list(inputs.services), list(inputs.districts), range(1, shape[2] + 1)]
    )
    return ordered.reindex(index).fillna(0.0).to_numpy().reshape(shape)
