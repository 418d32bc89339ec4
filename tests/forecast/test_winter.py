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
    assert np.allclose(out["index"], [0.1, 0.2, 0.3, 1.1, 1.2])
    assert list(out.columns) == ["unique_id", "ds", "index"]


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
