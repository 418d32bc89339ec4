"""GET /v1/forecasts.csv checks its `prefix` as GET /v1/series does, and matches it
case-sensitively on SQLite as on PostgreSQL, as series ids are matched everywhere else."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer

SERIES = ["referrals_area/ot", "referrals/ot/rugby", "referralsXarea/ot"]


def _forecasts() -> pd.DataFrame:
    ds = pd.date_range("2026-01-05", periods=2, freq="W-MON")
    return pd.DataFrame(
        [
            {"unique_id": s, "ds": d, "model": "m", "mean": 1.0}
            | {c: 1.0 for c in ("lo-80", "hi-80", "lo-95", "hi-95")}
            for s in SERIES
            for d in ds
        ]
    )


@contextmanager
def _stored(url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, _forecasts(), pd.DataFrame())
        run.status = "succeeded"  # a running run's forecasts are not served yet
    try:
        yield factory
    finally:
        engine.dispose()


@pytest.fixture
def served(either_database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    with _stored(either_database_url) as factory, transaction(factory) as session:
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    settings = Settings(
        data_dir=tmp_path,
        database_url=either_database_url,
        scheduler_enabled=False,
        auth="keys",
    )
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as client,
    ):
        yield client


def test_a_forecast_prefix_in_capitals_matches_no_series_on_either_database(
    either_database_url: str,
) -> None:
    with _stored(either_database_url) as factory, factory() as session:
        assert repository.latest_forecast_frame(session, "REFERRALS_AREA/OT").empty
        assert repository.latest_forecast_frame(session, "Referrals/").empty
        area = repository.latest_forecast_frame(session, "referrals_area/")
        everything = repository.latest_forecast_frame(session, "")
    assert set(area["unique_id"]) == {"referrals_area/ot"}  # `_` is no wildcard either
    assert set(everything["unique_id"]) == set(SERIES)


def test_a_forecasts_csv_prefix_in_capitals_is_refused_as_the_series_list_refuses_it(
    served: httpx.Client,
) -> None:
    csv = served.get("/v1/forecasts.csv", params={"prefix": "REFERRALS_AREA/OT"})
    listed = served.get("/v1/series", params={"prefix": "REFERRALS_AREA/OT"})
    assert csv.status_code == listed.status_code == 422, csv.text
    assert csv.headers["content-type"] == listed.headers["content-type"]
    assert csv.json() == listed.json()
    assert csv.json()["problems"][0]["location"] == "query/prefix"


def test_a_forecasts_csv_lowercase_prefix_still_gives_its_series(served: httpx.Client) -> None:
    response = served.get("/v1/forecasts.csv", params={"prefix": "referrals_area/ot"})
    assert response.status_code == 200, response.text
    assert set(response.text.splitlines()[1:]) and all(
        line.startswith("referrals_area/ot,") for line in response.text.splitlines()[1:]
    )


def test_a_series_stored_but_not_yet_forecast_gives_the_header_not_a_404(
    either_database_url: str, tmp_path: Path
) -> None:
    """A spreadsheet refreshing GET /v1/forecasts.csv?prefix= of a series uploaded since the
    last run failed on a 404 until the next run; a prefix of no stored series still is one."""
    with _stored(either_database_url) as factory, transaction(factory) as session:
        weeks = pd.date_range("2025-01-06", periods=3, freq="W-MON")
        new = pd.DataFrame({"unique_id": "referrals/hao/rugby", "ds": weeks, "y": 4.0})
        repository.store_observations(session, new, "new.csv", "hash")
        key = api_keys.create_key(session, "viewer", Role.VIEWER).secret
    settings = Settings(
        data_dir=tmp_path, database_url=either_database_url, scheduler_enabled=False, auth="keys"
    )
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as client,
    ):
        fresh = client.get("/v1/forecasts.csv", params={"prefix": "referrals/hao/"})
        none = client.get("/v1/forecasts.csv", params={"prefix": "referrals/dom"})
        # the other downloads too, with the columns a forecast series' rows have
        metrics = client.get("/v1/metrics.csv", params={"prefix": "referrals/hao/"})
        winter = client.get("/v1/winter.csv", params={"prefix": "referrals/hao/"})
        # the series list says which have a forecast yet, and from which run
        listed = {s["id"]: s["forecast_run_id"] for s in client.get("/v1/series").json()}
    assert fresh.status_code == 200, fresh.text
    assert fresh.text.splitlines() == ["unique_id,ds,model,mean,lo-80,hi-80,lo-95,hi-95,run_id"]
    assert none.status_code == 404
    assert metrics.status_code == 200, metrics.text
    assert metrics.text.splitlines() == [
        "unique_id,model,run_id,chosen,mase,smape,rmsse,pinball,coverage_80,coverage_95,folds,"
        "selection_mase,total_error_q10,total_error_q90,members"
    ]
    assert winter.text.splitlines() == ["unique_id,ds,winter_index,warning,run_id"]
    assert listed["referrals/hao/rugby"] is None
    assert listed["referrals/ot/rugby"] == 1  # forecast by the stored run


def test_a_runs_metrics_and_forecasts_match_the_prefix_case_sensitively_on_either_database(
    either_database_url: str,
) -> None:
    """GET /v1/metrics.csv?run_id= (repository.latest_metrics, forecast_in_run) reads a run's
    rows under a prefix as the newest are read: no ASCII case folding, `_` no wildcard."""
    metrics = pd.DataFrame(
        [{"unique_id": s, "model": "m", "mase": 0.9, "chosen": True} for s in SERIES]
    )
    with _stored(either_database_url) as factory:
        with transaction(factory) as session:
            run = repository.start_run(session, "pipeline", "test", "test")
            session.flush()
            repository.store_forecasts(session, run.id, _forecasts(), metrics)
            run_id = run.id  # still running: served when asked for by id
        with factory() as session:
            for prefix in ("REFERRALS_AREA/OT", "Referrals/"):
                assert repository.latest_metrics(session, prefix, run_id=run_id).empty
                assert not repository.forecast_in_run(session, run_id, prefix)
            area = repository.latest_metrics(session, "referrals_area/", run_id=run_id)
            everything = repository.latest_metrics(session, "", run_id=run_id)
            assert repository.forecast_in_run(session, run_id, "referrals_area/")
            assert repository.latest_metrics(session, "").empty  # the served run stored none
    assert set(area["unique_id"]) == {"referrals_area/ot"} and set(area["run_id"]) == {run_id}
    assert set(everything["unique_id"]) == set(SERIES)
