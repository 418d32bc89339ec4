"""CSV for spreadsheets, one format for the API's downloads and `homeward plan --csv`."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

SIGNIFICANT = 10  # digits kept: a solver's 1013778.0000000001 is written 1013778.0
NEGLIGIBLE = 1e-9  # a solver's 1.4551915228366852e-11 of headroom is written 0.0


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
            out[name] = np.where(np.abs(rounded) < NEGLIGIBLE, 0.0, rounded)
    return out
