"""Team and area referral totals: district forecasts add up to team and area forecasts."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from models import PlanRow
from optimise.config import PlanningConfig


def test_the_hierarchy_follows_the_config_and_skips_missing_districts() -> None:
    config = PlanningConfig.model_validate(demo_config.demo_planning_config(horizon_periods=4))
    ids = ["referrals/ot/rugby", "referrals/ot/warwick", "referrals/ot/stratford-on-avon"]
    tree = planning.referral_hierarchy(config, [*ids, "dtoc_days/x"])
    assert tree == {
        "referrals_team/ot/north": ("referrals/ot/rugby",),
        "referrals_team/ot/south": ("referrals/ot/warwick", "referrals/ot/stratford-on-avon"),
        "referrals_area/ot": ("referrals_team/ot/north", "referrals_team/ot/south"),
    }
    assert planning.referral_hierarchy(config, ["dtoc_days/x"]) == {}


def _store_demo_referrals(
    factory: sessionmaker[Session],
    late: str | None = None,
    horizon_periods: int = 4,
    ahead: str | None = None,
) -> None:
    """Every demo district and service, 120 weeks; `late` misses its newest week, `ahead` has
    one more week than the rest (121)."""
    body = demo_config.demo_planning_config(horizon_periods=horizon_periods)
    weeks = pd.date_range("2023-01-02", periods=121, freq="W-MON")
    season = (np.arange(len(weeks)) % 52) / 4
    rows = [
        pd.DataFrame(
            {"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": weeks, "y": 20.0 + i + season}
        )
        for i, d in enumerate(body["districts"])
        for s in body["services"]
    ]
    frame = pd.concat(rows, ignore_index=True)
    frame = frame[(frame["unique_id"] == ahead) | (frame["ds"] < weeks[-1])]
    if late is not None:
        frame = frame[~((frame["unique_id"] == late) & (frame["ds"] == weeks[-2]))]
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))


def _fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"forecast_models": ("seasonal_naive", "ses")})


def test_a_district_a_week_behind_is_left_out_of_its_total_not_the_run(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _store_demo_referrals(factory, late="referrals/ot/rugby")
    messages: list[str] = []
    outcome = run_pipeline(factory, _fast(sqlite_settings), trigger="demo", report=messages.append)
    assert outcome.plan_id is not None  # the plan starts when every district has demand
    with factory() as session:
        north = repository.latest_forecast_frame(session, planning.TEAM_PREFIX + "ot/north")
        nuneaton = repository.latest_forecast_frame(session, "referrals/ot/nuneaton-and-bedworth")
        north_warks = repository.latest_forecast_frame(session, "referrals/ot/north-warwickshire")
    kept = nuneaton.set_index("ds")["mean"] + north_warks.set_index("ds")["mean"]
    assert np.allclose(north.set_index("ds")["mean"], kept)  # rugby is not in the sum
    assert any("left out of team totals" in m and "referrals/ot/rugby" in m for m in messages)
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
        plan = session.get_one(PlanRow, outcome.plan_id).result
    assert any(w.startswith("demand for ot/rugby starts") for w in plan["warnings"])
    assert run.message is not None
    assert "referrals_team/ot/north, referrals_area/ot leave out referrals/ot/rugby" in run.message
    # the run records what it summed, which the active config's teams alone would not say
    with factory() as session:
        team = planning.TEAM_PREFIX + "ot/north"
        members = repository.total_members(session, {team: run.id})
    kept = ["referrals/ot/north-warwickshire", "referrals/ot/nuneaton-and-bedworth"]
    assert members == {team: kept}


def test_a_district_a_week_ahead_still_gets_a_plan_of_the_whole_horizon(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    horizon = sqlite_settings.forecast_horizon_weeks
    _store_demo_referrals(factory, horizon_periods=horizon, ahead="referrals/ot/rugby")
    outcome = run_pipeline(factory, _fast(sqlite_settings), trigger="demo", report=lambda _m: None)
    assert outcome.status == "succeeded" and outcome.plan_id is not None
    with factory() as session:
        forecasts = repository.latest_forecast_frame(session, "referrals/")
        plan = session.get_one(PlanRow, outcome.plan_id).result
    ends = pd.to_datetime(forecasts["ds"]).groupby(forecasts["unique_id"]).max()
    assert set(ends) == {pd.Timestamp("2025-04-21") + pd.Timedelta(weeks=horizon)}
    periods = sorted({row["ds"] for row in plan["demand"]})
    assert len(periods) == horizon and str(periods[0]).startswith("2025-04-28")
    assert any("demand for ot/rugby starts 2025-04-28" in w for w in plan["warnings"])
    assert "referrals/ot/rugby" in outcome.message  # left out of its team's total, and said so


def test_the_pipeline_stores_totals_beside_the_district_forecasts(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _store_demo_referrals(factory)
    messages: list[str] = []
    outcome = run_pipeline(factory, _fast(sqlite_settings), trigger="demo", report=messages.append)
    assert outcome.plan_id is not None  # totals do not reach the LP's demand
    with factory() as session:
        districts = repository.latest_forecast_frame(session, "referrals/ot/")
        teams = repository.latest_forecast_frame(session, planning.TEAM_PREFIX + "ot/")
        area = repository.latest_forecast_frame(session, planning.AREA_PREFIX + "ot")
    horizon = sqlite_settings.forecast_horizon_weeks
    assert len(teams) == 2 * horizon and len(area) == horizon
    district_sum = districts.groupby("ds")["mean"].sum().to_numpy()
    assert np.allclose(area.sort_values("ds")["mean"].to_numpy(), district_sum)
    assert any("12 team and area totals reconciled bottom-up" in m for m in messages)
    with factory() as session:
        found = repository.latest_forecast(session, planning.AREA_PREFIX + "ot")
    assert found is not None
    _run, rows, metrics = found
    assert {r.model for r in rows} == {"bottom_up"}
    [backtest] = [m for m in metrics if m.chosen]  # calibrated and scored on its own backtest
    assert backtest.model == "bottom_up" and backtest.metrics["coverage_80"] is not None


def test_an_uploaded_total_far_from_its_districts_is_left_out_not_the_run(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A council's own team total, counted another way (twice its districts' sum), would make
    the bottom-up run refuse the hierarchy and so fail the whole pipeline. The run forecasts
    the total as its districts' sum instead, and its record says why."""
    _store_demo_referrals(factory)
    with factory() as session:
        stored = repository.load_observations(session, prefix="referrals/ot/")
    north = [
        d["id"] for d in demo_config.demo_planning_config()["districts"] if d["team"] == "north"
    ]
    own = stored[stored["unique_id"].isin([f"referrals/ot/{d}" for d in north])]
    total = (2 * own.groupby("ds")["y"].sum()).reset_index()
    total.insert(0, "unique_id", planning.TEAM_PREFIX + "ot/north")
    with transaction(factory) as session:
        repository.store_observations(session, total, "council total", "hash2")
    outcome = run_pipeline(factory, _fast(sqlite_settings), trigger="demo", report=lambda _m: None)
    assert outcome.status == "succeeded" and outcome.plan_id is not None
    assert (
        "expected 'referrals_team/ot/north' to be the sum of its leaves" in outcome.message
        and "forecast as the sum of its districts instead of from its own history"
        in outcome.message
    )
    with factory() as session:
        team = repository.latest_forecast_frame(session, planning.TEAM_PREFIX + "ot/north")
        kids = repository.latest_forecast_frame(session, "referrals/ot/")
    summed = kids[kids["unique_id"].isin([f"referrals/ot/{d}" for d in north])]
    assert np.allclose(
        team.sort_values("ds")["mean"].to_numpy(), summed.groupby("ds")["mean"].sum().to_numpy()
    )


@pytest.mark.parametrize("team_id", ["n" * 300, "north\r=cmd|' /C calc'!A0"])
def test_an_active_config_stored_with_a_team_id_no_series_can_have_makes_no_totals(
    either_factory: sessionmaker[Session], sqlite_settings: Settings, team_id: str
) -> None:
    """Stored before team ids were checked (POST /v1/configs now refuses it), its totals' ids
    could not be stored (over the 200 characters PostgreSQL's series ids hold, which failed
    every run) or would hold a line break: the run makes none, says why, and plans."""
    factory = either_factory
    _store_demo_referrals(factory)
    body = demo_config.demo_planning_config(horizon_periods=4)
    body["teams"][0]["id"] = team_id
    for district in body["districts"]:
        district["team"] = team_id if district["team"] == "north" else district["team"]
    with transaction(factory) as session:
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
    messages: list[str] = []
    outcome = run_pipeline(factory, _fast(sqlite_settings), trigger="demo", report=messages.append)
    assert outcome.plan_id is not None
    with factory() as session:
        stored = [s.id for s in repository.list_series(session)]
        totals = repository.latest_forecast_frame(session, planning.TEAM_PREFIX)
    assert not any(s.startswith(planning.TEAM_PREFIX) for s in stored) and totals.empty
    said = [m for m in messages if "no team totals" in m]
    assert said == [
        f"  no team totals: the active config (id {config_id}), stored before team ids were "
        "checked, has teams[0].id: expected a lower-case id of a-z, 0-9, '_', '.', '-' "
        "(starting with a letter or digit), at most 174 characters, as its referral totals "
        "referrals_team/<service>/<team id> name it, found "
        + (f'300 characters ("{"n" * 40}"...)' if len(team_id) > 174 else json.dumps(team_id))
        + " (POST /v1/configs the config with that team's id changed)"
    ]
