"""A plan records every run whose forecasts it read (`forecast_run_ids`), not only the newest
(`forecast_run_id`): after a run that reforecast one uploaded series, a plan reads that series'
forecast from it and the rest from the full run before. Its summary names both, and a purge
keeps both with the plan; a plan stored before the list was recorded keeps naming one run."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from homeward import plan_summary, planning, repository
from homeward.retention import Retention, purge
from homeward.storage import transaction
from models import PlanRow, RunRow
from tests.homeward.test_planning_baseline import _body, _store_flat_forecasts

LEASE = timedelta(minutes=10)


def _reforecast(factory: sessionmaker[Session], series: list[str] | None, mean: float) -> int:
    """A newer ended pipeline run whose forecasts of `series` (None: every referral series)
    are the newest ones' with `mean`."""
    with transaction(factory) as session:
        frame = repository.latest_forecast_frame(session, "referrals/").drop(columns="run_id")
        if series is not None:
            frame = frame[frame["unique_id"].isin(series)]
        run = repository.start_run(session, "pipeline", "api", "test")
        repository.store_forecasts(session, run.id, frame.assign(mean=mean), pd.DataFrame())
        run.status = "succeeded"
        return run.id


def _full_then_one(factory: sessionmaker[Session]) -> tuple[dict[str, Any], int, int, str]:
    """A full run's forecasts of `_body()`'s series, then a run that reforecast one of them:
    (body, full run, one-series run, that series)."""
    body = _body()
    _store_flat_forecasts(factory, body)
    with factory() as session:
        full = int(repository.latest_forecast_frame(session, "referrals/")["run_id"].max())
    service, district = body["services"][0]["id"], body["districts"][0]["id"]
    one = f"referrals/{service}/{district}"
    return body, full, _reforecast(factory, [one], 30.0), one


def _summary(session: Session, plan_id: int, figure: str) -> dict[str, Any]:
    rows = plan_summary.summary_rows(session, session.get_one(PlanRow, plan_id))
    return next(row for row in rows if row["figure"] == figure)


def test_a_plan_after_a_one_series_reforecast_records_both_runs(
    factory: sessionmaker[Session],
) -> None:
    body, full, one_series, series = _full_then_one(factory)
    made, _ = planning.plan_what_if(factory, body, "highs")
    sweep_id = planning.queue_sweep(factory)
    planning.run_sweep_job(factory, body, [body["fees"]["dfg_fee_rate"]], "highs", sweep_id)
    with factory() as session:
        result = session.get_one(PlanRow, made.plan_id).result
        assert (result["forecast_run_id"], result["forecast_run_ids"]) == (
            one_series,
            [full, one_series],
        )
        demand = pd.DataFrame(result["demand"])  # it did read both runs' forecasts
        reforecast = (demand["service"] + "/" + demand["district"]) == series.split("/", 1)[1]
        assert set(demand.loc[reforecast, "forecast_cases"].round(6)) == {30.0}
        assert set(demand.loc[~reforecast, "forecast_cases"].round(6)) == {20.0}
        row = _summary(session, made.plan_id, "forecast_run_ids")
        assert (row["value"], row["unit"]) == (f"{full}, {one_series}", "ids")
        assert "recorded when the plan was made" in row["note"]
        swept = session.scalars(
            select(PlanRow)
            .join(RunRow, RunRow.id == PlanRow.run_id)
            # the sweep's rate's plan (and the active config's own, if it made one)
            .where(RunRow.parent_run_id == sweep_id)
        ).all()
        assert swept and all(p.result["forecast_run_ids"] == [full, one_series] for p in swept)


def test_a_purge_keeps_every_run_a_kept_plan_read(
    either_factory: sessionmaker[Session],
) -> None:
    """On SQLite and PostgreSQL: the plan's run is kept, so the full run it read most of its
    forecasts from stays with the one-series run, though a newer full run serves them all."""
    factory = either_factory
    body, full, one_series, _ = _full_then_one(factory)
    made, _ = planning.plan_what_if(factory, body, "highs")
    with transaction(factory) as session:
        plan_run = session.get_one(PlanRow, made.plan_id).run_id
    newer = _reforecast(factory, None, 40.0)  # serves every series: the others go unless read

    done = purge(factory, Retention(keep_runs=2), dry_run=False, lock_ttl=LEASE)

    assert done.choice.deleted == ()
    assert done.choice.kept[full] == f"read by run {plan_run}'s plan"
    assert done.choice.kept[one_series] == f"read by run {plan_run}'s plan"
    assert {newer, plan_run} <= set(done.choice.kept)
    with factory() as session:
        assert _summary(session, made.plan_id, "forecast_run_ids")["value"] == (
            f"{full}, {one_series}"
        )


def test_a_plan_stored_before_the_list_names_its_one_run_and_keeps_only_that(
    factory: sessionmaker[Session],
) -> None:
    """A plan stored with `forecast_run_id` alone: its summary's `forecast_run_ids` is that run
    and says older runs it read are not known; a purge keeps that run with it, as before (the
    full run, which it may have read too, is not known to be needed)."""
    body, full, one_series, _ = _full_then_one(factory)
    made, _ = planning.plan_what_if(factory, body, "highs")
    with transaction(factory) as session:
        plan = session.get_one(PlanRow, made.plan_id)
        plan.result = {k: v for k, v in plan.result.items() if k != "forecast_run_ids"}
        plan_run = plan.run_id
    newer = _reforecast(factory, None, 40.0)
    with factory() as session:
        row = _summary(session, made.plan_id, "forecast_run_ids")
        assert row["value"] == str(one_series)
        assert "older runs whose forecasts it read are not known" in row["note"]
        assert _summary(session, made.plan_id, "forecast_run_id")["value"] == one_series

    done = purge(factory, Retention(keep_runs=2), dry_run=False, lock_ttl=LEASE)

    assert done.choice.deleted == (full,)
    assert done.choice.kept[one_series] == f"read by run {plan_run}'s plan"
    assert newer in done.choice.kept
