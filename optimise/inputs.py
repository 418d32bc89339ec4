"""PlanInputs: the arrays (with units) the LP works on, built from a config and demand frame."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimise.config import (
    EquityConfig,
    FeesConfig,
    FeeYearConfig,
    PlanningConfig,
    ServiceConfig,
    ServiceId,
    financial_year_label,
    has_own_budget,
)
from optimise.demand import MONTH_DAYS, demand_cube, risk_factors
from optimise.errors import PlanInputError, raise_together

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
HOSPITAL_SERVICES = ("reablement", "domcare")
# A service's wait_warning_days where its config gives none, days: reablement is a
# rapid-response service of up to about six weeks (seeds/001, Halton's peer review, paragraph
# 43), so a wait longer than the service itself is worth a warning. The other services have no
# such figure in the reports, so no limit unless a config gives one.
DEFAULT_WAIT_WARNING_DAYS = {"reablement": 42.0}
POOLED = "pooled"  # the budget shared by every team without its own
# Services (and the DFG works queue) as planners name them, in sentences a plan writes; ids
# elsewhere. The dashboard's SERVICE_NAMES (api/static/dashboard.js) say the same.
SERVICE_NAMES = {"ot": "OT", "hao": "HAO", "domcare": "domiciliary care", "dfg_works": "DFG works"}


def service_name(service: str) -> str:
    return SERVICE_NAMES.get(service, service)


@dataclass(frozen=True)
class PlanInputs:
    """Everything the LP needs. Axes: S services, D districts, G teams, T periods, K classes."""

    name: str
    version: str
    services: tuple[str, ...]
    districts: tuple[str, ...]
    district_names: tuple[str, ...]
    teams: tuple[str, ...]
    classes: tuple[str, ...]
    team_of_district: IntArray  # (D,) index into teams
    period_days: int
    period_start: tuple[pd.Timestamp, ...]  # (T,)
    demand_cases: Array  # (S, D, T) new cases per period, as planned for (winter raised)
    forecast_cases: Array  # (S, D, T) the forecast mean (= demand_cases outside winter)
    class_share: Array  # (S, K) triage share of each class
    wait_weight: Array  # (S, K) weight per person-day waiting
    initial_backlog_cases: Array  # (S, D)
    hours_per_case: Array  # (S,)
    # (S, T) GBP an in-house (or commissioned) hour costs in each period, and an agency hour:
    # the rate of the financial year the period starts in (services[].cost_per_hour_gbp, or
    # its cost_per_hour_gbp_by_year), resolved here once for every use (`_hourly_rates`)
    cost_per_hour_gbp: Array  # (S, T)
    agency_cost_per_hour_gbp: Array  # (S, T)
    # (S, T) GBP of charge income an hour served earns in each period: the charge of the
    # financial year the period starts in (services[].charge_gbp_per_hour, or its
    # charge_gbp_per_hour_by_year) x the paying share, resolved here once (`_charge_rates`)
    charge_income_gbp_per_hour: Array  # (S, T)
    hospital_share: Array  # (S,) share of waiting cases who wait in hospital
    hospital_delay_weight: Array  # (S,) extra weight per DTOC day
    hours_min: Array  # (S, G) per period
    hours_max: Array  # (S, G) per period
    agency_max_hours: Array  # (S, G) per period
    max_change_hours: Array  # (S, G) per period, inf = unlimited
    current_hours: Array  # (S, G) hours in the period before the plan, nan = unknown
    budgets: tuple[str, ...]  # B revenue budgets: team ids with their own, then POOLED if used
    budget_of_team: IntArray  # (G,) index into budgets
    revenue_budget_gbp: Array  # (B, T) each period's (by year: its share of its years')
    budget_per_financial_year: bool  # revenue rows sum each financial year's periods
    financial_years: tuple[str, ...]  # labels such as '2025-26' of the years in the horizon
    year_of_period: IntArray  # (T,) index into financial_years
    capital_gbp: Array  # (D,) over the horizon, not pooled (by year: the years' sum)
    # (D, T) capital per works case completed in each period (+ that period's fee if
    # charged_to_grant)
    cost_per_adaptation_gbp: Array
    # (D, T) DFG fee per works case completed in each period: the fee structure (fees, or its
    # by_year entry of the financial year the period starts in) on the district's cost a case,
    # resolved here once (`_fees`)
    fee_per_case_gbp: Array  # (D, T)
    initial_works_backlog_cases: Array  # (D,)
    max_works_per_period: Array  # (D,) works completed a period at most (inf: no limit)
    p_ot_dfg: float
    p_reab_dom: float
    works_wait_weight: float
    equity_max_wait_days: float | None
    equity_from_period: int  # 1-based
    worst_district_weight: float
    even_waits: bool = True  # solve the second, even-waits stage (optimise/tiebreak.py)
    even_waits_tolerance: float = 1e-6  # relative slack it may take on the first's waiting
    steady_hours_weight: float = 0.1  # days of its term per hour of week-to-week change
    # (S,) hours one FTE gives the service in a week (nan: not given, no fte figures)
    hours_per_fte: Array | None = None
    # (S,) the wait in a period, days, past which a plan warns (services[].wait_warning_days;
    # nan: none); None: no service has one
    wait_warning_days: Array | None = None
    # (S, D) what a low and a high year multiply demand by, where the demand gives them
    # (optimise/risk.py)
    demand_low_factor: Array | None = None
    demand_high_factor: Array | None = None
    # (D,) the config's cost of a works case, before any fee (cost_per_adaptation_gbp adds the
    # fee where it is charged to the grant); None: cost_per_adaptation_gbp's least a period
    works_cost_gbp: Array | None = None
    # (S, D) each district's own limits on the hours spent on its cases of a service, hours per
    # period (districts[].hours): floor 0 and ceiling inf where it gives none; None: no district
    # gives any
    district_hours_min: Array | None = None
    district_hours_max: Array | None = None
    # (S, D) each district's own cap on a service's average wait, days (districts[].
    # max_avg_wait_days; inf: none), from equity_from_period; None: no district gives one
    district_max_wait_days: Array | None = None
    # (D, Y) each district's DFG capital per financial year, along financial_years, where the
    # config gives it so (districts[].capital_by_year_gbp); None: capital_gbp over the horizon
    capital_by_year_gbp: Array | None = None
    # (B, Y) each revenue budget's whole financial year's amount, along financial_years, where
    # the config gives it so (revenue_budget_gbp_by_year; NaN for a budget given per period);
    # None: every budget per period
    revenue_budget_by_year_gbp: Array | None = None
    # (S, D, T) the hospital-pressure index that raised each winter period's demand (NaN
    # outside the winter months); None without a winter.pressure_series
    winter_index: Array | None = None

    @property
    def shape(self) -> tuple[int, int, int, int, int]:
        """(S, D, G, T, K)."""
        return (
            len(self.services),
            len(self.districts),
            len(self.teams),
            len(self.period_start),
            len(self.classes),
        )

    @property
    def capital_per_financial_year(self) -> bool:
        """Each district's capital bounds each financial year's works, not the horizon's."""
        return self.capital_by_year_gbp is not None

    @property
    def pooled_only(self) -> bool:
        """One budget for every team (the model then keeps its revenue rows per period only)."""
        return self.budgets == (POOLED,)

    @property
    def budget_of_district(self) -> IntArray:
        """(D,) index into budgets of each district's team."""
        return self.budget_of_team[self.team_of_district]

    def service_index(self, service: str) -> int | None:
        return self.services.index(service) if service in self.services else None


def build_inputs(
    config: PlanningConfig, demand: pd.DataFrame, demand_from: str = "the demand"
) -> PlanInputs:
    """Arrays for the LP from a validated config and a long demand frame (service, district, ds,
    cases); `demand_from` names where the demand came from in a refusal (`the newest
    forecasts`)."""
    service_ids = tuple(s.id for s in config.services)
    services: tuple[str, ...] = service_ids
    districts = tuple(d.id for d in config.districts)
    teams = tuple(t.id for t in config.teams)
    cubed = demand_cube(config, demand, services, districts, demand_from)
    starts, cube, forecast, winter_index = cubed
    factors = risk_factors(demand, services, districts)
    classes = _classes(config.services)
    team_of = np.array([teams.index(d.team) for d in config.districts], dtype=np.int64)
    years, year_of_period = financial_years(starts)
    raise_together(_years_lacking(config, starts, years))
    budgets, budget_of_team, revenue_gbp, revenue_by_year = _budget_arrays(config, starts, years)
    equity = config.equity or EquityConfig()  # no section: the defaults (only even waits on)
    limits = _district_limits(config, service_ids)
    return PlanInputs(
        name=config.name,
        version=config.version,
        services=services,
        districts=districts,
        district_names=tuple(d.name for d in config.districts),
        teams=teams,
        classes=classes,
        team_of_district=team_of,
        period_days=config.period_days,
        period_start=starts,
        demand_cases=_frozen(cube),
        forecast_cases=_frozen(forecast),
        class_share=_frozen(np.array([_shares(s, classes) for s in config.services])),
        wait_weight=_frozen(np.array([_weights(s, classes) for s in config.services])),
        initial_backlog_cases=_initial_backlog(config, service_ids),
        **_service_arrays(config.services),
        **_hourly_rates(config.services, years, year_of_period),
        charge_income_gbp_per_hour=_charge_rates(config.services, years, year_of_period),
        **_team_arrays(config, service_ids),
        budgets=budgets,
        budget_of_team=budget_of_team,
        revenue_budget_gbp=revenue_gbp,
        revenue_budget_by_year_gbp=revenue_by_year,
        budget_per_financial_year=config.revenue_budget_basis == "financial_year",
        financial_years=years,
        year_of_period=year_of_period,
        **_district_arrays(config, years, year_of_period),
        p_ot_dfg=config.flows.p_ot_dfg,
        p_reab_dom=config.flows.p_reab_dom,
        works_wait_weight=config.works_wait_weight,
        equity_max_wait_days=equity.max_avg_wait_days,
        equity_from_period=equity.applies_from_period,
        worst_district_weight=equity.worst_district_weight,
        even_waits=equity.even_waits,
        even_waits_tolerance=equity.even_waits_tolerance,
        steady_hours_weight=equity.steady_hours_weight,
        demand_low_factor=None if factors is None else _frozen(factors[0]),
        demand_high_factor=None if factors is None else _frozen(factors[1]),
        winter_index=None if winter_index is None else _frozen(winter_index),
        district_hours_min=limits[0],
        district_hours_max=limits[1],
        district_max_wait_days=limits[2],
    )


def financial_years(starts: tuple[pd.Timestamp, ...]) -> tuple[tuple[str, ...], IntArray]:
    """Labels ('2025-26') of the financial years the periods start in, and each period's index
    (English local government years run from 1 April)."""
    first = [s.year if s.month >= 4 else s.year - 1 for s in starts]
    years = sorted(set(first))
    labels = tuple(financial_year_label(y) for y in years)
    return labels, np.array([years.index(y) for y in first], dtype=np.int64)


def _frozen(values: npt.ArrayLike) -> Array:
    out = np.array(values, dtype=np.float64)
    out.setflags(write=False)
    return out


def _initial_backlog(config: PlanningConfig, services: tuple[ServiceId, ...]) -> Array:
    districts = config.districts
    return _frozen([[d.initial_backlog_cases.get(s, 0.0) for d in districts] for s in services])


def _classes(services: list[ServiceConfig]) -> tuple[str, ...]:
    return ("urgent", "standard") if any(s.urgent_share > 0 for s in services) else ("standard",)


def _shares(service: ServiceConfig, classes: tuple[str, ...]) -> list[float]:
    if len(classes) == 1:
        return [1.0]
    return [service.urgent_share, 1.0 - service.urgent_share]


def _weights(service: ServiceConfig, classes: tuple[str, ...]) -> list[float]:
    if len(classes) == 1:
        return [service.wait_weight]
    urgent = service.urgent_wait_weight
    return [service.wait_weight if urgent is None else urgent, service.wait_weight]


def hospital_shares(services: Iterable[ServiceConfig]) -> dict[str, float]:
    """Each service's share of its waiting cases who wait in hospital, as plans reckon DTOC."""
    return {s.id: _hospital_share(s) for s in services}


def _hospital_share(service: ServiceConfig) -> float:
    if service.hospital_share is not None:
        return service.hospital_share
    return 1.0 if service.id in HOSPITAL_SERVICES else 0.0


def _service_arrays(services: list[ServiceConfig]) -> dict[str, Array]:
    return {
        "hours_per_case": _frozen([s.hours_per_case for s in services]),
        "hospital_share": _frozen([_hospital_share(s) for s in services]),
        "hospital_delay_weight": _frozen([s.hospital_delay_weight for s in services]),
        "hours_per_fte": _frozen(
            [np.nan if s.hours_per_fte is None else s.hours_per_fte for s in services]
        ),
        "wait_warning_days": _frozen([_wait_warning_days(s) for s in services]),
    }


def _hourly_rates(
    services: list[ServiceConfig], years: tuple[str, ...], year_of_period: IntArray
) -> dict[str, Array]:
    """(S, T) each service's in-house and agency cost of an hour in each period: its
    cost_per_hour_gbp in every period, or its cost_per_hour_gbp_by_year of the financial year
    the period starts in (`years`, `year_of_period`), as a period counts in the year it starts
    in everywhere in a plan. Raises PlanInputError for a service without a year the periods
    start in; a year they never reach is left out, as a district's capital_by_year_gbp is."""
    rates = []
    for s in services:
        if s.cost_per_hour_gbp_by_year is None:
            assert s.cost_per_hour_gbp is not None  # the config gives exactly one
            rates.append(np.full(len(year_of_period), s.cost_per_hour_gbp))
            continue
        field = f"services[{s.id}].cost_per_hour_gbp_by_year"
        given = _by_year(field, s.cost_per_hour_gbp_by_year, years, "a rate")
        rates.append(np.array(given)[year_of_period])
    rate = np.array(rates, dtype=np.float64).reshape(len(services), len(year_of_period))
    premium = np.array([[s.agency_premium] for s in services]).reshape(len(services), 1)
    return {"cost_per_hour_gbp": _frozen(rate), "agency_cost_per_hour_gbp": _frozen(rate * premium)}


def _by_year(field: str, given: Mapping[str, Any], years: tuple[str, ...], what: str) -> list[Any]:
    """`given`'s entries for `years`, the financial years the plan's periods start in, in
    order; raises PlanInputError naming `field` for a year left out (`what`: "a rate"). A year
    the periods never reach is left out, as a district's capital_by_year_gbp is."""
    raise_together(_year_gap(field, given, years, what))
    return [given[y] for y in years]


def _year_gap(
    field: str, given: Mapping[str, Any], years: tuple[str, ...], what: str
) -> list[PlanInputError]:
    """The problem of `given` (the config's `field`) lacking any of `years`, if it does."""
    missing = [y for y in years if y not in given]
    if not missing:
        return []
    expected = f"{what} for every financial year the plan's periods start in {list(years)}"
    return [PlanInputError(field, expected, f"none for {json.dumps(missing)}")]


def _years_lacking(
    config: PlanningConfig, starts: tuple[pd.Timestamp, ...], years: tuple[str, ...]
) -> list[PlanInputError]:
    """Every money field given by financial year that lacks a year the plan's periods start in
    (or, for a revenue budget, reach), in the order a plan reads them: the revenue budgets,
    the services' rates and charges, the districts' capital, the fees. Found together, so a
    config is mended at once, not one field a round trip."""
    problems = [
        gap
        for field, by_year in _budgets_by_year(config)
        for gap in _budget_gap(field, by_year, starts, config.period_days)
    ]
    for s in config.services:
        for attr, what in (
            ("cost_per_hour_gbp_by_year", "a rate"),
            ("charge_gbp_per_hour_by_year", "a charge"),
        ):
            if (given := getattr(s, attr)) is not None:
                problems += _year_gap(f"services[{s.id}].{attr}", given, years, what)
    if all(d.capital_by_year_gbp is not None for d in config.districts):
        for d in config.districts:
            field = f"districts[{d.id}].capital_by_year_gbp"
            problems += _year_gap(field, d.capital_by_year_gbp or {}, years, "a sum")
    if config.fees.year_fees() is None and config.fees.by_year is not None:
        problems += _year_gap("fees.by_year", config.fees.by_year, years, "a fee")
    return problems


def _budgets_by_year(config: PlanningConfig) -> list[tuple[str, Mapping[str, float]]]:
    """Each revenue budget given by financial year, as (its field, its years): the teams' own,
    then the pooled one."""
    teams = [
        (f"teams[{t.id}].revenue_budget_gbp_by_year", t.revenue_budget_gbp_by_year)
        for t in config.teams
        if has_own_budget(t)
    ]
    given = [*teams, ("revenue_budget_gbp_by_year", config.revenue_budget_gbp_by_year)]
    return [(field, by_year) for field, by_year in given if by_year is not None]


def _charge_rates(
    services: list[ServiceConfig], years: tuple[str, ...], year_of_period: IntArray
) -> Array:
    """(S, T) each service's charge income an hour served in each period: its
    charge_gbp_per_hour, or its charge_gbp_per_hour_by_year of the financial year the period
    starts in, times its charge_paying_share. Raises PlanInputError for a service without a
    year the periods start in."""
    rows = []
    for s in services:
        share = s.charge_paying_share
        if s.charge_gbp_per_hour_by_year is None:
            rows.append(np.full(len(year_of_period), s.charge_gbp_per_hour * share))
            continue
        field = f"services[{s.id}].charge_gbp_per_hour_by_year"
        charges = _by_year(field, s.charge_gbp_per_hour_by_year, years, "a charge")
        rows.append((np.array(charges, dtype=np.float64) * share)[year_of_period])
    return _frozen(np.array(rows, dtype=np.float64).reshape(len(services), len(year_of_period)))


def _wait_warning_days(service: ServiceConfig) -> float:
    if service.wait_warning_days is not None:
        return service.wait_warning_days
    return DEFAULT_WAIT_WARNING_DAYS.get(service.id, np.nan)


def _team_arrays(config: PlanningConfig, services: tuple[ServiceId, ...]) -> dict[str, Array]:
    def grid(attr: str, missing: float) -> Array:
        rows = [[getattr(t.hours[s], attr) for t in config.teams] for s in services]
        return _frozen([[missing if v is None else v for v in row] for row in rows])

    return {
        "hours_min": grid("min_per_period", 0.0),
        "hours_max": grid("max_per_period", 0.0),
        "agency_max_hours": grid("agency_max_per_period", 0.0),
        "max_change_hours": grid("max_change_per_period", np.inf),
        "current_hours": grid("current_per_period", np.nan),
    }


def _district_arrays(
    config: PlanningConfig, years: tuple[str, ...], year_of_period: IntArray
) -> dict[str, Any]:
    by_year = _capital_by_year(config, years)
    cost = np.array([d.cost_per_adaptation_gbp for d in config.districts])
    fee = _fees(config.fees, cost, years, year_of_period)
    # a fee charged to the grant is paid with each case: the fee of the period's year
    grant_fee = fee if config.fees.charged_to_grant else np.zeros_like(fee)
    return {
        "capital_gbp": _frozen(
            [d.capital_gbp or 0.0 for d in config.districts] if by_year is None else by_year.sum(1)
        ),
        "capital_by_year_gbp": by_year,
        "cost_per_adaptation_gbp": _frozen(cost[:, None] + grant_fee),
        "works_cost_gbp": _frozen(cost),
        "fee_per_case_gbp": _frozen(fee),
        "initial_works_backlog_cases": _frozen(
            [d.initial_works_backlog_cases for d in config.districts]
        ),
        "max_works_per_period": _frozen(
            [
                np.inf if d.max_works_per_period is None else d.max_works_per_period
                for d in config.districts
            ]
        ),
    }


def _fees(fees: FeesConfig, cost: Array, years: tuple[str, ...], year_of_period: IntArray) -> Array:
    """(D, T) the DFG fee on a works case of each district (its cost a case, `cost`, (D,))
    completed in each period: the fee rate within its minimum and maximum, of fees, or of
    fees.by_year's entry for the financial year the period starts in. Raises PlanInputError
    for a year the periods start in that by_year leaves out."""
    one = fees.year_fees()
    if one is not None:
        fee = _bounded_fee(cost, one)
        return np.repeat(fee[:, None], len(year_of_period), axis=1)
    assert fees.by_year is not None  # the config gives exactly one
    structures = _by_year("fees.by_year", fees.by_year, years, "a fee")
    each = np.array([_bounded_fee(cost, f) for f in structures]).reshape(len(years), len(cost))
    return each.T[:, year_of_period]


def _bounded_fee(cost: Array, fees: FeeYearConfig) -> Array:
    """(D,) a fee structure's fee on each district's works case costing `cost`."""
    fee = cost * fees.dfg_fee_rate
    fee = np.maximum(fee, fees.min_fee_per_case_gbp)
    if fees.max_fee_per_case_gbp is not None:
        fee = np.minimum(fee, fees.max_fee_per_case_gbp)
    return fee


def _capital_by_year(config: PlanningConfig, years: tuple[str, ...]) -> Array | None:
    """(D, Y) the districts' capital_by_year_gbp along `years`, the financial years the plan's
    periods start in; None where they give capital_gbp. Raises PlanInputError for a district
    without a year the periods reach. A year they never reach is left out: a stored config keeps
    planning as its horizon moves on, past a year it gave (2026-27 once the plan starts after
    March 2027) and short of one it gives ahead (next year's allocation, known early)."""
    if any(d.capital_by_year_gbp is None for d in config.districts):
        return None  # the config allows no mix: none gives capital by year
    field = "districts[{}].capital_by_year_gbp"
    return _frozen(
        [
            _by_year(field.format(d.id), d.capital_by_year_gbp or {}, years, "a sum")
            for d in config.districts
        ]
    )


def _district_limits(
    config: PlanningConfig, services: tuple[ServiceId, ...]
) -> tuple[Array | None, Array | None, Array | None]:
    """(S, D) the districts' own hours floors, ceilings and wait caps, each None where no
    district gives one (so a plan without them builds the LP it always did)."""

    def grid(values: list[list[float | None]], missing: float) -> Array | None:
        if all(v is None for row in values for v in row):
            return None
        return _frozen([[missing if v is None else v for v in row] for row in values])

    def hours(attr: str) -> list[list[float | None]]:
        return [
            [getattr(d.hours[s], attr) if s in d.hours else None for d in config.districts]
            for s in services
        ]

    floors = [[v or None for v in row] for row in hours("min_per_period")]  # 0: no floor
    caps = [[d.max_avg_wait_days.get(s) for d in config.districts] for s in services]
    return grid(floors, 0.0), grid(hours("max_per_period"), np.inf), grid(caps, np.inf)


def _budget_arrays(
    config: PlanningConfig, starts: tuple[pd.Timestamp, ...], years: tuple[str, ...]
) -> tuple[tuple[str, ...], IntArray, Array, Array | None]:
    """Each team with its own budget is a budget holder; the rest share the pooled one. Each
    budget's amount per period (B, T), and (B, Y) its financial years' along `years` where
    any budget is given by year (NaN for one given per period), else None."""
    own = [t for t in config.teams if has_own_budget(t)]
    budgets = tuple(t.id for t in own)
    given = [
        (f"teams[{t.id}].", t.revenue_budget_gbp_per_period, t.revenue_budget_gbp_by_year)
        for t in own
    ]
    pooled = (config.revenue_budget_gbp_per_period, config.revenue_budget_gbp_by_year)
    if any(p is not None for p in pooled):
        budgets += (POOLED,)
        given.append(("", *pooled))
    of_team = [budgets.index(t.id) if has_own_budget(t) else len(budgets) - 1 for t in config.teams]
    amounts, whole_years = [], []
    for label, per_period, by_year in given:
        if by_year is None:
            amounts.append(np.full(len(starts), per_period or 0.0))
            whole_years.append(np.full(len(years), np.nan))
        else:
            field = f"{label}revenue_budget_gbp_by_year"
            amounts.append(budget_by_period(field, by_year, starts, config.period_days))
            whole_years.append(np.array([by_year[y] for y in years]))
    by_year_given = any(by_year is not None for _, _, by_year in given)
    return (
        budgets,
        np.array(of_team, dtype=np.int64),
        _frozen(amounts),
        _frozen(whole_years) if by_year_given else None,
    )


def budget_by_period(
    field: str, by_year: Mapping[str, float], starts: tuple[pd.Timestamp, ...], period_days: int
) -> Array:
    """(T,) GBP: each period's share of the financial years' budgets `by_year` (the config's
    `field`), a year's amount x the period's days in it / the year's days, so a week across 1
    April takes a share of each year. A period is `period_days` from its start, or its calendar
    month where the periods are monthly (every start the first of a month). Raises
    PlanInputError for a year the periods reach but `by_year` does not give; a year they never
    reach is left out, as a district's capital_by_year_gbp is (`_capital_by_year`)."""
    _, spans = _spans(starts, period_days)
    raise_together(_budget_gap(field, by_year, starts, period_days))
    return np.array(
        [
            sum(by_year[financial_year_label(y)] * days / year_days(y) for y, days in parts)
            for parts in spans
        ]
    )


def _budget_gap(
    field: str, by_year: Mapping[str, float], starts: tuple[pd.Timestamp, ...], period_days: int
) -> list[PlanInputError]:
    """The problem of a revenue budget by year (the config's `field`) lacking a financial year
    the periods reach (`_spans`), if it does."""
    length, spans = _spans(starts, period_days)
    reached = [financial_year_label(y) for y in sorted({y for p in spans for y, _ in p})]
    missing = [year for year in reached if year not in by_year]
    if not missing:
        return []
    last = starts[-1].normalize() + length - pd.Timedelta(days=1)
    expected = (
        f"the whole year's budget for every financial year the plan's periods reach {reached} "
        f"(from {starts[0]:%Y-%m-%d} to {last:%Y-%m-%d})"
    )
    return [PlanInputError(field, expected, f"none for {json.dumps(missing)}")]


def _spans(
    starts: tuple[pd.Timestamp, ...], period_days: int
) -> tuple[pd.DateOffset | pd.Timedelta, list[list[tuple[int, int]]]]:
    """A period's length, and for each period, (its financial years' starts, its days in each)."""
    monthly = period_days in MONTH_DAYS and all(s.day == 1 for s in starts)
    length = pd.DateOffset(months=1) if monthly else pd.Timedelta(days=period_days)
    spans = []
    for start in starts:
        day, end = start.normalize(), start.normalize() + length
        parts = []
        while day < end:
            year = day.year if day.month >= 4 else day.year - 1
            upto = min(end, pd.Timestamp(year + 1, 4, 1))
            parts.append((year, (upto - day).days))
            day = upto
        spans.append(parts)
    return length, spans


def year_days(start: int) -> int:
    """Days in the financial year from 1 April of `start`: 366 where it holds a 29 February."""
    return (pd.Timestamp(start + 1, 4, 1) - pd.Timestamp(start, 4, 1)).days
