"""Storing a large upload: its series' stored observations read once (not again after they
are written, nor for the warnings), its rows inserted through the driver (PostgreSQL: COPY) as
SQLAlchemy would bind them, and its data hash the canonical CSV's, written without to_csv."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import event, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from homeward import repository
from homeward.ingest import observations_hash, parse_upload
from homeward.storage import transaction
from models import ObservationRow

HEAD = "unique_id,ds,y\n"
A, B = "referrals/ot/rugby", "referrals/hao/rugby"
FILE = HEAD + "".join(f"{sid},2025-{m:02d}-01,{m}\n" for sid in (A, B) for m in (1, 2, 3))


@pytest.fixture
def statements(either_factory: sessionmaker[Session]) -> Iterator[list[str]]:
    """Every SQL statement the database is sent while the test runs."""
    sent: list[str] = []
    engine = either_factory.kw["bind"]

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        sent.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield sent
    event.remove(engine, "before_cursor_execute", record)


def _value_reads(sent: list[str]) -> list[str]:
    """The statements reading stored observations' values."""
    return [s for s in sent if s.lstrip().upper().startswith("SELECT") and "observations.y" in s]


def _upload(factory: sessionmaker[Session], csv: str) -> repository.ImportSummary:
    parsed = parse_upload(csv.encode(), source="upload.csv")
    with transaction(factory) as session:
        return repository.store_upload(session, parsed.judged, "upload.csv", replace=False)


def test_storing_reads_the_series_stored_values_once_and_the_warnings_none(
    either_factory: sessionmaker[Session], statements: list[str]
) -> None:
    """A revision of two series' history reads their stored values once (for the values it
    revises, and to check them merged), not again once written (reading a large upload's
    history back took longer than writing it); its warnings are read from the series table."""
    _upload(either_factory, FILE)
    statements.clear()
    revised = _upload(either_factory, FILE.replace(",3\n", ",30\n"))
    assert revised.revised == 2
    assert len(_value_reads(statements)) == 1
    statements.clear()
    with either_factory() as session:
        warnings = repository.history_warnings(session, [A, B])
    assert _value_reads(statements) == []
    assert len(warnings) == 1 and "a year or more before today" in warnings[0]


def test_dates_are_stored_as_sqlalchemy_writes_them(
    either_factory: sessionmaker[Session],
) -> None:
    """Inserted through the driver, each date is what SQLAlchemy binds for it (SQLite's text
    `2025-02-01 00:00:00.000000`), so a query comparing dates finds it."""
    _upload(either_factory, FILE)
    with either_factory() as session:
        found = session.scalars(
            select(ObservationRow.y).where(
                ObservationRow.series_id == A, ObservationRow.ds == datetime(2025, 2, 1)
            )
        ).all()
        assert found == [2.0]
        if session.get_bind().dialect.name == "sqlite":
            stored = session.execute(text("SELECT DISTINCT ds FROM observations ORDER BY ds"))
            assert [row[0] for row in stored] == [
                f"2025-{m:02d}-01 00:00:00.000000" for m in (1, 2, 3)
            ]


def test_a_failed_insert_is_raised_as_sqlalchemy_raises_it(
    either_factory: sessionmaker[Session],
) -> None:
    """Rows inserted through the driver (PostgreSQL: COPY) fail as a statement would: as
    SQLAlchemy's IntegrityError here, as its OperationalError for a server gone (a 503)."""
    summary = _upload(either_factory, FILE)
    frame = parse_upload(FILE.encode(), source="again.csv").judged().frame
    with pytest.raises(IntegrityError), transaction(either_factory) as session:
        repository._insert_observations(session, frame, summary.import_id)


@pytest.mark.parametrize(
    ("first", "second", "first_written"),
    [
        (B, A, B),
        ('a,"b"', "c", '"a,""b"""'),  # not a valid id, but hashed as pandas writes it: quoted
    ],
)
def test_the_data_hash_is_of_the_canonical_csv(first: str, second: str, first_written: str) -> None:
    """Written without pandas' to_csv for speed, the canonical text is the same: header, rows
    by series then date, dates YYYY-MM-DD, values as Python writes floats (a stored import's
    hash is how a file sent again is known)."""
    frame = pd.DataFrame(
        {
            "unique_id": [first, second, first],
            "ds": pd.to_datetime(["2025-02-01", "2025-01-01", "2025-01-01"]),
            "y": [0.1 + 0.2, 3.0, 1e7],
        }
    )
    canonical = (
        "unique_id,ds,y\n"
        f"{first_written},2025-01-01,10000000.0\n"
        f"{first_written},2025-02-01,0.30000000000000004\n"
        f"{second},2025-01-01,3.0\n"
    )
    assert observations_hash(frame) == hashlib.sha256(canonical.encode()).hexdigest()
