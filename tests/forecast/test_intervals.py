"""Conformal calibration: widths learnt from pooled, normalised backtest errors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.backtest import Window, scale_ratio
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


def test_scale_ratio_is_recent_over_whole_window_noise() -> None:
    # monthly (season 12): alternating +-2 for three years, then +-0.5 for the last year
    y = np.concatenate([np.tile([0.0, 2.0], 18), np.tile([0.0, 0.5], 6)])
    # |second differences|: 4 for three years, then the join (4, 2.5), then ten of 1; the last
    # half season (6) are all 1, and the whole window's median is 4
    assert scale_ratio(y, 12) == pytest.approx(1.0 / 4.0)
    assert scale_ratio(np.full(30, 5.0), 12) == 1.0  # flat: cannot be measured


def test_scale_ratio_ignores_a_trend_and_an_earlier_level_shift() -> None:
    rng = np.random.default_rng(1)
    noise = rng.normal(0.0, 1.0, 60)
    steady = scale_ratio(100.0 + noise, 12)
    # the last year falls by 5 a month: a trend, not noise
    trend = np.concatenate([np.zeros(48), -5.0 * np.arange(1, 13)])
    assert scale_ratio(100.0 + noise + trend, 12) == pytest.approx(steady, rel=0.2)
    # and the level dropped by 40 (40 noise sds) a year ago: the series is not noisier now
    shifted = trend.copy()
    shifted[48:] -= 40.0
    assert scale_ratio(100.0 + noise + shifted, 12) == pytest.approx(steady, rel=0.2)

    # whereas mean |one-step change| over the last two seasons (the measure it replaced) is not
    # robust: it rises by more than half
    def old(y: np.ndarray) -> float:
        steps = np.abs(np.diff(y))
        return float(np.mean(steps[-24:]) / np.mean(steps))

    assert old(100.0 + noise + shifted) > 1.5 * old(100.0 + noise)


def test_calmer_series_gets_proportionally_narrower_intervals() -> None:
    rng = np.random.default_rng(3)
    calib = fit_calibration([_outcome(rng.normal(0.0, 1.0, 12), sd=1.0) for _ in range(50)], (80,))
    pred = gaussian_prediction(np.zeros(12), np.ones(12), (80,))
    lo1, hi1 = calibrated(pred, calib.widths["m"], (80,)).interval(80)
    lo2, hi2 = calibrated(pred, calib.widths["m"], (80,), scale_ratio=0.5).interval(80)
    assert np.allclose(hi2 - lo2, 0.5 * (hi1 - lo1))
