"""Calendar adjustment: monthly totals rescaled to a standard 30.44-day month before fitting.

A month's count of delayed days or referrals is roughly proportional to its length, so February
is about 10% below January for no reason a model should have to learn. Models see
y * 30.44 / days_in_month; their forecasts are scaled back to each target month's length.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.models.base import Prediction
from forecast.series import FloatArray, SeriesData

AVERAGE_MONTH_DAYS = 365.25 / 12


def month_factor(ds: pd.DatetimeIndex, freq: str) -> FloatArray:
    """days_in_month / 30.44 for monthly periods; 1.0 for weekly ones (every week is 7 days)."""
    if freq != "MS":
        return np.ones(len(ds))
    return np.asarray(ds.days_in_month, dtype=np.float64) / AVERAGE_MONTH_DAYS


def adjusted(series: SeriesData) -> SeriesData:
    """The series with each value divided by its month factor."""
    factor = month_factor(series.ds, series.freq)
    return series.with_values(series.y / factor)


def restored(pred: Prediction, ds: pd.DatetimeIndex, freq: str) -> Prediction:
    """A forecast made on the adjusted scale, multiplied back by each target month's factor."""
    factor = month_factor(ds, freq)[: len(pred.mean)]
    quantiles = {k: v * factor for k, v in pred.quantiles.items()}
    return Prediction(pred.mean * factor, quantiles)
