"""Winter index: forecast over the trailing annual mean, for November to March only."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError, winter_index


def test_index_is_forecast_over_trailing_year_mean() -> None:
    hist_ds = pd.date_range("2023-01-01", periods=24, freq="MS")
    # first year 1000 (ignored), trailing 12 months average 100
    history = pd.DataFrame({"unique_id": "x", "ds": hist_ds, "y": [1000.0] * 12 + [100.0] * 12})
    fc_ds = pd.date_range("2025-01-01", periods=12, freq="MS")
    forecasts = pd.DataFrame({"unique_id": "x", "ds": fc_ds, "mean": np.arange(1.0, 13.0) * 10})
    out = winter_index(forecasts, history)
    assert out["ds"].dt.month.tolist() == [1, 2, 3, 11, 12]
    # compared per day: each month's figure over its days, against the trailing year's mean
    # of 100 a month over each month's days (2024 is a leap year)
    base = np.mean(100.0 / pd.date_range("2024-01-01", periods=12, freq="MS").days_in_month)
    days = np.array([31, 28, 31, 30, 31])
    assert np.allclose(out["index"], np.array([10, 20, 30, 110, 120]) / days / base)
    assert list(out.columns) == ["unique_id", "ds", "index"]


def test_a_monthly_series_flat_per_day_has_index_one_in_february_and_january() -> None:
    hist_ds = pd.date_range("2023-01-01", periods=24, freq="MS")
    history = pd.DataFrame({"unique_id": "a", "ds": hist_ds, "y": 10.0 * hist_ds.days_in_month})
    fc_ds = pd.date_range("2025-01-01", periods=12, freq="MS")
    forecasts = pd.DataFrame({"unique_id": "a", "ds": fc_ds, "mean": 10.0 * fc_ds.days_in_month})
    assert np.allclose(winter_index(forecasts, history)["index"], 1.0)
    weekly = pd.date_range("2024-01-01", periods=60, freq="W-MON")  # weekly: no day adjustment
    out = winter_index(
        pd.DataFrame({"unique_id": "w", "ds": weekly[52:], "mean": 14.0}),
        pd.DataFrame({"unique_id": "w", "ds": weekly[:52], "y": 7.0}),
    )
    assert len(out) and np.allclose(out["index"], 2.0)


def test_zero_base_gives_nan_or_one_and_unknown_series_is_an_error() -> None:
    history = pd.DataFrame(
        {"unique_id": "z", "ds": pd.date_range("2024-01-01", periods=12, freq="MS"), "y": 0.0}
    )
    forecasts = pd.DataFrame(
        {"unique_id": "z", "ds": pd.to_datetime(["2025-01-01", "2025-02-01"]), "mean": [0.0, 3.0]}
    )
    out = winter_index(forecasts, history)
    assert out["index"].iloc[0] == 1.0 and np.isnan(out["index"].iloc[1])
    with pytest.raises(ForecastInputError, match="'other'"):
        winter_index(forecasts.assign(unique_id="other"), history)
