"""An active config that cannot be read (stored by an older release, before today's checks)
does not stop a what-if or a sweep of a config sent whole: each is planned, and says that the
active config could not be compared with, and why."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import planning, repository
from homeward.storage import transaction
from models import PlanRow
from tests.homeward.test_planning_baseline import _body, _store_flat_forecasts, _sweep


def _store_unreadable(factory: sessionmaker[Session]) -> int:
    """An active config whose fee rate is text, as a release without the checks stored it."""
    body = _body(name="broken")
    body["fees"] = {**body["fees"], "dfg_fee_rate": "abc"}
    with transaction(factory) as session:
        return repository.save_config(session, body, planning.config_hash(body)).id


def _unreadable(config_id: int) -> str:
    return (
        f"the active config (id {config_id}) is not valid: fees.dfg_fee_rate: Input should be a "
        'valid number, unable to parse string as a number, found "abc"'
    )


def test_a_what_if_is_planned_while_the_active_config_cannot_be_read(
    factory: sessionmaker[Session],
) -> None:
    _store_flat_forecasts(factory, _body())
    config_id = _store_unreadable(factory)
    stored, compared = planning.plan_what_if(factory, _body(), "highs")
    assert stored.plan_id > 0 and stored.result.status.value == "optimal"
    assert compared["config_changes"] is None and compared["compared_with_plan_id"] is None
    assert compared["not_comparable"] == (
        f"{_unreadable(config_id)}; so nothing is compared with its plans and every change is "
        "null (store a valid config: POST /v1/configs)"
    )
    assert all(compared[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)


def test_the_active_config_planned_while_unreadable_is_named_by_its_id(
    factory: sessionmaker[Session],
) -> None:
    config_id = _store_unreadable(factory)
    with pytest.raises(planning.ConfigUnreadable, match=re.escape(_unreadable(config_id))):
        planning.plan_what_if(factory, None, "highs")


def test_a_sweep_is_planned_while_the_active_config_cannot_be_read(
    factory: sessionmaker[Session],
) -> None:
    body: dict[str, Any] = _body()
    _store_flat_forecasts(factory, body)
    config_id = _store_unreadable(factory)
    run = _sweep(factory, body, [0.1, 0.2])
    assert run.status == "succeeded", run.message
    assert run.sweep is not None and len(run.sweep) == 2
    own = body["fees"]["dfg_fee_rate"]
    assert run.message == (
        f"2 of 2 rates planned, compared with plan {run.sweep[0]['compared_with_plan_id']}: the "
        f"config sent, at its own fee rate ({own:g}), since {_unreadable(config_id)}"
    )


def test_two_plans_are_not_compared_where_a_config_cannot_be_read(
    factory: sessionmaker[Session],
) -> None:
    """GET /v1/plans/{id}/compare/{other_id} of a plan whose config an older release stored:
    its figures and rate as stored, no change, and why (never a 500 for the unreadable one)."""
    _store_flat_forecasts(factory, _body())
    config_id = _store_unreadable(factory)
    stored, _compared = planning.plan_what_if(factory, _body(), "highs")
    with transaction(factory) as session:
        plan = session.get_one(PlanRow, stored.plan_id)
        old = repository.store_plan(
            session, plan.run_id, config_id, plan.status, 1.0, 0.1, dict(plan.result)
        )
        compared = planning.compare_plans(session, plan, old)
        assert compared["config_changes"] is None and compared["compared_with_plan_id"] == old.id
        assert compared["not_comparable"] == (
            f"the config of plan {old.id} (id {config_id}) is not valid: fees.dfg_fee_rate: "
            'Input should be a valid number, unable to parse string as a number, found "abc"; '
            "so nothing is compared with its plans and every change is null (store a valid "
            "config: POST /v1/configs)"
        )
        assert all(compared[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
        assert compared["weighted_wait_days"] == plan.objective_weighted_wait_days
        with pytest.raises(planning.ConfigUnreadable, match=f"the config of plan {old.id} "):
            planning.compare_plans(session, old, plan)  # its own rate is "abc": none to give


def test_a_plan_compared_with_one_that_is_not_optimal_shows_no_change(
    factory: sessionmaker[Session],
) -> None:
    """Either way round: an optimal plan is never shown as 'worse' than a relaxed one, which
    broke a limit to exist (as a what-if against a relaxed latest plan is not)."""
    _store_flat_forecasts(factory, _body())
    stored, _compared = planning.plan_what_if(factory, _body(), "highs")
    with transaction(factory) as session:
        plan = session.get_one(PlanRow, stored.plan_id)
        relaxed = repository.store_plan(
            session, plan.run_id, plan.config_id, "infeasible_relaxed", 1.0, 0.1, plan.result
        )
        for mine, other in ((plan, relaxed), (relaxed, plan)):
            compared = planning.compare_plans(session, mine, other)
            assert compared["not_comparable"] is not None
            assert f"plan {relaxed.id} is infeasible_relaxed" in compared["not_comparable"]
            assert all(compared[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
