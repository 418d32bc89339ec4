"""Residual checker: recompute every constraint of a plan from the plan's own published numbers."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimise.budgets import capital_bounds, capital_row_of_period, revenue_bounds, row_of_period
from optimise.build import backlog_cost
from optimise.frames import axis_values, budget_sum, team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult
from optimise.tiebreak import ABSOLUTE_ROOM_DAYS, worst_wait_sum_days


@dataclass(frozen=True)
class Residual:
    """How far one constraint entry is violated (0 when it holds), in the constraint's unit."""

    constraint: str
    index: str
    violation: float


def residuals(inputs: PlanInputs, result: PlanResult) -> list[Residual]:
    """Every constraint of the LP, re-evaluated from the result frames (not from the solver)."""
    g = _Grids(inputs, result)
    checks: dict[str, Array | list[float]] = {
        "backlog": _backlog(inputs, g),
        "works": _works(inputs, g),
        "capital": _capital(inputs, g),
        "capital_cost": np.abs(g.capital - g.works_done * inputs.cost_per_adaptation_gbp),
        "works_capacity": np.maximum(g.works_done - inputs.max_works_per_period[:, None], 0.0),
        "hours_per_case": np.abs(g.hours - g.cases * inputs.hours_per_case[:, None, None]),
        "team_hours_used": np.maximum(team_sum(inputs, g.hours) - g.staff - g.agency, 0.0),
        **staffing_residuals(inputs, g.staff),
        "agency_max": np.maximum(g.agency - inputs.agency_max_hours[:, :, None], 0.0),
        "revenue": _revenue(inputs, g),
        "equity_cap": _equity(inputs, g),
        **_district_limits(inputs, g),
        "waiting_reported": [
            abs(_weighted_wait_days(inputs, g) - result.objective_weighted_wait_days)
        ],
        "worst_district_reported": [
            abs(_worst_district_term(inputs, g) - result.worst_district_wait_term)
        ],
        "objective_reported": [
            abs(
                _weighted_wait_days(inputs, g)
                + _worst_district_term(inputs, g)
                - result.objective_value
            )
        ],
        "worst_wait_reported": [abs(_worst_wait(inputs, g) - result.worst_wait_sum_days)],
        "keep_waiting": _kept_waiting(inputs, result, g),
        "non_negative": np.maximum(-g.all_values(), 0.0),
    }
    return [
        Residual(name, str(i), float(v))
        for name, values in checks.items()
        for i, v in enumerate(np.ravel(values))
    ]


def staffing_residuals(inputs: PlanInputs, staff: Array) -> dict[str, Array]:
    """How far in-house staff hours (S, G, T) break each team's floor, ceiling and recruitment
    limits (hours; 0 where they hold): the staffing limits a plan keeps, and its baselines."""
    return {
        "team_hours_max": np.maximum(staff - inputs.hours_max[:, :, None], 0.0),
        "team_hours_min": np.maximum(inputs.hours_min[:, :, None] - staff, 0.0),
        "recruitment": _recruitment(inputs, staff),
    }


def max_violation(found: list[Residual]) -> float:
    return max((r.violation for r in found), default=0.0)


class _Grids:
    """The result frames pivoted back onto (service, district, team, period, class) grids."""

    def __init__(self, inputs: PlanInputs, r: PlanResult) -> None:
        self.inputs = inputs
        care = r.backlog[r.backlog["service"] != "dfg_works"]
        works = r.backlog[r.backlog["service"] == "dfg_works"]
        sdpt = ("service", "district", "priority", "period")
        self.backlog = self._grid(care, sdpt, "backlog_cases")
        self.served = self._grid(care, sdpt, "cases_served")
        self.works_backlog = self._grid(works, ("district", "period"), "backlog_cases")
        sdt = ("service", "district", "period")
        self.hours, self.cases = (
            self._grid(r.hours, sdt, "hours"),
            self._grid(r.hours, sdt, "cases_served"),
        )
        stt = ("service", "team", "period")
        self.staff = self._grid(r.staffing, stt, "staff_hours")
        self.agency = self._grid(r.staffing, stt, "agency_hours")
        dt = ("district", "period")
        self.works_done = self._grid(r.capital, dt, "works_completed")
        self.capital = self._grid(r.capital, dt, "capital_gbp")
        self.fees = self._grid(r.revenue, ("period",), "fee_income_gbp")
        self.staff_cost = self._grid(r.revenue, ("period",), "staff_cost_gbp")

    def _grid(self, frame: pd.DataFrame, keys: tuple[str, ...], column: str) -> Array:
        levels = [axis_values(self.inputs, k) for k in keys]
        full = pd.MultiIndex.from_product(levels, names=list(keys))
        indexed = frame.set_index(list(keys))[column]
        values = indexed.reindex(full if len(keys) > 1 else full.get_level_values(0))
        grid = np.nan_to_num(values.to_numpy(dtype=float), nan=np.inf)
        return np.asarray(grid.reshape([len(level) for level in levels]), dtype=np.float64)

    def all_values(self) -> Array:
        parts = [
            self.backlog,
            self.served,
            self.works_backlog,
            self.hours,
            self.staff,
            self.agency,
            self.works_done,
            self.capital,
        ]
        return np.concatenate([p.ravel() for p in parts])


def _backlog(inputs: PlanInputs, g: _Grids) -> Array:
    """|b[t] - b[t-1] - share*(D[t] + inflow[t]) + x[t]| per service, district, class, period."""
    share = inputs.class_share[:, None, :, None]
    previous = np.concatenate(
        [share * inputs.initial_backlog_cases[:, :, None, None], g.backlog[:, :, :, :-1]], axis=3
    )
    arrivals = share * inputs.demand_cases[:, :, None, :]
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    if reab is not None and dom is not None:
        done = g.served[reab].sum(axis=1)  # (D, T)
        flow = inputs.p_reab_dom * np.concatenate(
            [np.zeros((done.shape[0], 1)), done[:, :-1]], axis=1
        )
        arrivals[dom] += inputs.class_share[dom][None, :, None] * flow[:, None, :]
    return np.asarray(np.abs(g.backlog - previous - arrivals + g.served), dtype=np.float64)


def _works(inputs: PlanInputs, g: _Grids) -> Array:
    previous = np.concatenate(
        [inputs.initial_works_backlog_cases[:, None], g.works_backlog[:, :-1]], axis=1
    )
    ot = inputs.service_index("ot")
    referred = inputs.p_ot_dfg * g.cases[ot] if ot is not None else 0.0
    return np.asarray(
        np.abs(g.works_backlog - previous - referred + g.works_done), dtype=np.float64
    )


def _recruitment(inputs: PlanInputs, staff: Array) -> Array:
    previous = np.concatenate([inputs.current_hours[:, :, None], staff[:, :, :-1]], axis=2)
    change = np.abs(staff - previous)
    limit = inputs.max_change_hours[:, :, None]
    return np.where(np.isnan(change), 0.0, np.maximum(change - limit, 0.0))


def _capital(inputs: PlanInputs, g: _Grids) -> Array:
    """Per district (and financial year, where capital is given so): spend over its capital."""
    bounds = capital_bounds(inputs)
    spent = np.zeros(bounds.shape)
    np.add.at(spent.T, capital_row_of_period(inputs), g.capital.T)
    return np.maximum(spent - bounds, 0.0).ravel()


def _revenue(inputs: PlanInputs, g: _Grids) -> Array:
    """Per budget and period (or financial year): spend over budget; then the errors of the
    reported per-period totals."""
    staff = budget_sum(inputs, np.einsum("sgt,st->gt", g.staff, inputs.cost_per_hour_gbp), "team")
    agency = budget_sum(
        inputs, np.einsum("sgt,st->gt", g.agency, inputs.agency_cost_per_hour_gbp), "team"
    )
    fees = budget_sum(inputs, g.works_done * inputs.fee_per_case_gbp, "district")
    charges = budget_sum(
        inputs, np.einsum("sdt,st->dt", g.hours, inputs.charge_income_gbp_per_hour), "district"
    )
    net = np.zeros(revenue_bounds(inputs).shape)
    np.add.at(net.T, row_of_period(inputs), (staff + agency - fees - charges).T)
    over = np.maximum(net - revenue_bounds(inputs), 0.0)
    reported = np.abs(staff.sum(axis=0) - g.staff_cost) + np.abs(fees.sum(axis=0) - g.fees)
    return np.concatenate([over.ravel(), reported])


def _equity(inputs: PlanInputs, g: _Grids) -> Array:
    if inputs.equity_max_wait_days is None:
        return np.zeros(0)
    cap = inputs.equity_max_wait_days * inputs.demand_cases / inputs.period_days
    excess = np.maximum(g.backlog.sum(axis=2) - cap, 0.0)
    return np.asarray(excess[:, :, inputs.equity_from_period - 1 :], dtype=np.float64)


def _district_limits(inputs: PlanInputs, g: _Grids) -> dict[str, Array]:
    """How far each district's hours (S, D, T) break its own floor and ceiling, hours, and
    its backlog its own wait cap (Little's law, as the equity cap), cases."""
    low, high = inputs.district_hours_min, inputs.district_hours_max
    days = inputs.district_max_wait_days
    out: dict[str, Array | list[float]] = {
        "district_hours_min": np.maximum(low[:, :, None] - g.hours, 0.0) if low is not None else [],
        "district_hours_max": np.maximum(g.hours - high[:, :, None], 0.0)
        if high is not None
        else [],
    }
    if days is not None:
        given = np.isfinite(days)[:, :, None]
        cap = np.where(given, days[:, :, None] * inputs.demand_cases / inputs.period_days, np.inf)
        over = np.maximum(g.backlog.sum(axis=2) - cap, 0.0)
        out["district_wait_cap"] = over[:, :, inputs.equity_from_period - 1 :]
    return {name: np.asarray(values, dtype=np.float64) for name, values in out.items()}


def _weighted_wait_days(inputs: PlanInputs, g: _Grids) -> float:
    """The plan's weighted person-days of waiting (what objective_weighted_wait_days reports,
    whatever the equity weights: the worst-district term is not waiting days)."""
    care = np.einsum("sdkt,sk->", g.backlog, backlog_cost(inputs))
    works = inputs.works_wait_weight * inputs.period_days * g.works_backlog.sum()
    return float(care + works)


def _worst_district_term(inputs: PlanInputs, g: _Grids) -> float:
    """The worst-district weight x the longest weighted waiting days per referral of any
    district (the term's column at its optimum; what worst_district_wait_term reports)."""
    referrals = inputs.demand_cases.sum(axis=(0, 2)) + inputs.initial_backlog_cases.sum(axis=0)
    days = np.einsum("sdkt,sk->d", g.backlog, inputs.wait_weight * inputs.period_days)
    per_case = days[referrals > 0] / referrals[referrals > 0]
    return inputs.worst_district_weight * (float(per_case.max()) if per_case.size else 0.0)


def _worst_wait(inputs: PlanInputs, g: _Grids) -> float:
    return worst_wait_sum_days(inputs, g.backlog.transpose(0, 1, 3, 2))


def _kept_waiting(inputs: PlanInputs, result: PlanResult, g: _Grids) -> list[float]:
    """The even-waits stage kept the first stage's weighted waiting within its tolerance."""
    if result.tie_break != "even_waits":
        return []
    first = result.first_stage_weighted_wait_days
    allowed = first + inputs.even_waits_tolerance * abs(first) + ABSOLUTE_ROOM_DAYS
    return [max(_weighted_wait_days(inputs, g) - allowed, 0.0)]
