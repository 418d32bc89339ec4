"""Where the end-of-horizon warning draws its lines: a fee fall of well under nine tenths is
named as a cause, and a queue's trend is measured over the periods before the end only."""

from __future__ import annotations

import numpy as np
import pytest

import optimise
from optimise.horizon import end_of_horizon_warnings
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand
from tests.optimise.test_horizon_end import PERIODS, _arrivals, _with_queue


@pytest.fixture(scope="module")
def solved() -> tuple[PlanInputs, PlanResult]:
    inputs = inputs_of(rich_config(horizon_periods=PERIODS), rich_demand(periods=PERIODS))
    return inputs, optimise.plan(inputs, simulation_runs=0)


def test_fees_falling_by_two_fifths_at_the_end_are_named_as_a_cause(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    # from 500 to 300 a week: 40% lower, past the 10% that counts as a fall
    inputs, result = solved
    level = float(inputs.initial_backlog_cases[inputs.service_index("domcare")].sum())
    path = np.full(PERIODS, level)
    path[-2:] = [level + 2 * _arrivals(inputs, "domcare"), level + 4 * _arrivals(inputs, "domcare")]
    risen = _with_queue(result, "domcare", path)
    revenue = risen.revenue.copy()
    assert revenue.groupby("period").size().eq(1).all()  # one fee figure a period
    revenue["fee_income_gbp"] = np.where(revenue["period"] > PERIODS - 2, 300.0, 500.0)
    [text] = end_of_horizon_warnings(inputs, risen.with_extras(revenue=revenue))
    assert (
        "DFG fee income, which pays for staff, falls from GBP 500 a week on average before to "
        "GBP 300 in those periods" in text
    )
    # 460 a week (8% lower) is not a fall worth naming
    slight = revenue.assign(fee_income_gbp=np.where(revenue["period"] > PERIODS - 2, 460.0, 500.0))
    [plain] = end_of_horizon_warnings(inputs, risen.with_extras(revenue=slight))
    assert "fee income" not in plain


def test_the_trend_is_that_of_the_periods_before_the_end(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    """A queue climbing a period's arrivals `a` each period has trend `a` over periods 1 to 14
    (13a over 13 steps). Its last two periods add 0.95a and 1.9a more: 1.9a beyond that trend
    at the end, under the 2a that is named. (Averaged over all 15 steps, as if the end were part
    of the trend, the trend would be 13a / 15 and the excess 2.17a.)"""
    inputs, result = solved
    a = _arrivals(inputs, "domcare")
    assert a > 1.0  # so the 2a threshold, not the 1-case floor, decides
    level = float(inputs.initial_backlog_cases[inputs.service_index("domcare")].sum())
    path = level + a * np.arange(PERIODS, dtype=float)
    path[-2:] += [0.95 * a, 1.9 * a]
    assert end_of_horizon_warnings(inputs, _with_queue(result, "domcare", path)) == []
    # a little more at the end (2.1a beyond the trend) is named
    path[-1] += 0.2 * a
    [text] = end_of_horizon_warnings(inputs, _with_queue(result, "domcare", path))
    assert "domiciliary care from " in text
