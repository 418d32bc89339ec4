"""Reference builder: the same LP written the obvious PuLP way (dicts of variables, one lpSum
per constraint). Slow at scale; kept as the readable statement of the model and as the baseline
that the vectorised builder in build.py is tested and benchmarked against."""

from __future__ import annotations

from itertools import product

import numpy as np
import pulp

from optimise.budgets import capital_bounds, capital_row_of_period, revenue_bounds, row_of_period
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP, backlog_cost
from optimise.inputs import PlanInputs
from optimise.model import safe_name

Key = tuple[str, ...]


def build_reference(inputs: PlanInputs) -> pulp.LpProblem:
    """The allocation LP as a pulp.LpProblem with the same names as the matrix model."""
    prob = pulp.LpProblem("homeward_plan", pulp.LpMinimize)
    v = _variables(inputs)
    prob += _objective(inputs, v)
    for name, expr in _constraints(inputs, v):
        prob += expr, name
    return prob


def _sets(inputs: PlanInputs) -> tuple[list[str], list[str], list[str], list[str], list[str]]:
    periods = [str(t + 1) for t in range(len(inputs.period_start))]
    return (
        list(inputs.services),
        list(inputs.districts),
        list(inputs.teams),
        periods,
        list(inputs.classes),
    )


def _variables(inputs: PlanInputs) -> dict[str, dict[Key, pulp.LpVariable]]:
    services, districts, teams, periods, classes = _sets(inputs)
    sdtk, sgt, dt = (
        (services, districts, periods, classes),
        (services, teams, periods),
        (districts, periods),
    )
    v = {
        "x": _dicts("x", sdtk),
        "b": _dicts("b", sdtk),
        "e": _dicts("e", sgt),
        "a": _dicts("a", sgt),
        "y": _dicts("y", dt),
        "bw": _dicts("bw", dt),
    }
    for s, g, t in product(*sgt):
        v["a"][s, g, t].upBound = float(inputs.agency_max_hours[services.index(s), teams.index(g)])
    for d, t in product(*dt):
        cap = float(inputs.max_works_per_period[districts.index(d)])
        v["y"][d, t].upBound = cap if np.isfinite(cap) else None
    if inputs.worst_district_weight > 0:
        v["z"] = {("all",): pulp.LpVariable("z_all", lowBound=0)}
    return v


def _dicts(name: str, sets: tuple[list[str], ...]) -> dict[Key, pulp.LpVariable]:
    """pulp.LpVariable.dicts over the sets (nested dicts), re-keyed by flat tuples."""
    nested = pulp.LpVariable.dicts(name, sets, lowBound=0)
    out = {}
    for key in product(*sets):
        node = nested
        for part in key:
            node = node[part]
        out[key] = node
    return out


def _objective(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> pulp.LpAffineExpression:
    services, _, _, periods, classes = _sets(inputs)
    cost = backlog_cost(inputs)
    works = inputs.works_wait_weight * inputs.period_days
    terms = [
        cost[services.index(s), classes.index(k)] * var for (s, _, _, k), var in v["b"].items()
    ]
    terms += [works * var for var in v["bw"].values()]
    if "z" in v:
        terms.append(inputs.worst_district_weight * v["z"]["all",])
    for family, prices in (("e", inputs.cost_per_hour_gbp), ("a", inputs.agency_cost_per_hour_gbp)):
        for (s, _, t), var in v[family].items():
            price = prices[services.index(s), periods.index(t)]
            terms.append(SPEND_TIE_BREAK_DAYS_PER_GBP * price * var)
    return pulp.lpSum(terms)


def _constraints(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    return [
        *_backlog(inputs, v),
        *_works(inputs, v),
        *_capital(inputs, v),
        *_team_hours(inputs, v),
        *_district_hours(inputs, v),
        *_recruitment(inputs, v),
        *_revenue(inputs, v),
        *_equity(inputs, v),
        *_worst(inputs, v),
    ]


def _backlog(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts, _, periods, classes = _sets(inputs)
    x, b = v["x"], v["b"]
    out = []
    for s, d, t, k in product(services, districts, periods, classes):
        si, di, ti, ki = services.index(s), districts.index(d), int(t) - 1, classes.index(k)
        share = inputs.class_share[si, ki]
        rhs = share * inputs.demand_cases[si, di, ti] + (
            share * inputs.initial_backlog_cases[si, di] if ti == 0 else 0.0
        )
        previous = b[s, d, periods[ti - 1], k] if ti > 0 else 0
        inflow = 0
        if s == "domcare" and ti > 0 and "reablement" in services:
            inflow = (
                inputs.p_reab_dom
                * share
                * pulp.lpSum(x["reablement", d, periods[ti - 1], kk] for kk in classes)
            )
        out.append(
            (
                safe_name("backlog", s, d, t, k),
                b[s, d, t, k] - previous + x[s, d, t, k] - inflow == rhs,
            )
        )
    return out


def _works(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts, _, periods, classes = _sets(inputs)
    out = []
    for d, t in product(districts, periods):
        di, ti = districts.index(d), int(t) - 1
        previous = v["bw"][d, periods[ti - 1]] if ti > 0 else 0
        referred = (
            inputs.p_ot_dfg * pulp.lpSum(v["x"]["ot", d, t, k] for k in classes)
            if "ot" in services
            else 0
        )
        rhs = float(inputs.initial_works_backlog_cases[di]) if ti == 0 else 0.0
        out.append(
            (safe_name("works", d, t), v["bw"][d, t] - previous - referred + v["y"][d, t] == rhs)
        )
    return out


def _capital(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    """One row per district (and financial year, where capital is given so)."""
    _, districts, _, periods, _ = _sets(inputs)
    rows_of, bounds = capital_row_of_period(inputs), capital_bounds(inputs)
    years = inputs.financial_years if inputs.capital_per_financial_year else (None,)
    out = []
    for (i, d), (ri, year) in product(enumerate(districts), enumerate(years)):
        cost = inputs.cost_per_adaptation_gbp[i]  # (T,): a fee charged to the grant by year
        span = [(ti, t) for ti, t in enumerate(periods) if rows_of[ti] == ri]
        spent = pulp.lpSum(cost[ti] * v["y"][d, t] for ti, t in span)
        keys = (d,) if year is None else (d, year)
        out.append((safe_name("capital", *keys), spent <= bounds[i, ri]))
    return out


def _team_hours(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts, teams, periods, classes = _sets(inputs)
    members = {
        g: [d for i, d in enumerate(districts) if inputs.team_of_district[i] == gi]
        for gi, g in enumerate(teams)
    }
    used, high, low = [], [], []
    for s, g, t in product(services, teams, periods):
        si, gi = services.index(s), teams.index(g)
        hours = pulp.lpSum(
            inputs.hours_per_case[si] * v["x"][s, d, t, k] for d in members[g] for k in classes
        )
        e = v["e"][s, g, t]
        used.append((safe_name("team_hours_used", s, g, t), hours - e - v["a"][s, g, t] <= 0))
        high.append((safe_name("team_hours_max", s, g, t), e <= inputs.hours_max[si, gi]))
        low.append((safe_name("team_hours_min", s, g, t), e >= inputs.hours_min[si, gi]))
    return used + high + low


def _recruitment(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, _, teams, periods, _ = _sets(inputs)
    up, down = [], []
    for s, g, t in product(services, teams, periods):
        si, gi, ti = services.index(s), teams.index(g), int(t) - 1
        limit, current = inputs.max_change_hours[si, gi], inputs.current_hours[si, gi]
        if limit == float("inf") or (ti == 0 and current != current):
            continue
        change = v["e"][s, g, t] - (v["e"][s, g, periods[ti - 1]] if ti > 0 else current)
        up.append((safe_name("recruitment_up", s, g, t), change <= limit))
        down.append((safe_name("recruitment_down", s, g, t), change >= -limit))
    return up + down


def _revenue(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    """One row per budget and period (or financial year): its teams' staff cost less its
    districts' income over the row's periods."""
    services, districts, teams, periods, classes = _sets(inputs)
    rows_of, bounds = row_of_period(inputs), revenue_bounds(inputs)
    times = inputs.financial_years if inputs.budget_per_financial_year else periods
    out = []
    for (bi, budget), (ri, when) in product(enumerate(inputs.budgets), enumerate(times)):
        span = [t for ti, t in enumerate(periods) if rows_of[ti] == ri]
        mine = [g for gi, g in enumerate(teams) if inputs.budget_of_team[gi] == bi]
        local = [d for di, d in enumerate(districts) if inputs.budget_of_district[di] == bi]
        staff = pulp.lpSum(
            inputs.cost_per_hour_gbp[si, periods.index(t)] * v["e"][s, g, t]
            + inputs.agency_cost_per_hour_gbp[si, periods.index(t)] * v["a"][s, g, t]
            for si, s in enumerate(services)
            for g in mine
            for t in span
        )
        fees = pulp.lpSum(
            inputs.fee_per_case_gbp[districts.index(d), periods.index(t)] * v["y"][d, t]
            for d in local
            for t in span
        )
        charges = pulp.lpSum(
            inputs.charge_income_gbp_per_hour[si, periods.index(t)]
            * inputs.hours_per_case[si]
            * v["x"][s, d, t, k]
            for si, s in enumerate(services)
            for d in local
            for k in classes
            for t in span
        )
        keys = (when,) if inputs.pooled_only else (budget, when)
        out.append((safe_name("revenue", *keys), staff - fees - charges <= bounds[bi, ri]))
    return out


def _equity(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts = list(inputs.services), list(inputs.districts)
    days = np.full((len(services), len(districts)), np.inf)
    if inputs.equity_max_wait_days is not None:
        days[:] = inputs.equity_max_wait_days
    out = _wait_caps(inputs, v, "equity_cap", days)
    if inputs.district_max_wait_days is not None:
        # a district's own cap is a row of its own only where tighter than the equity cap
        own = np.where(inputs.district_max_wait_days < days, inputs.district_max_wait_days, np.inf)
        out += _wait_caps(inputs, v, "district_wait_cap", own)
    return out


def _wait_caps(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]], name: str, days: np.ndarray
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts, _, periods, classes = _sets(inputs)
    out = []
    for (si, s), (di, d), t in product(
        enumerate(services), enumerate(districts), periods[inputs.equity_from_period - 1 :]
    ):
        if not np.isfinite(days[si, di]):
            continue
        cap = days[si, di] * inputs.demand_cases[si, di, int(t) - 1] / inputs.period_days
        out.append(
            (safe_name(name, s, d, t), pulp.lpSum(v["b"][s, d, t, k] for k in classes) <= cap)
        )
    return out


def _district_hours(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    services, districts, _, periods, classes = _sets(inputs)
    low, high = inputs.district_hours_min, inputs.district_hours_max
    top, bottom = [], []
    for (si, s), (di, d), t in product(enumerate(services), enumerate(districts), periods):
        hours = pulp.lpSum(inputs.hours_per_case[si] * v["x"][s, d, t, k] for k in classes)
        if high is not None and np.isfinite(high[si, di]):
            top.append((safe_name("district_hours_max", s, d, t), hours <= high[si, di]))
        if low is not None and low[si, di] > 0:
            bottom.append((safe_name("district_hours_min", s, d, t), hours >= low[si, di]))
    return top + bottom


def _worst(
    inputs: PlanInputs, v: dict[str, dict[Key, pulp.LpVariable]]
) -> list[tuple[str, pulp.LpConstraint]]:
    if "z" not in v:
        return []
    services, districts, _, periods, classes = _sets(inputs)
    out = []
    for di, d in enumerate(districts):
        referrals = inputs.demand_cases[:, di, :].sum() + inputs.initial_backlog_cases[:, di].sum()
        if referrals <= 0:
            continue
        waited = pulp.lpSum(
            inputs.wait_weight[si, ki] * inputs.period_days / referrals * v["b"][s, d, t, k]
            for si, s in enumerate(services)
            for t in periods
            for ki, k in enumerate(classes)
        )
        out.append((safe_name("worst_district", d), waited - v["z"]["all",] <= 0))
    return out
