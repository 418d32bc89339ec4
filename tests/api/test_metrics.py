"""GET /metrics: Prometheus' text format scraped from a real server. Requests are counted by
route template (never the path sent), runs ended in the process are counted, the runs table's
gauges follow a pipeline run, a scrape answers while the database cannot be read, and a key
is needed unless HOMEWARD_METRICS_AUTH=off."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from api.app import create_app
from api.routes import metrics as metrics_route
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import make_engine, session_factory, transaction
from tests.api.conftest import DemoDatabase, key_header, keyed_settings, migrated
from tests.conftest import LiveServer

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    """Every sample of a scrape, by name and labels, read with prometheus_client's parser."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def _scrape(server: LiveServer, key: str | None = None) -> Samples:
    answer = httpx.get(f"{server.url}/metrics", headers=key_header(key) if key else {}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain; version=0.0.4")
    return _samples(answer.text)


@pytest.fixture
def open_server(tmp_path: Path) -> Iterator[LiveServer]:
    """An empty migrated database served with keys on and /metrics open."""
    settings = keyed_settings(tmp_path, "metrics.db", metrics_auth="off")
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as server:
        yield server
    engine.dispose()


def test_requests_are_counted_by_route_template_never_the_path_sent(
    open_server: LiveServer,
) -> None:
    before = _scrape(open_server)
    for series in ("referrals/ot/rugby", "referrals/hao/warwick"):
        assert httpx.get(f"{open_server.url}/v1/forecasts/{series}").status_code == 401
    httpx.get(f"{open_server.url}/no-such/path-{time.time_ns()}")
    httpx.head(f"{open_server.url}/livez")
    answer = httpx.get(f"{open_server.url}/metrics")
    after = _samples(answer.text)
    template = "/v1/forecasts/{series_id:path}"
    counted = _value(
        after, "homeward_http_requests_total", method="GET", route=template, status="401"
    )
    assert (
        counted
        - _value(before, "homeward_http_requests_total", method="GET", route=template, status="401")
        == 2
    )
    assert (
        _value(after, "homeward_http_request_duration_seconds_count", method="GET", route=template)
        == 2
    )
    assert (
        _value(after, "homeward_http_requests_total", method="GET", route="unmatched", status="404")
        == 1
    )
    assert (
        _value(after, "homeward_http_requests_total", method="HEAD", route="/livez", status="200")
        == 1
    )
    assert "rugby" not in answer.text and "no-such" not in answer.text
    version = httpx.get(f"{open_server.url}/openapi.json").json()["info"]["version"]
    assert _value(after, "homeward_build_info", version=version) == 1


def test_a_pipeline_run_moves_the_run_counter_and_the_last_success_gauge(
    demo_db: DemoDatabase, tmp_path: Path
) -> None:
    with transaction(demo_db.factory) as session:
        key = api_keys.create_key(session, "metrics-planner", Role.PLANNER).secret
    with LiveServer(create_app(demo_db.settings)) as server:
        before = _scrape(server, key)
        accepted = httpx.post(f"{server.url}/v1/runs", headers=key_header(key), timeout=30)
        assert accepted.status_code == 202, accepted.text
        run = _finished(server, key, accepted.headers["location"])
        after = _scrape(server, key)
    assert run["status"] == "succeeded", run
    counter = ("homeward_runs_finished_total", {"kind": "pipeline", "status": "succeeded"})
    assert _value(before, counter[0], **counter[1]) == 0
    assert _value(after, counter[0], **counter[1]) == 1
    finished_s = datetime.fromisoformat(run["finished_at"]).astimezone(UTC).timestamp()
    assert _value(before, "homeward_pipeline_last_success_timestamp_seconds") < finished_s
    assert _value(after, "homeward_pipeline_last_success_timestamp_seconds") == pytest.approx(
        finished_s, abs=1e-3
    )
    assert _value(after, "homeward_pipeline_last_finished_timestamp_seconds") == pytest.approx(
        finished_s, abs=1e-3
    )
    assert _value(after, "homeward_database_readable") == 1
    for status in ("queued", "running"):
        assert (
            "homeward_runs_in_progress",
            frozenset({("kind", "pipeline"), ("status", status)}),
        ) in after
        assert _value(after, "homeward_runs_in_progress", kind="pipeline", status=status) == 0


def _finished(server: LiveServer, key: str, location: str) -> dict[str, object]:
    deadline = time.monotonic() + 300
    while True:
        run: dict[str, object] = httpx.get(
            f"{server.url}{location}", headers=key_header(key), timeout=30
        ).json()
        if run["status"] not in {"queued", "running"} or time.monotonic() > deadline:
            return run
        time.sleep(0.5)


def test_the_gauges_survive_a_restart_read_from_the_runs_table(demo_db: DemoDatabase) -> None:
    """A new process (app) knows when the newest pipeline run succeeded: the gauge is read
    from the database, not kept in memory."""
    with transaction(demo_db.factory) as session:
        key = api_keys.create_key(session, "metrics-viewer", Role.VIEWER).secret
    with LiveServer(create_app(demo_db.settings)) as server:
        samples = _scrape(server, key)
    assert _value(samples, "homeward_pipeline_last_success_timestamp_seconds") > 0
    assert _value(samples, "homeward_runs_finished_total", kind="pipeline", status="succeeded") == 0


def test_a_key_is_needed_with_keys_on_and_a_viewer_key_is_enough(tmp_path: Path) -> None:
    """(Without one, HOMEWARD_METRICS_AUTH=off: every other test's `open_server`.)"""
    settings = keyed_settings(tmp_path, "metrics.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "prometheus", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        refused = httpx.get(f"{server.url}/metrics")
        wrong = httpx.get(f"{server.url}/metrics", headers=key_header("not-a-key"))
        assert _value(_scrape(server, key), "homeward_database_readable") == 1
    engine.dispose()
    assert refused.status_code == 401 and "needs an API key" in refused.json()["detail"]
    assert wrong.status_code == 401 and "not known" in wrong.json()["detail"]


def test_a_scrape_is_logged_at_debug_and_a_refused_one_at_info(
    open_server: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = keyed_settings(tmp_path, "keyed.db")
    engine, _factory = migrated(settings)
    with (
        LiveServer(create_app(settings)) as keyed,
        caplog.at_level(logging.DEBUG, logger="homeward.access"),
    ):
        _scrape(open_server)
        httpx.get(f"{keyed.url}/metrics")
    engine.dispose()
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if "/metrics" in r.getMessage()]
    assert [level for level, line in lines if '" 200 ' in line] == [logging.DEBUG]
    assert [level for level, line in lines if '" 401 ' in line] == [logging.INFO]


@pytest.fixture
def gone(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    """A server with keys on whose sessions, once a viewer key has scraped it, go to a
    PostgreSQL URL nothing listens on; and that key."""
    settings = keyed_settings(tmp_path, "metrics.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "prometheus", Role.VIEWER).secret
    app = create_app(settings)
    with LiveServer(app) as server:
        httpx.get(f"{server.url}/livez")
        _scrape(server, key)  # accepted while the database answers
        nowhere = make_engine("postgresql+psycopg://u:p@127.0.0.1:9/none")
        app.state.session_factory = session_factory(nowhere)
        yield server, key
        nowhere.dispose()
    engine.dispose()


def test_a_scrape_answers_the_process_metrics_while_the_database_is_down(
    gone: tuple[LiveServer, str],
) -> None:
    server, key = gone
    samples = _scrape(server, key)
    assert _value(samples, "homeward_database_readable") == 0
    assert (
        _value(samples, "homeward_http_requests_total", method="GET", route="/livez", status="200")
        == 1
    )
    assert not any(name.startswith("homeward_pipeline_") for name, _labels in samples)
    assert not any(name == "homeward_runs_in_progress" for name, _labels in samples)


def test_a_key_never_accepted_is_503_while_the_database_is_down(
    gone: tuple[LiveServer, str],
) -> None:
    server, _key = gone
    unknown = httpx.get(f"{server.url}/metrics", headers=key_header("never-seen"), timeout=30)
    assert unknown.status_code == 503 and unknown.json()["code"] == "database_unavailable"


def test_a_remembered_key_that_has_expired_is_not_accepted_while_the_database_is_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A key remembered from a scrape was accepted during an outage after it had expired
    (review): its expiry is known without the database, so it is forgotten then."""
    settings = keyed_settings(tmp_path, "metrics.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "prometheus", Role.VIEWER, 1).secret
    app = create_app(settings)
    nowhere = make_engine("postgresql+psycopg://u:p@127.0.0.1:9/none")
    with LiveServer(app) as server:
        _scrape(server, key)  # accepted, so remembered, while the database answers
        app.state.session_factory = session_factory(nowhere)
        assert _value(_scrape(server, key), "homeward_database_readable") == 0  # remembered
        later = datetime.now(UTC) + timedelta(days=2)
        monkeypatch.setattr(metrics_route, "utcnow", lambda: later)
        expired = httpx.get(f"{server.url}/metrics", headers=key_header(key), timeout=30)
        assert expired.status_code == 503  # not known without the database: never accepted
    nowhere.dispose()
    engine.dispose()


def test_a_scrape_answers_within_the_bound_while_the_database_hangs(tmp_path: Path) -> None:
    """A database that takes the query and never answers: the scrape still answers, once
    HOMEWARD_READYZ_TIMEOUT_S has passed, saying the database was not readable."""
    settings = keyed_settings(tmp_path, "metrics.db", readyz_timeout_s=0.5, metrics_auth="off")
    engine, factory = migrated(settings)
    app = create_app(settings)
    release = threading.Event()

    def hung() -> object:
        release.wait(timeout=60)
        return factory()

    with LiveServer(app) as server:
        app.state.session_factory = hung
        try:
            samples = [_scrape(server) for _ in range(2)]
        finally:
            release.set()
    engine.dispose()
    assert [_value(s, "homeward_database_readable") for s in samples] == [0, 0]


def test_the_openapi_document_says_metrics_takes_the_keys_v1_takes(tmp_path: Path) -> None:
    """/metrics declared no security, so a generated client or Swagger's "Try it out" sent no
    key and got 401 (review); it takes the same schemes as every /v1 route."""
    document = create_app(keyed_settings(tmp_path, "metrics.db")).openapi()
    v1 = document["paths"]["/v1/plans/latest"]["get"]["security"]
    assert document["paths"]["/metrics"]["get"]["security"] == v1
    assert {name for scheme in v1 for name in scheme} == set(
        document["components"]["securitySchemes"]
    )
