"""Metrics on hand-checkable windows; selection rule."""

from __future__ import annotations

import numpy as np

from forecast.metrics import error_scale, window_metrics
from forecast.models.base import Prediction
from forecast.select import choose


def test_window_metrics_by_hand() -> None:
    actual = np.array([10.0, 20.0, 30.0, 40.0])
    pred = Prediction(
        mean=np.array([12.0, 20.0, 27.0, 40.0]),
        quantiles={
            "lo-80": np.array([11.0, 15.0, 25.0, 35.0]),
            "hi-80": np.array([13.0, 25.0, 29.0, 45.0]),
        },
    )
    out = window_metrics(actual, pred, (2.0, 4.0), (80,))
    assert np.isclose(out["mase"], (2 + 0 + 3 + 0) / 4 / 2.0)
    assert np.isclose(out["rmsse"], np.sqrt((4 + 9) / 4 / 4.0))
    assert np.isclose(out["smape"], np.mean([4 / 22, 0, 6 / 57, 0]))
    assert out["coverage_80"] == 0.5  # 10 < 11 and 30 > 29 fall outside


def test_missing_actuals_are_ignored() -> None:
    actual = np.array([np.nan, 5.0])
    pred = Prediction(
        np.array([100.0, 5.0]), {"lo-80": np.array([0.0, 4.0]), "hi-80": np.array([200.0, 6.0])}
    )
    assert window_metrics(actual, pred, (1.0, 1.0), (80,))["mase"] == 0.0


def test_error_scale_seasonal_then_fallbacks() -> None:
    y = np.array([1.0, 2.0, 3.0, 5.0, 6.0, 7.0])
    assert error_scale(y, 3) == 4.0
    assert error_scale(np.array([2.0, 2.0, 2.0]), 12) == 2.0  # constant: mean |y|
    assert error_scale(np.zeros(5), 12) == 1.0


def test_choose_lowest_mase_ties_to_preference_nan_ignored() -> None:
    assert choose({"a": 1.0, "b": 0.5, "c": float("nan")}, ["a", "b", "c"]) == "b"
    assert choose({"a": 0.5, "b": 0.5}, ["b", "a"]) == "b"
    assert choose({"a": float("nan"), "b": float("nan")}, ["b", "a"]) == "b"


def test_pooled_evidence_outweighs_one_noisy_series() -> None:
    from forecast.select import pooled_mase

    pooled = pooled_mase([{"a": 1.0, "b": 2.0}, {"a": 1.0, "b": 2.0}, {"a": 1.2, "b": 1.0}])
    assert np.isclose(pooled["a"], 3.2 / 3) and np.isclose(pooled["b"], 5 / 3)
    # on the third series b looks better alone, but the run's evidence keeps a
    assert choose({"a": 1.2, "b": 1.0}, ["a", "b"], pooled) == "a"
    # overwhelming own evidence still wins
    assert choose({"a": 5.0, "b": 1.0}, ["a", "b"], pooled) == "b"
