"""A series too short for one backtest fold at the full horizon gets one shorter fold, so its
model is chosen on evidence rather than by preference order (seasonal naive first)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from forecast.backtest import fold_windows, short_fold
from forecast.series import SeriesData


def _monthly(n: int) -> SeriesData:
    ds = pd.date_range("2020-01-01", periods=n, freq="MS")
    return SeriesData("s", ds, np.arange(n, dtype=float), "MS")


def test_the_short_fold_leaves_the_shortest_training_window() -> None:
    # 14 months is the shortest training window (a season and two); a fold needs 3 ahead
    assert [short_fold(n, 12) for n in (16, 17, 20, 25)] == [0, 3, 6, 11]
    assert short_fold(66, 52) == 0 and short_fold(67, 52) == 13  # a quarter of 52 weeks


def test_fold_windows_fall_back_to_one_shorter_fold_only_when_no_full_one_fits() -> None:
    [win] = fold_windows(_monthly(20), 3, 12)
    assert (win.origin, len(win.actual)) == (14, 6)
    assert win.actual[0] == 14.0  # the month after the training window
    full = fold_windows(_monthly(26), 3, 12)  # one full fold fits: no shorter ones added
    assert [(w.origin, len(w.actual)) for w in full] == [(14, 12)]
    assert fold_windows(_monthly(16), 3, 12) == []
    assert fold_windows(_monthly(20), 0, 12) == []  # no backtest asked for: none given


def test_a_short_trending_series_is_not_left_to_seasonal_naive() -> None:
    """22 months of a steady rise, 12 ahead: seasonal naive (first by preference) would forecast
    last year's values, a year's rise too low; the 8-month fold shows that, and a trend model is
    chosen instead, and the fallback says how it was chosen."""
    ds = pd.date_range("2021-01-01", periods=34, freq="MS")
    rng = np.random.default_rng(3)
    y = 100.0 + 5.0 * np.arange(34) + rng.normal(0.0, 2.0, 34)
    history = pd.DataFrame({"unique_id": "rising", "ds": ds[:22], "y": y[:22]})
    run = run_forecasts(history, ForecastSettings(horizon=12))
    assert run.chosen["rising"] != "seasonal_naive"
    mae = float(np.mean(np.abs(run.forecasts["mean"].to_numpy() - y[22:])))
    assert mae < 15.0  # seasonal naive is 60 behind (12 months of a 5-a-month rise)
    [reason] = run.fallbacks.loc[run.fallbacks["model"] == "backtest", "reason"]
    assert reason.startswith(
        "history too short for a backtest fold 12 periods ahead; chose "
    ) and reason.endswith("on one fold 8 periods ahead, pooled with the run's other series")


def test_short_series_do_not_change_the_long_series_choices_or_intervals() -> None:
    """A short fold is scored nearer ahead, so its MASE is flattering: pooled with the long
    series' full-horizon scores it would pull their choice (seasonal strongly short series made
    ten random walks switch to seasonal naive, in review) and narrow their intervals. The long
    series forecast exactly as they would alone."""
    rng = np.random.default_rng(5)
    frames = []
    for i in range(6):
        ds = pd.date_range("2019-01-01", periods=50, freq="MS")
        frames.append(
            pd.DataFrame(
                {"unique_id": f"long/{i}", "ds": ds, "y": 200.0 + np.cumsum(rng.normal(0, 8, 50))}
            )
        )
    for i in range(12):
        ds = pd.date_range("2021-05-01", periods=22, freq="MS")
        season = 60.0 * np.sin(2 * np.pi * np.arange(22) / 12)
        frames.append(
            pd.DataFrame(
                {"unique_id": f"short/{i}", "ds": ds, "y": 300.0 + season + rng.normal(0, 2, 22)}
            )
        )
    both = pd.concat(frames, ignore_index=True)
    settings = ForecastSettings(horizon=12)
    alone = run_forecasts(both[both["unique_id"].str.startswith("long/")], settings)
    mixed = run_forecasts(both, settings)
    longs = mixed.forecasts[mixed.forecasts["unique_id"].str.startswith("long/")]
    pd.testing.assert_frame_equal(longs.reset_index(drop=True), alone.forecasts)
