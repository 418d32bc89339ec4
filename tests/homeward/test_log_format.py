"""Log lines carry an ISO date-time in UTC with 'Z', the level and the logger, one line each,
whatever the host's time zone: runs and schedules are in UTC, and so are the logs."""

from __future__ import annotations

import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeward.cli import LOG_DATE_FORMAT, LOG_FORMAT, UtcFormatter

ROOT = Path(__file__).resolve().parents[2]
LINE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ (DEBUG|INFO|WARNING|ERROR|CRITICAL) [\w.]+: ")


def _record(name: str, message: str, created: float) -> logging.LogRecord:
    return logging.makeLogRecord(
        {"name": name, "levelno": logging.WARNING, "levelname": "WARNING", "msg": message,
         "created": created}
    )  # fmt: skip


@pytest.fixture
def kolkata(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """This process in a zone that is never UTC (+05:30)."""
    monkeypatch.setenv("TZ", "Asia/Kolkata")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.usefixtures("kolkata")
def test_a_line_says_the_utc_date_time_level_and_logger_on_one_line() -> None:
    formatter = UtcFormatter(LOG_FORMAT, LOG_DATE_FORMAT)
    # 1 July 2026 05:30 UTC: 06:30 in London, 11:00 in Kolkata; the line says 05:30Z
    record = _record(
        "homeward.scheduler", "runs [3] were cut off;\n  marked interrupted", 1782883800
    )
    assert formatter.format(record) == (
        "2026-07-01T05:30:00Z WARNING homeward.scheduler: runs [3] were cut off; | marked "
        "interrupted"
    )


def test_uvicorns_server_lines_are_not_named_errors() -> None:
    formatter = UtcFormatter(LOG_FORMAT, LOG_DATE_FORMAT)
    record = _record("uvicorn.error", "Application startup complete.", 0)
    assert (
        formatter.format(record)
        == "1970-01-01T00:00:00Z WARNING uvicorn: Application startup complete."
    )
    assert record.name == "uvicorn.error"  # another handler's record is left as it was


def test_the_command_logs_in_that_format_in_another_time_zone(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "TZ": "Asia/Kolkata",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "HOMEWARD_DATA_DIR": str(tmp_path),
    }
    done = subprocess.run(
        [sys.executable, "-m", "homeward.cli", "keys", "list"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    lines = done.stderr.strip().splitlines()
    assert any(" INFO homeward: database sqlite:///" in line for line in lines)
    assert [line for line in lines if not LINE.match(line)] == []
