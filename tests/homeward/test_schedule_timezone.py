"""HOMEWARD_SCHEDULE_TIMEZONE: the crontab's hours are a council's clock (06:00 is 06:00 BST in
summer), for the scheduler, the missed-firing catch-up and the start-up log alike; a time the
clocks go back over runs once, and one they skip runs as APScheduler runs it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward.clock import code_version
from homeward.recovery import missed_firing
from homeward.scheduler import JOB_ID, local_time, start_scheduler
from homeward.settings import Settings, crontab_trigger
from homeward.storage import transaction
from models import RunRow

LONDON = "Europe/London"


def _firings(cron: str, zone: str, after: datetime, until: datetime) -> list[str]:
    """The cron's firings from `after` to `until`, as 'Sun 2026-10-25 01:30 BST', each next one
    asked for as the scheduler asks after a run (apscheduler Job._get_run_times: the previous
    firing, and a now just after it). At most 100, each after the one before: APScheduler's
    own CronTrigger hands the second 01:30 of an autumn Sunday back for ever."""
    trigger, firings, previous = crontab_trigger(cron, zone), [], None
    due = trigger.get_next_fire_time(None, after)
    while due is not None and due <= until and len(firings) < 100:
        assert previous is None or due.astimezone(UTC) > previous.astimezone(UTC)
        firings.append(local_time(due, zone))
        previous, due = due, trigger.get_next_fire_time(due, due + timedelta(seconds=1))
    return firings


def _last_run_started(factory: sessionmaker[Session], started_at: datetime) -> None:
    with transaction(factory) as session:
        session.add(
            RunRow(
                kind="pipeline",
                trigger="scheduler",
                status="succeeded",
                started_at=started_at,
                code_version=code_version(),
            )
        )


def test_a_london_cron_fires_at_its_hour_by_the_clock_in_summer_and_winter() -> None:
    summer = _firings(
        "0 6 * * mon", LONDON, datetime(2026, 3, 24, tzinfo=UTC), datetime(2026, 4, 7, tzinfo=UTC)
    )
    winter = _firings(
        "0 6 * * mon", LONDON, datetime(2026, 11, 24, tzinfo=UTC), datetime(2026, 12, 1, tzinfo=UTC)
    )
    assert summer == ["Mon 2026-03-30 06:00 BST", "Mon 2026-04-06 06:00 BST"]
    assert winter == ["Mon 2026-11-30 06:00 GMT"]
    trigger = crontab_trigger("0 6 * * mon", LONDON)
    due = trigger.get_next_fire_time(None, datetime(2026, 3, 24, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 3, 30, 5, tzinfo=UTC)  # 05:00 UTC in summer


def test_a_utc_cron_stays_where_it_was() -> None:
    """The default: a deployment that sets no zone keeps its runs at the same UTC hour."""
    summer = _firings(
        "0 6 * * mon", "UTC", datetime(2026, 3, 24, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC)
    )
    assert summer == ["Mon 2026-03-30 06:00 UTC"]


def test_a_time_the_clocks_go_back_over_fires_once() -> None:
    """01:30 comes round twice on 25 October 2026 in London (BST, then GMT): one run, at the
    first; APScheduler 3 on its own runs it again an hour later."""
    firings = _firings(
        "30 1 * * *",
        LONDON,
        datetime(2026, 10, 24, 12, tzinfo=UTC),
        datetime(2026, 10, 27, 12, tzinfo=UTC),
    )
    assert firings == [
        "Sun 2026-10-25 01:30 BST",
        "Mon 2026-10-26 01:30 GMT",
        "Tue 2026-10-27 01:30 GMT",
    ]
    hourly = _firings(
        "30 * * * *",
        LONDON,
        datetime(2026, 10, 24, 23, tzinfo=UTC),
        datetime(2026, 10, 25, 3, tzinfo=UTC),
    )
    assert hourly == [
        "Sun 2026-10-25 00:30 BST",
        "Sun 2026-10-25 01:30 BST",  # its repeat at 01:30 GMT does not run
        "Sun 2026-10-25 02:30 GMT",
    ]
    # a scheduler started between the two 01:30s (the first was before it) waits for Monday
    trigger = crontab_trigger("30 1 * * *", LONDON)
    between = datetime(2026, 10, 25, 1, tzinfo=UTC)  # 01:00 GMT
    assert (
        local_time(trigger.get_next_fire_time(None, between), LONDON) == "Mon 2026-10-26 01:30 GMT"
    )


def test_a_time_the_clocks_go_forward_over_fires_an_hour_later_as_apscheduler_has_it() -> None:
    """01:30 does not happen on 29 March 2026 in London (01:00 GMT is 02:00 BST): APScheduler
    3.11 runs it once, at 02:30 BST (01:30 UTC), and at 01:30 BST from the next day."""
    firings = _firings(
        "30 1 * * *",
        LONDON,
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 3, 30, 12, tzinfo=UTC),
    )
    assert firings == ["Sun 2026-03-29 02:30 BST", "Mon 2026-03-30 01:30 BST"]
    trigger = crontab_trigger("30 1 * * *", LONDON)
    due = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_a_missed_london_firing_is_found_at_its_hour_by_the_clock(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Monday 06:00 BST is 05:00 UTC: at 05:30 UTC a run due then and not run is missed (in UTC
    the cron would not be due until 06:00 UTC, and the catch-up would wait for it); the log
    names it by the schedule's clock."""
    _last_run_started(factory, datetime(2026, 3, 23, 6, 0, 5, tzinfo=UTC))  # Monday 06:00 GMT, run
    monkeypatch.setattr(
        "homeward.recovery.utcnow", lambda: datetime(2026, 3, 30, 5, 30, tzinfo=UTC)
    )
    missed = missed_firing(factory, "0 6 * * mon", LONDON)
    assert missed is not None and local_time(missed, LONDON) == "Mon 2026-03-30 06:00 BST"
    caplog.set_level(logging.WARNING, logger="homeward.scheduler")
    settings = sqlite_settings.model_copy(update={"schedule_timezone": LONDON})
    start_scheduler(factory, settings, paused=True).shutdown(wait=False)
    assert [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"] == [
        "the pipeline due at Mon 2026-03-30 06:00 BST did not run (service down); running it now"
    ]


def test_the_repeated_hour_is_not_a_missed_firing(
    factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A run at the first 01:30 of 25 October is that day's run: at the second 01:30 (GMT)
    the catch-up does not find one missed and run the pipeline again."""
    _last_run_started(factory, datetime(2026, 10, 25, 0, 30, 5, tzinfo=UTC))  # the first 01:30, BST
    monkeypatch.setattr("homeward.recovery.utcnow", lambda: datetime(2026, 10, 25, 2, tzinfo=UTC))
    assert missed_firing(factory, "30 1 * * *", LONDON) is None


@pytest.mark.parametrize(
    ("zone", "abbreviations"),
    [(LONDON, ("GMT", "BST")), ("Asia/Kolkata", ("IST",))],  # Kolkata is never UTC's clock
)
def test_the_start_up_log_gives_the_next_run_by_the_schedules_clock(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    caplog: pytest.LogCaptureFixture,
    zone: str,
    abbreviations: tuple[str, ...],
) -> None:
    """An operator who wrote 06:00 reads 06:00 and the zone's abbreviation (GMT or BST), and
    the scheduler runs at 06:00 by that clock."""
    caplog.set_level(logging.INFO, logger="homeward.scheduler")
    settings = sqlite_settings.model_copy(
        update={"schedule_cron": "0 6 * * mon", "schedule_timezone": zone}
    )
    scheduler = start_scheduler(factory, settings, paused=True)
    try:
        due = scheduler.get_job(JOB_ID).next_run_time.astimezone(ZoneInfo(zone))
    finally:
        scheduler.shutdown(wait=False)
    [line] = [r.getMessage() for r in caplog.records if r.name == "homeward.scheduler"]
    assert (due.strftime("%a"), due.hour, due.minute) == ("Mon", 6, 0)
    assert due.tzname() in abbreviations
    assert line == (
        f"scheduler started: pipeline on cron '0 6 * * mon' ({zone}), "
        f"next run Mon {due:%Y-%m-%d} 06:00 {due:%Z}"
    )


def test_a_firing_shows_as_the_schedules_clock_shows_it() -> None:
    moment = datetime(2026, 3, 30, 5, tzinfo=UTC)
    assert local_time(moment, LONDON) == "Mon 2026-03-30 06:00 BST"
    assert local_time(moment, "UTC") == "Mon 2026-03-30 05:00 UTC"
