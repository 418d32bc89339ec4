"""The API as a new council first meets it: a config stored, no forecasts yet, history arriving.

Over a real HTTP server on a fresh SQLite database (no pipeline run), API keys required.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import RunRow
from tests.api.conftest import HORIZON_WEEKS, key_header
from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("new-council")
    return Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / 'new.db'}",
        scheduler_enabled=False,
        forecast_horizon_weeks=HORIZON_WEEKS,
        auth="keys",
    )


@pytest.fixture(scope="module")
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The fresh database, migrated, holding the demo config and nothing else."""
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def admin(settings: Settings, factory: sessionmaker[Session]) -> Iterator[httpx.Client]:
    """A client holding an admin key (it may plan and upload) on a server over the database."""
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "new-council-admin", Role.ADMIN).secret
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(secret), timeout=60) as client,
    ):
        yield client


def _run_ids(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(RunRow.id)))


def test_a_plan_before_any_forecast_is_409_at_once_or_as_a_job(
    admin: httpx.Client, factory: sessionmaker[Session]
) -> None:
    at_once = admin.post("/v1/plans", json={})
    assert at_once.status_code == 409, at_once.text
    assert at_once.headers["content-type"].startswith(PROBLEM_JSON)
    assert "no referral forecasts" in at_once.json()["detail"]
    as_job = admin.post("/v1/plans", json={}, headers={"Prefer": "respond-async"})
    assert as_job.status_code == 409, as_job.text
    assert as_job.headers["content-type"].startswith(PROBLEM_JSON)
    assert "location" not in as_job.headers
    assert as_job.json() == at_once.json()
    assert _run_ids(factory) == []  # nothing queued, no run recorded


def test_an_unknown_path_is_titled_as_homewards_own_404(admin: httpx.Client) -> None:
    ours = admin.get("/v1/plans/latest")  # no plan yet: Homeward's own 404
    unknown = admin.get("/v1/no-such-thing")
    assert ours.status_code == unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM_JSON)
    assert unknown.json()["title"] == ours.json()["title"] == "Not found"
    assert "/v1/no-such-thing" in unknown.json()["detail"]


def test_a_wrong_method_is_405_titled_alike_and_says_what_is_allowed(
    admin: httpx.Client,
) -> None:
    response = admin.delete("/v1/plans/latest")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["allow"] == "GET"
    body = response.json()
    assert body["title"] == "Method not allowed" and body["status"] == 405
    assert "DELETE" in body["detail"] and "GET" in body["detail"]
