"""The Dockerfile, read as Docker reads it (no Docker engine here): its healthcheck asks the
port the service listens on whether the process is alive (not whether its database is), it
runs as a non-root user with its data on the volume, and it copies every package the project
installs."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory
from tests.conftest import LiveServer

ROOT = Path(__file__).resolve().parents[2]


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line else "")
        for line in lines
        if line and not line.startswith("#")
    ]


def _env() -> dict[str, str]:
    pairs = " ".join(args for name, args in _instructions() if name == "ENV")
    return dict(item.split("=", 1) for item in shlex.split(pairs))


def _healthcheck_command() -> list[str]:
    [args] = [args for name, args in _instructions() if name == "HEALTHCHECK"]
    shell = args.split(" CMD ", 1)[1]
    return shlex.split(shell)  # the shell form: /bin/sh -c splits it as shlex does here


def _health(port: int) -> int:
    python, *rest = _healthcheck_command()
    assert python == "python"
    env = {"HOMEWARD_PORT": str(port), "PATH": "/usr/bin:/bin"}
    return subprocess.run(
        [sys.executable, *rest], env=env, capture_output=True, timeout=30
    ).returncode


def test_the_healthcheck_asks_the_port_the_service_listens_on(sqlite_settings: Settings) -> None:
    """`docker run -e HOMEWARD_PORT=9000` serves on 9000; a check of 8000 would call it dead."""
    with LiveServer(create_app(sqlite_settings)) as server:
        assert _health(server.port) == 0
    assert _health(server.port) != 0  # and it fails once nothing answers there


def test_the_healthcheck_keeps_a_live_container_healthy_while_its_database_is_down(
    sqlite_settings: Settings, tmp_path: Path
) -> None:
    """Swarm (or an autoheal watcher) restarts a container its healthcheck calls unhealthy:
    asking /healthz, which is 503 while the database is down, had a database outage restart
    every container. Whether the database answers is /readyz's to say, to a load balancer."""
    app = create_app(sqlite_settings)
    with LiveServer(app) as server:
        gone = make_engine("sqlite:///" + str(tmp_path / "gone" / "homeward.db"))
        (tmp_path / "gone").rmdir()  # make_engine made the folder: the file cannot be opened
        app.state.session_factory = session_factory(gone)
        assert httpx.get(f"{server.url}/readyz", timeout=30).status_code == 503
        assert _health(server.port) == 0
    gone.dispose()


def test_the_image_runs_as_a_user_with_its_data_on_the_volume() -> None:
    names = [name for name, _ in _instructions()]
    users = [args for name, args in _instructions() if name == "USER"]
    assert users and users[-1] not in ("root", "0")
    assert names.index("USER") < names.index("CMD")
    [volume] = [args for name, args in _instructions() if name == "VOLUME"]
    env = _env()
    assert env["HOMEWARD_DATA_DIR"] in volume and env["HOMEWARD_HOST"] == "0.0.0.0"
    [exposed] = [args for name, args in _instructions() if name == "EXPOSE"]
    assert exposed == env["HOMEWARD_PORT"]


def test_the_image_copies_every_package_it_installs() -> None:
    """A package added to pyproject but not copied would install an image that cannot start."""
    with (ROOT / "pyproject.toml").open("rb") as f:
        include = tomllib.load(f)["tool"]["setuptools"]["packages"]["find"]["include"]
    copied = {shlex.split(args)[0].rstrip("/") for name, args in _instructions() if name == "COPY"}
    packages = {pattern.rstrip("*") for pattern in include}
    assert packages <= copied
    for package in packages:
        assert (ROOT / package / "__init__.py").is_file(), package


@pytest.mark.parametrize("needed", ["pyproject.toml", "constraints.txt", "README.md"])
def test_the_image_copies_what_the_install_reads(needed: str) -> None:
    copied = " ".join(args for name, args in _instructions() if name == "COPY")
    assert needed in shlex.split(copied)
