"""Winter pressure: forecast for each winter period (Nov-Mar unless told otherwise) over the
trailing annual mean of history (`winter_index`, for dashboards), or over the centred annual
mean around it (`seasonal_index`, the season alone, for plans)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.calendar import month_factor
from forecast.errors import ForecastInputError

WINTER_MONTHS = (11, 12, 1, 2, 3)
# months (weeks) a centred year reaches past the period it is centred on: a forecast read by
# `seasonal_index` reaches this far past the last period it is read for
HALF_YEAR_MONTHS = 6
HALF_YEAR_WEEKS = 26
# winters of a calendar month's seasonal factor a bad winter is measured from
MIN_WINTERS = 3


def half_year_periods(freq: str) -> int:
    """Periods of `freq` ('MS' or 'W-MON') a centred year reaches past its middle: how much
    further than the last period read a forecast read by `seasonal_index` must reach for that
    period to have a whole centred year around it."""
    return HALF_YEAR_MONTHS if freq == "MS" else HALF_YEAR_WEEKS


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
    index = _ratio(winter["mean"].to_numpy(dtype=float), denom)
    out = pd.DataFrame(
        {"unique_id": winter["unique_id"].to_numpy(), "ds": winter["ds"].to_numpy(), "index": index}
    )
    return out.sort_values(["unique_id", "ds"], ignore_index=True)


def seasonal_index(
    forecasts: pd.DataFrame,
    history: pd.DataFrame,
    months: Iterable[int] = WINTER_MONTHS,
) -> pd.DataFrame:
    """unique_id, ds, index for every period in the winter `months`: the forecast's mean, or
    in its history what was observed, over the centred annual mean of the series at that
    period (`centred_annual_mean` of its history followed by its forecast mean).

    This is the series' seasonal factor (1.0 = a normal period), with its growth taken out
    wherever the period falls: a period reads the same index whatever forecast period it is
    the first, sixth or eighteenth of, so neither a plan's horizon nor the month it starts in
    moves it, and a series growing 10% a year with no season reads 1 all winter. (Over the
    trailing year of history, as `winter_index`, or the forecast's first year, a second
    winter read a year's growth as winter, and a 6-month plan's December another index than
    a 12-month plan's.) A period within half a year (HALF_YEAR_MONTHS; 26 weeks) of the
    forecast's end, or of the history's start, has no full centred year around it: it takes
    the nearest full one's, which counts up to half a year's growth; a forecast reaching
    HALF_YEAR_MONTHS past the last period read avoids that. History is optional (a forecast
    file has none). Monthly series are compared per day, as in `winter_index`; the index is
    NaN where the mean is zero but the forecast is not, and 1.0 where both are.
    """
    history = _per_day(history.reindex(columns=["unique_id", "ds", "y"]).dropna(), "y")
    forecasts = _per_day(forecasts, "mean")
    frames = [
        _seasonal_of(group, history[history["unique_id"] == uid], months)
        for uid, group in forecasts.groupby("unique_id", sort=True)
    ]
    empty = pd.DataFrame({"unique_id": [], "ds": pd.Series(dtype="datetime64[ns]"), "index": []})
    return pd.concat(frames, ignore_index=True) if frames else empty


def _seasonal_of(
    forecast: pd.DataFrame, history: pd.DataFrame, months: Iterable[int]
) -> pd.DataFrame:
    """`seasonal_index` of one series (its forecast and history, per day). The history's last
    year's winter periods get an index too, of what was observed: a plan whose first months the
    pressure series has already reported (its history ending after the referrals') reads
    them, not 1.0 for want of a forecast there (winter reviewer)."""
    ds = pd.DatetimeIndex(pd.to_datetime(forecast["ds"]))
    past = history[pd.to_datetime(history["ds"]) < ds.min()]
    seen = pd.DatetimeIndex(pd.to_datetime(past["ds"]))
    observed = past["y"].to_numpy(dtype=float)
    values = pd.concat(
        [
            pd.Series(observed, index=seen),
            pd.Series(forecast["mean"].to_numpy(dtype=float), index=ds),
        ]
    )
    every = pd.DatetimeIndex(seen.append(ds))
    level = centred_annual_mean(values).reindex(every).to_numpy(dtype=float)
    index = _ratio(values.to_numpy(dtype=float), level)
    # of the history, its last year: what a plan can start in, with a full year around it
    recent = np.asarray(every >= ds.min() - pd.DateOffset(years=1))
    winter = np.asarray(every.month.isin(list(months))) & recent
    return pd.DataFrame(
        {
            "unique_id": np.full(int(winter.sum()), forecast["unique_id"].iloc[0]),
            "ds": every[winter],
            "index": index[winter],
        }
    )


def centred_annual_mean(values: pd.Series) -> pd.Series:
    """Each period's centred annual mean, indexed as `values` (a monthly series, every date
    the first of a month, or a weekly one, indexed by date): the 2x12 moving average for
    monthly (the 13 months from six before to six after, the ends half-weighted), the 2x52
    one for weekly (53 weeks, from 26 before to 26 after).

    A linear trend is its own centred mean, and a season repeating every year averages out of
    it, so value / mean is the seasonal factor. A period whose window runs past either end of
    `values` (or over a period missing from it) takes the nearest full window's mean before it,
    else after it; with no full window at all, the mean of every value.
    """
    ds = pd.DatetimeIndex(values.index)
    centred = _full_windows(values)
    filled = centred.ffill().bfill()
    if filled.isna().all():
        filled = filled.fillna(float(np.nanmean(values.to_numpy(dtype=float))))
    # a date off the weekly grid (a plan of 10-day periods read from a forecasts file) takes
    # the nearest grid week's, not NaN, which a plan would refuse as a column the user never wrote
    return filled.reindex(ds, method="nearest")


def _full_windows(values: pd.Series) -> pd.Series:
    """`centred_annual_mean` on the series' own grid (months, or weeks from its first date),
    NaN wherever the window runs past either end or over a missing period."""
    ds = pd.DatetimeIndex(values.index)
    monthly = bool((ds.day == 1).all())
    per_year = 12 if monthly else 52
    grid = pd.date_range(ds.min(), ds.max(), freq="MS" if monthly else "7D")
    y = values.groupby(level=0).mean().reindex(grid).to_numpy(dtype=float)
    weights = np.r_[0.5, np.ones(per_year - 1), 0.5] / per_year
    centred = np.full(len(y), np.nan)
    if len(y) >= len(weights):
        centred[per_year // 2 : len(y) - per_year // 2] = np.convolve(y, weights, mode="valid")
    return pd.Series(centred, index=grid)


@dataclass(frozen=True)
class BadWinter:
    """What one series' history says of a bad winter (`bad_winter`)."""

    rise: float | None  # a bad winter month above its usual factor; None: too few winters
    fewest: int  # the fewest factors any winter month has: the winters measured from
    seen: int  # winter months measured from (a 1-in-n month wants about n, or is the worst seen)


def bad_winter(
    history: pd.DataFrame, quantile: float, months: Iterable[int] = WINTER_MONTHS
) -> BadWinter:
    """How far a bad winter month's seasonal factor stands above its calendar month's usual one,
    in one series' history (unique_id, ds, y): the `quantile` (0.9 for a 1-in-10 month) of
    every winter month's factor less the mean factor of its calendar month, pooled over the
    winter `months`; 0 at least. A factor is a month's value per day over the centred annual
    mean around it (months with a whole year of history around them only; a weekly series'
    weeks averaged by the month they start in), so neither the series' growth nor the
    uncertainty of its level is read as a bad winter.

    The rise is None when a winter month has fewer than MIN_WINTERS such factors (about four
    years of history are needed), so the history cannot say how bad a winter gets.
    """
    factors = _winter_factors(history, months)
    by_month = factors.groupby(pd.DatetimeIndex(factors.index).month)
    counts = by_month.size()
    fewest = min(int(counts.get(m, 0)) for m in set(months))
    if fewest < MIN_WINTERS:
        return BadWinter(None, fewest, len(factors))
    deviations = (factors - by_month.transform("mean")).to_numpy()
    return BadWinter(max(float(np.quantile(deviations, quantile)), 0.0), fewest, len(factors))


def _winter_factors(history: pd.DataFrame, months: Iterable[int]) -> pd.Series:
    """One series' seasonal factor in each winter month of its history with a whole centred
    year around it, indexed by the month's first day."""
    frame = _per_day(history.loc[:, ["unique_id", "ds", "y"]].dropna(), "y")
    empty = pd.Series([], index=pd.DatetimeIndex([]), dtype=float)
    if frame.empty:
        return empty
    values = pd.Series(
        frame["y"].to_numpy(dtype=float), index=pd.DatetimeIndex(pd.to_datetime(frame["ds"]))
    ).sort_index()
    level = _full_windows(values).reindex(
        values.index, method="nearest", tolerance=pd.Timedelta(days=3)
    )
    factor = pd.Series(_ratio(values.to_numpy(), level.to_numpy(dtype=float)), index=values.index)
    factor = factor[np.isfinite(factor.to_numpy()) & level.notna().to_numpy()]
    starts = pd.DatetimeIndex(factor.index).to_period("M").to_timestamp()
    by_month = factor.groupby(starts).mean()
    winter = np.asarray(pd.DatetimeIndex(by_month.index).month.isin(list(months)))
    return pd.Series(by_month[winter], dtype=float)


def _ratio(value: np.ndarray, base: np.ndarray) -> np.ndarray:
    """value / base; NaN where the base is zero (or less) but the value is not, 1.0 where both
    are zero."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(
            base > 0, value / np.where(base > 0, base, 1.0), np.where(value == 0, 1.0, np.nan)
        )


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
