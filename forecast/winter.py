"""Winter pressure: forecast for each winter period (Nov-Mar unless told otherwise) over the
trailing annual mean of history."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import pandas as pd

from forecast.calendar import month_factor
from forecast.errors import ForecastInputError

WINTER_MONTHS = (11, 12, 1, 2, 3)


def winter_index(
    forecasts: pd.DataFrame, history: pd.DataFrame, months: Iterable[int] = WINTER_MONTHS
) -> pd.DataFrame:
    """unique_id, ds, index for every forecast period in the winter `months` (calendar months
    1-12; November to March by default, as GET /v1/winter serves it; a planning config's
    `winter.months` where a plan reads it).

    index = forecast mean / mean of the series' history over the 12 months before its last
    observation (1.0 = a normal period). It is NaN when that base is zero but the forecast is not,
    and 1.0 when both are zero. Monthly series (every date the first of a month) are compared per
    day, so February's 28 days do not read as a calm month nor January's 31 as a busy one.
    """
    history = _per_day(history, "y")
    forecasts = _per_day(forecasts, "mean")
    base = _trailing_annual_mean(history)
    winter = forecasts[pd.DatetimeIndex(forecasts["ds"]).month.isin(list(months))]
    missing = sorted(set(winter["unique_id"]) - set(base.index))
    if missing:
        raise ForecastInputError(
            f"winter_index: series {missing[0]!r} expected in history, found none",
            series_id=str(missing[0]),
        )
    denom = winter["unique_id"].map(base).to_numpy(dtype=float)
    mean = winter["mean"].to_numpy(dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        index = np.where(
            denom > 0, mean / np.where(denom > 0, denom, 1.0), np.where(mean == 0, 1.0, np.nan)
        )
    out = pd.DataFrame(
        {"unique_id": winter["unique_id"].to_numpy(), "ds": winter["ds"].to_numpy(), "index": index}
    )
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def _per_day(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """Monthly series' values divided by days in the month / 30.44 (weekly ones unchanged)."""
    ds = pd.DatetimeIndex(pd.to_datetime(frame["ds"]))
    monthly = pd.Series(ds.day == 1, index=frame.index).groupby(frame["unique_id"]).transform("all")
    factor = np.where(monthly, month_factor(ds, "MS"), 1.0)
    return frame.assign(**{column: frame[column].to_numpy(dtype=float) / factor})


def _trailing_annual_mean(history: pd.DataFrame) -> pd.Series:
    frame = history.loc[:, ["unique_id", "ds", "y"]].dropna()
    frame = frame.assign(ds=pd.to_datetime(frame["ds"]))
    last = frame.groupby("unique_id")["ds"].transform("max")
    recent = frame[frame["ds"] > last - pd.DateOffset(years=1)]
    return recent.groupby("unique_id")["y"].mean()
