"""Sample paths of a count whose interval was floored at zero: each step's paths still match
the published interval (their 90% quantile its hi-80), floored at zero as it was."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from forecast.intervals import clipped
from forecast.models.base import gaussian_prediction
from forecast.paths import sample_paths

PATHS = 20_000  # a share of 0.10 is then measured within +-0.0021 (one binomial sd)


def test_paths_of_a_floored_interval_match_its_upper_bound() -> None:
    # a fall run past zero: from step 3 the lower bound is floored, from step 5 the mean too
    # (and the upper bounds raised with it, as published)
    raw = gaussian_prediction(np.array([20.0, 8.0, 3.0, 0.5, -2.0, -5.0]), np.full(6, 4.0), (80,))
    pred = clipped(raw)
    ds = pd.date_range("2024-01-01", periods=6, freq="MS")
    paths = sample_paths("fall", ds, pred, (PATHS, 0, 0.3, True), (80,))
    y = paths["y"].to_numpy().reshape(PATHS, 6)
    lo, hi = pred.interval(80)
    assert np.allclose((y > hi).mean(axis=0), 0.10, atol=0.01)
    above_zero = lo > 0.0
    assert np.allclose((y < lo).mean(axis=0)[above_zero], 0.10, atol=0.01)
    assert (y >= 0.0).all()
    assert np.allclose(np.median(y, axis=0), pred.mean, atol=0.15)


def test_paths_of_a_falling_low_count_series_match_its_published_interval() -> None:
    # six monthly counts falling from ~80 to ~5 over six years: trends carried on run below zero
    rng = np.random.default_rng(2)
    ds = pd.date_range("2018-01-01", periods=72, freq="MS")
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"fall{i}",
                    "ds": ds,
                    "y": np.maximum(np.round(np.linspace(80, 5, 72) + rng.normal(0, 3, 72)), 0),
                }
            )
            for i in range(6)
        ],
        ignore_index=True,
    )
    settings = ForecastSettings(horizon=12, sample_paths=4000, seed=0)
    run = run_forecasts(history, settings)
    assert run.sample_paths is not None
    joined = run.sample_paths.merge(run.forecasts, on=["unique_id", "ds"])
    above = (joined["y"] > joined["hi-80"]).groupby([joined["unique_id"], joined["ds"]]).mean()
    # 4000 paths measure a share of 0.10 within +-0.005 (one binomial sd)
    assert above.between(0.08, 0.12).all(), above[~above.between(0.08, 0.12)]
