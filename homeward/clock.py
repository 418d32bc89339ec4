"""The one place the service reads the clock and its own version, so engines stay pure."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path


def utcnow() -> datetime:
    """Timezone-aware now, in UTC."""
    return datetime.now(UTC)


def utc_text(moment: datetime) -> str:
    """A moment as the API's JSON writes every one: ISO 8601 in UTC, `Z` for its zone
    (`2026-11-25T08:00:00Z`); a naive one (SQLite hands them back) is taken as UTC."""
    in_utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return in_utc.isoformat().removesuffix("+00:00") + "Z"


@lru_cache(maxsize=1)
def code_version() -> str:
    """Package version plus the git commit when running from a checkout."""
    try:
        base = version("homeward")
    except PackageNotFoundError:
        base = "0+unknown"
    root = Path(__file__).resolve().parents[1]
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return base
    commit = out.stdout.strip()
    return f"{base}+g{commit}" if out.returncode == 0 and commit else base
