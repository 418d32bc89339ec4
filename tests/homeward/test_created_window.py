"""Plans and runs kept by when each was made (`created_from` inclusive, `created_to` exclusive,
as Power BI's incremental refresh reads a history), on real SQLite and real PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.repository import PlanFilter, RunFilter, Window
from homeward.storage import transaction

NOON = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)


def _plans_at(session: Session, moments: list[datetime]) -> list[int]:
    """One plan made at each moment (its run's own times now), ids in that order."""
    body = demo_config.demo_planning_config()
    config_id = repository.save_config(session, body, planning.config_hash(body)).id
    ids = []
    for moment in moments:
        run = repository.start_run(session, "plan", "api", "test")
        plan = repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, {})
        plan.created_at = moment
        ids.append(plan.id)
    return ids


def test_plans_are_kept_from_the_start_inclusive_to_the_end_exclusive(
    either_factory: sessionmaker[Session],
) -> None:
    with transaction(either_factory) as session:
        before, start, inside, end = _plans_at(
            session, [NOON - TICK, NOON, NOON + TICK, NOON + timedelta(hours=1)]
        )
    window = Window(NOON, NOON + timedelta(hours=1))
    with either_factory() as session:
        kept = PlanFilter(created=window)
        assert [p.id for p in repository.list_plans(session, 10, 0, kept)] == [inside, start]
        assert repository.count_plans(session, kept) == 2
        # composes with the cursor (the count leaves it aside) and the other filters
        older = PlanFilter(before_id=inside, created=window)
        assert [p.id for p in repository.list_plans(session, 10, 0, older)] == [start]
        assert repository.count_plans(session, older) == 2
        assert repository.count_plans(session, PlanFilter(scenario=True, created=window)) == 0
        # open at either end
        since = PlanFilter(created=Window(start=NOON + TICK))
        assert [p.id for p in repository.list_plans(session, 10, 0, since)] == [end, inside]
        until = PlanFilter(created=Window(end=NOON))
        assert [p.id for p in repository.list_plans(session, 10, 0, until)] == [before]


def test_a_run_is_placed_by_when_it_was_asked_for_not_when_its_work_began(
    either_factory: sessionmaker[Session],
) -> None:
    """`queued_at` never changes; `started_at` moves when a worker takes a queued run, which
    would move the run out of a window already read. A run stored before `queued_at` was
    recorded is placed by `started_at`."""
    with transaction(either_factory) as session:
        queued = repository.start_run(session, "pipeline", "api", "test")
        queued.queued_at, queued.started_at = NOON - TICK, NOON  # asked for, then taken
        older = repository.start_run(session, "pipeline", "api", "test")
        older.queued_at, older.started_at = None, NOON  # stored before queued_at was kept
        later = repository.start_run(session, "plan", "api", "test")
        later.queued_at = later.started_at = NOON + timedelta(hours=1)
        ids = queued.id, older.id, later.id
    with either_factory() as session:
        window = RunFilter(created=Window(NOON, NOON + timedelta(hours=1)))
        assert [r.id for r in repository.list_runs(session, 10, 0, window)] == [ids[1]]
        assert repository.count_runs(session, window) == 1
        earlier = RunFilter(created=Window(end=NOON))
        assert [r.id for r in repository.list_runs(session, 10, 0, earlier)] == [ids[0]]
        of_kind = RunFilter(kind="plan", created=Window(start=NOON))
        assert [r.id for r in repository.list_runs(session, 10, 0, of_kind)] == [ids[2]]
