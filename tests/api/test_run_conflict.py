"""POST /v1/runs while a run this service did not queue holds the pipeline: 409 naming that
run (and where to poll it), not a 202 whose run is skipped a moment later."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, repository
from homeward.clock import code_version, utcnow
from homeward.pipeline import LOCK_NAME
from homeward.recovery import lock_holder
from homeward.roles import Role
from homeward.storage import transaction
from models import RunRow
from tests.api.conftest import keyed_client, keyed_settings, migrated
from tests.conftest import LiveServer


@dataclass(frozen=True)
class Service:
    client: httpx.Client
    factory: sessionmaker[Session]


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    settings = keyed_settings(tmp_path, "conflict.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "planner", Role.PLANNER).secret
    with LiveServer(create_app(settings)) as server:
        for client in keyed_client(server, key):
            yield Service(client, factory)
    engine.dispose()


def _running(factory: sessionmaker[Session], trigger: str) -> int:
    with transaction(factory) as session:
        run = RunRow(
            kind="pipeline",
            trigger=trigger,
            status="running",
            started_at=utcnow() - timedelta(minutes=3),
            code_version=code_version(),
        )
        session.add(run)
        session.flush()
        return run.id


def _count(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count(RunRow.id))) or 0)


@pytest.mark.parametrize(
    ("holder", "trigger"), [("4242@another-host", "api"), (None, "scheduler")], ids=str
)
def test_a_run_held_by_another_holder_is_named_in_a_409(
    service: Service, holder: str | None, trigger: str
) -> None:
    """Another process's run, or this process's scheduler's (same holder, not the API's)."""
    run_id = _running(service.factory, trigger)
    assert repository.acquire_lock(
        service.factory, LOCK_NAME, holder or lock_holder(), timedelta(minutes=10)
    )
    before = _count(service.factory)
    refused = service.client.post("/v1/runs")
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.headers["location"] == f"/v1/runs/{run_id}"
    body: dict[str, Any] = refused.json()
    assert body["title"] == "Conflict"
    assert f"found run {run_id} (trigger {trigger}), running since " in body["detail"]
    assert _count(service.factory) == before  # nothing queued to be skipped


def test_an_expired_lock_refuses_nothing(service: Service) -> None:
    _running(service.factory, "api")
    assert repository.acquire_lock(
        service.factory, LOCK_NAME, "4242@killed-host", timedelta(seconds=-1)
    )
    assert service.client.post("/v1/runs").status_code == 202


def test_the_409_and_the_202_location_are_documented(service: Service) -> None:
    document = service.client.get("/openapi.json").json()
    responses = document["paths"]["/v1/runs"]["post"]["responses"]
    assert "Location" in responses["202"]["headers"]
    assert "Location" in responses["409"]["headers"]
    assert responses["409"]["content"] == {
        "application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}
    }


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b'{"config_id": 7}', '{"config_id": 7}'),
        (b"run please", '"run please"'),
        (b"[1, 2]", "[1, 2]"),
        (b"[" * 1000, None),  # nested past Python's recursion limit: was a 500
    ],
    ids=["json-object", "text", "json-list", "nested-too-deep"],
)
def test_a_body_is_refused_not_ignored(service: Service, content: bytes, found: str | None) -> None:
    """A run reads no body: `{"config_id": 7}` would otherwise run the active config."""
    before = _count(service.factory)
    refused = service.client.post(
        "/v1/runs", content=content, headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 422, refused.text
    (problem,) = refused.json()["problems"]
    assert problem["location"] == "body"
    assert problem["expected"].startswith("no body: a run forecasts every stored series")
    if found is not None:
        assert problem["found"] == found
    else:  # said as the text sent, quoted (however long a quote the answer keeps)
        assert problem["found"].startswith('"[[[[')
    assert _count(service.factory) == before


@pytest.mark.parametrize(
    "content", [b"", b"{}", b"{ \n}", b" null\n"], ids=["none", "empty", "spaced", "null"]
)
def test_an_empty_body_is_not_refused(service: Service, content: bytes) -> None:
    """What `fetch` and other clients send with a POST that needs nothing; the lock is held so
    that the request is answered (409) without starting a run."""
    _running(service.factory, "scheduler")
    assert repository.acquire_lock(service.factory, LOCK_NAME, lock_holder(), timedelta(minutes=9))
    answered = service.client.post(
        "/v1/runs", content=content, headers={"Content-Type": "application/json"}
    )
    assert answered.status_code == 409, answered.text
