"""After a restart: runs the old process left unfinished are closed, and a missed schedule runs.

Jobs run in the service's own process (a thread pool for API jobs, APScheduler's memory store
for the cron), so a stop loses them: their runs would stay 'queued' or 'running' for ever, and
a Monday run due while the service was down would wait a week. On start, the service closes
such runs as 'interrupted' and, if the cron fired while it was down, runs the pipeline once
(several missed firings coalesce into that one run).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeward.clock import utcnow
from homeward.storage import transaction
from models import LockRow, RunRow

UNFINISHED = ("queued", "running")
INTERRUPTED = "interrupted"


def close_interrupted_runs(
    factory: sessionmaker[Session], lock_name: str, stale_after: timedelta
) -> list[int]:
    """Mark runs no process can still be working on as 'interrupted'; their ids.

    A pipeline run is 'running' only while its process holds the pipeline lock, so a running
    pipeline with no live lock was cut off. Anything else unfinished (a queued run, a plan job)
    counts as cut off once it is older than `stale_after` (the lock's lifetime): another
    process of the same service may still be about to run a younger one.
    """
    now = utcnow()
    with transaction(factory) as session:
        lock = session.get(LockRow, lock_name)
        locked = lock is not None and _aware(lock.expires_at) > now
        closed = []
        for run in session.scalars(select(RunRow).where(RunRow.status.in_(UNFINISHED))):
            orphan = run.kind == "pipeline" and run.status == "running" and not locked
            if orphan or now - _aware(run.started_at) > stale_after:
                run.message = (
                    f"interrupted: the service stopped while this run was {run.status}; "
                    "start it again (what it had stored before stopping is kept)"
                )
                run.status, run.finished_at = INTERRUPTED, now
                closed.append(run.id)
        return closed


def missed_firing(factory: sessionmaker[Session], cron: str) -> datetime | None:
    """The first cron firing after the newest pipeline run started, if it is already past.

    None when there has never been a pipeline run (nothing to catch up) or none was missed.
    """
    with factory() as session:
        newest = session.scalars(
            select(RunRow.started_at)
            .where(RunRow.kind == "pipeline")
            .order_by(RunRow.started_at.desc())
            .limit(1)
        ).first()
    if newest is None:
        return None
    trigger = CronTrigger.from_crontab(cron, timezone="UTC")
    after = _aware(newest)
    due: datetime | None = trigger.get_next_fire_time(None, after)
    return due if due is not None and due <= utcnow() else None


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive datetimes; they were stored in UTC."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
