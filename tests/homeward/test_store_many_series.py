"""Storing an upload of several series at once, merged with their stored history, on SQLite and
PostgreSQL: each series' row (frequency, extent, when its history last changed), the values
stored, the refusals of a merge and the warnings told afterwards, pinned as they were before
storing was done for all series at once (one query and one pass over every series)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import ingest, repository
from homeward.errors import ValidationFailed
from homeward.ingest import Upload, observations_hash, parse_upload, read_upload
from homeward.storage import transaction
from models import ImportRow, ObservationRow

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday
HEAD = "unique_id,ds,y\n"
A, B, C, D, E = (f"referrals/ot/{name}" for name in "abcde")

# A monthly (2025-01 to 2025-06), B weekly (six Mondays from 2025-09-01), C one month whose 1st
# is a Monday (2024-01-01), D one Monday that is not a 1st (2025-03-03)
FIRST = (
    HEAD
    + "".join(f"{A},2025-{m:02d}-01,{10 + m}\n" for m in range(1, 7))
    + "".join(f"{B},2025-{d},{20 + i}\n" for i, d in enumerate(
        ["09-01", "09-08", "09-15", "09-22", "09-29", "10-06"]))
    + f"{C},2024-01-01,30\n"
    + f"{D},2025-03-03,40\n"
)  # fmt: skip

Row = tuple[str, str, str, int]  # freq, first_ds, last_ds, n_obs


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def _upload(
    factory: sessionmaker[Session], text: str, replace: bool = False
) -> repository.ImportSummary:
    parsed = parse_upload(text.encode(), source="upload.csv")
    with transaction(factory) as session:
        return repository.store_upload(session, parsed.judged, "upload.csv", replace)


def _rows(factory: sessionmaker[Session]) -> dict[str, Row]:
    with factory() as session:
        return {
            row.id: (row.freq, f"{row.first_ds:%Y-%m-%d}", f"{row.last_ds:%Y-%m-%d}", row.n_obs)
            for row in repository.list_series(session)
        }


def _updated(factory: sessionmaker[Session]) -> dict[str, datetime]:
    with factory() as session:
        return {row.id: row.updated_at for row in repository.list_series(session)}


def _values(factory: sessionmaker[Session]) -> dict[tuple[str, str], float]:
    with factory() as session:
        stored = repository.load_observations(session)
    return {(str(i), f"{d:%Y-%m-%d}"): float(y) for i, d, y in stored.itertuples(index=False)}


def _refused(factory: sessionmaker[Session], upload: Upload) -> str:
    """What storing ``upload`` (a file already read) is refused with, as told."""
    with pytest.raises(ValidationFailed) as refused, transaction(factory) as session:
        repository.store_observations(
            session,
            upload.frame,
            "upload.csv",
            observations_hash(upload.frame),
            upload.lines,
            upload.month_only,
        )
    return str(refused.value)


def _counts(factory: sessionmaker[Session]) -> tuple[int, int]:
    with factory() as session:
        imports = session.scalar(select(func.count()).select_from(ImportRow))
        observations = session.scalar(select(func.count()).select_from(ObservationRow))
    return int(imports or 0), int(observations or 0)


def test_each_series_row_holds_its_stored_history(either_factory: sessionmaker[Session]) -> None:
    summary = _upload(either_factory, FIRST)
    assert (summary.rows, summary.series, summary.revised) == (14, (A, B, C, D), 0)
    assert _rows(either_factory) == {
        A: ("MS", "2025-01-01", "2025-06-01", 6),
        B: ("W-MON", "2025-09-01", "2025-10-06", 6),
        C: ("MS", "2024-01-01", "2024-01-01", 1),
        D: ("W-MON", "2025-03-03", "2025-03-03", 1),
    }


def test_a_revision_moves_updated_at_only_where_the_history_changed(
    either_factory: sessionmaker[Session],
) -> None:
    _upload(either_factory, FIRST)
    before = _updated(either_factory)
    revision = (
        HEAD
        + f"{A},2025-03-01,99\n{A},2025-07-01,17\n"  # one month revised, one added
        + f"{B},2025-09-08,21\n{B},2025-09-15,22\n"  # sent again unchanged
        + f"{C},2024-02-01,31\n"  # a second month
        + f"{E},2025-05-05,50\n{E},2025-05-12,51\n"  # a new weekly series
    )
    summary = _upload(either_factory, revision)
    assert (summary.rows, summary.series, summary.revised) == (7, (A, B, C, E), 1)
    assert _rows(either_factory) == {
        A: ("MS", "2025-01-01", "2025-07-01", 7),
        B: ("W-MON", "2025-09-01", "2025-10-06", 6),
        C: ("MS", "2024-01-01", "2024-02-01", 2),
        D: ("W-MON", "2025-03-03", "2025-03-03", 1),
        E: ("W-MON", "2025-05-05", "2025-05-12", 2),
    }
    after = _updated(either_factory)
    assert after[B] == before[B] and after[D] == before[D]  # same history: not moved
    assert after[A] > before[A] and after[C] > before[C]
    values = _values(either_factory)
    assert len(values) == 18
    assert values[(A, "2025-03-01")] == 99.0 and values[(A, "2025-02-01")] == 12.0
    assert values[(A, "2025-07-01")] == 17.0 and values[(C, "2024-02-01")] == 31.0
    assert values[(B, "2025-09-08")] == 21.0 and values[(E, "2025-05-12")] == 51.0


def test_a_replace_restates_each_series_and_counts_what_it_removed(
    either_factory: sessionmaker[Session],
) -> None:
    _upload(either_factory, FIRST)
    before = _updated(either_factory)
    restated = (
        HEAD
        + "".join(f"{A},2025-{m:02d}-01,{10 + m}\n" for m in range(2, 5))  # fewer months
        + "".join(f"{B},2025-{d},{20 + i}\n" for i, d in enumerate(
            ["09-01", "09-08", "09-15", "09-22", "09-29", "10-06"]))  # the same six weeks
    )  # fmt: skip
    summary = _upload(either_factory, restated, replace=True)
    assert (summary.rows, summary.series, summary.revised) == (9, (A, B), 0)
    assert (summary.replace, summary.replaced, summary.removed) == (True, 12, 3)
    rows = _rows(either_factory)
    assert rows[A] == ("MS", "2025-02-01", "2025-04-01", 3)
    assert rows[B] == ("W-MON", "2025-09-01", "2025-10-06", 6)
    after = _updated(either_factory)
    assert after[A] > before[A] and after[B] == before[B] and after[C] == before[C]
    assert len(_values(either_factory)) == 11


def test_a_merge_refused_for_one_series_stores_nothing_and_names_its_rows(
    either_factory: sessionmaker[Session],
) -> None:
    """A's revision is fine; B's week after 2025-10-13 leaves that week missing once merged;
    E's gap, the file's own (read with ``allow_gaps``, so that only the check of the merged
    series refuses it), is told as the file's: no row, no "after merging"."""
    _upload(either_factory, FIRST)
    before = (_rows(either_factory), _updated(either_factory), _values(either_factory))
    counts = _counts(either_factory)
    upload = read_upload(
        (
            HEAD
            + f"{A},2025-03-01,99\n"
            + f"{B},2025-10-20,26\n"  # line 3: the week after the gap
            + f"{B},2025-10-27,27\n"
            + f"{E},2025-05-05,50\n{E},2025-05-19,51\n"  # 2025-05-12 missing
        ).encode(),
        "upload.csv",
        allow_gaps=True,
        stored={A: "MS", B: "W-MON"},
    )
    assert _refused(either_factory, upload) == EXPECTED_GAPS
    assert (_rows(either_factory), _updated(either_factory), _values(either_factory)) == before
    assert _counts(either_factory) == counts


EXPECTED_GAPS = (
    "'upload.csv (merged with stored history)' was rejected: 2 problems found\n"
    "  - series 'referrals/ot/b', row 3, column 'ds': expected a row for every week from "
    "2025-09-01 to 2025-10-27 (W-MON), found 1 missing week: 2025-10-13 (after merging with "
    "stored history)\n"
    "  - series 'referrals/ot/e', column 'ds': expected a row for every week from 2025-05-05 "
    "to 2025-05-19 (W-MON), found 1 missing week: 2025-05-12"
)


def test_a_month_in_a_series_weekly_once_merged_is_refused_with_its_line(
    either_factory: sessionmaker[Session],
) -> None:
    """E's stored weeks end 2025-11-24; the file's "2025-12" reads as 2025-12-01, a Monday and
    the next week, but names a month. Judged without the stored frequencies, as
    ``store_observations`` may be called, the file alone cannot tell; the merge can."""
    _upload(either_factory, FIRST)
    weeks = [f"2025-{d}" for d in ("11-03", "11-10", "11-17", "11-24")]
    _upload(either_factory, HEAD + "".join(f"{E},{d},5\n" for d in weeks))
    before = (_rows(either_factory), _values(either_factory))
    text = HEAD + f"{A},2025-07-01,17\n{E},2025-12,7\n"
    upload = read_upload(text.encode(), "upload.csv")
    assert _refused(either_factory, upload) == EXPECTED_MONTH
    assert (_rows(either_factory), _values(either_factory)) == before


EXPECTED_MONTH = (
    "'upload.csv (merged with stored history)' was rejected: 1 problem found\n"
    "  - series 'referrals/ot/e', row 3, column 'ds': expected a Monday YYYY-MM-DD (the series "
    "is weekly, W-MON), found '2025-12' (a month, not a day; the series' stored history is "
    "weekly)"
)


def test_the_warnings_after_an_upload_are_judged_on_every_series_as_stored(
    either_factory: sessionmaker[Session],
) -> None:
    """Seven series whose newest period is not over (five named, oldest first, then counted)
    and three that ended a year or more ago, weekly and monthly; B, stale too, is not asked
    about."""
    unfinished = [f"referrals/hao/u{i}" for i in range(7)]
    text = (
        HEAD
        + "".join(f"{u},2026-11-09,1\n{u},2026-11-16,2\n" for u in unfinished[:4])
        + "".join(f"{u},2026-10-01,1\n{u},2026-11-01,2\n" for u in unfinished[4:])
        + f"{A},2025-07-01,17\n"  # A's newest month (2025-07) ended a year and more ago
    )
    summary = _upload(either_factory, FIRST)
    with either_factory() as session:
        assert repository.history_warnings(session, summary.series) == EXPECTED_FIRST_WARNINGS
    summary = _upload(either_factory, text)
    with either_factory() as session:
        warnings = repository.history_warnings(session, [*summary.series, C, D])
    assert warnings == EXPECTED_WARNINGS
    with either_factory() as session:
        assert repository.history_warnings(session, ["referrals/ot/none"]) == []


STALE_TAIL = (
    "a forecast starts where its history ends, so theirs are for periods already over (upload "
    "newer figures for forecasts of the periods ahead)"
)
EXPECTED_FIRST_WARNINGS = [
    "4 series end a year or more before today (2026-11-18): referrals/ot/c (newest "
    "2024-01-01), referrals/ot/d (newest 2025-03-03), referrals/ot/a (newest 2025-06-01), "
    f"referrals/ot/b (newest 2025-10-06); {STALE_TAIL}"
]
EXPECTED_WARNINGS = [
    "7 series' newest periods have not ended yet (today is 2026-11-18): referrals/hao/u4 "
    "(2026-11-01), referrals/hao/u5 (2026-11-01), referrals/hao/u6 (2026-11-01), "
    "referrals/hao/u0 (2026-11-16), referrals/hao/u1 (2026-11-16) and 2 more; a partial count "
    "pulls a forecast down, so send a week or month once it is over (sending it again then "
    "replaces the partial count)",
    "3 series end a year or more before today (2026-11-18): referrals/ot/c (newest "
    "2024-01-01), referrals/ot/d (newest 2025-03-03), referrals/ot/a (newest 2025-07-01); "
    f"{STALE_TAIL}",
]
