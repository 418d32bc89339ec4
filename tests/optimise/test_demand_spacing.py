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
