"""Baselines spend the plan's money and use the floor hours they pay for.

A team's floor hours are paid whether used or not. The baselines used to split the plan's
money in proportion to demand as if there were no floor, then pay the floor on top where the
split fell below it, so a baseline spent more than the plan ("against baselines at the same
staff spend") and left the extra hours idle while cases waited.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given

import optimise
from optimise.baselines import _money, carried_forward_hours, proportional_hours
from optimise.frames import budget_sum, team_sum
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of
from tests.optimise.lp_instances import FAST, requests


def test_a_floor_above_demands_share_is_used_not_paid_on_top() -> None:
    """GBP 200 a week; HAO's floor of 12 hours (GBP 120) is above its share of the money by
    demand (80 of 180: GBP 89). The plan pays the floor and buys 8 OT hours with the rest.
    The proportional baseline used to buy 11.1 OT hours and 8.9 HAO hours, then pay the
    3.1 HAO floor hours on top: GBP 231 in week 1. Now it uses the floor and buys 8 OT hours."""
    hours = {"ot": bounds(0, 100), "hao": bounds(12, 40)}
    inputs = inputs_of(hand_config(teams=[{"id": "north", "hours": hours}]), hand_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL
    table = result.baselines.set_index("name")
    assert table.loc["plan", "staff_cost_gbp"] == pytest.approx(400.0)
    assert table.loc["proportional_to_demand", "staff_cost_gbp"] == pytest.approx(400.0)
    split = proportional_hours(inputs, _money(inputs, result))
    assert split[:, 0, 0] == pytest.approx([8.0, 12.0])  # OT, HAO hours in week 1


@FAST
@given(requests())
def test_baseline_hours_keep_floors_and_the_money_of_each_budget(
    request: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    inputs = inputs_of(*request)
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL
    money = _money(inputs, result)
    for hours in (proportional_hours(inputs, money), carried_forward_hours(inputs, money)):
        team = team_sum(inputs, hours)
        assert (team >= inputs.hours_min[:, :, None] * (1 - 1e-9) - 1e-9).all()
        assert (team <= inputs.hours_max[:, :, None] * (1 + 1e-9) + 1e-9).all()
        cost = np.einsum("sgt,st->gt", team, inputs.cost_per_hour_gbp)
        assert (budget_sum(inputs, cost, "team") <= money + 1e-6 * np.maximum(money, 1.0)).all()
