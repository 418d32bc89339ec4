"""A smooth annual profile with bank-holiday dips, fitted to a (pooled) weekly total."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from forecast.errors import HistoryTooShort, ModelFitError
from forecast.series import FloatArray

HARMONICS = 3  # Fourier pairs of day-of-year: a winter rise, not week-to-week noise
WEEKS_PER_YEAR = 52
MIN_RATIOS = WEEKS_PER_YEAR  # a year of detrended totals (two years of history)


@dataclass(frozen=True, eq=False)
class Profile:
    """Multiplicative weekly factors: exp(Fourier(day of year) + holiday_log * bank holidays)."""

    fourier: FloatArray  # coefficients of sin/cos pairs, log scale
    holiday_log: float  # log change per weekday bank holiday in the week

    def factors(self, weeks: pd.DatetimeIndex) -> FloatArray:
        """Factor for each week (Mondays); the annual part averages about 1 over a year."""
        x = _design(weeks)
        return np.asarray(np.exp(x[:, :-1] @ self.fourier + x[:, -1] * self.holiday_log))


def fit_profile(weeks: pd.DatetimeIndex, total: FloatArray) -> Profile:
    """Least squares of log(total / centred 52-week mean) on Fourier terms and holiday counts."""
    trend = _centred_mean(np.asarray(pd.Series(total).interpolate(limit_area="inside")))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.log(total / trend)
    ok = np.isfinite(ratio)
    if ok.sum() < MIN_RATIOS:
        short = len(total) < MIN_RATIOS + WEEKS_PER_YEAR  # else zero or missing totals
        raise (HistoryTooShort if short else ModelFitError)(
            f"pooled season: needs {MIN_RATIOS + WEEKS_PER_YEAR} weeks of positive sibling "
            f"totals, found {len(total)} weeks, {int(ok.sum())} of them usable (positive, "
            "with a year centred on them)"
        )
    x = _design(weeks)[ok]
    x = np.column_stack([np.ones(len(x)), x])
    coef, *_ = np.linalg.lstsq(x, ratio[ok], rcond=None)
    return Profile(np.asarray(coef[1:-1], dtype=np.float64), float(coef[-1]))


def _design(weeks: pd.DatetimeIndex) -> FloatArray:
    """Fourier terms and holiday counts of `weeks`, read-only. A series' backtest and its
    pooled models ask for the same weeks again and again (about 980 times in the demo, 0.7 ms
    each), so designs are cached by the weeks' exact values."""
    return _cached_design(_Weeks(weeks))


class _Weeks:
    """A DatetimeIndex hashed and compared by its dtype and exact values (lru_cache's key)."""

    __slots__ = ("key", "weeks")

    def __init__(self, weeks: pd.DatetimeIndex) -> None:
        self.weeks = weeks
        self.key = (str(weeks.dtype), weeks.asi8.tobytes())

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Weeks) and self.key == other.key


@lru_cache(maxsize=64)
def _cached_design(weeks: _Weeks) -> FloatArray:
    x = _computed_design(weeks.weeks)
    x.flags.writeable = False  # shared by every caller: none may change it
    return x


def _computed_design(weeks: pd.DatetimeIndex) -> FloatArray:
    mid = weeks + pd.Timedelta(days=3)  # a week's Thursday places it in the year
    angle = 2 * np.pi * mid.dayofyear.to_numpy(dtype=np.float64) / 365.25
    cols = [f(k * angle) for k in range(1, HARMONICS + 1) for f in (np.sin, np.cos)]
    return np.column_stack([*cols, bank_holidays(weeks)])


def bank_holidays(weeks: pd.DatetimeIndex) -> FloatArray:
    """England bank holidays falling Monday to Friday of each week (weeks start on Mondays)."""
    days = _holiday_days(int(weeks.min().year), int(weeks.max().year) + 1)
    starts = days - pd.to_timedelta(days.dayofweek, unit="D")
    counts = pd.Series(1.0, index=starts).groupby(level=0).sum()
    return np.asarray(counts.reindex(weeks.normalize(), fill_value=0.0), dtype=np.float64)


@lru_cache(maxsize=32)
def _holiday_days(first: int, last: int) -> pd.DatetimeIndex:
    import holidays

    days = pd.DatetimeIndex(
        sorted(holidays.country_holidays("GB", subdiv="ENG", years=range(first, last + 1)))
    )
    return days[days.dayofweek < 5]


def _centred_mean(y: FloatArray) -> FloatArray:
    weights = np.ones(WEEKS_PER_YEAR + 1)
    weights[0] = weights[-1] = 0.5
    weights /= weights.sum()
    half = WEEKS_PER_YEAR // 2
    out = np.full(len(y), np.nan)
    if len(y) > WEEKS_PER_YEAR:
        out[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    return out
