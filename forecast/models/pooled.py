"""'pooled_<model>': a model fitted to a series with its siblings' seasonal profile removed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from forecast.errors import ModelFitError
from forecast.models.base import Forecaster, Prediction
from forecast.models.profile import Profile, fit_profile
from forecast.series import SeriesData

PREFIX = "pooled_"


class PooledSeason:
    """Divide the series by a smooth annual profile (with bank-holiday dips) fitted to the total
    of its sibling series, fit `inner` on what is left, and multiply its forecast back.

    The profile is refitted from the training window's totals at every origin, so backtests see
    no future data. Needs `series.pooled` (see forecast.pooling).
    """

    def __init__(self, inner: Forecaster) -> None:
        self.name = PREFIX + inner.name
        self._inner = inner
        self._profile: Profile | None = None
        self._series: SeriesData | None = None

    def fit(self, series: SeriesData) -> PooledSeason:
        if series.pooled is None:
            raise ModelFitError(f"{self.name}: no sibling totals to pool a season from")
        self._profile = fit_profile(series.ds, series.pooled)
        factors = self._profile.factors(series.ds)
        adjusted = replace(series, y=series.y / factors, pooled=None)
        self._inner = self._inner.fit(adjusted)
        self._series = series
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        assert self._profile is not None and self._series is not None
        pred = self._inner.predict(horizon, levels)
        factors = self._profile.factors(self._series.future_ds(horizon))
        quantiles = {k: v * factors for k, v in pred.quantiles.items()}
        return Prediction(pred.mean * factors, quantiles)
