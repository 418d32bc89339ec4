"""Fast exponential smoothing (SES, Holt, damped, Theta) on seasonally adjusted data.

Parameters are found by a vectorised grid search over smoothing weights (a few milliseconds per
series), the M4-competition style: classical decomposition when a seasonality test passes,
smoothing on the adjusted series, then re-seasonalising the forecast.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from forecast.models.base import (
    Prediction,
    floored_sigma,
    gaussian_prediction,
    require_complete,
)
from forecast.models.seasonality import NONE, Seasonal, decompose
from forecast.series import FloatArray, SeriesData

_ALPHAS = np.linspace(0.02, 0.98, 33)
_BETA_SHARE = np.array([0.02, 0.05, 0.1, 0.2, 0.4])
_PHIS = np.array([0.8, 0.85, 0.9, 0.95, 0.98])


@dataclass(frozen=True)
class Smoothed:
    """Chosen weights and end-of-history states; sigma is the one-step error sd."""

    alpha: float
    beta: float
    phi: float
    level: float
    trend: float
    sigma: float


class ExpSmoothing:
    """SES ('ses'), Holt linear ('holt') or damped trend ('damped'), with classical seasonality."""

    def __init__(self, kind: str) -> None:
        self.name = kind
        self._fit: Smoothed | None = None
        self._season: Seasonal = NONE
        self._n = 0

    def fit(self, series: SeriesData) -> ExpSmoothing:
        y = require_complete(series, self.name, min_length=3)
        self._season = decompose(y, series.season_length)
        self._fit = smooth(self._season.remove(y), self.name)
        self._n = len(y)
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        assert self._fit is not None
        mean, sd = smoothed_forecast(self._fit, horizon)
        return seasonal_prediction(self._season, self._n, mean, sd, levels)


def seasonal_prediction(
    season: Seasonal, n: int, mean: FloatArray, sd: FloatArray, levels: Sequence[int]
) -> Prediction:
    """Gaussian intervals on the adjusted scale, then every quantile re-seasonalised."""
    pred = gaussian_prediction(mean, sd, levels)
    quantiles = {k: season.restore(v, n) for k, v in pred.quantiles.items()}
    return Prediction(season.restore(pred.mean, n), quantiles)


def smooth(y: FloatArray, kind: str) -> Smoothed:
    """Grid-search the weights of `kind` minimising in-sample one-step squared error."""
    alpha, beta, phi = _grid(kind)
    l0, b0 = _initial_states(y, trend=kind != "ses")
    sse, level, trend = _filter(y, alpha, beta, phi, l0, b0)
    best = int(np.argmin(sse))
    dof = max(1, len(y) - (1 if kind == "ses" else 3 if kind == "holt" else 4))
    sigma = floored_sigma(float(np.sqrt(sse[best] / dof)), dof, y)
    return Smoothed(
        float(alpha[best]),
        float(beta[best]),
        float(phi[best]),
        float(level[best]),
        float(trend[best]),
        sigma,
    )


def smoothed_forecast(fit: Smoothed, horizon: int) -> tuple[FloatArray, FloatArray]:
    """Mean and analytic sd for steps 1..horizon of the damped-trend family."""
    h = np.arange(1, horizon + 1)
    damp = np.cumsum(fit.phi**h)  # phi + phi^2 + ... + phi^h
    mean = fit.level + damp * fit.trend
    # error weight of a shock j steps back: alpha + beta * (phi + ... + phi^j)
    weights = fit.alpha + fit.beta * np.concatenate([[0.0], damp[:-1]])
    var = fit.sigma**2 * (1.0 + np.concatenate([[0.0], np.cumsum(weights[1:] ** 2)]))
    return mean, np.sqrt(var)


def _grid(kind: str) -> tuple[FloatArray, FloatArray, FloatArray]:
    if kind == "ses":
        return _ALPHAS, np.zeros_like(_ALPHAS), np.ones_like(_ALPHAS)
    phis = np.ones(1) if kind == "holt" else _PHIS
    a, share, p = np.meshgrid(_ALPHAS, _BETA_SHARE, phis, indexing="ij")
    return a.ravel(), (a * share).ravel(), p.ravel()


def _initial_states(y: FloatArray, trend: bool) -> tuple[float, float]:
    k = min(len(y), 6)
    if not trend or k < 2:
        return float(np.mean(y[:k])), 0.0
    slope, intercept = np.polyfit(np.arange(k), y[:k], 1)
    return float(intercept - slope), float(slope)


def _filter(
    y: FloatArray, alpha: FloatArray, beta: FloatArray, phi: FloatArray, l0: float, b0: float
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Run every candidate weight set through the series at once (error-correction form)."""
    level = np.full(alpha.shape, l0)
    trend = np.full(alpha.shape, b0)
    sse = np.zeros(alpha.shape)
    for value in y:
        damped = phi * trend
        err = value - (level + damped)
        sse += err * err
        level = level + damped + alpha * err
        trend = damped + beta * err
    return sse, level, trend
