"""CSV for spreadsheets, one format for the API's downloads and `homeward plan --csv`."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd

SIGNIFICANT = 10  # digits kept: a solver's 1013778.0000000001 is written 1013778.0
# Below SOLVER_TOLERANCE (or, in a money column, NEGLIGIBLE of the column's largest figure), a
# value is a solver's round-off and is written 0.0: 1.4551915228366852e-11 of headroom,
# 1.9e-08 hours of a team's limit, or -1.06e-09 GBP beside budgets of millions. HiGHS and CBC
# hold a plan's constraints only to 1e-7 (their default primal and dual feasibility
# tolerances), so no figure of a plan is known closer to 0 than that. Other columns may mix
# units (shadow prices per GBP and per hour) or scales (every series' forecasts), so only
# money is judged by its neighbours.
SOLVER_TOLERANCE = 1e-7
NEGLIGIBLE = 1e-9
# A text cell starting with one of these is run as a formula by Excel or LibreOffice (OWASP's
# CSV injection list): `=HYPERLINK(...)` in a team id would be a link sending the sheet away.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Text that is a plain number (`-0.09`, `+5`, `1e-05`) is read as that number, not run, so it
# keeps its sign: a spreadsheet sums a stored figure written as text as it sums the others.
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")


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
    anyway, without the artefacts a reader would query).

    A text cell a spreadsheet would run as a formula is written as text (`'=1+1`, see
    `as_text`), and a cell holding a line break, a carriage return included, is quoted, so
    no cell's text can start a row of its own."""
    ready = _formulas_as_text(_json_booleans(tidy(frame)))
    text = ready.to_csv(index=False, lineterminator="\n", date_format="%Y-%m-%d")
    return text if "\r" not in text else _quoting_carriage_returns(ready)


def _quoting_carriage_returns(frame: pd.DataFrame) -> str:
    """`frame` as `csv_text` writes it, but with every cell holding a `\\r` quoted. Python's
    csv quotes a cell only for the characters of its line terminator, so with `\\n` a bare
    `\\r` is left unquoted, and Excel, LibreOffice and Python's csv reader all start a new
    row there. Written with `\\r\\n` (which quotes both), read back as cells, and each row
    written again with that terminator, whose last two characters become `\\n`."""
    crlf = frame.to_csv(index=False, lineterminator="\r\n", date_format="%Y-%m-%d")
    line = io.StringIO()
    writer = csv.writer(line, lineterminator="\r\n")
    rows = []
    for cells in csv.reader(io.StringIO(crlf, newline="")):
        line.seek(0)
        line.truncate()
        writer.writerow(cells)
        rows.append(line.getvalue()[:-2] + "\n")
    return "".join(rows)


def _formulas_as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (a copy of the caller's, changed in place) with each text cell `as_text`."""
    for name in frame.columns:
        if frame[name].dtype == object or isinstance(frame[name].dtype, pd.StringDtype):
            frame[name] = frame[name].map(as_text)
    return frame


def as_text(value: object) -> object:
    """`value`, but text starting with a FORMULA_STARTS character, other than a plain number,
    with a `'` before it (OWASP's advice for CSV injection): a spreadsheet shows `=1+1` as
    written rather than running it, and Python's csv reader gives `'=1+1`. Numbers, and text
    that is a plain number (`-0.09`), are returned as they are."""
    if not isinstance(value, str) or not value.startswith(FORMULA_STARTS):
        return value
    return value if _PLAIN_NUMBER.fullmatch(value) else "'" + value


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
    """`frame` with every float rounded as `csv_text` writes it: each float column's, and each
    float among other values (a plan summary's `value` column holds text, whole numbers and
    figures); others unchanged."""
    out = frame.copy()
    for name in out.columns:
        if pd.api.types.is_float_dtype(out[name]):
            values = out[name].to_numpy(dtype=float)
            rounded = np.array([_significant(v) for v in values])
            finite = np.abs(rounded[np.isfinite(rounded)])
            money = str(name).endswith("_gbp") and finite.size > 0
            largest = max(1.0, float(finite.max())) if money else 1.0
            least = max(SOLVER_TOLERANCE, NEGLIGIBLE * largest)
            out[name] = np.where(np.abs(rounded) < least, 0.0, rounded)
        elif out[name].dtype == object:
            out[name] = out[name].map(_tidy_value)
    return out


def _significant(value: float) -> float:
    return float(f"{value:.{SIGNIFICANT}g}")


def _tidy_value(value: object) -> object:
    """One value of a mixed column: a float rounded as a float column's would be (judged on
    its own, since its neighbours may be of any unit), anything else as it is."""
    if not isinstance(value, float | np.floating) or not np.isfinite(value):
        return value
    rounded = _significant(float(value))
    return 0.0 if abs(rounded) < SOLVER_TOLERANCE else rounded
