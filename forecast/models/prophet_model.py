"""Prophet with yearly seasonality, UK bank holidays (weekly data), optional log transform."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from forecast.errors import HistoryTooShort, ModelFitError
from forecast.models.base import Prediction, gaussian_prediction
from forecast.models.quiet import quiet, silence_loggers
from forecast.series import FloatArray, SeriesData


class ProphetModel:
    """Prophet MAP fit (no sampling); intervals from in-sample residuals, widened with horizon."""

    accepts_missing = True

    def __init__(self, log: bool = False) -> None:
        self.name = "prophet_log" if log else "prophet"
        self._log = log
        self._model: Any = None
        self._series: SeriesData | None = None
        self._sigma = 0.0

    def fit(self, series: SeriesData) -> ProphetModel:
        observed = int(np.isfinite(series.y).sum())
        needed = max(4, 2 * series.season_length // 3)
        if observed < needed:
            raise HistoryTooShort(f"{self.name}: needs {needed} observed periods, found {observed}")
        if self._log and np.nanmin(series.y) < 0:
            raise ModelFitError(f"{self.name}: log transform needs non-negative history")
        frame = pd.DataFrame({"ds": series.ds, "y": self._forward(series.y)}).dropna()
        self._model = _fit(frame, series)
        fitted = self._model.predict(frame[["ds"]])["yhat"].to_numpy()
        self._sigma = float(np.sqrt(np.mean((frame["y"].to_numpy() - fitted) ** 2)))
        self._series = series
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        assert self._series is not None
        future = pd.DataFrame({"ds": self._series.future_ds(horizon)})
        with quiet():
            yhat = self._model.predict(future)["yhat"].to_numpy(dtype=float)
        # Residual sd grows slowly with the horizon to reflect trend uncertainty.
        sd = self._sigma * np.sqrt(1.0 + np.arange(1.0, horizon + 1) / len(self._series.y))
        pred = gaussian_prediction(yhat, sd, levels)
        return _backward(pred, self._log) if self._log else pred

    def _forward(self, y: FloatArray) -> FloatArray:
        return np.log1p(y) if self._log else y


def _fit(frame: pd.DataFrame, series: SeriesData) -> Any:
    silence_loggers()
    with quiet():
        from prophet import Prophet

        silence_loggers()
        model = Prophet(
            yearly_seasonality=6 if series.freq == "MS" else 10,
            weekly_seasonality=False,
            daily_seasonality=False,
            holidays=_uk_holidays(series) if series.freq == "W-MON" else None,
            uncertainty_samples=0,
        )
        try:
            model.fit(frame)
        except RuntimeError as err:
            raise ModelFitError(f"prophet fit failed: {err}") from err
    return model


def _uk_holidays(series: SeriesData) -> pd.DataFrame:
    years = tuple(range(series.ds[0].year, series.ds[-1].year + 3))
    return _holiday_weeks(years)


@lru_cache(maxsize=16)
def _holiday_weeks(years: tuple[int, ...]) -> pd.DataFrame:
    """England bank holidays, each placed on the Monday that starts its week."""
    import holidays

    days = pd.to_datetime(list(holidays.country_holidays("GB", subdiv="ENG", years=years)))
    weeks = days - pd.to_timedelta(days.dayofweek, unit="D")
    return pd.DataFrame({"holiday": "uk_bank_holiday", "ds": sorted(set(weeks))})


def _backward(pred: Prediction, log: bool) -> Prediction:
    back = {k: np.expm1(v) for k, v in pred.quantiles.items()}
    return Prediction(mean=np.expm1(pred.mean), quantiles=back)
