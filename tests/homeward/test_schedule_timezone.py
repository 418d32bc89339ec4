"""HOMEWARD_SCHEDULE_TIMEZONE: the crontab's hours are a council's clock (06:00 is 06:00 BST in
summer), for the scheduler, the missed-firing catch-up and the start-up log alike; a time the
clocks go back over runs once, one they skip runs just after the change (none for a cron with
'*' in its hour or minute), and every day, week and month on the clock has its run."""

from __future__ import annotations

import logging
import pickle
from datetime import UTC, date, datetime, timedelta
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


def test_a_time_the_clocks_go_forward_over_fires_just_after_the_change() -> None:
    """01:30 does not happen on 29 March 2026 in London (01:00 GMT is 02:00 BST): a cron that
    names its hour runs at 02:00 BST, the first moment after the change, as cron(8) does (not
    an hour late at 02:30 BST as APScheduler 3.11 had it); one with '*' in its hour or minute
    has no run in the missing hour, as in cron(8)."""
    firings = _firings(
        "30 1 * * *",
        LONDON,
        datetime(2026, 3, 28, 12, tzinfo=UTC),
        datetime(2026, 3, 30, 12, tzinfo=UTC),
    )
    assert firings == ["Sun 2026-03-29 02:00 BST", "Mon 2026-03-30 01:30 BST"]
    trigger = crontab_trigger("30 1 * * *", LONDON)
    due = trigger.get_next_fire_time(None, datetime(2026, 3, 28, 12, tzinfo=UTC))
    assert due.astimezone(UTC) == datetime(2026, 3, 29, 1, tzinfo=UTC)
    hourly = _firings(
        "30 * * * *",
        LONDON,
        datetime(2026, 3, 28, 23, 45, tzinfo=UTC),
        datetime(2026, 3, 29, 2, 45, tzinfo=UTC),
    )
    assert hourly == [
        "Sun 2026-03-29 00:30 GMT",
        "Sun 2026-03-29 02:30 BST",
        "Sun 2026-03-29 03:30 BST",
    ]


def test_a_monthly_midnight_run_is_not_lost_after_the_spring_change() -> None:
    """APScheduler 3.11 added the month at 1 March's GMT offset, landing on 23:00 BST on 31
    March, too early, and so went on to 1 May: 1 April never ran. The catch-up asks the same
    way (from a run on 1 March), so it would not have found 1 April missed either."""
    firings = _firings(
        "0 0 1 * *", LONDON, datetime(2026, 2, 20, tzinfo=UTC), datetime(2026, 5, 2, tzinfo=UTC)
    )
    assert firings == [
        "Sun 2026-03-01 00:00 GMT",
        "Wed 2026-04-01 00:00 BST",
        "Fri 2026-05-01 00:00 BST",
    ]
    trigger = crontab_trigger("0 0 1 * *", LONDON)
    due = trigger.get_next_fire_time(None, datetime(2026, 3, 1, 0, 0, 5, tzinfo=UTC))
    assert local_time(due, LONDON) == "Wed 2026-04-01 00:00 BST"


def test_a_trigger_survives_pickling_as_a_job_store_keeps_it() -> None:
    trigger = crontab_trigger("0 0 1 * *", LONDON)
    again = pickle.loads(pickle.dumps(trigger))
    after = datetime(2026, 3, 1, 0, 0, 5, tzinfo=UTC)
    assert again.get_next_fire_time(None, after) == trigger.get_next_fire_time(None, after)
    assert str(again.timezone) == LONDON


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


# 2026 and 2027 in three zones: London and New York change at 01:00 and 02:00, Santiago at
# midnight (so its change day has no 00:00, and its autumn day two)
FUZZ_ZONES = (LONDON, "America/New_York", "America/Santiago")
FUZZ_CRONS = (
    *(
        f"{minute} {hour} {day} * {weekday}"
        for hour in range(24)
        for minute in (0, 30)
        for day, weekday in (("*", "*"), ("*", "mon"), ("1", "*"))
    ),
    "*/15 * * * *",
    "0 * * * *",
)


def _exists(wall: datetime, zone: ZoneInfo) -> bool:
    return wall.replace(tzinfo=zone).astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall


def _expected(cron: str, zone: ZoneInfo, first: date, last: date) -> list[datetime]:
    """Worked out by the clock, minute by minute: every matching wall-clock time that exists,
    once (its first occurrence); one in a gap the clocks skip at the first minute after it,
    unless the cron has '*' in its minute or hour (then it has none)."""
    minutes, hours, day, _, weekday = cron.split()
    wanted_minutes = range(0, 60, 15) if minutes == "*/15" else [int(minutes)]
    wanted_hours = range(24) if hours == "*" else [int(hours)]
    instants: set[datetime] = set()
    moment = first
    while moment <= last:
        if (day == "*" or moment.day == int(day)) and (weekday == "*" or moment.weekday() == 0):
            for hour in wanted_hours:
                for minute in wanted_minutes:
                    wall = datetime(moment.year, moment.month, moment.day, hour, minute)
                    if not _exists(wall, zone) and "*" in minutes + hours:
                        continue
                    while not _exists(wall, zone):
                        wall += timedelta(minutes=1)
                    instants.add(wall.replace(tzinfo=zone).astimezone(UTC))
        moment += timedelta(days=1)
    return sorted(instants)


def _fired(cron: str, zone: str, after: datetime, until: datetime) -> list[datetime]:
    trigger, firings, previous = crontab_trigger(cron, zone), [], None
    due = trigger.get_next_fire_time(None, after)
    while due is not None and due <= until:
        assert previous is None or due > previous, (cron, zone, previous, due)
        firings.append(due.astimezone(UTC))
        previous, due = due, trigger.get_next_fire_time(due, due + timedelta(seconds=1))
    return firings


def _change_days(zone: ZoneInfo) -> list[date]:
    """The days of 2026 and 2027 whose UTC offset at noon differs from the day before's."""
    days = [date(2026, 1, 1) + timedelta(days=n) for n in range(730)]
    noon = [datetime(d.year, d.month, d.day, 12, tzinfo=zone).utcoffset() for d in days]
    return [
        d
        for d, offset, before in zip(days[1:], noon[1:], noon[:-1], strict=True)
        if offset != before
    ]


def _spans(cron: str, changes: list[date]) -> list[tuple[date, date]]:
    """Monthly crons through 2026-2027; the others through the days around each change, as
    many as span two of their runs either side (the rest of the year has no change to get
    wrong, and APScheduler's own arithmetic is most of the test's time)."""
    minutes, hours, day, _, weekday = cron.split()
    if day != "*":
        return [(date(2026, 1, 1), date(2027, 12, 31))]
    around = 10 if weekday != "*" else 3 if "*" not in minutes + hours else 1
    return [
        (change - timedelta(days=around), change + timedelta(days=around)) for change in changes
    ]


@pytest.mark.parametrize("zone", FUZZ_ZONES)
def test_every_day_week_and_month_on_the_clock_fires_once_in_order(zone: str) -> None:
    """APScheduler 3.11 adds a day or a month keeping the offset it started from, so after the
    spring change '0 0 1 * *' went from 1 March to 1 May, '0 0 * * mon' in London skipped
    30 March 2026, '0 0 * * *' in New York 9 March and in Santiago the change day. Here each
    firing comes after the one before, and they are exactly the runs worked out by the clock:
    each day, week and month on the clock has its run."""
    clock = ZoneInfo(zone)
    changes = _change_days(clock)
    assert len(changes) == 4
    for cron in FUZZ_CRONS:
        for first, last in _spans(cron, changes):
            after = datetime(first.year, first.month, first.day, tzinfo=clock)
            until = datetime(last.year, last.month, last.day, 23, 59, tzinfo=clock)
            expected = _expected(cron, clock, first, last)
            assert _fired(cron, zone, after - timedelta(microseconds=1), until) == expected, cron
