"""The whole service on a real PostgreSQL server: pipeline, stored plan, and the API serving it
to a key holder."""

from __future__ import annotations

import httpx

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.demo_series import generate_demo_observations
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.conftest import LiveServer

WEEKS = 8


def test_pipeline_and_api_on_postgres(fresh_postgres_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        data_dir=tmp_path,
        database_url=fresh_postgres_url,
        scheduler_enabled=False,
        forecast_horizon_weeks=WEEKS,
        forecast_backtest_folds=2,
        forecast_n_jobs=1,
        forecast_models=("seasonal_naive", "ses", "damped"),
    )
    engine = make_engine(fresh_postgres_url)
    upgrade(engine)
    factory = session_factory(engine)
    demo = generate_demo_observations()
    frame = demo[demo["unique_id"].str.startswith("referrals/") & (demo["ds"] >= "2023-01-02")]
    body = demo_config.demo_planning_config(horizon_periods=WEEKS)
    with transaction(factory) as session:
        repository.store_observations(session, frame, "demo on postgres", observations_hash(frame))
        repository.save_config(session, body, planning.config_hash(body))
        viewer = api_keys.create_key(session, "pg-viewer", Role.VIEWER)
    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "succeeded" and outcome.plan_id is not None
    engine.dispose()
    headers = {"Authorization": f"Bearer {viewer.secret}"}
    with LiveServer(create_app(settings)) as server, httpx.Client(headers=headers) as client:
        health = httpx.get(f"{server.url}/healthz").json()
        refused = httpx.get(f"{server.url}/v1/plans/latest")
        plan = client.get(f"{server.url}/v1/plans/latest").json()
        run = client.get(f"{server.url}/v1/runs/{outcome.run_id}").json()
        forecast = client.get(f"{server.url}/v1/forecasts/referrals/ot/rugby").json()
    assert health["database"] == "postgresql" and refused.status_code == 401
    assert plan["id"] == outcome.plan_id and plan["status"] == "optimal"
    assert len({h["period"] for h in plan["result"]["hours"]}) == WEEKS
    assert run["status"] == "succeeded" and len(run["data_hash"]) == 64
    assert set(run["models_chosen"].values()) <= {"seasonal_naive", "ses", "damped", "bottom_up"}
    assert run["models_chosen"]["referrals_area/ot"] == "bottom_up"  # totals reconciled
    assert len(forecast["points"]) == WEEKS
