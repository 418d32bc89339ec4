"""A run names the series whose forecast says more than their history can: intervals of zero
width, and a level shift in the season that seasonal naive repeats."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.notes import (
    carried_level_warning,
    carried_levels,
    repeats_last_season,
    zero_width_series,
    zero_width_warning,
)

SEASONAL_NAIVE = ForecastSettings(horizon=12, models=("seasonal_naive",))


def _monthly(uid: str, y: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range("2019-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def _dropped(uid: str, months_at_new_level: int, seed: int) -> pd.DataFrame:
    """60 months around 50 with a winter rise, the last `months_at_new_level` around 12."""
    t = np.arange(60)
    level = np.where(t >= 60 - months_at_new_level, 12.0, 50.0)
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12))
    return _monthly(uid, np.round(y + np.random.default_rng(seed).normal(0.0, 1.0, 60)))


def test_a_constant_history_is_named_for_its_zero_width_intervals() -> None:
    noisy = 100 + np.random.default_rng(1).normal(0.0, 5.0, 36)
    history = pd.concat([_monthly("flat", np.full(36, 4.0)), _monthly("noisy", noisy)])
    run = run_forecasts(history, ForecastSettings(horizon=6, models=("ses",)))
    assert zero_width_series(run) == {"flat": 6}
    text = zero_width_warning(run)
    assert text is not None
    assert text.startswith("1 series has a forecast interval of zero width")
    assert "flat (6 of 6 periods; a constant history)." in text
    assert "noisy" not in text


def test_a_run_with_every_interval_wide_says_nothing() -> None:
    noisy = 100 + np.random.default_rng(1).normal(0.0, 5.0, 36)
    run = run_forecasts(_monthly("noisy", noisy), ForecastSettings(horizon=6, models=("ses",)))
    assert zero_width_warning(run) is None


def test_a_drop_in_the_last_season_under_seasonal_naive_is_named() -> None:
    history = pd.concat([_dropped("recent", 6, 1), _dropped("old", 24, 2)])
    run = run_forecasts(history, SEASONAL_NAIVE)
    # both drops are found; only the recent one is in the season seasonal naive repeats
    assert set(run.level_shifts["unique_id"]) == {"recent", "old"}
    [carried] = carried_levels(history, run)
    assert (carried.unique_id, carried.model) == ("recent", "seasonal_naive")
    assert carried.shift_ds == pd.Timestamp("2023-07-01")
    assert carried.ratio == pytest.approx(0.19, abs=0.01)
    # what the warning says is so: the months before the drop come back a year on at the old
    # level, five times the level now
    recent = run.forecasts[run.forecasts["unique_id"] == "recent"]
    assert recent["mean"].iloc[:6].mean() > 4 * history["y"].iloc[54:60].mean()
    text = carried_level_warning(history, run)
    assert text is not None
    assert text.startswith("1 series' level shifted within the last season of their history")
    assert "recent (seasonal_naive; from 2023-07-01 at 0.19 times the level before)." in text
    assert "--adjust-level-shifts" in text and "old (" not in text


def test_nothing_is_said_when_the_history_was_fitted_at_the_new_level() -> None:
    history = _dropped("recent", 6, 1)
    adjusted = run_forecasts(history, replace(SEASONAL_NAIVE, adjust_level_shifts=True))
    assert carried_level_warning(history, adjusted, adjusted=True) is None
    ses = run_forecasts(history, ForecastSettings(horizon=12, models=("ses",)))
    assert carried_level_warning(history, ses) is None


def test_which_models_repeat_the_last_season() -> None:
    assert repeats_last_season("seasonal_naive")
    assert repeats_last_season("seasonal_naive@36") and repeats_last_season("pooled_seasonal_naive")
    assert repeats_last_season("seasonal_naive+wls_struct")
    assert repeats_last_season("mean_best2", ("ets", "seasonal_naive"))
    assert not repeats_last_season("mean_best2", ("ets", "theta"))
    assert not repeats_last_season("ses") and not repeats_last_season("naive")
