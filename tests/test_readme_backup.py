"""The README's SQLite backup and restore commands, run as written: the restore named a fixed
day's file, and `sqlite3.connect` of a name that does not exist makes a new, empty database,
so on any other day it copied an empty database over the live one and exited 0."""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
import sys
from datetime import date
from pathlib import Path

import pandas as pd

from homeward import repository
from homeward.storage import make_engine, session_factory, transaction, upgrade

ROOT = Path(__file__).resolve().parents[1]


def _block(holding: str) -> str:
    """The README's ```sh block holding `holding`."""
    blocks = re.findall(r"```sh\n(.*?)```", (ROOT / "README.md").read_text(), re.S)
    [block] = [b for b in blocks if holding in b]
    if shutil.which("sqlite3") is None:  # the CLI's line is an alternative to the one before
        block = "\n".join(line for line in block.splitlines() if not line.startswith("sqlite3 "))
    return block


def _run(block: str, where: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-c", block], cwd=where, capture_output=True, text=True, timeout=120, check=False
    )


def _observations(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return int(connection.execute("select count(*) from observations").fetchone()[0])


def test_the_readme_backup_and_restore_run_and_a_wrong_name_restores_nothing(
    tmp_path: Path,
) -> None:
    (tmp_path / ".venv").symlink_to(Path(sys.executable).parents[1])  # `.venv/bin/...` as written
    (tmp_path / "var").mkdir()
    live = tmp_path / "var" / "homeward.db"
    engine = make_engine(f"sqlite:///{live}")
    upgrade(engine)
    weeks = pd.date_range("2025-01-06", periods=10, freq="W-MON")
    frame = pd.DataFrame({"unique_id": "referrals/ot/rugby", "ds": weeks, "y": 3.0})
    with transaction(session_factory(engine)) as session:
        repository.store_observations(session, frame, "test", "hash")
    engine.dispose()
    backup = _run(_block("BACKUP=backups/homeward-$(date +%F).db"), tmp_path)
    assert backup.returncode == 0, backup.stderr
    assert "the database is at head" in backup.stdout + backup.stderr
    made = tmp_path / "backups" / f"homeward-{date.today():%Y-%m-%d}.db"
    assert _observations(made) == 10
    restore = _block("the one to restore")
    # as written, it names a day's file that is not there: refused, the live database kept
    if not (tmp_path / "backups" / "homeward-2026-11-24.db").exists():
        refused = _run(restore, tmp_path)
        assert refused.returncode != 0 and "unable to open database file" in refused.stderr
        assert _observations(live) == 10
    with sqlite3.connect(live) as connection:  # a change since the backup, which it undoes
        connection.execute("delete from observations")
    named = re.sub(r"homeward-\d{4}-\d{2}-\d{2}\.db", made.name, restore)
    restored = _run(named, tmp_path)
    assert restored.returncode == 0, restored.stderr
    assert _observations(live) == 10
