"""Plan requests as jobs: a config is checked before queueing, and a failed job says why."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.storage import transaction
from models import RunRow


def test_scenario_body_needs_a_config_and_checks_it(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(planning.NoConfig, match="no planning config"):
        planning.scenario_body(session, None)
    body = demo_config.demo_planning_config(horizon_periods=4)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    with factory() as session:
        assert planning.scenario_body(session, None) == body
        with pytest.raises(ValueError, match="revenue_budget_gbp_per_period"):
            planning.scenario_body(session, {**body, "revenue_budget_gbp_per_period": -5})


def test_a_plan_job_that_cannot_solve_records_why(factory: sessionmaker[Session]) -> None:
    body = demo_config.demo_planning_config(horizon_periods=4)
    run_id = planning.queue_plan(factory)
    with factory() as session:
        assert session.get_one(RunRow, run_id).status == "queued"
    planning.run_plan_job(factory, body, "highs", run_id)  # no forecasts stored: cannot plan
    with factory() as session:
        run = session.get_one(RunRow, run_id)
        assert repository.plan_ids_by_run(session, [run_id]) == {}
    assert run.kind == "plan" and run.status == "failed" and run.finished_at is not None
    assert run.message is not None and run.message.startswith("NoForecasts: no referral forecasts")
