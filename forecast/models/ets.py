"""Statsmodels ETS: none/damped trend, seasonal where history allows, form chosen by AICc."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import ModelFitError
from forecast.models.base import Prediction, gaussian_prediction, require_complete
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

    def fit(self, series: SeriesData) -> AutoETS:
        y = require_complete(series, self.name, min_length=4)
        m = series.season_length
        forms = _NONSEASONAL + (_SEASONAL if len(y) >= 2 * m + 2 else ())
        fits = [r for r in (_fit_form(y, m, form) for form in forms) if r is not None]
        if not fits:
            raise ModelFitError(f"{self.name}: no ETS form converged")
        self._result = min(fits, key=lambda r: r.aicc)
        self._n = len(y)
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        with quiet():
            pred = self._result.get_prediction(start=self._n, end=self._n + horizon - 1)
            mean = np.asarray(pred.predicted_mean, dtype=float)
            sd = np.sqrt(np.maximum(np.asarray(pred.forecast_variance, dtype=float), 0.0))
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
