"""A reconciled combination's stored metrics name its members, as its own combination's do:
GET /v1/forecasts/{series_id}'s backtest and GET /v1/metrics.csv, over a real HTTP server."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from api.app import create_app
from forecast import ForecastSettings, run_forecasts
from homeward import api_keys, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer
from tests.homeward.test_cli_hierarchy import reconciled_combination_history


@pytest.fixture
def viewer(tmp_path: Path) -> Iterator[httpx.Client]:
    """A server over a run that reconciled a county and its two districts with wls_struct,
    mean_best2 chosen for each, stored as the API stores a run's forecasts and metrics."""
    url = f"sqlite:///{tmp_path / 'members.db'}"
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    settings = ForecastSettings(
        horizon=6,
        backtest_folds=2,
        n_jobs=1,
        models=("seasonal_naive", "ses", "mean_best2"),
        hierarchy={"county": ("a", "b")},
        reconcile="wls_struct",
    )
    run = run_forecasts(reconciled_combination_history(), settings)
    assert set(run.chosen.values()) == {"mean_best2+wls_struct"}
    with transaction(factory) as session:
        run_id = repository.start_run(session, "pipeline", "test", "test").id
        repository.store_forecasts(session, run_id, run.forecasts, run.metrics)
        key = api_keys.create_key(session, "analyst", Role.VIEWER).secret
    app = create_app(Settings(data_dir=tmp_path, database_url=url, scheduler_enabled=False))
    with (
        LiveServer(app) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as client,
    ):
        yield client
    engine.dispose()


@pytest.mark.parametrize("series_id", ["a", "county"])
def test_a_reconciled_combinations_members_are_its_combinations(
    viewer: httpx.Client, series_id: str
) -> None:
    """A district's, and the parent's (its own mean_best2's), in the JSON and the CSV alike."""
    backtest = viewer.get(f"/v1/forecasts/{series_id}").json()["backtest"]
    members = {m["model"]: m["members"] for m in backtest}
    assert set(members["mean_best2"]) == {"seasonal_naive", "ses"}
    assert members["mean_best2+wls_struct"] == members["mean_best2"]
    response = viewer.get("/v1/metrics.csv", params={"prefix": series_id, "chosen": "true"})
    assert response.status_code == 200, response.text
    csv = pd.read_csv(io.StringIO(response.text), keep_default_na=False)
    row = csv[csv["unique_id"] == series_id].iloc[0]
    assert row["model"] == "mean_best2+wls_struct"
    assert row["members"] == ";".join(members["mean_best2"])
