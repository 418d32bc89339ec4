"""After `homeward purge --keep-runs 1`, the API still serves the latest plan and every
series' newest forecasts: the runs they come from are kept, however old."""

from __future__ import annotations

from datetime import timedelta

import httpx
from sqlalchemy import select

from homeward import repository
from homeward.retention import Retention, purge
from homeward.storage import transaction
from models import ForecastMetricRow, ForecastRow, PlanRow, RunRow
from tests.api.conftest import DemoDatabase


def _copy_run(demo_db: DemoDatabase, source: int, series: list[str], plan: PlanRow | None) -> int:
    """A newer, finished run whose forecasts of `series` are `source`'s (no pipeline run),
    and with `plan`, a copy of that plan as its own."""
    with transaction(demo_db.factory) as session:
        run = repository.start_run(session, "pipeline", "scheduler", "test")
        rows = session.scalars(
            select(ForecastRow).where(
                ForecastRow.run_id == source, ForecastRow.series_id.in_(series)
            )
        )
        for row in rows.all():
            copy = {c.key: getattr(row, c.key) for c in ForecastRow.__table__.columns}
            session.add(ForecastRow(**(copy | {"run_id": run.id})))
        if plan is not None:
            result = plan.result | {"forecast_run_id": run.id, "forecast_run_ids": [run.id]}
            repository.store_plan(session, run.id, plan.config_id, plan.status, 1.0, 0.1, result)
        run.status = "succeeded"
        return run.id


def test_the_api_serves_the_latest_plan_and_every_forecast_after_a_purge(
    demo_db: DemoDatabase, viewer: httpx.Client
) -> None:
    with demo_db.factory() as session:
        served = repository.newest_forecast_runs(session)
        plan = repository.latest_plan(session)
    assert plan is not None and set(served.values()) == {plan.run_id}
    series = sorted(served)
    older = _copy_run(demo_db, plan.run_id, series, plan)  # partly superseded by `newest`
    newest = _copy_run(demo_db, plan.run_id, series[:1], None)

    purged = purge(
        demo_db.factory, Retention(keep_runs=1), dry_run=False, lock_ttl=timedelta(minutes=10)
    )

    assert purged.choice.deleted == (plan.run_id,)
    assert purged.removed.metric_rows > 0 and purged.removed.plans == 1
    assert purged.choice.kept[older] == (
        f"serves {len(series) - 1} series' forecasts, the latest plan and the active config's "
        f"(plan {plan.id + 1})"
    )
    with demo_db.factory() as session:
        assert session.get(RunRow, plan.run_id) is None
        left = session.scalars(select(ForecastMetricRow.run_id).distinct()).all()
        assert plan.run_id not in left
    latest = viewer.get("/v1/plans/latest")
    assert latest.status_code == 200 and latest.json()["id"] == plan.id + 1
    for sid in series:
        answer = viewer.get(f"/v1/forecasts/{sid}")
        assert answer.status_code == 200, sid
        assert answer.json()["run_id"] == (newest if sid == series[0] else older), sid
