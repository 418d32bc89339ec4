"""The Theta method (Hyndman and Billah form): SES plus half the linear drift, deseasonalised."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from forecast.models.base import Prediction, require_complete
from forecast.models.seasonality import NONE, Seasonal, decompose
from forecast.models.smoothing import Smoothed, seasonal_prediction, smooth, smoothed_forecast
from forecast.series import SeriesData


class Theta:
    """Theta(2): SES forecast plus drift b/2 from an OLS trend on the adjusted series.

    Same formula as statsmodels' ThetaModel ('theta_sm'), with the fast shared SES fit.
    """

    name = "theta"

    def __init__(self) -> None:
        self._fit: Smoothed | None = None
        self._season: Seasonal = NONE
        self._slope = 0.0
        self._n = 0

    def fit(self, series: SeriesData) -> Theta:
        y = require_complete(series, self.name, min_length=3)
        self._season = decompose(y, series.season_length)
        adjusted = self._season.remove(y)
        self._slope = float(np.polyfit(np.arange(len(y)), adjusted, 1)[0])
        self._fit = smooth(adjusted, "ses")
        self._n = len(y)
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        assert self._fit is not None
        mean, sd = smoothed_forecast(self._fit, horizon)
        a = self._fit.alpha
        steps = np.arange(horizon)
        drift = 0.5 * self._slope * (steps + 1.0 / a - (1.0 - a) ** self._n / a)
        return seasonal_prediction(self._season, self._n, mean + drift, sd, levels)
