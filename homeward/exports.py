"""CSV for spreadsheets, one format for the API's downloads and `homeward plan --csv`."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import pandas as pd

SIGNIFICANT = 10  # digits kept: a solver's 1013778.0000000001 is written 1013778.0
# Below this (or, in a money column, this share of the column's largest figure), a value is a
# solver's round-off and is written 0.0: 1.4551915228366852e-11 of headroom, or -1.06e-09 GBP
# beside budgets of millions. Other columns may mix units (shadow prices per GBP and per hour)
# or scales (every series' forecasts), so only money is judged by its neighbours.
NEGLIGIBLE = 1e-9


def without_round_off(value: float, *scale: float) -> float:
    """`value`, or 0.0 where it is round-off: a difference of two solver figures (a sweep's
    change) smaller than NEGLIGIBLE of the largest of `scale` (or of 1)."""
    return 0.0 if abs(value) < NEGLIGIBLE * max(1.0, *(abs(x) for x in scale)) else value


def rows_frame(rows: list[dict[str, Any]], columns: list[str]) -> pd.DataFrame:
    """Stored JSON rows as a frame of `columns` (one a row lacks is empty), a column of whole
    numbers kept whole where some rows have none (a shadow price's `period`, a sweep row's
    `compared_with_plan_id`), so it is written `1`, as `homeward plan --csv` writes it, not
    the `1.0` a float column with gaps would give."""
    frame = pd.DataFrame(rows, columns=columns)
    for name in columns:
        values = [r.get(name) for r in rows if r.get(name) is not None]
        whole = all(isinstance(v, int) and not isinstance(v, bool) for v in values)
        if values and whole and frame[name].dtype != np.int64:
            frame[name] = frame[name].astype("Int64")
    return frame


def csv_text(frame: pd.DataFrame) -> str:
    """`frame` as CSV: a header row, `\\n` line ends, dates as YYYY-MM-DD, booleans as
    true/false (as the JSON has them, not Python's True/False), and floats to 10 significant
    digits with a solver's round-off near zero written as 0 (what a spreadsheet shows
    anyway, without the artefacts a reader would query)."""
    out = io.StringIO()
    _json_booleans(tidy(frame)).to_csv(
        out, index=False, lineterminator="\n", date_format="%Y-%m-%d"
    )
    return out.getvalue()


def _json_booleans(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (a copy of the caller's, changed in place) with every boolean, in a bool
    column or among other values (a nullable flag), as the text true or false."""
    for name in frame.columns:
        column = frame[name]
        if pd.api.types.is_bool_dtype(column) or (
            column.dtype == object and column.map(_is_bool).any()
        ):
            frame[name] = column.map(lambda v: ("true" if v else "false") if _is_bool(v) else v)
    return frame


def _is_bool(value: object) -> bool:
    return isinstance(value, bool | np.bool_)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every float column rounded as `csv_text` writes it (others unchanged)."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_float_dtype(out[name]):
            values = out[name].to_numpy(dtype=float)
            rounded = np.array([float(f"{v:.{SIGNIFICANT}g}") for v in values])
            finite = np.abs(rounded[np.isfinite(rounded)])
            money = str(name).endswith("_gbp") and finite.size > 0
            largest = max(1.0, float(finite.max())) if money else 1.0
            out[name] = np.where(np.abs(rounded) < NEGLIGIBLE * largest, 0.0, rounded)
    return out
