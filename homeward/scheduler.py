"""The pipeline on a cron: one APScheduler 3.x scheduler per service process, one run at a time."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecast.parallel import WorkersStopped
from homeward import audit, retention
from homeward.clock import utcnow
from homeward.pipeline import LOCK_NAME, PipelineBusy, record_skipped, run_of, run_pipeline
from homeward.recovery import (
    RETRY_TRIGGER,
    as_utc,
    close_interrupted_runs,
    cut_off_to_retry,
    missed_firing,
    retry_cause,
)
from homeward.settings import Settings, crontab_trigger
from models import RunRow
from models.tables import RunTrigger

log = logging.getLogger(__name__)
JOB_ID = "homeward-pipeline"
RECOVERY_JOB_ID = "homeward-recovery"


def scheduled_run(
    factory: sessionmaker[Session],
    settings: Settings,
    run_id: int | None = None,
    trigger: RunTrigger | None = None,
    record_skip: bool = True,
) -> None:
    """The job body: run the pipeline, logging (never raising) so the scheduler keeps going.

    A firing that finds the lock held is recorded as a skipped run, unless `record_skip` is
    False: a recovery pass catching up a missed firing tries again at every pass while
    another host's run holds the lock, and would add a skipped run each time.

    `run_id` is a run already queued by the API (or by `homeward demo` serving while it runs,
    `trigger` "demo"); the scheduler's own runs make theirs. A run
    that fails is recorded on its run, and the pipeline has logged its traceback: this logs
    one line (the traceback again only at DEBUG), and a database that is down one line too.
    """
    trigger = trigger or ("scheduler" if run_id is None else "api")
    try:
        outcome = run_pipeline(factory, settings, trigger=trigger, run_id=run_id)
    except PipelineBusy:
        log.warning("%s pipeline run skipped: another run holds the lock", trigger)
        if run_id is None and record_skip:  # an API-queued run is marked skipped already
            _record_skipped(factory, trigger)
    except WorkersStopped:  # a clean stop; the pipeline has logged it and the stop closes it
        pass
    except SQLAlchemyError as exc:  # down or unreachable: the run may not have been recorded
        log.error(
            "%s pipeline %s failed: database unavailable: %s",
            trigger,
            _run_named(exc, run_id),
            _first_line(exc),
        )
        log.debug("the database error", exc_info=True)
    except Exception as exc:  # recorded on the run already; the scheduler must survive it
        log.error(
            "%s pipeline %s failed: %s: %s",
            trigger,
            _run_named(exc, run_id),
            type(exc).__name__,
            _first_line(exc),
        )
        log.debug("the pipeline's error", exc_info=True)
    else:
        log.info(
            "%s pipeline run %d %s%s; plan %s",
            trigger,
            outcome.run_id,
            outcome.status,
            _timings(factory, outcome.run_id),
            outcome.plan_id,
        )
        if outcome.status == "succeeded" and settings.retention_keep_runs is not None:
            _purge(factory, settings, settings.retention_keep_runs)


def _purge(factory: sessionmaker[Session], settings: Settings, keep_runs: int) -> None:
    """HOMEWARD_RETENTION_KEEP_RUNS: `homeward purge --keep-runs` after a run; logged, never
    raised (a lock taken meanwhile, or a database gone, waits for the next run)."""
    lease = timedelta(seconds=settings.pipeline_lock_ttl_s)
    try:
        purged = retention.purge(
            factory, retention.Retention(keep_runs), False, lease, actor=audit.SCHEDULER
        )
    except (retention.PurgeBusy, SQLAlchemyError) as exc:
        log.warning("retention after the run not applied: %s", _first_line(exc))
    else:
        log.info("retention (HOMEWARD_RETENTION_KEEP_RUNS): %s", retention.summary(purged))


def _record_skipped(factory: sessionmaker[Session], trigger: RunTrigger) -> None:
    """A skipped firing as a run, so GET /v1/runs shows it, not only the log."""
    try:
        record_skipped(factory, trigger)
    except SQLAlchemyError as exc:
        log.error(
            "%s pipeline run skipped, not recorded: database unavailable: %s",
            trigger,
            _first_line(exc),
        )


def _run_named(exc: BaseException, run_id: int | None) -> str:
    """'run 12', the run a failure of `run_pipeline` failed, or 'run (not recorded)' when the
    database failed before one was."""
    failed = run_of(exc) or run_id
    return f"run {failed}" if failed is not None else "run (not recorded)"


def _first_line(exc: BaseException) -> str:
    """An error's first line (a SQLAlchemy error goes on with its SQL and a link)."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _timings(factory: sessionmaker[Session], run_id: int) -> str:
    """' in 97.1 s (forecast_s 96.3, plan_s 0.8)' from the run's record; '' if unreadable."""
    try:
        with factory() as session:
            run = session.get(RunRow, run_id)
            timings = dict(run.timings_s) if run is not None else {}
            started, finished = (run.started_at, run.finished_at) if run else (None, None)
    except SQLAlchemyError:
        return ""
    parts = ", ".join(f"{step} {seconds:.1f}" for step, seconds in timings.items())
    took = f" in {(finished - started).total_seconds():.1f} s" if started and finished else ""
    return took + (f" ({parts})" if parts else "")


def recover(factory: sessionmaker[Session], settings: Settings) -> None:
    """The recovery job: close runs a stopped process cut off, then run a missed schedule once
    or else run a cut-off pipeline run again once (a lock left by a killed process has expired
    by now, or the next pass tries again)."""
    try:
        closed = close_interrupted_runs(factory, LOCK_NAME)
        if closed:
            log.warning("runs %s were cut off by a stop; marked interrupted", closed)
        missed = missed_firing(factory, settings.schedule_cron, settings.schedule_timezone)
    except SQLAlchemyError as exc:  # a database blip: the next pass tries again
        log.error("recovery pass skipped: database unavailable: %s", _first_line(exc))
        return
    except Exception:  # the scheduler must survive it
        log.exception("recovery pass failed")
        return
    if missed is not None:
        log.warning(
            "the pipeline due at %s did not run; running it now",
            local_time(missed, settings.schedule_timezone),
        )
        scheduled_run(factory, settings, record_skip=False)
    elif settings.retry_cut_off_runs and (cut_off := cut_off_to_retry(factory)) is not None:
        why = retry_cause(factory, cut_off)
        log.warning("pipeline run %d %s; running it again once", cut_off, why)
        scheduled_run(factory, settings, trigger=RETRY_TRIGGER)


def start_scheduler(
    factory: sessionmaker[Session], settings: Settings, paused: bool = False
) -> BackgroundScheduler:
    """Start a scheduler running the pipeline on settings.schedule_cron, in
    settings.schedule_timezone; if the cron fired while no scheduler was running, the pipeline
    runs once now, and every lease period `recover` closes cut-off runs and catches up a missed
    run (see homeward.recovery)."""
    zone = settings.schedule_timezone
    scheduler = BackgroundScheduler(timezone=ZoneInfo(zone))
    missed = missed_firing(factory, settings.schedule_cron, zone)
    if missed is not None:
        log.warning(
            "the pipeline due at %s did not run (service down); running it now",
            local_time(missed, zone),
        )
    scheduler.add_job(
        scheduled_run,
        crontab_trigger(settings.schedule_cron, zone),
        args=(factory, settings),
        id=JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=settings.schedule_misfire_grace_s,
        **({"next_run_time": utcnow()} if missed is not None else {}),
    )
    scheduler.add_job(
        recover,
        IntervalTrigger(seconds=settings.pipeline_lock_ttl_s, timezone="UTC"),
        args=(factory, settings),
        id=RECOVERY_JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
    )
    scheduler.start(paused=paused)  # paused: jobs are registered but wait for resume()
    next_run = scheduler.get_job(JOB_ID).next_run_time
    log.info(
        "scheduler started: pipeline on cron %r (%s), next run %s",
        settings.schedule_cron,
        zone,
        local_time(next_run, zone) if next_run is not None else "when resumed",
    )
    if missed is None:  # a missed firing's run takes the retry's place
        _say_retry(factory, settings, scheduler.get_job(RECOVERY_JOB_ID).next_run_time)
    return scheduler


def _say_retry(
    factory: sessionmaker[Session], settings: Settings, recovery_at: datetime | None
) -> None:
    """Warn at start-up that a pipeline run a stop cut off will run again at the first recovery
    pass (a lease later), and how to prevent it: otherwise the run an operator stopped comes
    back minutes after the restart without a word until it starts."""
    cut_off = cut_off_to_retry(factory)
    if cut_off is None:
        return
    with factory() as session:
        run = session.get(RunRow, cut_off)
        stopped = as_utc(run.finished_at) if run is not None and run.finished_at else None
    at = f" at {stopped:%Y-%m-%d %H:%M} UTC" if stopped is not None else ""
    why = retry_cause(factory, cut_off)
    if not settings.retry_cut_off_runs:
        log.warning(
            "pipeline run %d %s%s; not run again "
            "(HOMEWARD_RETRY_CUT_OFF_RUNS=false): POST /v1/runs to run the pipeline now",
            cut_off,
            why,
            at,
        )
        return
    when = f"at {recovery_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC" if recovery_at else "when resumed"
    log.warning(
        "pipeline run %d %s%s; it runs again once %s (the recovery "
        "pass), unless another pipeline run starts first; to prevent that, set "
        "HOMEWARD_RETRY_CUT_OFF_RUNS=false and restart before then",
        cut_off,
        why,
        at,
        when,
    )


def local_time(moment: datetime, timezone: str) -> str:
    """'Mon 2026-03-30 06:00 BST': a firing as the schedule's clock shows it, with the zone's
    abbreviation, so an operator reads the hour they wrote in the crontab (and sees BST/GMT).

    By way of UTC: APScheduler gives a firing in the gap the clocks go forward over as the
    time that does not exist ('01:30 GMT' on the spring Sunday, which is 02:30 BST), and
    astimezone to its own zone would hand that back unchanged."""
    return f"{moment.astimezone(UTC).astimezone(ZoneInfo(timezone)):%a %Y-%m-%d %H:%M %Z}"
