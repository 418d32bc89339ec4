"""Monotonicity of the optimal weighted waiting in what a planner or finance officer can add:
more team hours, more DFG capital or a higher fee (on top of the grant) never increases it;
more demand never decreases it. (More revenue budget: test_properties and test_team_budgets.)

Waiting is the first solve's (a plan's `first_stage_weighted_wait_days`, what the LP
minimises; the published even-waits plan keeps it within 1e-6), with room for the spend
tie-break, which may trade a millionth of a waiting day per GBP.
"""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

import optimise
from optimise.build import build_model, weighted_wait_days
from tests.optimise.factory import hand_config, hand_demand, inputs_of
from tests.optimise.lp_instances import FAST, SERVICES, pennies, requests


def waiting(raw: dict[str, Any], demand: pd.DataFrame) -> float:
    """The optimal weighted waiting (the first solve's, as a plan reports it)."""
    model = build_model(inputs_of(raw, demand))
    outcome = optimise.solve(model)
    assert outcome.ok, outcome.message
    return weighted_wait_days(model, outcome.col_value)


def room(days: float) -> float:
    return 1e-5 * max(1.0, abs(days)) + 1e-3


@FAST
@given(requests(), st.data())
def test_more_hours_capital_or_fee_never_increase_waiting(
    request: tuple[dict[str, Any], pd.DataFrame], data: st.DataObject
) -> None:
    raw, demand = request
    before = waiting(raw, demand)
    more_hours = copy.deepcopy(raw)
    team = data.draw(st.sampled_from(more_hours["teams"]))
    bounds = team["hours"][data.draw(st.sampled_from(SERVICES))]
    bounds["max_per_period"] += data.draw(st.floats(0.0, 50.0))
    assert waiting(more_hours, demand) <= before + room(before)
    more_capital = copy.deepcopy(raw)
    data.draw(st.sampled_from(more_capital["districts"]))["capital_gbp"] += data.draw(
        st.floats(0.0, 30000.0).map(pennies)
    )
    assert waiting(more_capital, demand) <= before + room(before)
    if not raw["fees"]["charged_to_grant"]:  # from the grant, a fee also costs works (below)
        higher = copy.deepcopy(raw)
        higher["fees"]["dfg_fee_rate"] += data.draw(st.floats(0.0, 0.5))
        assert waiting(higher, demand) <= before + room(before)


@FAST
@given(requests(), st.data())
def test_more_demand_never_decreases_waiting(
    request: tuple[dict[str, Any], pd.DataFrame], data: st.DataObject
) -> None:
    raw, demand = request
    before = waiting(raw, demand)
    more = demand.copy()
    row = data.draw(st.integers(0, len(more) - 1))
    more.loc[row, "cases"] += data.draw(st.floats(0.0, 20.0))
    assert waiting(raw, more) >= before - room(before)


def test_a_fee_charged_to_the_grant_can_cost_waiting() -> None:
    """Not a monotone property, and not meant to be: charged to the grant, each works case
    uses cost + fee of capital, so where capital, not revenue, is what limits the plan a
    higher fee completes fewer works and waiting rises (README, fee sweeps)."""
    from_grant = hand_config(
        fees={"dfg_fee_rate": 0.0, "charged_to_grant": True}, revenue_budget_gbp_per_period=1e6
    )
    dearer = hand_config(
        fees={"dfg_fee_rate": 0.25, "charged_to_grant": True}, revenue_budget_gbp_per_period=1e6
    )
    low, high = waiting(from_grant, hand_demand()), waiting(dearer, hand_demand())
    # 5,000 of capital at 1,000 a case (5 works) or 1,250 (4): one more case waits 2 weeks.
    assert high - low == pytest.approx(14.0)
