"""A plan's summary names the forecasts it read: a what-if made while a pipeline run works
plans with the run before's forecasts (repository.served_forecasts), and says so."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from homeward import plan_summary, planning, repository
from homeward.recovery import utcnow
from homeward.storage import transaction
from models import PlanRow
from tests.homeward.test_planning_baseline import _body, _store_flat_forecasts


def _forecast_run(session: Session, plan_id: int) -> object:
    rows = plan_summary.summary_rows(session, session.get_one(PlanRow, plan_id))
    return next(row["value"] for row in rows if row["figure"] == "forecast_run_id")


def test_a_what_if_during_a_pipeline_run_names_the_run_before(
    factory: sessionmaker[Session],
) -> None:
    body = _body()
    _store_flat_forecasts(factory, body)
    with factory() as session:
        first = repository.latest_forecast_frame(session, "referrals/")["run_id"].max()
    with transaction(factory) as session:  # a pipeline run that has stored its forecasts
        working = repository.start_run(session, "pipeline", "api", "test")
        frame = repository.latest_forecast_frame(session, "referrals/").drop(columns="run_id")
        repository.store_forecasts(session, working.id, frame.assign(mean=99.0), pd.DataFrame())
        working_id = working.id
    with transaction(factory) as session:
        during, _ = planning.plan_what_if(session, body, "highs")
    with transaction(factory) as session:
        run = session.get_one(type(working), working_id)
        run.status, run.finished_at = "succeeded", utcnow()
    with transaction(factory) as session:
        after, _ = planning.plan_what_if(session, body, "highs")
    with factory() as session:
        assert _forecast_run(session, during.plan_id) == first
        assert _forecast_run(session, after.plan_id) == working_id
