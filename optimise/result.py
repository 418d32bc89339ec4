"""PlanResult: the plan as typed frames, with JSON and text renderings for the API and CLI."""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

import pandas as pd


class PlanStatus(StrEnum):
    OPTIMAL = "optimal"
    INFEASIBLE_RELAXED = "infeasible_relaxed"
    INFEASIBLE = "infeasible"
    TIME_LIMIT = "time_limit"
    ERROR = "error"


@dataclass(frozen=True)
class PlanResult:
    """A solved (or explained unsolved) plan. Frames are long, one row per labelled entry."""

    status: PlanStatus
    message: str
    objective_weighted_wait_days: float
    solver: str
    build_seconds: float
    solve_seconds: float
    hours: pd.DataFrame  # service, district, team, period, ds, hours, cases_served
    staffing: pd.DataFrame  # service, team, period, ds, staff_hours, agency_hours, hours_used, ...
    capital: pd.DataFrame  # district, period, ds, works_completed, capital_gbp
    capital_total: pd.DataFrame  # district, capital_spent_gbp, capital_available_gbp
    backlog: pd.DataFrame  # service, district, priority, period, ds, backlog_cases, avg_wait_days
    revenue: pd.DataFrame  # period, ds, staff_cost_gbp, ..., budget_gbp
    dtoc_days: pd.DataFrame  # service, district, period, ds, dtoc_days
    shadow_prices: pd.DataFrame  # constraint, index, dual, value, unit, statement, range_*, ds
    binding: pd.DataFrame  # constraint, index, activity, bound, dual
    relaxations: pd.DataFrame  # constraint, index, where (words), amount, unit, penalty_per_unit
    # budget, period, ds, then the revenue columns: one row per team budget (or the pool)
    revenue_by_budget: pd.DataFrame = field(default_factory=pd.DataFrame)
    # district, year (financial, from 1 April), periods, works_completed, capital_spent_gbp,
    # capital_available_gbp and capital_left_gbp (NaN when capital is over the horizon)
    capital_by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    # budget, year (financial, from 1 April), periods, then the revenue columns summed
    revenue_by_year: pd.DataFrame = field(default_factory=pd.DataFrame)
    # service, team, period, ds, staff_hours, agency_hours, staff_cost_gbp, agency_cost_gbp,
    # charge_income_gbp: what each service's hours cost (optimise/extract.py service_frame)
    revenue_by_service: pd.DataFrame = field(default_factory=pd.DataFrame)
    # service (incl. dfg_works), district, hours, cases_served, person_days, avg_wait_days
    district_waits: pd.DataFrame = field(default_factory=pd.DataFrame)
    baselines: pd.DataFrame = field(default_factory=pd.DataFrame)
    simulation: pd.DataFrame = field(default_factory=pd.DataFrame)
    # scenario (low, planned, high), service (incl. dfg_works), district, new_cases,
    # cases_served, person_days, avg_wait_days, end_backlog_cases, dtoc_days (optimise/risk.py)
    demand_risk: pd.DataFrame = field(default_factory=pd.DataFrame)
    # service (incl. dfg_works), period, ds, planned_ and high_waiting_cases,
    # extra_waiting_cases, planned_ and high_dtoc_days, extra_cases_arriving, contingency_hours,
    # contingency_cost_gbp, its split (idle_paid_hours_used, extra_hours_within_limits,
    # hours_beyond_limits, hours_beyond_budget), cost_beyond_budget_gbp and
    # contingency_capital_gbp (optimise/risk.py)
    risk_periods: pd.DataFrame = field(default_factory=pd.DataFrame)
    # service, district, period, ds, forecast_cases, planned_cases (raised in winter periods)
    demand: pd.DataFrame = field(default_factory=pd.DataFrame)
    warnings: tuple[str, ...] = ()
    # The even-waits tie-break (optimise/tiebreak.py): "even_waits" when a second solve chose
    # this plan among those with the first solve's weighted waiting (within the config's
    # equity.even_waits_tolerance), "none" when the plan is the first solve's. Shadow prices,
    # ranges and duals are the first solve's either way.
    tie_break: str = "none"
    first_stage_weighted_wait_days: float = math.nan
    # The tie-break term, days: over service, team and period, the sum of the longest average
    # wait (backlog x period days / demand) of the team's districts; of this plan and of the
    # first solve's.
    worst_wait_sum_days: float = math.nan
    first_stage_worst_wait_sum_days: float = math.nan
    tie_break_seconds: float = 0.0  # building and solving the second stage
    # Delayed days in hospital in the plan's queue simulation (optimise/simulate.py), beside
    # the LP's `total_dtoc_days`: queues near full use wait longer than the LP's fluid model
    # predicts (on the demo to 2025, 9,039 against 5,105). NaN without a simulation.
    simulated_dtoc_days: float = math.nan
    # `objective_weighted_wait_days` is the weighted person-days of waiting alone, the same
    # quantity whatever the equity weights. With `equity.worst_district_weight` > 0 the LP
    # also minimises that weight x the worst district's weighted waiting days per referral:
    # that term (days; 0 without the weight) and the objective both terms make (days: without
    # the spend tie-break or any relaxation penalty) are reported here.
    worst_district_wait_term: float = math.nan
    objective_value: float = math.nan
    # The plan's horizon, from its inputs (so a client need not infer it from rows): days per
    # period, the number of periods, and the first and last period's start dates (None when
    # not known; YYYY-MM-DD in to_dict).
    period_days: int | None = None
    periods: int | None = None
    first_ds: pd.Timestamp | None = None
    last_ds: pd.Timestamp | None = None

    @property
    def ok(self) -> bool:
        return self.status in (PlanStatus.OPTIMAL, PlanStatus.INFEASIBLE_RELAXED)

    @property
    def total_dtoc_days(self) -> float:
        return float(self.dtoc_days["dtoc_days"].sum()) if len(self.dtoc_days) else 0.0

    def with_extras(self, **changes: Any) -> PlanResult:
        """A copy with baselines, simulation or warnings attached."""
        return replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dict: scalars as numbers/strings, frames as lists of records;
        `total_dtoc_days`, then the objective's parts and the horizon (`_LAST`), come last;
        dates as YYYY-MM-DD."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in _LAST:
                out[f.name] = _jsonable(getattr(self, f.name))
        # null without a plan: not a plan with no delays
        out["total_dtoc_days"] = _number(self.total_dtoc_days) if self.ok else None
        for name in _LAST:
            out[name] = _jsonable(getattr(self, name))
        return out

    def summary_table(self) -> str:
        """A short readable text summary for the CLI."""
        from optimise.summary import summary_table

        return summary_table(self)


# Keys a stored plan ends with, in this order. The API serves the keys its schema names in
# the schema's order and keys it does not name after them, and a plan is served exactly as
# stored: keys added after total_dtoc_days keep that true before the schema names them (and
# after, where it names them after total_dtoc_days in this order).
_LAST = (
    "worst_district_wait_term",
    "objective_value",
    "period_days",
    "periods",
    "first_ds",
    "last_ds",
)


def _jsonable(value: Any) -> Any:
    if isinstance(value, pd.DataFrame):
        return [_record(r) for r in value.to_dict(orient="records")]
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, tuple):
        return list(value)
    if isinstance(value, float):
        return _number(value)
    return value


def _record(row: dict[Any, Any]) -> dict[str, Any]:
    return {str(k): _cell(v) for k, v in row.items()}


def _cell(value: Any) -> Any:
    if value is pd.NaT:  # a date a row does not have (a shadow price without a period)
        return None
    if isinstance(value, pd.Timestamp):
        return value.strftime("%Y-%m-%d")
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float):
        return _number(value)
    return value


# Solver round-off: a value this close to 0 (days, cases, hours or GBP) is served as 0, and
# -0.0 (a dual's sign on a zero) as 0.0, which a browser would print as "-0".
ROUND_OFF = 1e-9


def _number(value: float) -> float | None:
    if math.isnan(value) or math.isinf(value):
        return None
    return 0.0 if abs(value) < ROUND_OFF else float(value)
