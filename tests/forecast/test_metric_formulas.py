"""The scores' formulas pinned on numbers that tell them from near-misses. A mutation run found
that the earlier examples also fitted wrong formulas: a series whose mean |y| equalled its
seasonal scale, coverage of one half (the median of 0s and 1s), and a single interval level (its
two bounds' mean is their median)."""

from __future__ import annotations

import numpy as np
import pytest

from forecast.metrics import error_scale, interval_scores, window_metrics
from forecast.models.base import Prediction


@pytest.mark.parametrize(
    ("y", "season", "power", "scale"),
    [
        ([1, 2, 3, 5, 6, 9], 3, 1, 14 / 3),  # |seasonal differences| 4, 4, 6; mean |y| 26/6
        ([0, 0, 0, 1, 1, 4], 3, 1, 2.0),  # their mean (1, 1, 4), not their median (1)
        ([1, 2, 1, 2, 1, 3], 2, 1, 0.25),  # a small seasonal scale is kept, not lag 1's (1.2)
        ([10, 11, 12, 13], 12, 1, 1.0),  # shorter than a season: one-step differences
        ([1, 2, 4], 12, 2, 2.5),  # RMSSE's: squared differences (1 + 4) / 2, not 2 x mean
        ([np.nan, 3, 6, 9], 3, 1, 3.0),  # no finite seasonal difference: one-step ones
    ],
)
def test_error_scale(y: list[float], season: int, power: int, scale: float) -> None:
    found = error_scale(np.asarray(y, dtype=float), season, power=power)
    assert found == pytest.approx(scale)


Bounds = dict[int, tuple[list[float], list[float]]]  # level -> (lo, hi)


def _prediction(mean: list[float], bounds: Bounds) -> Prediction:
    quantiles = {}
    for level, (lo, hi) in bounds.items():
        quantiles[f"lo-{level}"] = np.asarray(lo, dtype=float)
        quantiles[f"hi-{level}"] = np.asarray(hi, dtype=float)
    return Prediction(np.asarray(mean, dtype=float), quantiles)


def test_coverage_is_the_share_of_actuals_inside() -> None:
    pred = _prediction([5, 5, 5, 5], {80: ([0, 0, 0, 0], [10, 10, 10, 1])})
    scores = window_metrics(np.array([5.0, 5, 5, 5]), pred, (1.0, 1.0), (80,))
    assert scores["coverage_80"] == 0.75


def test_a_missing_actual_leaves_the_others_scored() -> None:
    pred = _prediction([100, 5], {80: ([0, 4], [200, 6])})
    scores = interval_scores(np.array([np.nan, 5.0]), pred, 1.0, (80,))
    assert scores["coverage_80"] == 1.0
    assert scores["pinball"] == pytest.approx((0.1 * 1 + 0.1 * 1) / 2)


def test_an_all_missing_window_has_no_scores() -> None:
    pred = _prediction([1, 1], {80: ([0, 0], [2, 2])})
    assert window_metrics(np.array([np.nan, np.nan]), pred, (1.0, 1.0), (80,)) == {}


def test_smape_counts_zero_for_zero_as_perfect_and_a_forecast_against_zero_as_the_worst() -> None:
    pred = _prediction([0.0, 0.4], {80: ([0, 0], [1, 1])})
    scores = window_metrics(np.array([0.0, 0.0]), pred, (1.0, 1.0), (80,))
    assert scores["smape"] == pytest.approx((0.0 + 2.0) / 2)


def test_pinball_is_the_mean_over_every_bound_of_every_level() -> None:
    pred = _prediction([10, 10, 10], {80: ([8] * 3, [12] * 3), 95: ([6] * 3, [14] * 3)})
    y = np.array([10.0, 20.0, 9.0])

    def loss(q: float, bound: float) -> float:
        d = y - bound
        return float(np.mean(np.maximum(q * d, (q - 1) * d)))

    expected = np.mean([loss(0.1, 8), loss(0.9, 12), loss(0.025, 6), loss(0.975, 14)])
    assert interval_scores(y, pred, 1.0, (80, 95))["pinball"] == pytest.approx(expected)
