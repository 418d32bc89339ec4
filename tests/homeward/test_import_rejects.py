"""Every kind of bad file is rejected by `homeward import`: a located message, nothing written."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from homeward.cli import main
from homeward.settings import get_settings
from homeward.storage import make_engine

GOOD = "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\nreferrals/ot/rugby,2025-01-13,5\n"
HEAD = "unique_id,ds,y\n"

BAD_FILES: dict[str, tuple[bytes, tuple[str, ...]]] = {
    "empty": (b"", ("empty",)),
    "header only": (HEAD.encode(), ("header only",)),
    "binary": (b"\x89PNG\r\n\x1a\n\x00\x00", ("binary",)),
    "not utf-8": (
        "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\nréf/x,2025-01-13,5\n".encode("latin-1"),
        ("row 3", "UTF-8"),
    ),
    "missing column": (b"unique_id,ds\nreferrals/ot/rugby,2025-01-06\n", ("'y'",)),
    "unknown column": (
        b"unique_id,ds,y,colour\nreferrals/ot/rugby,2025-01-06,4,red\n",
        ("'colour'",),
    ),
    "bad id": ((HEAD + "Referrals OT Rugby,2025-01-06,4\n").encode(), ("row 2", "'unique_id'")),
    "bad date": (
        (HEAD + "referrals/ot/rugby,2025-13-06,4\n").encode(),
        ("row 2", "'ds'", "2025-13-06"),
    ),
    "not a monday": ((HEAD + "referrals/ot/rugby,2025-01-07,4\n").encode(), ("row 2", "Monday")),
    "text value": (
        (HEAD + "referrals/ot/rugby,2025-01-06,four\n").encode(),
        ("row 2", "'y'", "four"),
    ),
    "negative value": (
        (HEAD + "referrals/ot/rugby,2025-01-06,-4\n").encode(),
        ("row 2", "'y'", "-4"),
    ),
    "value in other digits": (  # float() reads '１２' as 12; the file is refused as its date is
        (HEAD + "referrals/ot/rugby,2025-01-06,１２\n").encode(),
        ("row 2", "'y'", "digits other than 0-9: write 12"),
    ),
    "date in other digits": (
        (HEAD + "referrals/ot/rugby,٢٠٢٥-٠١-٠٦,4\n").encode(),
        ("row 2", "'ds'", "digits other than 0-9: write 2025-01-06"),
    ),
    "blank value": ((HEAD + "referrals/ot/rugby,2025-01-06,\n").encode(), ("row 2", "'y'")),
    "infinite value": ((HEAD + "referrals/ot/rugby,2025-01-06,inf\n").encode(), ("row 2", "'y'")),
    "duplicate": (
        (HEAD + "referrals/ot/rugby,2025-01-06,4\nreferrals/ot/rugby,2025-01-06,5\n").encode(),
        ("row 3", "second row", "row 2"),
    ),
    "gap": (  # a series not stored yet: the stored rugby history would fill 2025-01-13
        (HEAD + "referrals/ot/warwick,2025-01-06,4\nreferrals/ot/warwick,2025-01-20,5\n").encode(),
        ("referrals/ot/warwick", "2025-01-13"),
    ),
    "ragged row": ((HEAD + "referrals/ot/rugby,2025-01-06,4,9\n").encode(), ("row 2",)),
    "semicolon-separated": (
        b"unique_id;ds;y\nreferrals/ot/rugby;2025-01-20;4\n",
        ("row 1", "'unique_id;ds;y'", "semicolon-separated", "CSV (comma delimited)"),
    ),
    "tab-separated": (
        b"unique_id\tds\ty\nreferrals/ot/rugby\t2025-01-20\t4\n",
        ("row 1", "tab-separated", "CSV (comma delimited)"),
    ),
    "empty header over values": (
        b"unique_id,ds,y,\nreferrals/ot/rugby,2025-01-20,4,\nreferrals/ot/rugby,2025-01-27,5,n\n",
        ("row 1", "column 4", "row 3", "'n'"),
    ),
    "gap with stored history": (
        (HEAD + "referrals/ot/rugby,2025-03-03,4\n").encode(),
        ("referrals/ot/rugby", "stored history"),
    ),
}


@pytest.fixture
def database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url = f"sqlite:///{tmp_path / 'rejects.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    good = tmp_path / "good.csv"
    good.write_text(GOOD)
    assert main(["import", str(good)]) == 0
    yield url
    get_settings.cache_clear()


def _table_counts(url: str) -> tuple[int, int, int]:
    engine = make_engine(url)
    with engine.connect() as conn:
        counts = tuple(
            int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("observations", "series", "imports")
        )
    engine.dispose()
    return counts  # type: ignore[return-value]


@pytest.mark.parametrize("kind", sorted(BAD_FILES))
def test_bad_file_is_rejected_whole(
    kind: str, database: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    content, must_mention = BAD_FILES[kind]
    before = _table_counts(database)
    path = tmp_path / "bad.csv"
    path.write_bytes(content)
    capsys.readouterr()
    assert main(["import", str(path)]) == 2
    message = capsys.readouterr().err
    for fragment in must_mention:
        assert fragment.lower() in message.lower(), f"{kind}: {fragment!r} not in {message!r}"
    assert "expected" in message and "found" in message
    assert _table_counts(database) == before == (2, 1, 1)


def test_a_file_is_checked_before_the_database_is_connected_to(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A bad file was once met with "database error" when the server was down: the user fixed
    # the wrong thing first. Its own problems come first; a good file's import then says why
    # it could not be stored.
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:p@127.0.0.1:1/homeward")
    get_settings.cache_clear()  # nothing listens on port 1
    bad, good = tmp_path / "bad.csv", tmp_path / "good.csv"
    bad.write_bytes(BAD_FILES["text value"][0])
    good.write_text(GOOD)
    try:
        assert main(["import", str(bad)]) == 2
        message = capsys.readouterr().err
        assert "row 2" in message and "'four'" in message and "DATABASE_URL" not in message
        assert main(["import", str(good)]) == 2
        message = capsys.readouterr().err
        assert "database error (check DATABASE_URL)" in message and "127.0.0.1" in message
    finally:
        get_settings.cache_clear()
