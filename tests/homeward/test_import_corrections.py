"""A correction upload may skip periods that are stored: its gaps are judged on the merged
history, so only a gap the merge would leave is refused, and a refused upload changes nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import inspect, text

from homeward import repository
from homeward.cli import main
from homeward.errors import ValidationFailed
from homeward.ingest import observations_hash, read_upload
from homeward.settings import get_settings
from homeward.storage import make_engine, session_factory, transaction, upgrade

HEAD = "unique_id,ds,y\n"
SERIES = "referrals/ot/redcar"
STORED = HEAD + "".join(f"{SERIES},2026-{month:02d}-01,{1000 + month}\n" for month in range(1, 10))


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """January to September 2026 of one monthly series, stored by `homeward import`."""
    url = f"sqlite:///{tmp_path / 'corrections.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    stored = tmp_path / "stored.csv"
    stored.write_text(STORED)
    assert main(["import", str(stored)]) == 0
    yield url
    get_settings.cache_clear()


def _stored(url: str) -> list[tuple[str, float]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        rows = conn.execute(
            text("SELECT ds, y FROM observations WHERE series_id = :s ORDER BY ds"), {"s": SERIES}
        ).all()
    engine.dispose()
    return [(str(ds)[:10], float(y)) for ds, y in rows]


def _import(tmp_path: Path, content: str, *options: str) -> int:
    path = tmp_path / "upload.csv"
    path.write_text(content)
    return main(["import", *options, str(path)])


def test_a_correction_may_skip_a_stored_month(database: str, tmp_path: Path) -> None:
    correction = HEAD + f"{SERIES},2026-07-01,2000\n{SERIES},2026-09-01,2100\n"
    assert _import(tmp_path, correction) == 0
    stored = dict(_stored(database))
    assert len(stored) == 9
    # the skipped month keeps its stored figure; the months sent are replaced
    assert (stored["2026-07-01"], stored["2026-08-01"], stored["2026-09-01"]) == (
        2000.0,
        1008.0,
        2100.0,
    )


def test_a_gap_the_merge_would_leave_is_refused(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _stored(database)
    # September 2026 is the last stored: November after it would leave October missing
    later = HEAD + f"{SERIES},2026-11-01,2200\n"
    capsys.readouterr()
    assert _import(tmp_path, later) == 2
    message = capsys.readouterr().err
    assert "row 2, column 'ds'" in message  # November, the file's row after the gap
    assert "1 missing month: 2026-10-01 (after merging with stored history)" in message
    assert _stored(database) == before


def test_a_gap_between_the_file_s_own_rows_is_named_as_the_file_s(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The file's rows on either side of a gap leave it whatever is stored: it was blamed on
    the file's first row and called the merge's ("after merging with stored history")."""
    extending = HEAD + f"{SERIES},2026-08-01,8\n{SERIES},2026-09-01,9\n{SERIES},2026-11-01,11\n"
    capsys.readouterr()
    assert _import(tmp_path, extending) == 2
    message = capsys.readouterr().err
    assert "row 4, column 'ds'" in message  # 2026-11-01, just after the gap
    assert "found 1 missing month: 2026-10-01\n" in message
    assert "stored history" not in message


def test_a_replace_with_a_gap_is_refused(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _stored(database)
    restated = HEAD + f"{SERIES},2026-07-01,2000\n{SERIES},2026-09-01,2100\n"
    capsys.readouterr()
    assert _import(tmp_path, restated, "--replace") == 2
    message = capsys.readouterr().err
    # the stored history is replaced, not merged: the gap is the file's own
    assert "1 missing month: 2026-08-01" in message
    assert "stored history" not in message
    assert _stored(database) == before


def test_a_first_upload_with_a_gap_is_refused_as_the_file_s_own(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    new = "referrals/ot/hartlepool"
    upload = HEAD + f"{new},2026-07-01,20\n{new},2026-09-01,21\n{SERIES},2026-09-01,5\n"
    capsys.readouterr()
    assert _import(tmp_path, upload) == 2
    message = capsys.readouterr().err
    assert f"series '{new}', column 'ds': expected a row for every month" in message
    assert "1 missing month: 2026-08-01" in message
    assert "stored history" not in message
    assert _stored(database)[-1] == ("2026-09-01", 1009.0)


def _store(url: str, content: str, replace: bool = False) -> None:
    engine = make_engine(url)
    upgrade(engine)
    try:
        with session_factory(engine)() as session:
            stored = {} if replace else repository.stored_frequencies(session)
        upload = read_upload(content, "upload.csv", stored=stored)
        with transaction(session_factory(engine)) as session:
            repository.store_observations(
                session,
                upload.frame,
                "upload.csv",
                observations_hash(upload.frame),
                upload.lines,
                upload.month_only,
                replace=replace,
            )
    finally:
        engine.dispose()


def test_a_correction_keeps_the_months_it_skips_on_either_database(
    either_database_url: str,
) -> None:
    """Only the stored rows at the upload's own dates are replaced (a merge used to delete
    every stored row between its first and last dates)."""
    _store(either_database_url, STORED)
    _store(either_database_url, HEAD + f"{SERIES},2026-03-01,30\n{SERIES},2026-06-01,60\n")
    stored = dict(_stored(either_database_url))
    assert [stored[f"2026-0{m}-01"] for m in range(1, 10)] == [
        1001.0, 1002.0, 30.0, 1004.0, 1005.0, 60.0, 1007.0, 1008.0, 1009.0
    ]  # fmt: skip
    with pytest.raises(ValidationFailed, match="2026-04-01, 2026-05-01"):
        _store(
            either_database_url,
            HEAD + f"{SERIES},2026-03-01,30\n{SERIES},2026-06-01,60\n",
            replace=True,
        )
    assert dict(_stored(either_database_url)) == stored


def test_a_new_series_gaps_are_refused_with_the_file_s_other_problems(
    database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A series with no stored history has nothing to fill its gaps: they are named in the
    same answer as a bad count, not in a second round once the count is mended."""
    new = "referrals/ot/hartlepool"
    upload = HEAD + f"{new},2026-01-01,5\n{new},2026-02-01,-3\n{new},2026-04-01,5\n"
    upload += f"{SERIES},2026-09-01,5\n"
    capsys.readouterr()
    assert _import(tmp_path, upload) == 2
    message = capsys.readouterr().err
    assert "2 problems found" in message
    assert "found '-3' (negative)" in message
    assert f"series '{new}', column 'ds': expected a row for every month" in message


def test_a_file_refused_for_a_gap_creates_no_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "never.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    get_settings.cache_clear()
    try:
        upload = HEAD + f"{SERIES},2026-01-01,5\n{SERIES},2026-03-01,5\n"
        assert _import(tmp_path, upload) == 2
    finally:
        get_settings.cache_clear()
    assert "1 missing month: 2026-02-01" in capsys.readouterr().err
    assert not path.exists()


def test_a_stored_series_gap_is_left_to_the_merge_as_it_reads() -> None:
    """Read for a merge, only series with stored history have their gaps left to it."""
    skipping = HEAD + f"{SERIES},2026-07-01,1\n{SERIES},2026-09-01,2\n"
    assert len(read_upload(skipping, "upload.csv", stored={SERIES: "MS"}).frame) == 2
    with pytest.raises(ValidationFailed, match="1 missing month: 2026-08-01"):
        read_upload(skipping, "upload.csv", stored={"referrals/ot/other": "MS"})


WEEKLY_SERIES = "referrals/ot/rugby"
WEEKS = HEAD + "".join(
    f"{WEEKLY_SERIES},{day:%Y-%m-%d},5\n"
    for day in pd.date_range("2025-01-06", periods=8, freq="W-MON")
)


@pytest.mark.parametrize(
    ("written", "hint"),
    [
        # one week-ending Sunday, slashed: its week's Monday, not the Sunday itself
        ("12/01/2025", "2025-01-12, a Sunday; the series is weekly: date its week by its "
         "Monday, write 2025-01-06"),
        ("2025-01-12", "a Sunday; date its week by its Monday, 2025-01-06"),
        # where the chain used to end: refused as a Wednesday of a weekly series
        ("2025-01-01", "a Wednesday; date its week by its Monday, 2024-12-30"),
    ],
)  # fmt: skip
def test_a_correction_to_a_weekly_series_is_told_its_monday(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    written: str,
    hint: str,
) -> None:
    """A correction's one date shows no frequency of its own: the stored series' is used, so
    the date hinted at is accepted, not refused next."""
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'weekly.db'}")
    get_settings.cache_clear()
    try:
        assert _import(tmp_path, WEEKS) == 0
        capsys.readouterr()
        assert _import(tmp_path, HEAD + f"{WEEKLY_SERIES},{written},7\n") == 2
        assert hint in capsys.readouterr().err
        assert _import(tmp_path, HEAD + f"{WEEKLY_SERIES},2025-01-06,7\n") == 0
    finally:
        get_settings.cache_clear()


def test_a_refused_file_leaves_an_existing_empty_database_unmigrated(
    either_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The stored series are read without migrating: a file refused as it reads leaves an
    empty database (a new SQLite file, a new PostgreSQL database) with no tables."""
    if either_database_url.startswith("sqlite"):
        Path(either_database_url.removeprefix("sqlite:///")).touch()
    monkeypatch.setenv("DATABASE_URL", either_database_url)
    get_settings.cache_clear()
    try:
        assert _import(tmp_path, HEAD + f"{SERIES},2026-01-01,-5\n") == 2
    finally:
        get_settings.cache_clear()
    assert "found '-5' (negative)" in capsys.readouterr().err
    engine = make_engine(either_database_url)
    try:
        assert inspect(engine).get_table_names() == []
    finally:
        engine.dispose()
