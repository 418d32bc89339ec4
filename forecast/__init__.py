"""Forecasting engine: long history frames in; forecasts, quantiles and backtest metrics out."""

from forecast.engine import run_forecasts
from forecast.errors import ForecastInputError
from forecast.hierarchy import (
    reconcile_bottom_up,
    reconcile_paths_bottom_up,
    reconcile_wls_struct,
)
from forecast.settings import RECOMMENDED_MODELS, ForecastRun, ForecastSettings
from forecast.winter import winter_index

__all__ = [
    "RECOMMENDED_MODELS",
    "ForecastInputError",
    "ForecastRun",
    "ForecastSettings",
    "reconcile_bottom_up",
    "reconcile_paths_bottom_up",
    "reconcile_wls_struct",
    "run_forecasts",
    "winter_index",
]
