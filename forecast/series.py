"""One series on a regular grid: the unit every model, backtest and worker handles."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
import pandas as pd

from forecast.errors import ForecastInputError

FloatArray = npt.NDArray[np.float64]

# a series' frequency: monthly (periods start on the 1st) or weekly (on Mondays); the API
# types `freq` with this (api/schemas.py)
Freq = Literal["MS", "W-MON"]
SEASON_LENGTH: dict[str, int] = {"MS": 12, "W-MON": 52}
# pandas' datetimes (nanoseconds) end on this day: no forecast period may start after it.
LAST_REPRESENTABLE_DAY = pd.Timestamp.max.normalize()


@dataclass(frozen=True, eq=False)
class SeriesData:
    """History of one series on its full regular grid; `y` is NaN where a period is missing."""

    unique_id: str
    ds: pd.DatetimeIndex
    y: FloatArray
    freq: str
    pooled: FloatArray | None = None  # total of the series' siblings on the same grid (pooling.py)

    @property
    def season_length(self) -> int:
        """Periods per year: 12 for monthly (MS), 52 for weekly (W-MON)."""
        return SEASON_LENGTH[self.freq]

    @property
    def n_missing(self) -> int:
        """Number of periods on the grid with no observation."""
        return int(np.isnan(self.y).sum())

    def head(self, n: int) -> SeriesData:
        """The first `n` periods (a backtest training window)."""
        pooled = None if self.pooled is None else self.pooled[:n]
        return SeriesData(self.unique_id, self.ds[:n], self.y[:n], self.freq, pooled)

    def tail(self, n: int) -> SeriesData:
        """The last `n` periods (a shorter training window)."""
        start = max(0, len(self.y) - n)
        pooled = None if self.pooled is None else self.pooled[start:]
        return SeriesData(self.unique_id, self.ds[start:], self.y[start:], self.freq, pooled)

    def with_values(self, y: FloatArray) -> SeriesData:
        """The same series (dates, frequency, pooled total) with new values."""
        return SeriesData(self.unique_id, self.ds, y, self.freq, self.pooled)

    def max_horizon(self) -> int:
        """Most periods ahead whose starts pandas can hold (its dates end in April 2262)."""
        last, end = self.ds[-1], LAST_REPRESENTABLE_DAY
        if self.freq == "MS":
            return (end.year - last.year) * 12 + end.month - last.month
        return int((end - last).days // 7)

    def future_ds(self, horizon: int) -> pd.DatetimeIndex:
        """The `horizon` period starts after the last one in history.

        ForecastInputError if they would run past the last date pandas can hold."""
        if horizon > self.max_horizon():
            raise ForecastInputError(
                f"series {self.unique_id!r}: expected a horizon of at most {self.max_horizon()} "
                f"periods ({self.freq} after {self.ds[-1].date()}; dates end on "
                f"{LAST_REPRESENTABLE_DAY.date()}), found {horizon}",
                series_id=self.unique_id,
            )
        return pd.date_range(self.ds[-1], periods=horizon + 1, freq=self.freq)[1:]
