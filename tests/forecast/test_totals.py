"""How far forecasts' window totals missed in backtest (forecast/totals.py), and the engine
reporting those bounds beside every model's metrics, pooled within a kind of series."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.backtest import Window
from forecast.engine import run_forecasts
from forecast.models.base import Prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.settings import ForecastSettings
from forecast.totals import (
    HIGH,
    LOW,
    MIN_TOTALS,
    total_error_bounds,
    window_total_errors,
    with_total_bounds,
)


def _prediction(mean: list[float]) -> Prediction:
    values = np.asarray(mean, dtype=float)
    return Prediction(values, {"lo-80": values - 1, "hi-80": values + 1})


def _outcome(uid: str, actuals: list[list[float]], means: list[list[float]]) -> SeriesOutcome:
    windows = tuple(
        Window(origin=10 + i, actual=np.asarray(a, dtype=float), scales=(1.0, 1.0))
        for i, a in enumerate(actuals)
    )
    folds = tuple(_prediction(m) for m in means)
    model = ModelOutcome("ses", folds, _prediction(means[-1]))
    future = pd.date_range("2026-01-01", periods=len(means[-1]), freq="MS")
    return SeriesOutcome(uid, future, True, windows, {"ses": model})


def test_a_windows_miss_is_its_actual_total_over_its_forecast_total_on_observed_periods() -> None:
    outcome = _outcome(
        "a",
        actuals=[[12.0, 12.0, 12.0], [9.0, np.nan, 9.0], [0.0, 0.0, 0.0]],
        means=[[10.0, 10.0, 10.0], [10.0, 50.0, 10.0], [-1.0, 0.0, 0.0]],
    )
    errors = window_total_errors(outcome, outcome.models["ses"])
    # 36 against 30; 18 against 20 (the unobserved period's 50 left out); no positive forecast
    np.testing.assert_allclose(errors[:2], [0.2, -0.1])
    assert np.isnan(errors[2])


def test_bounds_are_the_pooled_quantiles_and_absent_below_the_minimum() -> None:
    rng = np.random.default_rng(0)
    misses = rng.normal(0.05, 0.1, size=MIN_TOTALS)
    outcomes = [
        _outcome(f"s{i}", actuals=[[100.0 * (1 + m)]], means=[[100.0]])
        for i, m in enumerate(misses)
    ]
    bounds = total_error_bounds(outcomes)["ses"]
    assert bounds[LOW] == pytest.approx(np.quantile(misses, 0.1), rel=1e-12)
    assert bounds[HIGH] == pytest.approx(np.quantile(misses, 0.9), rel=1e-12)
    too_few = total_error_bounds(outcomes[:-1])["ses"]
    assert np.isnan(too_few[LOW]) and np.isnan(too_few[HIGH])


def test_the_engine_reports_the_bounds_per_model_shared_within_a_kind() -> None:
    """Growing series that a level model under-forecasts: their totals come in above the
    forecasts; a flat kind of series pools on its own (the pipeline pools by kind)."""
    rng = np.random.default_rng(1)
    ds = pd.date_range("2019-01-01", periods=72, freq="MS")
    frames = []
    for i in range(6):
        growing = 50.0 * 1.02 ** np.arange(72) + rng.normal(0, 2, 72)
        flat = 50.0 + rng.normal(0, 2, 72)
        frames.append(pd.DataFrame({"unique_id": f"growing/{i}", "ds": ds, "y": growing}))
        frames.append(pd.DataFrame({"unique_id": f"flat/{i}", "ds": ds, "y": flat}))
    history = pd.concat(frames, ignore_index=True)
    settings = ForecastSettings(
        horizon=12, n_jobs=1, models=("ses", "seasonal_naive"), pool_by_kind=True
    )
    metrics = run_forecasts(history, settings).metrics
    ses = metrics[metrics["model"] == "ses"].set_index("unique_id")
    growing, flat = (
        ses.loc[[f"growing/{i}" for i in range(6)]],
        ses.loc[[f"flat/{i}" for i in range(6)]],
    )
    assert growing[LOW].nunique() == 1 and growing[HIGH].nunique() == 1
    assert flat[HIGH].nunique() == 1
    assert growing[LOW].iloc[0] > 0.0  # even a low year of a growing series beats a flat forecast
    assert flat[LOW].iloc[0] < 0.0 < flat[HIGH].iloc[0]
    assert growing[HIGH].iloc[0] > flat[HIGH].iloc[0]


def test_a_series_scored_on_no_window_of_its_own_gets_no_bounds() -> None:
    """A district with a few weeks of history has no backtest window: the pool's bounds,
    measured on long series, would stress-test it on someone else's evidence."""
    frame = pd.DataFrame({"unique_id": ["a", "a"], "model": ["ses", "naive"], "folds": [3.0, 0.0]})
    frame["chosen"] = [True, False]
    out = with_total_bounds(frame, {"ses": {LOW: -0.1, HIGH: 0.2}, "naive": {LOW: -0.3, HIGH: 0.4}})
    assert out.loc[0, LOW] == -0.1 and out.loc[0, HIGH] == 0.2
    assert np.isnan(out.loc[1, LOW]) and np.isnan(out.loc[1, HIGH])
    assert list(out.columns)[-1] == "chosen"
