"""Liveness and readiness probes: /livez answers without the database, /readyz (and /healthz)
answer 503 when it is gone, and no such answer names the database's host, port, file or user
(they go to callers without a key); the server log does."""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import anyio.to_thread
import httpx
import pytest

from api.app import create_app
from api.readiness import ReadinessLog
from homeward.storage import make_engine, session_factory
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer

PASSWORD = "s3cret-pw"
DETAIL = (
    "database unavailable: the postgresql database did not answer (the server log says "
    "more); try again shortly"
)


def _closed_port() -> int:
    """A loopback port nothing listens on (bound, then let go)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
def up(tmp_path: Path) -> Iterator[LiveServer]:
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as server:
        yield server
    engine.dispose()


@pytest.fixture
def unreachable(tmp_path: Path) -> Iterator[tuple[LiveServer, int]]:
    """A server started on a SQLite file whose sessions then go to a PostgreSQL URL that
    cannot connect (nothing listens on its port)."""
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    port = _closed_port()
    with LiveServer(app) as server:
        gone = make_engine(f"postgresql+psycopg://ops-user:{PASSWORD}@127.0.0.1:{port}/hwprod")
        app.state.session_factory = session_factory(gone)
        yield server, port
        gone.dispose()
    engine.dispose()


def test_livez_and_readyz_answer_200_when_the_database_answers(up: LiveServer) -> None:
    assert httpx.get(f"{up.url}/livez").json() == {"status": "ok"}
    assert httpx.get(f"{up.url}/readyz").json() == {"status": "ok", "database": "sqlite"}
    for path in ("/livez", "/readyz"):
        head = httpx.head(f"{up.url}{path}")
        assert head.status_code == 200 and head.content == b"", path


def test_livez_is_200_and_readyz_503_when_the_database_cannot_connect(
    unreachable: tuple[LiveServer, int],
) -> None:
    server, _port = unreachable
    assert httpx.get(f"{server.url}/livez", timeout=30).status_code == 200
    assert httpx.head(f"{server.url}/livez", timeout=30).status_code == 200
    ready = httpx.get(f"{server.url}/readyz", timeout=30)
    assert ready.status_code == 503 and ready.headers["retry-after"] == "10"
    assert ready.json()["detail"] == DETAIL
    head = httpx.head(f"{server.url}/readyz", timeout=30)
    assert head.status_code == 503 and head.content == b""


@pytest.mark.parametrize("path", ["/readyz", "/healthz", "/v1/series"])
def test_no_503_names_the_database_host_but_the_log_does(
    unreachable: tuple[LiveServer, int], caplog: pytest.LogCaptureFixture, path: str
) -> None:
    server, port = unreachable
    # a key that cannot be checked: the key check's read of the database is what fails
    with caplog.at_level(logging.ERROR, logger="api.errors"):
        response = httpx.get(f"{server.url}{path}", headers={"X-API-Key": "hw_x"}, timeout=30)
    assert response.status_code == 503
    assert response.json()["detail"] == DETAIL
    for secret in ("127.0.0.1", str(port), "hwprod", "ops-user", PASSWORD):
        assert secret not in response.text, secret
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert f"the postgresql database 'hwprod' at 127.0.0.1:{port} did not answer" in logged
    assert path in logged and PASSWORD not in logged
    assert f"error {response.json()['error_id']} in GET {path}" in logged


def test_a_missing_sqlite_file_is_not_named_in_the_answer(tmp_path: Path) -> None:
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    with LiveServer(app) as server:
        missing = make_engine("sqlite:///" + str(tmp_path / "nowhere" / "council-data.db"))
        # make_engine makes the folder; take it away again so the file cannot be opened
        (tmp_path / "nowhere").rmdir()
        app.state.session_factory = session_factory(missing)
        response = httpx.get(f"{server.url}/readyz", timeout=30)
        missing.dispose()
    engine.dispose()
    assert response.status_code == 503
    assert "council-data" not in response.text and str(tmp_path) not in response.text
    assert response.json()["detail"].startswith("database unavailable: the sqlite database ")


def test_livez_answers_while_every_worker_thread_is_stuck(tmp_path: Path) -> None:
    """A hung database holds every thread of AnyIO's pool (each sync route runs in one);
    /livez must still answer, or the orchestrator cannot tell a live process from a dead one.
    Two blocked calls fill a pool cut down to two threads; a sync route called then waits for
    a thread, while /livez answers, and so does /readyz, whose query has a thread of its own
    (api/probe.py)."""
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    release = threading.Event()

    @app.get("/test/pool")
    async def pool(total: int | None = None) -> dict[str, int]:
        limiter = anyio.to_thread.current_default_thread_limiter()
        if total is not None:
            limiter.total_tokens = total
        stats = limiter.statistics()
        return {"borrowed": stats.borrowed_tokens, "waiting": stats.tasks_waiting}

    @app.get("/test/stuck")
    def stuck() -> None:
        release.wait(timeout=60)

    @app.get("/test/sync")
    def sync() -> None:
        """Any sync route: it needs a thread of the pool."""

    with LiveServer(app) as server, ThreadPoolExecutor(max_workers=3) as clients:
        try:
            httpx.get(f"{server.url}/test/pool", params={"total": 2})
            blocked = [
                clients.submit(httpx.get, f"{server.url}/test/stuck", timeout=90) for _ in range(2)
            ]
            _until(server, lambda pool: pool["borrowed"] == 2)
            waiting = clients.submit(httpx.get, f"{server.url}/test/sync", timeout=90)
            _until(server, lambda pool: pool["waiting"] == 1)
            live = httpx.get(f"{server.url}/livez", timeout=30)
            assert live.status_code == 200 and live.json() == {"status": "ok"}
            assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 200
            assert not waiting.done()  # still waiting for a thread: the pool really is full
        finally:
            release.set()
        assert waiting.result().status_code == 200
        assert all(call.result().status_code == 200 for call in blocked)
    engine.dispose()


def _until(server: LiveServer, reached: Callable[[dict[str, int]], bool]) -> None:
    """Poll the server's thread pool until `reached` holds of its statistics."""
    for _ in range(600):
        if reached(httpx.get(f"{server.url}/test/pool").json()):
            return
        time.sleep(0.05)
    raise AssertionError("the server's thread pool never reached the state waited for")


def _probe_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """What the probes' outage log said, as 'LEVEL message' lines."""
    return [
        f"{r.levelname} {r.getMessage()}"
        for r in caplog.records
        if r.name in ("api.errors", "api.readiness")
    ]


def test_a_failing_readyz_logs_its_outage_once_then_a_count_then_its_end(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A probe every 10 s through a 6-minute outage: its first failure is logged in full, the
    next 29 only counted, then one line at 5 minutes says so; the first success says, at INFO,
    how long it lasted; a later outage is logged in full again. Time is the test's clock."""
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    now = [1000.0]
    app.state.readiness = ReadinessLog(clock=lambda: now[0])
    gone = make_engine("sqlite:///" + str(tmp_path / "gone" / "homeward.db"))
    (tmp_path / "gone").rmdir()  # make_engine made the folder: the file cannot be opened

    error_ids: list[str] = []

    def probes(statuses: list[int], *, every_s: float = 10.0) -> list[str]:
        """Probe once per status expected, `every_s` apart; the probe log's lines meanwhile.
        Each 503's `error_id` is kept in `error_ids`."""
        caplog.clear()
        for status in statuses:
            answer = httpx.get(f"{server.url}/readyz", timeout=30)
            assert answer.status_code == status
            error_ids.extend([answer.json()["error_id"]] if status == 503 else [])
            now[0] += every_s
        return _probe_lines(caplog)

    with caplog.at_level(logging.INFO), LiveServer(app) as server:
        live_factory = app.state.session_factory
        app.state.session_factory = session_factory(gone)
        [first] = probes([503])
        assert first.startswith("ERROR database unavailable, error ")
        assert "in GET /readyz" in first and "the sqlite database 'homeward.db'" in first
        assert probes([503] * 29) == []
        [reminder] = probes([503] * 3)
        assert reminder.startswith("ERROR database still unavailable after 5 min 0 s, error ")
        assert "the sqlite database 'homeward.db' did not answer" in reminder
        # the 30th probe's 503 is the line's own error; the 29th, unlogged, is named too
        assert reminder.endswith(
            "(29 failed probes since the last line were not logged, the latest error "
            f"{error_ids[29]})"
        )
        assert f"error {error_ids[30]} in GET /readyz" in reminder
        app.state.session_factory = live_factory
        assert probes([200, 200]) == [
            "INFO ready again: the database answers the probes (/readyz, /healthz) after "
            "5 min 30 s not ready "
            f"(2 failed probes since the last line were not logged, the latest error "
            f"{error_ids[-1]})"
        ]
        app.state.session_factory = session_factory(gone)
        [again] = probes([503, 503])
        assert again.startswith("ERROR database unavailable, error ")
    gone.dispose()
    engine.dispose()


def test_a_failing_healthz_is_logged_as_one_outage_with_readyz(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An uptime monitor polling /healthz during an outage wrote an ERROR for every probe, as
    /readyz did before it was counted. Both probe the one database, so they share its outage:
    /healthz's first failure is logged in full, later ones of either probe are counted, and a
    /healthz that answers again ends it."""
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    now = [1000.0]
    app.state.readiness = ReadinessLog(clock=lambda: now[0])
    gone = make_engine("sqlite:///" + str(tmp_path / "gone" / "homeward.db"))
    (tmp_path / "gone").rmdir()

    def probes(paths: list[str], status: int) -> list[str]:
        caplog.clear()
        for path in paths:
            assert httpx.get(f"{server.url}{path}", timeout=30).status_code == status
            now[0] += 10.0
        return _probe_lines(caplog)

    with caplog.at_level(logging.INFO), LiveServer(app) as server:
        live_factory = app.state.session_factory
        app.state.session_factory = session_factory(gone)
        [first] = probes(["/healthz"], 503)
        assert first.startswith("ERROR database unavailable, error ")
        assert "in GET /healthz" in first
        assert probes(["/healthz", "/readyz"] * 5, 503) == []
        app.state.session_factory = live_factory
        [back] = probes(["/healthz"], 200)
        assert back.startswith("INFO ready again: the database answers the probes")
        assert "(10 failed probes since the last line were not logged" in back
    gone.dispose()
    engine.dispose()


def test_a_readyz_failure_after_a_silence_is_a_new_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A failure a week after the last failed probe, with no probe between (the monitor was
    off), was logged as "database still unavailable after 168 h 0 min ... (0 failed probes
    ...)": nothing is known of that week. A silence longer than the 5 minutes between lines
    ends the old outage at its last failed probe (one INFO line says so, naming its unlogged
    probe's error), and the failure is logged in full as the first of a new one."""
    settings = keyed_settings(tmp_path, "probes.db")
    engine, _factory = migrated(settings)
    app = create_app(settings)
    now = [1000.0]
    app.state.readiness = ReadinessLog(clock=lambda: now[0])
    gone = make_engine("sqlite:///" + str(tmp_path / "gone" / "homeward.db"))
    (tmp_path / "gone").rmdir()

    def probe() -> tuple[str, list[str]]:
        caplog.clear()
        answer = httpx.get(f"{server.url}/readyz", timeout=30)
        assert answer.status_code == 503
        lines = _probe_lines(caplog)
        return str(answer.json()["error_id"]), lines

    with caplog.at_level(logging.INFO), LiveServer(app) as server:
        app.state.session_factory = session_factory(gone)  # the server's start set its own
        _, [first] = probe()
        assert first.startswith("ERROR database unavailable, error ")
        now[0] += 60.0
        unlogged, quiet = probe()
        assert quiet == []
        now[0] += 7 * 24 * 3600.0
        error_id, lines = probe()
    assert lines == [
        "INFO no /readyz or /healthz probe for 168 h 0 min after the last failed one: that "
        "outage is taken as over then, after 1 min 0 s not ready, its end unseen (1 failed "
        f"probe since the last line was not logged, error {unlogged})",
        lines[1],
    ]
    assert lines[1].startswith(f"ERROR database unavailable, error {error_id} in GET /readyz")
    gone.dispose()
    engine.dispose()


def test_readyz_is_503_within_its_bound_while_the_database_hangs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A database that takes the query and never answers (frozen, partitioned) held /readyz
    until the hang ended. Now it is a 503 once HOMEWARD_READYZ_TIMEOUT_S has passed, logged
    as a wait that ran out; a second probe meanwhile waits for the same query rather than
    starting another, which would hang too."""
    settings = keyed_settings(tmp_path, "probes.db", readyz_timeout_s=0.5)
    engine, factory = migrated(settings)
    app = create_app(settings)
    release, queries = threading.Event(), []

    def hung() -> object:
        queries.append(threading.current_thread().name)
        release.wait(timeout=60)
        return factory()

    with LiveServer(app) as server, caplog.at_level(logging.ERROR, logger="api.errors"):
        app.state.session_factory = hung
        try:
            answers = [httpx.get(f"{server.url}/readyz", timeout=30) for _ in range(2)]
        finally:
            release.set()
    engine.dispose()
    assert [answer.status_code for answer in answers] == [503, 503]
    assert answers[0].json()["detail"].startswith("database unavailable: the database")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "did not answer: no answer to SELECT 1 within 0.5 s" in logged
    assert queries.count("homeward-db-probe") == 1  # the rest: the server's stop, after
