"""The model zoo: every forecaster by name, behind one fit/predict protocol."""

from __future__ import annotations

from collections.abc import Callable

from forecast.errors import ForecastInputError
from forecast.models.arima import AutoArima
from forecast.models.base import Forecaster, Prediction
from forecast.models.ets import AutoETS
from forecast.models.naive import Naive, SeasonalNaive
from forecast.models.pooled import PREFIX as POOLED_PREFIX
from forecast.models.pooled import PooledSeason
from forecast.models.prophet_model import ProphetModel
from forecast.models.smoothing import ExpSmoothing
from forecast.models.theta import Theta
from forecast.models.theta_sm import StatsmodelsTheta
from forecast.models.windowed import Windowed

FACTORIES: dict[str, Callable[[], Forecaster]] = {
    "seasonal_naive": SeasonalNaive,
    "naive": Naive,
    "ses": lambda: ExpSmoothing("ses"),
    "holt": lambda: ExpSmoothing("holt"),
    "damped": lambda: ExpSmoothing("damped"),
    "theta": Theta,
    "theta_sm": StatsmodelsTheta,
    "arima": AutoArima,
    "ets": AutoETS,
    "prophet": ProphetModel,
    "prophet_log": lambda: ProphetModel(log=True),
}


def make_model(name: str) -> Forecaster:
    """A fresh, unfitted model of the named kind; 'name@N' fits on the last N periods only;
    'pooled_name' fits `name` with the siblings' seasonal profile removed."""
    base, sep, periods = name.partition("@")
    if sep:
        if not periods.isdigit() or int(periods) < 4:
            raise ForecastInputError(
                f"models: expected '<model>@<periods>' with periods >= 4, found {name!r}"
            )
        return Windowed(make_model(base), int(periods))
    if name.startswith(POOLED_PREFIX):
        return PooledSeason(make_model(name.removeprefix(POOLED_PREFIX)))
    factory = FACTORIES.get(name)
    if factory is None:
        raise ForecastInputError(f"models: expected names from {sorted(FACTORIES)}, found {name!r}")
    return factory()


__all__ = ["FACTORIES", "POOLED_PREFIX", "Forecaster", "Prediction", "make_model"]
