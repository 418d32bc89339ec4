"""Team and area referral totals: district forecasts add up to team and area forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from optimise.config import PlanningConfig

COLS = ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]


def _forecasts(ids: list[str]) -> pd.DataFrame:
    rng = np.random.default_rng(5)
    ds = pd.date_range("2026-01-05", periods=3, freq="W-MON")
    frames = []
    for uid in ids:
        mean = rng.uniform(5, 30, len(ds))
        frame = pd.DataFrame({"unique_id": uid, "ds": ds, "model": "ses", "mean": mean})
        for col, k in zip(COLS[1:], (-1.3, 1.3, -2.0, 2.0), strict=True):
            frame[col] = mean + k * 2.0
        frames.append(frame)
    return pd.concat(frames, ignore_index=True)


def test_team_and_area_totals_add_up_and_skip_missing_districts() -> None:
    config = PlanningConfig.model_validate(demo_config.demo_planning_config(horizon_periods=4))
    districts = ["rugby", "warwick", "stratford-on-avon"]  # north: rugby; south: the other two
    forecasts = _forecasts([f"referrals/ot/{d}" for d in districts] + ["dtoc_days/x"])
    totals = planning.referral_totals(forecasts, config).set_index(["unique_id", "ds"])
    assert set(totals.index.get_level_values(0)) == {
        "referrals_team/ot/north",
        "referrals_team/ot/south",
        "referrals_area/ot",
    }
    by_id = forecasts.set_index(["unique_id", "ds"])
    south = (
        by_id.loc["referrals/ot/warwick", COLS] + by_id.loc["referrals/ot/stratford-on-avon", COLS]
    )
    assert np.allclose(totals.loc["referrals_team/ot/south", COLS], south)
    assert np.allclose(
        totals.loc["referrals_team/ot/north", COLS], by_id.loc["referrals/ot/rugby", COLS]
    )
    area = totals.loc["referrals_team/ot/north", COLS] + totals.loc["referrals_team/ot/south", COLS]
    assert np.allclose(totals.loc["referrals_area/ot", COLS], area)
    assert (totals["model"] == "bottom_up").all()
    assert planning.referral_totals(_forecasts(["dtoc_days/x"]), config).empty


def test_the_pipeline_stores_totals_beside_the_district_forecasts(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=4)
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    season = (np.arange(len(weeks)) % 52) / 4
    rows = [
        pd.DataFrame(
            {"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": weeks, "y": 20.0 + i + season}
        )
        for i, d in enumerate(body["districts"])
        for s in body["services"]
    ]
    with transaction(factory) as session:
        repository.store_observations(session, pd.concat(rows), "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    messages: list[str] = []
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive", "ses")})
    outcome = run_pipeline(factory, fast, trigger="test", report=messages.append)
    assert outcome.plan_id is not None  # totals do not reach the LP's demand
    with factory() as session:
        districts = repository.latest_forecast_frame(session, "referrals/ot/")
        teams = repository.latest_forecast_frame(session, planning.TEAM_PREFIX + "ot/")
        area = repository.latest_forecast_frame(session, planning.AREA_PREFIX + "ot")
    horizon = sqlite_settings.forecast_horizon_weeks
    assert len(teams) == 2 * horizon and len(area) == horizon
    district_sum = districts.groupby("ds")["mean"].sum().to_numpy()
    assert np.allclose(area.sort_values("ds")["mean"].to_numpy(), district_sum)
    assert any("12 team and area referral totals stored" in m for m in messages)
