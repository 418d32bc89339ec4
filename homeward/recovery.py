"""Runs a stopped process left unfinished are closed, and a missed schedule runs once.

Jobs run in the service's own process (a thread pool for API jobs, APScheduler's memory store
for the cron), so a stop loses them: their runs would stay 'queued' or 'running' for ever, and
a Monday run due while the service was down would wait a week. At start, and then every
lease period while the scheduler runs, the service closes such runs as 'interrupted' and, if
the cron fired since the newest pipeline run that was not interrupted, runs the pipeline once
(several missed firings coalesce into that one run). A running pipeline renews its lock every
third of its lease, so a lock left by a killed process frees within one lease; sooner when the
holder was a process on this host (`<pid>@<host>`) that is no longer alive: recovery frees its
lock at once. The lock names the run its holder works on, so a running run it does not name
(a killed process's, after another took the lock) is closed even while the lock is held.
Only this host's pids are judged: on PostgreSQL other hosts share the database, and their
locks wait for their lease (so hosts sharing a database need distinct host names).

A clean stop (SIGTERM, Ctrl-C) does not wait for that: the stopping process marks the runs it
was working on 'interrupted' and gives its lock back (`runs_held_by`, `close_stopped_runs`).
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import stat
import tempfile
import time
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import delete, or_, select, update
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from homeward import run_events
from homeward.clock import utcnow
from homeward.settings import crontab_trigger
from homeward.storage import transaction
from models import LockRow, RunRow
from models.tables import RunTrigger
from optimise.pulp_backend import SOLVER_DIR_PREFIX, solver_dir_owner

log = logging.getLogger(__name__)

UNFINISHED = ("queued", "running")
INTERRUPTED = "interrupted"
NOT_RUN = (INTERRUPTED, "skipped")  # cut off, or never started (another run held the lock)
# How a pipeline run whose forecast workers a stop ended records its failure
# (forecast.parallel.WorkersStopped): cut off by the stop, so closed as interrupted too.
STOPPED_FAILURE = "WorkersStopped:%"
# How a pipeline run failed by the database's absence starts its message (homeward.pipeline
# records it so): recovery runs it again once the database answers, as a cut-off run.
DATABASE_FAILURE = "database unavailable: "
# SQLSTATEs of a server going away or not yet taking connections (admin_shutdown,
# crash_shutdown, cannot_connect_now); class 08 is a connection exception
_SERVER_GONE = ("57P01", "57P02", "57P03")


# Queued runs and plan jobs hold no lock; one this old is no longer waiting in any process
# (API jobs run one at a time, and no pipeline takes this long).
STALE_JOB = timedelta(hours=6)


def close_interrupted_runs(
    factory: sessionmaker[Session], lock_name: str, stale_after: timedelta = STALE_JOB
) -> list[int]:
    """Mark runs no process can still be working on as 'interrupted'; their ids.

    A pipeline run is 'running' only while its process holds (and renews) the pipeline lock,
    so a running pipeline with no live lock was cut off, and so is one the live lock does not
    name once its holder has named its own run (a killed process's run, after another process
    took the lock); a lock held by a dead process of this host is freed first
    (`free_dead_lock`). A run whose process is alive on this host is left alone all the same
    (it lost its lease while the database was away, and goes on). Anything else unfinished
    (a queued run, a plan job) counts as cut off once it is older than `stale_after`. The
    runs are read before the lock, and each is closed only if it is still unfinished, so a
    run that starts or finishes meanwhile is left alone.
    """
    free_dead_lock(factory, lock_name)
    now = utcnow()
    with factory() as session:
        # a run whose process is alive here is no orphan, lock or no lock; it is still cut
        # off once stale (its pid taken by another process since, say)
        candidates = [
            (
                run.id,
                run.kind,
                run.status,
                as_utc(run.started_at),
                _alive_here(run.holder),
                run.holder == lock_holder(),  # this live process's own
            )
            for run in session.scalars(
                select(RunRow).where(RunRow.status.in_(UNFINISHED)).order_by(RunRow.id)
            )
        ]
        lock = session.get(LockRow, lock_name)
        locked = lock is not None and as_utc(lock.expires_at) > now
        # None while the holder has not yet recorded its run (or runs none): then no run is
        # known not to be its own
        locked_run = lock.run_id if lock is not None and locked else None
    closed = []
    with transaction(factory) as session:
        for run_id, kind, status, started, alive, own in candidates:
            unlocked = not locked or (locked_run is not None and run_id != locked_run)
            orphan = not alive and kind == "pipeline" and status == "running" and unlocked
            if not (orphan or now - started > stale_after):
                continue
            message = _cut_off_message(status, own)
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, RunRow.status == status)
                .values(status=INTERRUPTED, finished_at=now, message=message)
            )
            if result.rowcount:  # type: ignore[attr-defined]
                run_events.note_ended(session, kind, INTERRUPTED)
                closed.append(run_id)
    return closed


def _cut_off_message(status: str, own: bool) -> str:
    """Why a run was closed as interrupted. One of this live process's own (`own`) was not cut
    off by a stop, which closes its runs itself (`close_stopped_runs`), but by the database
    going away for longer than its pipeline tried to record the run's end."""
    why = (
        "cut off: its process lost the database (the service kept running)"
        if own
        else f"the service stopped while this run was {status}"
    )
    return f"interrupted: {why}; start it again (what it had stored before stopping is kept)"


# This process's own mark in its holder name: a container restarted keeps its host name and
# often its server's pid, so a lock its killed predecessor left names this very pid; the
# token tells the two apart, whichever of this process's threads asks
_TOKEN = secrets.token_hex(4)


def lock_holder() -> str:
    """This process, as it names itself when it holds a lock (homeward.pipeline's holder):
    '<pid>@<host>#<token>'."""
    return f"{os.getpid()}@{os.uname().nodename}#{_TOKEN}"


def free_dead_lock(factory: sessionmaker[Session], lock_name: str) -> str | None:
    """Delete `lock_name` if its holder was a process on this host that is no longer alive
    (`kill -9`, out of memory, a power cut), rather than wait up to a lease for it to expire;
    the holder freed, if any. A holder on another host is left to its lease: its pids are not
    this host's to judge."""
    with factory() as session:
        lock = session.get(LockRow, lock_name)
        holder = lock.holder if lock is not None else None
    if holder is None or _judged_here(holder) is not False:
        return None
    with transaction(factory) as session:
        freed = session.execute(
            delete(LockRow).where(LockRow.name == lock_name, LockRow.holder == holder)
        )
    if not freed.rowcount:  # type: ignore[attr-defined]
        return None
    log.warning("pipeline lock freed: its holder %s is no longer running", holder)
    return holder


def _judged_here(holder: str) -> bool | None:
    """Whether `holder` ("<pid>@<host>#<token>", or "<what>:" before it; older releases wrote
    no token) is alive, if it names a process on this host; None for another host's (or a
    name of another form). This process's own pid is this process only with its own token:
    otherwise it was a predecessor's that had the same pid."""
    name, _, token = holder.partition("#")
    who, at, host = name.rpartition("@")
    pid = who.rpartition(":")[2]
    if not at or host != os.uname().nodename or not pid.isdigit():
        return None
    if int(pid) == os.getpid():
        return token == _TOKEN
    return _alive(int(pid))


def _alive_here(holder: str | None) -> bool:
    """Whether another live process of this host runs the run `holder` names. This process's
    own runs are judged by the lock alone: its pipeline works on a run only while it holds the
    lock naming it, so one of its runs the lock does not name was cut off (a stop's)."""
    if holder is None or holder.partition("#")[2] == _TOKEN:
        return False
    return _judged_here(holder) is True


def _alive(pid: int) -> bool:
    """Whether a process with this pid exists on this host (another user's counts)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except (OverflowError, ValueError):  # no such pid can exist
        return False
    return True


def runs_held_by(factory: sessionmaker[Session], lock_name: str, holder: str) -> list[int]:
    """The running pipeline runs that `holder` is working on: all of them while it holds the
    lock (a pipeline runs only under it), none otherwise."""
    with factory() as session:
        lock = session.get(LockRow, lock_name)
        if lock is None or lock.holder != holder:
            return []
        return list(
            session.scalars(
                select(RunRow.id).where(RunRow.kind == "pipeline", RunRow.status == "running")
            )
        )


def wait_until_finished(
    factory: sessionmaker[Session], run_ids: Collection[int], timeout_s: float
) -> None:
    """Wait up to `timeout_s` for the runs to leave 'running' (a run whose workers a stop
    ended records that at once; one that is planning may still finish)."""
    deadline = time.monotonic() + timeout_s
    while run_ids and time.monotonic() < deadline:
        with factory() as session:
            running = session.scalar(
                select(RunRow.id).where(RunRow.id.in_(run_ids), RunRow.status == "running")
            )
        if running is None:
            return
        time.sleep(0.1)


def close_stopped_runs(
    factory: sessionmaker[Session], run_ids: Collection[int], lock_name: str, holder: str
) -> list[int]:
    """At a clean stop: mark the runs this process was working on (or had queued) as
    'interrupted', as recovery would at the next start, and give back the lock if `holder`
    still holds it, so the next start (or another process) can run the pipeline at once.

    A run that finished meanwhile keeps its outcome, except a failure the stop caused (its
    forecast workers ended under it). The ids of the runs closed.
    """
    now = utcnow()
    closed = []
    with transaction(factory) as session:
        for run_id in run_ids:
            found = session.execute(
                select(RunRow.kind, RunRow.status).where(RunRow.id == run_id)
            ).one_or_none()
            kind, status = found if found is not None else (None, None)
            cut_off = or_(
                RunRow.status.in_(UNFINISHED),
                (RunRow.status == "failed") & RunRow.message.like(STOPPED_FAILURE),
            )
            result = session.execute(
                update(RunRow)
                .where(RunRow.id == run_id, cut_off)
                .values(status=INTERRUPTED, finished_at=now, message=_stopped_message(status))
            )
            if result.rowcount:  # type: ignore[attr-defined]
                if kind is not None and status in UNFINISHED:  # a failure was told as one
                    run_events.note_ended(session, kind, INTERRUPTED)
                closed.append(run_id)
        session.execute(delete(LockRow).where(LockRow.name == lock_name, LockRow.holder == holder))
    return closed


def _stopped_message(status: str | None) -> str:
    was = "queued" if status == "queued" else "running"
    return (
        f"interrupted: the service was stopped while this run was {was}; "
        "start it again (what it had stored before stopping is kept)"
    )


def missed_firing(factory: sessionmaker[Session], cron: str, timezone: str) -> datetime | None:
    """The first cron firing after the newest pipeline run that was not interrupted or skipped
    started, if it is already past (a failed run counts as run: retrying it is a person's call,
    unless the database's absence failed it, which `cut_off_to_retry` runs again once).
    The cron's hours are in `timezone` (HOMEWARD_SCHEDULE_TIMEZONE), as the scheduler's are, so
    a firing is not found missed, or missed, an hour off the one the scheduler keeps.

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
    trigger = crontab_trigger(cron, timezone)
    # the next firing strictly after the run started: a run started at a firing's very instant
    # (a scheduler that fires on time, to the microsecond) is that firing, not one before it
    after = as_utc(newest) + timedelta(microseconds=1)
    due: datetime | None = trigger.get_next_fire_time(None, after)
    return due if due is not None and due <= utcnow() else None


RETRY_TRIGGER: RunTrigger = (
    "recovery"  # a cut-off pipeline run's one retry; its own cut-off is not retried
)


def cut_off_to_retry(factory: sessionmaker[Session]) -> int | None:
    """The newest pipeline run (skipped ones aside) if a stop cut it off, or the database's
    absence failed it (`DATABASE_FAILURE`: a PostgreSQL restart longer than the run tried to
    record its end for), and it was not itself a retry: the data or config it was to plan
    stays unplanned until it runs again, and a restart's own run may have been skipped while
    the killed process's lock was live. One retry only, so a run that kills its process (out
    of memory) does not loop. A run failed for any other reason is a person's call."""
    with factory() as session:
        newest = session.scalars(
            select(RunRow)
            .where(RunRow.kind == "pipeline", RunRow.status != "skipped")
            .order_by(RunRow.started_at.desc(), RunRow.id.desc())
            .limit(1)
        ).first()
        if newest is None or newest.trigger == RETRY_TRIGGER or not _cut_off(newest):
            return None
        return newest.id


def _cut_off(run: RunRow) -> bool:
    """Whether `run` ended by a stop or by the database's absence, not by its own fault."""
    failed_by_database = run.status == "failed" and (run.message or "").startswith(DATABASE_FAILURE)
    return run.status == INTERRUPTED or failed_by_database


def retry_cause(factory: sessionmaker[Session], run_id: int) -> str:
    """Why `cut_off_to_retry`'s run is run again, as the log says it: 'was cut off by a stop'
    or 'failed: the database was unavailable'."""
    with factory() as session:
        run = session.get(RunRow, run_id)
        failed = run is not None and run.status == "failed"
    return "failed: the database was unavailable" if failed else "was cut off by a stop"


def database_unavailable(exc: BaseException) -> bool:
    """Whether `exc` says the database could not be reached or went away (connection refused
    or dropped, a server shutting down or starting up), not that it refused a statement (a
    statement timeout, a lock not available, a constraint): a connection failure has no
    SQLSTATE from the server, or one of class 08 or `_SERVER_GONE`. SQLite's errors never
    carry a SQLSTATE: only a file it could not open or read counts there ("no such table",
    "database is locked" are refusals, not an outage)."""
    if not isinstance(exc, (OperationalError, InterfaceError)):
        return False
    if not hasattr(exc.orig, "sqlstate"):  # SQLite's (psycopg's errors all have one, or None)
        return any(words in str(exc.orig).lower() for words in _SQLITE_GONE)
    sqlstate = getattr(exc.orig, "sqlstate", None)
    return sqlstate is None or str(sqlstate).startswith("08") or sqlstate in _SERVER_GONE


# what SQLite says when its file cannot be reached (removed, unmounted, a failing disk)
_SQLITE_GONE = ("unable to open database file", "disk i/o error")


def as_utc(moment: datetime) -> datetime:
    """A stored moment in UTC: SQLite hands back naive datetimes, stored in UTC; PostgreSQL
    aware ones in its session's time zone (Europe/London on many servers), converted here so
    that a time printed with 'Z' or 'UTC' is one."""
    return moment.astimezone(UTC) if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


# A private CBC folder older than this is a leftover whatever its pid says: no solve lasts a day
SOLVER_DIR_STALE_AFTER = timedelta(days=1)


def remove_stale_solver_dirs(root: Path | None = None) -> list[Path]:
    """Remove the private CBC folders (optimise/pulp_backend.py) that a process stopped or
    killed mid-solve left under `root` (default: the system temp dir), with the model files in
    them; the folders removed. Only directories this user owns named
    `homeward-cbc-<pid>-<tag>-...` are touched, and only when that process is gone, when the pid
    is this process's but the tag is not (a predecessor's: a container's server is often pid 1
    at every start), or when the folder is a day old."""
    base = Path(tempfile.gettempdir()) if root is None else root
    stale = [path for path in base.glob(f"{SOLVER_DIR_PREFIX}*") if _stale_solver_dir(path)]
    for path in stale:
        shutil.rmtree(path, ignore_errors=True)
    return stale


def _stale_solver_dir(path: Path) -> bool:
    pid, _, rest = path.name.removeprefix(SOLVER_DIR_PREFIX).partition("-")
    tag, dash, _ = rest.partition("-")
    try:
        info = path.lstat()  # a symlink is not ours to follow
    except OSError:
        return False
    ours = pid.isdigit() and tag and dash and stat.S_ISDIR(info.st_mode)
    if not ours or info.st_uid != os.geteuid():
        return False
    if time.time() - info.st_mtime > SOLVER_DIR_STALE_AFTER.total_seconds():
        return True
    if int(pid) == os.getpid():
        return f"{pid}-{tag}" != solver_dir_owner()
    return not _alive(int(pid))
