"""A series too short for the fast models to fit a season is named, and the claim holds: its
forecast has no seasonal pattern while a longer history's does."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from forecast.notes import seasonless_series, seasonless_warning


def _monthly(uid: str, months: int, seed: int) -> pd.DataFrame:
    """A winter peak (+40% December to February) on a level of 1000, with some noise."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range(end="2018-12-01", periods=months, freq="MS")
    season = np.where(np.isin(ds.month, [12, 1, 2]), 1.4, 1.0)
    y = 1000.0 * season * (1 + rng.normal(0.0, 0.05, months))
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def _winter_rise(forecasts: pd.DataFrame, uid: str) -> float:
    """Mean forecast for December to February over the mean for the other months."""
    own = forecasts[forecasts["unique_id"] == uid]
    winter = own["ds"].dt.month.isin([12, 1, 2])
    return float(own.loc[winter, "mean"].mean() / own.loc[~winter, "mean"].mean())


def test_a_short_series_is_named_and_its_forecast_has_no_season() -> None:
    history = pd.concat(
        [_monthly("short", 30, 1), _monthly("short2", 30, 2), _monthly("long", 60, 3)]
    )
    settings = ForecastSettings(horizon=12, models=("ses", "theta", "arima", "mean_best2"))
    run = run_forecasts(history, settings)
    assert seasonless_series(history, run) == {"short": 30, "short2": 30}
    # what the warning says is so: the long series' forecast rises 40% in winter as its
    # history did, the short ones' barely
    assert _winter_rise(run.forecasts, "long") > 1.3
    assert _winter_rise(run.forecasts, "short") < 1.1
    assert _winter_rise(run.forecasts, "short2") < 1.1
    text = seasonless_warning(history, run)
    assert text is not None
    assert text.startswith("2 series have under three years of history")
    assert "short (30 months), short2 (30 months)." in text


def test_seasonal_naive_chosen_or_enough_history_says_nothing() -> None:
    history = pd.concat([_monthly("short", 30, 1), _monthly("long", 48, 3)])
    naive_only = run_forecasts(history, ForecastSettings(horizon=12, models=("seasonal_naive",)))
    assert seasonless_series(history, naive_only) == {}
    assert seasonless_warning(history, naive_only) is None
    long_only = _monthly("long", 48, 3)
    run = run_forecasts(long_only, ForecastSettings(horizon=12, models=("ses", "theta")))
    assert seasonless_warning(long_only, run) is None
