"""Log lines carry an ISO date-time in UTC with 'Z', the level and the logger, one line each,
whatever the host's time zone: runs and schedules are in UTC, and so are the logs."""

from __future__ import annotations

import json
import logging
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeward.cli import LOG_DATE_FORMAT, LOG_FORMAT, JsonFormatter, UtcFormatter, main
from homeward.settings import masked_url

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


def _failed(record: logging.LogRecord) -> logging.LogRecord:
    try:
        raise ValueError("no such district 'rugbby'")
    except ValueError:
        record.exc_info = sys.exc_info()
    return record


@pytest.mark.usefixtures("kolkata")
def test_a_text_line_is_followed_by_its_traceback() -> None:
    formatter = UtcFormatter(LOG_FORMAT, LOG_DATE_FORMAT)
    lines = formatter.format(_failed(_record("homeward", "run failed", 1782883800))).splitlines()
    assert lines[0] == "2026-07-01T05:30:00Z WARNING homeward: run failed"
    assert lines[1] == "Traceback (most recent call last):"
    assert lines[-1] == "ValueError: no such district 'rugbby'"


@pytest.mark.usefixtures("kolkata")
def test_a_json_line_is_one_object_with_utc_time_level_logger_and_message() -> None:
    """HOMEWARD_LOG_FORMAT=json, for a log shipper: one object per line, whatever the message
    holds; a password is masked where a message is made, so the object shows it masked too."""
    url = masked_url("postgresql+psycopg://homeward:s3cret@db:5432/homeward")
    message = f"database {url} unavailable;\n  retrying \u2028 soon"
    line = JsonFormatter().format(_record("uvicorn.error", message, 1782883800.25))
    assert "\n" not in line and "s3cret" not in line
    assert json.loads(line) == {
        "time": "2026-07-01T05:30:00.250Z",
        "level": "WARNING",
        "logger": "uvicorn",
        "message": "database postgresql+psycopg://homeward:***@db:5432/homeward unavailable;"
        "\n  retrying \u2028 soon",
    }
    assert len(line.splitlines()) == 1


def test_a_json_line_carries_its_traceback_and_extra_fields() -> None:
    record = _failed(_record("homeward.access", "GET /v1/series 500", 0))
    record.status, record.key = 500, "bi-tool"  # as `extra=` sets them
    entry = json.loads(JsonFormatter().format(record))
    assert entry["exc_info"].startswith("Traceback (most recent call last):")
    assert entry["exc_info"].endswith("ValueError: no such district 'rugbby'")
    assert (entry["status"], entry["key"], entry["message"]) == (500, "bi-tool", record.msg)
    assert set(entry) == {"time", "level", "logger", "message", "exc_info", "status", "key"}


def test_a_json_lines_own_fields_are_not_overwritten_by_extras() -> None:
    record = _record("homeward.access", "GET /v1/series 200", 0)
    record.level, record.time, record.logger = "FAKE", "forged", "another"  # as `extra=` would
    entry = json.loads(JsonFormatter().format(record))
    assert (entry["level"], entry["logger"]) == ("WARNING", "homeward.access")
    assert entry["time"] == "1970-01-01T00:00:00.000Z"


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("HOMEWARD_LOG_LEVEL", "verbose", "expected one of DEBUG, INFO, WARNING, ERROR"),
        ("HOMEWARD_LOG_FORMAT", "xml", "expected 'text' or 'json'"),
    ],
)
def test_a_log_setting_that_cannot_work_is_refused_naming_it(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    expected: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert main(["keys", "list"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert f"{name}: {expected}, found {value!r}" in line, line


def test_the_command_logs_json_at_the_level_set(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'log.db'}",
        "HOMEWARD_DATA_DIR": str(tmp_path),
        "HOMEWARD_LOG_FORMAT": "json",
        "HOMEWARD_LOG_LEVEL": "debug",
    }
    done = subprocess.run(
        [sys.executable, "-m", "homeward.cli", "keys", "list"],
        cwd=ROOT, env=env, capture_output=True, text=True, check=True, timeout=120,
    )  # fmt: skip
    entries = [json.loads(line) for line in done.stderr.strip().splitlines()]
    assert any(e["message"].startswith("database sqlite:///") for e in entries), entries
    assert "DEBUG" in {e["level"] for e in entries}, entries  # INFO, the default, drops them
