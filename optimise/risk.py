"""Demand risk: what the plan's hours give if referrals come in low or high over the year.

The plan is solved for one demand (the forecast mean, raised in winter periods). Its hours are
then held fixed and evaluated (the fluid model of optimise/fluid.py: urgent cases first, DFG
works at the plan's pace within each district's capital) against two more: the planned demand
of every period multiplied by a low and a high factor, one plus the 10% and 90% quantiles of how
far the forecasts' totals over their backtest windows missed (forecast/totals.py). A period's
own interval would not do: it is mostly that period's noise, which averages out over a year,
while a year that runs high is a level error that persists. Under the plan's own demand the
evaluation reproduces the plan's waits, so the three rows of a district compare like with like.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd

from optimise.fluid import FluidOutcome, evaluate_hours
from optimise.frames import ratio
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult

SCENARIOS = ("low", "planned", "high")
# A high year giving more than this many times the planned delayed days in hospital is a plan
# with little slack for demand: the demo's hours gave 20,048 against 5,102 (3.9 times) and no
# warning said so. 1.5: a high year (referrals a tenth or so above the forecast) that raises
# the delayed days by half is more than its share; queues near full use rise faster than the
# demand, which is what this flags.
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
    demands = scenario_demand(inputs)
    if demands is None or not result.ok:
        return pd.DataFrame(columns=RISK_COLUMNS)
    districts = len(inputs.districts)
    works = result.capital["works_completed"].to_numpy().reshape(districts, -1)
    frames = []
    for name in SCENARIOS:
        scenario = _with_demand(inputs, demands[name])
        outcome = evaluate_hours(scenario, hours, works)
        frames.append(_rows(scenario, outcome, name))
    return pd.concat(frames, ignore_index=True)[RISK_COLUMNS]


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
    return (
        f"if referrals come in high, the plan's hours give {high:,.0f} delayed days in hospital "
        f"(DTOC), {high / planned:,.1f} times the {planned:,.0f} planned (low: {low:,.0f}): its "
        "hours leave little room for a high year. See the demand_risk table for the services "
        "and districts, and hold reserve hours (agency, or teams' max_per_period above the "
        "plan's) for them; the planned figure is the LP's, and its queue simulation's "
        "(simulated_dtoc_days) is the one to expect"
    )
