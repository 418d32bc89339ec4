"""Validate a long history frame once and split it into regular-grid series."""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd

from forecast.errors import ForecastInputError
from forecast.series import SEASON_LENGTH, SeriesData

REQUIRED = ("unique_id", "ds", "y")
# Fewest observed values a series needs before check_forecastable lets it be forecast.
MIN_OBSERVED = 2


def split_history(history: pd.DataFrame, freq: Mapping[str, str] | None = None) -> list[SeriesData]:
    """Check `history` (unique_id, ds, y) and return one SeriesData per id, gaps as NaN."""
    frame = _checked_frame(history)
    out = []
    for uid, group in frame.groupby("unique_id", sort=True):
        sid = str(uid)
        f = (freq or {}).get(sid) or infer_freq(sid, pd.DatetimeIndex(group["ds"]))
        out.append(_on_grid(sid, group, f))
    return out


def check_forecastable(history: pd.DataFrame, horizon: int) -> None:
    """ForecastInputError naming the first series of `history` that cannot be forecast
    `horizon` periods ahead: fewer than MIN_OBSERVED values, or dates past pandas' last day.

    For callers that read history from a file and want it refused before any fitting.
    """
    every = split_history(history)
    short = [(s.unique_id, s.ds[np.isfinite(s.y)]) for s in every]
    short = [(sid, observed) for sid, observed in short if len(observed) < MIN_OBSERVED]
    if short:
        (first, observed), others = short[0], short[1:]
        # every such series at once: a file of 140 trusts should not be refused 5 times over
        also = "".join(
            f"; also series {sid!r}: {len(seen)} ({_dates(seen)})" for sid, seen in others[:4]
        )
        more = f"; and {len(others) - 4} more such series" if len(others) > 4 else ""
        raise ForecastInputError(
            f"series {first!r}, column 'y': expected at least {MIN_OBSERVED} "
            f"observed values to forecast from (one value gives no spread to size "
            f"intervals with), found {len(observed)} ({_dates(observed)}){also}{more}",
            series_id=first,
            column="y",
        )
    for series in every:
        series.future_ds(horizon)


def _dates(ds: pd.DatetimeIndex) -> str:
    return ", ".join(str(d.date()) for d in ds)


def require_rows(frame: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """ForecastInputError naming the first missing column, or saying `frame` has no rows."""
    for col in columns:
        if col not in frame.columns:
            raise ForecastInputError(
                f"{what}: expected column {col!r}, found columns {list(frame.columns)}",
                column=col,
            )
    if frame.empty:
        raise ForecastInputError(f"{what}: expected at least one row, found none")


def _checked_frame(history: pd.DataFrame) -> pd.DataFrame:
    require_rows(history, REQUIRED, "history")
    # Positional rows, so messages point at the n-th data row whatever the caller's index.
    frame = history.loc[:, list(REQUIRED)].reset_index(drop=True)
    frame["unique_id"] = frame["unique_id"].astype(str)
    frame["ds"] = _as_dates(frame)
    frame["y"] = _as_values(frame)
    _check_duplicates(frame)
    return frame.sort_values(["unique_id", "ds"])


def _as_dates(frame: pd.DataFrame) -> pd.Series:
    with warnings.catch_warnings():  # pandas warns when it falls back to dateutil parsing
        warnings.simplefilter("ignore", UserWarning)
        ds = pd.to_datetime(frame["ds"], errors="coerce")
    _reject_first(frame, ds.isna(), "ds", "a date")
    return ds.dt.normalize()


def _as_values(frame: pd.DataFrame) -> pd.Series:
    y = pd.to_numeric(frame["y"], errors="coerce").astype(float)
    _reject_first(frame, (y.isna() & frame["y"].notna()) | np.isinf(y), "y", "a finite number")
    return y


def _reject_first(frame: pd.DataFrame, bad: pd.Series, column: str, expected: str) -> None:
    """ForecastInputError naming the first bad row's series, row, column, expectation, value."""
    if not bad.any():
        return
    row = frame.index[bad.to_numpy()][0]
    raise ForecastInputError(
        f"series {frame.at[row, 'unique_id']!r}, row {row}, column {column!r}: expected "
        f"{expected}, found {frame.at[row, column]!r}",
        series_id=str(frame.at[row, "unique_id"]),
        column=column,
    )


def _check_duplicates(frame: pd.DataFrame) -> None:
    dup = frame.duplicated(["unique_id", "ds"])
    if dup.any():
        row = frame.index[dup.to_numpy()][0]
        raise ForecastInputError(
            f"series {frame.at[row, 'unique_id']!r}, column 'ds': expected one row per period, "
            f"found {pd.Timestamp(str(frame.at[row, 'ds'])).date()} twice",
            series_id=str(frame.at[row, "unique_id"]),
            column="ds",
        )


def infer_freq(series_id: str, ds: pd.DatetimeIndex) -> str:
    """'MS' if every date is a 1st of month, 'W-MON' if all are Mondays (monthly wins ties)."""
    spacing = np.diff(ds.asi8) / 86_400e9 if len(ds) > 1 else np.array([])
    monthly = bool((ds.day == 1).all()) and bool((spacing >= 28).all())
    weekly = bool((ds.dayofweek == 0).all()) and bool((spacing % 7 == 0).all())
    if monthly:
        return "MS"
    if weekly:
        return "W-MON"
    raise ForecastInputError(
        f"series {series_id!r}, column 'ds': expected all dates on the 1st of a month (MS) or "
        f"all on Mondays (W-MON), found e.g. {ds[0].date()}",
        series_id=series_id,
        column="ds",
    )


def _on_grid(series_id: str, group: pd.DataFrame, freq: str) -> SeriesData:
    if freq not in SEASON_LENGTH:
        raise ForecastInputError(
            f"series {series_id!r}: expected frequency in {sorted(SEASON_LENGTH)}, found {freq!r}",
            series_id=series_id,
        )
    values = pd.Series(group["y"].to_numpy(), index=pd.DatetimeIndex(group["ds"])).dropna()
    if values.empty:
        raise ForecastInputError(
            f"series {series_id!r}, column 'y': expected at least one observed value, found none",
            series_id=series_id,
            column="y",
        )
    grid = pd.date_range(values.index[0], values.index[-1], freq=freq)
    if len(grid) == 0 or not values.index.isin(grid).all():
        raise ForecastInputError(
            f"series {series_id!r}, column 'ds': expected dates on the {freq} grid, "
            f"found {values.index[~values.index.isin(grid)][0].date()}",
            series_id=series_id,
            column="ds",
        )
    _refuse_coarse_spacing(series_id, pd.DatetimeIndex(values.index), freq)
    y = values.reindex(grid).to_numpy(dtype=float)
    return SeriesData(series_id, grid, y, freq)


# Fewest observed dates whose one common spacing reads as "every k periods", not as gaps.
MIN_DATES_FOR_A_STEP = 3


def _refuse_coarse_spacing(series_id: str, observed: pd.DatetimeIndex, freq: str) -> None:
    """ForecastInputError for values every k > 1 periods (quarterly or annual figures): put on
    a monthly grid they would be interpolated and forecast as monthly values, a quarter's
    total as one month's. Missing periods are allowed; a regular coarser spacing is not."""
    if len(observed) < MIN_DATES_FOR_A_STEP:
        return
    if freq == "MS":
        unit, steps = "month", np.diff(np.asarray(observed.year * 12 + observed.month))
    else:
        unit, steps = "week", np.diff(observed.asi8) // pd.Timedelta(weeks=1).value
    if steps[0] > 1 and bool((steps == steps[0]).all()):
        raise ForecastInputError(
            f"series {series_id!r}, column 'ds': expected {freq} dates, a value for most "
            f"{unit}s (some may be missing), found {len(observed)} values one every "
            f"{steps[0]} {unit}s from {observed[0].date()} (quarterly or annual figures? "
            f"they would be forecast as {unit}ly values)",
            series_id=series_id,
            column="ds",
        )
