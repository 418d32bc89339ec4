"""`homeward import` judges a long file against what is stored when it is written, under the
upload lock as POST /v1/observations does (on SQLite and on a real PostgreSQL server), and
parses the file once however often it is judged."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import inspect
from sqlalchemy.orm import Session, sessionmaker

from homeward import ingest, repository
from homeward.cli import main
from homeward.settings import get_settings
from homeward.storage import make_engine, transaction

HEAD = "unique_id,ds,y\n"
SERIES = "race/gap"
WEEKS = pd.date_range("2019-01-07", periods=12, freq="W-MON")
# two weeks eleven apart: a gap of the file's own, unless stored weeks fill it
GAPPY = HEAD + f"{SERIES},{WEEKS[0]:%Y-%m-%d},7\n{SERIES},{WEEKS[-1]:%Y-%m-%d},8\n"


@pytest.fixture
def database(either_database_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """`homeward import`'s database (SQLite, then PostgreSQL), migrated."""
    monkeypatch.setenv("DATABASE_URL", either_database_url)
    get_settings.cache_clear()
    yield either_database_url
    get_settings.cache_clear()


def _import(tmp_path: Path, content: str) -> int:
    path = tmp_path / "upload.csv"
    path.write_text(content)
    return main(["import", str(path)])


def _stored(factory: sessionmaker[Session]) -> list[float]:
    with factory() as session:
        return repository.load_observations(session, [SERIES])["y"].tolist()


def _import_racing_another(
    factory: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> int:
    """`homeward import` of the gappy file, another upload storing the series' first history
    (weeks 5.0) just after the import has first read the stored frequencies."""
    history = pd.DataFrame({"unique_id": SERIES, "ds": WEEKS, "y": 5.0})
    read_stored = repository.stored_frequencies
    injected: list[bool] = []

    def read_then_another_upload(session: Session) -> dict[str, str]:
        found = read_stored(session)
        if not injected:
            injected.append(True)
            with transaction(factory) as other:
                repository.store_observations(other, history, "another upload", "first")
        return found

    monkeypatch.setattr(repository, "stored_frequencies", read_then_another_upload)
    status = _import(tmp_path, GAPPY)
    assert injected
    return status


def test_a_gap_another_import_fills_meanwhile_is_merged_not_refused(
    database: str,
    either_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # The series had no stored history when this import read the stored frequencies; another
    # upload stored it just then: the file's gap is the merge's to judge, and the stored weeks
    # fill it. `homeward import` judged by what it had read, outside the lock, and once
    # refused the gap as the file's own (exit 2), though storing it would have merged.
    assert _import_racing_another(either_factory, tmp_path, monkeypatch) == 0, (
        capsys.readouterr().err
    )
    assert _stored(either_factory) == [7.0, *[5.0] * 10, 8.0]


def test_a_gap_nothing_fills_is_still_refused_before_the_database_is_migrated(
    either_database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Nothing stored changed while it was judged: refused at once, nothing migrated."""
    monkeypatch.setenv("DATABASE_URL", either_database_url)
    get_settings.cache_clear()
    try:
        assert _import(tmp_path, GAPPY) == 2
    finally:
        get_settings.cache_clear()
    assert "10 missing weeks" in capsys.readouterr().err
    engine = make_engine(either_database_url)
    try:
        assert "series" not in inspect(engine).get_table_names()
    finally:
        engine.dispose()


def _count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The source of each file parsed (decoded and split into cells: the bulk of parsing; a
    merged series' history is checked by validate_observations, which splits nothing)."""
    sources: list[str] = []
    parse = ingest.read_csv_as_text

    def noted(data: Any, source: str, *args: Any, **kwargs: Any) -> ingest.TextTable:
        sources.append(Path(source).name)
        return parse(data, source, *args, **kwargs)

    monkeypatch.setattr(ingest, "read_csv_as_text", noted)
    return sources


STORED = HEAD + "".join(f"{SERIES},{week:%Y-%m-%d},5\n" for week in WEEKS)


@pytest.mark.parametrize(
    ("upload", "status"),
    [
        # a correction of stored weeks: judged alone, then by the series' stored frequency
        (GAPPY, 0),
        # refused alone (a count `abc`), then judged again by the stored frequencies so that
        # its problems are all told at once
        (HEAD + f"{SERIES},{WEEKS[0]:%Y-%m-%d},abc\nrace/new,2019-01-07,1\n", 2),
    ],
    ids=["correction", "refused"],
)
def test_the_file_is_parsed_once(
    database: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    upload: str,
    status: int,
) -> None:
    # It was parsed twice, once to check it before connecting to the database and again to
    # judge it by the stored series: twice the parsing of a council's large file.
    assert _import(tmp_path, STORED) == 0
    calls = _count_parses(monkeypatch)
    assert _import(tmp_path, upload) == status
    assert calls == ["upload.csv"]


def test_the_file_is_parsed_once_when_judged_again_under_the_lock(
    database: str,
    either_factory: sessionmaker[Session],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Judged alone, by what is stored, and again by what another upload stored meanwhile."""
    calls = _count_parses(monkeypatch)
    assert _import_racing_another(either_factory, tmp_path, monkeypatch) == 0
    assert calls == ["upload.csv"]
