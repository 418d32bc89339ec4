"""Forecast scores, widths and choices small enough to check by hand: interval calibration on
the fold's noise level, a reconciled hierarchy kept non-negative, coverage and pinball of one
window, the backtest's earliest usable origin and the members a combination draws on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.backtest import Window, windows
from forecast.combine import combo_members
from forecast.hierarchy import reconcile_wls_struct
from forecast.intervals import _lag1, fit_calibration
from forecast.metrics import window_metrics
from forecast.models.base import Prediction, gaussian_prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import SeriesData
from tests.forecast.test_intervals import _outcome

Z80 = 1.2816  # the standard normal's 90% quantile: |N(0, 1)| is below it 80% of the time


def _outcome_at_ratio(errors: np.ndarray, ratio: float) -> SeriesOutcome:
    """One model with sd 1 whose fold's recent noise is `ratio` of its whole-history noise."""
    pred = gaussian_prediction(np.zeros(len(errors)), np.ones(len(errors)), (80,))
    win = Window(20, errors, (1.0, 1.0), scale_ratio=ratio)
    ds = pd.date_range("2020-01-01", periods=len(errors), freq="MS")
    return SeriesOutcome("s", ds, False, (win,), {"m": ModelOutcome("m", (pred,), pred)})


def test_calibration_divides_errors_by_the_folds_scale_ratio() -> None:
    # errors N(0, 1) where the fold expected half the model's noise (ratio 0.5): normalised,
    # they are N(0, 2), whose 80% |quantile| is 2 x 1.28 = 2.56 sds, not 1.28
    rng = np.random.default_rng(5)
    outcomes = [_outcome_at_ratio(rng.normal(0.0, 1.0, 12), 0.5) for _ in range(200)]
    widths = fit_calibration(outcomes, (80,)).widths["m"][80]
    assert len(widths) == 12
    assert np.mean(widths) == pytest.approx(2 * Z80, abs=0.25)
    assert np.all(widths > 2.0)


def test_twenty_series_share_one_width_across_steps() -> None:
    # 20 errors per step: enough to calibrate (10), too few (100) for a step's own width
    rng = np.random.default_rng(2)
    outcomes = [_outcome(rng.normal(0.0, 1.0, 12), sd=1.0) for _ in range(20)]
    assert np.ptp(fit_calibration(outcomes, (80,)).widths["m"][80]) == 0.0


def test_alternating_errors_have_no_negative_lag1_correlation() -> None:
    # +1, -1, +1, ...: correlation -1 between neighbours, taken as none (0), never negative
    assert _lag1([np.tile([1.0, -1.0], 10)]) == 0.0
    assert _lag1([np.arange(12.0)]) == pytest.approx(0.99)  # rising: +1, capped at 0.99


def test_reconciled_forecasts_stay_non_negative() -> None:
    # parent p = a + b with own means p 0, a 10, b 0; structural weights (2, 1, 1) give
    # leaves a 7.5, b -2.5 and p 5 before the floor: b and its interval are floored at zero
    rows = [
        ("p", 0.0, 0.0, 1.0),
        ("a", 10.0, 8.0, 12.0),
        ("b", 0.0, 0.0, 1.0),
    ]
    forecasts = pd.DataFrame(
        [
            {"unique_id": uid, "ds": pd.Timestamp("2026-01-05"), "model": "ets"}
            | {"mean": mean, "lo-80": lo, "hi-80": hi}
            for uid, mean, lo, hi in rows
        ]
    )
    out = reconcile_wls_struct(forecasts, {"p": ["a", "b"]}).set_index("unique_id")
    assert out.loc["a", "mean"] == pytest.approx(7.5)
    assert out.loc["p", "mean"] == pytest.approx(5.0)
    assert out.loc["b", "mean"] == 0.0
    assert (out[["mean", "lo-80", "hi-80"]].to_numpy() >= 0.0).all()


def _prediction(mean: list[float], lo: list[float], hi: list[float]) -> Prediction:
    return Prediction(np.array(mean), {"lo-80": np.array(lo), "hi-80": np.array(hi)})


def test_an_actual_on_an_interval_bound_counts_as_covered() -> None:
    # 0 sits on its lower bound, 5 on both of its bounds: both inside
    pred = _prediction([1.0, 5.0], lo=[0.0, 5.0], hi=[3.0, 5.0])
    got = window_metrics(np.array([0.0, 5.0]), pred, (1.0, 1.0), (80,))
    assert got["coverage_80"] == 1.0


def test_pinball_by_hand() -> None:
    """Actual 10, 80% interval 8 to 14. The lower bound is the 10% quantile: 10 is 2 above it,
    a loss of 0.1 x 2 = 0.2; the upper bound is the 90% quantile: 10 is 4 below it, a loss of
    (1 - 0.9) x 4 = 0.4. Their mean, 0.3, over the MASE scale 2 (not the RMSSE scale 4) is
    0.15. Swapping the quantiles would charge 0.9 x 2 and 0.9 x 4: a mean of 2.7, 1.35 scaled.
    """
    pred = _prediction([10.0], lo=[8.0], hi=[14.0])
    got = window_metrics(np.array([10.0]), pred, (2.0, 4.0), (80,))
    assert got["pinball"] == pytest.approx(0.15)


def test_the_first_origin_may_train_on_exactly_the_shortest_window() -> None:
    # 17 months, 3 folds of 3: origins 8, 11 and 14; a fold needs one season plus two (14)
    ds = pd.date_range("2020-01-01", periods=17, freq="MS")
    series = SeriesData("x", ds, np.arange(17.0), "MS")
    assert [w.origin for w in windows(series, 3, 3)] == [14]


def test_combinations_draw_on_the_fitted_models_less_the_naive_baselines() -> None:
    names = ("naive", "seasonal_naive", "ets", "theta", "mean_best2")
    assert combo_members(names) == ("ets", "theta")
    # with only one strong model left, the baselines stay in
    assert combo_members(("naive", "seasonal_naive", "ets", "mean_best2")) == (
        "naive",
        "seasonal_naive",
        "ets",
    )
