"""What a 200 reading the demo plan costs the server: the latest plan's JSON, one table's JSON and
the same table's CSV, each with and without gzip.

Serves the API from a checkout (this one, or `--checkout` another: the code before a change)
as a process of its own (`homeward serve --no-scheduler`, keys off, on loopback) on a database
where `homeward demo` has run (`--data-dir`, its HOMEWARD_DATA_DIR; without it the demo is made
in a temporary directory first, 30 s to 2 minutes). For each path and Accept-Encoding: one GET
(its wall time printed as `first`), then `--times` sequential GETs without If-None-Match (200s;
a 304 is already cheap, bench/conditional_get.py), printing the server process's CPU per request
(user + system from /proc over all of them, so the 10 ms ticks average out) and the median wall
time from request to last byte (the body as sent, not decompressed). Compare two checkouts on
the same `--data-dir`, alternately, on a machine as quiet as you can find:

    .venv/bin/python bench/plan_read.py --data-dir /tmp/demo
    .venv/bin/python bench/plan_read.py --data-dir /tmp/demo --checkout ../homeward-before
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
PATHS = ("/v1/plans/latest", "/v1/plans/latest/hours", "/v1/plans/latest/hours.csv")
ENCODINGS = ("identity", "gzip")
TICK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of process `pid` so far (its threads included)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime: fields 14 and 15


def timed_get(client: httpx.Client, path: str, encoding: str) -> tuple[float, int]:
    """Seconds for one GET of `path` to its last byte, and the bytes sent; it must be a 200
    in the encoding asked for."""
    began = time.perf_counter()
    with client.stream("GET", path, headers={"Accept-Encoding": encoding}) as answer:
        size = sum(len(chunk) for chunk in answer.iter_raw())
    took = time.perf_counter() - began
    sent = answer.headers.get("content-encoding", "identity")
    if answer.status_code != 200 or sent != encoding:
        raise SystemExit(
            f"GET {path}: expected a 200 in {encoding}, found {answer.status_code} {sent}"
        )
    return took, size


def make_demo(data_dir: Path) -> None:
    print(f"making the demo in {data_dir} ...", flush=True)
    subprocess.run(
        [sys.executable, "-m", "homeward.cli", "-q", "demo"],
        cwd=ROOT,
        env=os.environ | {"HOMEWARD_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)},
        check=True,
    )


def serve(checkout: Path, data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = os.environ | {
        "HOMEWARD_DATA_DIR": str(data_dir),
        "HOMEWARD_AUTH": "off",
        "PYTHONPATH": str(checkout),
    }
    env.pop("DATABASE_URL", None)
    env.pop("HOMEWARD_DATABASE_URL", None)
    command = [sys.executable, "-m", "homeward.cli", "serve", "--no-scheduler", "--port", str(port)]
    return subprocess.Popen(
        command, cwd=checkout, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def wait_until_up(client: httpx.Client, server: subprocess.Popen[bytes]) -> None:
    for _ in range(600):
        if server.poll() is not None:
            raise SystemExit(f"the server stopped (exit {server.returncode})")
        try:
            if client.get("/healthz").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise SystemExit("the server did not answer /healthz within a minute")


def measure(client: httpx.Client, pid: int, times: int) -> None:
    print("| path | encoding | bytes sent | first, s | CPU per request, ms | median wall, ms |")
    print("| --- | --- | --- | --- | --- | --- |")
    for path in PATHS:
        for encoding in ENCODINGS:
            first, size = timed_get(client, path, encoding)
            before = cpu_seconds(pid)
            walls = [timed_get(client, path, encoding)[0] for _ in range(times)]
            cpu = (cpu_seconds(pid) - before) / times
            print(
                f"| {path} | {encoding} | {size:,} | {first:.3f} | {cpu * 1000:.1f} | "
                f"{statistics.median(walls) * 1000:.1f} |",
                flush=True,
            )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, help="where `homeward demo` has run")
    parser.add_argument("--checkout", type=Path, default=ROOT, help="the code to serve")
    parser.add_argument("--port", type=int, default=8861)
    parser.add_argument("--times", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = args.data_dir
        if data_dir is None:
            data_dir = Path(tmp)
            make_demo(data_dir)
        server = serve(args.checkout.resolve(), data_dir.resolve(), args.port)
        try:
            url = f"http://127.0.0.1:{args.port}"
            with httpx.Client(base_url=url, timeout=120) as client:
                wait_until_up(client, server)
                print(f"serving {args.checkout.resolve()} (pid {server.pid}) at {url}")
                measure(client, server.pid, args.times)
        finally:
            server.terminate()
            server.wait(timeout=30)


if __name__ == "__main__":
    main()
