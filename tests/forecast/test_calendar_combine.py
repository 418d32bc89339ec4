"""Calendar adjustment and combinations of the best models."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from forecast.calendar import adjusted, month_factor, restored
from forecast.combine import add_combo, parse_combo
from forecast.models.base import Prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import SeriesData
from tests.forecast.conftest import seasonal_series


def test_daily_rate_series_forecast_exactly_with_calendar_adjustment() -> None:
    # 10 delayed days every day: monthly totals are 280..310, pure calendar effect
    ds = pd.date_range("2016-01-01", periods=48, freq="MS")
    history = pd.DataFrame({"unique_id": "d", "ds": ds, "y": 10.0 * ds.days_in_month})
    run = run_forecasts(history, ForecastSettings(horizon=12, models=("naive",)))
    fc = run.forecasts
    assert np.allclose(fc["mean"], 10.0 * fc["ds"].dt.days_in_month)
    plain = run_forecasts(
        history, ForecastSettings(horizon=12, models=("naive",), calendar_adjust=False)
    ).forecasts
    assert np.allclose(plain["mean"], 310.0)  # December's total repeated


def test_adjust_and_restore_round_trip() -> None:
    ds = pd.date_range("2020-01-01", periods=3, freq="MS")
    s = SeriesData("x", ds, np.array([31.0, 29.0, 31.0]), "MS")
    a = adjusted(s)
    assert np.allclose(a.y, 365.25 / 12)
    back = restored(Prediction(a.y, {"lo-80": a.y}), ds, "MS")
    assert np.allclose(back.mean, s.y) and np.allclose(back.quantiles["lo-80"], s.y)
    assert np.allclose(month_factor(ds, "W-MON"), 1.0)


def _pred(value: float) -> Prediction:
    v = np.full(2, value)
    return Prediction(v, {"lo-80": v - 1, "hi-80": v + 1})


def test_combo_averages_the_best_k_by_backtest() -> None:
    from forecast.backtest import Window

    win = Window(10, np.array([10.0, 10.0]), (1.0, 1.0))
    models = {
        name: ModelOutcome(name, (_pred(v),), _pred(v * 2))
        for name, v in {"a": 10.0, "b": 11.0, "c": 14.0}.items()
    }
    outcome = SeriesOutcome(
        "s", pd.date_range("2020-01-01", periods=2, freq="MS"), True, (win,), models
    )
    out = add_combo(outcome, "mean_best2", ["a", "b", "c"])
    combo = out.models["mean_best2"]
    assert np.allclose(combo.final.mean, 21.0)  # (20 + 22) / 2: c is excluded
    assert np.allclose(combo.folds[0].quantiles["hi-80"], 11.5)
    assert parse_combo("median_best3") == ("median", 3) and parse_combo("ets") is None


def test_combo_is_a_candidate_in_a_run() -> None:
    settings = ForecastSettings(horizon=3, models=("ses", "theta", "mean_best2"), backtest_folds=2)
    run = run_forecasts(seasonal_series(periods=48), settings)
    assert set(run.metrics["model"]) == {"ses", "theta", "mean_best2"}
