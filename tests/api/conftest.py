"""API fixtures: a database holding a short demo history, and the app served over real HTTP."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import demo_config, planning, repository
from homeward.demo_series import generate_demo_observations
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.conftest import LiveServer

HORIZON_WEEKS = 13


def _short_demo() -> pd.DataFrame:
    """The demo's referrals from 2022 on: enough for yearly seasonality, quick to backtest."""
    frame = generate_demo_observations()
    keep = frame["unique_id"].str.startswith("referrals/") & (frame["ds"] >= "2022-01-03")
    return frame[keep].reset_index(drop=True)


def load_demo(settings: Settings) -> sessionmaker[Session]:
    """Migrate, store the short demo and its config, run the pipeline once."""
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    frame = _short_demo()
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.store_observations(session, frame, "synthetic demo", observations_hash(frame))
        repository.save_config(session, body, planning.config_hash(body))
    run_pipeline(factory, settings, trigger="test")
    return factory


@pytest.fixture(scope="module")
def demo_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """A real HTTP server on loopback over a SQLite database holding a solved demo plan."""
    tmp = tmp_path_factory.mktemp("api")
    settings = Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'api.db'}",
        scheduler_enabled=False,
        forecast_horizon_weeks=HORIZON_WEEKS,
        forecast_backtest_folds=2,
        forecast_n_jobs=2,
    )
    load_demo(settings)
    with LiveServer(create_app(settings)) as server:
        yield server
