"""Figures the planner derives that a reader can check: winter demand never below the forecast,
the demand-risk table's planned row adding up to the plan's own DTOC days and end backlog, and
a price range that does not contain its own bound not being stated."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimise.explain import _holding
from optimise.plan import plan
from tests.optimise.factory import full_config, inputs_of, rich_config, rich_demand
from tests.optimise.test_demand_risk import _factored_demand


def test_a_winter_index_never_lowers_demand_below_the_forecast() -> None:
    # normal level 0.5 cases raised by 1.2 is 0.6, far below every forecast (1.2 or more):
    # January plans for the forecast, not for the raised normal level
    demand = rich_demand()
    january = pd.DatetimeIndex(demand["ds"]).month == 1
    demand = demand.assign(winter_index=np.where(january, 1.2, 1.0), normal_cases=0.5)
    got = inputs_of(rich_config(winter={"pressure_series": "p", "months": [1]}), demand)
    jan = np.array([ts.month == 1 for ts in got.period_start])
    assert jan.any()
    assert (got.forecast_cases[:, :, jan] > 0.6).all()
    assert got.demand_cases == pytest.approx(got.forecast_cases)


def test_the_planned_risk_row_adds_up_to_the_plans_dtoc_days_and_end_backlog() -> None:
    # a weekly plan: DTOC days are cases waiting x hospital share x 7 days a period, summed
    # over the horizon; the backlog left is that of the last period, not the one before
    result = plan(inputs_of(full_config(), _factored_demand()), simulation_runs=0)
    assert result.ok, result.message
    keys = ["service", "district"]
    planned = result.demand_risk[result.demand_risk["scenario"] == "planned"].set_index(keys)
    dtoc = result.dtoc_days.groupby(keys)["dtoc_days"].sum()
    assert dtoc.sum() > 0
    np.testing.assert_allclose(
        planned.loc[dtoc.index, "dtoc_days"], dtoc.to_numpy(), rtol=1e-6, atol=1e-6
    )
    backlog = result.backlog
    last = backlog[backlog["period"] == backlog["period"].max()]
    end = last.groupby(keys)["backlog_cases"].sum()
    end_of_one_before = (
        backlog[backlog["period"] == backlog["period"].max() - 1]
        .groupby(keys)["backlog_cases"]
        .sum()
    )
    assert not np.allclose(end.to_numpy(), end_of_one_before[end.index].to_numpy())
    np.testing.assert_allclose(
        planned.loc[end.index, "end_backlog_cases"], end.to_numpy(), rtol=1e-6, atol=1e-6
    )


def test_a_range_that_does_not_contain_its_bound_is_not_stated() -> None:
    low, high = _holding(np.array([10.0]), np.array([20.0]), np.array([5.0]))
    assert np.isnan(low[0]) and np.isnan(high[0])
    # one that does contain it is given as it is
    low, high = _holding(np.array([10.0]), np.array([20.0]), np.array([15.0]))
    assert (low[0], high[0]) == (10.0, 20.0)
