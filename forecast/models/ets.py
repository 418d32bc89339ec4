"""Statsmodels ETS: none/damped trend, seasonal where history allows, form chosen by AICc.

The forms are fitted to the series divided by the sd of its changes (`change_scale`), as
`arima` is: unscaled, the same series x1000 got other smoothing weights and its mean moved by
7-14% and its 80% upper bound by up to 18% after dividing back."""

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
)
from forecast.models.quiet import quiet
from forecast.series import SeriesData

# (trend, damped, seasonal) in the order tried; seasonal forms need two full seasons.
_NONSEASONAL = ((None, False, None), ("add", True, None))
_SEASONAL = ((None, False, "add"), ("add", True, "add"))


class AutoETS:
    """Additive-error ETS; the form with the lowest AICc among the candidates is kept."""

    name = "ets"

    def __init__(self) -> None:
        self._result: Any = None
        self._n = 0
        self._scale = 1.0

    def fit(self, series: SeriesData) -> AutoETS:
        y = require_complete(series, self.name, min_length=4)
        m = series.season_length
        forms = _NONSEASONAL + (_SEASONAL if len(y) >= 2 * m + 2 else ())
        self._scale = change_scale(y)
        scaled = y / self._scale
        fits = [r for r in (_fit_form(scaled, m, form) for form in forms) if r is not None]
        if not fits:
            raise ModelFitError(f"{self.name}: no ETS form converged")
        self._result = min(fits, key=lambda r: r.aicc)
        self._n = len(y)
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        with quiet():
            pred = self._result.get_prediction(start=self._n, end=self._n + horizon - 1)
            mean = np.asarray(pred.predicted_mean, dtype=float) * self._scale
            var = np.maximum(np.asarray(pred.forecast_variance, dtype=float), 0.0)
            sd = np.sqrt(var) * self._scale
        if not np.isfinite(mean).all():
            raise ModelFitError(f"{self.name}: non-finite forecast")
        return gaussian_prediction(mean, np.nan_to_num(sd), levels)


def _fit_form(y: np.ndarray, m: int, form: tuple[str | None, bool, str | None]) -> Any:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    trend, damped, seasonal = form
    try:
        with quiet():
            # A pandas endog: statsmodels 0.15 get_prediction fails on a bare ndarray.
            model = ETSModel(
                pd.Series(y),
                error="add",
                trend=trend,
                damped_trend=damped,
                seasonal=seasonal,
                seasonal_periods=m if seasonal else None,
            )
            result = model.fit(disp=False, maxiter=200)
    except (ValueError, np.linalg.LinAlgError):
        return None
    return result if np.isfinite(result.aicc) else None
