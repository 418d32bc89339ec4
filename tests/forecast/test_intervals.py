"""Conformal calibration: widths learnt from pooled, normalised backtest errors."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.backtest import Window
from forecast.intervals import calibrated, fit_calibration
from forecast.models.base import gaussian_prediction
from forecast.outcome import ModelOutcome, SeriesOutcome


def _outcome(errors: np.ndarray, sd: float) -> SeriesOutcome:
    """One model whose own intervals assume `sd`, while its backtest errors are `errors`."""
    mean = np.zeros(len(errors))
    pred = gaussian_prediction(mean, np.full(len(errors), sd), (80, 95))
    win = Window(20, errors, (1.0, 1.0))
    model = ModelOutcome("m", (pred,), pred)
    ds = pd.date_range("2020-01-01", periods=len(errors), freq="MS")
    return SeriesOutcome("s", ds, False, (win,), {"m": model})


def test_overconfident_model_gets_wider_intervals_with_nominal_coverage() -> None:
    rng = np.random.default_rng(1)
    outcomes = [_outcome(rng.normal(0.0, 3.0, 12), sd=1.0) for _ in range(200)]
    calib = fit_calibration(outcomes, (80, 95))
    # true errors are 3x the model's sd: widths ~ 3 * 1.28 and 3 * 1.96
    widths80, widths95 = calib.widths["m"][80], calib.widths["m"][95]
    assert len(widths80) == 12  # 200 errors per step: each step has its own width
    assert np.all(np.abs(widths80 - 3 * 1.2816) < 0.8)
    assert abs(np.mean(widths95) - 3 * 1.96) < 0.6
    fresh = rng.normal(0.0, 3.0, (2000, 12))
    pred = calibrated(
        gaussian_prediction(np.zeros(12), np.ones(12), (80, 95)), calib.widths["m"], (80, 95)
    )
    lo, hi = pred.interval(80)
    assert 0.76 < np.mean((fresh >= lo) & (fresh <= hi)) < 0.84


def test_few_series_share_one_width_across_steps() -> None:
    rng = np.random.default_rng(2)
    calib = fit_calibration([_outcome(rng.normal(0.0, 1.0, 12), sd=1.0) for _ in range(3)], (80,))
    assert np.ptp(calib.widths["m"][80]) == 0.0


def test_too_few_errors_leave_intervals_alone() -> None:
    calib = fit_calibration([_outcome(np.array([5.0, -5.0]), sd=1.0)], (80,))
    assert "m" not in calib.widths
    pred = gaussian_prediction(np.zeros(2), np.ones(2), (80,))
    assert calibrated(pred, calib.widths.get("m"), (80,)) is pred
