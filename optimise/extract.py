"""extract(): read a solved LpModel back into a PlanResult of labelled frames."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from optimise.build import weighted_wait_days, worst_district_days
from optimise.explain import binding_frame, relaxation_frame, shadow_price_frame
from optimise.frames import budget_sum, long_frame, ratio, team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array, LpModel
from optimise.plan_values import PlanValues, plan_values
from optimise.result import ROUND_OFF, PlanResult, PlanStatus
from optimise.solution import SolveResult, SolveStatus
from optimise.summary import status_message
from optimise.tiebreak import worst_wait_sum_days

_STATUS = {
    SolveStatus.INFEASIBLE: PlanStatus.INFEASIBLE,
    SolveStatus.UNBOUNDED: PlanStatus.ERROR,
    SolveStatus.TIME_LIMIT: PlanStatus.TIME_LIMIT,
    SolveStatus.ERROR: PlanStatus.ERROR,
}


def extract(inputs: PlanInputs, model: LpModel, solve_result: SolveResult) -> PlanResult:
    """Frames of hours, capital, backlog, revenue, DTOC days and explanations of a solved model.

    The stage fields say this solution is the only stage; `TieBreak.report` (tiebreak.py)
    restates them when it is a second stage's plan."""
    if not solve_result.ok:
        return failed_result(inputs, model, solve_result)
    values = plan_values(inputs, model, solve_result.col_value)
    relaxations = relaxation_frame(inputs, model, solve_result)
    status = PlanStatus.INFEASIBLE_RELAXED if model.penalties else PlanStatus.OPTIMAL
    waiting = weighted_wait_days(model, solve_result.col_value)
    worst = worst_wait_sum_days(inputs, values.backlog)
    equity = inputs.worst_district_weight * worst_district_days(inputs, values.backlog)
    result = PlanResult(
        status=status,
        message="",
        objective_weighted_wait_days=waiting,
        worst_district_wait_term=equity,
        objective_value=waiting + equity,
        first_stage_weighted_wait_days=waiting,
        worst_wait_sum_days=worst,
        first_stage_worst_wait_sum_days=worst,
        solver=solve_result.solver,
        build_seconds=model.build_seconds,
        solve_seconds=solve_result.solve_seconds,
        hours=hours_frame(inputs, values),
        staffing=staffing_frame(inputs, values),
        capital=capital_frame(inputs, values),
        capital_total=capital_total_frame(inputs, values),
        capital_by_year=capital_year_frame(inputs, values),
        backlog=backlog_frame(inputs, values),
        revenue=revenue_frame(inputs, values),
        revenue_by_budget=budget_frame(inputs, values),
        revenue_by_year=year_frame(inputs, values),
        revenue_by_service=service_frame(inputs, values),
        district_waits=district_wait_frame(inputs, values),
        dtoc_days=dtoc_frame(inputs, values),
        demand=demand_frame(inputs),
        shadow_prices=shadow_price_frame(inputs, model, solve_result),
        binding=binding_frame(inputs, model, solve_result),
        relaxations=relaxations,
        **horizon(inputs),
    )
    return result.with_extras(message=status_message(result, inputs))


def horizon(inputs: PlanInputs) -> dict[str, Any]:
    """The plan's own horizon: period_days, periods, and the first and last period's start."""
    starts = inputs.period_start
    return {
        "period_days": int(inputs.period_days),
        "periods": len(starts),
        "first_ds": pd.Timestamp(starts[0]) if starts else None,
        "last_ds": pd.Timestamp(starts[-1]) if starts else None,
    }


def hours_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    cases = v.served.sum(axis=3)
    frame = long_frame(
        inputs,
        ("service", "district", "period"),
        hours=cases * inputs.hours_per_case[:, None, None],
        cases_served=cases,
    )
    team = pd.Series([inputs.teams[g] for g in inputs.team_of_district], index=inputs.districts)
    frame.insert(2, "team", frame["district"].map(team))
    return frame


def staffing_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """A team's hours per service and period with its limits, and, where any service gives
    `hours_per_fte`, the full-time equivalents its in-house staff hours are (`fte`, nan for a
    service without one)."""
    shape = v.staff_hours.shape
    frame = long_frame(
        inputs,
        ("service", "team", "period"),
        staff_hours=v.staff_hours,
        agency_hours=v.agency_hours,
        hours_used=v.team_hours_used,
        min_hours=np.broadcast_to(inputs.hours_min[:, :, None], shape),
        max_hours=np.broadcast_to(inputs.hours_max[:, :, None], shape),
        agency_max_hours=np.broadcast_to(inputs.agency_max_hours[:, :, None], shape),
    )
    per_fte = inputs.hours_per_fte
    if per_fte is not None and np.isfinite(per_fte).any():
        weeks = inputs.period_days / 7.0
        frame["fte"] = (v.staff_hours / (per_fte[:, None, None] * weeks)).ravel()
    return frame


def capital_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    return long_frame(
        inputs,
        ("district", "period"),
        works_completed=v.works_completed,
        capital_gbp=v.capital_spent_gbp,
        fee_income_gbp=v.fee_income_gbp,
    )


def capital_total_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    return long_frame(
        inputs,
        ("district",),
        capital_spent_gbp=v.capital_spent_gbp.sum(axis=1),
        capital_available_gbp=inputs.capital_gbp,
    )


CAPITAL_YEAR_COLUMNS = [
    "district",
    "year",
    "periods",
    "works_completed",
    "capital_spent_gbp",
    "capital_available_gbp",
    "capital_left_gbp",
]


def capital_year_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """Each district's DFG works and capital spent per financial year (from 1 April) of the
    horizon, as a capital officer monitors them against each year's allocation. Where the
    config gives capital by financial year (capital_by_year_gbp) each year's is available
    and what is left of it; over the whole horizon (capital_gbp) a year has no capital of its
    own, and both are NaN (null in JSON, empty in CSV)."""
    by_year = inputs.capital_by_year_gbp
    rows = []
    for d, district in enumerate(inputs.districts):
        for y, year in enumerate(inputs.financial_years):
            mask = inputs.year_of_period == y
            spent = float(v.capital_spent_gbp[d, mask].sum())
            available = float(by_year[d, y]) if by_year is not None else np.nan
            rows.append(
                {
                    "district": district,
                    "year": year,
                    "periods": int(mask.sum()),
                    "works_completed": float(v.works_completed[d, mask].sum()),
                    "capital_spent_gbp": spent,
                    "capital_available_gbp": available,
                    "capital_left_gbp": float(headroom(available, spent)),
                }
            )
    return pd.DataFrame(rows, columns=CAPITAL_YEAR_COLUMNS)


def backlog_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    days = inputs.period_days
    care = long_frame(
        inputs,
        ("service", "district", "priority", "period"),
        backlog_cases=v.backlog.transpose(0, 1, 3, 2),
        cases_served=v.served.transpose(0, 1, 3, 2),
        avg_wait_days=ratio(v.backlog * days, v.served).transpose(0, 1, 3, 2),
    )
    works = long_frame(
        inputs,
        ("district", "period"),
        backlog_cases=v.works_backlog,
        cases_served=v.works_completed,
        avg_wait_days=ratio(v.works_backlog * days, v.works_completed),
    )
    works.insert(0, "service", "dfg_works")
    works.insert(2, "priority", "standard")
    return pd.concat([care, works], ignore_index=True)


def revenue_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """Per period, over every budget: costs, income, the budgets' total and the headroom."""
    parts = budget_parts(inputs, v)
    totals = {name: grid.sum(axis=0) for name, grid in parts.items()}
    return long_frame(inputs, ("period",), **totals)


def budget_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """The same per budget (a team with its own, or the pooled one) and period."""
    return long_frame(inputs, ("budget", "period"), **budget_parts(inputs, v))


YEAR_COLUMNS = ["budget", "year", "periods"]


def year_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """The same per budget and financial year (from 1 April), summed over the year's periods:
    what a finance officer reports against. Under `revenue_budget_basis: financial_year` the
    budget binds here, so a single period's headroom may be negative while the year's is not.
    Where the config gives a budget by financial year (revenue_budget_gbp_by_year), its
    `year_budget_gbp` is the whole year's amount, of which `budget_gbp` is the periods' share;
    NaN (null in JSON, empty in CSV) for a budget given per period."""
    parts = budget_parts(inputs, v)
    by_year = inputs.revenue_budget_by_year_gbp
    rows = []
    for b, budget in enumerate(inputs.budgets):
        for y, year in enumerate(inputs.financial_years):
            mask = inputs.year_of_period == y
            sums = {name: float(grid[b, mask].sum()) for name, grid in parts.items()}
            sums["headroom_gbp"] = float(headroom(sums["budget_gbp"], sums["net_cost_gbp"]))
            whole = float(by_year[b, y]) if by_year is not None else np.nan
            row = {"budget": budget, "year": year, "periods": int(mask.sum()), **sums}
            rows.append({**row, "year_budget_gbp": whole})
    return pd.DataFrame(rows, columns=[*YEAR_COLUMNS, *parts, "year_budget_gbp"])


def service_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """Per service, team and period, the hours the revenue budget pays for and what they cost:
    staff hours (a team's own, or for care bought from providers, as most domiciliary care is,
    the hours commissioned) at the service's cost_per_hour_gbp, agency hours at its
    agency_cost_per_hour_gbp, and the care charge income its cases served bring (each district's
    to its team). Summed over services and teams, each period's costs and charges are the
    `revenue` row's; DFG fee income is no care service's, so it is only there."""
    served_hours = v.served.sum(axis=3) * inputs.hours_per_case[:, None, None]
    charges = served_hours * inputs.charge_income_gbp_per_hour[:, None, :]
    return long_frame(
        inputs,
        ("service", "team", "period"),
        staff_hours=v.staff_hours,
        agency_hours=v.agency_hours,
        staff_cost_gbp=v.staff_hours * inputs.cost_per_hour_gbp[:, None, :],
        agency_cost_gbp=v.agency_hours * inputs.agency_cost_per_hour_gbp[:, None, :],
        charge_income_gbp=team_sum(inputs, charges),
    )


def budget_parts(inputs: PlanInputs, v: PlanValues) -> dict[str, Array]:
    """Revenue terms per budget and period, (B, T) each, in GBP."""
    staff = budget_sum(
        inputs, np.einsum("sgt,st->gt", v.staff_hours, inputs.cost_per_hour_gbp), "team"
    )
    agency = budget_sum(
        inputs, np.einsum("sgt,st->gt", v.agency_hours, inputs.agency_cost_per_hour_gbp), "team"
    )
    fees = budget_sum(inputs, v.fee_income_gbp, "district")
    charges = budget_sum(inputs, v.charge_income_gbp, "district")
    net = staff + agency - fees - charges
    return {
        "staff_cost_gbp": staff,
        "agency_cost_gbp": agency,
        "fee_income_gbp": fees,
        "charge_income_gbp": charges,
        "budget_gbp": inputs.revenue_budget_gbp,
        "net_cost_gbp": net,
        "headroom_gbp": headroom(inputs.revenue_budget_gbp, net),
    }


def headroom(budget: Array | float, net: Array | float) -> Array:
    """Budget less net cost, 0 where the difference is the solver's round-off (a budget
    spent to the penny leaves -1.06e-09 GBP of a year's millions, which a spreadsheet shows
    as an overspend): under ROUND_OFF of the budget, or of 1 GBP if the budget is smaller."""
    diff = np.asarray(budget, dtype=np.float64) - net
    scale = np.maximum(1.0, np.abs(budget))
    return np.where(np.abs(diff) < ROUND_OFF * scale, 0.0, diff)


def district_wait_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    """Over the horizon, per service (and DFG works) and district: hours, cases served,
    person-days waiting and the average wait in days (person-days / cases served)."""
    days = inputs.period_days
    served = np.concatenate([v.served.sum(axis=(2, 3)), v.works_completed.sum(axis=1)[None]])
    waited = np.concatenate([v.backlog.sum(axis=(2, 3)), v.works_backlog.sum(axis=1)[None]])
    hours = v.served.sum(axis=(2, 3)) * inputs.hours_per_case[:, None]
    index = pd.MultiIndex.from_product(
        [[*inputs.services, "dfg_works"], list(inputs.districts)], names=["service", "district"]
    )
    frame = index.to_frame(index=False)
    frame["hours"] = np.concatenate([hours, np.full((1, len(inputs.districts)), np.nan)]).ravel()
    frame["cases_served"] = served.ravel()
    frame["person_days"] = (waited * days).ravel()
    frame["avg_wait_days"] = ratio(waited * days, served).ravel()
    return frame


def demand_frame(inputs: PlanInputs) -> pd.DataFrame:
    """New cases per period: the forecast mean and what the plan provides for (higher in
    winter periods under a winter config), with the hospital-pressure index that raised it
    where the config has a winter.pressure_series (blank outside the winter months)."""
    pressure = {} if inputs.winter_index is None else {"winter_index": inputs.winter_index}
    return long_frame(
        inputs,
        ("service", "district", "period"),
        forecast_cases=inputs.forecast_cases,
        planned_cases=inputs.demand_cases,
        **pressure,
    )


def dtoc_frame(inputs: PlanInputs, v: PlanValues) -> pd.DataFrame:
    return long_frame(inputs, ("service", "district", "period"), dtoc_days=v.dtoc_days)


def failed_result(inputs: PlanInputs, model: LpModel, solve_result: SolveResult) -> PlanResult:
    """An explained result with empty frames when no solution could be read."""
    empty = pd.DataFrame()
    result = PlanResult(
        status=_STATUS[solve_result.status],
        message="",
        objective_weighted_wait_days=float("nan"),
        solver=solve_result.solver,
        build_seconds=model.build_seconds,
        solve_seconds=solve_result.solve_seconds,
        hours=empty,
        staffing=empty,
        capital=empty,
        capital_total=empty,
        capital_by_year=empty,
        backlog=empty,
        revenue=empty,
        dtoc_days=empty,
        demand=demand_frame(inputs),
        shadow_prices=empty,
        binding=empty,
        relaxations=empty,
        **horizon(inputs),
    )
    return result.with_extras(message=f"{status_message(result, inputs)} ({solve_result.message})")
