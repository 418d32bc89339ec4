"""A winter index read from a series too short for its chosen model to fit a season says so:
a dashboard showing a flat index otherwise has nothing to tell a planner why."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pandas as pd
import pytest

from api.app import create_app
from api.routes.winter import _under_a_year
from homeward import api_keys, repository
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer


def _monthly(uid: str, months: int) -> pd.DataFrame:
    """A 40% rise from December to February on a level of 1000, with some noise."""
    ds = pd.date_range(end="2026-09-01", periods=months, freq="MS")
    season = np.where(np.isin(ds.month, [12, 1, 2]), 1.4, 1.0)
    noise = 1 + np.random.default_rng(months).normal(0.0, 0.05, months)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": np.round(1000.0 * season * noise)})


@pytest.fixture
def client(either_database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """A server over a database with 30-, 60- and 8-month series forecast by a run."""
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    history = pd.concat(
        [_monthly("winter/new", 30), _monthly("winter/old", 60), _monthly("winter/young", 8)]
    )
    with transaction(factory) as session:
        repository.store_observations(session, history, "council.csv", observations_hash(history))
        key = api_keys.create_key(session, "analyst", Role.VIEWER).secret
    settings = Settings(
        data_dir=tmp_path,
        database_url=either_database_url,
        scheduler_enabled=False,
        forecast_backtest_folds=2,
        forecast_n_jobs=1,
        forecast_models=("ses", "theta", "mean_best2"),
    )
    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert "2 series have under three years of history" in outcome.message
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=120) as client,
    ):
        yield client
    engine.dispose()


def test_a_short_series_index_says_why_it_shows_no_winter_rise(client: httpx.Client) -> None:
    short = client.get("/v1/winter/winter/new")
    assert short.status_code == 200, short.text
    body = short.json()
    assert body["warning"].startswith("30 months of history is under three years")
    assert body["peak"] < 1.1  # what it says is so: no winter rise, where the history had 40%
    long = client.get("/v1/winter/winter/old").json()
    assert long["warning"] is None
    assert long["peak"] > 1.25


def test_an_index_over_less_than_a_years_history_says_its_base_is_not_a_year(
    client: httpx.Client,
) -> None:
    """Eight months (February to September 2026): the index is over their mean, so the level's
    move since February reads in every winter period; the warning says so."""
    body = client.get("/v1/winter/winter/young").json()
    assert "the history is under a year (8 periods, 2026-02-01 to 2026-09-01)" in body["warning"]
    assert body["warning"].startswith("8 months of history is under three years")
    for longer in ("winter/new", "winter/old"):
        assert "under a year" not in (client.get(f"/v1/winter/{longer}").json()["warning"] or "")


@pytest.mark.parametrize(
    ("periods", "freq", "said"),
    [(12, "MS", False), (11, "MS", True), (52, "W-MON", False), (51, "W-MON", True)],
)
def test_a_year_of_history_is_a_year(periods: int, freq: str, said: bool) -> None:
    """12 months or 52 weeks are the year the index's base is the mean of: no warning."""
    first = "2025-01-06" if freq == "W-MON" else "2025-01-01"
    ds = pd.date_range(first, periods=periods, freq=freq)
    assert (_under_a_year(pd.DataFrame({"ds": ds})) is not None) == said


def test_the_csv_gives_each_series_the_warning_its_own_route_gives(client: httpx.Client) -> None:
    """A spreadsheet of every index carries each one's warning, as GET /v1/winter/{id} does:
    a short series' (30 and 8 months) on each of its rows, empty for the 60-month one."""
    response = client.get("/v1/winter.csv", params={"prefix": "winter/"})
    assert response.status_code == 200, response.text
    csv = pd.read_csv(io.StringIO(response.text), keep_default_na=False)
    assert list(csv.columns) == ["unique_id", "ds", "winter_index", "warning", "run_id"]
    assert set(csv["unique_id"]) == {"winter/new", "winter/old", "winter/young"}
    for series_id, rows in csv.groupby("unique_id"):
        served = client.get(f"/v1/winter/{series_id}").json()["warning"]
        assert rows["warning"].tolist() == [served or ""] * len(rows), series_id
    assert csv.loc[csv["unique_id"] == "winter/young", "warning"].str.contains("under a year").all()
    assert (csv.loc[csv["unique_id"] == "winter/old", "warning"] == "").all()
