"""A solve that ends without a plan (the solver's status error: no hours, waits or money to
show) is not a success: the run fails with the solver's words, no plan is stored, and the
latest plan stays the last one solved. Before, such a run "succeeded" with an empty plan of
status error that replaced the latest plan, and /metrics counted a succeeded run; POST
/v1/plans answered 201 with it. The config here is one stored before the entry ceilings
(hours_per_case 1e15, refused when sent now), which is still read and planned."""

from __future__ import annotations

import argparse
import copy
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import commands, planning, repository
from homeward.pipeline import run_pipeline
from homeward.settings import Settings, get_settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import PlanRow, RunRow
from optimise.config import PlanningConfig
from tests.optimise.factory import hand_config


def _store_referrals(factory: sessionmaker[Session], body: dict[str, Any]) -> None:
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    frame = pd.concat(
        pd.DataFrame(
            {
                "unique_id": f"referrals/{s['id']}/{d['id']}",
                "ds": weeks,
                "y": [20.0 + (i % 52) / 4 for i in range(len(weeks))],
            }
        )
        for s in body["services"]
        for d in body["districts"]
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")


def _unsolvable(body: dict[str, Any]) -> dict[str, Any]:
    """`body` with an OT case taking 1e15 hours: HiGHS ends with status error (Not Set)."""
    broken = copy.deepcopy(body)
    broken["version"] = "2"
    broken["services"][0]["hours_per_case"] = 1e15
    with pytest.raises(ValueError, match="hours_per_case"):
        PlanningConfig.model_validate(broken)  # refused when sent now
    return broken


def _store_config(factory: sessionmaker[Session], body: dict[str, Any]) -> None:
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))


def _plans(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(PlanRow)) or 0)


def test_a_pipeline_run_the_solver_cannot_plan_fails_and_keeps_the_latest_plan(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    body = hand_config()
    _store_referrals(factory, body)
    _store_config(factory, body)
    good = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert good.status == "succeeded" and good.plan_id is not None
    _store_config(factory, _unsolvable(body))
    with pytest.raises(planning.PlanNotSolved) as raised:
        run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert raised.value.status == "error"
    with factory() as session:
        run = session.scalars(select(RunRow).order_by(RunRow.id.desc())).first()
        assert run is not None
        assert (run.status, run.solver_status) == ("failed", "error")
        assert repository.plan_ids_by_run(session, [run.id]) == {}
        latest = repository.latest_plan(session)
    assert latest is not None and latest.id == good.plan_id and latest.status == "optimal"
    assert run.message is not None
    assert run.message.startswith("No plan: the solver ended with status error")
    assert f"GET /v1/plans/latest still serves plan {good.plan_id}" in run.message
    assert _plans(factory) == 1


def test_a_requested_plan_the_solver_cannot_plan_fails_its_run_and_stores_no_plan(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    body = hand_config()
    _store_referrals(factory, body)
    _store_config(factory, _unsolvable(body))
    with pytest.raises(planning.PlanNotSolved):  # forecasts stored, no plan
        run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    with pytest.raises(planning.PlanNotSolved) as raised:
        planning.plan_scenario(factory, None, "highs")
    run_id = raised.value.run_id
    assert str(raised.value).startswith(f"run {run_id} failed: No plan: the solver ended")
    assert str(raised.value).endswith("No plan was stored: no plan has been solved yet")
    with factory() as session:
        run = session.get_one(RunRow, run_id)
        assert (run.kind, run.status, run.solver_status) == ("plan", "failed", "error")
        assert repository.latest_plan(session) is None
    assert _plans(factory) == 0


def test_an_error_plan_an_earlier_release_stored_is_never_the_latest(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """Before, such a solve stored an empty plan of status error that became the latest; on a
    database upgraded from then, the latest is the newest plan that was solved."""
    body = hand_config()
    _store_referrals(factory, body)
    _store_config(factory, body)
    good = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert good.plan_id is not None
    with transaction(factory) as session:
        config_id = repository.active_config(session).id  # type: ignore[union-attr]
        run = repository.start_run(session, "plan", "api", "old release")
        empty = {"status": "error", "message": "No plan", "hours": [], "warnings": []}
        old = repository.store_plan(session, run.id, config_id, "error", None, 0.1, empty)
    assert old.id > good.plan_id
    with factory() as session:
        latest = repository.latest_plan(session)
        stamp = repository.latest_plan_stamp(session)
    assert latest is not None and latest.id == good.plan_id
    assert stamp is not None and stamp.id == good.plan_id


def _demo_args(serve: bool) -> argparse.Namespace:
    return argparse.Namespace(serve=serve, rerun=True, host=None, port=None, no_scheduler=True)


def test_demo_serve_serves_when_the_active_config_cannot_be_planned(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`homeward demo --serve` (the container's command) used to exit when its run failed on
    the active config, so a restart policy started it into the same failure again and again,
    and the API that says why, and takes a config that can be met, never came up. Without
    --serve the failure is still the command's exit."""
    monkeypatch.setenv("HOMEWARD_FORECAST_HORIZON_WEEKS", "13")
    monkeypatch.setenv("HOMEWARD_FORECAST_BACKTEST_FOLDS", "2")
    monkeypatch.setenv("HOMEWARD_FORECAST_N_JOBS", "1")
    get_settings.cache_clear()
    engine = make_engine(db_env)
    upgrade(engine)
    factory = session_factory(engine)
    body = hand_config()
    _store_referrals(factory, body)
    _store_config(factory, _unsolvable(body))  # the user's config: the demo keeps it
    served: list[bool] = []
    monkeypatch.setattr(commands, "_serve", lambda _settings, _args: served.append(True) or 0)
    assert commands.demo(_demo_args(serve=True)) == 0
    assert served == [True]
    said = capsys.readouterr().err
    assert "warning: demo pipeline run failed: " in said and "status error" in said
    with factory() as session:
        run = session.scalars(select(RunRow).order_by(RunRow.id.desc())).first()
        assert run is not None and (run.status, run.solver_status) == ("failed", "error")
    with pytest.raises(planning.PlanNotSolved):
        commands.demo(_demo_args(serve=False))
    assert served == [True]
    engine.dispose()


def test_a_sweep_names_the_rates_the_solver_could_not_plan() -> None:
    """Some rates unsolved: the sweep succeeded (the others have figures), and its message
    names the rates without a plan, with their statuses; all solved: nothing added."""
    rows = [
        {"dfg_fee_rate": 0.05, "status": "optimal"},
        {"dfg_fee_rate": 0.125, "status": "infeasible"},
        {"dfg_fee_rate": 0.2, "status": "infeasible_relaxed"},
        {"dfg_fee_rate": 0.3, "status": "time_limit"},
    ]
    unsolved = planning._unsolved_rates(rows)
    assert [row["dfg_fee_rate"] for row in unsolved] == [0.125, 0.3]
    assert planning._unsolved_text(unsolved, len(rows)).startswith(
        "; 2 of 4 rates not solved (0.125: infeasible, 0.3: time_limit): the solver ended "
    )
    assert planning._unsolved_text(planning._unsolved_rates(rows[:1]), 1) == ""
