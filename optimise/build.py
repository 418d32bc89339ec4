"""Vectorised LP builder: a fixed sequence of define_* steps, one per column or row family."""

from __future__ import annotations

import math
import time
from dataclasses import replace

import numpy as np

from optimise.assemble import Assembler
from optimise.budgets import (
    capital_axes,
    capital_bounds,
    capital_row_of_period,
    revenue_axes,
    revenue_bounds,
    row_of_period,
)
from optimise.inputs import PlanInputs
from optimise.model import Array, IntArray, LpModel

SDTK = ("service", "district", "period", "priority")
SGT = ("service", "team", "period")
SDT = ("service", "district", "period")
DT = ("district", "period")
INF = np.inf
# Staff spend enters the objective at a millionth of a waiting day per GBP: among plans with
# the same waiting it picks the one that pays for no idle or agency hours it does not need
# (without it staff hours, costs and headroom are arbitrary wherever the budget is slack).
SPEND_TIE_BREAK_DAYS_PER_GBP = 1e-6
# The column families whose objective terms are the weighted person-days of waiting. The
# worst-district column `z` (equity.worst_district_weight > 0) is not one of them: its term is
# weight x days per referral, so it is reported apart (`worst_district_days`).
WAITING_COLUMNS = ("b", "bw")
SPEND_COLUMNS = ("e", "a")  # the column families that carry the spend tie-break


def build_model(inputs: PlanInputs) -> LpModel:
    """Build the allocation LP (see DESIGN.md, 'The linear program') in matrix form."""
    started = time.perf_counter()
    asm = Assembler(axis_labels(inputs))
    cols = define_columns(asm, inputs)
    define_backlog_balance(asm, inputs, cols)
    define_works_balance(asm, inputs, cols)
    define_capital(asm, inputs, cols)
    define_team_hours(asm, inputs, cols)
    define_district_hours(asm, inputs, cols)
    define_recruitment(asm, inputs, cols)
    define_revenue(asm, inputs, cols)
    define_equity_cap(asm, inputs, cols)
    define_district_wait_cap(asm, inputs, cols)
    define_worst_district(asm, inputs, cols)
    model = asm.finish()
    return _with_time(model, time.perf_counter() - started)


def weighted_wait_days(model: LpModel, col_value: Array) -> float:
    """Weighted person-days of waiting of a solution: the objective's waiting terms, without
    the worst-district term, the spend tie-break or any relaxation penalty. The same quantity
    whatever the equity weights: adding demand never makes the same hours wait less. Summed
    exactly (fsum), so the same plan gives the same figure whatever order its columns are in
    (optimise/canonical.py)."""
    terms = [
        model.cost[block.start : block.stop] * col_value[block.start : block.stop]
        for name, block in model.columns.items()
        if name in WAITING_COLUMNS
    ]
    return math.fsum(np.concatenate(terms)) if terms else 0.0


def _with_time(model: LpModel, seconds: float) -> LpModel:
    return replace(model, build_seconds=seconds)


def axis_labels(inputs: PlanInputs) -> dict[str, tuple[str, ...]]:
    """Labels along each axis of the model (periods are 1-based)."""
    return {
        "service": inputs.services,
        "district": inputs.districts,
        "team": inputs.teams,
        "period": tuple(str(t + 1) for t in range(len(inputs.period_start))),
        "priority": inputs.classes,
        "budget": inputs.budgets,
        "year": inputs.financial_years,
        "all": ("all",),
    }


def backlog_cost(inputs: PlanInputs) -> np.ndarray:
    """Objective coefficient of one case waiting one period, (S, K): weighted person-days."""
    hospital = inputs.hospital_delay_weight * inputs.hospital_share
    return (inputs.wait_weight + hospital[:, None]) * inputs.period_days


def define_columns(asm: Assembler, inputs: PlanInputs) -> dict[str, IntArray]:
    b_cost = backlog_cost(inputs)[:, None, None, :]
    cols = {
        "x": asm.add_columns("x", SDTK),
        "b": asm.add_columns("b", SDTK, cost=b_cost),
        "e": asm.add_columns("e", SGT, cost=_spend_cost(inputs.cost_per_hour_gbp)),
        "a": asm.add_columns(
            "a",
            SGT,
            cost=_spend_cost(inputs.agency_cost_per_hour_gbp),
            upper=inputs.agency_max_hours[:, :, None],
        ),
        "y": asm.add_columns("y", DT, upper=inputs.max_works_per_period[:, None]),
        "bw": asm.add_columns("bw", DT, cost=inputs.works_wait_weight * inputs.period_days),
    }
    if inputs.worst_district_weight > 0:
        cols["z"] = asm.add_columns("z", ("all",), cost=inputs.worst_district_weight)
    return cols


def _spend_cost(cost_per_hour_gbp: np.ndarray) -> np.ndarray:
    """(S, 1, T) the spend tie-break of an hour, from its cost (S, T) in each period."""
    return SPEND_TIE_BREAK_DAYS_PER_GBP * cost_per_hour_gbp[:, None, :]


def define_backlog_balance(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """b[t] - b[t-1] + x[t] - inflow[t] = share * D[t] (+ share * B0 in the first period)."""
    share = inputs.class_share[:, None, None, :]
    rhs = share * inputs.demand_cases[:, :, :, None]
    rhs[:, :, 0, :] += inputs.class_share[:, None, :] * inputs.initial_backlog_cases[:, :, None]
    rows = asm.add_rows("backlog", SDTK, rhs, rhs)
    b, x = cols["b"], cols["x"]
    asm.coef(rows, b, 1.0)
    asm.coef(rows[:, :, 1:], b[:, :, :-1], -1.0)
    asm.coef(rows, x, 1.0)
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    if reab is None or dom is None or inputs.p_reab_dom == 0:
        return
    for k_from in range(len(inputs.classes)):
        flow = -inputs.p_reab_dom * inputs.class_share[dom][None, None, :]
        asm.coef(rows[dom, :, 1:, :], x[reab, :, :-1, k_from][:, :, None], flow)


def define_works_balance(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """bw[t] - bw[t-1] - p_ot_dfg * x_ot[t] + y[t] = BW0 in the first period, else 0."""
    rhs = np.zeros(asm.shape(DT))
    rhs[:, 0] = inputs.initial_works_backlog_cases
    rows = asm.add_rows("works", DT, rhs, rhs)
    asm.coef(rows, cols["bw"], 1.0)
    asm.coef(rows[:, 1:], cols["bw"][:, :-1], -1.0)
    asm.coef(rows, cols["y"], 1.0)
    ot = inputs.service_index("ot")
    if ot is not None:
        for k in range(len(inputs.classes)):
            asm.coef(rows, cols["x"][ot, :, :, k], -inputs.p_ot_dfg)


def define_capital(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """sum_t cost_per_adaptation[d, t] * y[d, t] <= capital[d], each district on its own; with
    capital by financial year the same per year, over that year's periods (nothing carried)."""
    bounds, axes = capital_bounds(inputs), capital_axes(inputs)
    rows = asm.add_rows("capital", axes, -INF, bounds.reshape(asm.shape(axes)))
    rows = rows.reshape(bounds.shape)[:, capital_row_of_period(inputs)]  # (D, T)
    asm.coef(rows, cols["y"], inputs.cost_per_adaptation_gbp)


def define_team_hours(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """Hours used <= staff + agency hours; Hmin <= staff hours <= Hmax."""
    used = asm.add_rows("team_hours_used", SGT, -INF, 0.0)
    team_rows = used[:, inputs.team_of_district, :]  # (S, D, T)
    for k in range(len(inputs.classes)):
        asm.coef(team_rows, cols["x"][:, :, :, k], inputs.hours_per_case[:, None, None])
    asm.coef(used, cols["e"], -1.0)
    asm.coef(used, cols["a"], -1.0)
    high = asm.add_rows("team_hours_max", SGT, -INF, inputs.hours_max[:, :, None])
    asm.coef(high, cols["e"], 1.0)
    low = asm.add_rows("team_hours_min", SGT, inputs.hours_min[:, :, None], INF)
    asm.coef(low, cols["e"], 1.0)


def define_district_hours(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """A district's own floor and ceiling on the hours its cases are served with, per service
    and period: sum_k hours_per_case[s] * x[s,d,t,k] within them (rows only where given)."""
    for name, bound in (
        ("district_hours_max", inputs.district_hours_max),
        ("district_hours_min", inputs.district_hours_min),
    ):
        if bound is None:
            continue
        grid = np.broadcast_to(bound[:, :, None], asm.shape(SDT))
        given = np.isfinite(grid) if name == "district_hours_max" else grid > 0
        if not given.any():
            continue
        low, high = (-INF, grid) if name == "district_hours_max" else (grid, INF)
        rows = asm.add_rows(name, SDT, low, high, given.copy())
        for k in range(len(inputs.classes)):
            asm.coef(rows, cols["x"][:, :, :, k], inputs.hours_per_case[:, None, None])


def define_recruitment(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """|e[t] - e[t-1]| <= max change (e[0] against current hours where those are known)."""
    limit = inputs.max_change_hours[:, :, None]
    mask = np.broadcast_to(np.isfinite(limit), asm.shape(SGT)).copy()
    mask[:, :, 0] &= np.isfinite(inputs.current_hours)
    if not mask.any():
        return
    base = np.where(np.isfinite(inputs.current_hours), inputs.current_hours, 0.0)
    shift = np.zeros(asm.shape(SGT))
    shift[:, :, 0] = base
    finite = np.where(np.isfinite(limit), limit, 0.0)
    e = cols["e"]
    for name, lower, upper in (
        ("recruitment_up", -INF, shift + finite),
        ("recruitment_down", shift - finite, INF),
    ):
        rows = asm.add_rows(name, SGT, lower, upper, mask)
        asm.coef(rows, e, 1.0)
        asm.coef(rows[:, :, 1:], e[:, :, :-1], -1.0)


def define_revenue(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """Per budget and period (or financial year): staff + agency cost - its districts' DFG
    fees and care charges <= budget."""
    bounds, axes = revenue_bounds(inputs), revenue_axes(inputs)
    rows = asm.add_rows("revenue", axes, -INF, bounds.reshape(asm.shape(axes)))
    rows = rows.reshape(bounds.shape)[:, row_of_period(inputs)]  # (B, T) whatever the axes
    of_team, of_district = rows[inputs.budget_of_team], rows[inputs.budget_of_district]
    asm.coef(of_team[None], cols["e"], inputs.cost_per_hour_gbp[:, None, :])
    asm.coef(of_team[None], cols["a"], inputs.agency_cost_per_hour_gbp[:, None, :])
    asm.coef(of_district, cols["y"], -inputs.fee_per_case_gbp)
    charge = inputs.charge_income_gbp_per_hour * inputs.hours_per_case[:, None]  # (S, T)
    for k in range(len(inputs.classes)):
        asm.coef(of_district[None], cols["x"][:, :, :, k], -charge[:, None, :])


def define_equity_cap(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """sum_k b[s,d,t,k] <= max_wait_days * demand per day (Little's law), from a chosen period."""
    if inputs.equity_max_wait_days is None:
        return
    days = np.full(asm.shape(("service", "district")), inputs.equity_max_wait_days)
    _wait_cap(asm, inputs, cols, "equity_cap", days)


def define_district_wait_cap(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """The equity cap's rows with each district's own cap (districts[].max_avg_wait_days),
    where it is tighter than the cap every district has (a looser one could never bind)."""
    if inputs.district_max_wait_days is None:
        return
    days = inputs.district_max_wait_days
    if inputs.equity_max_wait_days is not None:
        days = np.where(days < inputs.equity_max_wait_days, days, INF)
    _wait_cap(asm, inputs, cols, "district_wait_cap", days)


def _wait_cap(
    asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray], name: str, days: Array
) -> None:
    """Rows `name`: sum_k b[s,d,t,k] <= days[s,d] * demand per day (Little's law: a queue of
    that many days' arrivals waits that long on average), from equity_from_period, where
    `days` (S, D) is finite."""
    given = np.isfinite(days)
    cap = np.where(given, days, 0.0)[:, :, None] * inputs.demand_cases / inputs.period_days
    mask = np.broadcast_to(given[:, :, None], cap.shape).copy()
    mask[:, :, : inputs.equity_from_period - 1] = False
    if not mask.any():
        return
    rows = asm.add_rows(name, SDT, -INF, cap, mask)
    for k in range(len(inputs.classes)):
        asm.coef(rows, cols["b"][:, :, :, k], 1.0)


def define_worst_district(asm: Assembler, inputs: PlanInputs, cols: dict[str, IntArray]) -> None:
    """z >= each district's weighted waiting days per referral over the horizon."""
    if "z" not in cols:
        return
    per_case, mask = _per_referral(inputs)
    rows = asm.add_rows("worst_district", ("district",), -INF, 0.0, mask)
    weight = (inputs.wait_weight * inputs.period_days)[:, None, None, :]
    asm.coef(rows[None, :, None, None], cols["b"], weight * per_case[None, :, None, None])
    asm.coef(rows, cols["z"][0], -1.0)


def _per_referral(inputs: PlanInputs) -> tuple[Array, np.ndarray]:
    """(D,) 1 / each district's referrals over the horizon (new cases and those already
    waiting), 0 without any; and where it has some."""
    referrals = inputs.demand_cases.sum(axis=(0, 2)) + inputs.initial_backlog_cases.sum(axis=0)
    mask = referrals > 0
    return np.where(mask, 1.0 / np.where(mask, referrals, 1.0), 0.0), mask


def worst_district_days(inputs: PlanInputs, backlog: Array) -> float:
    """The worst-district term's measure for a backlog grid (S, D, T, K): the longest weighted
    waiting days per referral of any district with referrals (what `z` is at the first
    solve's optimum), 0 with none. The objective adds `worst_district_weight` times this to
    the weighted waiting days; it is days per referral, not person-days, so more demand in a
    district can lower it."""
    per_case, mask = _per_referral(inputs)
    days = np.einsum("sdtk,sk->d", backlog, inputs.wait_weight * inputs.period_days)
    return float((days * per_case)[mask].max()) if mask.any() else 0.0
