"""Naive and seasonal naive forecasts with random-walk normal intervals."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecast.errors import HistoryTooShort
from forecast.models.base import (
    Prediction,
    floored_sigma,
    gaussian_prediction,
    naive_sigma,
    require_complete,
)
from forecast.series import SeriesData


class SeasonalNaive:
    """Each future period repeats the same period one season earlier."""

    name = "seasonal_naive"

    def __init__(self, season_length: int | None = None) -> None:
        self._m = season_length
        self._last = np.zeros(0)
        self._sigma = 0.0

    def fit(self, series: SeriesData) -> SeasonalNaive:
        m = self._m or series.season_length
        y = require_complete(series, self.name)
        if len(y) <= m:
            raise HistoryTooShort(f"{self.name}: needs more than one season ({m}), found {len(y)}")
        self._m = m
        self._last = y[-m:].copy()
        residuals = y[m:] - y[:-m]
        rms = float(np.sqrt(np.mean(residuals**2)))
        self._sigma = floored_sigma(rms, len(residuals), y)
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        m = self._m or 1
        steps = np.arange(horizon)
        mean = self._last[steps % m]
        sd = self._sigma * np.sqrt(steps // m + 1.0)
        return gaussian_prediction(mean, sd, levels)


class Naive:
    """Each future period repeats the last observed value."""

    name = "naive"

    def __init__(self) -> None:
        self._last = 0.0
        self._sigma = 0.0

    def fit(self, series: SeriesData) -> Naive:
        y = require_complete(series, self.name)
        self._last = float(y[-1])
        self._sigma = naive_sigma(y)  # what floored_sigma falls back on: nothing sturdier
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        mean = np.full(horizon, self._last)
        sd = self._sigma * np.sqrt(np.arange(1.0, horizon + 1))
        return gaussian_prediction(mean, sd, levels)
