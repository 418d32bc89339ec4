"""Runs reaching an end, told to a listener as their transaction commits.

The service counts the runs that end in its process for its metrics (api/metrics.py); the
pipeline, planning and recovery code only write a run's status, as before. A run's row written
through the ORM (its status set to an end and flushed) is noticed here by itself; a bulk
`UPDATE` of runs (homeward.recovery closing runs as interrupted) says so with `note_ended`.
A transaction rolled back tells nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session, UOWTransaction, sessionmaker

from models import RunRow
from models.tables import RunKind, RunStatus

# Every status a run may end with: those a run does not stay in
ENDED: tuple[RunStatus, ...] = tuple(
    s for s in get_args(RunStatus) if s not in ("queued", "running")
)
KINDS: tuple[RunKind, ...] = get_args(RunKind)
_PENDING = "homeward.runs_ended"  # in Session.info: (kind, status) written, not yet committed

OnEnded = Callable[[str, str], None]  # (kind, status)


def notify_ended(factory: sessionmaker[Session], on_ended: OnEnded) -> None:
    """Call `on_ended(kind, status)` once for each run that a session of `factory` commits
    with an ended status it did not have before."""

    def flushed(session: Session, _flush: UOWTransaction) -> None:
        for row in (*session.new, *session.dirty):
            if isinstance(row, RunRow) and row.status in ENDED and _status_set(row):
                note_ended(session, row.kind, row.status)

    def committed(session: Session) -> None:
        for kind, status in session.info.pop(_PENDING, []):
            on_ended(kind, status)

    def rolled_back(session: Session) -> None:
        session.info.pop(_PENDING, None)

    event.listen(factory, "after_flush", flushed)
    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_rollback", rolled_back)


def note_ended(session: Session, kind: str, status: str) -> None:
    """Record that `session`'s transaction ends a run of `kind` with `status`, for the
    listener to hear of when it commits (a bulk UPDATE, which the ORM does not track)."""
    session.info.setdefault(_PENDING, []).append((kind, status))


def _status_set(row: Any) -> bool:
    """Whether this flush writes the row's status (a new row, or its status changed)."""
    return bool(inspect(row).attrs.status.history.added)
