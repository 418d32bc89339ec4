"""The pipeline on a cron: one APScheduler 3.x scheduler per service process, one run at a time."""

from __future__ import annotations

import logging

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from homeward.pipeline import PipelineBusy, run_pipeline
from homeward.settings import Settings

log = logging.getLogger(__name__)
JOB_ID = "homeward-pipeline"


def scheduled_run(
    factory: sessionmaker[Session], settings: Settings, run_id: int | None = None
) -> None:
    """The job body: run the pipeline, logging (never raising) so the scheduler keeps going.

    `run_id` is a run already queued by the API; the scheduler's own runs make theirs.
    """
    try:
        run_pipeline(
            factory, settings, trigger="scheduler" if run_id is None else "api", run_id=run_id
        )
    except PipelineBusy:
        log.warning("scheduled pipeline skipped: another run holds the lock")
    except Exception:  # recorded on the run already; the scheduler must survive it
        log.exception("scheduled pipeline run failed")


def start_scheduler(factory: sessionmaker[Session], settings: Settings) -> BackgroundScheduler:
    """Start a scheduler running the pipeline on settings.schedule_cron (UTC)."""
    scheduler = BackgroundScheduler(timezone="UTC")
    scheduler.add_job(
        scheduled_run,
        CronTrigger.from_crontab(settings.schedule_cron, timezone="UTC"),
        args=(factory, settings),
        id=JOB_ID,
        replace_existing=True,
        max_instances=1,
        coalesce=True,
        misfire_grace_time=settings.schedule_misfire_grace_s,
    )
    scheduler.start()
    log.info("scheduler started: pipeline on cron %r (UTC)", settings.schedule_cron)
    return scheduler
