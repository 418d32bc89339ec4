"""The model protocol: fit on one series, predict a mean and named quantiles."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from statistics import NormalDist
from typing import Protocol

import numpy as np

from forecast.series import FloatArray, SeriesData


@dataclass(frozen=True, eq=False)
class Prediction:
    """Forecast for `horizon` steps: `mean` and quantiles named 'lo-<L>' / 'hi-<L>' (L in %)."""

    mean: FloatArray
    quantiles: Mapping[str, FloatArray]

    def interval(self, level: int) -> tuple[FloatArray, FloatArray]:
        """Lower and upper bounds of the central `level`% interval."""
        return self.quantiles[f"lo-{level}"], self.quantiles[f"hi-{level}"]


class Forecaster(Protocol):
    """A fresh object per series and fit: `fit` on complete history, then `predict`."""

    name: str

    def fit(self, series: SeriesData) -> Forecaster: ...

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction: ...


def z_value(level: int) -> float:
    """Two-sided standard-normal quantile for a central `level`% interval."""
    return NormalDist().inv_cdf(0.5 + level / 200.0)


def gaussian_prediction(mean: FloatArray, sd: FloatArray, levels: Sequence[int]) -> Prediction:
    """Symmetric normal intervals around `mean` with per-step standard deviation `sd`."""
    quantiles: dict[str, FloatArray] = {}
    for level in levels:
        z = z_value(level)
        quantiles[f"lo-{level}"] = mean - z * sd
        quantiles[f"hi-{level}"] = mean + z * sd
    return Prediction(mean=mean, quantiles=quantiles)


# Below this many residuals a model's own error sd is floored (`floored_sigma`).
MIN_RESIDUALS = 6


def floored_sigma(sigma: float, residuals: int, y: FloatArray) -> float:
    """`sigma`, a model's error sd estimated from `residuals` errors of history `y`; when they
    are fewer than MIN_RESIDUALS, at least the naive model's spread (the root mean square
    one-step change of `y`, from its len(y) - 1 changes).

    Why: the root mean square of k normal errors falls under half their sd with probability
    38% for k = 1, 14% for k = 3 and 4% for k = 6 (chi-square, k degrees of freedom, under
    k / 4), so a spread from under six errors is often far too small, and zero when they happen
    to be: seasonal naive on 13 months has one lag-12 difference, and gave intervals of zero
    width. The one-step changes are the most a short history has, and no model's errors need
    be smaller than a random walk's there; in a seasonal series they include the seasonal
    swing, so the floor errs wide, as a spread from so few errors should. Not tuned on data."""
    if residuals >= MIN_RESIDUALS or len(y) < 2:
        return sigma
    return max(sigma, naive_sigma(y))


def naive_sigma(y: FloatArray) -> float:
    """Root mean square one-step change of `y` (0.0 for fewer than two values)."""
    steps = np.diff(y)
    return float(np.sqrt(np.mean(steps**2))) if len(steps) else 0.0


def change_scale(y: FloatArray) -> float:
    """The sd of y's changes, the unit statsmodels fits are run in (`arima`, `ets`,
    `theta_sm`): its optimisers stop early when the variance is large, so a series in the tens
    of thousands got other parameters than the same series in units; fitted on y over this,
    k x y forecasts k times y. 1 (unscaled) for a series that never changes."""
    sd = float(np.std(np.diff(y))) if len(y) > 1 else 0.0
    return sd if np.isfinite(sd) and sd > 0 else 1.0


def require_complete(series: SeriesData, name: str, min_length: int = 1) -> FloatArray:
    """The series values, or ModelFitError if any are missing or there are too few."""
    from forecast.errors import HistoryTooShort, ModelFitError

    y = series.y
    if np.isnan(y).any():
        raise ModelFitError(f"{name}: history has {int(np.isnan(y).sum())} missing periods")
    if len(y) < min_length:
        raise HistoryTooShort(f"{name}: needs at least {min_length} periods, found {len(y)}")
    return y
