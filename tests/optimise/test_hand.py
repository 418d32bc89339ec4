"""The hand-solved instance: exact allocation, objective, duals and their ranges."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP
from optimise.result import PlanResult
from tests.optimise.factory import hand_config, hand_demand, inputs_of


@pytest.fixture(scope="module")
def hand_plan() -> PlanResult:
    return optimise.plan(inputs_of(hand_config(), hand_demand()))


def test_allocation_is_the_hand_solution(hand_plan: PlanResult) -> None:
    # Budget GBP 200/week. HAO (weight 2) is worth more per GBP but capped at 5 h; the other
    # GBP 150 buys 15 OT hours = 7.5 cases. Works: capital 5,000 buys 5 works, all in week 1.
    hours = hand_plan.hours.set_index(["service", "period"])["hours"]
    assert hours.to_dict() == pytest.approx(
        {("ot", 1): 15.0, ("ot", 2): 15.0, ("hao", 1): 5.0, ("hao", 2): 5.0}
    )
    works = hand_plan.capital.set_index("period")["works_completed"]
    assert works.to_list() == pytest.approx([5.0, 0.0])


def test_backlog_and_objective(hand_plan: PlanResult) -> None:
    backlog = hand_plan.backlog.set_index(["service", "period"])["backlog_cases"]
    # OT: 10 + 5 - 7.5 = 7.5, then 7.5 + 6 - 7.5 = 6; HAO: 8 - 5 = 3, then 3 + 8 - 5 = 6.
    expected = {
        ("ot", 1): 7.5,
        ("ot", 2): 6.0,
        ("hao", 1): 3.0,
        ("hao", 2): 6.0,
        ("dfg_works", 1): 5.0,
        ("dfg_works", 2): 5.0,
    }
    assert backlog.to_dict() == pytest.approx(expected)
    # 7 days x (1 x 13.5 OT + 2 x 9 HAO + 1 x 10 works) person-periods.
    assert hand_plan.objective_weighted_wait_days == pytest.approx(7 * (13.5 + 18 + 10))
    assert hand_plan.status is optimise.PlanStatus.OPTIMAL


def _prices(plan: PlanResult) -> pd.Series:
    return plan.shadow_prices.set_index(["constraint", "index"])["value"]


def test_shadow_prices_in_users_units(hand_plan: PlanResult) -> None:
    prices = _prices(hand_plan)
    # GBP 1 more in week 1 buys 0.05 OT cases earlier, waiting 2 fewer weeks: 0.7 days/GBP,
    # less the spend tie-break of 1e-6 days on each GBP spent.
    tie = 1000 * SPEND_TIE_BREAK_DAYS_PER_GBP
    assert prices[("revenue", "1")] == pytest.approx(700.0 - tie)
    assert prices[("revenue", "2")] == pytest.approx(350.0 - tie)
    # One HAO hour in week 1: 1 case x 2 weeks x 7 days x weight 2 = 28, minus the GBP 10
    # taken from OT (10 x 0.7 = 7): 21 days. Week 2: 14 - 3.5 = 10.5.
    assert prices[("team_hours_max", "hao/north/1")] == pytest.approx(21.0)
    assert prices[("team_hours_max", "hao/north/2")] == pytest.approx(10.5)
    assert prices[("team_hours_max", "ot/north/1")] == pytest.approx(0.0)
    # GBP 1,000 more capital = one more works case done in week 1 rather than never: 14 days.
    assert prices[("capital", "rugby")] == pytest.approx(14.0)


def test_revenue_price_range(hand_plan: PlanResult) -> None:
    row = hand_plan.shadow_prices.set_index(["constraint", "index"]).loc[("revenue", "1")]
    # Below GBP 50 the HAO hours would be cut; above GBP 320 week 2's OT backlog empties.
    assert (row["range_low"], row["range_high"]) == pytest.approx((50.0, 320.0))
    assert "GBP 1,000" in row["statement"]


@pytest.mark.parametrize("solver", ["pulp-highs", "cbc"])
def test_pulp_solvers_agree(hand_plan: PlanResult, solver: str) -> None:
    other = optimise.plan(inputs_of(hand_config(), hand_demand()), solver=solver)
    assert other.objective_weighted_wait_days == pytest.approx(
        hand_plan.objective_weighted_wait_days
    )
    left, right = _prices(hand_plan), _prices(other)
    assert right.to_numpy() == pytest.approx(left.to_numpy(), abs=1e-6)


def test_binding_constraints_named(hand_plan: PlanResult) -> None:
    binding = set(zip(hand_plan.binding["constraint"], hand_plan.binding["index"], strict=True))
    assert {("revenue", "1"), ("revenue", "2"), ("capital", "rugby")} <= binding
    assert ("team_hours_max", "hao/north/1") in binding
    assert ("team_hours_max", "ot/north/1") not in binding


def test_a_price_quoted_per_more_than_its_range_says_how_far_it_holds(
    hand_plan: PlanResult,
) -> None:
    """Week 1's budget is GBP 200 and its price holds up to GBP 320 (above it week 2's OT
    backlog empties): an extra GBP 1,000 was said to save 700 days, which only the first
    GBP 120 of it does. Capital's range (to GBP 10,000 from 5,000) covers its GBP 1,000."""
    statements = hand_plan.shadow_prices.set_index(["constraint", "index"])["statement"]
    assert statements[("revenue", "1")] == (
        "Period 1: an extra GBP 1,000 of revenue budget saves 700 weighted waiting days (holds "
        "for a bound from 50 to 320 GBP), for the first GBP 120 only; beyond that the price falls"
    )
    assert statements[("capital", "rugby")] == (
        "An extra GBP 1,000 of DFG capital for Rugby saves 14 weighted waiting days (holds for "
        "a bound from 0 to 10,000 GBP)"
    )
    # a price of 0 cannot fall: nothing is added however narrow its range
    assert statements[("team_hours_min", "hao/north/1")].endswith(
        "(holds for a bound up to 5 hours)"
    )
