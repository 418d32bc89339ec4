"""Reads and writes of the service's tables; the only module that knows the table layout."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, TypeVar, TypeVarTuple

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    SQLColumnExpression,
    Subquery,
    delete,
    false,
    func,
    insert,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from forecast import ForecastSettings
from forecast.metrics import metric_names
from homeward import audit
from homeward.clock import utcnow
from homeward.errors import Problem, ValidationFailed, in_reading_order, source_label
from homeward.ingest import (
    EXPECTED_WEEKLY_DATE,
    FIRST_DATA_LINE,
    WEEKLY,
    Upload,
    frequencies_if_valid,
    frequency_of,
    observations_hash,
    period_at,
    period_notes,
    series_frequencies,
    validate_observations,
)
from homeward.recovery import UNFINISHED
from homeward.storage import lift_statement_timeout
from models import (
    ApiKeyRow,
    AuditEventRow,
    ForecastMetricRow,
    ForecastRow,
    ImportRow,
    LevelShiftRow,
    LockRow,
    ObservationRow,
    PlanningConfigRow,
    PlanRow,
    RunRow,
    SeriesRow,
)
from models.tables import AuditAction, RunKind, RunTrigger
from optimise.config import read_stored
from optimise.result import PlanStatus

_INSERT_CHUNK = 5_000
# The observations table itself: inserting into it, not the mapped class, skips the ORM's
# bookkeeping of each row (a third of the time of inserting a large upload's rows).
_OBSERVATIONS = ObservationRow.metadata.tables[ObservationRow.__tablename__]
_SERIES = SeriesRow.metadata.tables[SeriesRow.__tablename__]
_FORECAST_COLUMNS = {
    "mean": "mean",
    "lo-80": "lo_80",
    "hi-80": "hi_80",
    "lo-95": "lo_95",
    "hi-95": "hi_95",
}

_Row = TypeVarTuple("_Row")
_Item = TypeVar("_Item")

# The PostgreSQL advisory lock every transaction that stores observations takes first (the
# ASCII of "homeward", a bigint no other lock of this database uses). Storing is read-then-
# write: is this file stored already, which stored values does it revise, does its series
# exist yet, then delete its dates and insert. Two uploads doing that at once would both find
# a new series missing and both insert it (UniqueViolation on pk_series), or both delete the
# same dates before either inserts (pk_observations). Under the lock they take turns; it is
# released when the transaction commits or rolls back, so a failed upload never leaves it held.
OBSERVATIONS_LOCK_KEY = int.from_bytes(b"homeward", "big")

# The source `homeward demo` stores its invented history under: the one label that tells a
# series holding synthetic data from a council's own (see ``MixesWithSynthetic``).
SYNTHETIC_DEMO_SOURCE = "synthetic demo"


class MixesWithSynthetic(ValidationFailed):
    """A council's own upload sent to series that hold the synthetic demo's invented history:
    stored, its values would revise some synthetic periods and sit beside the rest, and every
    forecast and plan would mix the two. Refused whole; replacing those series' history whole
    (``replace``) is how real data takes their place. ``remedy`` says how, in the caller's terms
    (``with_remedy``)."""

    def __init__(
        self,
        problems: tuple[Problem, ...] | list[Problem],
        source: str,
        remedy: str = "send the file again replacing those series' history whole "
        "(`homeward import --replace FILE`, or POST /v1/observations?replace=true)",
    ) -> None:
        self.remedy = remedy
        super().__init__(problems, source)

    def _message(self) -> str:
        ids = ", ".join(f"'{p.series_id}'" for p in self.problems)
        noun = "series holds" if len(self.problems) == 1 else "series hold"
        return (
            f"{source_label(self.source)} was refused, nothing stored: {len(self.problems)} "
            f"{noun} the synthetic demo's invented history ({ids}), which real figures would "
            f"be merged into. To put your figures in its place, {self.remedy}"
        )

    def with_remedy(self, remedy: str) -> MixesWithSynthetic:
        """The same refusal, saying how to replace in the caller's terms."""
        return MixesWithSynthetic(self.problems, self.source, remedy)


@dataclass(frozen=True)
class ImportSummary:
    """What an accepted upload stored."""

    import_id: int
    rows: int
    series: tuple[str, ...]
    data_hash: str
    # True when these observations were already stored by import ``import_id`` and nothing
    # was stored again (see ``store_observations_once``).
    duplicate: bool = False
    # stored values this upload changed: history revised, not only new periods added (for a
    # duplicate, what the first upload changed; None if stored before that was recorded)
    revised: int | None = 0
    # whether the upload replaced its series' stored history whole (``replace``), and then how
    # many stored values of those series it deleted: all of them (``replaced``), of which
    # ``removed`` were at periods the upload does not have (0 and 0 without replace)
    replace: bool = False
    replaced: int = 0
    removed: int = 0
    # who stored it (homeward.audit); None if stored before that was recorded
    created_by: str | None = None


def _summary_of(row: ImportRow, series: tuple[str, ...], duplicate: bool) -> ImportSummary:
    return ImportSummary(
        row.id,
        row.rows,
        series,
        row.data_hash,
        duplicate=duplicate,
        revised=row.revised,
        replace=row.replaced is not None,
        replaced=row.replaced or 0,
        removed=row.removed or 0,
        created_by=row.created_by,
    )


def store_observations_once(
    session: Session,
    frame: pd.DataFrame,
    source: str,
    data_hash: str,
    lines: pd.Series | None = None,
    month_only: pd.Series | None = None,
    replace: bool = False,
    created_by: str | None = None,
) -> ImportSummary:
    """Store a validated long frame as ``store_observations`` does, unless the newest import
    with the same ``data_hash`` still holds every row it stored: then store nothing and return
    that import with ``duplicate`` set, so a retried upload is not stored twice.

    An import whose rows a later upload replaced, even one, is stored again: sending a file
    again is then how its figures are put back. With ``replace`` the import must also be all
    its series hold (a replace leaves nothing else in them), so a retried replace stores
    nothing while one sent to series that have gained other periods since replaces them again.
    Concurrent calls take turns (see ``OBSERVATIONS_LOCK_KEY``), so the same file sent twice at
    once is stored once. Series holding the synthetic demo are refused before anything else
    (``MixesWithSynthetic``), a retry included: its series are mixed already.
    """
    lock_observations(session)
    ids = tuple(sorted(frame["unique_id"].unique()))
    if not replace and source != SYNTHETIC_DEMO_SOURCE:
        _refuse_synthetic_series(session, frame, source, lines)
    stored = _import_still_whole(session, data_hash, ids, alone=replace)
    if stored is not None:
        return _summary_of(stored, ids, duplicate=True)
    return _store(session, frame, source, data_hash, lines, month_only, replace, created_by)


def _refuse_synthetic_series(
    session: Session, frame: pd.DataFrame, source: str, lines: pd.Series | None
) -> None:
    """MixesWithSynthetic naming each of ``frame``'s series that holds values stored by the
    synthetic demo, at its first row in the file (when ``lines`` gives the file's lines)."""
    stmt = (
        select(ObservationRow.series_id, func.count(), func.min(ObservationRow.import_id))
        .join(ImportRow, ObservationRow.import_id == ImportRow.id)
        .where(
            ObservationRow.series_id.in_(list(frame["unique_id"].unique())),
            ImportRow.source == SYNTHETIC_DEMO_SOURCE,
        )
        .group_by(ObservationRow.series_id)
        .order_by(ObservationRow.series_id)
    )
    synthetic = session.execute(stmt).all()
    if not synthetic:
        return
    first_line = (
        lines.groupby(frame["unique_id"]).min() if lines is not None else pd.Series(dtype="int64")
    )
    problems = [
        Problem(
            int(first_line[series_id]) if series_id in first_line.index else None,
            "unique_id",
            "a series without the synthetic demo's history, or the upload sent as a replace "
            "of its history",
            f"'{series_id}' holds {count:,} synthetic values (stored by import {import_id}, "
            f"'{SYNTHETIC_DEMO_SOURCE}')",
            str(series_id),
        )
        for series_id, count, import_id in synthetic
    ]
    raise MixesWithSynthetic(in_reading_order(problems), source)


def lock_observations(session: Session) -> None:
    """Wait for, then hold until this transaction ends, the right to store observations, so
    concurrent uploads are stored one after the other (taken twice, it is simply held).

    PostgreSQL: the transaction-scoped advisory lock ``OBSERVATIONS_LOCK_KEY``. SQLite: its
    one write lock, taken now by a write that changes nothing. SQLite writes one transaction
    at a time anyway, but Python's driver only begins a transaction at the first write, so
    without this the reads before it (is this file stored already?) would not wait: the same
    file sent twice at once would be stored twice. Others wait up to busy_timeout (30 s).
    On PostgreSQL neither the wait (behind a council-sized upload, which can hold the lock for
    minutes) nor the upload's own writes are held to the statement timeout: an upload that
    waited 60 s was a 503 "database unavailable", though the database was answering.
    """
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        lift_statement_timeout(session)
        session.execute(select(func.pg_advisory_xact_lock(OBSERVATIONS_LOCK_KEY)))
    elif dialect == "sqlite":
        nothing = update(ImportRow).where(false()).values(rows=ImportRow.rows)
        session.execute(nothing.execution_options(synchronize_session=False))


def _import_still_whole(
    session: Session, data_hash: str, series_ids: Sequence[str], alone: bool = False
) -> ImportRow | None:
    """The newest import with ``data_hash`` if none of its rows has been replaced since (and,
    if ``alone``, its series hold no other rows: what a replace with it would leave).

    Only the newest can be: an older import with the same hash held the same (series, date)
    rows, so the newest replaced every one of them.
    """
    newest = session.scalars(
        select(ImportRow)
        .where(ImportRow.data_hash == data_hash)
        .order_by(ImportRow.id.desc())
        .limit(1)
    ).first()
    if newest is None:
        return None
    still_stored = session.scalar(
        select(func.count())
        .select_from(ObservationRow)
        .where(
            ObservationRow.series_id.in_(list(series_ids)), ObservationRow.import_id == newest.id
        )
    )
    if still_stored != newest.rows:
        return None
    if alone:
        held = session.scalar(
            select(func.count())
            .select_from(ObservationRow)
            .where(ObservationRow.series_id.in_(list(series_ids)))
        )
        if held != newest.rows:
            return None
    return newest


def store_observations(
    session: Session,
    frame: pd.DataFrame,
    source: str,
    data_hash: str,
    lines: pd.Series | None = None,
    month_only: pd.Series | None = None,
    replace: bool = False,
    created_by: str | None = None,
) -> ImportSummary:
    """Store a validated long frame whole; its rows replace stored rows of the same dates, or
    with ``replace`` every stored row of its series (a history restated whole, or a council's
    own figures in place of the synthetic demo's); series not in it are untouched.

    Unless ``replace``, or ``source`` is the synthetic demo itself, series holding the
    synthetic demo's history are refused (MixesWithSynthetic) before anything is written.

    Raises ValidationFailed (and the caller's transaction rolls back) if a merged series would
    be invalid (a gap, a date off its calendar, a month ``YYYY-MM`` in a series its stored
    history shows is weekly), so a rejected upload changes nothing. With ``lines`` (each row's
    line in the user's file, indexed as ``frame``: ``ingest.Upload``) every such problem names
    the row of the file at fault; ``month_only`` (``ingest.Upload.month_only``) says which
    rows' dates were written as months. Takes ``lock_observations`` first: concurrent uploads
    are stored one after the other. ``created_by``: who stored it (homeward.audit).
    """
    lock_observations(session)
    if not replace and source != SYNTHETIC_DEMO_SOURCE:
        _refuse_synthetic_series(session, frame, source, lines)
    return _store(session, frame, source, data_hash, lines, month_only, replace, created_by)


def _store(
    session: Session,
    frame: pd.DataFrame,
    source: str,
    data_hash: str,
    lines: pd.Series | None,
    month_only: pd.Series | None,
    replace: bool,
    created_by: str | None,
) -> ImportSummary:
    """``store_observations`` once the lock is held and the synthetic demo's series checked."""
    imp = ImportRow(
        source=source[:500],
        rows=len(frame),
        series_count=frame["unique_id"].nunique(),
        data_hash=data_hash,
        created_at=utcnow(),
        created_by=created_by,
    )
    session.add(imp)
    session.flush()
    ids = tuple(sorted(frame["unique_id"].unique()))
    stored = _stored_history(session, ids)
    imp.revised, changed = _revisions(stored, frame)
    if replace:
        imp.replaced, imp.removed, shrunk = _replaced_counts(stored, frame)
        changed |= shrunk
    _delete_replaced(session, frame, replace)
    _ensure_series_rows(session, frame)
    _insert_observations(session, frame, imp.id)
    merged = _merged(stored, frame, replace)
    _refresh_series(session, ids, source, merged, _upload_rows(frame, lines, month_only), changed)
    if created_by is not None:
        record_audit(
            session,
            created_by,
            "upload",
            import_id=imp.id,
            source=imp.source,
            rows=imp.rows,
            series=list(ids),
            revised=imp.revised,
            replace=replace,
            replaced=imp.replaced,
            removed=imp.removed,
        )
    return _summary_of(imp, ids, duplicate=False)


# Series and dates per DELETE ... IN (...) AND ... IN (...): well under SQLite's and
# PostgreSQL's limits on parameters.
_DELETE_CHUNK = 500


def _delete_replaced(session: Session, frame: pd.DataFrame, replace: bool) -> None:
    """Delete the stored rows an upload's rows take the place of: every row of its series
    with ``replace``, else those at the dates the upload has for each series only, so a
    stored month a correction skips (2026-08 between its 2026-07 and 2026-09) stays stored.
    Series sent with the same dates (most of a council's file) are deleted together."""
    if replace:
        for some_ids in _chunks(sorted(str(i) for i in frame["unique_id"].unique())):
            session.execute(delete(ObservationRow).where(ObservationRow.series_id.in_(some_ids)))
        return
    for dates, series_ids in _series_by_dates(frame).items():
        for some_ids in _chunks(series_ids):
            of_series = delete(ObservationRow).where(ObservationRow.series_id.in_(some_ids))
            for some_dates in _chunks(dates):
                session.execute(of_series.where(ObservationRow.ds.in_(some_dates)))


def _series_by_dates(frame: pd.DataFrame) -> dict[tuple[datetime, ...], list[str]]:
    """`frame`'s series ids, in order, by the dates each has, in order. Read from arrays
    (a DatetimeIndex built for each series took 3 s of 12,000 series' upload)."""
    ordered = frame.sort_values(["unique_id", "ds"], kind="stable")
    ids = ordered["unique_id"].to_numpy()
    nanoseconds = ordered["ds"].to_numpy(dtype="datetime64[ns]").astype("int64")
    starts = np.flatnonzero(np.r_[True, ids[1:] != ids[:-1]])
    by_dates: dict[tuple[int, ...], list[str]] = {}
    for series_id, dates in zip(ids[starts], np.split(nanoseconds, starts[1:]), strict=True):
        by_dates.setdefault(tuple(dates.tolist()), []).append(str(series_id))
    distinct = np.unique(nanoseconds)
    as_datetime = dict(
        zip(distinct.tolist(), pd.to_datetime(distinct).to_pydatetime(), strict=True)
    )
    return {tuple(as_datetime[d] for d in dates): some for dates, some in by_dates.items()}


def _chunks(items: Sequence[_Item]) -> Iterator[Sequence[_Item]]:
    for start in range(0, len(items), _DELETE_CHUNK):
        yield items[start : start + _DELETE_CHUNK]


def _stored_history(session: Session, ids: Sequence[str]) -> pd.DataFrame:
    """The stored observations of series ``ids`` (unique_id, ds, y; in no set order), read
    once for all that storing an upload needs of them (``_revisions``, ``_replaced_counts``,
    ``_merged``): each read of a large upload's series took seconds. Read through the
    connection, not the ORM, whose bookkeeping of each row took a quarter of the time; the
    only rows the session may hold unwritten are the upload's own ``ImportRow``, flushed."""
    stmt = select(ObservationRow.series_id, ObservationRow.ds, ObservationRow.y)
    rows = [
        row
        for some_ids in _chunks(list(ids))
        for row in session.connection().execute(stmt.where(ObservationRow.series_id.in_(some_ids)))
    ]
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    frame["unique_id"] = frame["unique_id"].astype(object)
    frame["ds"] = pd.to_datetime(frame["ds"]).astype("datetime64[ns]")
    frame["y"] = frame["y"].astype("float64")
    return frame


def _merged(stored: pd.DataFrame, frame: pd.DataFrame, replace: bool) -> pd.DataFrame:
    """The series as stored once `frame` is, as ``load_observations`` reads them after it:
    its rows, and the ``stored`` rows of other dates, unless `replace`; sorted by series and
    date, typed as read (a caller's frame may hold nullable floats or categorical ids)."""
    upload = pd.DataFrame(
        {
            "unique_id": frame["unique_id"].astype(str).to_numpy(dtype=object),
            "ds": pd.DatetimeIndex(frame["ds"]).as_unit("ns"),
            "y": frame["y"].to_numpy(dtype="float64"),
        }
    )
    kept = stored.iloc[0:0] if replace else stored[~_keys(stored).isin(_keys(upload))]
    both = pd.concat([kept, upload], ignore_index=True)
    return both.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)


def _keys(frame: pd.DataFrame) -> pd.MultiIndex:
    return pd.MultiIndex.from_arrays([frame["unique_id"], frame["ds"]])


def _replaced_counts(stored: pd.DataFrame, frame: pd.DataFrame) -> tuple[int, int, set[str]]:
    """How many stored values `frame`'s series hold (`stored`: a replace deletes them all),
    how many of those are at periods `frame` does not have (deleted without a value in their
    place), and the series that lose such periods."""
    if stored.empty:
        return 0, 0, set()
    removed = ~_keys(stored).isin(_keys(frame))
    return len(stored), int(removed.sum()), set(stored.loc[removed, "unique_id"].astype(str))


def _revisions(stored: pd.DataFrame, frame: pd.DataFrame) -> tuple[int, set[str]]:
    """How many of `frame`'s (series, date) rows are stored already (`stored`: its series'
    stored history) with another value, and the series whose stored values it changes: those
    it revises or adds a period to."""
    both = frame[["unique_id", "ds", "y"]].merge(
        stored.rename(columns={"y": "y_stored"}), on=["unique_id", "ds"], how="left"
    )
    y_stored = both["y_stored"].astype("float64")
    found = y_stored.notna()
    revised = found & ~np.isclose(both["y"], y_stored, rtol=0.0, atol=1e-9)
    return int(revised.sum()), set(both.loc[revised | ~found, "unique_id"].astype(str))


def _ensure_series_rows(session: Session, frame: pd.DataFrame) -> None:
    """A row for each of `frame`'s series not stored yet, its extent and frequency `frame`'s
    (``_refresh_series`` then sets them as merged)."""
    ids = list(frame["unique_id"].unique())
    stored = set(session.scalars(select(SeriesRow.id).where(SeriesRow.id.in_(ids))))
    new = frame[~frame["unique_id"].isin(stored)]
    if new.empty:
        return
    frequencies = series_frequencies(new)
    extents = new.groupby("unique_id", sort=True)["ds"].agg(["min", "max", "size"])
    now = utcnow()
    # into the table, not through the ORM: its bookkeeping of each new row took most of the
    # time for a first upload of 12,000 series (``_refresh_series`` loads them after)
    rows = [
        {
            "id": str(series_id),
            "freq": frequencies[str(series_id)],
            "first_ds": first.to_pydatetime(),
            "last_ds": last.to_pydatetime(),
            "n_obs": int(n_obs),
            "updated_at": now,
        }
        for series_id, first, last, n_obs in extents.itertuples()
    ]
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(insert(_SERIES), rows[start : start + _INSERT_CHUNK])


def _insert_observations(session: Session, frame: pd.DataFrame, import_id: int) -> None:
    """Insert `frame`'s rows (unique_id, ds, y) as stored by import `import_id`, through the
    driver: SQLAlchemy's binding of each row's parameters was most of the time of storing a
    large upload. Each column's value is what SQLAlchemy would bind for it (its type's bind
    processor for this database: SQLite's text of a date), worked out once per distinct date
    rather than per row. On PostgreSQL through psycopg the rows are copied (COPY), a third of
    the time of inserting them one statement a row; elsewhere, the driver's executemany."""
    connection = session.connection()
    dialect = connection.dialect
    codes, dates = pd.factorize(frame["ds"])
    columns = {
        "series_id": frame["unique_id"].astype(str).tolist(),
        "ds": _bound(dialect, "ds", pd.DatetimeIndex(dates).to_pydatetime(), codes),
        "y": frame["y"].astype("float64").tolist(),
        "import_id": [import_id] * len(frame),
    }
    for name in ("series_id", "y", "import_id"):
        columns[name] = _bound(dialect, name, columns[name])
    if dialect.name == "postgresql" and dialect.driver == "psycopg":
        _copy_observations(connection, columns)
        return
    compiled = insert(_OBSERVATIONS).compile(dialect=dialect)
    names = list(compiled.positiontup or []) if compiled.positional else list(columns)
    rows: list[Any] = list(zip(*(columns[name] for name in names), strict=True))
    if not compiled.positional:  # named parameters
        rows = [dict(zip(names, row, strict=True)) for row in rows]
    for start in range(0, len(rows), _INSERT_CHUNK):
        connection.exec_driver_sql(str(compiled), rows[start : start + _INSERT_CHUNK])


def _copy_observations(connection: Connection, columns: dict[str, list[Any]]) -> None:
    """COPY rows (`columns`: a list of values by column name) into the observations table in
    the connection's transaction (psycopg 3). A failure is raised as SQLAlchemy raises a
    statement's (``sqlalchemy.exc.OperationalError`` for a server gone, ...), as the API's
    error handlers expect."""
    names = list(columns)
    sql = f"COPY {_OBSERVATIONS.name} ({', '.join(names)}) FROM STDIN"
    driver = connection.connection.driver_connection
    assert driver is not None  # a connection in use has its driver's connection
    try:
        with driver.cursor() as cursor, cursor.copy(sql) as copy:
            for row in zip(*(columns[name] for name in names), strict=True):
                copy.write_row(row)
    except connection.dialect.loaded_dbapi.Error as exc:
        raise DBAPIError.instance(sql, None, exc, connection.dialect.loaded_dbapi.Error) from exc


def _bound(dialect: Any, column: str, values: Any, codes: np.ndarray | None = None) -> list[Any]:
    """`values` of an observations column as its type binds them on `dialect`; with `codes`,
    `values` are the distinct values and the result is one a row (``values[codes]``)."""
    processor = _OBSERVATIONS.c[column].type.dialect_impl(dialect).bind_processor(dialect)
    bound = [processor(v) for v in values] if processor is not None else list(values)
    return bound if codes is None else [bound[code] for code in codes.tolist()]


def _upload_rows(
    frame: pd.DataFrame, lines: pd.Series | None, month_only: pd.Series | None
) -> pd.DataFrame:
    """The upload's (unique_id, ds), the file line of each row (line -1 when not known) and
    whether its date was written as a month (False when not known)."""
    known = lines if lines is not None else pd.Series(-1, index=frame.index)
    months = month_only if month_only is not None else pd.Series(False, index=frame.index)
    return pd.DataFrame(
        {
            "unique_id": frame["unique_id"],
            "ds": frame["ds"],
            "line": known.astype("int64"),
            "month_only": months.astype(bool),
        }
    )


def _refresh_series(
    session: Session,
    ids: Sequence[str],
    source: str,
    merged: pd.DataFrame,
    uploaded: pd.DataFrame,
    changed: set[str],
) -> None:
    """Check each merged series (`merged`: as stored now, ``_merged``) and update its extent;
    `updated_at` moves only for a series whose stored values changed (`changed`, as
    ``_revisions`` and a replace's ``_replaced_counts`` find), so a forecast's
    `history_changed` is not set by figures sent again unchanged. All series at once: one
    check, one update of each row."""
    frequencies = frequencies_if_valid(merged)
    if frequencies is None:  # a problem, maybe: checked as text, for its wording
        frequencies = _checked_frequencies(merged, source, uploaded)
    month_problems = _months_in_weekly_series(uploaded, frequencies)
    if month_problems:
        raise ValidationFailed(month_problems, f"{source} (merged with stored history)")
    extents = merged.groupby("unique_id", sort=True)["ds"].agg(["min", "max", "size"])
    rows = {row.id: row for row in session.scalars(select(SeriesRow).where(SeriesRow.id.in_(ids)))}
    for series_id, first, last, n_obs in extents.itertuples():
        row = rows[str(series_id)]
        row.freq = frequencies[str(series_id)]
        row.first_ds, row.last_ds = first.to_pydatetime(), last.to_pydatetime()
        row.n_obs = int(n_obs)
        if str(series_id) in changed:
            row.updated_at = utcnow()


def _checked_frequencies(
    merged: pd.DataFrame, source: str, uploaded: pd.DataFrame
) -> dict[str, str]:
    """Each merged series' frequency once ``validate_observations`` accepts them as text, or
    its problems, each named by the upload's row at fault (``_MergedRows``)."""
    try:
        validate_observations(_as_text(merged), source=source)
    except ValidationFailed as exc:
        located = _MergedRows(merged, uploaded)
        problems = [located.problem(p) for p in exc.problems]
        merged_any = any(p.found.endswith(_AFTER_MERGING) for p in problems)
        label = f"{source} (merged with stored history)" if merged_any else source
        raise ValidationFailed(in_reading_order(problems), label) from exc
    return series_frequencies(merged)


def _months_in_weekly_series(
    uploaded: pd.DataFrame, frequencies: dict[str, str]
) -> tuple[Problem, ...]:
    """A date written as a month (YYYY-MM) names a whole month, never a week: it reads as the
    month's 1st, which the file alone may not show is wrong (one row is fine monthly) but a
    weekly stored history does, even when that 1st happens to be a Monday."""
    weekly = uploaded["unique_id"].map(frequencies).eq(WEEKLY)
    bad = uploaded[uploaded["month_only"] & weekly].sort_values("line")
    return tuple(
        Problem(
            line if line > 0 else None,
            "ds",
            EXPECTED_WEEKLY_DATE,
            f"'{pd.Timestamp(ds):%Y-%m}' (a month, not a day; the series' stored history is "
            "weekly)",
            str(series_id),
        )
        for series_id, ds, line in bad[["unique_id", "ds", "line"]].itertuples(index=False)
    )


_AFTER_MERGING = " (after merging with stored history)"
# the periods a gap's problem lists ("2 missing months: 2026-02-01, 2026-05-01")
_MISSING_LISTED = re.compile(r"^\d+ missing (?:week|month)s?: ([\d\-, ]+)")


class _MergedRows:
    """Problems of merged series (stored history and an upload) located in the upload's file.

    A problem's row numbers the merged frame (first row = 2), not the user's file: it becomes
    the file line of that upload row. A gap names the upload's first row after it, and is the
    merge's only where a stored row borders it (else the file's rows alone leave it). Another
    whole-series problem (mixed spacing) or one at a stored row names the upload's row beside
    the stored history: its first row of the series if it starts after the history does, else
    its last.
    """

    def __init__(self, merged: pd.DataFrame, uploaded: pd.DataFrame) -> None:
        keys = pd.MultiIndex.from_frame(uploaded[["unique_id", "ds"]])
        self._line_of = pd.Series(uploaded["line"].to_numpy(), index=keys)
        self._merged = merged.reset_index(drop=True)
        self._uploaded = uploaded
        stored = ~pd.MultiIndex.from_frame(self._merged[["unique_id", "ds"]]).isin(keys)
        self._with_history = set(self._merged.loc[stored, "unique_id"].astype(str))

    def merged_with_history(self, series_id: str | None) -> bool:
        """Whether the series keeps stored rows beside the upload's (not a first upload of
        it, nor a replace of its history): else its problems are the file's own."""
        return series_id is None or series_id in self._with_history

    def problem(self, problem: Problem) -> Problem:
        row = self._upload_line(problem.row)
        if not self.merged_with_history(problem.series_id):  # the file's own, as it reads
            return replace(problem, row=row if row is not None and row > 0 else None)
        if row is None and problem.series_id is not None:
            gap = self._gap(problem.series_id, problem.found)
            if gap is not None and not gap.bordered_by_history:
                return replace(problem, row=gap.row if gap.row > 0 else None)
            row = gap.row if gap is not None else self._beside_history(problem.series_id)
        return replace(
            problem,
            row=row if row is not None and row > 0 else None,
            found=f"{problem.found}{_AFTER_MERGING}",
        )

    def _gap(self, series_id: str, found: str) -> _Gap | None:
        """Where a gap's problem (``found``, as ``ingest`` words it) sits among the upload's
        rows of the series; None for any other problem."""
        listed = _MISSING_LISTED.match(found)
        if listed is None:
            return None
        missing = pd.DatetimeIndex(pd.to_datetime(listed.group(1).replace(" ", "").split(",")))
        have = pd.DatetimeIndex(self._merged.loc[self._merged["unique_id"] == series_id, "ds"])
        mine = self._uploaded[self._uploaded["unique_id"] == series_id].sort_values("ds")
        if mine.empty:
            return None
        borders = {have[have < day].max() for day in missing}
        borders |= {have[have > day].min() for day in missing}
        after = mine.loc[mine["ds"] > missing.min(), "line"]
        row = int(after.iloc[0] if not after.empty else mine["line"].iloc[-1])
        return _Gap(row, bordered_by_history=not borders <= set(pd.DatetimeIndex(mine["ds"])))

    def _upload_line(self, merged_row: int | None) -> int | None:
        if merged_row is None:
            return None
        at = self._merged.iloc[merged_row - FIRST_DATA_LINE]
        line = self._line_of.get((at["unique_id"], at["ds"]))
        return None if line is None else int(line)

    def _beside_history(self, series_id: str) -> int | None:
        mine = self._uploaded[self._uploaded["unique_id"] == series_id]
        if mine.empty:
            return None
        history = self._merged.loc[self._merged["unique_id"] == series_id, "ds"]
        lines = mine.sort_values("ds")["line"].to_numpy()
        return int(lines[0] if mine["ds"].min() > history.min() else lines[-1])


@dataclass(frozen=True)
class _Gap:
    """A merged series' gap: the upload's row to name (its first after the gap) and whether a
    stored row borders the gap (the merge's gap, not the file's own)."""

    row: int
    bordered_by_history: bool


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": frame["unique_id"].astype(str),
            "ds": frame["ds"].dt.strftime("%Y-%m-%d"),
            "y": frame["y"].map(repr),
        }
    )


def load_observations(
    session: Session,
    series_ids: Sequence[str] | None = None,
    prefix: str | None = None,
    after: datetime | None = None,
) -> pd.DataFrame:
    """Stored observations as a long frame (unique_id, ds, y), sorted; only those dated after
    `after` when it is given."""
    stmt = select(ObservationRow.series_id, ObservationRow.ds, ObservationRow.y)
    if after is not None:
        stmt = stmt.where(ObservationRow.ds > after)
    if series_ids is not None:
        stmt = stmt.where(ObservationRow.series_id.in_(list(series_ids)))
    if prefix is not None:
        stmt = stmt.where(ObservationRow.series_id.startswith(prefix, autoescape=True))
    rows = session.execute(stmt.order_by(ObservationRow.series_id, ObservationRow.ds)).all()
    frame = pd.DataFrame(rows, columns=["unique_id", "ds", "y"])
    frame["ds"] = pd.to_datetime(frame["ds"])
    frame["y"] = frame["y"].astype(float)
    return frame


def newest_import_sources(session: Session, prefix: str | None = None) -> dict[str, str]:
    """Each stored series' (optionally those under prefix) source of the newest import that
    still holds some of its values, e.g. ``SYNTHETIC_DEMO_SOURCE``, by series id."""
    newest = select(ObservationRow.series_id, func.max(ObservationRow.import_id).label("import_id"))
    if prefix:
        newest = newest.where(ObservationRow.series_id.startswith(prefix, autoescape=True))
    sub = newest.group_by(ObservationRow.series_id).subquery()
    stmt = select(sub.c.series_id, ImportRow.source).join(
        ImportRow, ImportRow.id == sub.c.import_id
    )
    return {str(series_id): str(source) for series_id, source in session.execute(stmt)}


def stored_frequencies(session: Session) -> dict[str, str]:
    """{series id: its frequency, ``W-MON`` or ``MS``} of every series with stored history:
    what an upload is to be merged with (``ingest.ParsedUpload.judged``'s ``stored``). Read
    from the series table, one row per series, not from the observations."""
    stmt = select(SeriesRow.id, SeriesRow.freq).where(SeriesRow.n_obs > 0)
    return {str(series_id): str(freq) for series_id, freq in session.execute(stmt)}


def read_as_stored(session: Session, read: Callable[[Mapping[str, str]], Upload]) -> Upload:
    """An upload judged (``read``: ``ingest.ParsedUpload.judged`` given
    ``stored_frequencies``) against what is stored once ``lock_observations`` is held, as
    storing it will find it; the lock is then held until the transaction ends.

    The file is parsed by the caller and judged first before the lock is taken, so that a
    large one keeps no other writer waiting; with the lock, the stored frequencies are read
    again, and if another upload or a delete changed those of the file's series meanwhile (a
    first upload of a series whose periods this file's gaps leave to the merge), the file is
    judged again with them. A refusal is judged again likewise where what is stored has
    changed since (it may rest on what was stored before); else it is answered at once,
    without waiting for the lock: a file refused for a value such as `abc` waited for
    another's whole upload."""
    before = stored_frequencies(session)
    try:
        upload = read(before)
    except ValidationFailed:
        if stored_frequencies(session) == before:
            raise
        lock_observations(session)
        return read(stored_frequencies(session))
    lock_observations(session)
    now = stored_frequencies(session)
    ids = [str(series_id) for series_id in upload.frame["unique_id"].unique()]
    return upload if all(now.get(i) == before.get(i) for i in ids) else read(now)


def store_upload(
    session: Session,
    judge: Callable[[Mapping[str, str]], Upload],
    source: str,
    replace: bool,
    created_by: str | None = None,
) -> ImportSummary:
    """Store a parsed long file (``judge``: ``ingest.ParsedUpload.judged``, or what gives the
    same ``Upload``) as ``store_observations_once`` does, judged against what is stored when
    it is written (``read_as_stored``; with ``replace`` nothing stored is kept to merge with,
    so against nothing): the one path of ``POST /v1/observations`` and ``homeward import``.
    Raises ValidationFailed for a refused file, having stored nothing."""
    upload = judge({}) if replace else read_as_stored(session, judge)
    frame = upload.frame
    return store_observations_once(
        session,
        frame,
        source,
        observations_hash(frame),
        upload.lines,
        upload.month_only,
        replace=replace,
        created_by=created_by,
    )


def list_series(session: Session, prefix: str | None = None) -> list[SeriesRow]:
    """Every stored series (optionally those whose id starts with prefix), by id."""
    stmt = select(SeriesRow).order_by(SeriesRow.id)
    if prefix:
        stmt = stmt.where(SeriesRow.id.startswith(prefix, autoescape=True))
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class ForecastOnlySeries:
    """A series with a stored forecast but no observations: a total the pipeline adds up from
    other series' forecasts (e.g. `referrals_area/ot`). `freq` is read off its newest forecast."""

    id: str
    freq: str


def list_forecast_only_series(
    session: Session, prefix: str | None = None
) -> list[ForecastOnlySeries]:
    """Every series with a forecast but no stored history (optionally under prefix), by id."""
    newest = select(ForecastRow.series_id, func.max(ForecastRow.run_id).label("run_id")).where(
        ForecastRow.series_id.not_in(select(SeriesRow.id)), served_forecasts(session)
    )
    if prefix:
        newest = newest.where(ForecastRow.series_id.startswith(prefix, autoescape=True))
    sub = newest.group_by(ForecastRow.series_id).subquery()
    stmt = select(ForecastRow.series_id, ForecastRow.ds).join(
        sub, (ForecastRow.series_id == sub.c.series_id) & (ForecastRow.run_id == sub.c.run_id)
    )
    rows = pd.DataFrame(
        session.execute(stmt.order_by(ForecastRow.series_id, ForecastRow.ds)).all(),
        columns=["series_id", "ds"],
    )
    return [
        ForecastOnlySeries(str(series_id), frequency_of(group["ds"]))
        for series_id, group in rows.groupby("series_id", sort=True)
    ]


@dataclass(frozen=True)
class DeletedSeries:
    """What deleting a series removed: its stored values, and the forecast rows of every run
    that forecast it (metrics and level shifts with them)."""

    series_id: str
    observations: int
    forecast_rows: int


def delete_series(session: Session, series_id: str) -> DeletedSeries | None:
    """Delete a stored series whole: its history, its row, and every run's forecasts, backtest
    metrics and level shifts of it (left, the newest would be served and planned from as if
    current, and the series listed as a total); a forecast-only total (`referrals_area/ot`,
    listed by GET /v1/series) likewise, its forecasts being all it has. None, deleting
    nothing, if it has neither history nor forecast. Takes the observations lock, as uploads
    do."""
    lock_observations(session)
    count = select(func.count())
    forecasts = session.scalar(
        count.select_from(ForecastRow).where(ForecastRow.series_id == series_id)
    )
    if session.get(SeriesRow, series_id) is None and not forecasts:
        return None
    observations = session.scalar(
        count.select_from(ObservationRow).where(ObservationRow.series_id == series_id)
    )
    for table in (ObservationRow, ForecastRow, ForecastMetricRow, LevelShiftRow):
        session.execute(delete(table).where(table.series_id == series_id))
    session.execute(delete(SeriesRow).where(SeriesRow.id == series_id))
    return DeletedSeries(series_id, int(observations or 0), int(forecasts or 0))


def series_to_delete(session: Session, prefix: str | None, synthetic: bool) -> list[str]:
    """The ids of the series under `prefix` (every one if None), by id: stored ones and
    forecast-only totals; with `synthetic`, only the stored series whose newest import still
    holding values is the synthetic demo's (a series whose history a council replaced with
    its own is not): which totals go with them is `planning.series_to_delete`'s to say."""
    ids = [row.id for row in list_series(session, prefix)]
    if not synthetic:
        return sorted([*ids, *(s.id for s in list_forecast_only_series(session, prefix))])
    sources = newest_import_sources(session, prefix)
    return [uid for uid in ids if sources.get(uid) == SYNTHETIC_DEMO_SOURCE]


def delete_many_series(session: Session, series_ids: Sequence[str]) -> list[DeletedSeries]:
    """Delete each of `series_ids` whole, as `delete_series` does, in the caller's one
    transaction (all or none); a series not stored is passed over."""
    deleted = (delete_series(session, uid) for uid in series_ids)
    return [d for d in deleted if d is not None]


def count_observations(session: Session) -> int:
    """How many observation rows are stored."""
    return int(session.scalar(select(func.count()).select_from(ObservationRow)) or 0)


def save_config(
    session: Session,
    body: dict[str, Any],
    body_hash: str,
    scenario: bool = False,
    apart: bool = False,
    created_by: str | None = None,
) -> PlanningConfigRow:
    """Store a planning config; unless it is a scenario it becomes the active one.

    The same content is not stored twice in a row: the active config is returned when it
    matches. A scenario with the active config's content is the active config (a plan made
    with it is one of the active config's plans) unless `apart` (a fee sweep's: its plans are
    never the latest plan, whatever rate they try); otherwise it reuses a stored scenario with
    the same content, never an older config that was once active, so a what-if is never
    taken for a real plan. A config kept rather than stored keeps its own `created_by`
    (who stored it first): the audit trail says who sent it again.
    """
    existing = (
        _config_for_scenario(session, body, body_hash, apart)
        if scenario
        else active_config(session)
    )
    if existing is not None and (scenario or existing.body_hash == body_hash):
        return existing
    row = PlanningConfigRow(
        name=str(body.get("name", "unnamed")),
        version=str(body.get("version", "")),
        body=body,
        body_hash=body_hash,
        created_at=utcnow(),
        scenario=scenario,
        created_by=created_by,
    )
    session.add(row)
    session.flush()
    if created_by is not None and not scenario:  # a what-if's: its plan's entry names it
        record_audit(
            session,
            created_by,
            "store_config",
            config_id=row.id,
            name=row.name,
            version=row.version,
        )
    return row


def _config_for_scenario(
    session: Session, body: dict[str, Any], body_hash: str, apart: bool = False
) -> PlanningConfigRow | None:
    """The active config if it holds the same planning config as `body` (and not `apart`),
    else the newest stored scenario with the same content hash, else None."""
    active = None if apart else active_config(session)
    if active is not None and (
        active.body_hash == body_hash or _same_planning_config(active.body, body)
    ):
        return active
    stmt = select(PlanningConfigRow).where(
        PlanningConfigRow.body_hash == body_hash, PlanningConfigRow.scenario.is_(True)
    )
    return session.scalars(stmt.order_by(PlanningConfigRow.id.desc())).first()


def _same_planning_config(stored: dict[str, Any], body: dict[str, Any]) -> bool:
    """Whether two config bodies read as the same planning config.

    A config may be stored as written (the demo's leaves defaults out) while a plan request
    stores its validated form with every default filled in, so their hashes differ.
    """
    try:
        canonical = [read_stored(b).model_dump(mode="json") for b in (stored, body)]
    except ValueError:  # an invalid stored config is nobody's plan
        return False
    return canonical[0] == canonical[1]


def active_config(session: Session) -> PlanningConfigRow | None:
    """The newest stored config that is not a scenario: the one the scheduler plans with."""
    stmt = select(PlanningConfigRow).where(PlanningConfigRow.scenario.is_(False))
    return session.scalars(stmt.order_by(PlanningConfigRow.id.desc())).first()


def active_config_id(session: Session) -> int | None:
    """The active config's id (`active_config`'s), without reading its body."""
    stmt = select(func.max(PlanningConfigRow.id)).where(PlanningConfigRow.scenario.is_(False))
    return session.scalar(stmt)


def start_run(
    session: Session,
    kind: RunKind,
    trigger: RunTrigger,
    code_version: str,
    created_by: str | None = None,
) -> RunRow:
    """Record that a run has begun (a caller queueing it sets its status to queued), asked for
    by `created_by` (None: whoever its trigger names, homeward.audit.of_trigger)."""
    now = utcnow()
    run = RunRow(
        kind=kind,
        trigger=trigger,
        created_by=created_by if created_by is not None else audit.of_trigger(trigger),
        status="running",
        started_at=now,
        queued_at=now,
        code_version=code_version,
        models_chosen={},
        timings_s={},
    )
    session.add(run)
    session.flush()
    return run


def store_forecasts(
    session: Session,
    run_id: int,
    forecasts: pd.DataFrame,
    metrics: pd.DataFrame,
    level_shifts: pd.DataFrame | None = None,
) -> None:
    """Store a run's forecasts, every candidate model's backtest metrics and the level shifts
    found in each history (unique_id, ds, ratio, t_stat)."""
    rows = [
        {
            "run_id": run_id,
            "series_id": rec["unique_id"],
            "ds": pd.Timestamp(rec["ds"]).to_pydatetime(),
            "model": rec["model"],
            **{column: float(rec[name]) for name, column in _FORECAST_COLUMNS.items()},
        }
        for rec in forecasts.to_dict("records")
    ]
    for start in range(0, len(rows), _INSERT_CHUNK):
        session.execute(insert(ForecastRow), rows[start : start + _INSERT_CHUNK])
    metric_cols = [c for c in metrics.columns if c not in _METRIC_KEYS]
    metric_rows = [
        {
            "run_id": run_id,
            "series_id": rec["unique_id"],
            "model": rec["model"],
            "chosen": bool(rec.get("chosen", False)),
            "metrics": {c: _finite_or_none(rec[c]) for c in metric_cols},
            "members": _members(rec.get("members")),
        }
        for rec in metrics.to_dict("records")
    ]
    if metric_rows:
        session.execute(insert(ForecastMetricRow), metric_rows)
    shift_rows = [
        {
            "run_id": run_id,
            "series_id": rec["unique_id"],
            "ds": pd.Timestamp(rec["ds"]).to_pydatetime(),
            "ratio": float(rec["ratio"]),
            "t_stat": float(rec["t_stat"]),
        }
        for rec in ([] if level_shifts is None else level_shifts.to_dict("records"))
    ]
    if shift_rows:
        session.execute(insert(LevelShiftRow), shift_rows)


def level_shifts(session: Session, run_id: int, series_id: str) -> list[LevelShiftRow]:
    """The level shifts found in one series' history by one run, oldest first."""
    stmt = select(LevelShiftRow).where(
        LevelShiftRow.run_id == run_id, LevelShiftRow.series_id == series_id
    )
    return list(session.scalars(stmt.order_by(LevelShiftRow.ds)))


# the columns of a run's metrics frame that are not figures (the rest go into the JSON dict)
_METRIC_KEYS = ("unique_id", "model", "chosen", "members")


def _members(value: Any) -> list[str]:
    """A combination's members as a list, from the engine's ';'-joined names ([] for a fitted
    model, or a frame from a caller that gives none)."""
    return [m for m in value.split(";") if m] if isinstance(value, str) else []


def _finite_or_none(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if pd.notna(number) and abs(number) != float("inf") else None


# Set on a session that may read one unfinished run's forecasts (`see_own_forecasts`).
_OWN_RUN = "homeward.own_forecast_run"


def see_own_forecasts(session: Session, run_id: int) -> None:
    """Let `session` read run `run_id`'s forecasts as the newest while that run is still
    running: the pipeline's plan step plans with the forecasts its own run has just stored."""
    session.info[_OWN_RUN] = run_id


def served_forecasts(session: Session) -> ColumnElement[bool]:
    """Which forecast rows may be read as a series' newest: those of runs no longer queued or
    running (and the session's own run, `see_own_forecasts`). Every reader of the newest
    forecasts, metrics and runs filters on this, so a dashboard never sees a run that is still
    running (its plan is not made yet: forecasts and plan would be of different runs) and a
    failed or interrupted run's forecasts are served once it has ended. Those are whole: a run
    stores every forecast in one transaction, before it plans. The unfinished runs are read
    first (almost always none, at most a few): with none, the filter is no filter, so the
    newest run of a series is still found from the (series_id, run_id) index alone."""
    unfinished = select(RunRow.id).where(RunRow.status.in_(UNFINISHED))
    own = session.info.get(_OWN_RUN)
    if own is not None:
        unfinished = unfinished.where(RunRow.id != own)
    hidden = list(session.scalars(unfinished))
    return ForecastRow.run_id.not_in(hidden) if hidden else true()


def latest_forecast(
    session: Session, series_id: str, run_id: int | None = None
) -> tuple[RunRow, list[ForecastRow], list[ForecastMetricRow]] | None:
    """The newest served run's forecast and metrics for one series (`served_forecasts`), or
    None. `run_id`: that run's instead, whether or not it has ended (a client asked for it by
    id), or None when there is no such run or it made no forecast of the series."""
    if run_id is None:
        run_id = session.scalar(
            select(func.max(ForecastRow.run_id)).where(
                ForecastRow.series_id == series_id, served_forecasts(session)
            )
        )
    run = None if run_id is None else session.get(RunRow, run_id)
    if run is None:
        return None
    rows = list(
        session.scalars(
            select(ForecastRow)
            .where(ForecastRow.run_id == run_id, ForecastRow.series_id == series_id)
            .order_by(ForecastRow.ds)
        )
    )
    if not rows:
        return None
    metrics = list(
        session.scalars(
            select(ForecastMetricRow)
            .where(ForecastMetricRow.run_id == run_id, ForecastMetricRow.series_id == series_id)
            .order_by(ForecastMetricRow.model)
        )
    )
    return run, rows, metrics


def _newest_runs(session: Session, prefix: str) -> Subquery:
    """(series_id, run_id): the newest served run (`served_forecasts`) that forecast each
    series under prefix."""
    return (
        select(ForecastRow.series_id, func.max(ForecastRow.run_id).label("run_id"))
        .where(ForecastRow.series_id.startswith(prefix, autoescape=True), served_forecasts(session))
        .group_by(ForecastRow.series_id)
        .subquery()
    )


def newest_forecast_runs(session: Session, prefix: str | None = None) -> dict[str, int]:
    """The newest run that forecast each series (optionally those under prefix), by id."""
    newest = _newest_runs(session, prefix or "")
    return {str(sid): int(run) for sid, run in session.execute(select(newest))}


def total_members(session: Session, runs: Mapping[str, int]) -> dict[str, list[str]]:
    """The series each total in `runs` (total id: the run whose forecast of it is served) was
    summed from, as that run recorded it (`RunRow.totals`); a total whose run recorded none
    (stored before 0016, or not a pipeline run's) is left out. One query for every run."""
    ids = set(runs.values())
    if not ids:
        return {}
    rows = session.execute(select(RunRow.id, RunRow.totals).where(RunRow.id.in_(ids)))
    recorded = {int(run_id): totals for run_id, totals in rows}
    found = {}
    for total_id, run_id in runs.items():
        members = (recorded.get(run_id) or {}).get(total_id)
        if members is not None:
            found[total_id] = list(members)
    return found


def runs_forecasting(session: Session, prefix: str, exact: bool = False) -> list[int]:
    """The newest ten runs that forecast a series under `prefix` (`exact`: the series `prefix`
    itself), newest first, whether or not they have ended: what a client asking for a run
    that forecast none of them may ask for instead. One probe of the forecasts' key per run."""
    if exact:
        match = ForecastRow.series_id == prefix
    else:
        match = ForecastRow.series_id.startswith(prefix, autoescape=True) & (
            func.substr(ForecastRow.series_id, 1, len(prefix)) == prefix
        )
    forecast = select(ForecastRow.run_id).where(ForecastRow.run_id == RunRow.id, match).exists()
    return list(
        session.scalars(select(RunRow.id).where(forecast).order_by(RunRow.id.desc()).limit(10))
    )


def forecast_in_run(session: Session, run_id: int, prefix: str) -> bool:
    """Whether run `run_id` stored a forecast of any series under `prefix` (matched
    case-sensitively, as `runs_forecasting`), whether or not it has ended."""
    match = ForecastRow.series_id.startswith(prefix, autoescape=True) & (
        func.substr(ForecastRow.series_id, 1, len(prefix)) == prefix
    )
    found = select(ForecastRow.run_id).where(ForecastRow.run_id == run_id, match).exists()
    return bool(session.scalar(select(found)))


def latest_forecast_frame(session: Session, prefix: str, run_id: int | None = None) -> pd.DataFrame:
    """The newest forecast of every series under prefix, as a long frame with quantile columns
    and, last, the `run_id` that made each row. `run_id`: that run's forecasts of them
    instead, whether or not it has ended (a client asked for it by id).

    Ids are matched case-sensitively on every database, as everywhere else: SQLite's LIKE
    (which `startswith` becomes) ignores ASCII case, so the ids' leading characters are
    compared to the prefix itself."""
    stmt = select(ForecastRow)
    if run_id is None:
        newest = _newest_runs(session, prefix)
        stmt = stmt.join(
            newest,
            (ForecastRow.series_id == newest.c.series_id) & (ForecastRow.run_id == newest.c.run_id),
        )
    else:
        under = ForecastRow.series_id.startswith(prefix, autoescape=True)
        stmt = stmt.where(ForecastRow.run_id == run_id, under)
    if prefix:
        stmt = stmt.where(func.substr(ForecastRow.series_id, 1, len(prefix)) == prefix)
    rows = session.scalars(stmt.order_by(ForecastRow.series_id, ForecastRow.ds)).all()
    return pd.DataFrame(
        [
            {
                "unique_id": r.series_id,
                "ds": pd.Timestamp(r.ds),
                "model": r.model,
                "mean": r.mean,
                "lo-80": r.lo_80,
                "hi-80": r.hi_80,
                "lo-95": r.lo_95,
                "hi-95": r.hi_95,
                "run_id": r.run_id,
            }
            for r in rows
        ],
        columns=["unique_id", "ds", "model", "mean", "lo-80", "hi-80", "lo-95", "hi-95", "run_id"],
    )


def latest_chosen_metrics(session: Session, prefix: str) -> pd.DataFrame:
    """The chosen model's backtest metrics of the newest forecast of every series under
    prefix: unique_id, model, chosen, then one column per metric (NaN where not given)."""
    return latest_metrics(session, prefix, chosen=True)


def metrics_columns() -> list[str]:
    """The columns of `latest_metrics` (and GET /v1/metrics.csv) at this release's metrics:
    unique_id, model, run_id, chosen, each metric, members."""
    return [
        "unique_id",
        "model",
        "run_id",
        "chosen",
        *metric_names(ForecastSettings.levels),
        "members",
    ]


def latest_metrics(
    session: Session, prefix: str, chosen: bool | None = None, run_id: int | None = None
) -> pd.DataFrame:
    """Every model's backtest metrics of the newest forecast of every series under prefix
    (matched case-sensitively, as `latest_forecast_frame`), by series and model: unique_id,
    model, run_id, chosen, then one column per metric, then members (the models a combination
    combined, ';' between them; empty for a fitted model and in runs stored before they were
    recorded). `chosen`: True, only each series' chosen model's; False, only the others'.
    `run_id`: that run's metrics of them instead, whether or not it has ended (a client asked
    for it by id)."""
    stmt = select(ForecastMetricRow)
    if run_id is None:
        newest = _newest_runs(session, prefix)
        stmt = stmt.join(
            newest,
            (ForecastMetricRow.series_id == newest.c.series_id)
            & (ForecastMetricRow.run_id == newest.c.run_id),
        )
    else:
        under = ForecastMetricRow.series_id.startswith(prefix, autoescape=True)
        stmt = stmt.where(ForecastMetricRow.run_id == run_id, under)
    if prefix:
        stmt = stmt.where(func.substr(ForecastMetricRow.series_id, 1, len(prefix)) == prefix)
    if chosen is not None:
        stmt = stmt.where(ForecastMetricRow.chosen.is_(chosen))
    order = (ForecastMetricRow.series_id, ForecastMetricRow.chosen.desc(), ForecastMetricRow.model)
    rows = session.scalars(stmt.order_by(*order)).all()
    records = [
        {"unique_id": r.series_id, "model": r.model, "run_id": r.run_id, "chosen": r.chosen}
        | r.metrics
        for r in rows
    ]
    frame = pd.DataFrame(records, columns=None if records else metrics_columns()[:-1])
    # last, whatever metrics older runs stored: a reader of the CSV finds it in one place
    return frame.assign(members=[";".join(r.members or []) for r in rows])


def store_plan(
    session: Session,
    run_id: int,
    config_id: int,
    status: str,
    objective: float | None,
    solve_seconds: float,
    result: dict[str, Any],
) -> PlanRow:
    """Store one plan result (its whole JSON) against its run and config; it was made by
    whoever asked for its run (`created_by`)."""
    run = session.get(RunRow, run_id)
    row = PlanRow(
        run_id=run_id,
        config_id=config_id,
        created_at=utcnow(),
        status=status,
        objective_weighted_wait_days=objective,
        solve_seconds=solve_seconds,
        result=result,
        created_by=run.created_by if run is not None else None,
    )
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class PlanSummary:
    """A stored plan without its result, and whether it was made with a scenario config."""

    id: int
    created_at: datetime
    run_id: int
    config_id: int
    scenario: bool
    status: str
    objective_weighted_wait_days: float | None
    solve_seconds: float
    # Read from the stored result, so a list can head each plan with its horizon and warnings
    # without loading the whole result (about 2 MB); None (no warnings) for a plan stored
    # before its result said them.
    first_ds: str | None
    last_ds: str | None
    periods: int | None
    warnings: tuple[str, ...]
    created_by: str | None = None  # who asked for its run (homeward.audit)


# The statuses of a plan that was solved (optimise.result.PlanResult.ok): one an earlier
# release stored with status error, infeasible or time_limit has no hours, waits or money, and
# since homeward.planning.PlanNotSolved none is stored, so the latest plan is never one of them.
SOLVED_PLAN_STATUSES = (PlanStatus.OPTIMAL.value, PlanStatus.INFEASIBLE_RELAXED.value)


def latest_plan(session: Session) -> PlanRow | None:
    """The newest solved plan made with a config that is not a scenario: the pipeline's, or
    one requested without a changed config. A what-if is never the latest plan, nor a plan
    an earlier release stored of a solve that ended without one (SOLVED_PLAN_STATUSES)."""
    stmt = (
        select(PlanRow)
        .join(PlanningConfigRow, PlanRow.config_id == PlanningConfigRow.id)
        .where(PlanningConfigRow.scenario.is_(False), PlanRow.status.in_(SOLVED_PLAN_STATUSES))
    )
    return session.scalars(stmt.order_by(PlanRow.id.desc()).limit(1)).first()


@dataclass(frozen=True)
class PlanStamp:
    """A stored plan's id and when it was made, read without its result (about 2 MB of
    JSON): together they tell it from every other plan. Its id alone does while the database
    lasts (never given out twice since migration 0018: SQLite gave a purged newest plan's id to
    the next one), but not across a database restored from a backup older than plans since
    made, whose ids the next plans take again."""

    id: int
    created_at: datetime


def latest_plan_stamp(session: Session) -> PlanStamp | None:
    """The id and making time of `latest_plan`."""
    stmt = (
        select(PlanRow.id, PlanRow.created_at)
        .join(PlanningConfigRow, PlanRow.config_id == PlanningConfigRow.id)
        .where(PlanningConfigRow.scenario.is_(False), PlanRow.status.in_(SOLVED_PLAN_STATUSES))
    )
    found = session.execute(stmt.order_by(PlanRow.id.desc()).limit(1)).first()
    return None if found is None else PlanStamp(found.id, found.created_at)


def plan_stamp(session: Session, plan_id: int) -> PlanStamp | None:
    """Plan `plan_id`'s id and making time, if it is stored."""
    found = session.execute(
        select(PlanRow.id, PlanRow.created_at).where(PlanRow.id == plan_id)
    ).first()
    return None if found is None else PlanStamp(found.id, found.created_at)


def plan_is_scenario(session: Session, plan: PlanRow) -> bool:
    """Whether `plan` was made with a scenario config (a what-if), not the active one's."""
    stmt = select(PlanningConfigRow.scenario).where(PlanningConfigRow.id == plan.config_id)
    return bool(session.scalar(stmt))


@dataclass(frozen=True)
class Window:
    """Moments from `start` (inclusive) up to `end` (exclusive), both UTC; None: open."""

    start: datetime | None = None
    end: datetime | None = None


def _within(
    stmt: Select[*_Row], moment: SQLColumnExpression[datetime], window: Window
) -> Select[*_Row]:
    """`stmt` keeping the rows whose `moment` is in `window`."""
    if window.start is not None:
        stmt = stmt.where(moment >= window.start)
    if window.end is not None:
        stmt = stmt.where(moment < window.end)
    return stmt


@dataclass(frozen=True)
class ConfigFilter:
    """Which configs a list keeps: only what-ifs' (`scenario` True) or only those made active
    (False), (`before_id`, a page's cursor) only those older than a config id, and only those
    stored (`created_at`) in the window `created`."""

    scenario: bool | None = None
    before_id: int | None = None
    created: Window = Window()


@dataclass(frozen=True)
class ConfigSummary:
    """A stored config without its body, and whether it is the active one."""

    id: int
    name: str
    version: str
    body_hash: str
    created_at: datetime
    scenario: bool
    created_by: str | None
    active: bool


def list_configs(
    session: Session, limit: int, offset: int = 0, kept: ConfigFilter = ConfigFilter()
) -> list[ConfigSummary]:
    """Configs newest first, without their bodies, of those `kept` keeps."""
    c = PlanningConfigRow
    stmt = _configs_kept(
        select(c.id, c.name, c.version, c.body_hash, c.created_at, c.scenario, c.created_by),
        kept,
    )
    rows = session.execute(stmt.order_by(c.id.desc()).limit(limit).offset(offset)).all()
    active = active_config_id(session) if rows else None
    return [ConfigSummary(*row, active=row.id == active) for row in rows]


def count_configs(session: Session, kept: ConfigFilter = ConfigFilter()) -> int:
    """How many configs `list_configs` pages through with the same filter, whatever its
    cursor."""
    every = replace(kept, before_id=None)
    stmt = _configs_kept(select(func.count(PlanningConfigRow.id)), every)
    return int(session.scalar(stmt) or 0)


def _configs_kept(stmt: Select[*_Row], kept: ConfigFilter) -> Select[*_Row]:
    stmt = stmt.select_from(PlanningConfigRow)
    if kept.scenario is not None:
        stmt = stmt.where(PlanningConfigRow.scenario.is_(kept.scenario))
    if kept.before_id is not None:
        stmt = stmt.where(PlanningConfigRow.id < kept.before_id)
    return _within(stmt, PlanningConfigRow.created_at, kept.created)


@dataclass(frozen=True)
class PlanFilter:
    """Which plans a list keeps: only what-ifs (`scenario` True) or only not (False), of one
    config or run, (`before_id`, a page's cursor) only those older than a plan id, and only
    those made (`created_at`) in the window `created`."""

    scenario: bool | None = None
    config_id: int | None = None
    run_id: int | None = None
    before_id: int | None = None
    created: Window = Window()


def list_plans(
    session: Session, limit: int, offset: int = 0, kept: PlanFilter = PlanFilter()
) -> list[PlanSummary]:
    """Plans newest first, without their results, of those `kept` keeps."""
    stmt = _plans_kept(
        select(
            PlanRow.id,
            PlanRow.created_at,
            PlanRow.run_id,
            PlanRow.config_id,
            PlanningConfigRow.scenario,
            PlanRow.status,
            PlanRow.objective_weighted_wait_days,
            PlanRow.solve_seconds,
            # in the database (SQLite's json_extract, PostgreSQL's ->): only these come back
            PlanRow.result["first_ds"].as_string(),
            PlanRow.result["last_ds"].as_string(),
            PlanRow.result["periods"].as_integer(),
            PlanRow.result["warnings"],
            PlanRow.created_by,
        ),
        kept,
    )
    rows = session.execute(stmt.order_by(PlanRow.id.desc()).limit(limit).offset(offset))
    found = [PlanSummary(*row) for row in rows]
    # warnings come back as the stored JSON list, or None from a result without them
    return [replace(p, warnings=tuple(p.warnings or ())) for p in found]


def count_plans(session: Session, kept: PlanFilter = PlanFilter()) -> int:
    """How many plans `list_plans` pages through with the same filter, whatever its cursor."""
    every = replace(kept, before_id=None)
    return int(session.scalar(_plans_kept(select(func.count(PlanRow.id)), every)) or 0)


def _plans_kept(stmt: Select[*_Row], kept: PlanFilter) -> Select[*_Row]:
    """`stmt` over plans joined to their configs, those `kept` keeps."""
    stmt = stmt.select_from(PlanRow).join(
        PlanningConfigRow, PlanRow.config_id == PlanningConfigRow.id
    )
    if kept.scenario is not None:
        stmt = stmt.where(PlanningConfigRow.scenario.is_(kept.scenario))
    if kept.config_id is not None:
        stmt = stmt.where(PlanRow.config_id == kept.config_id)
    if kept.run_id is not None:
        stmt = stmt.where(PlanRow.run_id == kept.run_id)
    if kept.before_id is not None:
        stmt = stmt.where(PlanRow.id < kept.before_id)
    return _within(stmt, PlanRow.created_at, kept.created)


def plan_ids_by_run(session: Session, run_ids: Sequence[int]) -> dict[int, int]:
    """The newest plan id of each run that has one."""
    stmt = (
        select(PlanRow.run_id, func.max(PlanRow.id))
        .where(PlanRow.run_id.in_(run_ids))
        .group_by(PlanRow.run_id)
    )
    return {run_id: plan_id for run_id, plan_id in session.execute(stmt)}


@dataclass(frozen=True)
class RunFilter:
    """Which runs a list keeps: of one kind or status, (`before_id`, a page's cursor) only
    those older than a run id, and only those made in the window `created` (`run_made_at`)."""

    kind: str | None = None
    status: str | None = None
    before_id: int | None = None
    created: Window = Window()


# When a run was made: `queued_at`, never changed once recorded (`started_at` is set again when
# a worker takes a queued run, which would move the run out of a window already read); runs
# stored before it was recorded have only `started_at`, the nearest moment known.
run_made_at = func.coalesce(RunRow.queued_at, RunRow.started_at)


def list_runs(
    session: Session, limit: int, offset: int = 0, kept: RunFilter = RunFilter()
) -> list[RunRow]:
    """Runs newest first, of those `kept` keeps."""
    stmt = _runs_kept(select(RunRow), kept).order_by(RunRow.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_runs(session: Session, kept: RunFilter = RunFilter()) -> int:
    """How many runs `list_runs` pages through with the same filter, whatever its cursor."""
    every = replace(kept, before_id=None)
    return int(session.scalar(_runs_kept(select(func.count(RunRow.id)), every)) or 0)


@dataclass(frozen=True)
class RunsNow:
    """What the runs table says at a moment, for the service's metrics: when the newest
    pipeline run ended with each status (absent: none has), and how many runs of each kind
    and unfinished status there are (absent: none)."""

    pipeline_ended_at: dict[str, datetime]
    unfinished: dict[tuple[str, str], int]


def runs_now(session: Session, ended: Sequence[str]) -> RunsNow:
    """Two statements of a bounded cost (ix_runs_status_kind_finished_at): the newest end of
    a pipeline run with each status in `ended`, one index seek each, and the count of runs
    queued or running, which reads only their entries."""
    newest = [
        select(func.max(RunRow.finished_at))
        .where(RunRow.status == status, RunRow.kind == "pipeline")
        .scalar_subquery()
        for status in ended
    ]
    times = session.execute(select(*newest)).one()
    counted = session.execute(
        select(RunRow.kind, RunRow.status, func.count())
        .where(RunRow.status.in_(UNFINISHED))
        .group_by(RunRow.kind, RunRow.status)
    ).all()
    return RunsNow(
        pipeline_ended_at={status: at for status, at in zip(ended, times, strict=True) if at},
        unfinished={(kind, status): int(count) for kind, status, count in counted},
    )


def _runs_kept(stmt: Select[*_Row], kept: RunFilter) -> Select[*_Row]:
    if kept.kind is not None:
        stmt = stmt.where(RunRow.kind == kept.kind)
    if kept.status is not None:
        stmt = stmt.where(RunRow.status == kept.status)
    if kept.before_id is not None:
        stmt = stmt.where(RunRow.id < kept.before_id)
    return _within(stmt, run_made_at, kept.created)


def record_audit(session: Session, actor: str, action: AuditAction, **detail: Any) -> None:
    """Add an entry to the audit trail (homeward.audit) in `session`'s transaction: it is
    stored if, and only if, what it records is. `detail` is JSON: the ids made or deleted,
    and counts."""
    session.add(AuditEventRow(at=utcnow(), actor=actor, action=action, detail=detail))
    session.flush()


@dataclass(frozen=True)
class AuditFilter:
    """Which audit entries a list keeps: of one action or actor, (`before_id`, a page's
    cursor) only those older than an entry's id, and only those made (`at`) in `created`."""

    action: str | None = None
    actor: str | None = None
    before_id: int | None = None
    created: Window = Window()


def list_audit(
    session: Session, limit: int, offset: int = 0, kept: AuditFilter = AuditFilter()
) -> list[AuditEventRow]:
    """Audit entries newest first, of those `kept` keeps."""
    stmt = _audit_kept(select(AuditEventRow), kept).order_by(AuditEventRow.id.desc())
    return list(session.scalars(stmt.limit(limit).offset(offset)))


def count_audit(session: Session, kept: AuditFilter = AuditFilter()) -> int:
    """How many entries `list_audit` pages through with the same filter, whatever its cursor."""
    every = replace(kept, before_id=None)
    return int(session.scalar(_audit_kept(select(func.count(AuditEventRow.id)), every)) or 0)


def _audit_kept(stmt: Select[*_Row], kept: AuditFilter) -> Select[*_Row]:
    if kept.action is not None:
        stmt = stmt.where(AuditEventRow.action == kept.action)
    if kept.actor is not None:
        stmt = stmt.where(AuditEventRow.actor == kept.actor)
    if kept.before_id is not None:
        stmt = stmt.where(AuditEventRow.id < kept.before_id)
    return _within(stmt, AuditEventRow.at, kept.created)


def acquire_lock(factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta) -> bool:
    """Take the named lease if it is free or expired; False if another holder has it."""
    now = utcnow()
    try:
        with factory() as session, session.begin():
            row = session.get(LockRow, name)
            if row is None:
                session.add(LockRow(name=name, holder=holder, expires_at=now + ttl))
                return True
            result = session.execute(
                update(LockRow)
                .where(LockRow.name == name, LockRow.expires_at < _naive_if_sqlite(session, now))
                .values(holder=holder, expires_at=now + ttl, run_id=None)
            )
            return bool(result.rowcount)  # type: ignore[attr-defined]
    except IntegrityError:
        return False


def name_locked_run(session: Session, name: str, holder: str, run_id: int) -> None:
    """Record on the named lease, if `holder` still has it, which run it is working on."""
    session.execute(
        update(LockRow).where(LockRow.name == name, LockRow.holder == holder).values(run_id=run_id)
    )


def renew_lock(factory: sessionmaker[Session], name: str, holder: str, ttl: timedelta) -> bool:
    """Extend our lease by `ttl` from now; False if it is no longer ours."""
    with factory() as session, session.begin():
        result = session.execute(
            update(LockRow)
            .where(LockRow.name == name, LockRow.holder == holder)
            .values(expires_at=utcnow() + ttl)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


def release_lock(factory: sessionmaker[Session], name: str, holder: str) -> None:
    """Give the lease back (only if we still hold it)."""
    with factory() as session, session.begin():
        session.execute(delete(LockRow).where(LockRow.name == name, LockRow.holder == holder))


def add_api_key(
    session: Session, name: str, role: str, key_hash: str, expires_at: datetime | None = None
) -> ApiKeyRow:
    """Store a key's name, role, hash (never the key itself) and when it expires (None:
    never)."""
    row = ApiKeyRow(
        name=name, role=role, key_hash=key_hash, created_at=utcnow(), expires_at=expires_at
    )
    session.add(row)
    session.flush()
    return row


def api_key_by_name(session: Session, name: str) -> ApiKeyRow | None:
    """The newest key with this name, revoked or not: a name's keys replaced by `keys rotate`
    are older and revoked, so this is its active key if it has one."""
    newest_first = select(ApiKeyRow).where(ApiKeyRow.name == name).order_by(ApiKeyRow.id.desc())
    return session.scalars(newest_first).first()


def api_key_by_hash(session: Session, key_hash: str) -> ApiKeyRow | None:
    """The key whose sha256 is `key_hash`, revoked or not."""
    return session.scalars(select(ApiKeyRow).where(ApiKeyRow.key_hash == key_hash)).first()


def list_api_keys(session: Session) -> list[ApiKeyRow]:
    """Every key, oldest first."""
    return list(session.scalars(select(ApiKeyRow).order_by(ApiKeyRow.id)))


def note_api_key_use(
    connection: Connection, key_id: int, now: datetime, stale_from: datetime
) -> bool:
    """Record that key `key_id` was used at `now` if its last use is recorded at or before
    `stale_from` (or not at all): requests at once (in this process or another) that each
    found the old time write it once between them. Whether this one wrote it."""
    stale = or_(ApiKeyRow.last_used_at.is_(None), ApiKeyRow.last_used_at <= stale_from)
    done = connection.execute(
        update(ApiKeyRow).where(ApiKeyRow.id == key_id, stale).values(last_used_at=now)
    )
    return bool(done.rowcount)


def revoke_api_key(session: Session, row: ApiKeyRow) -> ApiKeyRow:
    """Mark a key revoked now."""
    row.revoked_at = utcnow()
    session.flush()
    return row


def _naive_if_sqlite(session: Session, moment: datetime) -> datetime:
    """SQLite stores datetimes without zone; compare like with like."""
    bind = session.get_bind()
    return moment.replace(tzinfo=None) if bind.dialect.name == "sqlite" else moment


def history_warnings(session: Session, series_ids: Sequence[str]) -> list[str]:
    """What these series' stored histories will do to forecasts, as sentences: newest weeks
    or months not yet over (a partial count pulls a forecast down) and histories that ended a
    year or more ago. For an upload's answer and `homeward import`, judged on each series as
    now stored (an upload merged into its history), not on the upload alone. Read from the
    series table, which storing keeps as each series' stored frequency and newest date:
    reading a large upload's history back for them took as long as storing it."""
    stmt = select(SeriesRow.id, SeriesRow.freq, SeriesRow.last_ds).where(SeriesRow.n_obs > 0)
    periods = {
        str(series_id): period_at(last_ds, str(freq))
        for some_ids in _chunks(sorted(set(series_ids)))
        for series_id, freq, last_ds in session.execute(stmt.where(SeriesRow.id.in_(some_ids)))
    }
    return period_notes(periods)
