"""Retention: which stored runs (with their forecasts, metrics, level shifts and plans) an
operator's `homeward purge` deletes, and the deleting, never what is served or planned from."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Text, cast, delete, exists, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, sessionmaker

from homeward import audit, plan_summary, planning, repository
from homeward.clock import utcnow
from homeward.errors import HomewardError
from homeward.pipeline import LOCK_NAME, lease_kept
from homeward.recovery import UNFINISHED, as_utc, lock_holder
from homeward.storage import lift_statement_timeout, transaction
from models import ForecastMetricRow, ForecastRow, LevelShiftRow, LockRow, PlanRow, RunRow
from models.base import Base

log = logging.getLogger(__name__)
_CHUNK = 500  # run ids per IN (...): far below SQLite's and PostgreSQL's parameter limits
_SHOWN_RANGES = 12  # a summary names this many id ranges of a reason, then counts the rest


class PurgeBusy(HomewardError):
    """A pipeline run (or another purge or delete) holds the pipeline lock."""


@dataclass(frozen=True)
class Retention:
    """What an operator keeps: the `keep_runs` newest runs holding something (a sweep with its
    plan runs counts as one; see `_newest`), and every run younger than `older_than_days`. A
    run goes only if every rule given lets it go; None: no such rule (at least one is given)."""

    keep_runs: int | None = None
    older_than_days: int | None = None

    def __post_init__(self) -> None:
        if self.keep_runs is None and self.older_than_days is None:
            raise ValueError(
                "expected --keep-runs N, --older-than DAYS or both, found neither: "
                "nothing says which runs to keep"
            )


@dataclass(frozen=True)
class StoredRun:
    """The fields of a stored run that retention reads (`started_at` in UTC)."""

    id: int
    status: str
    started_at: datetime
    parent_run_id: int | None  # its sweep, for a sweep's plan run (`_stored_runs`)
    holds: bool = True  # it stored forecasts, a plan or a sweep's rows (`_holding`)


@dataclass(frozen=True)
class Choice:
    """Which runs go, and why each run kept is kept (runs the rules keep included)."""

    deleted: tuple[int, ...]
    kept: Mapping[int, str]


@dataclass(frozen=True)
class Removed:
    """What deleting (or, in a dry run, what would delete) the chosen runs takes."""

    runs: int = 0
    forecast_rows: int = 0
    metric_rows: int = 0
    level_shift_rows: int = 0
    plans: int = 0
    plan_bytes: int = 0  # the plans' stored result JSON, as text


@dataclass(frozen=True)
class Purged:
    """The outcome of a purge: the choice, what it removed, and whether it was a dry run."""

    choice: Choice
    removed: Removed
    dry_run: bool
    kept_reasons: Mapping[str, tuple[int, ...]] = field(default_factory=dict)


def choose(
    runs: Sequence[StoredRun],
    retention: Retention,
    now: datetime,
    protected: Mapping[int, str],
    read_by: Callable[[int], Iterable[int]],
    compared_by: Callable[[int], Iterable[int]] = lambda run_id: (),
) -> Choice:
    """The runs `retention` lets go, less those `protected` (run id: why) and anything a kept
    run needs: the forecast runs its plans read (`read_by(run_id)`), the runs of the plans its
    sweep's rows are compared with (`compared_by(run_id)`: GET /v1/plans/{id} and the
    dashboard link to them), its sweep and its sweep's other plan runs (`parent_run_id`).
    Pure: the caller reads the database."""
    kept = dict(_kept_by_rules(runs, retention, now))
    for run_id, why in protected.items():  # said even of a run a rule keeps anyway
        kept[run_id] = f"{kept[run_id]}, {why}" if run_id in kept else why
    children: dict[int, list[int]] = defaultdict(list)
    for run in runs:
        if run.parent_run_id is not None:
            children[run.parent_run_id].append(run.id)
    parents = {run.id: run.parent_run_id for run in runs}
    queue = list(kept)
    while queue:
        run_id = queue.pop()
        needed = [(r, f"read by run {run_id}'s plan") for r in read_by(run_id)]
        needed += [(r, f"compared with by sweep {run_id}") for r in compared_by(run_id)]
        parent = parents.get(run_id)
        if parent is not None:
            needed.append((parent, f"the sweep of run {run_id}"))
        needed += [(child, f"a plan of sweep {run_id}") for child in children.get(run_id, ())]
        for other, why in needed:
            if other in parents and other not in kept:
                kept[other] = why
                queue.append(other)
    deleted = tuple(sorted(run.id for run in runs if run.id not in kept))
    return Choice(deleted, kept)


def _kept_by_rules(
    runs: Sequence[StoredRun], retention: Retention, now: datetime
) -> Iterator[tuple[int, str]]:
    """(run id, why) for each run a rule keeps: `_newest`'s, and those younger than
    `older_than_days`."""
    if retention.keep_runs is not None:
        yield from _newest(runs, retention.keep_runs)
    if retention.older_than_days is not None:
        cut = now - timedelta(days=retention.older_than_days)
        why = f"younger than {retention.older_than_days} days"
        yield from ((r.id, why) for r in runs if r.started_at >= cut)


def _newest(runs: Sequence[StoredRun], keep_runs: int) -> Iterator[tuple[int, str]]:
    """(run id, why) for the newest `keep_runs` runs holding something, that are not a sweep's
    plan runs (those follow their sweep; a sweep holds what its plan runs hold), and for each
    run holding nothing newer than the oldest of them. A skipped or interrupted run with
    nothing stored (each firing of a second scheduler makes one) is not counted, so it cannot
    push out a run with forecasts or a plan; it goes once older than every run counted, and
    stays while fewer than `keep_runs` runs hold anything."""
    if keep_runs <= 0:  # `--keep-runs 0`: none kept by count, empty or not
        return
    holding = {r.id for r in runs if r.holds}
    holding |= {r.parent_run_id for r in runs if r.holds and r.parent_run_id is not None}
    own = sorted((r.id for r in runs if r.parent_run_id is None), reverse=True)
    newest = [run_id for run_id in own if run_id in holding][:keep_runs]
    yield from ((run_id, f"the {len(newest)} newest") for run_id in newest)
    cut = newest[-1] if len(newest) == keep_runs else None
    why = "holds nothing" + ("" if cut is None else f", newer than run {cut}")
    yield from ((i, why) for i in own if i not in holding and (cut is None or i > cut))


def purge(
    factory: sessionmaker[Session],
    retention: Retention,
    dry_run: bool,
    lock_ttl: timedelta,
    actor: str = audit.CLI,
) -> Purged:
    """Delete the runs `retention` lets go, with their forecasts, metrics, level shifts and
    plans, in one transaction (a failure deletes nothing), holding the pipeline lock so that
    no run starts between the choice and the delete. A dry run reads only, and takes no lock
    (a scheduled run is not skipped for it). PurgeBusy while another holder has the lock.
    A purge that deleted runs is in the audit trail, as `actor`'s, in the same transaction;
    the audit trail itself is never purged."""
    if dry_run:
        with transaction(factory) as session:
            return _purge_in(session, retention, dry_run=True, actor=actor)
    holder = f"purge:{lock_holder()}"
    if not repository.acquire_lock(factory, LOCK_NAME, holder, lock_ttl):
        raise PurgeBusy(_busy(factory))
    try:
        # renewed while it deletes: millions of rows can outlast a lease, and a run must not
        # start on the lock's lapse between the choice and the commit
        with lease_kept(factory, holder, lock_ttl), transaction(factory) as session:
            return _purge_in(session, retention, dry_run=False, actor=actor)
    finally:
        repository.release_lock(factory, LOCK_NAME, holder)


def _busy(factory: sessionmaker[Session]) -> str:
    with factory() as session:
        lock = session.get(LockRow, LOCK_NAME)
    held = (
        ""
        if lock is None
        else f" (held by {lock.holder} until {as_utc(lock.expires_at):%Y-%m-%dT%H:%M:%SZ})"
    )
    return (
        f"expected the pipeline lock to be free, found it held{held}: a pipeline run, a "
        "series delete or another purge is in progress; nothing was deleted, try again when "
        "it ends"
    )


def _purge_in(session: Session, retention: Retention, dry_run: bool, actor: str) -> Purged:
    # millions of forecast rows take minutes to count and delete: cancelled by the statement
    # timeout, a purge would fail on the same first chunk every time and never catch up
    lift_statement_timeout(session)
    runs = _stored_runs(session)
    protected = _protected(session, runs)
    reader, compared = _reader(session), _compared(session)
    choice = choose(runs, retention, utcnow(), protected, reader, compared)
    removed = _removed(session, choice.deleted)
    if not dry_run:
        _delete(session, choice.deleted)
        log.info("purged runs %s", _ranges(choice.deleted))
        if choice.deleted:
            repository.record_audit(
                session,
                actor,
                "purge",
                run_ids=list(choice.deleted),
                runs_deleted=removed.runs,
                plans_deleted=removed.plans,
                forecast_rows_deleted=removed.forecast_rows,
            )
    return Purged(choice, removed, dry_run, _by_reason(choice.kept))


def _stored_runs(session: Session) -> list[StoredRun]:
    """Every run, a sweep's plan run with its sweep: its `parent_run_id`, or where that is
    null (a run stored by a release before 0012 while the service kept serving after
    migration 0017 linked the older ones), the sweep whose rows name its plan."""
    rows = session.execute(
        select(
            RunRow.id,
            RunRow.kind,
            RunRow.trigger,
            RunRow.status,
            RunRow.started_at,
            RunRow.parent_run_id,
        )
    ).all()
    unlinked = {
        i
        for i, kind, trigger, _, _, parent in rows
        if kind == "plan" and trigger == "sweep" and parent is None
    }
    named = _sweeps_naming(session, unlinked) if unlinked else {}
    holding = _holding(session)
    return [
        StoredRun(i, status, as_utc(at), named.get(i) if parent is None else parent, i in holding)
        for i, _, _, status, at, parent in rows
    ]


def _holding(session: Session) -> set[int]:
    """The runs that stored forecasts, a plan or a sweep's rows: each run's forecasts are
    probed by the primary key (which leads with `run_id`), not counted."""
    has_forecasts = exists().where(ForecastRow.run_id == RunRow.id)
    held = set(session.scalars(select(RunRow.id).where(has_forecasts)))
    held.update(session.scalars(select(PlanRow.run_id).distinct()))
    sweeps = session.execute(select(RunRow.id, RunRow.sweep).where(RunRow.kind == "sweep"))
    held.update(run_id for run_id, rows in sweeps.all() if rows)
    return held


def _sweeps_naming(session: Session, plan_runs: set[int]) -> dict[int, int]:
    """Of `plan_runs` (sweep plan runs with no `parent_run_id`), each one's sweep: the sweep
    run whose rows name its plan (a rate's `plan_id`, or `compared_with_plan_id` where the
    sweep planned its own rate as its baseline), stored before it, the oldest if several do
    (as migration 0017 links them)."""
    found: dict[int, int] = {}
    sweeps = session.execute(
        select(RunRow.id, RunRow.sweep).where(RunRow.kind == "sweep").order_by(RunRow.id)
    )
    for sweep_id, rows in sweeps.all():
        named = {
            row.get(key)
            for row in (rows if isinstance(rows, list) else [])
            if isinstance(row, dict)
            for key in ("plan_id", "compared_with_plan_id")
        }
        plan_ids = sorted(i for i in named if isinstance(i, int) and not isinstance(i, bool))
        for chunk in _chunks(plan_ids):
            for run_id in session.scalars(select(PlanRow.run_id).where(PlanRow.id.in_(chunk))):
                if run_id in plan_runs and run_id > sweep_id:
                    found.setdefault(run_id, sweep_id)
    return found


def _protected(session: Session, runs: Sequence[StoredRun]) -> dict[int, str]:
    """The runs no retention may take, and why: unfinished ones, the forecasts an unfinished
    what-if or sweep plans from (`_read_by_jobs`), each series' served forecasts
    (`repository.newest_forecast_runs`), and the latest plan's and the active config's plan's
    runs."""
    protected = {r.id: r.status for r in runs if r.status in UNFINISHED}

    def add(run_id: int, why: str) -> None:
        protected[run_id] = f"{protected[run_id]}, {why}" if run_id in protected else why

    for run_id, why in _read_by_jobs(session):
        add(run_id, why)

    serves: dict[int, int] = defaultdict(int)
    for run_id in repository.newest_forecast_runs(session).values():
        serves[run_id] += 1
    for run_id, count in sorted(serves.items()):
        add(run_id, f"serves {_n(count, 'series', 'series')}' forecasts")
    latest = repository.latest_plan(session)
    active = planning.active_config_plan(session)
    if latest is not None:
        also = " and the active config's" if active is not None and active.id == latest.id else ""
        add(latest.run_id, f"the latest plan{also} (plan {latest.id})")
    if active is not None and (latest is None or active.id != latest.id):
        add(active.run_id, f"the active config's plan (plan {active.id})")
    return protected


def _read_by_jobs(session: Session) -> Iterator[tuple[int, str]]:
    """(run id, why) for the forecasts an unfinished plan or sweep job may be planning from:
    it has stored no plan yet, so no `forecast_run_ids` names them. Each job reads each
    series' newest forecast of a run that had ended when it read, at or after it began: those
    served when it began (`plan_summary.forecast_runs_then`: a series' can be an older run's
    than another's), or any run that ended since the oldest job began."""
    jobs = session.execute(
        select(RunRow.id, RunRow.kind, RunRow.started_at)
        .where(RunRow.status.in_(UNFINISHED), RunRow.kind.in_(("plan", "sweep")))
        .order_by(RunRow.id)  # the status index would otherwise give its own order
    ).all()
    for job_id, kind, started_at in jobs:
        for read in plan_summary.forecast_runs_then(session, job_id, started_at):
            if read != job_id:
                yield read, f"read by {kind} run {job_id} (unfinished)"
    if jobs:
        oldest_id, _, oldest = min(jobs, key=lambda job: (job[2], job[0]))
        since = session.scalars(
            select(RunRow.id).where(RunRow.status.not_in(UNFINISHED), RunRow.finished_at > oldest)
        )
        yield from ((run_id, f"ended after unfinished run {oldest_id} began") for run_id in since)


def _compared(session: Session) -> Callable[[int], list[int]]:
    """run id -> the runs of the plans its sweep's rows are compared with
    (`compared_with_plan_id`, stored in the sweep run's `sweep` column)."""

    def compared_by(run_id: int) -> list[int]:
        rows = session.scalar(select(RunRow.sweep).where(RunRow.id == run_id)) or []
        plan_ids = {row.get("compared_with_plan_id") for row in rows if isinstance(row, dict)}
        wanted = sorted(i for i in plan_ids if isinstance(i, int))
        if not wanted:
            return []
        found = session.scalars(select(PlanRow.run_id).where(PlanRow.id.in_(wanted)))
        return sorted({r for r in found if r != run_id})

    return compared_by


def _reader(session: Session) -> Callable[[int], list[int]]:
    """run id -> the runs whose forecasts its plans read (`plan_summary.forecast_runs_of`)."""

    def read_by(run_id: int) -> list[int]:
        # the recorded ids are read in the database: a plan's whole result is 1-2 MB
        recorded = (
            PlanRow.result["forecast_run_ids"],
            PlanRow.result["forecast_run_id"].as_integer(),
        )
        plans = session.execute(select(PlanRow.id, *recorded).where(PlanRow.run_id == run_id))
        found: set[int] = set()
        for plan_id, runs, newest in plans.all():
            found.update(_runs_read(session, plan_id, plan_summary.recorded_runs(runs), newest))
        return sorted(found - {run_id})

    return read_by


def _runs_read(
    session: Session, plan_id: int, recorded: list[int] | None, newest: int | None
) -> list[int]:
    """The runs plan `plan_id` read: those recorded (`forecast_run_ids`), or in a plan stored
    before they were, its `forecast_run_id` alone, or failing that, the whole plan read to
    work out its run (`plan_summary.forecast_runs_of`)."""
    if recorded is not None:
        return recorded
    if newest is not None:
        return [newest]
    return plan_summary.forecast_runs_of(session, session.get_one(PlanRow, plan_id))


# each table holding rows of a run, with its column naming the run
_BY_RUN: tuple[tuple[type[Base], InstrumentedAttribute[int]], ...] = (
    (ForecastRow, ForecastRow.run_id),
    (ForecastMetricRow, ForecastMetricRow.run_id),
    (LevelShiftRow, LevelShiftRow.run_id),
    (PlanRow, PlanRow.run_id),
)


def _removed(session: Session, run_ids: Sequence[int]) -> Removed:
    counts = [0] * len(_BY_RUN)
    plan_bytes = 0
    for chunk in _chunks(run_ids):
        for i, (table, run_id) in enumerate(_BY_RUN):
            found = select(func.count()).select_from(table).where(run_id.in_(chunk))
            counts[i] += int(session.scalar(found) or 0)
        size = func.sum(func.length(cast(PlanRow.result, Text)))
        plan_bytes += int(session.scalar(select(size).where(PlanRow.run_id.in_(chunk))) or 0)
    forecasts, metrics, shifts, plans = counts
    return Removed(len(run_ids), forecasts, metrics, shifts, plans, plan_bytes)


def _delete(session: Session, run_ids: Sequence[int]) -> None:
    """Each table's rows of the runs, then the runs: explicitly, not by the foreign keys'
    cascades, which a SQLite connection made without PRAGMA foreign_keys would skip."""
    for chunk in _chunks(run_ids):
        for table, run_id in _BY_RUN:
            session.execute(delete(table).where(run_id.in_(chunk)))
        session.execute(delete(RunRow).where(RunRow.id.in_(chunk)))


def _chunks(run_ids: Sequence[int]) -> Iterator[Sequence[int]]:
    return (run_ids[i : i + _CHUNK] for i in range(0, len(run_ids), _CHUNK))


def _by_reason(kept: Mapping[int, str]) -> dict[str, tuple[int, ...]]:
    grouped: dict[str, list[int]] = defaultdict(list)
    for run_id, why in kept.items():
        grouped[why].append(run_id)
    return {why: tuple(sorted(ids)) for why, ids in grouped.items()}


def _ranges(ids: Sequence[int]) -> str:
    """'1-3, 5, 8-9' for [1, 2, 3, 5, 8, 9] (sorted), at most `_SHOWN_RANGES` ranges."""
    spans: list[list[int]] = []
    for i in sorted(ids):
        if spans and i == spans[-1][1] + 1:
            spans[-1][1] = i
        else:
            spans.append([i, i])
    shown = [f"{a}" if a == b else f"{a}-{b}" for a, b in spans[:_SHOWN_RANGES]]
    more = len(spans) - _SHOWN_RANGES
    return ", ".join(shown) + (f" and {more} more ranges" if more > 0 else "")


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


def summary(purged: Purged) -> str:
    """One line: what went (or would go) and what was kept, and why."""
    r = purged.removed
    verb = "would delete" if purged.dry_run else "deleted"
    if r.runs:
        what = (
            f"{verb} {_n(r.runs, 'run')} ({_ranges(purged.choice.deleted)}) with "
            f"{_n(r.forecast_rows, 'forecast row')}, {_n(r.metric_rows, 'metric row')}, "
            f"{_n(r.level_shift_rows, 'level shift')} and {_n(r.plans, 'plan')} "
            f"({r.plan_bytes / 1e6:.1f} MB of plan JSON)"
        )
    else:
        what = "nothing to delete"
    kept = "; ".join(
        f"{'run' if len(ids) == 1 else 'runs'} {_ranges(ids)}: {why}"
        for why, ids in sorted(purged.kept_reasons.items(), key=lambda item: -max(item[1]))
    )
    tail = "; nothing was deleted (dry run)" if purged.dry_run else ""
    count = _n(len(purged.choice.kept), "run")
    return f"{what}; kept {count}" + (f" ({kept})" if kept else "") + tail
