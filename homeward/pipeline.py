"""One pass of the pipeline: stored history -> forecasts -> plan, recorded as a run."""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import timedelta

import pandas as pd
from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from forecast import ForecastRun, ForecastSettings, run_forecasts
from forecast.errors import ForecastInputError
from forecast.notes import (
    carried_level_warning,
    seasonless_warning,
    unscored_warning,
    zero_width_warning,
)
from forecast.parallel import WorkersStopped
from forecast.reconcile_run import out_of_step, parents_far_from_leaves
from forecast.validate import MIN_OBSERVED, split_history
from forecast.winter import half_year_periods
from homeward import planning, recovery, repository
from homeward.clock import code_version, utcnow
from homeward.errors import HomewardError
from homeward.ingest import (
    frequency_of,
    newest_periods,
    observations_hash,
    stale_of,
    stale_warning,
    unfinished_of,
    unfinished_warning,
)
from homeward.settings import Settings
from homeward.storage import transaction as repository_session
from models import LockRow, PlanningConfigRow, PlanRow, RunRow
from models.tables import RunStatus, RunTrigger
from optimise.config import ConfigValueError, check_team_id
from optimise.errors import PlanInputError
from optimise.result import PlanResult

log = logging.getLogger(__name__)
LOCK_NAME = "pipeline"
# The furthest a monthly series is forecast to reach the weekly forecasts' end, at the least,
# in months: before HOMEWARD_FORECAST_HORIZON_MONTHS the cap was this whatever the settings.
MIN_MONTHLY_REACH_CAP = 24

Report = Callable[[str], None]
# Failures that say what is wrong with the data or the settings: logged in their own words,
# without a traceback (which would point at Homeward's code, not at what to fix).
EXPECTED_FAILURES = (ForecastInputError, HomewardError, PlanInputError)


class PipelineBusy(HomewardError):
    """Another process holds the pipeline lock."""


class RunStopped(HomewardError):
    """A run's lock passed to another holder, or another process closed the run, while it
    worked (the database away for longer than a lease): it stores nothing more."""


@dataclass
class Lease:
    """The pipeline lock as its holder keeps it: `lost_to` is the holder that took it while
    this one could not renew it (set by `_keep_lease`), `run_id` the run it works on (named
    again on the lock if it has to be taken back), and `checked` whether the work holding it
    checks `lost_to` itself and stops (a pipeline run, `_check_lease`) rather than going on."""

    holder: str
    ttl: timedelta
    checked: bool = False
    run_id: int | None = None
    lost_to: str | None = None


@dataclass(frozen=True)
class PipelineOutcome:
    """What a pipeline pass produced."""

    run_id: int
    status: RunStatus
    plan_id: int | None
    message: str


def run_pipeline(
    factory: sessionmaker[Session],
    settings: Settings,
    trigger: RunTrigger,
    report: Report = log.info,
    run_id: int | None = None,
) -> PipelineOutcome:
    """Forecast every stored series, then plan with the active config; one run at a time.

    `run_id` names a run already recorded as queued (by `queue_run`); otherwise one is made.
    """
    holder = recovery.lock_holder()
    ttl = timedelta(seconds=settings.pipeline_lock_ttl_s)
    if not repository.acquire_lock(factory, LOCK_NAME, holder, ttl):
        busy = "another pipeline run holds the lock; try again when it finishes"
        if run_id is not None:
            _finish(factory, run_id, "skipped", busy, {})
        raise PipelineBusy(busy)
    try:
        with lease_kept(factory, holder, ttl, checked=True) as lease:
            return _run_locked(factory, settings, trigger, report, run_id, lease)
    finally:
        _release_retried(factory, holder)


def record_skipped(factory: sessionmaker[Session], trigger: RunTrigger) -> int:
    """Record a pipeline run that did not start because another run held the lock (the
    scheduler's own, which had no queued run to mark), saying who held it; its id. A skipped
    firing is caught up by the recovery pass once the lock is free (recovery.missed_firing
    does not count skipped runs)."""
    with repository_session(factory) as session:
        lock = session.get(LockRow, LOCK_NAME)
        run = repository.start_run(session, "pipeline", trigger, code_version())
        run.status, run.finished_at = "skipped", run.started_at
        run.message = f"skipped: another pipeline run held the lock{_held(lock)}"
        return run.id


def _held(lock: LockRow | None) -> str:
    """' (run 7, held by 123@vm until 2026-11-24T06:10:00Z)', or '' if it is free by now."""
    if lock is None:
        return ""
    run = f"run {lock.run_id}, " if lock.run_id is not None else ""
    until = f"{recovery.as_utc(lock.expires_at):%Y-%m-%dT%H:%M:%SZ}"
    return f" ({run}held by {lock.holder} until {until})"


def settings_hash(settings: Settings) -> str:
    """SHA-256 (hex) of the settings that change what a pipeline run stores: the horizon,
    backtest folds, candidate models and solver (not workers or a Dask address, which give the
    same forecasts)."""
    chosen = {
        "forecast_horizon_weeks": settings.forecast_horizon_weeks,
        "forecast_horizon_months": settings.forecast_horizon_months,
        "forecast_backtest_folds": settings.forecast_backtest_folds,
        "forecast_models": list(settings.forecast_models or ()),
        "solver": settings.solver,
    }
    return hashlib.sha256(json.dumps(chosen, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class UpToDate:
    """The newest pipeline run, when a new run would store what it stored."""

    run_id: int
    plan_id: int
    finished_at: str


def up_to_date(factory: sessionmaker[Session], settings: Settings) -> UpToDate | None:
    """The newest pipeline run, if it succeeded with a plan and read the same observations,
    the same active config, code version and settings as a run now would; else None."""
    current = freshness(factory, settings)
    return current if isinstance(current, UpToDate) else None


def freshness(factory: sessionmaker[Session], settings: Settings) -> UpToDate | str:
    """The newest pipeline run if a new run would only repeat it, else why a run is due.

    A restart (`docker restart`, a second `make run`) then serves that plan instead of spending
    minutes making the same one again. Anything that could change the result (an upload, a new
    config, another release, other forecast settings) makes a run due; so does a run still
    going, failed or cut off; a run skipped because another held the lock is passed over."""
    with repository_session(factory) as session:
        stmt = (
            select(RunRow)
            .where(RunRow.kind == "pipeline", RunRow.status != "skipped")
            .order_by(RunRow.id.desc())
        )
        run = session.scalars(stmt.limit(1)).first()
        if run is None:
            return "no pipeline run yet"
        if run.status != "succeeded" or run.finished_at is None:
            return f"the newest run, {run.id}, is {run.status}"
        plan_id = session.scalars(
            select(PlanRow.id).where(PlanRow.run_id == run.id).order_by(PlanRow.id.desc())
        ).first()
        config = repository.active_config(session)
        if plan_id is None or config is None:
            return f"run {run.id} made no plan"
        if run.config_id != config.id:
            return f"the active config ({config.id}) is not the one run {run.id} planned with"
        if run.code_version != code_version():
            return f"run {run.id} was made by release {run.code_version}, not {code_version()}"
        if run.settings_hash != settings_hash(settings):
            return f"the forecast or solver settings changed since run {run.id}"
        history = repository.load_observations(session)
        if history.empty or run.data_hash != observations_hash(history):
            return f"the stored observations changed since run {run.id}"
        return UpToDate(run.id, plan_id, run.finished_at.strftime("%Y-%m-%d %H:%M UTC"))


@contextmanager
def lease_kept(
    factory: sessionmaker[Session], holder: str, ttl: timedelta, checked: bool = False
) -> Iterator[Lease]:
    """Renew the pipeline lock `holder` has taken (`_keep_lease`, in a thread) for as long as
    the block runs: whatever holds the lock (a pipeline run, a purge) may outlast one `ttl`,
    and the lock must not lapse to another holder while it works. The `Lease` says whether it
    did all the same (`checked`: the block checks that itself, as a pipeline run does)."""
    lease = Lease(holder, ttl, checked)
    stop = threading.Event()
    heartbeat = threading.Thread(
        target=_keep_lease,
        args=(factory, holder, ttl, stop, lease),
        name="homeward-lease",
        daemon=True,
    )
    heartbeat.start()
    try:
        yield lease
    finally:
        stop.set()
        heartbeat.join()


def _keep_lease(
    factory: sessionmaker[Session],
    holder: str,
    ttl: timedelta,
    stop: threading.Event,
    lease: Lease | None = None,
) -> None:
    """Renew the pipeline lock every third of its lifetime while the run lasts, so a lock left
    by a killed process expires within `ttl` (see homeward.recovery) and a long run keeps it.
    A lock that lapsed while the database was away is taken back if nobody holds it; one
    another holder took is left to it, and `lease.lost_to` names that holder."""
    lease = lease or Lease(holder, ttl)
    every_s = ttl.total_seconds() / 3
    while not stop.wait(every_s):
        try:
            other = _renewed_or_holder(factory, lease)
        except Exception as exc:  # a database blip: the next beat tries again
            log.warning(
                "could not renew the pipeline lock: the database is away (%s); again in %g s",
                _said(exc),
                every_s,
            )
            continue
        if other is not None:  # it expired (the database was away longer than a lease)
            lease.lost_to = other
            if not lease.checked:  # a pipeline run says so itself as it stops
                log.error(
                    "the pipeline lock expired and is no longer this run's: %s took it, and "
                    "may run the pipeline at the same time; this run goes on",
                    other,
                )
            return


def _renewed_or_holder(factory: sessionmaker[Session], lease: Lease) -> str | None:
    """Renew `lease`'s lock, or take it back if it lapsed and nobody holds it: None. Else the
    holder that took it (whose own lease may have run out since: it was that one's run that
    went on, so this one does not)."""
    if repository.renew_lock(factory, LOCK_NAME, lease.holder, lease.ttl):
        return None
    with factory() as session:
        lock = session.get(LockRow, LOCK_NAME)
        other = lock.holder if lock is not None else None
    if other is None and repository.acquire_lock(factory, LOCK_NAME, lease.holder, lease.ttl):
        if lease.run_id is not None:
            with repository_session(factory) as session:
                repository.name_locked_run(session, LOCK_NAME, lease.holder, lease.run_id)
        log.warning("the pipeline lock lapsed and nobody held it: %s took it back", lease.holder)
        return None
    return other or "another holder"


def _said(exc: BaseException) -> str:
    """'OperationalError: connection failed: ...': an error's class and first line (a
    SQLAlchemy error goes on with its SQL and a link)."""
    lines = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {lines[0]}" if lines else type(exc).__name__


def queue_run(
    factory: sessionmaker[Session], trigger: RunTrigger, created_by: str | None = None
) -> int:
    """Record a pipeline run that will start shortly (a job), and return its id. A run asked
    for by `created_by` (a request's key) is in the audit trail, in the same transaction;
    one without is its trigger's (homeward.audit.of_trigger)."""
    with repository_session(factory) as session:
        run = repository.start_run(session, "pipeline", trigger, code_version(), created_by)
        run.status = "queued"
        if created_by is not None:
            repository.record_audit(session, created_by, "run", run_id=run.id)
        return run.id


def _run_locked(
    factory: sessionmaker[Session],
    settings: Settings,
    trigger: RunTrigger,
    report: Report,
    run_id: int | None,
    lease: Lease,
) -> PipelineOutcome:
    with repository_session(factory) as session:
        if run_id is None:
            run_id = repository.start_run(session, "pipeline", trigger, code_version()).id
        else:
            run = session.get_one(RunRow, run_id)
            run.status, run.started_at = "running", utcnow()
        run = session.get_one(RunRow, run_id)
        run.settings_hash, run.holder = settings_hash(settings), lease.holder
        # in the same transaction: recovery closes a running run the lock does not name
        repository.name_locked_run(session, LOCK_NAME, lease.holder, run_id)
    lease.run_id = run_id
    step = _Pass(factory, settings, run_id, _shown(factory, run_id, report), {}, [], lease)
    try:
        plan_id, status, message = _forecast_and_plan(step)
    except RunStopped as exc:  # another process runs the pipeline now: not a failure
        why = str(exc)
        log.error("%s", why)
        _retried(lambda: _close_stopped(factory, run_id, why))
        return PipelineOutcome(run_id, "interrupted", None, why)
    except Exception as exc:  # the run record must say why it failed, whatever failed
        if isinstance(exc, WorkersStopped):  # a clean stop, not a fault: no traceback
            log.warning("pipeline run %s cut off: the service is stopping", run_id)
        elif isinstance(exc, EXPECTED_FAILURES):  # the data's or the config's fault: its words
            log.error("pipeline run %s failed: %s", run_id, exc)
        else:
            log.exception("pipeline run %s failed", run_id)
        failure = _failure(exc)
        try:
            _retried(lambda: _finish(factory, run_id, "failed", failure, step.timings))
        except (OperationalError, InterfaceError):  # the run's own failure is the one to raise
            log.error("run %s failed, but that could not be recorded: %s", run_id, failure)
        exc.homeward_run_id = run_id  # type: ignore[attr-defined]  # for the scheduler's log
        raise
    message = " ".join([message, *(f"Warning: {w}." for w in step.warnings)])
    _retried(lambda: _finish(factory, run_id, status, message, step.timings))
    report(f"run {run_id} {status}: {message}")
    return PipelineOutcome(run_id, status, plan_id, message)


def run_of(exc: BaseException) -> int | None:
    """The pipeline run a failure raised by `run_pipeline` failed, if one was recorded."""
    run_id = getattr(exc, "homeward_run_id", None)
    return run_id if isinstance(run_id, int) else None


def _failure(exc: Exception) -> str:
    """A failed run's message: a solve without a plan says so in the solver's words, as a
    plan job's run does; other failures are named by their class, and one the database's
    absence caused starts `recovery.DATABASE_FAILURE`, so recovery runs it again once."""
    if isinstance(exc, planning.PlanNotSolved):
        return str(exc)
    failure = f"{type(exc).__name__}: {exc}"
    return recovery.DATABASE_FAILURE + failure if recovery.database_unavailable(exc) else failure


def _close_stopped(factory: sessionmaker[Session], run_id: int, why: str) -> None:
    """Close a run `RunStopped` stopped as interrupted, unless another process closed it
    already (whose words it keeps)."""
    with repository_session(factory) as session:
        run = session.get_one(RunRow, run_id)
        if run.status in recovery.UNFINISHED:
            run.status, run.finished_at = "interrupted", utcnow()
            run.message = f"interrupted: {why}"


def _shown(factory: sessionmaker[Session], run_id: int, report: Report) -> Report:
    """`report`, each line also kept as the run's message while it runs, so a dashboard polling
    GET /v1/runs/{id} sees how far a long run has got ("MS: 90/454 series forecast"); the
    run's final message replaces it. Progress is not worth failing a run over, so a database
    error here is logged and the run goes on."""

    def show(text: str) -> None:
        try:
            with repository_session(factory) as session:
                run = session.get(RunRow, run_id)
                if run is not None and run.status == "running":
                    run.message = text.strip()
        except SQLAlchemyError as exc:
            log.warning("run %s: progress not recorded (%s)", run_id, type(exc).__name__)
        report(text)

    return show


@dataclass(frozen=True)
class _Pass:
    """What every step of one pipeline pass needs; `timings` (seconds) fills as steps finish,
    and `warnings` with what the run's message should warn of."""

    factory: sessionmaker[Session]
    settings: Settings
    run_id: int
    report: Report
    timings: dict[str, float]
    warnings: list[str]
    lease: Lease


# an API user as well as a CLI user reads it (GET /v1/runs)
NOTHING_STORED = (
    "no observations stored: import some with `homeward import`, or upload them with "
    "POST /v1/observations"
)


def _forecast_and_plan(step: _Pass) -> tuple[int | None, RunStatus, str]:
    start = time.perf_counter()
    with repository_session(step.factory) as session:
        history = repository.load_observations(session)
    if history.empty:
        return None, "skipped", NOTHING_STORED
    n_series = history["unique_id"].nunique()
    step.report(f"forecasting {n_series} series ({len(history):,} observations)")
    with repository_session(step.factory) as session:
        tree = _referral_tree(session, history, step.report)
        config = planning.active_planning_config(session)
        anchors = None if config is None else planning.series_planned_by(config)
        pressure = None if config is None else planning.pressure_series_of(config)
        ids = history["unique_id"].unique()
        step.warnings.extend(planning.unplanned_referrals(session, ids, which="the stored"))
    forecasts = forecast_by_frequency(history, step.settings, step.report, tree, anchors, pressure)
    step.warnings.extend(forecasts.warnings)
    step.timings["forecast_s"] = time.perf_counter() - start
    rows = sum(len(fc.forecasts) for fc in forecasts.runs)
    step.report(f"storing {rows:,} forecast rows")  # seconds on England's series, said so
    with repository_session(step.factory) as session:
        _check_lease(session, step)
        run = session.get_one(RunRow, step.run_id)
        run.data_hash = observations_hash(history)
        run.totals = {total: list(members) for total, members in forecasts.totals.items()}
        for fc in forecasts.runs:
            repository.store_forecasts(
                session, step.run_id, fc.forecasts, fc.metrics, fc.level_shifts
            )
            run.models_chosen = {**run.models_chosen, **dict(fc.chosen)}
    return _plan_step(step)


def _check_lease(
    session: Session, step: _Pass, unstored: str = "its forecasts and plan are"
) -> None:
    """Raise RunStopped, saying `unstored` is not stored, unless this run may still store what
    it made: its lock is still its
    own and it is still running (not closed as interrupted by another process's recovery
    while the database was away). A lock another holder took is theirs, whose run goes on in
    this one's place; one that lapsed and that nobody took is taken back. Both rows are read
    for update, so neither changes before `session` stores and commits."""
    lease, run_id = step.lease, step.run_id
    lock = session.get(LockRow, LOCK_NAME, with_for_update=True)
    other = lease.lost_to or (lock.holder if lock and lock.holder != lease.holder else None)
    if other is not None:
        raise RunStopped(
            f"pipeline run {run_id} stopped: the pipeline lock is held by {other}, whose run "
            "goes on in its place (this run's lease ran out while the database was away); "
            f"{unstored} not stored"
        )
    run = session.get_one(RunRow, run_id, with_for_update=True)
    if run.status != "running":
        raise RunStopped(
            f"pipeline run {run_id} stopped: another process closed it as {run.status} while "
            f"the database was away ({run.message}); {unstored} not stored"
        )
    expires_at = utcnow() + lease.ttl
    if lock is None:  # it lapsed and was freed, and nobody took it: this run's again
        session.add(
            LockRow(name=LOCK_NAME, holder=lease.holder, expires_at=expires_at, run_id=run_id)
        )
    elif recovery.as_utc(lock.expires_at) < utcnow():  # lapsed, nobody took it
        lock.expires_at = expires_at


def _plan_step(step: _Pass) -> tuple[int | None, RunStatus, str]:
    start = time.perf_counter()
    factory, settings, run_id, report = step.factory, step.settings, step.run_id, step.report
    with repository_session(factory) as session:
        _check_lease(session, step, "its plan is")  # before a solve no one would store
        config_row = repository.active_config(session)
        if config_row is None:
            return None, "forecast_only", "forecasts stored; no planning config stored, so no plan."
        if not repository.list_series(session, planning.REFERRALS_PREFIX):
            # a council that loaded other series first (DTOC days, A&E): forecasting them is
            # the run's work; a plan waits for its referrals, and failing would hide that
            return None, "forecast_only", _no_referrals(config_row.name)
        run = session.get_one(RunRow, run_id)  # recorded first: a refused plan names it too
        run.config_id, run.config_version = config_row.id, planning.config_version(config_row)
        config_id = config_row.id
    with repository_session(factory) as session:
        config_row = session.get_one(PlanningConfigRow, config_id)
        report(f"planning with config {config_row.name!r} version {config_row.version!r}")
        repository.see_own_forecasts(session, run_id)  # served to others once the run ends
        planning.read_active(config_row)  # one that cannot be read is named by its id
        prepared = planning.prepare_plan(session, config_row.body)
    # solved holding no transaction (a pooled connection idle in one for the whole solve)
    solved = planning.solve_prepared(prepared, settings.solver)
    result, as_stored = solved.result, planning.result_json(solved)
    if not result.ok:  # no plan to show: the run fails, and the latest plan stays the latest
        with repository_session(factory) as session:
            session.get_one(RunRow, run_id).solver_status = result.status.value
            said = planning.unsolved_message(session, result)
        step.timings["plan_s"] = time.perf_counter() - start
        raise planning.PlanNotSolved(said, result.status.value, run_id)
    with repository_session(factory) as session:
        _check_lease(session, step, "its plan is")
        stored = planning.store_result(session, run_id, config_id, solved, as_stored)
        session.get_one(RunRow, run_id).solver_status = result.status.value
    step.timings["plan_s"] = time.perf_counter() - start
    report(
        f"plan {stored.plan_id}: {result.status.value}, "
        f"objective {_fmt(result.objective_weighted_wait_days)} weighted waiting days"
    )
    return stored.plan_id, "succeeded", _with_plan_warnings(result, stored.plan_id)


def _no_referrals(config_name: str) -> str:
    return (
        f"forecasts stored; no plan: the active config {config_name!r} plans from referral "
        f"histories ({planning.REFERRALS_PREFIX}<service>/<district>) and none are stored "
        "(load them with `homeward import` or POST /v1/observations)."
    )


def _with_plan_warnings(result: PlanResult, plan_id: int) -> str:
    """The plan's message, and how many warnings the plan carries and where to read them: a
    run's message is where a dashboard or an operator looks first (analyst review)."""
    count = len(result.warnings)
    if not count:
        return result.message
    said = "warning" if count == 1 else "warnings"
    return f"{result.message} The plan has {count} {said}: GET /v1/plans/{plan_id} lists them."


def _referral_tree(
    session: Session, history: pd.DataFrame, report: Report
) -> dict[str, tuple[str, ...]]:
    """Team and area totals to reconcile, where the active config says which district belongs
    to which team; with no (valid) config there are no teams to add up to, nor with a team id
    that cannot name a series (a config stored before team ids were checked: its total's id
    could be too long to store, or hold a line break), though its districts are still
    forecast and planned."""
    config_row = repository.active_config(session)
    if config_row is None:
        return {}
    try:
        config = planning.read_active(config_row)
    except planning.ConfigUnreadable as exc:  # the plan step fails with the same words
        report(f"  no team totals: {exc}")
        return {}
    for i, team in enumerate(config.teams):
        try:
            check_team_id(team.id)
        except ConfigValueError as exc:
            report(
                f"  no team totals: the active config (id {config_row.id}), stored before team "
                f"ids were checked, has teams[{i}].id: expected {exc.expected}, found "
                f"{exc.found} (POST /v1/configs the config with that team's id changed)"
            )
            return {}
    return planning.referral_hierarchy(config, history["unique_id"].unique())


@dataclass(frozen=True)
class Forecasts:
    """The runs of one forecasting pass, one per frequency, what the run's record should
    warn of (totals that leave a district out), and the totals it reconciled bottom-up, each
    with the series it summed: the config's teams less any district left out of step."""

    runs: list[ForecastRun]
    warnings: tuple[str, ...] = ()
    totals: Mapping[str, tuple[str, ...]] = field(default_factory=dict)


def forecast_by_frequency(
    history: pd.DataFrame,
    settings: Settings,
    report: Report,
    tree: Mapping[str, tuple[str, ...]] | None = None,
    anchors: Collection[str] | None = None,
    pressure: str | None = None,
) -> Forecasts:
    """Forecast weekly and monthly series separately, each with a horizon that suits it; the
    parents in `tree` whose leaves are in a run are reconciled bottom-up within it.

    The reach is set by the *anchor* series of each frequency: those of `anchors` (the
    planning config's referral and pressure series) in it, else its referral series, else
    all of it. Anchor series whose history ends early (by up to a horizon) are forecast
    further, so that every anchor reaches the newest anchor history's end plus the horizon:
    a plan starts when every district has demand and needs its whole horizon from there (see
    optimise.demand). Another upload (a series with later dates, one that stopped long ago)
    neither stretches nor shortens the referral forecasts. Monthly series reach at least the
    month the weekly anchors' forecasts end in. Backtests keep the plain horizon.

    The winter `pressure` series (the config's `winter.pressure_series`) is forecast half a
    year further (`forecast.winter.half_year_periods`), and it alone is stored so: the
    planner's winter index sets each month against the centred year around it, which for a
    plan's last half year reaches past the plan's end (forecast only to there, those months
    took the last whole year's mean, and a series growing 10% a year read 1.015 to 1.045 as
    winter). The other series' forecasts are cut back to their reach, unchanged.

    A series with fewer than MIN_OBSERVED observed values is left out (one value gives no
    spread to size intervals with, and `homeward forecast` refuses it), and the run's record
    warns of it; it also warns of series whose history ended a year or more before today, and
    of series too short for one backtest fold or for their chosen models to fit a season
    (forecast.notes).
    """
    periods = newest_periods(history)  # read once: about 0.5 s for England's DTOC series
    history, unfinished = _without_unfinished(history, unfinished_of(periods))
    history, warnings = _forecastable(history, report)
    warnings.extend(filter(None, [unfinished, stale_warning(stale_of(periods))]))
    if history.empty:
        return Forecasts([], tuple(warnings))
    totals: dict[str, tuple[str, ...]] = {}
    freqs = history.groupby("unique_id")["ds"].agg(frequency_of)
    weekly = history[history["unique_id"].isin(freqs[freqs == "W-MON"].index)]
    weekly = weekly[weekly["unique_id"].isin(_anchor_ids(weekly, anchors))]
    runs = []
    for freq, ids in freqs.groupby(freqs).groups.items():
        subset = history[history["unique_id"].isin(list(ids))]
        anchored = subset[subset["unique_id"].isin(_anchor_ids(subset, anchors))]
        horizon = plain_horizon(settings, str(freq))
        reach = horizon if freq == "W-MON" else monthly_reach(anchored, weekly, settings)
        # an anchor more than a horizon behind is stale, not late: not forecast further still
        lag = min(_lag_periods(anchored, str(freq)), horizon)
        further = _further(pressure, set(ids), str(freq))
        extra = max(further.values(), default=0)
        fs = _forecast_settings(settings, reach + lag + extra, backtest_horizon=horizon)
        subtree, left_out = _aligned_tree(tree or {}, subset, fs, report)
        warnings.extend(left_out)
        if subtree:
            fs = replace(fs, hierarchy=subtree, reconcile="bottom_up")
            subset, far = _without_far_totals(subset, subtree)
            warnings.extend(far)
            totals.update(subtree)
        report(
            f"  {len(ids)} {freq} series, horizon {reach}"
            + (f" (+{lag} for series whose history ends early)" if lag else "")
            + (f" (+{extra} for {pressure}'s winter index)" if extra else "")
            + (f"; {len(subtree)} team and area totals reconciled bottom-up" if subtree else "")
        )
        run = run_forecasts(subset, fs, progress=_progress(report, str(freq)))
        if unscored := unscored_warning(subset, run, fs.eval_horizon):
            warnings.append(unscored)
        if seasonless := seasonless_warning(subset, run):
            warnings.append(seasonless)
        if carried := carried_level_warning(subset, run, fs.adjust_level_shifts):
            warnings.append(carried)
        if flat := zero_width_warning(run):
            warnings.append(flat)
        ends = subset.groupby("unique_id")["ds"].max()
        runs.append(_until(run, ends, anchored["ds"].max(), reach, str(freq), further))
    return Forecasts(runs, tuple(warnings), totals)


def _further(pressure: str | None, ids: set[str], freq: str) -> dict[str, int]:
    """Periods past its reach to forecast each series of a run of `ids`: half a year for the
    winter pressure series, whose every planned month wants a centred year around it."""
    return {pressure: half_year_periods(freq)} if pressure is not None and pressure in ids else {}


def _without_unfinished(
    history: pd.DataFrame, unfinished: Mapping[str, pd.Timestamp]
) -> tuple[pd.DataFrame, str | None]:
    """`history` without each series' newest week or month when it has not ended (an export
    made on a Tuesday counts two days of the week), and the warning naming them: its partial
    count would pull the forecast down (in one trial by a fifth, and the plan's weighted
    waiting by 38%), and the forecast then starts with that period, planned in full."""
    today = pd.Timestamp(utcnow().date())
    unfinished = {sid: start for sid, start in unfinished.items() if start <= today}
    if not unfinished:  # (a period starting later is not a partial count: uploads refuse it)
        return history, None
    starts = history["unique_id"].map(unfinished)
    partial = starts.notna() & (history["ds"] == starts)
    kept = history.loc[~partial].reset_index(drop=True)
    return kept, unfinished_warning(dict(unfinished), left_out=True)


def _forecastable(history: pd.DataFrame, report: Report) -> tuple[pd.DataFrame, list[str]]:
    """`history` without the series too short to forecast, and a warning for each."""
    observed = history.dropna(subset=["y"]).groupby("unique_id")["ds"]
    counts = observed.size().reindex(history["unique_id"].unique(), fill_value=0)
    short = counts[counts < MIN_OBSERVED]
    if short.empty:
        return history, []
    report(f"  left out of forecasting, fewer than {MIN_OBSERVED} values: {list(short.index)}")
    few = history[history["unique_id"].isin(short.index)].dropna(subset=["y"])
    dates = few.groupby("unique_id")["ds"].agg(lambda d: ", ".join(f"{t:%Y-%m-%d}" for t in d))
    warnings = [
        f"{uid} left out of forecasting (and of any team or area total): expected at least "
        f"{MIN_OBSERVED} observed values to forecast from (one value gives no spread to size "
        f"intervals with), found {n}" + (f" ({dates.get(uid)})" if n else "")
        for uid, n in short.items()
    ]
    kept = history[~history["unique_id"].isin(short.index)].reset_index(drop=True)
    return kept, warnings


def _anchor_ids(history: pd.DataFrame, anchors: Collection[str] | None) -> set[str]:
    """The series of `history` that set its reach: those in `anchors`, else its referral
    series, else all of them."""
    ids = set(history["unique_id"].unique())
    for wanted in (
        ids & set(anchors or ()),
        {i for i in ids if i.startswith(planning.REFERRALS_PREFIX)},
    ):
        if wanted:
            return wanted
    return ids


def forecast_settings(settings: Settings, freq: str, horizon: int) -> ForecastSettings:
    """The settings the pipeline forecasts series of `freq` ('W-MON' or 'MS') with, `horizon`
    periods ahead: backtested at the pipeline's plain horizon for that frequency (the
    settings' `forecast_horizon_weeks` or `forecast_horizon_months`), pooled by kind, with the
    settings' models and folds. A forecast made elsewhere with these (`homeward plan`'s
    offline demo) chooses the same models and sizes its intervals alike: a backtest horizon
    that differs sizes them differently."""
    return _forecast_settings(settings, horizon, backtest_horizon=plain_horizon(settings, freq))


def plain_horizon(settings: Settings, freq: str) -> int:
    """Periods ahead the pipeline forecasts (and backtests) series of `freq` ('W-MON' or 'MS')
    at the least: HOMEWARD_FORECAST_HORIZON_WEEKS or _MONTHS. A plan of the stored forecasts
    can be at most this long, so POST /v1/configs refuses a longer `horizon_periods` with it."""
    return settings.forecast_horizon_weeks if freq == "W-MON" else settings.forecast_horizon_months


def _forecast_settings(settings: Settings, horizon: int, backtest_horizon: int) -> ForecastSettings:
    """The run's forecast settings: `horizon` periods ahead, backtested `backtest_horizon`
    ahead (the plain horizon, so the metrics and model choice do not move with the reach)."""
    fs = ForecastSettings(
        horizon=horizon,
        backtest_horizon=backtest_horizon,
        backtest_folds=settings.forecast_backtest_folds,
        n_jobs=settings.forecast_n_jobs,
        dask_address=settings.dask_address,
        pool_by_kind=True,  # referrals pool with referrals, not with a council's other data
    )
    return replace(fs, models=settings.forecast_models) if settings.forecast_models else fs


def monthly_reach(monthly: pd.DataFrame, weekly: pd.DataFrame, settings: Settings) -> int:
    """Months past the newest monthly history to forecast to: the settings' monthly horizon,
    or more so that monthly series (a winter pressure series) reach the month the weekly
    forecasts end in (`forecast_horizon_weeks` after the newest weekly history), as a plan of
    weekly demand reads the pressure of every month it covers. Monthly history stale by years
    (DTOC counts stopped in 2020) is forecast at most a horizon past the months the weekly
    forecasts span, and never less far than MIN_MONTHLY_REACH_CAP: the monthly setting is a
    monthly plan's horizon, so lowering it must not cut a weekly plan's hospital pressure."""
    plain = settings.forecast_horizon_months
    if weekly.empty:
        return plain
    weeks = settings.forecast_horizon_weeks
    end = pd.Timestamp(weekly["ds"].max()) + pd.Timedelta(weeks=weeks)
    last = pd.Timestamp(monthly["ds"].max())
    months = (end.year - last.year) * 12 + end.month - last.month
    spanned = math.ceil(weeks * 7 / 30.4) + 1  # the months a weekly forecast touches, at most
    return min(max(plain, months), max(MIN_MONTHLY_REACH_CAP, 2 * plain, spanned + plain))


def _lag_periods(history: pd.DataFrame, freq: str) -> int:
    """How many periods the earliest-ending series' history stops before the latest's."""
    ends = pd.to_datetime(history.groupby("unique_id")["ds"].max())
    return len(pd.date_range(ends.min(), ends.max(), freq=freq)) - 1


def _until(
    run: ForecastRun,
    ends: pd.Series,
    anchor_end: pd.Timestamp,
    horizon: int,
    freq: str,
    further: Mapping[str, int],
) -> ForecastRun:
    """The run's forecasts up to `horizon` periods after the newest anchor history
    (`anchor_end`), so every anchor series ends on the same date however far it had to be
    forecast to get there; a series whose own history (`ends`, by id) ends later still gets
    `horizon` periods after its own end, and one in `further` that many periods more. Totals,
    which have no history, end with the anchors."""

    def stop(last: pd.Timestamp, extra: int = 0) -> pd.Timestamp:
        start = max(pd.Timestamp(last), pd.Timestamp(anchor_end))
        return pd.date_range(start, periods=horizon + extra + 1, freq=freq)[-1]

    default = stop(anchor_end)
    stops = {str(uid): stop(last, further.get(str(uid), 0)) for uid, last in ends.items()}
    limit = run.forecasts["unique_id"].map(stops).fillna(default)
    kept = run.forecasts[pd.to_datetime(run.forecasts["ds"]) <= pd.to_datetime(limit)]
    return replace(run, forecasts=kept.reset_index(drop=True))


def _without_far_totals(
    history: pd.DataFrame, tree: Mapping[str, tuple[str, ...]]
) -> tuple[pd.DataFrame, list[str]]:
    """`history` without any uploaded team or area total far from its districts' sum (a
    district missing from the config, or a total counted another way), and a warning for each:
    the run forecasts such a total as its districts' sum, which the plan uses, rather than
    refuse the whole run as the command line refuses such a hierarchy."""
    nodes = set(tree) | {c for kids in tree.values() for c in kids}
    uploaded = history[history["unique_id"].isin(nodes)]
    far = parents_far_from_leaves(split_history(uploaded), tree) if len(uploaded) else {}
    warnings = [
        f"{why}: forecast as the sum of its districts instead of from its own history"
        for why in far.values()
    ]
    return history[~history["unique_id"].isin(far)], warnings


def _aligned_tree(
    tree: Mapping[str, tuple[str, ...]],
    history: pd.DataFrame,
    settings: ForecastSettings,
    report: Report,
) -> tuple[dict[str, tuple[str, ...]], list[str]]:
    """The part of `tree` this run can reconcile: districts in the run that end with the others
    and share their backtest periods; and a warning for each total that leaves a district out.

    A district a week behind, a week ahead or too new to backtest like the rest is left out of
    its team's total rather than failing the run; the total is then smaller than the team's, so
    the run's record says which totals leave out which districts (`_left_out_warnings`).
    """
    ids = set(history["unique_id"])
    leaves = {c for kids in tree.values() for c in kids if c not in tree and c in ids}
    if not leaves:
        return {}, []
    series = split_history(history[history["unique_id"].isin(leaves)])
    reasons = out_of_step(series, settings)
    usable = leaves - set(reasons)
    if reasons:
        report(f"  left out of team totals (history out of step): {sorted(reasons)}")
    parents: dict[str, tuple[str, ...]] = {}
    for parent, children in tree.items():  # teams come before the areas that hold them
        kept = tuple(c for c in children if c in usable or c in parents)
        if kept:
            parents[parent] = kept
    return parents, _left_out_warnings(tree, parents, reasons)


def _left_out_warnings(
    tree: Mapping[str, tuple[str, ...]],
    parents: Mapping[str, tuple[str, ...]],
    reasons: Mapping[str, str],
) -> list[str]:
    """One warning per district left out: the totals that lack it, and why it is out of step
    (`forecast.reconcile_run.out_of_step`)."""
    out = []
    for leaf, why in sorted(reasons.items()):
        totals = [p for p in tree if leaf in planning.leaves_under(tree, p)]
        short = ", ".join(p for p in totals if p in parents) or "no total"
        unmade = [p for p in totals if p not in parents]
        out.append(
            f"{short} leave out {leaf}, so they are less than the sum of their districts: {why}"
            + (f"; {', '.join(unmade)} not forecast" if unmade else "")
        )
    return out


def _progress(report: Report, label: str) -> Callable[[int, int], None]:
    def show(done: int, total: int) -> None:
        if done == total or done % max(1, total // 10) == 0:
            report(f"  {label}: {done}/{total} series forecast")

    return show


def _finish(
    factory: sessionmaker[Session],
    run_id: int,
    status: RunStatus,
    message: str,
    timings: dict[str, float],
) -> None:
    with repository_session(factory) as session:
        run = session.get_one(RunRow, run_id)
        if run.status not in recovery.UNFINISHED:  # a stop closed it meanwhile: it stays so
            log.warning("run %d was closed as %s before it ended %s", run_id, run.status, status)
            return
        run.status, run.message, run.finished_at = status, message, utcnow()
        run.timings_s = {k: round(v, 3) for k, v in timings.items()}


# Seconds between tries at recording a run's end while the database is away (a PostgreSQL
# restart or failover takes seconds): about half a minute in all, then recovery closes it;
# giving back the lock is tried for a few seconds more only, as its lease ends it anyway
_RETRY_WAITS_S: tuple[float, ...] = (1, 2, 4, 8, 15)
_RELEASE_WAITS_S: tuple[float, ...] = (1, 2)


def _retried(write: Callable[[], None], waits_s: Sequence[float] | None = None) -> None:
    """`write` (one transaction), tried again after each of `waits_s` (`_RETRY_WAITS_S`)
    while the connection fails, then its error raised: the outage that failed a run often
    fails its first write of the outcome too, and a run left 'running' holds the lock until
    its lease ends and is then closed as if the service had stopped."""
    for wait_s in _RETRY_WAITS_S if waits_s is None else waits_s:
        try:
            return write()
        except (OperationalError, InterfaceError) as exc:
            log.warning("the database is away (%s); again in %s s", type(exc).__name__, wait_s)
            time.sleep(wait_s)
    write()


def _release_retried(factory: sessionmaker[Session], holder: str) -> None:
    """Give back the pipeline lock, `_retried`; not raising if the database stays away (the
    run's own outcome or failure is the one to raise), as the lock frees when its lease ends."""
    try:
        _retried(lambda: repository.release_lock(factory, LOCK_NAME, holder), _RELEASE_WAITS_S)
    except (OperationalError, InterfaceError) as exc:
        log.error("the pipeline lock was not given back (%s): its lease ends it", exc)


def _fmt(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"
