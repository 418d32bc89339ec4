"""The one door for long-format observations (unique_id, ds, y): read as text, validate once."""

from __future__ import annotations

import calendar
import codecs
import csv
import hashlib
import io
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import cached_property
from pathlib import Path
from typing import NoReturn

import numpy as np
import pandas as pd
from pandas.api.types import union_categoricals

from homeward.clock import utcnow
from homeward.errors import Problem, ValidationFailed, in_reading_order

COLUMNS = ("unique_id", "ds", "y")
WEEKLY = "W-MON"
MONTHLY = "MS"
DEFAULT_MAX_ROWS = 5_000_000
# One part of a series id (a service, a district): series ids are parts joined by '/'.
SERIES_ID_PART = r"[a-z0-9][a-z0-9_.-]*"
SERIES_ID_PATTERN = re.compile(rf"^{SERIES_ID_PART}(/{SERIES_ID_PART})*$")
# Name of the raw frame's index when it holds the file's own line numbers (header = line 1).
LINE_INDEX = "line"
FIRST_DATA_LINE = 2
# Beyond this many rows with the same fault the rest are counted, not listed: a 5-million-row
# file with a bad column must not build 5 million Problem objects.
MAX_PROBLEMS_PER_CHECK = 1_000
# The most columns a CSV's header may have. The widest layout Homeward reads is an NHS England
# DTOC file (25 columns) or a demand CSV with a quantile column per forecast quantile; a wide
# table sent by mistake (a column per series, or per week of ten years) is refused with how to
# make it long, which needs its cells read. A wider header is refused before any cell is: pandas
# builds a column per name, and a header of a million names took a core for days.
MAX_COLUMNS = 1_000
# The most one period of one series may count. Homeward's series are a council's referrals,
# delayed days or hospital admissions a week or a month; even England's busiest monthly
# figure, A&E attendances (about 2.5 million a month), is far below ten million, and no English
# council's population (Birmingham's is about 1.2 million) comes near it. A larger value is a
# typing or unit slip (digits pasted twice, a running total, pence for pounds) that would
# otherwise be forecast and planned as real: 1e15 referrals once became waits of 5e16 days.
MAX_COUNT = 10_000_000
# The earliest period a series may start: the returns Homeward reads begin in the 2000s (NHS
# delayed transfers of care in 2010), so a date before 1990 is a typo (1925 for 2025). The
# latest is today (``homeward.clock``): a period that has not begun has nothing to count yet,
# and rows dated years ahead would stretch every forecast and plan to reach them.
EARLIEST_PERIOD = pd.Timestamp("1990-01-01")

# Digits 0-9 only, not regex's \d: that also matches every script's digits ('١٢' Arabic-Indic,
# '１２' full-width), which float() reads as 12 and pandas' date parser reads for some scripts
# and not others, so a count or date so written was stored silently, or refused, by chance.
_D = "[0-9]"
_DATE = rf"{_D}{{4}}-{_D}{{2}}-{_D}{{2}}"
_MONTH = rf"{_D}{{4}}-{_D}{{2}}"
_NUMBER = rf"[+-]?(?:{_D}+(?:\.{_D}*)?|\.{_D}+)(?:[eE][+-]?{_D}+)?"
_GROUPED_NUMBER = rf"{_D}{{1,3}}(?:,{_D}{{3}})+(?:\.{_D}*)?"
_NAN_WORDS = frozenset({"nan", "+nan", "-nan", "na", "n/a", "null", "none"})
_INF_WORDS = frozenset({"inf", "+inf", "-inf", "infinity", "+infinity", "-infinity"})
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

# the database's series ids are VARCHAR(200): a longer one stored on SQLite, then failed
# every insert on PostgreSQL
MAX_SERIES_ID = 200
EXPECTED_ID = (
    "a lower-case series id of parts [a-z0-9_.-] joined by '/', "
    f"at most {MAX_SERIES_ID} characters, e.g. 'referrals/ot/nuneaton-and-bedworth'"
)
EXPECTED_DATE = "a date YYYY-MM-DD (a Monday for weekly series) or a month YYYY-MM"
EXPECTED_Y = f"a number from 0 to {MAX_COUNT:,} (Homeward metrics are counts in one period)"
# A weekly series' date names its week by its Monday, in full (YYYY-MM names a whole month).
EXPECTED_WEEKLY_DATE = "a Monday YYYY-MM-DD (the series is weekly, W-MON)"
EXPECTED_HEADER = "a CSV file with the header unique_id,ds,y"
# Charsets a file may be read in: UTF-8 (the default), and what Excel on Windows saves as
# "CSV (Comma delimited)" (Windows-1252, of which Latin-1 and Latin-9 are near neighbours).
SUPPORTED_CHARSETS = ("utf-8", "us-ascii", "iso-8859-1", "iso-8859-15", "windows-1252")
_SUPPORTED_CODECS = frozenset(codecs.lookup(name).name for name in SUPPORTED_CHARSETS)


def read_observations_csv(
    data: bytes | str | Path,
    source: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    encoding: str = "utf-8",
    allow_gaps: bool = False,
) -> pd.DataFrame:
    """Read a long-format CSV (columns unique_id, ds, y) and return validated observations.

    ``data`` is the file's bytes, its already-decoded text (a ``str`` is CSV text, never a
    path), or a ``Path`` to read; bytes are decoded with ``encoding`` (a codec name, as
    ``codec_for_charset`` returns). Every cell is read as text so nothing is silently coerced,
    surrounding whitespace in a cell is ignored, then the whole file is validated once.
    Returns a new frame as ``validate_observations`` does; raises ``ValidationFailed``
    listing every problem, with rows numbered as lines of the file (header = line 1).
    ``allow_gaps``: missing periods inside a series are left missing instead of refused (for
    a forecast, which interpolates them), unless more than half its periods are missing or
    its dates are spaced regularly wider than a week or month (quarterly, annual figures).
    """
    return read_upload(data, source, max_rows, encoding, allow_gaps).frame


@dataclass(frozen=True)
class Upload:
    """A file's validated observations (``frame``, as ``read_observations_csv`` returns it),
    the line of the file each row came from (``lines``: same index, header = line 1), so a
    check of the upload against stored history can still name the user's rows, and whether
    each row's date was written as a month (``month_only``: ``YYYY-MM``, same index), which a
    series found weekly once merged with its stored history must refuse."""

    frame: pd.DataFrame
    lines: pd.Series
    month_only: pd.Series
    # series whose missing periods were left unchecked, what is stored not being known yet
    # (``ParsedUpload.judged``'s ``stored_unknown``)
    unchecked_gaps: frozenset[str] = frozenset()

    def needs_rereading(self, stored: Mapping[str, str]) -> bool:
        """Whether this upload, read with ``stored_unknown``, reads otherwise with ``stored``
        known: a series' gaps were left unchecked, or a series has stored history (its dates
        are then judged by the stored frequency, not the file's)."""
        return bool(self.unchecked_gaps) or any(
            str(series_id) in stored for series_id in self.frame["unique_id"].unique()
        )


def read_upload(
    data: bytes | str | Path,
    source: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    encoding: str = "utf-8",
    allow_gaps: bool = False,
    stored: Mapping[str, str] | None = None,
    stored_unknown: bool = False,
) -> Upload:
    """Read and validate a long-format CSV as ``read_observations_csv`` does, keeping each
    row's file line number for the checks storing it makes (see ``repository``): the file
    parsed (``parse_upload``) and judged (``ParsedUpload.judged``, which says what ``stored``
    and ``stored_unknown`` mean) at once."""
    parsed = parse_upload(data, source, max_rows, encoding, allow_gaps)
    return parsed.judged(stored, stored_unknown)


def parse_upload(
    data: bytes | str | Path,
    source: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    encoding: str = "utf-8",
    allow_gaps: bool = False,
) -> ParsedUpload:
    """Parse a long-format CSV once: decode it, split it into cells and read each cell, and
    find every problem that does not depend on what is stored. Raises ``ValidationFailed`` at
    once only for what leaves nothing to judge (as ``read_csv_as_text`` does, and a file
    without the three columns); the rest of its problems are told by ``ParsedUpload.judged``,
    with those that do."""
    table = read_csv_as_text(data, source, max_rows, encoding=encoding, columns=COLUMNS)
    return _parsed(table.cells, source, table.problems, max_rows, allow_gaps)


def _parsed(
    raw: pd.DataFrame,
    source: str,
    prior: Sequence[Problem],
    max_rows: int,
    allow_gaps: bool = False,
) -> ParsedUpload:
    """``parse_upload`` of cells (``row`` = file line) already split, with the ``prior``
    problems met splitting them."""
    if len(raw) > max_rows:
        _fail(None, None, f"at most {max_rows:,} data rows", f"{len(raw):,}", source)
    _check_header_names([str(name) for name in raw.columns], source)
    problems = [*prior, *_column_problems(raw)]
    if len(raw) == 0 and not prior:
        problems.append(Problem(None, None, "at least one data row", "a header only, no rows"))
    if problems and not set(COLUMNS) <= set(raw.columns):
        raise ValidationFailed(problems, source)
    cells = _parse_cells(raw)
    # Sorted once: series codes follow the ids' lexical order, so this is also the output order.
    work = cells.work.sort_values(["sid", "ds", "row"], kind="stable")
    return ParsedUpload(
        source,
        work,
        (*problems, *cells.id_problems),
        cells.unread_dates,
        (*cells.value_problems, *_duplicate_problems(work)),
        allow_gaps,
    )


@dataclass(frozen=True, eq=False)
class ParsedUpload:
    """A long file parsed once (``parse_upload``) and judged (``judged``) against what is
    stored, again as often as that changes (under the upload lock), without being parsed
    again. ``work`` holds its cells as read, in (unique_id, ds) order; the problems found so
    far are kept in the order the checks meet them (the file's structure and ids; then its
    unread dates, whose hints depend on the stored frequencies; then its dates' range, values
    and duplicates)."""

    source: str
    work: pd.DataFrame
    problems: tuple[Problem, ...]
    unread_dates: _UnreadDates | None
    later_problems: tuple[Problem, ...]
    allow_gaps: bool = False
    # each acceptance, by the stored frequencies of the file's series and ``stored_unknown``
    _accepted: dict[tuple[frozenset[tuple[str, str]], bool], Upload] = field(
        default_factory=dict, init=False, repr=False
    )

    def judged(
        self, stored: Mapping[str, str] | None = None, stored_unknown: bool = False
    ) -> Upload:
        """The file's observations if it is valid, judged with what is stored; else
        ``ValidationFailed`` listing every problem, rows numbered as lines of the file.

        ``stored``: the rows are to be merged with stored history; it maps each series id
        that has stored rows to its stored frequency (``repository.stored_frequencies``;
        empty for a first upload or a replace). Those series' missing periods and spacing are
        left to the check of the merged series (``repository.store_observations``), since a
        correction may skip periods that are stored and staying so, and their dates are
        judged, and hinted at, by the stored frequency, not the file's few rows. Every other
        series' gaps are the file's own and are refused here, with the file's other problems.

        ``stored_unknown``: what is stored is not known yet (``homeward import`` before it
        connects, so that a file's own problems come before a database's): every series'
        gaps are left unchecked (``Upload.unchecked_gaps``) and its dates judged by its own
        rows. If ``Upload.needs_rereading`` the stored frequencies, judge it again with them.

        An accepted file judged again with the same stored frequencies of its series (other
        series' do not bear on it) is not checked again.
        """
        ids = self._series_ids
        bearing = frozenset((i, f) for i, f in (stored or {}).items() if i in ids)
        key = (bearing, stored_unknown)
        if key not in self._accepted:  # judged once for each stored state bearing on it
            self._refuse_if_invalid(_Spacing(self.allow_gaps, dict(bearing), stored_unknown))
            gappy = _gappy_series(self.work) if stored_unknown and not self.allow_gaps else None
            self._accepted[key] = Upload(*self._observations, gappy or frozenset())
        return self._accepted[key]

    def _refuse_if_invalid(self, spacing: _Spacing) -> None:
        """ValidationFailed listing every problem, unless there is none."""
        unread = self.unread_dates.problems(spacing.stored) if self.unread_dates else []
        problems = [*self.problems, *unread, *self.later_problems]
        problems += _all_calendar_problems(self.work, spacing)
        if problems:
            raise ValidationFailed(in_reading_order(problems), self.source)

    @cached_property
    def _series_ids(self) -> frozenset[str]:
        return frozenset(str(i) for i in self.work["unique_id"].unique())

    @cached_property
    def _observations(self) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
        """``Upload``'s frame, lines and month_only: the same however the file is judged."""
        work = self.work
        frame = _clean(work)
        lines = pd.Series(work["row"].to_numpy(dtype="int64"), index=frame.index, name=LINE_INDEX)
        month_only = pd.Series(
            _month_only(work["ds_text"]).to_numpy(dtype=bool), index=frame.index, name="month_only"
        )
        return frame, lines, month_only


def codec_for_charset(charset: str) -> str | None:
    """Python's codec for a charset name or alias ('latin-1', 'Windows-1252', 'UTF8'), or
    None unless it is one of ``SUPPORTED_CHARSETS``."""
    try:
        codec = codecs.lookup(charset.strip()).name
    except LookupError:
        return None
    return codec if codec in _SUPPORTED_CODECS else None


def validate_observations(
    raw: pd.DataFrame, source: str, max_rows: int = DEFAULT_MAX_ROWS
) -> pd.DataFrame:
    """Validate raw observations and return a clean NEW frame; never changes ``raw``.

    Every value must be a count from 0 to ``MAX_COUNT`` and every period must start between
    ``EARLIEST_PERIOD`` and today (``homeward.clock``). Returns columns ``unique_id`` (str),
    ``ds`` (datetime64[ns]: Mondays for W-MON series, 1sts of months for MS series), ``y``
    (float64, a count from 0 to ``MAX_COUNT``), sorted by unique_id, ds.
    Rows are numbered as lines of a CSV file of ``raw`` (first data row = line 2), unless
    ``raw``'s index is named ``"line"``, in which case it already holds the line numbers.
    """
    parsed = _parsed(raw, source, (), max_rows)
    parsed._refuse_if_invalid(_Spacing())
    return _clean(parsed.work)


def frequency_of(ds: pd.Series) -> str:
    """Frequency of one series' dates: ``"W-MON"`` (weekly, Mondays) or ``"MS"`` (month starts).

    Raises ``ValueError`` for dates that are neither (validated series never are).
    """
    dates = pd.Series(pd.to_datetime(ds)).drop_duplicates().sort_values()
    if dates.empty:
        raise ValueError("frequency_of needs at least one date")
    shortest_step_days = dates.diff().dt.days.min() if len(dates) > 1 else np.inf
    if (dates.dt.day == 1).all() and shortest_step_days >= 28:
        return MONTHLY
    if (dates.dt.dayofweek == 0).all():
        return WEEKLY
    raise ValueError("dates are neither all Mondays (W-MON) nor all 1sts of months (MS)")


def series_frequencies(observations: pd.DataFrame) -> dict[str, str]:
    """Map each series id of validated observations to its frequency (``W-MON`` or ``MS``),
    judged as ``frequency_of`` judges one series, for every series at once (series by series
    it took 5 ms each: most of the warnings after a 1,500-series import)."""
    dated = observations[["unique_id", "ds"]].assign(ds=pd.to_datetime(observations["ds"]))
    dated = dated.drop_duplicates().sort_values(["unique_id", "ds"], kind="stable")
    ds = dated["ds"]
    step_days = (ds - ds.shift()).dt.days.where(dated["unique_id"].eq(dated["unique_id"].shift()))
    judged = pd.DataFrame(
        {"firsts": ds.dt.day == 1, "mondays": ds.dt.dayofweek == 0, "step_days": step_days}
    ).groupby(dated["unique_id"], sort=True)
    firsts, mondays = judged["firsts"].all(), judged["mondays"].all()
    monthly = firsts & ~(judged["step_days"].min() < 28)  # one date (no step) is monthly too
    if not (monthly | mondays).all():
        raise ValueError("dates are neither all Mondays (W-MON) nor all 1sts of months (MS)")
    return {str(sid): MONTHLY if m else WEEKLY for sid, m in monthly.items()}


def frequencies_if_valid(observations: pd.DataFrame) -> dict[str, str] | None:
    """``series_frequencies`` of typed observations (unique_id, ds, y, as stored) that
    ``validate_observations`` evidently accepts as they are, read without the text it reads:
    series ids it accepts, counts from 0 to ``MAX_COUNT``, midnight dates from
    ``EARLIEST_PERIOD`` to today, and every series a run of consecutive 1sts of months or of
    consecutive Mondays, nothing missing or repeated. None where any may not be: validate
    those, for the problems' wording. For the check of series merged with stored history,
    most of whose time was reading every stored value and date again from text."""
    if not 0 < len(observations) <= DEFAULT_MAX_ROWS:
        return None
    codes, ids = pd.factorize(observations["unique_id"], sort=True, use_na_sentinel=False)
    y = observations["y"].to_numpy(dtype="float64")
    ds = pd.DatetimeIndex(observations["ds"]).as_unit("ns")
    today = pd.Timestamp(utcnow().date())
    if not (
        all(isinstance(i, str) and _accepted_id(i) for i in ids)
        and bool(((y >= 0) & (y <= MAX_COUNT)).all())  # NaN and inf are neither
        and not ds.hasnans
        and bool((ds == ds.normalize()).all())
        and ds.min() >= EARLIEST_PERIOD
        and ds.max() <= today
    ):
        return None
    order = np.lexsort((ds.asi8, codes))
    codes, ds = codes[order], ds[order]
    steps_in_series = codes[1:] == codes[:-1]
    week_steps = np.diff(ds.asi8) == pd.Timedelta(weeks=1).value
    month_steps = np.diff(np.asarray(ds.year * 12 + ds.month, dtype="int64")) == 1
    n = len(ids)
    # per series: how many dates off the calendar, and steps other than one period
    monthly = (np.bincount(codes, weights=ds.day != 1, minlength=n) == 0) & (
        np.bincount(codes[1:], weights=steps_in_series & ~month_steps, minlength=n) == 0
    )
    weekly = (np.bincount(codes, weights=ds.dayofweek != 0, minlength=n) == 0) & (
        np.bincount(codes[1:], weights=steps_in_series & ~week_steps, minlength=n) == 0
    )
    if not (monthly | weekly).all():
        return None
    return {str(i): MONTHLY if m else WEEKLY for i, m in zip(ids, monthly, strict=True)}


def _accepted_id(series_id: str) -> bool:
    """Whether ``validate_observations`` reads ``series_id`` as a series id, as it is."""
    return SERIES_ID_PATTERN.fullmatch(series_id) is not None and (
        series_id.lower() not in TOTAL_IDS
    )


def unfinished_periods(observations: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """{series id: start of its newest period} for each series of validated observations whose
    newest period has begun but not ended by today (``homeward.clock``): this week or this
    month, whose count is still partial and would pull a forecast down."""
    return unfinished_of(newest_periods(observations))


def unfinished_of(
    periods: dict[str, tuple[pd.Timestamp, pd.Timestamp]],
) -> dict[str, pd.Timestamp]:
    today = pd.Timestamp(utcnow().date())
    return {sid: start for sid, (start, ends) in periods.items() if ends > today}


def period_notes(periods: dict[str, tuple[pd.Timestamp, pd.Timestamp]]) -> list[str]:
    """The sentences of ``unfinished_warning`` and ``stale_warning`` for series whose newest
    periods are `periods` (``newest_periods``, or the series table's, as
    ``repository.history_warnings`` reads them): both read each series' newest period."""
    notes = (unfinished_warning(unfinished_of(periods)), stale_warning(stale_of(periods)))
    return [note for note in notes if note]


def newest_periods(observations: pd.DataFrame) -> dict[str, tuple[pd.Timestamp, pd.Timestamp]]:
    """{series id: (start, end) of its newest period}, the end being the next period's start."""
    newest = observations.groupby("unique_id", sort=True)["ds"].max()
    return {
        series_id: period_at(newest[series_id], freq)
        for series_id, freq in series_frequencies(observations).items()
    }


def period_at(start: datetime | pd.Timestamp, freq: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(start, end) of the period of frequency `freq` (``WEEKLY`` or ``MONTHLY``) starting at
    `start`, the end being the next period's start."""
    begins = pd.Timestamp(start)
    ends = begins + (pd.Timedelta(days=7) if freq == WEEKLY else pd.offsets.MonthBegin(1))
    return begins, pd.Timestamp(ends)


UNFINISHED_NAMED = 5  # the warning names this many series, then counts the rest


def unfinished_warning(unfinished: dict[str, pd.Timestamp], left_out: bool = False) -> str | None:
    """One sentence for the series whose newest period has not ended (``unfinished_periods``),
    or None: the command line warns of each; a pipeline run's message (`left_out`: the run
    forecast without those periods) and an upload's answer carry this one."""
    if not unfinished:
        return None
    ordered = sorted(unfinished.items(), key=lambda item: (item[1], item[0]))
    named = ", ".join(f"{sid} ({start:%Y-%m-%d})" for sid, start in ordered[:UNFINISHED_NAMED])
    more = f" and {len(ordered) - UNFINISHED_NAMED} more" if len(ordered) > UNFINISHED_NAMED else ""
    count = (
        f"{len(ordered)} series' newest periods have"
        if len(ordered) > 1
        else ("1 series' newest period has")
    )
    if left_out:
        return (
            f"{count} not ended yet (today is {utcnow():%Y-%m-%d}): {named}{more}; they are "
            "left out of this run's forecasts (a partial count would pull a forecast down), "
            "which start with them instead: send each again once it is over"
        )
    return (
        f"{count} not ended yet (today is {utcnow():%Y-%m-%d}): {named}{more}; a partial "
        "count pulls a forecast down, so send a week or month once it is over (sending it "
        "again then replaces the partial count)"
    )


STALE_AFTER = pd.DateOffset(years=1)
STALE_NAMED = 5  # a stale-history warning names this many series, then counts the rest


def stale_series(observations: pd.DataFrame) -> dict[str, pd.Timestamp]:
    """{series id: start of its newest period} for each series of validated observations whose
    newest period ended a year or more before today (``homeward.clock``). A forecast starts
    where its history ends, so such a series' forecasts are for periods already over."""
    return stale_of(newest_periods(observations))


def stale_of(periods: dict[str, tuple[pd.Timestamp, pd.Timestamp]]) -> dict[str, pd.Timestamp]:
    today = pd.Timestamp(utcnow().date())
    return {sid: start for sid, (start, ends) in periods.items() if ends + STALE_AFTER <= today}


def stale_warning(stale: dict[str, pd.Timestamp]) -> str | None:
    """One sentence for the series of ``stale_series``, oldest first, or None if there are none."""
    if not stale:
        return None
    oldest = sorted(stale.items(), key=lambda item: (item[1], item[0]))
    named = ", ".join(f"{sid} (newest {start:%Y-%m-%d})" for sid, start in oldest[:STALE_NAMED])
    more = f" and {len(oldest) - STALE_NAMED} more" if len(oldest) > STALE_NAMED else ""
    count = f"{len(oldest)} series end" if len(oldest) > 1 else "1 series ends"
    return (
        f"{count} a year or more before today ({utcnow():%Y-%m-%d}): {named}{more}; a forecast "
        "starts where its history ends, so theirs are for periods already over (upload newer "
        "figures for forecasts of the periods ahead)"
    )


def observations_hash(frame: pd.DataFrame) -> str:
    """SHA-256 (hex) of the canonical CSV of observations: the data version in run records.

    Canonical: columns unique_id, ds (YYYY-MM-DD), y (shortest round-trip float), sorted by
    unique_id then ds, header included, '\\n' line ends; the row order and index of ``frame``
    and any extra columns do not change the hash.
    """
    canonical = frame.loc[:, list(COLUMNS)].sort_values(["unique_id", "ds"], kind="stable")
    codes, dates = pd.factorize(pd.to_datetime(canonical["ds"]))  # each date written once
    ids = canonical["unique_id"].tolist()
    values = canonical["y"].astype("float64").map(repr)
    if (codes >= 0).all() and all(map(_plain_csv_field, set(ids))):
        # the text to_csv writes, joined directly (it took 0.7 s of 1.2 million rows)
        days = np.asarray(pd.DatetimeIndex(dates).strftime("%Y-%m-%d"), dtype=object)[codes]
        rows = zip(ids, days.tolist(), values.tolist(), strict=True)
        text = ",".join(COLUMNS) + "\n" + "".join(f"{i},{d},{y}\n" for i, d, y in rows)
    else:
        written = pd.to_datetime(canonical["ds"]).dt.strftime("%Y-%m-%d")
        text = canonical.assign(ds=written, y=values).to_csv(index=False, lineterminator="\n")
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _plain_csv_field(value: object) -> bool:
    """Whether ``to_csv`` writes `value` as its own text, unquoted (ids are, once valid)."""
    return isinstance(value, str) and value != "" and not any(c in value for c in ',"\r\n')


# --- decoding and CSV structure -------------------------------------------------------------


@dataclass(frozen=True)
class TextTable:
    """A CSV read as text: ``cells`` (str, index = file line numbers named ``"line"``) and the
    problems met on the way (ragged rows, which are left out of ``cells``)."""

    cells: pd.DataFrame
    problems: tuple[Problem, ...]


def read_csv_as_text(
    data: bytes | str | Path,
    source: str,
    max_rows: int = DEFAULT_MAX_ROWS,
    expected_header: str = EXPECTED_HEADER,
    encoding: str = "utf-8",
    columns: Sequence[str] = (),
) -> TextTable:
    """Decode (``encoding``, by default UTF-8, BOM allowed) and split a CSV into text cells,
    nothing coerced.

    Columns with an empty header and no values (what Excel leaves after the last column) are
    left out; an empty header over values is a problem naming the column's position.
    Raises ``ValidationFailed`` at once for what makes the rest unreadable: binary data,
    bytes ``encoding`` cannot decode, an empty file, a header of one column that is really
    semicolon- or tab-separated (named as expecting ``columns``, else ``expected_header``), a
    repeated header name, more than ``max_rows`` rows.
    """
    text = _decode(data, source, expected_header, encoding)
    expected = f"comma-separated columns {','.join(columns)}" if columns else expected_header
    cells, problems = _parse_csv(text, source, max_rows, expected)
    cells, blank_problems = _without_blank_columns(cells)
    return TextTable(_without_blank_rows(cells), (*blank_problems, *problems))


def _without_blank_rows(cells: pd.DataFrame) -> pd.DataFrame:
    """``cells`` without rows whose every cell is blank (the ``,,`` lines a spreadsheet leaves
    below its last row): they hold nothing to store or lose, and each would otherwise be
    refused once per column. Only rows blank in the first column are looked at further."""
    if cells.empty:
        return cells
    codes, uniques = pd.factorize(cells.iloc[:, 0])  # each distinct id stripped once
    blank_codes = [-1, *(i for i, u in enumerate(uniques) if not str(u).strip())]
    candidates = np.flatnonzero(np.isin(codes, blank_codes))
    if not len(candidates):
        return cells
    rows = cells.iloc[candidates]
    blank = rows.apply(lambda column: column.fillna("").astype(str).str.strip() == "").all(axis=1)
    kept: pd.DataFrame = cells.drop(index=rows.index[blank.to_numpy()])
    return kept


def parse_count_cells(
    text: pd.Series, rows: np.ndarray, column: str
) -> tuple[pd.Series, list[Problem]]:
    """Parse text cells as counts (numbers from 0 to ``MAX_COUNT``); bad cells become NaN and
    a Problem.

    ``rows``: the file line number of each cell, for the problems.
    """
    text = _as_text(text)
    values = pd.Series(_per_category(text, _parse_values), index=text.index, dtype="float64")
    bad = values.isna() | ~values.fillna(0.0).between(0, MAX_COUNT)
    problems = _cell_problems(bad, rows, column, EXPECTED_Y, text, found_value)
    return values.where(~bad), problems


def _decode(data: bytes | str | Path, source: str, expected_header: str, encoding: str) -> str:
    payload = data.read_bytes() if isinstance(data, Path) else data
    if isinstance(payload, bytes):
        _reject_binary(payload, source, encoding)
        payload = _text(payload, encoding, source)
    elif "\x00" in payload:  # decoded bytes never get here with a NUL: _reject_binary saw it
        _fail(None, None, "text", "binary data (a NUL character)", source)
    if not payload.strip():
        _fail(None, None, expected_header, "an empty file", source)
    return payload.removeprefix("\ufeff")


def _reject_binary(payload: bytes, source: str, encoding: str) -> None:
    # Spreadsheets are the usual wrong upload: name them so the user knows to "Save as CSV".
    charset = _charset_name(encoding)
    if payload.startswith(b"PK\x03\x04"):
        found = "a ZIP archive (an Excel .xlsx workbook?)"
        _fail(None, None, f"a {charset} CSV file", found, source)
    if payload.startswith(b"\xd0\xcf\x11\xe0"):
        _fail(None, None, f"a {charset} CSV file", "an Excel .xls workbook", source)
    nul_at = payload.find(b"\x00")
    if nul_at >= 0:
        line = payload[:nul_at].count(b"\n") + 1
        found = "binary data (a NUL byte; UTF-16 or not text?)"
        _fail(line, None, f"{charset} text", found, source)


def _charset_name(encoding: str) -> str:
    """The charset a message names: 'UTF-8' for UTF-8 by any alias, else ``encoding`` as given
    (the caller passes the charset in the user's own words, e.g. from a Content-Type)."""
    return "UTF-8" if codecs.lookup(encoding).name == "utf-8" else encoding


def _text(payload: bytes, encoding: str, source: str) -> str:
    codec = codecs.lookup(encoding).name
    try:
        return payload.decode("utf-8-sig" if codec == "utf-8" else codec)
    except UnicodeDecodeError as error:
        line = payload[: error.start].count(b"\n") + 1
        near = _quote(_around(payload, error.start).decode(codec, errors="replace"))
        found = f"byte 0x{payload[error.start]:02x} in {near}"
        if codec == "utf-8":
            _fail(line, None, "UTF-8 text", f"{found} (saved as Latin-1/Windows-1252?)", source)
        _fail(line, None, f"{encoding} text", f"{found}, which {encoding} does not use", source)


def _around(payload: bytes, at: int, width: int = 25) -> bytes:
    """Up to ``width`` bytes either side of ``at``, within its line: where to look."""
    line_start = payload.rfind(b"\n", 0, at) + 1
    line_end = payload.find(b"\n", at)
    line_end = len(payload) if line_end < 0 else line_end
    return payload[max(line_start, at - width) : min(line_end, at + width + 1)].rstrip(b"\r")


def _fail(row: int | None, column: str | None, expected: str, found: str, source: str) -> NoReturn:
    raise ValidationFailed([Problem(row, column, expected, found)], source)


def _records(text: str, source: str) -> Iterator[tuple[int, list[str]]]:
    """Yield (line number, fields) for each CSV record that is not an empty line."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        for fields in reader:
            if len(fields) > 1 or (fields and fields[0].strip()):
                yield reader.line_num, fields
    except csv.Error as error:
        _fail(reader.line_num, None, "well-formed CSV", str(error), source)


def _parse_csv(
    text: str, source: str, max_rows: int, expected: str
) -> tuple[pd.DataFrame, list[Problem]]:
    plain = _parse_plain_csv(text, source, max_rows, expected)
    if plain is not None:
        return plain, []
    return _parse_careful_csv(text, source, max_rows, expected)


def _parse_careful_csv(
    text: str, source: str, max_rows: int, expected: str
) -> tuple[pd.DataFrame, list[Problem]]:
    """Record by record with the csv module: quotes, blank lines and ragged rows allowed for."""
    records = _records(text, source)
    _, header = next(records)
    names = _header(header, source, expected)
    chunks: list[pd.DataFrame] = []
    chunk: list[list[str]] = []
    lines: list[int] = []
    problems: list[Problem] = []
    ragged_rows = 0
    for count, (line, fields) in enumerate(records, start=1):
        if count > max_rows:
            _fail(None, None, f"at most {max_rows:,} data rows", f"more than {max_rows:,}", source)
        if len(fields) != len(names):
            ragged_rows += 1
            if ragged_rows <= MAX_PROBLEMS_PER_CHECK:  # the rest are counted, as for cells
                problems.append(_ragged(line, fields, names))
            continue
        lines.append(line)
        chunk.append(fields)
        if len(chunk) == _CHUNK_ROWS:
            chunks.append(_categorical_chunk(chunk, names))
            chunk = []
    if len(names) == 1 and problems:  # prose or another format: one message, not one a row
        found = (
            f"a first line of one field ({names[0][:60]!r}) and rows of more fields below it "
            f"(the first at line {problems[0].row}): not a CSV file of these columns"
        )
        _fail(1, None, expected, found, source)
    if ragged_rows > MAX_PROBLEMS_PER_CHECK:
        more = ragged_rows - MAX_PROBLEMS_PER_CHECK
        problems.append(Problem(None, None, problems[0].expected, _not_listed(more, "rows")))
    chunks.append(_categorical_chunk(chunk, names))
    index = pd.Index(lines, name=LINE_INDEX, dtype="int64")
    return _join_chunks(chunks, names, index), problems


_LINE_BREAK = re.compile(r"\r\n?|\n")


def _parse_plain_csv(text: str, source: str, max_rows: int, expected: str) -> pd.DataFrame | None:
    """Pandas' C parser, used only when every line is provably one whole record; else None.

    Proof: no quote characters (so no field holds a comma or a line break), the C parser
    accepts it (so no line has too many fields) and the commas add up to exactly one header's
    worth per line (so, with none over, none is short and no line is blank). Then the line
    numbers are simply 2, 3, ...; anything less plain goes through the careful reader.
    """
    if '"' in text:
        return None
    # the header ends at the first line break of any kind: a file with CR alone between lines
    # ("CSV (Macintosh)" from older Excel for Mac) is one line to `\n`, and its rows were read
    # as header names ("found the header names '10\rreferrals/...' more than once")
    names = _header(_LINE_BREAK.split(text, maxsplit=1)[0].split(","), source, expected)
    lines = text.count("\n") + (0 if text.endswith("\n") else 1)
    plain = text.count(",") == (len(names) - 1) * lines
    if not plain or lines - 1 > max_rows:
        return None
    try:
        frame = pd.read_csv(
            io.BytesIO(text.encode("utf-8")),
            dtype=str, keep_default_na=False, na_filter=False, index_col=False, engine="c",
        )  # fmt: skip
    except (pd.errors.ParserError, ValueError):
        return None
    if len(frame) != lines - 1 or len(frame.columns) != len(names):
        return None
    frame.columns = pd.Index(names)
    frame.index = pd.RangeIndex(FIRST_DATA_LINE, FIRST_DATA_LINE + len(frame), name=LINE_INDEX)
    return frame


# Rows per chunk while reading: bounds the transient list-of-lists to a few tens of megabytes.
_CHUNK_ROWS = 100_000


def _categorical_chunk(rows: list[list[str]], names: list[str]) -> pd.DataFrame:
    # Categorical: ids and dates repeat millions of times in a big file, so each distinct
    # string is held once.
    frame = pd.DataFrame(rows, columns=range(len(names)), dtype=object)
    return frame.astype("category") if len(frame) else frame


def _join_chunks(chunks: list[pd.DataFrame], names: list[str], index: pd.Index) -> pd.DataFrame:
    columns = {}
    for position, name in enumerate(names):
        parts = [chunk[position] for chunk in chunks if len(chunk)]
        joined = union_categoricals(parts) if parts else pd.Categorical([])
        # Object cells that point at the categories' strings: no per-row copies.
        columns[name] = np.asarray(joined, dtype=object)
    return pd.DataFrame(columns, index=index, columns=names, dtype=object)


def _header(fields: list[str], source: str, expected: str) -> list[str]:
    """The header's names, stripped, each empty one replaced by a placeholder naming its
    position (see ``_without_blank_columns``); ``ValidationFailed`` for a header of more than
    ``MAX_COLUMNS`` fields, one that is really semicolon- or tab-separated, or one that repeats
    a name."""
    _check_width(fields, source, expected)
    names = [name.strip() for name in fields]
    _check_delimiter(names, source, expected)
    _check_header_names([name for name in names if name], source)
    return [name or _BLANK.format(position) for position, name in enumerate(names, start=1)]


# A name no header can have (header names are stripped): marks a column whose header is empty.
_BLANK_PREFIX = "\x00blank column "
_BLANK = _BLANK_PREFIX + "{}"
_DELIMITERS = {";": "semicolon", "\t": "tab"}


def _check_delimiter(names: list[str], source: str, expected: str) -> None:
    """One named column holding a ';' or a tab: Excel's "CSV" in a locale with decimal commas,
    or "Text (Tab delimited)". Said once, instead of a problem for every missing column."""
    named = [name for name in names if name]
    if len(named) != 1:
        return
    kinds = [kind for mark, kind in _DELIMITERS.items() if mark in named[0]]
    if kinds:
        found = (
            f"one column {named[0]!r}: the file looks {kinds[0]}-separated; "
            "save it as CSV (comma delimited)"
        )
        _fail(1, None, expected, found, source)


def _without_blank_columns(cells: pd.DataFrame) -> tuple[pd.DataFrame, list[Problem]]:
    """``cells`` without its empty-headed columns: dropped silently when they hold no values
    (Excel's trailing ``,,``), else a problem naming the column's position and a value."""
    blank = [name for name in cells.columns if str(name).startswith(_BLANK_PREFIX)]
    problems = []
    for name in blank:
        text = cells[name].astype(str).str.strip()
        filled = text[text != ""]
        if len(filled):
            position = str(name).removeprefix(_BLANK_PREFIX)
            expected = f"a name in the header for column {position}, which holds values"
            found = f"an empty name (row {filled.index[0]} has {filled.iloc[0]!r})"
            if position == "1" and _row_counter(text):
                found += ": a pandas index? write the file with to_csv(..., index=False)"
            problems.append(Problem(1, None, expected, found))
    return cells.drop(columns=blank), problems


def _row_counter(text: pd.Series) -> bool:
    """Whether a column holds a distinct whole number on every row: what ``DataFrame.to_csv``
    writes first, under an empty name, unless told ``index=False``."""
    return bool(text.str.fullmatch(r"\d+").all()) and text.is_unique


def _check_width(fields: list[str], source: str, expected: str) -> None:
    """Refuse a header wider than any layout read here, before a cell is parsed."""
    if len(fields) <= MAX_COLUMNS:
        return
    unnamed = sum(1 for name in fields if not name.strip())
    what = (
        f"{unnamed:,} of them with no name: a spreadsheet's unused columns? delete them"
        if unnamed > len(fields) // 2
        else "a wide table, a column per series or period?"
    )
    found = f"a header of {len(fields):,} columns ({what})"
    _fail(1, None, f"at most {MAX_COLUMNS:,} columns ({expected})", found, source)


def _check_header_names(names: list[str], source: str) -> None:
    counts = Counter(names)  # once over the names: a count per name was quadratic
    repeated = sorted(name for name, count in counts.items() if count > 1)
    if repeated:
        found = "the header names " + ", ".join(repr(n) for n in repeated) + " more than once"
        _fail(1, repeated[0], "each column named once", found, source)


def _ragged(line: int, fields: list[str], names: list[str]) -> Problem:
    preview = _quote(",".join(fields))
    shown = ",".join("" if name.startswith(_BLANK_PREFIX) else name for name in names)
    expected = f"{len(names)} fields, as in the header ({shown})"
    return Problem(line, None, expected, f"{len(fields)} fields: {preview}")


# --- validation ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Spacing:
    """How a file's series are checked for missing periods and wider spacing: ``allow_gaps``
    (missing periods left to be filled in, as ``read_observations_csv`` says) and ``stored``
    (series id: stored frequency, for series merged with stored history: their gaps are left
    to the merge's check, and their dates are judged by the stored frequency)."""

    allow_gaps: bool = False
    stored: Mapping[str, str] = field(default_factory=dict)
    unknown: bool = False  # which series are stored is not known: every one's gaps are left


def _column_problems(raw: pd.DataFrame) -> list[Problem]:
    names = [str(name) for name in raw.columns]
    header = _quote(",".join(names))
    # `Unique_ID,DS,Y`: the names, in another case (or with spaces around them)
    miscased = [  # 'Y' beside a 'y' is a column of its own: not told to become a second 'y'
        n for n in names if n not in COLUMNS and n.strip().lower() in set(COLUMNS) - set(names)
    ]
    if miscased and {n.strip().lower() for n in names} >= set(COLUMNS):
        renames = ", ".join(f"{n!r} to {n.strip().lower()}" for n in miscased)
        found = f"{header} (rename {renames})"
        return [Problem(1, None, "the header unique_id,ds,y (names in lower case)", found)]
    if not set(COLUMNS) & set(names) or _pivoted(names, raw):
        return [_other_format_problem(names, header)]
    absent = [name for name in COLUMNS if name not in names]
    unknown = [name for name in names if name not in COLUMNS]
    # one column missing, one unknown (`unique_id,ds,value`): most likely the one, misnamed
    hint = (
        f"; is {unknown[0]!r} the {absent[0]}? rename it"
        if len(absent) == len(unknown) == 1
        else ""
    )
    missing = [
        Problem(1, name, f"a column named '{name}' (required: unique_id, ds, y)", header + hint)
        for name in absent
    ]
    expected_only = "only the columns unique_id, ds, y"
    extra = [
        Problem(1, name, expected_only, f"an unknown column {name!r}")
        for name in unknown[:MAX_PROBLEMS_PER_CHECK]
    ]
    if len(unknown) > MAX_PROBLEMS_PER_CHECK:
        more = len(unknown) - MAX_PROBLEMS_PER_CHECK
        extra.append(Problem(1, None, expected_only, _not_listed(more, "unknown columns")))
    return missing + extra


def _not_listed(more: int, things: str) -> str:
    return f"{more:,} more {things} like these (not listed)"


def _pivoted(names: list[str], raw: pd.DataFrame | None = None) -> bool:
    """Whether the header is a wide table keyed by one of the long columns, as pandas' `pivot`
    writes it: `ds` then a column per series (`ds,dtoc_days/e06000001,...`) whose cells are
    counts (so `ds,district,referrals,notes`, a long file with its columns misnamed, is not),
    or transposed, `unique_id` then a column per period (`unique_id,2011-04-01,...`)."""
    if len(names) < 3:
        return False
    first, others = names[0], names[1:]
    if set(COLUMNS) & set(others):
        return False
    if first == "unique_id":
        return all(
            re.fullmatch(rf"{_DATE}|{_MONTH}", n.strip()) or _SLASHED.match(n) for n in others
        )
    if first == "ds":
        ids = [_slug(n) for n in others]
        named = all(i and SERIES_ID_PATTERN.fullmatch(i) for i in ids)
        wide = named and (len(others) >= 3 or any("/" in n for n in others))
        return wide and (raw is None or _all_counts(raw[others].head(PIVOT_ROWS_READ)))
    return False


PIVOT_ROWS_READ = 1000  # rows whose cells say whether a `ds,...` file is a pivot of counts


def _all_counts(cells: pd.DataFrame) -> bool:
    """Whether every filled cell reads as a number (grouped thousands and blanks allowed)."""
    text = cells.astype(str).apply(lambda column: column.str.strip().str.replace(",", ""))
    filled = text.ne("") & text.ne("nan")
    numbers = text.apply(pd.to_numeric, errors="coerce")
    return bool((numbers.notna() | ~filled).to_numpy().all())


def _other_format_problem(names: list[str], header: str) -> Problem:
    """One problem for a file with none of the columns (a wide table, another format) or a
    pivoted one (`ds` or `unique_id` then a column per series or period), not one for each
    of its columns: what the file is, when that is plain, and what to do."""
    from homeward.dtoc import is_nhs_dtoc_csv  # dtoc builds on this module

    wide = "a wide table? give one row per series and period: unique_id, ds, y"
    if is_nhs_dtoc_csv(names):
        what = "an NHS England DTOC file, which `homeward import FILE` reads as it is"
    elif names[0] == "ds" and _pivoted(names):
        what = (
            f"{wide}; the columns after 'ds' are series, which pandas' "
            "melt(id_vars='ds', var_name='unique_id', value_name='y') turns into rows"
        )
    elif names[0] == "unique_id" and _pivoted(names):
        what = f"{wide}; the columns after 'unique_id' are periods (a transposed wide table)"
    elif len(names) == len(COLUMNS) and (renaming := _renaming(names)) is not None:
        what = renaming
    elif (parts := _id_from_parts(names)) is not None:
        what = parts
    else:
        what = wide
    has = [name for name in COLUMNS if name in names]
    which = f"only {has[0]!r} of" if has else "none of"
    found = f"{header} ({len(names)} columns, {which} unique_id, ds, y: {what})"
    return Problem(1, None, "the header unique_id,ds,y (long format)", found)


# words in a column's name that say which long column it is (`Series,Date,Value`)
_ROLE_WORDS = {
    "unique_id": ("series", "id", "name", "code", "area", "district", "authority", "la"),
    "ds": ("date", "week", "month", "period", "day", "time", "start"),
    "y": ("value", "count", "total", "cases", "referrals", "days", "number", "y"),
}


def _renaming(names: list[str]) -> str | None:
    """For three columns none of which is named unique_id, ds or y: the renaming their names
    suggest (`'Series' to unique_id, 'Date' to ds, 'Value' to y`) when each long column is
    named by exactly one of them; None when the names do not say (`date,rugby,warwick` is a
    wide table, not a long one misnamed)."""
    words = [set(re.findall(r"[a-z]+", name.lower())) for name in names]
    order = []
    for clues in _ROLE_WORDS.values():
        found = [i for i, w in enumerate(words) if w & set(clues)]
        order.append(found[0] if len(found) == 1 else -1)
    if sorted(order) != list(range(len(COLUMNS))):
        return None
    renames = ", ".join(f"{names[i]!r} to {role}" for role, i in zip(COLUMNS, order, strict=True))
    return f"one row per series and period already? rename {renames}"


# words naming the columns a council's own export splits a referrals series id into
_SERVICE_WORDS = frozenset({"service", "team"})
_DISTRICT_WORDS = frozenset(
    {"district", "area", "authority", "la", "locality", "borough", "council", "place"}
)


def _id_from_parts(names: list[str]) -> str | None:
    """For four columns (`District,Service,Month,Referrals`): a long table whose series id is
    split into a district and a service column, told how to build `unique_id` from them; None
    when the names do not say so."""
    if len(names) != len(COLUMNS) + 1:
        return None
    words = [set(re.findall(r"[a-z]+", name.lower())) for name in names]
    ds = [i for i, w in enumerate(words) if w & set(_ROLE_WORDS["ds"])]
    y = [i for i, w in enumerate(words) if w & set(_ROLE_WORDS["y"]) and i not in ds]
    if len(ds) != 1 or len(y) != 1:
        return None
    rest = [i for i in range(len(names)) if i not in (*ds, *y)]
    service = [i for i in rest if words[i] & _SERVICE_WORDS]
    district = [i for i in rest if words[i] & _DISTRICT_WORDS and i not in service]
    if len(service) != 1 or len(district) != 1:
        return None
    parts = f"from {names[service[0]]!r} and {names[district[0]]!r}, in lower case"
    return (
        "one row per series and period already, its series id in two columns? write "
        f"unique_id as {_id_of_parts(names[y[0]], parts)}, and rename {names[ds[0]]!r} to ds, "
        f"{names[y[0]]!r} to y"
    )


def _id_of_parts(value_name: str, parts: str) -> str:
    """The series id a district-and-service export's rows take: `referrals/...` only when its
    value column counts referrals (the demand Homeward plans from); any other figure, such as
    delayed days, named as its own metric, so it is never stored, and planned, as referrals."""
    if _words(value_name) & {"referral", "referrals"}:
        return f"'referrals/<service>/<district>' {parts} (e.g. 'referrals/ot/rugby')"
    metric = _slug(value_name).replace("-", "_") or "metric"
    return (
        f"'<metric>/<service>/<district>' {parts}, <metric> naming what {value_name!r} counts "
        f"(e.g. '{metric}/ot/rugby'; Homeward plans from referrals only, "
        "'referrals/<service>/<district>', with a winter hospital-pressure series if you have "
        "one: other metrics are stored and forecast, not planned from)"
    )


def _words(name: str) -> set[str]:
    """The lower-case words of a column name (`Delayed days`: delayed, days)."""
    return set(re.findall(r"[a-z]+", name.lower()))


def _row_numbers(raw: pd.DataFrame) -> np.ndarray:
    if raw.index.name == LINE_INDEX:
        return raw.index.to_numpy(dtype="int64")
    return np.arange(FIRST_DATA_LINE, FIRST_DATA_LINE + len(raw), dtype="int64")


def _as_text(column: pd.Series) -> pd.Series:
    """Cells as stripped text, blank for missing, ISO for datetimes, repr-like for numbers.

    Categorical, so each distinct string is checked and parsed once: ids and dates repeat
    millions of times in a big file.
    """
    if pd.api.types.is_datetime64_any_dtype(column):
        midnight = column.dt.normalize() == column
        text = column.dt.strftime("%Y-%m-%d").where(midnight, column.astype(str))
        column = text.where(column.notna(), "")
    elif column.dtype == object or isinstance(column.dtype, pd.CategoricalDtype):
        column = column.astype(object).where(column.notna(), "")
    codes, uniques = pd.factorize(column, use_na_sentinel=False)
    stripped = pd.Index(uniques.astype(str), dtype=object).str.strip()
    stripped_codes, stripped_uniques = pd.factorize(stripped)
    text = pd.Categorical.from_codes(stripped_codes[codes], categories=stripped_uniques)
    return pd.Series(text, index=column.index)


def _per_category(text: pd.Series, parse: Callable[[pd.Series], pd.Series]) -> np.ndarray:
    """Apply ``parse`` to each distinct string of a categorical text column, then spread out."""
    categories = pd.Series(text.cat.categories, dtype=object)
    parsed: np.ndarray = parse(categories).to_numpy()
    return parsed[text.cat.codes.to_numpy()]


def _matches(pattern: str) -> Callable[[pd.Series], pd.Series]:
    return lambda text: text.str.fullmatch(pattern).fillna(False).astype(bool)


@dataclass(frozen=True, eq=False)
class _UnreadDates:
    """A file's dates not read (with every row's id, date and text, to tell which series are
    weekly): their problems, whose hints depend on the stored frequencies."""

    ids: pd.Series
    ds: pd.Series
    ds_text: pd.Series
    rows: np.ndarray
    month_first: str | None

    def problems(self, stored: Mapping[str, str]) -> list[Problem]:
        return _unread_date_problems(
            self.ids, self.ds, self.ds_text, self.rows, self.month_first, stored
        )


@dataclass(frozen=True, eq=False)
class _Cells:
    """A file's cells read (``work``, in the file's order) and their problems: ids', dates
    not read (``unread_dates``, None if every date was read) and the rest (``value_problems``:
    dates out of range, values)."""

    work: pd.DataFrame
    id_problems: list[Problem]
    unread_dates: _UnreadDates | None
    value_problems: list[Problem]


def _parse_cells(raw: pd.DataFrame) -> _Cells:
    ids, ds_text, y_text = (_as_text(raw[name]) for name in COLUMNS)
    ids = ids.cat.reorder_categories(sorted(ids.cat.categories))
    rows = _row_numbers(raw)
    ids_ok = pd.Series(_per_category(ids, _series_ids), index=ids.index)
    ds = pd.Series(_per_category(ds_text, _parse_dates), index=ds_text.index)
    y, y_problems = parse_count_cells(y_text, rows, "y")
    unread = ds.isna()
    unread_dates = (
        _UnreadDates(ids, ds, ds_text, rows, _month_first_reason(ids, ds_text, unread))
        if unread.any()
        else None
    )
    outside = _outside_dates(ds)
    value_problems = _date_range_problems(outside, rows, ids, ds_text)
    # A date out of range is left unread, as an unreadable one is: its series' calendar (gaps
    # up to 2091, say) is not checked further, so the problems name the date, not its effects.
    ds = ds.where(outside == "")
    value_problems += _SeriesOfRows(ids, ids_ok, rows).of(y_problems)
    work = pd.DataFrame(
        {"row": rows, "sid": ids.cat.codes.to_numpy(), "unique_id": np.asarray(ids, dtype=object),
         "ds_text": np.asarray(ds_text, dtype=object), "ds": ds.to_numpy(),
         "y": y.to_numpy(), "y_text": y_text.array, "ok_id": ids_ok.to_numpy()}
    )  # fmt: skip
    return _Cells(work, _id_problems(ids, ids_ok, rows), unread_dates, value_problems)


class _SeriesOfRows:
    """Names the series of a value's problem from its row's id, where that id is a valid one
    (an API client groups problems by ``series_id``; a bad id's row belongs to none). Dates
    not read keep the spec's wording, "row 2, column 'ds': ...", without the series."""

    def __init__(self, ids: pd.Series, ids_ok: pd.Series, rows: np.ndarray) -> None:
        self._ids, self._ok = ids, ids_ok.to_numpy(dtype=bool)
        # a row number shared by several rows (a wide file melted, one row a metric) names
        # no one series: such rows are left out of the lookup, and their problems keep none
        index = pd.Index(rows)
        alone = ~index.duplicated(keep=False)
        self._rows = index if alone.all() else index[alone]
        self._at = None if alone.all() else np.flatnonzero(alone)

    def of(self, problems: list[Problem]) -> list[Problem]:
        # looked up for the problems' rows only: a file may have millions of good ones
        at = self._rows.get_indexer([-1 if p.row is None else p.row for p in problems])
        if self._at is not None:
            at = np.where(at >= 0, self._at[np.maximum(at, 0)], -1)
        return [
            replace(p, series_id=str(self._ids.iloc[i]))
            if p.series_id is None and i >= 0 and self._ok[i]
            else p
            for p, i in zip(problems, at, strict=True)
        ]


def _unread_date_problems(
    ids: pd.Series,
    ds: pd.Series,
    ds_text: pd.Series,
    rows: np.ndarray,
    month_first: str | None,
    stored: Mapping[str, str],
) -> list[Problem]:
    """A problem for each date not read, with the date meant where a spreadsheet wrote it:
    for a weekly series (by its ``stored`` frequency, else its dates so read stepping a week
    at a time), the Monday of its week, since a week-ending Sunday's date is refused next as
    not a Monday."""
    unread = ds.isna()
    describe = found_unread_date if month_first is None else _month_first_date(month_first)
    problems = _cell_problems(unread, rows, "ds", EXPECTED_DATE, ds_text, describe)
    weekly = _weekly_rows(ids, ds, ds_text, unread, rows, month_first is not None, stored)
    if not weekly:
        return problems
    text_at = dict(zip(rows[unread.to_numpy(dtype=bool)], ds_text[unread], strict=True))
    return [
        replace(p, found=describe(str(text_at[p.row]), weekly=True))
        if p.row in weekly and p.row in text_at
        else p
        for p in problems
    ]


def _weekly_rows(
    ids: pd.Series,
    ds: pd.Series,
    ds_text: pd.Series,
    unread: pd.Series,
    rows: np.ndarray,
    month_first: bool,
    stored: Mapping[str, str],
) -> set[int]:
    """The file lines of unread dates in series that are weekly: by their ``stored``
    frequency where they have stored history (a correction's one date shows none), else
    stepping a week at a time once their spreadsheet dates are read as meant."""
    if not unread.any():  # the common case: no work on a file's millions of good dates
        return set()
    meant = pd.Series(
        _per_category(ds_text, lambda t: t.map(lambda v: _slashed_meant(v, month_first))),
        index=ds.index,
        dtype="datetime64[ns]",
    )
    dated = pd.DataFrame(
        {"sid": ids.cat.codes.to_numpy(), "unique_id": np.asarray(ids, dtype=object),
         "ds": ds.fillna(meant).to_numpy(), "row": rows}
    ).dropna(subset=["ds"])  # fmt: skip
    ordered = dated.sort_values(["sid", "ds"]).drop_duplicates(["sid", "ds"])
    frequency = _stored_frequency(_series_summary(ordered), stored)["frequency"]
    weekly_sids = set(frequency.index[frequency == WEEKLY])
    unread_rows = set(rows[unread.to_numpy(dtype=bool)].tolist())
    return {
        int(row)
        for sid, row in dated[["sid", "row"]].itertuples(index=False)
        if sid in weekly_sids and row in unread_rows
    }


def _slashed_meant(text: str, month_first: bool) -> pd.Timestamp | None:
    """The date a spreadsheet's date means (a slashed one day first unless ``month_first``, a
    midnight time left out, an Excel serial number), or None."""
    if midnight := _MIDNIGHT.match(text):
        if re.fullmatch(_DATE, midnight.group(1)):
            try:
                return pd.Timestamp(midnight.group(1))
            except ValueError:
                return None
        return _slashed_meant(midnight.group(1), month_first)
    if (serial := _serial_date(text)) is not None:
        return serial
    match = _SLASHED.match(text) or _TWO_DIGIT_YEAR.match(text)
    if match is None:
        return None
    first, second, year = (int(g) for g in match.groups())
    if year < 100:
        year += 2000 if year < 30 else 1900
    readings = ((second, first),) if month_first else ((first, second), (second, first))
    for day, month in readings:
        try:
            return pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            continue
    return None


def _parse_dates(text: pd.Series) -> pd.Series:
    is_date = _matches(_DATE)(text)
    is_month = _matches(_MONTH)(text)
    candidate = text.where(~is_month, text + "-01").where(is_date | is_month, None)
    parsed = pd.to_datetime(candidate, format="%Y-%m-%d", errors="coerce")
    return pd.Series(parsed, index=text.index).astype("datetime64[ns]")


def read_iso_dates(text: pd.Series) -> pd.Series:
    """Each cell's date if it is YYYY-MM-DD in digits 0-9 (surrounding spaces ignored), else
    NaT, for the readers of other layouts (``demand_csv``): pandas' own parser reads
    full-width and some other scripts' digits and not others, which ``_DATE`` refuses alike."""
    written = text.str.strip().str.fullmatch(_DATE).fillna(False).astype(bool)
    return pd.to_datetime(text.where(written), format="%Y-%m-%d", errors="coerce")


def _outside_dates(ds: pd.Series) -> pd.Series:
    """Per date: "" when it starts a period between ``EARLIEST_PERIOD`` and today, else why
    not ("late" or "early"); an unreadable date (NaT) is "" (reported as unreadable)."""
    today = pd.Timestamp(utcnow().date())
    late = (ds > today).to_numpy(dtype=bool)
    early = (ds < EARLIEST_PERIOD).to_numpy(dtype=bool)
    return pd.Series(np.select([late, early], ["late", "early"], ""), index=ds.index)


def _date_range_problems(
    outside: pd.Series, rows: np.ndarray, ids: pd.Series, ds_text: pd.Series
) -> list[Problem]:
    hits = np.flatnonzero((outside != "").to_numpy(dtype=bool))
    if not len(hits):
        return []
    today = pd.Timestamp(utcnow().date())
    expected = (
        f"a period starting between {EARLIEST_PERIOD:%Y-%m-%d} and today, {today:%Y-%m-%d} "
        "(a period yet to begin has nothing to count)"
    )
    why = {"late": "after today", "early": f"before {EARLIEST_PERIOD:%Y-%m-%d}"}
    shown = hits[:MAX_PROBLEMS_PER_CHECK]
    cells = zip(rows[shown], outside.iloc[shown], ids.iloc[shown], ds_text.iloc[shown], strict=True)
    listed = [
        Problem(int(row), "ds", expected, f"{_quote(str(text))} ({why[kind]})", str(series_id))
        for row, kind, series_id, text in cells
    ]
    if len(hits) > MAX_PROBLEMS_PER_CHECK:
        more = len(hits) - MAX_PROBLEMS_PER_CHECK
        listed.append(Problem(None, "ds", expected, f"{more:,} more rows like these (not listed)"))
    return listed


def _parse_values(text: pd.Series) -> pd.Series:
    is_number = _matches(_NUMBER)(text)
    # float("1e999") is inf, which the finiteness check then reports.
    return text.where(is_number, "nan").astype("float64")


def _id_problems(ids: pd.Series, ids_ok: pd.Series, rows: np.ndarray) -> list[Problem]:
    return _cell_problems(~ids_ok, rows, "unique_id", EXPECTED_ID, ids, found_id)


# Ids that name a total of the file's other rows, not a series: a spreadsheet's "Total" row.
TOTAL_IDS = frozenset({"total", "all"})


def _series_ids(text: pd.Series) -> pd.Series:
    """Which ids are series ids: the pattern, within the length, and not a total row's
    label in any case."""
    fits = text.str.len() <= MAX_SERIES_ID
    return _matches(SERIES_ID_PATTERN.pattern)(text) & fits & ~text.str.lower().isin(TOTAL_IDS)


def found_id(value: str) -> str:
    """The id as written, and the id meant when only its case is wrong (ONS codes such as
    'E06000049' are printed in capitals), or an id to write for a name ('Barking & Dagenham':
    'barking-and-dagenham'); a total row ('Total', 'all') is told to be left out, since
    stored it would be one more series."""
    lower = value.lower()
    if len(value) > MAX_SERIES_ID:
        return f"{_found_text(value)} ({len(value)} characters)"
    if lower in TOTAL_IDS:
        return (
            f"{_quote(value)} (a total row: leave it out; Homeward adds series up itself, and "
            "`homeward forecast --hierarchy` makes parents add up to their children)"
        )
    if lower != value and SERIES_ID_PATTERN.fullmatch(lower):
        return f"{_quote(value)} (capitals: write {_quote(lower)})"
    slug = _slug(value)
    if slug and slug != value and SERIES_ID_PATTERN.fullmatch(slug):
        return f"{_quote(value)} (a name: write an id such as {_quote(slug)})"
    return _found_text(value)


def _slug(value: str) -> str:
    """`value` as a series id: accents dropped, lower case, '&' as 'and', and each run of
    other characters that an id part cannot hold as one '-', part by part ('/' kept)."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()  # é: e
    parts = []
    for part in plain.strip().lower().replace("&", " and ").split("/"):
        cleaned = re.sub(r"[^a-z0-9_.]+", "-", part).strip("-.")
        parts.append(cleaned)
    return "/".join(parts)


def _cell_problems(
    bad: pd.Series,
    rows: np.ndarray,
    column: str,
    expected: str,
    text: pd.Series,
    describe: Callable[[str], str],
) -> list[Problem]:
    hits = np.flatnonzero(bad.to_numpy(dtype=bool))
    shown = hits[:MAX_PROBLEMS_PER_CHECK]
    listed = [
        Problem(int(row), column, expected, describe(str(value)))
        for row, value in zip(rows[shown], text.iloc[shown], strict=True)
    ]
    if len(hits) > MAX_PROBLEMS_PER_CHECK:
        more = len(hits) - MAX_PROBLEMS_PER_CHECK
        listed.append(
            Problem(None, column, expected, f"{more:,} more rows like these (not listed)")
        )
    return listed


def _found_text(value: str) -> str:
    return "a blank value" if value == "" else _quote(value)


# What Excel writes in a cell whose formula failed
_EXCEL_ERRORS = frozenset(
    {"#N/A", "#VALUE!", "#REF!", "#DIV/0!", "#NUM!", "#NAME?", "#NULL!", "#SPILL!", "#CALC!"}
)
# How published tables (NHS England, ONS) mark a figure withheld or not available
_SUPPRESSED = frozenset({"*", "..", ":", "x", "c", "[c]", "[x]", "[z]", "-"})


def found_value(value: str) -> str:
    """A count that is not one as written (stripped), and what it is where that is plain: a
    withheld figure, not a number, negative, too large, Excel's grouped digits ('1,078': write
    1078); "a blank value" for an empty cell. Shared with ``homeward plan --demand``."""
    if (plain := _ascii_digits(value)) is not None:
        return _found_in_other_digits(value, plain, _is_count(plain) or found_value(plain))
    word = value.lower()
    if word in _SUPPRESSED:
        return (
            f"{_quote(value)} (a figure withheld or not available, as published tables mark "
            "one: give the figure)"
        )
    if word in _NAN_WORDS:
        return f"{_quote(value)} (not a number)"
    if value.upper() in _EXCEL_ERRORS:
        return (
            f"{_quote(value)} (an Excel error value: its formula failed; write the count "
            "itself, a number, in its place)"
        )
    if word in _INF_WORDS:
        return f"{_quote(value)} (infinite)"
    if re.fullmatch(_NUMBER, value):
        number = float(value)
        if number < 0:
            return f"{_quote(value)} (negative)"
        if np.isinf(number):
            return f"{_quote(value)} (too large: infinite)"
        return f"{_quote(value)} (more than {MAX_COUNT:,} in one period)"
    if re.fullmatch(_GROUPED_NUMBER, value):
        # Excel saves a number formatted "1,752,381" as that text; read as-is it is ambiguous
        # (1,500 is 1.5 where a comma is the decimal mark), so it is named, not guessed
        plain = value.replace(",", "")
        return f"{_quote(value)} (digits grouped with commas: write {plain})"
    return _found_text(value)


def _ascii_digits(text: str) -> str | None:
    """``text`` with its digits of other scripts ('١٢' Arabic-Indic, '１２' full-width, as a
    spreadsheet in another locale or an input method may write them) as 0-9, or None when it
    has none: the cell to write instead, since only 0-9 is read."""
    if text.isascii() or not any(c.isdecimal() and not c.isascii() for c in text):
        return None
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def _found_in_other_digits(text: str, plain: str, said: str | bool) -> str:
    """A cell written with other digits than 0-9: ``plain`` to write if it reads (``said`` is
    True), else what is wrong with ``plain`` too (``said``: its own found, whose hint, such as
    'negative' or the date a spreadsheet date means, is told)."""
    if said is True:
        return f"{_quote(text)} (digits other than 0-9: write {plain})"
    quoted = _quote(plain)
    hint = str(said)[len(quoted) + 2 : -1] if str(said).startswith(f"{quoted} (") else ""
    return f"{_quote(text)} (digits other than 0-9; in 0-9 {quoted}{': ' if hint else ''}{hint})"


def _is_count(text: str) -> bool:
    """Whether ``text`` is a count as ``_parse_values`` reads one, within ``MAX_COUNT``."""
    return re.fullmatch(_NUMBER, text) is not None and 0 <= float(text) <= MAX_COUNT


def _is_date(text: str) -> bool:
    """Whether ``text`` is a date or month as ``_parse_dates`` reads one."""
    if not re.fullmatch(rf"{_DATE}|{_MONTH}", text):
        return False
    try:
        pd.Timestamp(text if len(text) == len("YYYY-MM-DD") else f"{text}-01")
    except ValueError:
        return False
    return True


def _quote(value: str, limit: int = 60) -> str:
    return repr(value if len(value) <= limit else value[: limit - 3] + "...")


def _duplicate_problems(work: pd.DataFrame) -> list[Problem]:
    usable = work[work["ok_id"] & work["ds"].notna()]
    keys = ["sid", "ds"]
    repeated = usable.duplicated(keys, keep="first")
    first = usable.loc[~repeated].set_index(keys)  # each (series, date)'s first row, as it is
    where = pd.MultiIndex.from_frame(usable.loc[repeated, keys])
    repeats = usable.loc[repeated].assign(
        first_row=first["row"].reindex(where).to_numpy(),
        first_y=first["y"].reindex(where).to_numpy(),  # its own value, blank or not
        first_text=np.asarray(first["y_text"].reindex(where), dtype=object),
    )
    columns = ["row", "unique_id", "ds_text", "first_row", "y", "first_y", "first_text"]
    return [
        Problem(int(row), "ds", "one row per (unique_id, ds)",
                f"a second row for {date!r} (first on row {first}{_same_or_not(y, y0, text0)})",
                str(series_id))
        for row, series_id, date, first, y, y0, text0 in repeats[columns]
        .head(MAX_PROBLEMS_PER_CHECK).itertuples(index=False)
    ]  # fmt: skip


def _same_or_not(y: float, first: float, first_text: str = "") -> str:
    """Whether a repeated row repeats its value too (a copy: leave it out) or differs (which
    figure is right is the sender's to say); a first value not read is named as written, and
    the one row kept is told to hold the count in its place, as that value's own problem
    says (not "keep one row" beside "write the count in its place")."""
    if pd.isna(first) and str(first_text):
        # that value's own problem says what to write in its place; this says which row stays
        quoted = _quote(str(first_text))
        return (
            f", whose value is unreadable, {quoted}: keep one row, with the count written in "
            f"place of {quoted}"
        )
    if pd.isna(first):
        return ", whose value is blank: keep the row with the figure"
    if pd.isna(y):
        return ""
    if y == first:
        return ", with the same value: a copy, leave one out"
    return f", with another value, {first:g}: keep the right one"


def _all_calendar_problems(work: pd.DataFrame, spacing: _Spacing = _Spacing()) -> list[Problem]:
    """Spacing, anchor (Monday / 1st) and gap checks for every series at once (vectorised)."""
    usable = work[work["ok_id"] & work["ds"].notna()]
    dated = usable.drop_duplicates(["sid", "ds"])
    summary = _series_summary(dated)
    problems = _mixed_spacing_problems(summary)
    summary = _stored_frequency(summary[~summary["mixed"]], spacing.stored)
    anchored = usable.join(summary["frequency"], on="sid", how="inner")
    problems += _anchor_problems(anchored)
    # A series with an off-calendar or unreadable date would show spurious gaps: skip those.
    skip = set(anchored.loc[_off_calendar(anchored), "sid"])
    skip |= set(work.loc[work["ok_id"] & work["ds"].isna(), "sid"])
    # A series with stored history may skip periods that stay stored: the merge checks it.
    skip |= set(summary.index[summary["unique_id"].isin(list(spacing.stored))])
    if spacing.unknown:
        skip |= set(summary.index)
    problems += _gap_problems(summary[~summary.index.isin(skip)], dated, spacing.allow_gaps)
    return problems


def _stored_frequency(summary: pd.DataFrame, stored: Mapping[str, str]) -> pd.DataFrame:
    """``summary`` with each series of stored history at its stored frequency: the file's
    rows of it may be too few to show one (a correction of one week-ending Sunday), and its
    dates join the stored calendar, so they are judged, and hinted at, by that."""
    if not stored:
        return summary
    kept = summary["unique_id"].map(lambda sid: stored.get(str(sid)))
    return summary.assign(frequency=kept.fillna(summary["frequency"]))


def _series_summary(dated: pd.DataFrame) -> pd.DataFrame:
    """Per series: counts of weekly / monthly steps, of 1sts and Mondays, first/last date."""
    ds = dated["ds"]
    same_series = dated["sid"].eq(dated["sid"].shift())
    month_index = ds.dt.year * 12 + ds.dt.month
    on_first = ds.dt.day == 1
    # Month-end dates (pandas' resample("M"), Excel's EOMONTH) step monthly too: counted so the
    # series is named monthly and each date is refused as "not the 1st", not "not a Monday".
    on_end = ds.dt.is_month_end
    steps = pd.DataFrame(
        {
            "sid": dated["sid"],
            "unique_id": dated["unique_id"],
            "weekly_steps": same_series & ((ds - ds.shift()).dt.days == 7),
            "monthly_steps": same_series
            & (
                (on_first & on_first.shift(fill_value=False))
                | (on_end & on_end.shift(fill_value=False))
            )
            & (month_index - month_index.shift() == 1),
            "firsts": on_first,
            "mondays": ds.dt.dayofweek == 0,
            "first_ds": ds,
            "last_ds": ds,
            "n_dates": 1,
        }
    )
    aggregations = {"unique_id": "first", "first_ds": "min", "last_ds": "max"}
    aggregations |= dict.fromkeys(["weekly_steps", "monthly_steps", "firsts", "mondays"], "sum")
    summary = steps.groupby("sid", sort=True).agg({**aggregations, "n_dates": "sum"})
    summary["mixed"] = (summary["weekly_steps"] > 0) & (summary["monthly_steps"] > 0)
    summary["frequency"] = [_intended_frequency(*counts) for counts in _frequency_counts(summary)]
    return summary


def _frequency_counts(summary: pd.DataFrame) -> list[tuple[int, int, int, int]]:
    columns = ["weekly_steps", "monthly_steps", "firsts", "mondays"]
    return [tuple(int(v) for v in row) for row in summary[columns].to_numpy()]  # type: ignore[misc]


def _intended_frequency(weekly_steps: int, monthly_steps: int, firsts: int, mondays: int) -> str:
    """The frequency a series evidently means, so off-calendar dates can be named as such.

    Returns ``""`` when a series has neither a Monday nor a 1st to go by.
    """
    if weekly_steps != monthly_steps:
        return WEEKLY if weekly_steps > monthly_steps else MONTHLY
    if firsts == mondays == 0:
        return ""
    return MONTHLY if firsts >= mondays else WEEKLY


def _mixed_spacing_problems(summary: pd.DataFrame) -> list[Problem]:
    expected = "one spacing per series: every week (W-MON) or every month (MS)"
    return [
        Problem(None, "ds", expected, f"{weekly} weekly and {monthly} monthly steps", str(sid))
        for sid, weekly, monthly in summary.loc[
            summary["mixed"], ["unique_id", "weekly_steps", "monthly_steps"]
        ].itertuples(index=False)
    ]


def _off_calendar(anchored: pd.DataFrame) -> pd.Series:
    weekly = anchored["frequency"] == WEEKLY
    monthly = anchored["frequency"] == MONTHLY
    # A bare month (YYYY-MM) names a whole month: fine for MS, meaningless for a weekly series.
    not_monday = (anchored["ds"].dt.dayofweek != 0) | _month_only(anchored["ds_text"])
    not_first = anchored["ds"].dt.day != 1
    off: pd.Series = (weekly & not_monday) | (monthly & not_first) | ~(weekly | monthly)
    return off


def _month_only(ds_text: pd.Series) -> pd.Series:
    return ds_text.str.len() == len("YYYY-MM")


_ANCHOR_EXPECTED = {
    WEEKLY: EXPECTED_WEEKLY_DATE,
    MONTHLY: "the 1st of a month (the series is monthly, MS)",
    "": "a Monday (weekly series) or the 1st of a month (monthly series)",
}


def _anchor_problems(anchored: pd.DataFrame) -> list[Problem]:
    off = anchored[_off_calendar(anchored)].sort_values("row").head(MAX_PROBLEMS_PER_CHECK)
    columns = ["row", "unique_id", "ds_text", "ds", "frequency"]
    return [
        Problem(int(row), "ds", _ANCHOR_EXPECTED[frequency], found_date(text, date, frequency),
                str(series_id))
        for row, series_id, text, date, frequency in off[columns].itertuples(index=False)
    ]  # fmt: skip


# 05/01/2026, and as Excel also writes it, 05.01.2026 or 05-01-2026
_SLASHED = re.compile(r"^\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*$")
# a date at midnight, as Excel writes a date cell formatted with a time (01/11/2021 00:00)
_MIDNIGHT = re.compile(r"^\s*(\S+)[ T]0?0:00(?::00(?:\.0+)?)?\s*$")
# Excel's serial day numbers (44501 is 2021-11-01), from EARLIEST_PERIOD on
_SERIAL = re.compile(r"^\s*(\d{5})\s*$")
_EXCEL_DAY_ZERO = pd.Timestamp("1899-12-30")


def found_unread_date(text: str, weekly: bool = False) -> str:
    """A date that is not YYYY-MM-DD as written, and the date meant where a spreadsheet's
    slashed date says it: day first as UK spreadsheets write it (05/01/2026: 2026-01-05), or
    month first where the day cannot be second (01/25/2026: 2026-01-25); for a ``weekly``
    series, its week's Monday. So too a date with a midnight time (01/11/2021 00:00) and an
    Excel serial day number (44501), which are refused with the date to write, not read."""
    if (plain := _ascii_digits(text)) is not None:
        return _found_in_other_digits(
            text, plain, _is_date(plain) or found_unread_date(plain, weekly)
        )
    if midnight := _MIDNIGHT.match(text):
        return _found_with_time(text, midnight.group(1), weekly)
    if (serial := _serial_date(text)) is not None:
        return (
            f"{text!r} (an Excel date serial number, the day {serial:%Y-%m-%d}: format the "
            f"column as a date YYYY-MM-DD before saving; {_write(serial, weekly)})"
        )
    match = _SLASHED.match(text) or _TWO_DIGIT_YEAR.match(text)
    if match is None:
        return _other_written_date(text)
    first, second, year = (int(g) for g in match.groups())
    if year < 100:  # 02/01/23: as Excel reads two-digit years, 00-29 this century, 30-99 the last
        year += 2000 if year < 30 else 1900
    for day, month, how in ((first, second, "day first, as UK spreadsheets write it"),
                            (second, first, "month first")):  # fmt: skip
        try:
            meant = pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            continue
        return f"{text!r} (a spreadsheet date, read {how}: {_write(meant, weekly)})"
    return _found_text(text)


def _found_with_time(text: str, date: str, weekly: bool) -> str:
    """A date written with a midnight time of day: the date alone to write."""
    if re.fullmatch(_DATE, date):
        try:
            meant = pd.Timestamp(date)
        except ValueError:
            return _found_text(text)
        return f"{text!r} (a date and time: leave the time out, {_write(meant, weekly)})"
    said = found_unread_date(date, weekly)
    if not said.startswith(f"{date!r} ("):  # nothing plain to say of the date part either
        return _found_text(text)
    return f"{text!r} (a date and time: leave the time out; {said[len(repr(date)) + 2 : -1]})"


def _serial_date(text: str) -> pd.Timestamp | None:
    """The day an Excel serial number (days since 1899-12-30) names, if it falls between
    ``EARLIEST_PERIOD`` and today; else None (a five-digit number that is not a date)."""
    match = _SERIAL.match(text)
    if match is None:
        return None
    day = _EXCEL_DAY_ZERO + pd.Timedelta(days=int(match.group(1)))
    return day if EARLIEST_PERIOD <= day <= pd.Timestamp(utcnow().date()) else None


def _write(meant: pd.Timestamp, weekly: bool = False) -> str:
    """'write 2011-04-30', with the 1st beside a month's last day: a monthly series dates a
    month by its 1st, and one hint should not lead to the next refusal; so a ``weekly``
    series' date that is not a Monday is told its week's Monday."""
    if weekly and meant.dayofweek != 0:
        monday = meant - pd.Timedelta(days=meant.dayofweek)
        return (
            f"{meant:%Y-%m-%d}, a {_DAY_NAMES[meant.dayofweek]}; the series is weekly: date "
            f"its week by its Monday, write {monday:%Y-%m-%d}"
        )
    if meant.is_month_end:
        return f"write {meant:%Y-%m-%d}, or {meant:%Y-%m}-01 if the series is monthly"
    return f"write {meant:%Y-%m-%d}"


_TWO_DIGIT_YEAR = re.compile(r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{2})\s*$")
_YEAR_FIRST = re.compile(r"^\s*(\d{4})[/.](\d{1,2})[/.](\d{1,2})\s*$")  # 2023/01/16
_MONTH_NAME = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.IGNORECASE
)
# a month as Excel shows one: Apr-11, Apr-2011, April 2011
_MONTHS = {
    name.lower(): i
    for i in range(1, 13)
    for name in (calendar.month_name[i], calendar.month_abbr[i], "sept" if i == 9 else "")
    if name
}
_MONTH_YEAR = re.compile(r"^\s*([a-z]{3,9})[-\s/]+(\d{2}|\d{4})\s*$", re.IGNORECASE)


def _other_written_date(text: str) -> str:
    """A date written with its month's name (02-Jan-2023, 2 January 2023) or year first with
    slashes (2023/01/16), which only one reading fits, with the date meant; else as written."""
    meant = None
    month_year = _MONTH_YEAR.match(text)
    if month_year and (month := _MONTHS.get(month_year.group(1).lower())):
        year = int(month_year.group(2))
        if year < 100:  # as Excel reads two-digit years: 00-29 this century, 30-99 the last
            year += 2000 if year < 30 else 1900
        return f"{text!r} (a month: write its 1st, {year}-{month:02d}-01)"
    if year_first := _YEAR_FIRST.match(text):
        year, month, day = (int(g) for g in year_first.groups())
        try:
            meant = pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            meant = None
    elif _MONTH_NAME.search(text) and re.search(r"\d{4}", text):
        try:
            meant = pd.Timestamp(pd.to_datetime(text.strip(), dayfirst=True))
        except (ValueError, OverflowError):
            meant = None
    if meant is None or pd.isna(meant):
        return _found_text(text)
    return f"{text!r} ({_write(meant)})"


def _month_first_reason(ids: pd.Series, ds_text: pd.Series, unread: pd.Series) -> str | None:
    """Why the file's slashed dates only make sense month first (as US software writes them),
    or None: day first stays the reading for UK files. Month first when some date's middle
    number exceeds 12 while no first number does (01/25/2026), or when, read day first, each
    series' dates would be consecutive days of one month (04/01/2011, 05/01/2011, ...: the 4th,
    5th, ... of January) while read month first they are the 1st of consecutive months."""
    if not unread.any():  # the common case: no work on a file's millions of good dates
        return None
    text = pd.Series(np.asarray(ds_text, dtype=object)[unread.to_numpy(dtype=bool)], dtype=object)
    parts = text.str.extract(_SLASHED.pattern).dropna()
    if parts.empty:
        return None
    first, second, year = (parts[i].astype(int) for i in range(3))
    if (first > MONTHS_PER_YEAR).any():
        return None
    late = second > MONTHS_PER_YEAR
    # one typo (01/13/2026 among a UK file's 01/04/2026, 01/05/2026 ...) is not a US export:
    # month first must explain a fair share of the dates
    if late.any() and late.mean() >= MONTH_FIRST_SHARE:
        example = str(text.loc[parts.index[late.to_numpy()][0]]).strip()
        return (
            f"read day first, {example!r} would be in month {second.max()}, and no date's "
            "first number is above 12"
        )
    if not (second == 1).all():
        return None
    sids = pd.Series(np.asarray(ids, dtype=object)[unread.to_numpy(dtype=bool)], dtype=object)
    months = pd.DataFrame({"sid": sids[parts.index], "month": year * MONTHS_PER_YEAR + first})
    longest = 0
    for _sid, group in months.groupby("sid"):
        steps = np.diff(np.unique(group["month"].to_numpy()))
        if (steps != 1).any():
            return None
        longest = max(longest, len(steps) + 1)
    if longest < MIN_MONTH_FIRST_RUN:
        return None
    return (
        "read day first, each series' dates would be consecutive days of January; read month "
        "first, they are the 1st of consecutive months"
    )


MONTHS_PER_YEAR = 12
MONTH_FIRST_SHARE = 0.2  # of a file's slashed dates, with a middle number above 12
MIN_MONTH_FIRST_RUN = 3  # dates in a series before a run of consecutive days says month first


def _month_first_date(reason: str) -> Callable[..., str]:
    """Describe an unread date of a file whose slashed dates are month first."""

    def describe(text: str, weekly: bool = False) -> str:
        match = _SLASHED.match(text)
        if match is None:
            return _found_text(text)
        month, day, year = (int(g) for g in match.groups())
        try:
            meant = pd.Timestamp(year=year, month=month, day=day)
        except ValueError:
            return _found_text(text)
        return (
            f"{text!r} (a spreadsheet date written month first, as US software writes it: "
            f"{reason}; {_write(meant, weekly)})"
        )

    return describe


def found_date(text: str, date: pd.Timestamp, frequency: str = "") -> str:
    """The date as written and what it is, with the date meant where that is plain: a month
    dated by its last day (month-end dates), a week by a day other than its Monday (such as
    "week ending" Sundays)."""
    if len(text) == len("YYYY-MM"):
        return f"{text!r} (a month, not a day)"
    day = _DAY_NAMES[date.dayofweek]
    if frequency == MONTHLY and date.is_month_end:
        return f"{text!r} (the last day of its month; date it by its 1st, {date:%Y-%m}-01)"
    monday = date - pd.Timedelta(days=date.dayofweek)
    if frequency == WEEKLY:
        return f"{text!r} (a {day}; date its week by its Monday, {monday:%Y-%m-%d})"
    # a series of one date (a month-end correction) shows no frequency: name both anchors
    end = ", the last day of its month" if date.is_month_end else ""
    return (
        f"{text!r} (a {day}{end}; date a month by its 1st, {date:%Y-%m}-01, or a week by "
        f"its Monday, {monday:%Y-%m-%d})"
    )


def _gappy_series(work: pd.DataFrame) -> frozenset[str]:
    """The ids of a checked file's series with missing periods (or wider spacing)."""
    summary = _series_summary(work.drop_duplicates(["sid", "ds"]))
    return frozenset(summary.loc[_gappy(summary), "unique_id"].astype(str))


def _gappy(summary: pd.DataFrame) -> pd.Index:
    """The series (``_series_summary``'s index) with fewer dates than periods they span."""
    first, last = summary["first_ds"], summary["last_ds"]
    weeks = (last - first).dt.days // 7 + 1
    months = (last.dt.year - first.dt.year) * 12 + (last.dt.month - first.dt.month) + 1
    expected_count = weeks.where(summary["frequency"] == WEEKLY, months)
    return summary.index[summary["n_dates"] < expected_count]


def _gap_problems(
    summary: pd.DataFrame, dated: pd.DataFrame, allow_gaps: bool = False
) -> list[Problem]:
    gappy = _gappy(summary)
    dates = dated[dated["sid"].isin(gappy)].groupby("sid")["ds"]
    problems = (
        _gap_problem(
            str(summary.at[sid, "unique_id"]),
            pd.DatetimeIndex(ds),
            str(summary.at[sid, "frequency"]),
            allow_gaps,
        )
        for sid, ds in dates
    )
    return [problem for problem in problems if problem is not None]


def _gap_problem(
    series_id: str, dates: pd.DatetimeIndex, frequency: str, allow_gaps: bool = False
) -> Problem | None:
    """The missing periods of a series, or None when ``allow_gaps`` leaves them to be filled
    in (at most half its periods; a mostly-missing series, such as a winter-only collection,
    would be forecast from lines drawn through the periods it never had)."""
    calendar = pd.date_range(dates.min(), dates.max(), freq=frequency)
    missing = calendar.difference(dates)
    unit = "week" if frequency == WEEKLY else "month"
    step = _regular_step(dates, frequency)
    if step > 1:
        return _coarse_problem(series_id, calendar, frequency, step, len(dates))
    if allow_gaps and len(missing) * 2 <= len(calendar):
        return None
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in missing[:5])
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    span = f"from {calendar[0]:%Y-%m-%d} to {calendar[-1]:%Y-%m-%d} ({frequency})"
    if allow_gaps:
        expected = f"a row for at least half the {unit}s {span}, to fill in the rest"
        found = f"{len(missing)} of {len(calendar)} {unit}s missing: {shown}{more}"
        return Problem(None, "ds", expected, found, series_id)
    found = f"{len(missing)} missing {unit}{'s' * (len(missing) > 1)}: {shown}{more}"
    return Problem(None, "ds", f"a row for every {unit} {span}", found, series_id)


_MISSING_PERIODS = re.compile(r"\d+ missing (week|month)s?: ")


def is_missing_periods(problem: Problem) -> bool:
    """Whether ``problem`` is a series' missing weeks or months, which ``allow_gaps`` would
    accept (not its coarse spacing, nor a gap a merge with stored history opened)."""
    return problem.row is None and _MISSING_PERIODS.match(problem.found) is not None


# Names for a series dated at a regular step coarser than its unit: (unit, step) -> figures.
_COARSE_NAMES = {
    ("month", 3): "quarterly figures",
    ("month", 6): "half-yearly figures",
    ("month", 12): "annual figures",
    ("week", 2): "fortnightly figures",
    ("week", 4): "four-weekly figures",
}
# Fewest dates whose common spacing says "every k periods" rather than "some periods missing".
MIN_DATES_FOR_A_STEP = 3


def _regular_step(dates: pd.DatetimeIndex, frequency: str) -> int:
    """The one spacing of ``dates`` in weeks or months when every step is the same and there
    are at least ``MIN_DATES_FOR_A_STEP`` dates (3 for a quarterly series), else 1."""
    ordered = dates.sort_values()
    if len(ordered) < MIN_DATES_FOR_A_STEP:
        return 1
    if frequency == WEEKLY:
        steps = np.diff(ordered.asi8) // pd.Timedelta(weeks=1).value
    else:
        steps = np.diff(np.asarray(ordered.year * 12 + ordered.month, dtype="int64"))
    return int(steps[0]) if bool((steps == steps[0]).all()) else 1


def _coarse_problem(
    series_id: str, calendar: pd.DatetimeIndex, frequency: str, step: int, n_dates: int
) -> Problem:
    """A series dated every ``step`` weeks or months (quarterly, annual figures): not a run of
    missing periods to fill, but a frequency Homeward does not forecast. Spread over months,
    a quarter's total would be forecast as one month's."""
    unit = "week" if frequency == WEEKLY else "month"
    name = _COARSE_NAMES.get((unit, step), f"figures every {step} {unit}s")
    expected = (
        "a weekly (W-MON) or monthly (MS) series, the only frequencies Homeward forecasts: "
        f"a row for every {unit} from {calendar[0]:%Y-%m-%d} to {calendar[-1]:%Y-%m-%d}"
    )
    found = f"{n_dates} rows, one every {step} {unit}s ({name}?)"
    return Problem(None, "ds", expected, found, series_id)


def _clean(work: pd.DataFrame) -> pd.DataFrame:
    # ``work`` is already in (unique_id, ds) order: series codes follow the ids' lexical order.
    return pd.DataFrame(
        {
            "unique_id": work["unique_id"].to_numpy(dtype=object),
            "ds": work["ds"].to_numpy(dtype="datetime64[ns]"),
            "y": work["y"].to_numpy(dtype="float64"),
        }
    )
