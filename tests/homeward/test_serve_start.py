"""`homeward serve` refuses what would stop it starting before the server starts: a database
that is down is one line naming DATABASE_URL (not a traceback from the server's start-up),
and a --host that is not an address is refused before the database is touched. The demo's
config is stored as POST /v1/configs stores a config, so sending it back is not a change."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from homeward import commands, planning, repository
from homeward.cli import main
from homeward.settings import get_settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from optimise.config import PlanningConfig


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


@pytest.fixture
def untouched(env: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """DATABASE_URL at a SQLite file that a refusal before the database never creates."""
    database = env / "untouched.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")
    return database


def test_a_database_that_is_down_is_one_line_before_the_server_starts(
    env: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql+psycopg://u:secret@127.0.0.1:1/db")
    served: list[object] = []
    monkeypatch.setattr(commands.uvicorn, "run", lambda *a, **k: served.append(a))
    assert main(["serve", "--port", "8799"]) == 2
    err = capsys.readouterr().err
    assert "database error (check DATABASE_URL)" in err and "Traceback" not in err
    assert "secret" not in err
    assert served == []


@pytest.mark.parametrize("host", ["http://0.0.0.0", ""])
def test_a_host_that_is_not_an_address_is_refused_naming_the_option_before_the_database(
    untouched: Path, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    # "" too: it was read as "no --host" and served on the default
    assert main(["serve", "--host", host]) == 2
    assert "--host expected an address to listen on" in capsys.readouterr().err
    assert not untouched.exists()


@pytest.fixture
def taken_port() -> Iterator[int]:
    """A port another server listens on (on 127.0.0.1)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        yield other.getsockname()[1]


@pytest.mark.parametrize("command", [["serve"], ["demo", "--serve"]], ids=" ".join)
def test_a_port_in_use_is_refused_in_one_line_before_the_database(
    untouched: Path,
    taken_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    command: list[str],
) -> None:
    """A second `homeward serve` on the same port migrated the database, closed runs and
    started a pipeline run before failing with 'address already in use'."""
    served: list[object] = []
    monkeypatch.setattr(commands.uvicorn, "run", lambda *a, **k: served.append(a))
    assert main([*command, "--port", str(taken_port)]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == (
        f"homeward {command[0]}: expected port {taken_port} on 127.0.0.1 to be free to serve "
        "on, found it in use (another `homeward serve`?); stop that server, or choose another "
        "port with --port or HOMEWARD_PORT"
    )
    assert not untouched.exists() and served == []


def test_a_free_port_is_left_free_for_the_server() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    commands.refuse_port_in_use("127.0.0.1", free)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.bind(("127.0.0.1", free))  # the check let it go again


def test_the_demo_config_is_stored_as_a_posted_config_would_be(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'demo.db'}")
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        commands.store_demo_config(session)
    with transaction(factory) as session:
        stored = repository.active_config(session)
        assert stored is not None
        canonical = PlanningConfig.model_validate(stored.body).model_dump(mode="json")
        assert canonical == stored.body
        assert planning.config_hash(canonical) == stored.body_hash
        commands.store_demo_config(session)  # a restart stores nothing new
    with factory() as session:
        assert repository.active_config(session).id == stored.id  # type: ignore[union-attr]
    engine.dispose()


def test_a_port_out_of_range_is_refused_before_the_database(
    untouched: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """uvicorn would listen on 99999 - 65536 = 34463 while saying 99999."""
    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "99999"])
    assert stopped.value.code == 2
    assert "--port: expected a port from 1 to 65535, found 99999" in capsys.readouterr().err
    assert not untouched.exists()


def test_serve_leaves_the_access_log_to_the_app(
    untouched: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """uvicorn's own access line (no duration, no reason) would repeat each line the app's
    access log (api/access_log.py) writes."""
    options: list[dict[str, object]] = []
    monkeypatch.setattr(commands.uvicorn, "run", lambda *a, **k: options.append(k))
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert main(["serve", "--no-scheduler", "--port", str(free)]) == 0
    [served] = options
    assert served["access_log"] is False and served["log_config"] is None


def test_serve_says_which_clock_its_schedule_keeps(
    untouched: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The start-up line named the cron alone, so '0 6 * * mon' read as UK time when the
    schedule kept UTC (or the other way round)."""
    monkeypatch.setenv("HOMEWARD_SCHEDULE_TIMEZONE", "Europe/London")
    monkeypatch.setattr(commands.uvicorn, "run", lambda *a, **k: None)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    caplog.set_level("INFO", logger="homeward")
    assert main(["serve", "--port", str(free)]) == 0
    said = [r.getMessage() for r in caplog.records if r.getMessage().startswith("serving on")]
    assert said == [
        f"serving on http://127.0.0.1:{free} (docs at /docs); scheduler on, cron "
        "'0 6 * * mon' in Europe/London"
    ]
