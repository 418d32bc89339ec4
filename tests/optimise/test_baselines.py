"""Baselines at the same staff spend, evaluated by the same fluid model as the plan."""

from __future__ import annotations

import numpy as np
import pytest

import optimise
from optimise.baselines import carried_forward_hours, expected_arrivals, proportional_hours
from optimise.fluid import evaluate_hours
from tests.optimise.factory import (
    full_config,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
)


def test_plan_beats_both_baselines() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    table = result.baselines.set_index("name")
    assert list(table.index) == ["plan", "proportional_to_demand", "carried_forward"]
    assert (table["weighted_wait_days"] >= table.loc["plan", "weighted_wait_days"] - 1e-6).all()
    assert {"dtoc_days", "staff_cost_gbp", "vs_plan_pct"} <= set(table.columns)


def test_fluid_evaluation_of_the_plan_matches_the_lp() -> None:
    # Without the worst-district term the LP objective is exactly the fluid model's waiting
    # when the fluid model serves the plan's hours and completes works at the plan's pace.
    inputs = inputs_of(rich_config(), rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    hours = result.hours["hours"].to_numpy().reshape(4, 3, 6)
    works = result.capital["works_completed"].to_numpy().reshape(3, 6)
    outcome = evaluate_hours(inputs, hours, works)
    assert outcome.weighted_wait_days == pytest.approx(result.objective_weighted_wait_days)
    plan_row = result.baselines.set_index("name").loc["plan"]
    assert plan_row["weighted_wait_days"] == pytest.approx(result.objective_weighted_wait_days)
    assert plan_row["dtoc_days"] == pytest.approx(result.total_dtoc_days)


def test_proportional_hours_spend_the_money_in_demand_shares() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    money = np.array([200.0, 200.0])
    hours = proportional_hours(inputs, money)
    # Demand-cost of OT 5 x 2 x 10 = 100 and HAO 8 x 1 x 10 = 80 in week 1; HAO capped at 5 h.
    assert hours[:, 0, 0] == pytest.approx([200 * 100 / 180 / 10, 5.0])
    assert (np.einsum("sdt,st->t", hours, inputs.cost_per_hour_gbp) <= money + 1e-9).all()


def test_carried_forward_holds_current_staffing() -> None:
    inputs = inputs_of(full_config(), rich_demand())
    hours = carried_forward_hours(inputs, np.full(6, 1e9))
    assert np.allclose(hours, hours[:, :, :1])
    team = hours[:, inputs.team_of_district == 0, 0].sum(axis=1)
    assert team == pytest.approx((inputs.hours_min[:, 0] + inputs.hours_max[:, 0]) / 2)


def test_proportional_hours_count_the_home_care_that_reablement_sends() -> None:
    """Home care's arrivals in the LP include p_reab_dom of reablement's completions a period
    later; a baseline sized on referrals alone starved it (the demo's queue and delayed days
    then grew tenfold, and the plan looked better than it is)."""
    inputs = inputs_of(rich_config(), rich_demand())
    reab, dom = inputs.service_index("reablement"), inputs.service_index("domcare")
    assert reab is not None and dom is not None
    arrivals = expected_arrivals(inputs)
    assert arrivals[dom, :, 0] == pytest.approx(
        inputs.demand_cases[dom, :, 0] + 0.4 * inputs.demand_cases[reab, :, 0]
    )
    assert arrivals[dom, :, 1:] == pytest.approx(
        inputs.demand_cases[dom, :, 1:] + 0.4 * inputs.demand_cases[reab, :, :-1]
    )
    others = [s for s in range(len(inputs.services)) if s != dom]
    assert arrivals[others] == pytest.approx(inputs.demand_cases[others])
    # so the same money buys home care more of the hours than on referrals alone
    money = np.full(6, 10_000.0)  # above the floors' cost, below the ceilings'
    without = inputs_of(rich_config(flows={"p_ot_dfg": 0.3, "p_reab_dom": 0.0}), rich_demand())
    with_flow = proportional_hours(inputs, money)[dom, :, 1:].sum()
    assert with_flow > proportional_hours(without, money)[dom, :, 1:].sum() * 1.1
