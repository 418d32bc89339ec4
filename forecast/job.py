"""The unit of parallel work: backtest and fit every candidate model on one series."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from forecast.backtest import Window, windows
from forecast.errors import ModelFitError
from forecast.models import make_model
from forecast.models.base import Prediction
from forecast.series import SeriesData
from forecast.settings import ForecastSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True, eq=False)
class ModelOutcome:
    """One model on one series: its backtest predictions (one per window) and final forecast."""

    name: str
    folds: tuple[Prediction, ...]
    final: Prediction


@dataclass(frozen=True, eq=False)
class SeriesOutcome:
    """Everything fitted for one series, before calibration and selection."""

    unique_id: str
    future_ds: pd.DatetimeIndex
    nonnegative: bool
    windows: tuple[Window, ...]
    models: dict[str, ModelOutcome]
    failures: list[tuple[str, str]] = field(default_factory=list)


def run_series(series: SeriesData, settings: ForecastSettings) -> SeriesOutcome:
    """Backtest and fit each candidate on `series`; failures are recorded, never raised."""
    failures: list[tuple[str, str]] = []
    candidates = _candidates(series, settings, failures)
    clean = _interpolated(series)
    wins = tuple(windows(clean, settings.backtest_folds, settings.eval_horizon))
    models: dict[str, ModelOutcome] = {}
    for name in candidates:
        data = series if _accepts_missing(name) else clean
        if data is clean and series.n_missing:
            failures.append((name, f"{series.n_missing} missing periods linearly interpolated"))
        try:
            models[name] = _run_model(name, data, wins, settings)
        except Exception as err:  # any third-party failure becomes a recorded fallback
            failures.append((name, f"failed: {type(err).__name__}: {err}"))
    if not models:
        models["naive"] = _run_model("naive", clean, wins, settings)
        failures.append(("*", "every candidate failed; naive used"))
    nonneg = bool(np.nanmin(series.y) >= 0)
    return SeriesOutcome(
        series.unique_id, series.future_ds(settings.horizon), nonneg, wins, models, failures
    )


def _candidates(
    series: SeriesData, settings: ForecastSettings, failures: list[tuple[str, str]]
) -> tuple[str, ...]:
    observed = series.y[np.isfinite(series.y)]
    if observed.min() == observed.max():
        for name in settings.models:
            if name != "naive":
                failures.append((name, f"constant series (every value {observed[0]:g})"))
        return ("naive",)
    return settings.models


def _run_model(
    name: str, series: SeriesData, wins: tuple[Window, ...], settings: ForecastSettings
) -> ModelOutcome:
    folds = tuple(_fit_predict(name, series.head(w.origin), len(w.actual), settings) for w in wins)
    final = _fit_predict(name, series, settings.horizon, settings)
    return ModelOutcome(name, folds, final)


def _fit_predict(
    name: str, series: SeriesData, horizon: int, settings: ForecastSettings
) -> Prediction:
    pred = make_model(name).fit(series).predict(horizon, settings.levels)
    values = [pred.mean, *pred.quantiles.values()]
    if not all(np.isfinite(v).all() for v in values):
        raise ModelFitError(f"{name}: non-finite forecast")
    return pred


def _accepts_missing(name: str) -> bool:
    return bool(getattr(make_model(name), "accepts_missing", False))


def _interpolated(series: SeriesData) -> SeriesData:
    if not series.n_missing:
        return series
    y = np.asarray(pd.Series(series.y).interpolate(limit_direction="both"), dtype=np.float64)
    return SeriesData(series.unique_id, series.ds, y, series.freq)
