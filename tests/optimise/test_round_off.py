"""Solver round-off is served as 0: no -0.0 (a browser prints "-0") and no 2.9e-11 GBP."""

from __future__ import annotations

import json
import math
import re

import numpy as np

import optimise
from optimise.extract import headroom
from optimise.summary import summary_table
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def _numbers(value: object) -> list[float]:
    if isinstance(value, float):
        return [value]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []


def test_a_plan_serves_no_negative_zero_and_no_round_off() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    duals = result.shadow_prices["dual"].to_numpy()
    assert any(d == 0 and math.copysign(1, d) < 0 for d in duals) or (abs(duals) < 1e-9).any()
    numbers = _numbers(result.to_dict())
    assert not any(n == 0 and math.copysign(1, n) < 0 for n in numbers)
    assert not any(0 < abs(n) < 1e-9 for n in numbers)
    assert re.search(r"-0\.0(?![0-9])", json.dumps(result.to_dict())) is None
    assert " -0\n" not in summary_table(result) and " -0 " not in summary_table(result)


def test_a_budget_spent_to_the_penny_leaves_no_headroom_of_round_off() -> None:
    """Budget less net cost is round-off under 1e-9 of the budget: -3.7e-09 GBP of 25
    million (one unit in the last place) is 0, where it was served and exported as a tiny
    overspend; half a pound is kept."""
    budget = np.array([25_000_000.0, 25_000_000.0, 0.0])
    net = np.nextafter(budget, np.inf)
    assert (budget - net)[0] < -1e-9  # more than the absolute round-off the JSON drops
    net[1] = 24_999_999.5
    assert headroom(budget, net).tolist() == [0.0, 0.5, 0.0]
