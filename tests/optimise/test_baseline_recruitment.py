"""Baselines keep every staffing limit the plan keeps, recruitment limits included.

The two baselines ("the plan against simple allocations") spend the plan's own staff money.
They kept team floors and ceilings but not the recruitment limits (how far a team's hours may
change from one period to the next): where a team was still recruiting, the money the plan
had to spend on agency hours bought the baseline in-house hours at once, and on random
instances with recruitment limits a baseline "beat" the plan in 4 of 360 plans, by hiring
faster than the plan is allowed to. Now each team's hours start from its current hours and
move toward the simple rule's no faster than its limits allow (optimise/baselines.py).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optimise
from optimise.baselines import _money, carried_forward_hours, proportional_hours
from optimise.build import worst_district_days
from optimise.check import staffing_residuals
from optimise.fluid import evaluate_hours
from optimise.frames import budget_sum, team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array
from optimise.result import PlanResult
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of
from tests.optimise.lp_instances import FAST, SERVICES, requests

RULES = {"proportional_to_demand": proportional_hours, "carried_forward": carried_forward_hours}


@st.composite
def staffing_requests(draw: st.DrawFn, equity: bool = False) -> tuple[dict[str, Any], pd.DataFrame]:
    """A generated request (lp_instances.requests) whose teams may have recruitment limits
    and current hours, each drawn or not; current hours are lowered where the budget could
    not pay for cutting from them as fast as the limits allow (so the plan is feasible).
    With `equity`, a worst-district weight (0 to 500) and the even-waits stage on or off."""
    raw, demand = draw(requests())
    raw = copy.deepcopy(raw)
    for team in raw["teams"]:
        for s in SERVICES:
            hours = team["hours"][s]
            low, high = hours["min_per_period"], hours["max_per_period"]
            if draw(st.booleans()):
                hours["max_change_per_period"] = draw(st.floats(0.0, 0.5)) * max(high, 1.0)
            if draw(st.booleans()):
                hours["current_per_period"] = low + draw(st.floats(0.0, 1.0)) * (high - low)
    _affordable(raw)
    if equity:
        raw["equity"] = {
            "worst_district_weight": draw(st.floats(0.0, 500.0)),
            "even_waits": draw(st.booleans()),
        }
    return raw, demand


def _affordable(raw: dict[str, Any]) -> None:
    """Where a budget cannot pay, in some period, for its teams' hours coming down from the
    current hours as fast as the limits allow, start them within one period's cut of the
    floor (the floors are affordable: lp_instances)."""
    cost = {s["id"]: s["cost_per_hour_gbp"] for s in raw["services"]}
    own = [t for t in raw["teams"] if "revenue_budget_gbp_per_period" in t]
    groups = [([t], t["revenue_budget_gbp_per_period"]) for t in own] or [
        (raw["teams"], raw["revenue_budget_gbp_per_period"])
    ]
    for teams, budget in groups:
        hours = [h for t in teams for h in t["hours"].items()]
        if all(
            sum(cost[s] * _cut(h, k) for s, h in hours) <= budget
            for k in range(1, raw["horizon_periods"] + 1)
        ):
            continue
        for _, h in hours:
            if h.get("current_per_period") is not None and "max_change_per_period" in h:
                h["current_per_period"] = min(
                    h["current_per_period"], h["min_per_period"] + h["max_change_per_period"]
                )


def _cut(hours: dict[str, Any], periods: int) -> float:
    """A team's fewest hours `periods` after the current ones."""
    current, limit = hours.get("current_per_period"), hours.get("max_change_per_period")
    if current is None or limit is None:
        return float(hours["min_per_period"])
    return float(max(hours["min_per_period"], current - periods * limit))


def _plan(request: tuple[dict[str, Any], pd.DataFrame]) -> tuple[PlanInputs, PlanResult]:
    inputs = inputs_of(*request)
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL, result.message
    return inputs, result


def _keeps_the_plans_limits(inputs: PlanInputs, result: PlanResult, hours: Array) -> None:
    """In-house hours within every team's floor, ceiling and recruitment limits (the plan's
    own checks, optimise/check.py), paid for by the plan's spend of each budget and period."""
    staff = team_sum(inputs, hours)
    for limit, broken in staffing_residuals(inputs, staff).items():
        assert float(np.max(broken, initial=0.0)) <= 1e-6 * max(1.0, float(staff.max())), limit
    money = _money(inputs, result)
    cost = budget_sum(inputs, np.einsum("sgt,st->gt", staff, inputs.cost_per_hour_gbp), "team")
    assert (cost <= money + 1e-6 * np.maximum(money, 1.0)).all()


def _room(days: float) -> float:
    """Solver tolerance, the even-waits tolerance (1e-6) and the spend tie-break."""
    return 1e-5 * max(1.0, abs(days)) + 1e-3


@FAST
@given(staffing_requests())
def test_baselines_keep_the_plans_staffing_limits_and_never_wait_less(
    request: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    inputs, result = _plan(request)
    money = _money(inputs, result)
    table = result.baselines.set_index("name")
    plan_days = table.loc["plan", "weighted_wait_days"]
    assert plan_days == pytest.approx(result.objective_weighted_wait_days, rel=1e-6, abs=1e-6)
    spent = table.loc["plan", "staff_cost_gbp"] + table.loc["plan", "agency_cost_gbp"]
    for name, rule in RULES.items():
        _keeps_the_plans_limits(inputs, result, rule(inputs, money))
        assert table.loc[name, "staff_cost_gbp"] <= spent + 1e-6 * max(1.0, spent)
        assert table.loc[name, "weighted_wait_days"] >= plan_days - _room(plan_days), name


@FAST
@given(staffing_requests(equity=True))
def test_with_a_worst_district_weight_no_baseline_has_a_lower_objective(
    request: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    """With a worst-district weight the plan trades waiting days for its worst district, so a
    baseline may wait fewer weighted days than the plan (a baseline ignores the equity term)
    but never has a lower objective: waiting plus the weight x the worst district's weighted
    waiting days per referral, each measured as the plan's are."""
    inputs, result = _plan(request)
    money = _money(inputs, result)
    works = result.capital["works_completed"].to_numpy().reshape(len(inputs.districts), -1)
    for rule in RULES.values():
        hours = rule(inputs, money)
        _keeps_the_plans_limits(inputs, result, hours)
        outcome = evaluate_hours(inputs, hours, works)
        term = inputs.worst_district_weight * worst_district_days(inputs, outcome.backlog)
        objective = outcome.weighted_wait_days + term
        assert objective >= result.objective_value - _room(result.objective_value)


def _recruiting() -> tuple[PlanInputs, PlanResult]:
    """OT has no staff yet and may add 2 hours a week; agency hours (at 1.5 times the rate)
    fill the gap. The plan spends GBP 200 a week: 2 then 4 in-house OT hours, 5 HAO hours
    and agency OT hours with the rest."""
    hours = {
        "ot": bounds(
            0,
            100,
            agency_max_per_period=30.0,
            max_change_per_period=2.0,
            current_per_period=0.0,
        ),
        "hao": bounds(0, 5),
    }
    raw = hand_config(teams=[{"id": "north", "hours": hours}])
    demand = hand_demand()
    demand["cases"] = demand["cases"] * 4  # enough waiting to use every hour
    inputs = inputs_of(raw, demand)
    return inputs, optimise.plan(inputs, simulation_runs=0)


def test_a_team_still_recruiting_is_not_staffed_at_once() -> None:
    """The proportional baseline used to buy 11 in-house OT hours with the plan's GBP 200 in
    week 1 (the plan may have 2) and wait less than the plan; now its OT hours grow by the
    recruitment limit, 2 then 4, and the money it cannot spend on them is left unspent. (The
    carried-forward baseline holds the current staffing: no OT hours.)"""
    inputs, result = _recruiting()
    assert result.status is optimise.PlanStatus.OPTIMAL
    staffing = result.staffing.set_index(["service", "period"])
    assert staffing.loc[("ot", 1), "staff_hours"] == pytest.approx(2.0)
    assert staffing.loc[("ot", 1), "agency_hours"] > 0
    money = _money(inputs, result)
    assert team_sum(inputs, proportional_hours(inputs, money))[0, 0] == pytest.approx([2, 4])
    assert team_sum(inputs, carried_forward_hours(inputs, money))[0, 0] == pytest.approx([0, 0])
    table = result.baselines.set_index("name")
    plan_days = table.loc["plan", "weighted_wait_days"]
    assert (table["weighted_wait_days"].drop("plan") > plan_days + 1.0).all()


def test_hours_that_may_only_come_down_slowly_are_cut_in_time() -> None:
    """OT starts at 15 hours and may lose 2 a week; the plan spends GBP 200, then GBP 110.
    Carried forward holds 15 OT and 5 HAO hours (GBP 200). In week 2 OT cannot go below 13
    hours if it stays at 15 in week 1, GBP 130, over week 2's money; so week 1 already cuts
    OT to 13 (and HAO by the same factor, 13/15), and week 2 has 11 OT hours and none left
    for HAO."""
    hours = {
        "ot": bounds(0, 100, max_change_per_period=2.0, current_per_period=15.0),
        "hao": bounds(0, 5, current_per_period=5.0),
    }
    raw = hand_config(teams=[{"id": "north", "hours": hours}])
    inputs = inputs_of(raw, hand_demand())
    staff = team_sum(inputs, carried_forward_hours(inputs, np.array([[200.0, 110.0]])))
    assert staff[:, 0, 0] == pytest.approx([13.0, 5.0 * 13 / 15])
    assert staff[:, 0, 1] == pytest.approx([11.0, 0.0], abs=1e-9)
