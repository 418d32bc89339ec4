"""Outlier cleaning (clean_outliers): a lone spike goes, a step, a near-flat count and the
caller's values stay."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.outliers import cleaned
from forecast.series import SeriesData

MONTHS = 48


def _monthly(y: np.ndarray) -> SeriesData:
    ds = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    return SeriesData("s", ds, y.astype(np.float64), "MS")


def _wobble(n: int) -> np.ndarray:
    """100 give or take a few, never flat (so the spread the threshold is measured in is > 0)."""
    return 100.0 + np.tile([0.0, 3.0, -2.0, 1.0, -3.0, 2.0], n // 6 + 1)[:n]


def test_an_isolated_spike_is_replaced_by_the_centred_running_median() -> None:
    y = _wobble(MONTHS)
    y[20] = 400.0  # a reporting error in one month
    given = y.copy()
    out = cleaned(_monthly(y)).y
    # the median of the five months centred on it (the spike itself among them): 101
    assert out[20] == np.median(given[18:23]) == 101.0
    assert np.array_equal(np.delete(out, 20), np.delete(given, 20))  # nothing else moves
    assert np.array_equal(y, given)  # the caller's values are not changed


def test_a_step_change_is_kept_as_it_is() -> None:
    y = _wobble(MONTHS) + np.where(np.arange(MONTHS) < 24, 0.0, 100.0)  # doubles at month 24
    series = _monthly(y)
    assert np.array_equal(cleaned(series).y, y)


def test_a_series_with_zero_median_deviation_is_returned_unchanged() -> None:
    """A small count that is nearly always the same (the median deviation is 0): its odd 4s and
    6s are ordinary, not spikes, though any deviation is infinitely many MADs."""
    y = np.full(MONTHS, 5.0)
    y[[7, 19, 33]] = [6.0, 4.0, 6.0]
    series = _monthly(y)
    assert cleaned(series) is series
    assert np.array_equal(series.y, y)


def _forecast_means(y: np.ndarray, clean_outliers: bool) -> np.ndarray:
    ds = pd.date_range("2020-01-01", periods=len(y), freq="MS")
    history = pd.DataFrame({"unique_id": "s", "ds": ds, "y": y})
    settings = ForecastSettings(
        horizon=3,
        models=("ses",),
        backtest_folds=1,
        calendar_adjust=False,  # (so the cleaned values are the ones ses is fitted to)
        clean_outliers=clean_outliers,
    )
    return run_forecasts(history, settings).forecasts["mean"].to_numpy()


def test_clean_outliers_fits_the_forecast_to_the_cleaned_history_and_only_when_asked() -> None:
    y = _wobble(MONTHS)
    y[MONTHS - 3] = 400.0  # a spike near the end pulls a smoothed level up
    spiky, without = y.copy(), _wobble(MONTHS)
    without[MONTHS - 3] = np.median(y[MONTHS - 5 : MONTHS])  # what cleaning puts there
    kept = _forecast_means(spiky, clean_outliers=False)
    removed = _forecast_means(spiky, clean_outliers=True)
    assert removed == pytest.approx(_forecast_means(without, clean_outliers=False))
    assert not np.allclose(kept, removed)
    assert kept.min() > removed.max()  # the spike lifted the uncleaned forecast
