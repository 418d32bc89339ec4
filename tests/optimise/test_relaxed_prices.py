"""A relaxed plan's shadow prices are in waiting days, with what had to give held at the
plan's amounts, not the relaxation's penalty.

Before, a budget short of its floors by GBP 100 a week reported "an extra GBP 1,000 of
revenue budget saves 28,000 weighted waiting days" (700 below): the penalty of the shortfall
the money would cover, stated as waiting no one would be spared.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optimise
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP, build_model, weighted_wait_days
from optimise.elastic import held, penalties, relax, with_held_prices
from optimise.explain import shadow_price_frame
from optimise.solution import SolveStatus, empty_result
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of
from tests.optimise.lp_instances import FEW, requests


def _too_dear() -> dict[str, Any]:
    # 30 HAO hours at GBP 10 must be paid, but the budget is GBP 200 a week.
    hours = {"ot": bounds(0, 100), "hao": bounds(30, 40)}
    return hand_config(teams=[{"id": "north", "hours": hours}])


def test_the_next_gbp_1000_buys_ot_hours_once_the_floor_is_paid() -> None:
    result = optimise.plan(inputs_of(_too_dear(), hand_demand()), simulation_runs=0)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    prices = result.shadow_prices.set_index(["constraint", "index"])
    # The floor takes the week's GBP 200 and the GBP 100 relaxed; the next GBP buys 0.05 OT
    # cases two weeks sooner in week 1 (0.7 days), one week in week 2 (0.35 days).
    tie = 1000 * SPEND_TIE_BREAK_DAYS_PER_GBP
    assert prices.loc[("revenue", "1"), "value"] == pytest.approx(700.0 - tie)
    assert prices.loc[("revenue", "2"), "value"] == pytest.approx(350.0 - tie)
    # a floor hour costs GBP 10 of that OT: 7 and 3.5 days
    assert prices.loc[("team_hours_min", "hao/north/1"), "value"] == pytest.approx(7.0)
    assert prices.loc[("team_hours_min", "hao/north/2"), "value"] == pytest.approx(3.5)
    # what had to give is held for the price, not for "beyond that the price falls": the
    # clause follows the saving it qualifies, before the range and how far it holds
    assert prices.loc[("revenue", "1"), "statement"] == (
        "Period 1: an extra GBP 1,000 of revenue budget saves 700 weighted waiting days, with "
        "what had to give held at the plan's amounts (holds for a bound from 200 to 500 GBP), "
        "for the first GBP 300 only; beyond that the price falls"
    )
    assert list(result.relaxations["amount"]) == pytest.approx([100.0, 100.0])  # as before


@FEW
@given(requests(affordable=False), st.data())
def test_relaxed_prices_are_what_one_more_unit_saves_with_the_relaxations_held(
    request: tuple[dict[str, Any], pd.DataFrame], data: st.DataObject
) -> None:
    inputs = inputs_of(*request)
    result = optimise.plan(inputs, simulation_runs=0)
    if result.status is not optimise.PlanStatus.INFEASIBLE_RELAXED:
        return  # the floors were affordable after all (fees and charges fund them)
    model = relax(build_model(inputs), inputs)
    first = optimise.solve(model)
    fixed = held(model, first.col_value)
    base = weighted_wait_days(fixed, first.col_value)
    per_gbp = penalties(inputs)["slack_revenue"]
    prices = result.shadow_prices
    for family, step in (("revenue", 1000.0), ("capital", 1000.0), ("team_hours_max", 1.0)):
        block = model.rows[family]
        i = data.draw(st.integers(0, block.size - 1))
        price = prices[prices["constraint"] == family].iloc[i]
        upper = fixed.row_upper.copy()
        upper[block.start + i] += step
        outcome = optimise.solve(replace(fixed, row_upper=upper))
        saved = base - weighted_wait_days(fixed, outcome.col_value)
        room = 1e-5 * max(1.0, abs(price["value"])) + 1e-2
        assert saved <= price["value"] + room
        bound = model.row_upper[block.start + i]
        if not np.isnan(price["range_high"]) and bound + step <= price["range_high"]:
            assert saved == pytest.approx(price["value"], abs=room)
        if family == "revenue":  # not the penalty (10x the most a GBP could save)
            assert price["value"] < per_gbp * 1000 / 2


def test_without_the_held_lp_a_relaxed_plan_states_no_price_rather_than_the_penalty() -> None:
    inputs = inputs_of(_too_dear(), hand_demand())
    model = relax(build_model(inputs), inputs)
    relaxed_outcome = optimise.solve(model)
    failed = empty_result("highs", SolveStatus.TIME_LIMIT, 0.0, "HiGHS: Time limit")
    prices = shadow_price_frame(inputs, model, with_held_prices(relaxed_outcome, failed))
    assert prices["value"].isna().all()
    assert prices["statement"].str.contains("no price", case=False).all()
