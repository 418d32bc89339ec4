"""The Theta method as statsmodels implements it (ThetaModel); slower than `theta`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ModelFitError
from forecast.models.base import Prediction, gaussian_prediction, require_complete, z_value
from forecast.models.quiet import quiet
from forecast.series import SeriesData


class StatsmodelsTheta:
    """SES with half the linear drift; statsmodels picks multiplicative or additive seasonality."""

    name = "theta_sm"

    def __init__(self) -> None:
        self._result: Any = None

    def fit(self, series: SeriesData) -> StatsmodelsTheta:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = require_complete(series, self.name, min_length=4)
        m = series.season_length
        seasonal = len(y) >= 2 * m
        method = "multiplicative" if np.all(y > 0) else "additive"
        try:
            with quiet():
                model = ThetaModel(
                    pd.Series(y), period=m if seasonal else 1, deseasonalize=seasonal, method=method
                )
                self._result = model.fit()
        except (ValueError, np.linalg.LinAlgError) as err:
            raise ModelFitError(f"{self.name}: {err}") from err
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        with quiet():
            mean = np.asarray(self._result.forecast(horizon), dtype=float)
            bounds = self._result.prediction_intervals(horizon, alpha=0.2)
        half = (np.asarray(bounds["upper"], dtype=float) - np.asarray(bounds["lower"])) / 2
        return gaussian_prediction(mean, np.maximum(half / z_value(80), 0.0), levels)
