"""Importer for NHS England's monthly Delayed Transfers of Care (DTOC) files, to long observations.

Reads the layout of ``shared/data/dtoc-monthly/dtoc_la_monthly.csv`` (one row per month and
responsible local authority, plus the England row) and of ``dtoc_england_monthly.csv`` (England
only, no LA columns). Series ids: ``dtoc_days/<slug>`` (days_total),
``dtoc_social_care_days/<slug>``, ``dtoc_nhs_days/<slug>``; ``ds`` is the 1st of the month.

Slugs are keyed by ``la_code_legacy``, named after the most recent ``la_name`` that code carries
in the file, so a series stays continuous when an authority is renamed or reorganised under the
same code (e.g. legacy 809 "Dorset" -> "Dorset UA" from 2019-05). A new code (e.g. 738
"Bournemouth, Christchurch and Poole UA") starts a new series; ended codes (810 Bournemouth,
811 Poole) simply end. A trailing " UA" is dropped and "&" reads "and" so that slugs follow
the ONS spelling ("Brighton & Hove UA" -> ``brighton-and-hove``).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from homeward.errors import Problem, ValidationFailed, in_reading_order
from homeward.ingest import (
    LINE_INDEX,
    parse_count_cells,
    read_csv_as_text,
    validate_observations,
)

log = logging.getLogger(__name__)

# Column of the file -> series id prefix.
METRIC_SERIES_PREFIX = {
    "days_total": "dtoc_days",
    "days_social_care": "dtoc_social_care_days",
    "days_nhs": "dtoc_nhs_days",
    "days_both": "dtoc_both_days",
    "days_acute": "dtoc_acute_days",
    "days_non_acute": "dtoc_non_acute_days",
}
DEFAULT_METRICS = ("days_total", "days_social_care", "days_nhs")
GEOGRAPHIES = ("local_authority", "country", "non_england_residents", "all")
LA_COLUMNS = ("geography_type", "la_code_legacy", "la_name")
# Columns that mark a file as NHS England DTOC (both the by-LA and the England-only layout).
SIGNATURE_COLUMNS = frozenset({"month", "days_total", "days_nhs", "days_social_care"})
EXPECTED_HEADER = "an NHS England DTOC CSV with columns month, days_total, ..."
_MONTH = r"[0-9]{4}-(0[1-9]|1[0-2])"  # 0-9, not \d: other scripts' digits are refused


def is_nhs_dtoc_csv(header: Sequence[str]) -> bool:
    """True if a CSV header (list of column names) has the NHS England DTOC columns."""
    names = {name.strip().lstrip("\ufeff").lower() for name in header}
    return names >= SIGNATURE_COLUMNS


def la_slug(name: str) -> str:
    """Stable lower-case id part for an authority name: 'Halton UA' -> 'halton'."""
    text = re.sub(r"\s+ua$", "", name.strip().lower()).replace("&", " and ")
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


def read_nhs_dtoc(
    data: bytes | str | Path,
    metrics: Sequence[str] = DEFAULT_METRICS,
    geography: str = "local_authority",
    source: str | None = None,
) -> pd.DataFrame:
    """Read an NHS England DTOC CSV into validated long observations (unique_id, ds, y).

    ``data``: file bytes, CSV text (a ``str`` is never a path) or a ``Path``. ``metrics``:
    day-count columns to import (keys of ``METRIC_SERIES_PREFIX``); ``y`` is delayed days in
    the month. ``geography`` keeps rows of that ``geography_type`` ('local_authority',
    'country' = the England row, 'non_england_residents', or 'all'); a file with no
    ``geography_type`` column (the England-only file) is the England series whatever it says.
    Raises ``ValidationFailed`` naming the file row (header = line 1) and column of each problem.
    """
    _check_arguments(metrics, geography)
    name = source or (data.name if isinstance(data, Path) else "NHS DTOC file")
    table = read_csv_as_text(data, name, expected_header=EXPECTED_HEADER)
    cells = table.cells.rename(columns=str.lower)
    _require_columns(cells, metrics, name)
    selected = _select_geography(cells, geography)
    _require_rows(cells, selected, geography, name)
    _say_left_out(cells, selected, geography, name)
    cells = selected
    months, month_problems = _parse_months(cells)
    slugs, slug_problems = _slugs(cells)
    long, value_problems = _long_metrics(cells, metrics, slugs, months)
    problems = [*table.problems, *month_problems, *slug_problems, *value_problems]
    if problems:
        raise ValidationFailed(in_reading_order(problems), name)
    return _validate_long(long, name)


def _check_arguments(metrics: Sequence[str], geography: str) -> None:
    unknown = [m for m in metrics if m not in METRIC_SERIES_PREFIX]
    if unknown or not metrics:
        raise ValueError(f"metrics must be some of {sorted(METRIC_SERIES_PREFIX)}, got {metrics}")
    if geography not in GEOGRAPHIES:
        raise ValueError(f"geography must be one of {GEOGRAPHIES}, got {geography!r}")


def _require_columns(cells: pd.DataFrame, metrics: Sequence[str], source: str) -> None:
    by_la = "geography_type" in cells.columns
    needed = ["month", *metrics, *(LA_COLUMNS if by_la else ())]
    header = ",".join(str(c) for c in cells.columns)
    missing = [
        Problem(1, column, f"a column named '{column}' (NHS England DTOC layout)", repr(header))
        for column in needed
        if column not in cells.columns
    ]
    if missing:
        raise ValidationFailed(missing, source)


def _select_geography(cells: pd.DataFrame, geography: str) -> pd.DataFrame:
    if "geography_type" not in cells.columns:
        # The England-only file: every row is the England total.
        return cells.assign(la_code_legacy="ENG", la_name="England", geography_type="country")
    if geography == "all":
        return cells
    return cells[cells["geography_type"] == geography]


def _say_left_out(cells: pd.DataFrame, selected: pd.DataFrame, geography: str, source: str) -> None:
    """Log the rows of other geography types a read leaves out (by default the by-LA file's
    England row and non-England residents), so an import's row count is not a puzzle."""
    if "geography_type" not in cells.columns:
        return
    left = cells.loc[~cells.index.isin(selected.index), "geography_type"].value_counts()
    if left.empty:
        return
    counts = ", ".join(f"{n:,} {kind!r}" for kind, n in sorted(left.items()))
    log.info(
        "%s: left out %s rows (geography_type): only %r rows are read",
        source,
        counts,
        geography,
    )


def _require_rows(cells: pd.DataFrame, selected: pd.DataFrame, geography: str, source: str) -> None:
    if selected.empty:
        present = (
            ", ".join(sorted(set(cells.get("geography_type", pd.Series(dtype=str))))) or "none"
        )
        found = f"no such rows (geography types present: {present})"
        raise ValidationFailed([Problem(None, "geography_type", repr(geography), found)], source)


def _lines(cells: pd.DataFrame) -> np.ndarray:
    return cells.index.to_numpy(dtype="int64")


def _parse_months(cells: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    text = cells["month"]
    ok = text.str.fullmatch(_MONTH).fillna(False).astype(bool)
    months = pd.to_datetime(text.where(ok) + "-01", format="%Y-%m-%d", errors="coerce")
    problems = [
        Problem(int(line), "month", "a month YYYY-MM", repr(value) if value else "a blank value")
        for line, value in zip(_lines(cells[~ok]), text[~ok], strict=True)
    ]
    return months, problems


def _slugs(cells: pd.DataFrame) -> tuple[pd.Series, list[Problem]]:
    """Slug per row, from the most recent name of the row's la_code_legacy."""
    blank = (cells["la_code_legacy"] == "") | (cells["la_name"] == "")
    problems = [
        Problem(int(line), "la_name" if code else "la_code_legacy", "an authority code and name",
                "a blank value")
        for line, code in zip(_lines(cells[blank]), cells.loc[blank, "la_code_legacy"], strict=True)
    ]  # fmt: skip
    named = cells[~blank].sort_values("month", kind="stable")
    latest = named.groupby("la_code_legacy")["la_name"].last()
    slug_by_code = latest.map(la_slug)
    problems += _slug_collisions(slug_by_code)
    return cells["la_code_legacy"].map(slug_by_code), problems


def _slug_collisions(slug_by_code: pd.Series) -> list[Problem]:
    shared = slug_by_code[slug_by_code.duplicated(keep=False)]
    return [
        Problem(None, "la_code_legacy", "one authority code per series name",
                f"codes {', '.join(sorted(codes.index))} all named {slug!r}", slug)
        for slug, codes in shared.groupby(shared)
    ]  # fmt: skip


def _long_metrics(
    cells: pd.DataFrame, metrics: Sequence[str], slugs: pd.Series, months: pd.Series
) -> tuple[pd.DataFrame, list[Problem]]:
    frames, problems = [], []
    for metric in metrics:
        values, value_problems = parse_count_cells(cells[metric], _lines(cells), metric)
        problems += value_problems
        frames.append(_long(cells, METRIC_SERIES_PREFIX[metric], slugs, months, values))
    return pd.concat(frames), problems


def _long(
    cells: pd.DataFrame, prefix: str, slugs: pd.Series, months: pd.Series, values: pd.Series
) -> pd.DataFrame:
    # Text cells with the file's line numbers as index, so calendar problems name file rows.
    return pd.DataFrame(
        {
            "unique_id": prefix + "/" + slugs,
            "ds": months.dt.strftime("%Y-%m-%d"),
            "y": values.map(repr),
        },
        index=pd.Index(_lines(cells), name=LINE_INDEX),
    )


def _validate_long(long: pd.DataFrame, source: str) -> pd.DataFrame:
    try:
        return validate_observations(long, source)
    except ValidationFailed as error:
        # The long frame's ds and y came from the file's month and day-count columns.
        renamed = [_in_file_terms(problem) for problem in error.problems]
        raise ValidationFailed(renamed, source) from error


def _in_file_terms(problem: Problem) -> Problem:
    column = {"ds": "month", "unique_id": "la_name"}.get(problem.column or "", problem.column)
    return Problem(problem.row, column, problem.expected, problem.found, problem.series_id)
