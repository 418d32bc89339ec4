"""Stochastic check of a plan: Poisson arrivals at the forecast rates, daily service at the
planned rates, urgent class first and first come first served within a class; simulated
waits are set beside the LP's fluid predictions and differences over 15% are flagged."""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimise.frames import ratio
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult

Counts = npt.NDArray[np.int64]
FLAG_SHARE = 0.15
SIM_COLUMNS = [
    "service",
    "district",
    "lp_person_days",
    "sim_person_days",
    "lp_wait_days",
    "sim_wait_days",
    "difference_pct",
    "flagged",
]


def simulate(inputs: PlanInputs, result: PlanResult, runs: int = 20, seed: int = 0) -> pd.DataFrame:
    """Per service (and DFG works) and district: LP vs simulated person-days and mean waits.

    Mean wait is person-days waiting over cases served (Little's law) for both, so the two
    columns compare like with like. Within a class the order of service does not change the
    class's person-days, so queues are simulated as counts.
    """
    if not result.ok:
        return pd.DataFrame(columns=SIM_COLUMNS)
    care, works = _planned_rates(inputs, result)
    sim = _Simulation(inputs, care, works, runs, np.random.default_rng(seed))
    person_days, served = sim.run()
    lp_days, lp_served = _lp_totals(inputs, result)
    return _frame(inputs, lp_days, lp_served, person_days, served)


def with_simulation(
    inputs: PlanInputs, result: PlanResult, runs: int = 20, seed: int = 0
) -> PlanResult:
    """The result with its simulation frame and a warning where waits differ by over 15%."""
    frame = simulate(inputs, result, runs, seed)
    flagged = int(frame["flagged"].sum()) if len(frame) else 0
    simulated = simulated_delayed_days(inputs, frame)[1] if len(frame) else math.nan
    result = result.with_extras(simulated_dtoc_days=simulated)
    if not flagged:
        return result.with_extras(simulation=frame)
    warning = (
        f"simulated waits differ from the LP's by more than {FLAG_SHARE:.0%} for {flagged} of "
        f"{len(frame)} service-district pairs (queues near full use wait longer than a fluid "
        "model predicts): see the simulation table" + _delayed_days_note(inputs, frame)
    )
    return result.with_extras(simulation=frame, warnings=(*result.warnings, warning))


def simulated_delayed_days(inputs: PlanInputs, frame: pd.DataFrame) -> tuple[float, float]:
    """(LP, simulated) delayed days in hospital: each service's person-days waiting times the
    share of its waiting who wait in hospital, as the plan's `dtoc_days` are reckoned."""
    share = dict(zip(inputs.services, inputs.hospital_share, strict=True))
    weights = frame["service"].map(share).fillna(0.0).to_numpy(dtype=float)
    lp = float(frame["lp_person_days"].to_numpy(dtype=float) @ weights)
    sim = float(frame["sim_person_days"].to_numpy(dtype=float) @ weights)
    return lp, sim


def _delayed_days_note(inputs: PlanInputs, frame: pd.DataFrame) -> str:
    """The headline delayed days are the LP's; where the simulated queues would make more than
    15% more (or fewer), say how many, so the headline is not read as the expected figure."""
    lp, sim = simulated_delayed_days(inputs, frame)
    if sim <= 0 or abs(sim - lp) <= FLAG_SHARE * lp:
        return ""
    return (
        f"; the simulated queues mean {sim:,.0f} delayed days in hospital against the LP's "
        f"{lp:,.0f}"
    )


def _planned_rates(inputs: PlanInputs, result: PlanResult) -> tuple[Array, Array]:
    """Planned cases served per period: care (S, D, T) and DFG works (D, T)."""
    shape = (len(inputs.services), len(inputs.districts), len(inputs.period_start))
    care = result.hours["cases_served"].to_numpy().reshape(shape)
    works = result.capital["works_completed"].to_numpy().reshape(shape[1:])
    return care, works


def _lp_totals(inputs: PlanInputs, result: PlanResult) -> tuple[Array, Array]:
    """LP person-days and cases served per (service incl. works, district): (S + 1, D)."""
    frame = result.backlog.assign(days=result.backlog["backlog_cases"] * inputs.period_days)
    order = [*inputs.services, "dfg_works"]
    totals = frame.groupby(["service", "district"])[["days", "cases_served"]].sum()
    index = pd.MultiIndex.from_product([order, list(inputs.districts)])
    shape = (len(order), len(inputs.districts))
    totals = totals.reindex(index).fillna(0.0)
    return totals["days"].to_numpy().reshape(shape), totals["cases_served"].to_numpy().reshape(
        shape
    )


def _frame(
    inputs: PlanInputs, lp_days: Array, lp_served: Array, days: Array, served: Array
) -> pd.DataFrame:
    lp_wait, sim_wait = ratio(lp_days, lp_served), ratio(days, served)
    difference = 100.0 * ratio(sim_wait - lp_wait, lp_wait)
    gap = np.abs(days - lp_days) > 1e-6 * np.maximum(1.0, lp_days)
    flagged = np.where(np.isnan(difference), gap, np.abs(difference) > 100 * FLAG_SHARE)
    index = pd.MultiIndex.from_product(
        [[*inputs.services, "dfg_works"], list(inputs.districts)], names=["service", "district"]
    )
    frame = index.to_frame(index=False)
    for name, values in zip(
        SIM_COLUMNS[2:], (lp_days, days, lp_wait, sim_wait, difference, flagged), strict=True
    ):
        frame[name] = np.ravel(values)
    frame["flagged"] = frame["flagged"].astype(bool)
    return frame


def _whole_cases(backlog: Array, class_share: Array) -> Counts:
    """Initial backlog (S, D) as whole cases per class (S, D, K) summing to the rounded
    backlog: each class's share rounded down, then the classes with the largest remainders
    (the more urgent on a tie) one more each. Rounding each class on its own made a backlog
    of 3 split half and half 4 cases (2 + 2), and one of 5 only 4."""
    whole = np.round(backlog)
    exact = class_share[:, None, :] * whole[:, :, None]
    floors = np.floor(exact + 1e-9)
    short = whole - floors.sum(axis=2)  # cases still to place, fewer than K
    order = np.argsort(floors - exact, axis=2, kind="stable")  # largest remainder first
    rank = np.argsort(order, axis=2, kind="stable")
    cases: Counts = (floors + (rank < short[:, :, None])).astype(np.int64)
    return cases


class _Simulation:
    """Daily queue counts for `runs` replications at once: arrays (R, S, D, K)."""

    def __init__(
        self, inputs: PlanInputs, care: Array, works: Array, runs: int, rng: np.random.Generator
    ) -> None:
        self.inputs, self.care, self.works, self.rng = inputs, care, works, rng
        s, d, k = len(inputs.services), len(inputs.districts), len(inputs.classes)
        start = _whole_cases(inputs.initial_backlog_cases, inputs.class_share)
        self.queue = np.broadcast_to(start, (runs, s, d, k)).copy()
        self.works_queue = (
            np.broadcast_to(np.round(inputs.initial_works_backlog_cases), (runs, d))
            .astype(np.int64)
            .copy()
        )
        self.credit, self.works_credit = np.zeros((runs, s, d)), np.zeros((runs, d))
        self.person_days = np.zeros((runs, s + 1, d))
        self.served = np.zeros((runs, s + 1, d))
        self.pending = np.zeros((inputs.period_days, runs, d), dtype=np.int64)  # domcare referrals

    def run(self) -> tuple[Array, Array]:
        days = self.inputs.period_days
        for t in range(len(self.inputs.period_start)):
            for day in range(days):
                self._day(t, day)
        return self.person_days.mean(axis=0), self.served.mean(axis=0)

    def _day(self, t: int, day: int) -> None:
        inputs, days = self.inputs, self.inputs.period_days
        rate = inputs.class_share[:, None, :] * inputs.demand_cases[:, :, t, None] / days
        self.queue += self.rng.poisson(np.broadcast_to(rate, self.queue.shape))
        self._referrals_in(day)
        done = self._serve(self.care[:, :, t] / days)
        self._referrals_out(done, day)
        self.person_days[:, :-1] += self.queue.sum(axis=3)
        self._works_day(t, done)

    def _serve(self, rate: Array) -> Counts:
        """Serve whole cases as the daily credit allows, urgent class first; idle credit beyond one
        case lapses (one is kept, so a rate under a case a day still serves)."""
        self.credit += rate
        left = np.floor(self.credit + 1e-9).astype(np.int64)
        total = np.zeros(left.shape, dtype=np.int64)
        for k in range(self.queue.shape[3]):
            now = np.minimum(self.queue[..., k], left)
            self.queue[..., k] -= now
            left, total = left - now, total + now
        self.credit = np.minimum(self.credit - total, 1.0)
        self.served[:, :-1] += total
        return total

    def _referrals_in(self, day: int) -> None:
        dom = self.inputs.service_index("domcare")
        if dom is not None:
            share = self.inputs.class_share[dom]
            arrivals = self.pending[day]
            split = self.rng.binomial(
                arrivals[..., None], np.broadcast_to(share[:-1], (*arrivals.shape, len(share) - 1))
            )
            self.queue[:, dom, :, :-1] += split
            self.queue[:, dom, :, -1] += arrivals - split.sum(axis=-1)
            self.pending[day] = 0

    def _referrals_out(self, done: Counts, day: int) -> None:
        reab = self.inputs.service_index("reablement")
        if reab is not None and self.inputs.service_index("domcare") is not None:
            self.pending[day] += self.rng.binomial(done[:, reab], self.inputs.p_reab_dom)

    def _works_day(self, t: int, done: Counts) -> None:
        ot = self.inputs.service_index("ot")
        if ot is not None:
            self.works_queue += self.rng.binomial(done[:, ot], self.inputs.p_ot_dfg)
        self.works_credit += self.works[:, t] / self.inputs.period_days
        now = np.minimum(self.works_queue, np.floor(self.works_credit + 1e-9).astype(np.int64))
        self.works_queue -= now
        self.works_credit = np.minimum(self.works_credit - now, 1.0)
        self.served[:, -1] += now
        self.person_days[:, -1] += self.works_queue
