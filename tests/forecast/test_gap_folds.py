"""--fill-gaps: a backtest fold is fitted on its own training window, interpolated there alone,
and scored on the values observed, never on interpolated ones."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.job import run_series
from forecast.series import SeriesData
from forecast.settings import ForecastSettings

SETTINGS = ForecastSettings(horizon=12, models=("ses", "arima"), backtest_folds=1)
DS = pd.date_range("2019-01-01", periods=60, freq="MS")


def _gappy(after_origin: float) -> SeriesData:
    """100, 101, ... with months 45-49 missing: a gap across the one fold's origin (48);
    month 50, the first observed after it, is `after_origin`."""
    y = np.arange(60, dtype=float) + 100.0
    y[45:50] = np.nan
    y[50] = after_origin
    return SeriesData("a/x", DS, y, "MS")


def test_a_fold_sees_nothing_after_its_origin() -> None:
    usual, odd = run_series(_gappy(150.0), SETTINGS), run_series(_gappy(1000.0), SETTINGS)
    assert usual.windows[0].origin == 48
    for name in ("ses", "arima"):
        # interpolating the whole series first filled months 45-47 towards month 50's value
        assert np.allclose(usual.models[name].folds[0].mean, odd.models[name].folds[0].mean)
    assert usual.windows[0].scales == odd.windows[0].scales


def test_a_fold_is_scored_only_where_a_value_was_observed() -> None:
    [win] = run_series(_gappy(150.0), SETTINGS).windows
    assert np.isnan(win.actual[:2]).all()  # months 48 and 49 were never observed
    assert win.actual[2:].tolist() == list(np.arange(150.0, 160.0))


def test_the_final_fit_still_interpolates_the_whole_history() -> None:
    # the forecast from the end of history is fitted on every month, the gap filled between
    # its neighbours: a straight rise goes on rising
    final = run_series(_gappy(150.0), SETTINGS).models["arima"].final
    assert final.mean[0] > 155.0
