"""Property: any short, odd series gets finite, ordered forecasts and never raises, except
the one refusal by design: values at one regular spacing of k > 1 months (quarterly or annual
figures, which would be forecast as monthly values)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from forecast import ForecastSettings, run_forecasts
from forecast.errors import ForecastInputError
from forecast.validate import MIN_DATES_FOR_A_STEP

SETTINGS = ForecastSettings(
    horizon=4, models=("seasonal_naive", "ses", "theta", "arima", "mean_best2"), backtest_folds=2
)
values = st.one_of(st.just(0.0), st.floats(-50, 500, allow_nan=False), st.just(float("nan")))


# derandomize: CI meets the examples a local run does (a random draw once found the refusal
# below, which the property had not allowed for)
@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
@given(st.lists(values, min_size=1, max_size=40))
def test_any_series_gets_finite_ordered_forecasts(ys: list[float]) -> None:
    assume(np.isfinite(ys).any())  # an all-missing series is rejected (tested elsewhere)
    ds = pd.date_range("2020-01-01", periods=len(ys), freq="MS")
    history = pd.DataFrame({"unique_id": "p", "ds": ds, "y": ys})
    steps = set(np.diff(np.flatnonzero(np.isfinite(ys))).tolist())
    if np.isfinite(ys).sum() >= MIN_DATES_FOR_A_STEP and len(steps) == 1 and steps.pop() > 1:
        with pytest.raises(ForecastInputError, match="quarterly or annual figures"):
            run_forecasts(history, SETTINGS)
        return
    fc = run_forecasts(history, SETTINGS).forecasts
    cols = ["lo-95", "lo-80", "mean", "hi-80", "hi-95"]
    grid = fc[cols].to_numpy()
    assert len(fc) == 4 and np.isfinite(grid).all()
    assert (fc["ds"] > history.dropna()["ds"].max()).all()
    assert (np.diff(grid, axis=1) >= -1e-9).all()
    if np.nanmin(ys) >= 0:
        assert (grid >= 0).all()
