"""What `homeward import` says while it works: the database is named before the file is read
(a large file was met with nothing until it had been read and judged), and the file's rows and
series once it has been read, before storing it (the longest part of a large import)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from homeward import commands
from homeward.cli import main
from homeward.ingest import parse_upload

HEAD = "unique_id,ds,y\n"
A, B = "referrals/ot/rugby", "referrals/hao/rugby"
FILE = HEAD + "".join(f"{sid},2025-{m:02d}-01,{m}\n" for sid in (A, B) for m in (1, 2, 3))


def _messages(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "homeward"]


def test_the_database_is_named_before_the_file_is_read(
    db_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Named once, first: before the file is read, not when the database is migrated."""
    path = tmp_path / "long.csv"
    path.write_text(FILE)
    named_when_read: list[bool] = []
    read_bytes = Path.read_bytes

    def reading(self: Path) -> bytes:
        if self == path:
            named_when_read.append(any(m.startswith("database ") for m in _messages(caplog)))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", reading)
    caplog.set_level(logging.INFO, logger="homeward")
    assert main(["import", str(path)]) == 0
    assert named_when_read == [True]
    messages = _messages(caplog)
    assert messages[0] == f"database {db_env}"
    assert [m for m in messages if m.startswith("database ")] == [messages[0]]


def test_a_refused_file_is_told_after_the_database_line(
    db_env: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEAD + f"{A},2025-01-01,abc\n")
    caplog.set_level(logging.INFO, logger="homeward")
    assert main(["import", str(path)]) == 2
    assert _messages(caplog)[0] == f"database {db_env}"
    assert "abc" in capsys.readouterr().err
    assert not any(m.startswith("read ") for m in _messages(caplog))


@pytest.mark.parametrize("fmt", ["long", "nhs-dtoc"])
def test_the_import_says_when_the_file_is_read_before_storing_it(
    db_env: str,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    fmt: str,
) -> None:
    """Its rows and series, said before the database is even migrated: storing a large file
    is the longest part of its import."""
    path = tmp_path / "long.csv"
    path.write_text(FILE)
    if fmt == "nhs-dtoc":  # read by its own reader, as a DTOC file of two series' rows
        frame = parse_upload(FILE.encode(), source=str(path)).judged().frame
        monkeypatch.setattr(commands, "read_nhs_dtoc", lambda *_a, **_k: frame)
    said_before_migrating: list[bool] = []
    factory = commands._factory

    def migrating(*args: Any, **kwargs: Any) -> Any:
        said_before_migrating.append(any(m.startswith("read ") for m in _messages(caplog)))
        return factory(*args, **kwargs)

    monkeypatch.setattr(commands, "_factory", migrating)
    caplog.set_level(logging.INFO, logger="homeward")
    assert main(["import", "--format", fmt, str(path)]) == 0
    assert said_before_migrating == [True]
    assert f"read 6 rows in 2 series from {path}; storing them" in _messages(caplog)
