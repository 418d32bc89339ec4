"""Fluid evaluation of fixed hours: backlogs, waits and DTOC days, serving urgent cases first."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimise.budgets import capital_bounds, capital_row_of_period
from optimise.build import backlog_cost
from optimise.inputs import PlanInputs
from optimise.model import Array


@dataclass(frozen=True)
class FluidOutcome:
    """What fixed hours achieve: backlog (S, D, T, K), works backlog (D, T) and totals; and
    per period the new cases (S, D, T; domiciliary care's include the reablement completions
    that need it), the cases served (S, D, T), and the works referred and done (D, T)."""

    backlog: Array
    works_backlog: Array
    weighted_wait_days: float
    dtoc_days: float
    arrivals: Array
    served: Array
    works_referred: Array
    works_done: Array


def evaluate_hours(
    inputs: PlanInputs, hours: Array, works_schedule: Array | None = None
) -> FluidOutcome:
    """Serve as many cases as `hours` (S, D, T) allow, urgent class first, period by period.

    DFG works are completed as capital allows: at the pace of `works_schedule` (D, T) where
    given (unused pace carries forward), otherwise as soon as possible."""
    s_count, d_count, periods, k_count = *hours.shape, len(inputs.classes)
    capacity = hours / inputs.hours_per_case[:, None, None]
    backlog = np.zeros((s_count, d_count, periods, k_count))
    waiting = inputs.class_share[:, None, :] * inputs.initial_backlog_cases[:, :, None]
    inflow = np.zeros((s_count, d_count))
    arrivals, served_cases = np.zeros((s_count, d_count, periods)), np.zeros_like(capacity)
    works = _Works(inputs, works_schedule)
    for t in range(periods):
        arrivals[:, :, t] = inputs.demand_cases[:, :, t] + inflow
        waiting = waiting + inputs.class_share[:, None, :] * arrivals[:, :, t, None]
        served = _serve(waiting, capacity[:, :, t])
        waiting = waiting - served
        backlog[:, :, t, :] = waiting
        served_cases[:, :, t] = served.sum(axis=2)
        inflow = _care_inflow(inputs, served)
        works.step(t, _ot_served(inputs, served))
    cost = backlog_cost(inputs)[:, None, None, :]
    weighted = float(
        (backlog * cost).sum() + works.backlog.sum() * inputs.works_wait_weight * inputs.period_days
    )
    dtoc = float(
        (backlog.sum(axis=3) * inputs.hospital_share[:, None, None]).sum() * inputs.period_days
    )
    return FluidOutcome(
        backlog=backlog,
        works_backlog=works.backlog,
        weighted_wait_days=weighted,
        dtoc_days=dtoc,
        arrivals=arrivals,
        served=served_cases,
        works_referred=works.referred,
        works_done=works.done,
    )


def _serve(waiting: Array, capacity: Array) -> Array:
    """Cases served per class (S, D, K): classes in order (urgent first) until capacity runs out."""
    served = np.zeros_like(waiting)
    left = capacity.copy()
    for k in range(waiting.shape[2]):
        served[:, :, k] = np.minimum(waiting[:, :, k], left)
        left = left - served[:, :, k]
    return served


def _care_inflow(inputs: PlanInputs, served: Array) -> Array:
    inflow = np.zeros(served.shape[:2])
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    if reab is not None and dom is not None:
        inflow[dom] = inputs.p_reab_dom * served[reab].sum(axis=1)
    return inflow


def _ot_served(inputs: PlanInputs, served: Array) -> Array:
    ot = inputs.service_index("ot")
    return served[ot].sum(axis=1) if ot is not None else np.zeros(served.shape[1])


class _Works:
    """DFG works: referred by OT, done at the schedule's pace within each district's capital."""

    def __init__(self, inputs: PlanInputs, schedule: Array | None) -> None:
        self.inputs = inputs
        self.schedule = schedule
        self.pace = np.zeros(len(inputs.districts))
        self.waiting = inputs.initial_works_backlog_cases.copy()
        self.capital_left = capital_bounds(inputs)[:, 0].copy()
        self.backlog = np.zeros((len(inputs.districts), len(inputs.period_start)))
        self.referred, self.done = np.zeros_like(self.backlog), np.zeros_like(self.backlog)

    def step(self, t: int, ot_served: Array) -> None:
        rows = capital_row_of_period(self.inputs)
        if t > 0 and rows[t] != rows[t - 1]:  # a new financial year's capital, none carried
            self.capital_left = capital_bounds(self.inputs)[:, rows[t]].copy()
        self.referred[:, t] = self.inputs.p_ot_dfg * ot_served
        self.waiting = self.waiting + self.referred[:, t]
        cost = self.inputs.cost_per_adaptation_gbp[:, t]
        done = np.minimum(self.waiting, self.capital_left / cost)
        if self.schedule is not None:
            self.pace = self.pace + self.schedule[:, t]
            done = np.minimum(done, self.pace)
            self.pace = self.pace - done
        self.waiting = self.waiting - done
        self.capital_left = self.capital_left - done * cost
        self.backlog[:, t] = self.waiting
        self.done[:, t] = done
