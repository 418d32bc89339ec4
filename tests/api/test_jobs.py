"""Jobs: a pipeline run requested while another waits is that run, and plan jobs do not queue
behind a pipeline run."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from api.app import create_app
from api.routes import runs as runs_route
from homeward import api_keys, planning
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import transaction
from models import RunRow
from tests.api.conftest import (
    HORIZON_WEEKS,
    DemoDatabase,
    key_header,
    keyed_client,
    keyed_settings,
    load_demo,
)
from tests.conftest import LiveServer


class BlockedPipeline:
    """Stands in for the pipeline job: each call marks its run running (as the pipeline does
    once it holds the lock, before it reads any data), then waits until released, so a test
    decides when the job worker is busy. With `start_late`, it waits before marking the run
    running: the moment between the worker taking the job and the run starting."""

    def __init__(self, start_late: bool = False) -> None:
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()
        self.calls: list[int] = []
        self.inside = 0  # calls that have started and not returned
        self.start_late = start_late

    def __call__(self, factory: Any, _settings: Settings, run_id: int) -> None:
        self.calls.append(run_id)
        self.inside += 1
        if not self.start_late:
            _mark_running(factory, run_id)
        self.entered.release()
        self.release.wait(timeout=120)
        self.inside -= 1


def _mark_running(factory: Any, run_id: int) -> None:
    with transaction(factory) as session:
        session.get_one(RunRow, run_id).status = "running"


@pytest.fixture(scope="module")
def job_db(tmp_path_factory: pytest.TempPathFactory) -> DemoDatabase:
    tmp = tmp_path_factory.mktemp("jobs")
    settings = keyed_settings(
        tmp, "jobs.db", forecast_horizon_weeks=HORIZON_WEEKS, forecast_backtest_folds=2
    )
    return DemoDatabase(settings, load_demo(settings))


@pytest.fixture
def blocked(monkeypatch: pytest.MonkeyPatch) -> Iterator[BlockedPipeline]:
    fake = BlockedPipeline()
    monkeypatch.setattr(runs_route, "scheduled_run", fake)
    yield fake
    fake.release.set()


@pytest.fixture
def planner(job_db: DemoDatabase) -> Iterator[httpx.Client]:
    with transaction(job_db.factory) as session:
        key = api_keys.create_key(session, f"planner-{time.monotonic_ns()}", Role.PLANNER)
    with LiveServer(create_app(job_db.settings)) as server:
        yield from keyed_client(server, key.secret)


def test_a_run_requested_while_another_waits_is_that_run(
    planner: httpx.Client, blocked: BlockedPipeline
) -> None:
    first = planner.post("/v1/runs")
    assert first.status_code == 202
    assert blocked.entered.acquire(timeout=30)  # the first run has started: it holds the worker
    second = planner.post("/v1/runs")
    third = planner.post("/v1/runs")
    assert second.status_code == third.status_code == 202
    assert second.json()["id"] != first.json()["id"]  # data may have changed since the first
    assert third.json()["id"] == second.json()["id"]  # nothing can have changed for this one
    assert third.headers["location"] == f"/v1/runs/{second.json()['id']}"
    assert third.json()["status"] == "queued"
    blocked.release.set()
    assert blocked.entered.acquire(timeout=30)  # the second run started, once
    fourth = planner.post("/v1/runs")  # the queued one has started: this is a new run
    assert fourth.json()["id"] not in {first.json()["id"], second.json()["id"]}
    assert blocked.entered.acquire(timeout=30)
    assert blocked.calls == [first.json()["id"], second.json()["id"], fourth.json()["id"]]


def test_requests_before_the_worker_s_run_has_started_are_that_run(
    planner: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two clicks at once: the worker has taken the first job but its run has not started
    (read nothing), so the second request is that run, not a second full run after it."""
    late = BlockedPipeline(start_late=True)
    monkeypatch.setattr(runs_route, "scheduled_run", late)
    try:
        first = planner.post("/v1/runs")
        assert late.entered.acquire(timeout=30)  # the worker holds the job; the run is queued
        second = planner.post("/v1/runs")
        assert second.status_code == 202
        assert second.json()["id"] == first.json()["id"]
        assert second.json()["status"] == "queued"
    finally:
        late.release.set()
    assert late.calls == [first.json()["id"]]


def test_a_plan_job_does_not_wait_behind_a_pipeline_run(
    planner: httpx.Client, blocked: BlockedPipeline
) -> None:
    assert planner.post("/v1/runs").status_code == 202
    assert blocked.entered.acquire(timeout=30)  # a pipeline run holds its worker
    accepted = planner.post("/v1/plans", json={}, headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202, accepted.text
    deadline = time.monotonic() + 60
    run = accepted.json()
    while run["status"] in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.2)
        run = planner.get(accepted.headers["location"]).json()
    assert run["status"] == "succeeded", run
    assert blocked.inside == 1  # the pipeline run was still holding its worker


def test_plan_jobs_beyond_a_keys_limit_or_everyones_are_429_until_one_ends(
    job_db: DemoDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ten sweeps from one planner key were all queued, and every other user's what-if waited
    behind some 120 solves. A key may now have HOMEWARD_MAX_JOBS_PER_KEY plan and sweep jobs
    queued or running, and all keys HOMEWARD_MAX_JOBS; beyond, a 429 saying so."""
    release, started = threading.Event(), threading.Semaphore(0)

    def held(
        factory: Any, _body: Any, _solver: Any, run_id: int, *, what_if_only: bool = False
    ) -> None:
        started.release()
        release.wait(timeout=120)
        with transaction(factory) as session:
            session.get_one(RunRow, run_id).status = "failed"

    monkeypatch.setattr(planning, "run_plan_job", held)
    settings = job_db.settings.model_copy(update={"max_jobs_per_key": 2, "max_jobs": 3})
    with transaction(job_db.factory) as session:
        one = api_keys.create_key(session, f"one-{time.monotonic_ns()}", Role.PLANNER)
        other = api_keys.create_key(session, f"other-{time.monotonic_ns()}", Role.PLANNER)
    async_plan = {"json": {}, "headers": {"Prefer": "respond-async"}}
    try:
        app = create_app(settings)
        with (
            LiveServer(app) as server,
            httpx.Client(base_url=server.url, headers=key_header(one.secret)) as first,
            httpx.Client(base_url=server.url, headers=key_header(other.secret)) as second,
        ):
            assert [first.post("/v1/plans", **async_plan).status_code for _ in range(2)] == [
                202,
                202,
            ]
            refused = first.post("/v1/plans", **async_plan)
            assert refused.status_code == 429, refused.text
            assert refused.json()["code"] == "too_many_jobs"
            assert refused.headers["retry-after"] == "30"
            assert (
                f"this key ({one.name}) has 2 plans or plan and sweep jobs under way"
                in (refused.json()["detail"])
            )
            assert second.post("/v1/plans", **async_plan).status_code == 202  # its own first
            everyone = second.post("/v1/plans", **async_plan)
            assert everyone.status_code == 429
            assert "HOMEWARD_MAX_JOBS (3)" in everyone.json()["detail"]
            release.set()
            deadline = time.monotonic() + 60
            while app.state.plan_jobs and time.monotonic() < deadline:
                time.sleep(0.05)
            assert first.post("/v1/plans", **async_plan).status_code == 202
    finally:
        release.set()


def test_plan_requests_arriving_together_cannot_all_pass_the_keys_limit(
    job_db: DemoDatabase, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The limit was counted before a request's checks and its job registered after them, so
    ten sweeps sent at once all passed a limit of 3. A slot is now taken as it is counted:
    with two requests inside their checks, a third from the same key is refused at once."""
    inside, release = threading.Semaphore(0), threading.Event()
    real = planning.checked_body

    def slow_checks(session: Any, body: Any) -> Any:
        inside.release()
        release.wait(timeout=120)
        return real(session, body)

    monkeypatch.setattr(planning, "checked_body", slow_checks)
    monkeypatch.setattr(planning, "run_plan_job", lambda *_args, **_kwargs: None)
    settings = job_db.settings.model_copy(update={"max_jobs_per_key": 2})
    with transaction(job_db.factory) as session:
        key = api_keys.create_key(session, f"together-{time.monotonic_ns()}", Role.PLANNER)
    async_plan = {"json": {}, "headers": {"Prefer": "respond-async"}}
    answers: list[int] = []
    try:
        with LiveServer(create_app(settings)) as server:

            def send() -> None:
                with httpx.Client(
                    base_url=server.url, headers=key_header(key.secret), timeout=120
                ) as client:
                    answers.append(client.post("/v1/plans", **async_plan).status_code)

            senders = [threading.Thread(target=send) for _ in range(2)]
            for sender in senders:
                sender.start()
            assert inside.acquire(timeout=60) and inside.acquire(timeout=60)
            send()  # a third, while both are inside their checks
            assert answers == [429]
            release.set()
            for sender in senders:
                sender.join(timeout=120)
            assert sorted(answers) == [202, 202, 429]
    finally:
        release.set()
