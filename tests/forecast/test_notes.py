"""A run names the series whose forecast says more than their history can: intervals of zero
width."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from forecast.notes import zero_width_series, zero_width_warning


def _monthly(uid: str, y: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range("2019-01-01", periods=len(y), freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


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
