"""ARIMA (statsmodels) on seasonally adjusted data: KPSS picks d, AICc picks a small (p, q).

The search and fit run on the adjusted series divided by the sd of its changes (`change_scale`):
statsmodels' optimiser stops early when the variance is large, so a series in the tens of
thousands got other coefficients, a worse likelihood and sometimes another order than the
same series in units; scaled, the forecast of k x y is k times that of y."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from forecast.errors import ModelFitError
from forecast.models.base import Prediction, change_scale, require_complete
from forecast.models.quiet import quiet
from forecast.models.seasonality import NONE, Seasonal, decompose
from forecast.models.smoothing import seasonal_prediction
from forecast.series import FloatArray, SeriesData

# (p, q, trend) tried for each differencing order; 't' is drift when d = 1, 'c' a mean when d = 0.
_ORDERS = {
    1: ((0, 1, "n"), (1, 0, "n"), (1, 1, "n"), (0, 0, "n"), (0, 1, "t")),
    0: ((1, 0, "c"), (1, 1, "c"), (2, 0, "c")),
}


class AutoArima:
    """Small automatic ARIMA search; `extend` re-filters longer data with the same parameters."""

    name = "arima"

    def __init__(self) -> None:
        self._result: Any = None
        self._season: Seasonal = NONE
        self._n = 0
        self._scale = 1.0

    def fit(self, series: SeriesData) -> AutoArima:
        y = require_complete(series, self.name, min_length=8)
        self._season = decompose(y, series.season_length)
        self._scale = change_scale(self._season.remove(y))
        adjusted = self._season.remove(y) / self._scale
        d = _differences(adjusted)
        fits = [r for r in (_fit_order(adjusted, d, o) for o in _ORDERS[d]) if r is not None]
        if not fits:
            raise ModelFitError(f"{self.name}: no ARIMA order could be estimated")
        self._result = min(fits, key=lambda r: r.aicc)
        self._n = len(y)
        return self

    def extend(self, series: SeriesData) -> AutoArima:
        """Same orders, parameters and scale, states re-filtered on `series` (a longer
        history)."""
        y = require_complete(series, self.name, min_length=8)
        out = AutoArima()
        out._season = decompose(y, series.season_length)
        out._scale = self._scale
        with quiet():
            out._result = self._result.apply(out._season.remove(y) / self._scale)
        out._n = len(y)
        return out

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        with quiet():
            fc = self._result.get_forecast(horizon)
            mean = np.asarray(fc.predicted_mean, dtype=float) * self._scale
            var = np.maximum(np.asarray(fc.var_pred_mean, dtype=float), 0.0)
            sd = np.sqrt(var) * self._scale
        if not np.isfinite(mean).all():
            raise ModelFitError(f"{self.name}: non-finite forecast")
        return seasonal_prediction(self._season, self._n, mean, np.nan_to_num(sd), levels)


def _differences(y: FloatArray) -> int:
    """1 if the KPSS level-stationarity test rejects at 5%, else 0."""
    from statsmodels.tsa.stattools import kpss

    if len(y) < 12 or np.ptp(y) == 0:
        return 1
    with quiet():
        _stat, pvalue, *_ = kpss(y, regression="c", nlags="auto")
    return 1 if pvalue < 0.05 else 0


def _fit_order(y: FloatArray, d: int, order: tuple[int, int, str]) -> Any:
    from statsmodels.tsa.arima.model import ARIMA

    p, q, trend = order
    try:
        with quiet():
            # no parameter covariances: nothing reads them (aicc and the forecast variance
            # do not), and estimating them was about 6% of a forecast's CPU
            result = ARIMA(y, order=(p, d, q), trend=trend).fit(cov_type="none")
    except (ValueError, np.linalg.LinAlgError):
        return None
    return result if np.isfinite(result.aicc) else None
