"""The config's period length must match the spacing of the demand it plans."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def test_weekly_demand_planned_as_thirty_day_periods_is_refused() -> None:
    with pytest.raises(optimise.PlanInputError, match=r"period_days.*\(7 days.*found 30"):
        inputs_of(rich_config(period_days=30), rich_demand())


def test_monthly_demand_takes_any_month_length() -> None:
    weekly = rich_demand(periods=6)
    months = dict(
        zip(
            sorted(weekly["ds"].unique()),
            pd.date_range("2026-01-01", periods=6, freq="MS"),
            strict=True,
        )
    )
    monthly = weekly.assign(ds=weekly["ds"].map(months))
    assert inputs_of(rich_config(period_days=30), monthly).period_days == 30
    with pytest.raises(optimise.PlanInputError, match="period_days"):
        inputs_of(rich_config(period_days=7), monthly)


def test_a_one_period_plan_is_checked_against_the_whole_demand() -> None:
    with pytest.raises(optimise.PlanInputError, match=r"\(7 days.*found 30"):
        inputs_of(rich_config(period_days=30, horizon_periods=1), rich_demand())


def test_four_weekly_demand_is_not_taken_for_monthly() -> None:
    weekly = rich_demand(periods=6)
    starts = sorted(weekly["ds"].unique())
    four_weekly = dict(zip(starts, pd.date_range("2026-01-05", periods=6, freq="28D"), strict=True))
    demand = weekly.assign(ds=weekly["ds"].map(four_weekly))
    with pytest.raises(optimise.PlanInputError, match=r"\(28 days.*found 31"):
        inputs_of(rich_config(period_days=31), demand)
    assert inputs_of(rich_config(period_days=28), demand).period_days == 28


def test_a_missing_week_is_named_as_a_gap_not_a_wrong_period() -> None:
    demand = rich_demand(periods=8)
    third = sorted(demand["ds"].unique())[2]
    with pytest.raises(optimise.PlanInputError, match="gap of 14 days after"):
        inputs_of(rich_config(), demand[demand["ds"] != third])
