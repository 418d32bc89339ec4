"""Baselines at the plan's own staff spend per budget: hours in proportion to demand, and
staffing carried forward from the first period, each evaluated by the same fluid model as the
plan's hours, with DFG works at the plan's pace (capital timing is the plan's; unused pace
carries forward)."""

from __future__ import annotations

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


def _plan_costs(result: PlanResult) -> tuple[float, float]:
    """The plan's in-house staff and agency cost over the horizon: its revenue rows summed."""
    revenue = result.revenue
    return float(revenue["staff_cost_gbp"].sum()), float(revenue["agency_cost_gbp"].sum())


def _staff_cost(inputs: PlanInputs, hours: Array) -> float:
    """What a baseline's hours (S, D, T), all in-house, cost: each team's hours, or its floor
    where they fall below it (floor hours are paid whether used or not), at the in-house rate."""
    paid = np.maximum(team_sum(inputs, hours), inputs.hours_min[:, :, None])
    return float(np.einsum("sgt,s->", paid, inputs.cost_per_hour_gbp))


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
    wanted = inputs.demand_cases * inputs.hours_per_case[:, None, None]
    return _cap_to_teams(inputs, _spend(inputs, wanted, money_gbp, scale_up=True))


def carried_forward_hours(inputs: PlanInputs, money_gbp: Array) -> Array:
    """The first period's staffing (current hours where known, else the proportional split)
    held for every period, scaled down where it costs more than that period's money (never
    below a team's floor)."""
    first = proportional_hours(inputs, money_gbp)[:, :, :1]
    current = _current_split(inputs)
    first = np.where(np.isnan(current), first, current)
    hours = np.repeat(first, len(inputs.period_start), axis=2)
    return _cap_to_teams(inputs, _spend(inputs, hours, money_gbp, scale_up=False))


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
    cost = inputs.cost_per_hour_gbp[:, None, None]
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
    members = np.bincount(inputs.team_of_district, minlength=len(inputs.teams))
    even = np.broadcast_to(1.0 / members[inputs.team_of_district][None, :, None], hours.shape)
    of_team = team[:, inputs.team_of_district]
    share = np.where(of_team > 0, hours / np.where(of_team > 0, of_team, 1.0), even)
    return np.asarray(share * raised[:, inputs.team_of_district], dtype=np.float64)


_NO_COST = 1e12  # the factor for hours that cost nothing: the teams' maximum hours cap them
_BISECTIONS = 100


def _current_split(inputs: PlanInputs) -> Array:
    """Teams' current hours shared over their districts by first-period demand, (S, D, 1)."""
    demand = inputs.demand_cases[:, :, 0]
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
