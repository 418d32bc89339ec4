"""Winter demand raised by a pressure index: a service that does not follow it is not raised."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.optimise.factory import inputs_of, rich_config, rich_demand


def test_elasticity_zero_leaves_a_low_winter_forecast_alone() -> None:
    # a normal level far above the forecast: only services that follow pressure rise to it
    demand = rich_demand()
    january = pd.DatetimeIndex(demand["ds"]).month == 1
    demand = demand.assign(winter_index=np.where(january, 1.2, 1.0), normal_cases=100.0)
    winter = {"pressure_series": "p", "pressure_elasticity": {"ot": 0.0}, "months": [1]}
    got = inputs_of(rich_config(winter=winter), demand)
    assert got.demand_cases[0] == pytest.approx(got.forecast_cases[0])  # ot: elasticity 0
    jan = np.array([ts.month == 1 for ts in got.period_start])
    assert got.demand_cases[1][:, jan] == pytest.approx(120.0)  # hao: elasticity 1 (default)


def test_an_index_one_by_round_off_raises_nothing() -> None:
    """An index of 1.0000000000000002 (a ratio of two equal sums added in another order) read
    as above 1, and lifted every winter period to the normal level."""
    demand = rich_demand()
    demand = demand.assign(winter_index=1.0 + 2e-16, normal_cases=100.0)
    winter = {"pressure_series": "p", "months": list(range(1, 13))}
    got = inputs_of(rich_config(winter=winter), demand)
    assert got.demand_cases == pytest.approx(got.forecast_cases)
