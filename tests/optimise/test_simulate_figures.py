"""The queue simulation's own figures, pinned to values worked out by hand.

tests/optimise/test_simulate.py checks the simulation's shape and wording; these check its
numbers. Each case sets the planned daily service rates by hand (or forces them through the
LP's hour bounds), so the expected person-days and cases served follow from the simulation's
stated rules alone: each day, Poisson arrivals join the queue, then reablement's referrals of
a period before, then whole cases are served as the day's capacity credit allows (a fraction
of a case carries to the next day, idle capacity banks at most one case), then the day's end
queue is counted as person-days. Reablement completions become domcare referrals (thinned
by `p_reab_dom`) on the same day of the next period, as the LP's one-period lag; OT
completions become DFG works referrals (thinned by `p_ot_dfg`) the same day.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimise
from optimise.inputs import PlanInputs
from optimise.simulate import simulate, with_simulation
from tests.optimise.factory import bounds, demand_frame, district, inputs_of, service

DAYS = 7


def _config(
    backlog: dict[str, float],
    periods: int,
    p_reab_dom: float = 0.0,
    p_ot_dfg: float = 0.0,
    **overrides: Any,
) -> dict[str, Any]:
    """One district, one team, the given services (their ids are the backlog's keys)."""
    ids = list(backlog)
    raw: dict[str, Any] = {
        "name": "sim",
        "version": "1",
        "period_days": DAYS,
        "horizon_periods": periods,
        "services": [service(s, 1.0, 10.0, 1.0) for s in ids],
        "teams": [{"id": "north", "hours": {s: bounds(0, 1000) for s in ids}}],
        "districts": [district("rugby", "north", 1e6, backlog)],
        "revenue_budget_gbp_per_period": 50_000.0,
        "fees": {"dfg_fee_rate": 0.0},
        "flows": {"p_ot_dfg": p_ot_dfg, "p_reab_dom": p_reab_dom},
        "works_wait_weight": 1.0,
    }
    raw.update(overrides)
    return raw


def _inputs(raw: dict[str, Any], cases_per_day: dict[str, list[float]]) -> PlanInputs:
    """Inputs whose demand is the given new cases a day, per service and period."""
    cases = {(s, "rugby"): [DAYS * c for c in per_day] for s, per_day in cases_per_day.items()}
    return inputs_of(raw, demand_frame(cases))


def _with_rates(
    inputs: PlanInputs, per_day: dict[str, list[float]], works_per_day: list[float]
) -> optimise.PlanResult:
    """A solved plan of `inputs` whose cases served (a day, per service and period) and DFG
    works completed are replaced by hand-chosen rates, so the simulation's figures do not
    depend on what the LP chose."""
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.ok
    hours = result.hours.copy()
    hours["cases_served"] = [
        DAYS * per_day[s][int(p) - 1]
        for s, p in zip(hours["service"], hours["period"], strict=True)
    ]
    capital = result.capital.copy()
    capital["works_completed"] = [DAYS * works_per_day[int(p) - 1] for p in capital["period"]]
    return result.with_extras(hours=hours, capital=capital)


def _figures(frame: pd.DataFrame) -> dict[str, tuple[float, float]]:
    """(simulated person-days, simulated cases served) per service: one district. The frame
    gives cases served as person-days over mean wait, so they are NaN where nobody waited."""
    served = frame["sim_person_days"] / frame["sim_wait_days"]
    return {
        s: (float(days), float(n))
        for s, days, n in zip(frame["service"], frame["sim_person_days"], served, strict=True)
    }


def test_a_known_backlog_drains_to_exact_person_days_and_refers_on() -> None:
    """No new arrivals and referral probabilities of 1 make every run the same, so the
    figures are exact (worked day by day; person-days are end-of-day queues):

    - OT: 4 waiting, half a case a day: one served every other day, the last on period 2's
      first day with the half-case credit carried over: 4, 3, 3, 2, 2, 1, 1 = 16 person-days.
    - DFG works: OT's completions (period 1's days 2, 4, 6 and period 2's day 1) join the
      same day; a quarter of a works case a day completes one every fourth day: queues
      0, 1, 1, 1, 1, 2, 2 (8), then 2, 2, 2, 2, 1, 1, 1 (11), then 1 on period 3's first day
      (its credit of three quarters carried over; dropped, the case would wait 3 days more):
      20 person-days, 4 done.
    - Reablement: 10 waiting, 1.5 a day in period 1, so 1, 2, 1, 2, 1, 2, 1 served (the half
      left after serving carries to the next day): 9, 7, 6, 4, 3, 1, 0 = 30, 10 served.
    - Domcare: none waiting and no capacity in period 1; reablement's completions arrive on
      the same days of period 2, served 1 a day: queues 0, 1, 1, 2, 2, 3, 3 (12), then 2, 1
      in period 3 (3): 15 person-days, 10 served.
    """
    raw = _config(
        {"ot": 4.0, "reablement": 10.0, "domcare": 0.0},
        periods=3,
        p_reab_dom=1.0,
        p_ot_dfg=1.0,
    )
    inputs = _inputs(raw, {s: [0.0] * 3 for s in ("ot", "reablement", "domcare")})
    result = _with_rates(
        inputs,
        {"ot": [0.5] * 3, "reablement": [1.5, 0.0, 0.0], "domcare": [0.0, 1.0, 1.0]},
        works_per_day=[0.25] * 3,
    )
    figures = _figures(simulate(inputs, result, runs=3, seed=5))
    assert figures == {
        "ot": (16.0, 4.0),
        "reablement": (30.0, 10.0),
        "domcare": (15.0, 10.0),
        "dfg_works": (20.0, 4.0),
    }


def test_idle_capacity_banks_one_case_and_no_more() -> None:
    """Domcare has 1 case a day and nobody to serve in period 1: one case of it is banked
    (not seven). Reablement's 6 (3 a day, days 1-2) arrive on period 2's days 1-2: day 1
    serves 2 (the day's and the banked), day 2 one: queues 1, 3, 2, 1, 0 = 7 person-days.
    Banking nothing would give 2, 4, 3, 2, 1 (12); banking the whole idle week, 0."""
    raw = _config({"reablement": 6.0, "domcare": 0.0}, periods=2, p_reab_dom=1.0)
    inputs = _inputs(raw, {"reablement": [0.0, 0.0], "domcare": [0.0, 0.0]})
    result = _with_rates(
        inputs, {"reablement": [3.0, 0.0], "domcare": [1.0, 1.0]}, works_per_day=[0.0, 0.0]
    )
    figures = _figures(simulate(inputs, result, runs=2, seed=9))
    assert figures["reablement"] == (3.0, 6.0)  # queues 3, 0
    assert figures["domcare"] == (7.0, 6.0)


def test_referrals_are_thinned_and_wait_a_period_for_domcare() -> None:
    """Reablement: 2 new cases a day, served the day they come (capacity 50 a day), so
    Poisson(14) a period served. With `p_reab_dom` 0.5 each period's completions
    are Poisson(7) domcare referrals a period later, one a day on average. Domcare has no
    capacity until period 3 (then 100 a day): period 2's referrals queue all week, so its
    end-of-day queue is R1 + ... + Rn with Rn ~ Poisson(1), mean n, and the week's
    person-days sum_n (8 - n) Rn, mean 28 and variance 1 + 4 + ... + 49 = 140. Served:
    periods 2 and 3's referrals, half periods 1 and 2's completions, Poisson(14).
    Tolerances are 4 standard errors over the runs."""
    runs = 200
    raw = _config({"reablement": 0.0, "domcare": 0.0}, periods=3, p_reab_dom=0.5)
    inputs = _inputs(raw, {"reablement": [2.0] * 3, "domcare": [0.0] * 3})
    result = _with_rates(
        inputs,
        {"reablement": [50.0] * 3, "domcare": [0.0, 0.0, 100.0]},
        works_per_day=[0.0] * 3,
    )
    figures = _figures(simulate(inputs, result, runs=runs, seed=2))
    domcare_days, domcare_served = figures["domcare"]
    assert figures["reablement"][0] == 0.0  # nobody waits a day for reablement
    assert domcare_served == pytest.approx(14.0, abs=4 * math.sqrt(14 / runs))
    assert domcare_days == pytest.approx(28.0, abs=4 * math.sqrt(140 / runs))


def _light_queue_moments(rate_per_day: float, days: int) -> tuple[float, float]:
    """Mean and variance of the person-days (summed end-of-day queues) of a queue fed
    Poisson(rate_per_day) a day, served 1 a day, idle capacity banking one case, starting
    empty with one case banked: the state (queue, banked) is a Markov chain, carried with
    the first two moments of its running sum."""
    top = 40  # longer queues (and more arrivals a day) have negligible probability here
    arrivals = np.arange(16)
    pmf = np.array(
        [math.exp(-rate_per_day) * rate_per_day**a / math.factorial(a) for a in arrivals]
    )
    prob, first, second = (np.zeros((top + 1, 2)) for _ in range(3))
    prob[0, 1] = 1.0
    for _ in range(days):
        new_prob, new_first, new_second = (np.zeros_like(prob) for _ in range(3))
        for queue in range(top + 1):
            for banked in (0, 1):
                if prob[queue, banked] == 0:
                    continue
                for a, p in zip(arrivals, pmf, strict=True):
                    waiting, credit = queue + a, banked + 1
                    done = min(waiting, credit)
                    left, bank = min(waiting - done, top), min(credit - done, 1)
                    new_prob[left, bank] += p * prob[queue, banked]
                    new_first[left, bank] += p * (first[queue, banked] + left * prob[queue, banked])
                    new_second[left, bank] += p * (
                        second[queue, banked]
                        + 2 * left * first[queue, banked]
                        + left**2 * prob[queue, banked]
                    )
        prob, first, second = new_prob, new_first, new_second
    mean = float(first.sum())
    return mean, float(second.sum()) - mean**2


def test_a_lightly_loaded_queue_waits_as_its_markov_chain_says() -> None:
    """Domcare fed only by reablement's completions (Poisson 0.7 a day, all served the day
    they come, `p_reab_dom` 1) and served 1 a day runs at 70% use: from period 2 on its
    queue is the chain of `_light_queue_moments`, whose exact mean and variance over the 35
    days give the expected person-days and a 4-standard-error tolerance for the runs' mean."""
    runs, periods, rate = 400, 6, 0.7
    raw = _config({"reablement": 0.0, "domcare": 0.0}, periods=periods, p_reab_dom=1.0)
    inputs = _inputs(raw, {"reablement": [rate] * periods, "domcare": [0.0] * periods})
    result = _with_rates(
        inputs,
        {"reablement": [50.0] * periods, "domcare": [1.0] * periods},
        works_per_day=[0.0] * periods,
    )
    mean, variance = _light_queue_moments(rate, DAYS * (periods - 1))
    figures = _figures(simulate(inputs, result, runs=runs, seed=4))
    assert figures["reablement"][0] == 0.0
    assert figures["domcare"][0] == pytest.approx(mean, abs=4 * math.sqrt(variance / runs))


def test_a_queue_far_from_empty_waits_as_the_lp_says_and_is_not_flagged() -> None:
    """Through the LP: hours fixed at 7 cases a week each. Reablement holds 60 waiting with 7
    new a week, so it stays at 60 in the LP (2,520 person-days over 6 weeks); in the
    simulation its queue after day n is 60 + (arrivals so far - n), mean 60 (it never
    empties), and the 42 days' sum has variance 1^2 + ... + 42^2 = 25,585. It serves exactly
    1 a day, so with `p_reab_dom` 1 domcare receives exactly 1 a day from period 2: its 60
    fall 1 a day through week 1 (59 + ... + 53 = 392) and then hold at 53 (35 x 53 = 1,855):
    2,247 in every run, against the LP's 53 x 42 = 2,226 (counted at each week's end). Both
    are within 15% of the LP's, so the plan carries no simulation warning."""
    runs = 20
    raw = _config(
        {"reablement": 60.0, "domcare": 60.0},
        periods=6,
        p_reab_dom=1.0,
        teams=[{"id": "north", "hours": {s: bounds(7, 7) for s in ("reablement", "domcare")}}],
        equity={"even_waits": False},  # the tie-break may leave 6.9999 cases in a week
    )
    inputs = _inputs(raw, {"reablement": [1.0] * 6, "domcare": [0.0] * 6})
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.hours["cases_served"].to_numpy() == pytest.approx(np.full(12, 7.0), abs=1e-9)
    simulated = with_simulation(inputs, result, runs=runs, seed=0)
    frame = simulated.simulation.set_index("service")
    assert frame.loc["reablement", "lp_person_days"] == pytest.approx(2520.0)
    assert frame.loc["domcare", "lp_person_days"] == pytest.approx(2226.0)
    assert frame.loc["reablement", "sim_person_days"] == pytest.approx(
        2520.0, abs=4 * math.sqrt(25_585 / runs)
    )
    assert frame.loc["domcare", "sim_person_days"] == 2247.0
    assert not frame["flagged"].any()
    assert not [w for w in simulated.warnings if "15%" in w]
    assert simulated.simulated_dtoc_days == pytest.approx(
        frame.loc["reablement", "sim_person_days"] + 2247.0
    )


def test_a_backlog_split_between_classes_keeps_its_whole_cases() -> None:
    """Half urgent, half standard: reablement's 3 waiting and domcare's 5 start the
    simulation as 3 and 5 cases (not 2 + 2 each, rounding each class's 1.5 and 2.5 on its
    own). Reablement, 1 a day: queues 2, 1, 0 (3 person-days), 3 served, all referred on
    to domcare, which has no capacity: 5 for week 1 (35), then 6, 7, 8 and 8 for the rest
    of week 2 (53): 88."""
    raw = _config({"reablement": 3.0, "domcare": 5.0}, periods=2, p_reab_dom=1.0)
    raw["services"] = [
        service(s, 1.0, 10.0, 1.0, urgent_share=0.5, urgent_wait_weight=2.0)
        for s in ("reablement", "domcare")
    ]
    inputs = _inputs(raw, {"reablement": [0.0, 0.0], "domcare": [0.0, 0.0]})
    assert inputs.classes == ("urgent", "standard")
    result = _with_rates(
        inputs, {"reablement": [1.0, 1.0], "domcare": [0.0, 0.0]}, works_per_day=[0.0, 0.0]
    )
    figures = _figures(simulate(inputs, result, runs=4, seed=3))
    assert figures["reablement"] == (3.0, 3.0)
    assert figures["domcare"][0] == 88.0
