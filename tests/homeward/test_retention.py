"""`homeward purge` deletes old runs with their forecasts, metrics and plans, and never what
is served or planned from: each series' newest forecasts, the latest plan, an unfinished run,
the forecasts a kept plan read, a kept sweep's plans and the plans it is compared with, the
forecasts an unfinished what-if or sweep plans from."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from homeward import cli, repository, retention, scheduler
from homeward.pipeline import LOCK_NAME, PipelineOutcome
from homeward.recovery import lock_holder
from homeward.retention import PurgeBusy, Retention, StoredRun, choose, purge, summary
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ForecastMetricRow, ForecastRow, LockRow, PlanRow, RunRow

LEASE = timedelta(minutes=10)
NOW = datetime(2026, 11, 24, 6, tzinfo=UTC)


def _forecasts(series: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three weeks of a flat forecast of each series, and one metric row each."""
    weeks = pd.date_range("2026-01-05", periods=3, freq="W-MON")
    frame = pd.DataFrame(
        [{"unique_id": s, "ds": w, "model": "flat", "mean": 5.0} for s in series for w in weeks]
    )
    frame = frame.assign(**{c: 5.0 for c in ("lo-80", "hi-80", "lo-95", "hi-95")})
    metrics = pd.DataFrame({"unique_id": series, "model": "flat", "chosen": True, "mase": 1.0})
    return frame, metrics


def _run(
    factory: sessionmaker[Session], series: list[str], status: str = "succeeded", plan: bool = False
) -> int:
    """A pipeline run that stored forecasts of `series` and, with `plan`, its own plan."""
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "scheduler", "test")
        if series:
            repository.store_forecasts(session, run.id, *_forecasts(series))
        if plan:
            config = repository.save_config(session, {"name": "test"}, "hash")
            result = {"forecast_run_id": run.id, "status": "optimal"}
            repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, result)
        run.status = status  # type: ignore[assignment]
        return run.id


def _count(session: Session, table: type[ForecastRow | ForecastMetricRow | PlanRow]) -> int:
    return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_keep_one_run_deletes_the_old_and_keeps_what_is_served_and_planned(
    either_factory: sessionmaker[Session],
) -> None:
    factory = either_factory
    gone = _run(factory, ["a", "b"], plan=True)
    serves_c = _run(factory, ["a", "b", "c"], plan=True)  # older than the cut, but serves c
    planned = _run(factory, ["a", "b"], plan=True)  # the latest plan
    serves_a = _run(factory, ["a"], status="failed")  # its plan failed: its forecasts serve
    queued = _run(factory, [], status="queued")
    newest = _run(factory, [], status="skipped")

    dry = purge(factory, Retention(keep_runs=1), dry_run=True, lock_ttl=LEASE)
    assert dry.choice.deleted == (gone,)
    with factory() as session:  # a dry run deletes nothing
        assert session.get(RunRow, gone) is not None
        assert (_count(session, ForecastRow), _count(session, PlanRow)) == (24, 3)

    done = purge(factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == (gone,)
    assert (done.removed.forecast_rows, done.removed.metric_rows, done.removed.plans) == (6, 2, 1)
    assert done.choice.kept == {
        newest: f"holds nothing, newer than run {serves_a}",
        queued: f"holds nothing, newer than run {serves_a}, queued",
        serves_a: "the 1 newest, serves 1 series' forecasts",
        planned: "serves 1 series' forecasts, the latest plan and the active config's (plan 3)",
        serves_c: "serves 1 series' forecasts",
    }
    with factory() as session:
        assert session.get(RunRow, gone) is None
        assert (_count(session, ForecastRow), _count(session, ForecastMetricRow)) == (18, 6)
        assert _count(session, PlanRow) == 2
        assert repository.newest_forecast_runs(session) == {
            "a": serves_a,
            "b": planned,
            "c": serves_c,
        }
        latest = repository.latest_plan(session)
        assert latest is not None and latest.run_id == planned
    assert summary(done).startswith(f"deleted 1 run ({gone}) with 6 forecast rows")


def test_the_runs_a_kept_object_refers_to_are_kept() -> None:
    """A kept plan's forecast run, a kept sweep's plan runs and a kept plan run's sweep stay,
    however old; the rest older than the cut go."""
    old = NOW - timedelta(days=100)
    runs = [
        StoredRun(1, "succeeded", old, None),  # read by run 6's plan
        StoredRun(2, "succeeded", old, None),  # a sweep, whose plan run 3 is new
        StoredRun(3, "succeeded", NOW, 2),
        StoredRun(4, "succeeded", old, None),  # a sweep with old plan runs only: goes whole
        StoredRun(5, "succeeded", old, 4),
        StoredRun(6, "succeeded", NOW, None),
    ]
    reads = {6: [1]}
    choice = choose(runs, Retention(older_than_days=30), NOW, {}, lambda r: reads.get(r, []))
    assert choice.deleted == (4, 5)
    assert choice.kept == {
        1: "read by run 6's plan",
        2: "the sweep of run 3",
        3: "younger than 30 days",
        6: "younger than 30 days",
    }


def test_both_rules_must_let_a_run_go() -> None:
    old = NOW - timedelta(days=100)
    runs = [StoredRun(i, "succeeded", old if i < 3 else NOW, None) for i in (1, 2, 3)]
    both = Retention(keep_runs=2, older_than_days=30)
    assert choose(runs, both, NOW, {}, lambda r: []).deleted == (1,)
    with pytest.raises(ValueError, match="expected --keep-runs N, --older-than DAYS or both"):
        Retention()


def test_runs_holding_nothing_are_not_counted_among_the_newest() -> None:
    """Two schedulers: each firing of the second makes a skipped run with nothing stored. The
    N newest are those holding something (a sweep holds its plan runs'); a run holding
    nothing stays while newer than the oldest of them, and goes once older."""
    runs = [
        StoredRun(1, "succeeded", NOW, None),
        StoredRun(2, "skipped", NOW, None, holds=False),  # older than every run counted
        StoredRun(3, "succeeded", NOW, None),
        StoredRun(4, "skipped", NOW, None, holds=False),
        StoredRun(5, "succeeded", NOW, None, holds=False),  # a sweep, whose plan run holds
        StoredRun(6, "succeeded", NOW, 5),
        StoredRun(7, "interrupted", NOW, None, holds=False),
    ]
    choice = choose(runs, Retention(keep_runs=2), NOW, {}, lambda r: [])
    assert choice.deleted == (1, 2)
    assert choice.kept == {
        5: "the 2 newest",
        3: "the 2 newest",
        4: "holds nothing, newer than run 3",
        7: "holds nothing, newer than run 3",
        6: "a plan of sweep 5",
    }
    everything = choose(runs, Retention(keep_runs=4), NOW, {}, lambda r: [])
    assert everything.deleted == ()  # fewer than 4 hold anything: nothing is made room for
    assert everything.kept[2] == "holds nothing"
    # `--keep-runs 0` keeps none by count, empty runs included (it raised IndexError)
    none = choose(runs, Retention(keep_runs=0), NOW, {}, lambda r: [])
    assert none.deleted == (1, 2, 3, 4, 5, 6, 7) and none.kept == {}  # the sweep with its plan


def test_a_purge_counts_the_runs_that_stored_forecasts_or_a_plan(
    either_factory: sessionmaker[Session],
) -> None:
    factory = either_factory
    old = _run(factory, ["a"])
    skipped_before = _run(factory, [], status="skipped")
    counted = _run(factory, ["a"])
    skipped = _run(factory, [], status="skipped")
    newest = _run(factory, ["a"], plan=True)
    cut_off = _run(factory, [], status="interrupted")
    skipped_last = _run(factory, [], status="skipped")

    done = purge(factory, Retention(keep_runs=2), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == (old, skipped_before)
    empty = f"holds nothing, newer than run {counted}"
    assert done.choice.kept == {
        newest: "the 2 newest, serves 1 series' forecasts, the latest plan and the active "
        "config's (plan 1)",
        counted: "the 2 newest",
        skipped: empty,
        cut_off: empty,
        skipped_last: empty,
    }


def test_purge_refuses_while_the_pipeline_lock_is_held(factory: sessionmaker[Session]) -> None:
    old = _run(factory, ["a"])
    _run(factory, ["a"])
    assert repository.acquire_lock(factory, LOCK_NAME, "123@elsewhere#x", LEASE)
    with pytest.raises(PurgeBusy, match="held by 123@elsewhere#x until"):
        purge(factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)
    with factory() as session:
        assert session.get(RunRow, old) is not None


def test_a_purge_longer_than_a_lease_keeps_the_lock_until_it_ends(
    either_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting millions of forecast rows can outlast HOMEWARD_PIPELINE_LOCK_TTL_S: the purge
    renews the lease as a pipeline run does, so no run takes the lock while it deletes."""
    factory = either_factory
    old = _run(factory, ["a"])
    _run(factory, ["a"])
    lease = timedelta(seconds=1)
    seen: list[object] = []
    delete = retention._delete

    def slow_delete(session: Session, run_ids: Sequence[int]) -> None:
        time.sleep(3 * lease.total_seconds())  # three leases: unrenewed, it had lapsed
        with factory() as other:
            lock = other.get(LockRow, LOCK_NAME)
            seen.append(None if lock is None else lock.holder)
        seen.append(repository.acquire_lock(factory, LOCK_NAME, "a-pipeline-run", lease))
        delete(session, run_ids)

    monkeypatch.setattr(retention, "_delete", slow_delete)
    done = purge(factory, Retention(keep_runs=1), dry_run=False, lock_ttl=lease)
    assert seen == [f"purge:{lock_holder()}", False]
    assert done.choice.deleted == (old,)
    with factory() as session:
        assert session.get(LockRow, LOCK_NAME) is None  # given back once it ended
        assert session.get(RunRow, old) is None


def test_the_command_prints_one_line_and_releases_the_lock(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = make_engine(db_env)
    upgrade(engine)
    factory = session_factory(engine)
    old, new = _run(factory, ["a"]), _run(factory, ["a"])
    assert cli.main(["purge", "--keep-runs", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [
        f"deleted 1 run ({old}) with 3 forecast rows, 1 metric row, 0 level shifts and 0 "
        f"plans (0.0 MB of plan JSON); kept 1 run (run {new}: the 1 newest, serves 1 series' "
        "forecasts)"
    ]
    with factory() as session:
        assert session.get(LockRow, LOCK_NAME) is None
    assert cli.main(["purge"]) == 2
    assert "expected --keep-runs N, --older-than DAYS or both" in capsys.readouterr().err
    engine.dispose()


def test_the_scheduler_purges_after_a_succeeded_run_with_the_setting(
    factory: sessionmaker[Session],
    sqlite_settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """HOMEWARD_RETENTION_KEEP_RUNS: a succeeded run is followed by `purge --keep-runs`."""
    old = _run(factory, ["a"])
    new = _run(factory, ["a"])

    def pipeline(*args: object, **kwargs: object) -> PipelineOutcome:
        return PipelineOutcome(new, "succeeded", None, "")

    monkeypatch.setattr(scheduler, "run_pipeline", pipeline)
    scheduler.scheduled_run(factory, sqlite_settings)  # unset: keeps every run
    with factory() as session:
        assert session.get(RunRow, old) is not None
    caplog.set_level(logging.INFO)
    scheduler.scheduled_run(factory, sqlite_settings.model_copy(update={"retention_keep_runs": 1}))
    with factory() as session:
        assert session.get(RunRow, old) is None and session.get(RunRow, new) is not None
    [line] = [r.getMessage() for r in caplog.records if "retention" in r.getMessage()]
    assert line.startswith(f"retention (HOMEWARD_RETENTION_KEEP_RUNS): deleted 1 run ({old})")


def test_a_kept_sweep_keeps_the_plan_its_rows_are_compared_with(
    factory: sessionmaker[Session],
) -> None:
    """GET /v1/plans/{compared_with_plan_id} and the dashboard's link answer after a purge."""
    baseline = _run(factory, ["a"], plan=True)
    _run(factory, ["a"], plan=True)  # the latest plan, serving a
    with transaction(factory) as session:
        baseline_plan = session.scalars(select(PlanRow.id).where(PlanRow.run_id == baseline))
        sweep = repository.start_run(session, "sweep", "api", "test")
        sweep.status, sweep.sweep = "succeeded", [{"compared_with_plan_id": baseline_plan.one()}]
        sweep_id = sweep.id
    done = purge(factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == ()
    assert done.choice.kept[baseline] == f"compared with by sweep {sweep_id}"


def test_a_sweeps_plan_runs_stored_without_a_link_stay_with_it_and_count_as_one(
    either_factory: sessionmaker[Session],
) -> None:
    """A release before migration 0012 that keeps serving after the upgrade (README:
    Upgrading) stores a sweep's plan runs with `parent_run_id` null, after 0017 linked the
    older ones: the sweep's rows still name their plans, so a purge keeps them with it."""
    factory = either_factory
    old = _run(factory, [], status="failed")  # holds nothing, older than the 2 newest
    latest = _run(factory, ["a"], plan=True)  # the latest plan, serving a
    with transaction(factory) as session:
        sweep = repository.start_run(session, "sweep", "api", "test")
        config = repository.save_config(session, {"name": "what-if"}, "w", scenario=True)
        rows, plan_runs = [], []
        for rate in (0.05, 0.1, 0.15):
            plan_run = repository.start_run(session, "plan", "sweep", "test")
            result = {"forecast_run_id": latest, "status": "optimal"}
            stored = repository.store_plan(session, plan_run.id, config.id, "optimal", 1, 0, result)
            plan_run.status = "succeeded"
            rows.append({"dfg_fee_rate": rate, "plan_id": stored.id})
            plan_runs.append(plan_run.id)
        sweep.status, sweep.sweep = "succeeded", rows
        sweep_id = sweep.id
    newest = _run(factory, [], status="skipped")
    done = purge(factory, Retention(keep_runs=2), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == (old,)
    assert done.choice.kept[latest].startswith("the 2 newest, ")  # the sweep counted as one
    assert {r: done.choice.kept[r] for r in (sweep_id, newest, *plan_runs)} == {
        sweep_id: "the 2 newest",
        newest: f"holds nothing, newer than run {latest}",
        **{r: f"a plan of sweep {sweep_id}" for r in plan_runs},
    }


def _hour_apart(factory: sessionmaker[Session], run_ids: list[int], job: int) -> None:
    """The runs started an hour apart in that order, after NOW: `job` an unfinished plan
    run, the others ended pipeline runs."""
    with transaction(factory) as session:
        for hour, run_id in enumerate(run_ids, start=1):
            run = session.get_one(RunRow, run_id)
            run.kind, at = "plan" if run_id == job else "pipeline", NOW + timedelta(hours=hour)
            run.started_at, run.finished_at = at, None if run_id == job else at


def test_the_forecasts_an_unfinished_job_plans_from_are_kept(
    factory: sessionmaker[Session],
) -> None:
    """A what-if running has stored no plan naming the run it read: the run that had ended
    when it began, and any run ending since (which it may read instead), stay."""
    ended, job, since, served = (
        _run(factory, ["referrals/a"]),
        _run(factory, [], status="running"),
        _run(factory, ["referrals/a"]),
        _run(factory, ["referrals/a"]),
    )
    _hour_apart(factory, [ended, job, since, served], job)
    done = purge(factory, Retention(keep_runs=1), dry_run=True, lock_ttl=LEASE)
    assert done.choice.deleted == ()
    assert done.choice.kept[ended] == f"read by plan run {job} (unfinished)"
    assert done.choice.kept[since] == f"ended after unfinished run {job} began"


def test_an_unfinished_job_keeps_each_series_forecasts_it_began_reading(
    factory: sessionmaker[Session],
) -> None:
    """A what-if reads each series' newest forecast: when it began, `referrals/a`'s was an older
    run's than `referrals/b`'s (a run that reforecast b alone), so both stay while it runs."""
    both, b_only, job, served = (
        _run(factory, ["referrals/a", "referrals/b"]),
        _run(factory, ["referrals/b"]),
        _run(factory, [], status="running"),
        _run(factory, ["referrals/a", "referrals/b"]),
    )
    _hour_apart(factory, [both, b_only, job, served], job)
    done = purge(factory, Retention(keep_runs=1), dry_run=True, lock_ttl=LEASE)
    assert done.choice.deleted == ()
    assert done.choice.kept[both] == f"read by plan run {job} (unfinished)"
    assert done.choice.kept[b_only] == f"read by plan run {job} (unfinished)"


def test_a_purge_is_not_held_to_the_statement_timeout(
    fresh_postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Deleting millions of forecast rows outlasts HOMEWARD_DB_STATEMENT_TIMEOUT_S: a purge
    cancelled by it would fail on the same first chunk every time."""
    migrating = make_engine(fresh_postgres_url)
    upgrade(migrating)
    migrating.dispose()
    engine = make_engine(fresh_postgres_url, statement_timeout_s=0.2)
    factory = session_factory(engine)
    old, _ = _run(factory, ["a"]), _run(factory, ["a"])
    seen: list[str] = []
    delete = retention._delete

    def slow_delete(session: Session, run_ids: tuple[int, ...]) -> None:
        seen.append(session.execute(text("SHOW statement_timeout")).scalar_one())
        session.execute(text("SELECT pg_sleep(0.4)"))  # as a large delete outlasts the timeout
        delete(session, run_ids)

    monkeypatch.setattr(retention, "_delete", slow_delete)
    done = purge(factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == (old,) and seen == ["0"]
    with factory() as session:
        assert session.get(RunRow, old) is None
    engine.dispose()


def test_a_purge_keeps_the_audit_trail_and_is_recorded_in_it(
    either_factory: sessionmaker[Session],
) -> None:
    """The audit trail is never purged; a purge that deleted runs adds its own entry, naming
    who purged (`(cli)`, or `(scheduler)` for HOMEWARD_RETENTION_KEEP_RUNS) and the runs."""
    from models import AuditEventRow

    old = _run(either_factory, ["a"])
    _run(either_factory, ["a"])
    with transaction(either_factory) as session:
        repository.record_audit(session, "ops-admin", "run", run_id=old)
    purge(either_factory, Retention(keep_runs=1), dry_run=True, lock_ttl=LEASE)
    purge(either_factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)
    purge(either_factory, Retention(keep_runs=1), dry_run=False, lock_ttl=LEASE)  # none left
    with either_factory() as session:
        assert session.get(RunRow, old) is None
        rows = session.scalars(select(AuditEventRow).order_by(AuditEventRow.id)).all()
    assert [(r.actor, r.action, r.detail) for r in rows] == [
        ("ops-admin", "run", {"run_id": old}),
        (
            "(cli)",
            "purge",
            {"run_ids": [old], "runs_deleted": 1, "plans_deleted": 0, "forecast_rows_deleted": 3},
        ),
    ]


def test_ids_of_purged_runs_and_plans_are_never_given_out_again(
    either_factory: sessionmaker[Session],
) -> None:
    """SQLite gave a purged newest run's and plan's ids to the next ones (a rowid table takes
    the largest id stored, plus one), so a link or a cached answer naming the old plan named
    the new one. Only a what-if is purged here: the pipeline's plan is the latest, and kept."""
    factory = either_factory
    _run(factory, ["a"], plan=True)
    with transaction(factory) as session:
        run = repository.start_run(session, "plan", "api", "test")
        config = repository.save_config(session, {"name": "what-if"}, "w", scenario=True)
        plan = repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, {})
        run.status = "succeeded"
        whatif_run, whatif_plan = run.id, plan.id

    done = purge(factory, Retention(keep_runs=0), dry_run=False, lock_ttl=LEASE)
    assert done.choice.deleted == (whatif_run,)
    with transaction(factory) as session:
        run = repository.start_run(session, "plan", "api", "test")
        plan = repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, {})
        assert run.id > whatif_run and plan.id > whatif_plan
