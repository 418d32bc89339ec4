"""A real, throwaway PostgreSQL server for tests: initdb in a temp folder, pg_ctl start/stop."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def find_pg_bin() -> Path | None:
    """The folder holding initdb and pg_ctl, if PostgreSQL's server is installed."""
    for candidate in [
        shutil.which("initdb"),
        *sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))[::-1],
    ]:
        if candidate and Path(candidate).with_name("pg_ctl").exists():
            return Path(candidate).parent
    return None


PORT_TRIES = 5


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def running_postgres() -> Iterator[str]:
    """Start a server in a new temp folder; yield a SQLAlchemy URL (psycopg 3); stop and remove it.

    The folder is made directly under the system temp dir (not pytest's private one) because the
    server runs as the postgres user when the tests run as root.
    """
    base = Path(tempfile.mkdtemp(prefix="homeward-pg-"))
    pg_bin = find_pg_bin()
    if pg_bin is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    data, log = base / "pgdata", base / "server.log"
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root: run the server as the postgres user
        user = pwd.getpwnam("postgres")
        os.chown(base, user.pw_uid, user.pw_gid)
        prefix = ["runuser", "-u", "postgres", "--"]
    run = lambda *cmd: subprocess.run([*prefix, *cmd], check=True, capture_output=True)  # noqa: E731
    run(str(pg_bin / "initdb"), "-D", str(data), "-U", "homeward", "--auth=trust", "-E", "UTF8")
    for attempt in range(1, PORT_TRIES + 1):
        # The port is free when chosen, but the server binds it later: another process (the
        # other xdist worker's server, a test's HTTP server, any connection's local port) may
        # take it in between, and the server then stops at once. Another port is tried.
        port, logged = _free_port(), log.stat().st_size if log.exists() else 0
        try:
            run(
                str(pg_bin / "pg_ctl"),
                "-D",
                str(data),
                "-l",
                str(log),
                "-w",
                "-o",
                f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off",
                "start",
            )
            break
        except subprocess.CalledProcessError:
            said = log.read_bytes()[logged:].decode(errors="replace") if log.exists() else ""
            if attempt == PORT_TRIES or "could not bind" not in said:
                raise
    try:
        yield f"postgresql+psycopg://homeward@127.0.0.1:{port}/postgres"
    finally:
        run(str(pg_bin / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)
