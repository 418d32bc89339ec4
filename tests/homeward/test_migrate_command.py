"""`homeward migrate` applies pending migrations and prints the revision before and after;
`homeward migrate --check` changes nothing and exits 0 at head, 1 naming what is pending."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine

from homeward import storage
from homeward.cli import main
from homeward.settings import get_settings
from homeward.storage import (
    alembic_config,
    all_revisions,
    make_engine,
    schema_revision,
    upgrade,
)

HEAD = all_revisions()[-1]


def _revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return schema_revision(engine)
    finally:
        engine.dispose()


def test_check_on_a_missing_file_names_every_revision_and_creates_nothing(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate", "--check"]) == 1
    out = capsys.readouterr().out
    assert out.strip() == (
        f"the database is at revision none (a database never migrated); "
        f"{len(all_revisions())} pending: {', '.join(all_revisions())} "
        "(`homeward migrate` applies them)"
    )
    assert not Path(db_env.removeprefix("sqlite:///")).exists()


def test_migrate_prints_before_and_after_and_check_then_passes(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "revision before: none (a database never migrated)",
        f"revision after: {HEAD}",
    ]
    assert _revision(db_env) == HEAD
    assert main(["migrate", "--check"]) == 0
    assert capsys.readouterr().out.strip() == f"the database is at head: revision {HEAD}"
    assert main(["migrate"]) == 0  # again: nothing to do, and it says so
    assert capsys.readouterr().out.splitlines() == [
        f"revision before: {HEAD}",
        f"revision after: {HEAD} (nothing to apply)",
    ]


def test_check_names_the_pending_revisions_and_changes_nothing(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    older, *pending = all_revisions()[-3:]
    command.upgrade(alembic_config(db_env), older)  # a database an older release left
    assert main(["migrate", "--check"]) == 1
    assert capsys.readouterr().out.strip() == (
        f"the database is at revision {older}; {len(pending)} pending: {', '.join(pending)} "
        "(`homeward migrate` applies them)"
    )
    assert _revision(db_env) == older
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"revision before: {older}",
        f"revision after: {HEAD}",
    ]


def test_a_schema_newer_than_this_release_is_refused_by_both(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(db_env)
    upgrade(engine)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE alembic_version SET version_num = '9999'")
    engine.dispose()
    for argv in (["migrate", "--check"], ["migrate"]):
        assert main(argv) == 2
        assert "schema is at revision '9999'" in capsys.readouterr().err


@pytest.mark.parametrize(
    "form", ["sqlite:///{path}?timeout=30", "sqlite+pysqlite:///{path}"], ids=["query", "driver"]
)
def test_check_reads_a_sqlite_url_with_a_driver_or_a_query(
    db_env: str, form: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`--check` judged the URL as a string: a query made a database at head look never
    migrated (exit 1), and a driver name let it create the missing file it was only to look at."""
    path = Path(db_env.removeprefix("sqlite:///"))
    monkeypatch.setenv("DATABASE_URL", form.format(path=path))
    get_settings.cache_clear()
    assert main(["migrate", "--check"]) == 1
    assert not path.exists()
    assert main(["migrate"]) == 0
    capsys.readouterr()
    assert main(["migrate", "--check"]) == 0
    assert capsys.readouterr().out.strip() == f"the database is at head: revision {HEAD}"


@pytest.mark.parametrize("flag", ["true", "1", "True"])
def test_check_leaves_a_uri_mode_sqlite_name_to_sqlite(
    db_env: str, flag: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`sqlite:///file:PATH?uri=1` is URI mode however the flag is written (SQLAlchemy reads
    it as a boolean): its `file:` name is not a path to look for, so a database at head is at
    head, not "never migrated"."""
    path = Path(db_env.removeprefix("sqlite:///"))
    assert main(["migrate"]) == 0
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///file:{path}?uri={flag}")
    get_settings.cache_clear()
    capsys.readouterr()
    assert main(["migrate", "--check"]) == 0
    assert capsys.readouterr().out.strip() == f"the database is at head: revision {HEAD}"


def test_a_migrate_that_waited_for_another_says_it_had_nothing_to_apply(
    db_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `homeward migrate` at once: the one that waited for the migration lock finds the
    schema at head, and says so, rather than 'before: none' read before it waited."""
    real_lock = storage._sqlite_file_lock

    @contextmanager
    def another_migrates_first(engine: Engine) -> Iterator[None]:
        monkeypatch.setattr(storage, "_sqlite_file_lock", real_lock)
        other = make_engine(db_env)  # the other process, which took the lock first
        upgrade(other)
        other.dispose()
        with real_lock(engine):
            yield

    monkeypatch.setattr(storage, "_sqlite_file_lock", another_migrates_first)
    assert main(["migrate"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        f"revision before: {HEAD}",
        f"revision after: {HEAD} (nothing to apply)",
    ]
