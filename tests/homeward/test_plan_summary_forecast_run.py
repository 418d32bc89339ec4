"""A plan's summary names the forecasts it read: a what-if made while a pipeline run works
plans with the run before's forecasts (repository.served_forecasts), and says so; the run is
recorded with the plan when it is made, and worked out when read only for a plan stored
before it was."""

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
    during, _ = planning.plan_what_if(factory, body, "highs")
    with transaction(factory) as session:
        run = session.get_one(type(working), working_id)
        run.status, run.finished_at = "succeeded", utcnow()
    after, _ = planning.plan_what_if(factory, body, "highs")
    with factory() as session:
        assert _forecast_run(session, during.plan_id) == first
        assert _forecast_run(session, after.plan_id) == working_id


def _forecast_run_note(session: Session, plan_id: int) -> str:
    rows = plan_summary.summary_rows(session, session.get_one(PlanRow, plan_id))
    return str(next(row["note"] for row in rows if row["figure"] == "forecast_run_id"))


def test_the_run_a_plan_read_is_recorded_when_it_is_made_not_worked_out_later(
    factory: sessionmaker[Session],
) -> None:
    """A run that ended (by its own host's clock, behind this one's) before a plan was made,
    but whose forecasts the plan did not read, was named as the plan's when the summary was
    read; the plan now records its run, and a plan stored before it did says it is worked
    out."""
    body = _body()
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        read = repository.latest_forecast_frame(session, "referrals/")["run_id"].max()
    made, _ = planning.plan_what_if(factory, body, "highs")
    with transaction(factory) as session:
        plan = session.get_one(PlanRow, made.plan_id)
        assert plan.result["forecast_run_id"] == read
        later = repository.start_run(session, "pipeline", "api", "test")
        frame = repository.latest_forecast_frame(session, "referrals/").drop(columns="run_id")
        repository.store_forecasts(session, later.id, frame.assign(mean=99.0), pd.DataFrame())
        later.status, later.finished_at = "succeeded", plan.created_at
        older = repository.start_run(session, "plan", "api", "test")
        unrecorded = {k: v for k, v in plan.result.items() if k != "forecast_run_id"}
        stored_before = repository.store_plan(
            session, older.id, plan.config_id, plan.status, 1.0, 0.1, unrecorded
        )
        stored_before.created_at = plan.created_at
    with factory() as session:
        assert _forecast_run(session, made.plan_id) == read
        assert "recorded when the plan was made" in _forecast_run_note(session, made.plan_id)
        assert _forecast_run(session, stored_before.id) == later.id  # today's reckoning
        note = _forecast_run_note(session, stored_before.id)
        assert "worked out when this summary was read" in note
