"""A forecast says when its series' history has changed since it was made, and a stored series
with no forecast yet gets a 404 that says why and what makes one. On SQLite and PostgreSQL
(PostgreSQL hands times back with their zone, SQLite without)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from api.app import create_app
from homeward import api_keys, repository
from homeward.clock import utcnow
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer

WEEKS = pd.date_range("2023-01-02", periods=80, freq="W-MON")
CSV = {"content-type": "text/csv"}


@pytest.fixture
def client(either_database_url: str, tmp_path: Path) -> Iterator[httpx.Client]:
    """A server over a database with one council series forecast by a pipeline run."""
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    history = pd.DataFrame(
        {"unique_id": "referrals/ot/rugby", "ds": WEEKS, "y": 20.0 + (WEEKS.isocalendar().week % 7)}
    )
    with transaction(factory) as session:
        repository.store_observations(session, history, "council.csv", observations_hash(history))
        key = api_keys.create_key(session, "analyst", Role.ADMIN).secret
    settings = Settings(
        data_dir=tmp_path,
        database_url=either_database_url,
        scheduler_enabled=False,
        forecast_horizon_weeks=8,
        forecast_backtest_folds=2,
        forecast_n_jobs=1,
        forecast_models=("seasonal_naive", "ses"),
    )
    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "forecast_only"  # no config: forecasts, no plan
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=120) as client,
    ):
        yield client
    engine.dispose()


def _csv(series_id: str, weeks: pd.DatetimeIndex, level: float) -> bytes:
    rows = "\n".join(f"{series_id},{d:%Y-%m-%d},{level}" for d in weeks)
    return f"unique_id,ds,y\n{rows}\n".encode()


def test_a_forecast_says_when_its_history_changed_after_it(client: httpx.Client) -> None:
    before = client.get("/v1/forecasts/referrals/ot/rugby")
    assert before.status_code == 200, before.text
    assert before.json()["history_changed"] is False
    restated = client.post(
        "/v1/observations?replace=true",
        content=_csv("referrals/ot/rugby", WEEKS, 35.0),
        headers=CSV,
    )
    assert restated.status_code == 201, restated.text
    after = client.get("/v1/forecasts/referrals/ot/rugby")
    assert after.status_code == 200
    assert after.json()["history_changed"] is True
    assert after.json()["run_id"] == before.json()["run_id"]  # the same, older forecast


def test_a_stored_series_not_yet_forecast_is_told_what_makes_one(client: httpx.Client) -> None:
    added = client.post(
        "/v1/observations", content=_csv("referrals/ot/warwick", WEEKS, 12.0), headers=CSV
    )
    assert added.status_code == 201, added.text
    missing = client.get("/v1/forecasts/referrals/ot/warwick")
    assert missing.status_code == 404
    detail = missing.json()["detail"]
    assert "no forecast for series 'referrals/ot/warwick' yet: its history is stored" in detail
    assert "POST /v1/runs forecasts it now" in detail
    # its winter index says the same, not "GET /v1/series lists the series", which lists it
    winter = client.get("/v1/winter/referrals/ot/warwick")
    assert winter.status_code == 404 and winter.json()["detail"] == detail
    unknown = client.get("/v1/forecasts/referrals/ot/nowhere")
    assert unknown.status_code == 404
    assert "GET /v1/series lists the series" in unknown.json()["detail"]


def test_an_upload_answer_warns_of_a_week_not_over_and_a_history_long_ended(
    client: httpx.Client,
) -> None:
    """The command line warns of these; an upload's answer carries the same warnings, so a
    dashboard's upload form can show them before the weekly run forecasts from them."""
    today = pd.Timestamp(utcnow().date())
    this_monday = today - pd.Timedelta(days=today.dayofweek)
    weeks = pd.date_range(end=this_monday, periods=60, freq="W-MON")
    months = pd.date_range("2016-01-01", periods=36, freq="MS")
    body = _csv("referrals/ot/stratford", weeks, 9.0) + _csv(
        "dtoc_days/old", months, 40.0
    ).removeprefix(b"unique_id,ds,y\n")
    stored = client.post("/v1/observations", content=body, headers=CSV)
    assert stored.status_code == 201, stored.text
    partial, stale = stored.json()["warnings"]
    assert partial.startswith(
        f"1 series' newest period has not ended yet (today is {today:%Y-%m-%d}): "
        f"referrals/ot/stratford ({this_monday:%Y-%m-%d})"
    )
    assert stale.startswith("1 series ends a year or more before today")
    assert "dtoc_days/old (newest 2018-12-01)" in stale
    # the whole stored series is judged, not the upload alone: a late correction of old weeks
    # of a current series says nothing
    ended = weeks[:-1]
    current = client.post(
        "/v1/observations", content=_csv("referrals/ot/hao", ended, 5.0), headers=CSV
    )
    assert current.status_code == 201 and current.json()["warnings"] == []
    revised = client.post(
        "/v1/observations", content=_csv("referrals/ot/hao", ended[:3], 6.0), headers=CSV
    )
    assert revised.status_code == 201 and revised.json()["warnings"] == []


def test_figures_sent_again_unchanged_do_not_mark_the_forecast(client: httpx.Client) -> None:
    """Part of the history sent again with the same values is stored (it is not the first
    import whole), but changes nothing, so the forecast is still of the history as stored."""
    tail = WEEKS[-4:]
    same = "\n".join(
        f"referrals/ot/rugby,{d:%Y-%m-%d},{20.0 + (d.isocalendar().week % 7)}" for d in tail
    )
    again = client.post(
        "/v1/observations", content=f"unique_id,ds,y\n{same}\n".encode(), headers=CSV
    )
    assert again.status_code == 201, again.text
    assert again.json()["revised"] == 0
    assert client.get("/v1/forecasts/referrals/ot/rugby").json()["history_changed"] is False
    changed = client.post(
        "/v1/observations", content=_csv("referrals/ot/rugby", tail[-1:], 99.0), headers=CSV
    )
    assert changed.status_code == 201 and changed.json()["revised"] == 1
    assert client.get("/v1/forecasts/referrals/ot/rugby").json()["history_changed"] is True
