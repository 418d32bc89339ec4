"""The Theta method as statsmodels implements it (ThetaModel); slower than `theta`.

Fitted to the series divided by the sd of its changes (`change_scale`), as `arima` is: the
interval's variance comes from a SARIMAX(0, 1, 1) that ThetaModel fits to the (adjusted)
series, whose optimiser stops early on large values, so the same series x1000 had intervals up
to 3% wider or narrower after dividing back (the mean, from SES and least squares, was exact)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ModelFitError
from forecast.models.base import (
    Prediction,
    change_scale,
    gaussian_prediction,
    require_complete,
    z_value,
)
from forecast.models.quiet import quiet
from forecast.series import SeriesData


class StatsmodelsTheta:
    """SES with half the linear drift; statsmodels picks multiplicative or additive seasonality."""

    name = "theta_sm"

    def __init__(self) -> None:
        self._result: Any = None
        self._scale = 1.0

    def fit(self, series: SeriesData) -> StatsmodelsTheta:
        from statsmodels.tsa.forecasting.theta import ThetaModel

        y = require_complete(series, self.name, min_length=4)
        m = series.season_length
        seasonal = len(y) >= 2 * m
        method = "multiplicative" if np.all(y > 0) else "additive"
        self._scale = change_scale(y)
        try:
            with quiet():
                model = ThetaModel(
                    pd.Series(y / self._scale),
                    period=m if seasonal else 1,
                    deseasonalize=seasonal,
                    method=method,
                )
                self._result = model.fit()
        except (ValueError, np.linalg.LinAlgError) as err:
            raise ModelFitError(f"{self.name}: {err}") from err
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        with quiet():
            mean = np.asarray(self._result.forecast(horizon), dtype=float) * self._scale
            bounds = self._result.prediction_intervals(horizon, alpha=0.2)
        upper, lower = (np.asarray(bounds[k], dtype=float) for k in ("upper", "lower"))
        half = (upper - lower) / 2 * self._scale
        return gaussian_prediction(mean, np.maximum(half / z_value(80), 0.0), levels)
