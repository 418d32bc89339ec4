"""CSV for spreadsheets, one format for the API's downloads and `homeward plan --csv`."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import numpy as np
import pandas as pd

SIGNIFICANT = 10  # digits kept: a solver's 1013778.0000000001 is written 1013778.0
# Money is written to the penny instead, whatever its size: 10 significant digits wrote a
# revenue budget of GBP 214,419,752.56 as 214419752.6, so a year's net cost and unspent budget
# no longer added up to it, and figures of GBP 1e12 were pounds out.
PENCE = 2  # decimal places of a money figure
# A money column's name ends with one of these (`staff_cost_gbp`, a sweep's
# `staff_cost_gbp_change`); so does a summary row's figure, less its year
# (`revenue_budget_gbp[2027-28]`)
MONEY_ENDINGS = ("_gbp", "_gbp_change")
# A table of one figure a row (the plan summary): a row's figure, named in this column, says
# whether its value is money
FIGURE_COLUMN = "figure"
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


def to_the_penny(gbp: float) -> float:
    """A sum of money rounded to the penny, without its float noise (2063305.0000000005 is
    2063305.0, 6098600.8999999985 is 6098600.9), and never -0.0."""
    return round(gbp, PENCE) + 0.0


def spent_to_the_penny(budget_gbp: float, net_gbp: float) -> tuple[float, float]:
    """A budget's net cost and what is left unspent, each to the penny and adding up to the
    budget: unspent is the budget less the net cost in pennies (rounded each alone, GBP
    1000.006 less 500.004 gave 1000.01 against 500.0 + 500.0), 0 where that is round-off
    beside the budget (`without_round_off`: weeks over and under a financial year's budget),
    and the net cost then the budget, so they still add up. `budget_gbp`, `net_gbp`: sums."""
    budget, net = to_the_penny(budget_gbp), to_the_penny(net_gbp)
    unspent = to_the_penny(without_round_off(budget - net, budget))
    return (budget if unspent == 0.0 else net), unspent


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
    true/false (as the JSON has them, not Python's True/False), money (`is_money`) to the
    penny and other floats to 10 significant digits, with a solver's round-off near zero
    written as 0 (what a spreadsheet shows anyway, without the artefacts a reader would
    query).

    A text cell a spreadsheet would run as a formula is written as text (`'=1+1`, see
    `as_text`), and a cell holding a line break, a carriage return included, is quoted, so
    no cell's text can start a row of its own."""
    ready = _formulas_as_text(json_booleans(tidy(frame)))
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


def json_booleans(frame: pd.DataFrame) -> pd.DataFrame:
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


def is_money(name: object) -> bool:
    """Whether a column, or a summary row's figure, is money (GBP): its name, less any
    `[year]`, ends `_gbp` or `_gbp_change`."""
    return str(name).split("[", 1)[0].endswith(MONEY_ENDINGS)


def tidy(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with every float rounded as `csv_text` writes it: each float column's, and each
    float among other values (a plan summary's `value` column holds text, whole numbers and
    figures, money where its row's `figure` is); others unchanged."""
    out = frame.copy()
    money_rows = _money_rows(out)
    for name in out.columns:
        money = money_rows | is_money(name)
        if pd.api.types.is_float_dtype(out[name]):
            out[name] = _tidy_floats(str(name), out[name].to_numpy(dtype=float), money)
        elif out[name].dtype == object:
            values = [_tidy_value(v, m) for v, m in zip(out[name], money, strict=True)]
            out[name] = pd.Series(values, index=out.index, dtype=object)
    return _headroom_as_written(frame, out)


SPENT_COLUMNS = ("budget_gbp", "net_cost_gbp", "headroom_gbp")


def _headroom_as_written(frame: pd.DataFrame, out: pd.DataFrame) -> pd.DataFrame:
    """`out` (`frame` tidied) with each revenue row's net cost and headroom as
    `spent_to_the_penny` writes a year's: the headroom the budget written less the net cost
    written, so a spreadsheet's check of each row holds (each cell rounded alone, GBP 1000.006
    less 500.004 was written 1000.01 less 500.00 leaving 500.00). A frame without the three
    columns, or a row without a finite budget and net cost, is left as it is."""
    if not set(SPENT_COLUMNS) <= set(frame.columns) or frame.empty:
        return out
    budget, net = (frame[c].to_numpy(dtype=float) for c in SPENT_COLUMNS[:2])
    written = out.copy()
    spent = written["net_cost_gbp"].to_numpy(dtype=object)
    left = written["headroom_gbp"].to_numpy(dtype=object)
    for row, (b, n) in enumerate(zip(budget, net, strict=True)):
        if np.isfinite(b) and np.isfinite(n):
            spent[row], left[row] = spent_to_the_penny(float(b), float(n))
    written["net_cost_gbp"] = pd.Series(spent, index=out.index).astype(out["net_cost_gbp"].dtype)
    written["headroom_gbp"] = pd.Series(left, index=out.index).astype(out["headroom_gbp"].dtype)
    return written


def _money_rows(frame: pd.DataFrame) -> np.ndarray:
    """Per row, whether its figure is money (a summary's `revenue_budget_gbp[2027-28]`);
    all False for a table without a `figure` column."""
    if FIGURE_COLUMN not in frame.columns:
        return np.zeros(len(frame), dtype=bool)
    return np.array([is_money(f) for f in frame[FIGURE_COLUMN]], dtype=bool)


def _tidy_floats(name: str, values: np.ndarray, money: np.ndarray) -> np.ndarray:
    """A float column as written: each value rounded (`_rounded`, `money` saying which are
    money), and a money column's round-off beside its largest figure, as any column's below
    SOLVER_TOLERANCE, 0."""
    rounded = np.array([_rounded(v, m) for v, m in zip(values, money, strict=True)], dtype=float)
    finite = np.abs(rounded[np.isfinite(rounded)])
    judged = name.endswith("_gbp") and finite.size > 0  # a change is not judged by another's
    largest = max(1.0, float(finite.max())) if judged else 1.0
    least = max(SOLVER_TOLERANCE, NEGLIGIBLE * largest)
    return np.where(np.abs(rounded) < least, 0.0, rounded)


def _rounded(value: float, money: bool) -> float:
    """Money to the penny (a sum's 2063305.0000000005 is 2063305.0), anything else to
    SIGNIFICANT digits; NaN and infinities as they are."""
    if not np.isfinite(value):
        return value
    return to_the_penny(value) if money else float(f"{value:.{SIGNIFICANT}g}")


def _tidy_value(value: object, money: bool = False) -> object:
    """One value of a mixed column: a float rounded as a float column's would be (judged on
    its own, since its neighbours may be of any unit), anything else as it is."""
    if not isinstance(value, float | np.floating) or not np.isfinite(value):
        return value
    rounded = _rounded(float(value), money)
    return 0.0 if abs(rounded) < SOLVER_TOLERANCE else rounded
