"""Runs a stopped process left unfinished are closed, and a missed schedule runs once.

Jobs run in the service's own process (a thread pool for API jobs, APScheduler's memory store
for the cron), so a stop loses them: their runs would stay 'queued' or 'running' for ever, and
a Monday run due while the service was down would wait a week. At start, and then every
lease period while the scheduler runs, the service closes such runs as 'interrupted' and, if
the cron fired since the newest pipeline run that was not interrupted, runs the pipeline once
(several missed firings coalesce into that one run). A running pipeline renews its lock every
third of its lease, so a lock left by a killed process frees within one lease.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from homeward.clock import utcnow
from homeward.storage import transaction
from models import LockRow, RunRow

UNFINISHED = ("queued", "running")
INTERRUPTED = "interrupted"
NOT_RUN = (INTERRUPTED, "skipped")  # cut off, or never started (another run held the lock)


# Queued runs and plan jobs hold no lock; one this old is no longer waiting in any process
# (API jobs run one at a time, and no pipeline takes this long).
STALE_JOB = timedelta(hours=6)


def close_interrupted_runs(
    factory: sessionmaker[Session], lock_name: str, stale_after: timedelta = STALE_JOB
) -> list[int]:
    """Mark runs no process can still be working on as 'interrupted'; their ids.

    A pipeline run is 'running' only while its process holds (and renews) the pipeline lock,
    so a running pipeline with no live lock was cut off. Anything else unfinished (a queued
    run, a plan job) counts as cut off once it is older than `stale_after`. The runs are read
    before the lock, and each is closed only if it is still unfinished, so a run that starts
    or finishes meanwhile is left alone.
    """
    now = utcnow()
    with factory() as session:
        candidates = [
            (run.id, run.kind, run.status, _aware(run.started_at))
            for run in session.scalars(select(RunRow).where(RunRow.status.in_(UNFINISHED)))
        ]
        lock = session.get(LockRow, lock_name)
        locked = lock is not None and _aware(lock.expires_at) > now
    closed = []
    with transaction(factory) as session:
        for run_id, kind, status, started in candidates:
            orphan = kind == "pipeline" and status == "running" and not locked
            if not (orphan or now - started > stale_after):
                continue
            message = (
                f"interrupted: the service stopped while this run was {status}; "
                "start it again (what it had stored before stopping is kept)"
            )
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == status)
                .values(status=INTERRUPTED, finished_at=now, message=message)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                closed.append(run_id)
    return closed


def missed_firing(factory: sessionmaker[Session], cron: str) -> datetime | None:
    """The first cron firing after the newest pipeline run that was not interrupted or skipped
    started, if it is already past (a failed run counts as run: retrying it is a person's call).

    None when there has never been a pipeline run (nothing to catch up) or none was missed.
    """
    with factory() as session:
        newest = session.scalars(
            select(RunRow.started_at)
            .where(RunRow.kind == "pipeline", RunRow.status.not_in(NOT_RUN))
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
