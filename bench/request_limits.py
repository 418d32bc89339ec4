"""What the API's request limits leave room for, and what reading a wide CSV header costs.

HOMEWARD_MAX_JSON_BYTES (1 MiB by default) bounds a JSON body; this prints the sizes of the
legitimate ones: the demo's config, a what-if and a sweep of it, and what-ifs of councils with
many more districts and teams (each a copy of one of the demo's, renamed), as compact JSON,
Python's default, and indented by 2 and 4 spaces, and the time to decode the what-ifs as the
API does (api/bodies.py `decode_json`) against `json.loads`. Then it times the long CSV reader on a
header as wide as ingest.MAX_COLUMNS allows and on wider ones, which are refused from the
header alone. Last it serves the API (keys off, on loopback, a temporary SQLite file) and sends
POST /v1/configs a `{"name": "AAAA..."}` body of `--body-mib` MiB, chunked and then with its
Content-Length, printing each answer, how much of the body the client got to send, and the
memory (RSS) of the process, which serves and sends both:

    .venv/bin/python bench/request_limits.py
    .venv/bin/python bench/request_limits.py --body-mib 0   # no server
"""

from __future__ import annotations

import argparse
import copy
import json
import socket
import tempfile
import threading
import time
import timeit
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn

from api.app import create_app
from api.bodies import decode_json
from homeward import demo_config
from homeward.errors import ValidationFailed
from homeward.ingest import MAX_COLUMNS, read_upload
from homeward.settings import Settings
from homeward.storage import make_engine, upgrade

COUNCILS = ((50, 10), (300, 30))  # districts, teams


def json_sizes(body: Any) -> str:
    """`body`'s size in bytes as compact JSON, the default, and indented by 2 and 4."""
    written = (
        json.dumps(body, separators=(",", ":")),
        json.dumps(body),
        json.dumps(body, indent=2),
        json.dumps(body, indent=4),
    )
    return " / ".join(f"{len(text.encode()):,}" for text in written)


def scaled(config: dict[str, Any], districts: int, teams: int) -> dict[str, Any]:
    """The demo config with `districts` districts shared among `teams` teams."""
    bigger = copy.deepcopy(config)
    bigger["teams"] = [
        {**copy.deepcopy(config["teams"][t % len(config["teams"])]), "id": f"team-{t}"}
        for t in range(teams)
    ]
    bigger["districts"] = [
        {
            **copy.deepcopy(config["districts"][d % len(config["districts"])]),
            "id": f"district-number-{d}",
            "team": f"team-{d % teams}",
        }
        for d in range(districts)
    ]
    return bigger


def decode_ms(body: bytes) -> tuple[float, float]:
    """Milliseconds `json.loads` and api/bodies.py `decode_json` (which the API reads a JSON
    body with: a key twice, a lone surrogate or a number too long refused) take to decode
    `body`, each the best of 5 means of 20."""

    def best_ms(decode: Callable[[bytes], Any]) -> float:
        return min(timeit.repeat(lambda: decode(body), number=20, repeat=5)) / 20 * 1000

    return best_ms(json.loads), best_ms(decode_json)


def header_seconds(extra_columns: int) -> tuple[float, str]:
    """Seconds to read (or refuse) a long CSV with `extra_columns` unknown columns and one row,
    and the first problem's found."""
    names = ["unique_id", "ds", "y", *(f"c{i}" for i in range(extra_columns))]
    row = ["referrals/ot/rugby", "2025-01-06", "1", *("1" for _ in range(extra_columns))]
    body = (",".join(names) + "\n" + ",".join(row) + "\n").encode()
    started = time.perf_counter()
    try:
        read_upload(body, source="wide.csv")
        found = "read"
    except ValidationFailed as refused:
        found = f"{len(refused.problems):,} problems, the first: {refused.problems[0].found}"
    return time.perf_counter() - started, found


def rss_mb() -> int:
    """This process's resident memory, MB (Linux)."""
    status = Path("/proc/self/status").read_text()
    return int(status.split("VmRSS:")[1].split()[0]) // 1024


def _offered(body_mib: int, sent: list[int]) -> Iterator[bytes]:
    """`{"name": "AAAA..."}` of `body_mib` MiB in 64 KiB chunks, counting in `sent[0]` the bytes
    of them the client has taken to send."""
    yield b'{"name": "'
    for _ in range(body_mib * 16):
        sent[0] += 65_536
        yield b"A" * 65_536
    yield b'"}'


def send_large_bodies(body_mib: int) -> None:
    """Serve the API and send it a `body_mib` MiB JSON body, chunked and declared."""
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            auth="off", scheduler_enabled=False, data_dir=Path(tmp), host="127.0.0.1"
        )
        upgrade(make_engine(settings.resolved_database_url))
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        config = uvicorn.Config(create_app(settings), port=port, log_level="warning")
        server = uvicorn.Server(config)
        threading.Thread(target=server.run, daemon=True).start()
        while not server.started:
            time.sleep(0.05)
        print(f"a {body_mib} MiB JSON body to POST /v1/configs (RSS before: {rss_mb()} MB):")
        for how in ("chunked", "Content-Length"):
            sent = [0]
            headers = {"content-type": "application/json"}
            if how == "Content-Length":
                headers["content-length"] = str(body_mib * 2**20 + 12)
            started = time.perf_counter()
            url = f"http://127.0.0.1:{port}/v1/configs"
            offered = _offered(body_mib, sent)
            answer = httpx.post(url, content=offered, headers=headers, timeout=120)
            seconds = time.perf_counter() - started
            print(
                f"  {how}: {answer.status_code} after {seconds:.2f} s, {sent[0] / 2**20:.0f} MiB "
                f"sent, RSS {rss_mb()} MB; {answer.text[:150]}"
            )
        server.should_exit = True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--body-mib", type=int, default=300, help="0: no server")
    args = parser.parse_args()
    config = demo_config.demo_planning_config()
    print("JSON bodies in bytes (compact / default / indent 2 / indent 4):")
    print(f"  demo config: {json_sizes(config)}")
    print(f"  what-if of it: {json_sizes({'config': config, 'solver': 'highs'})}")
    sweep = {"config": config, "dfg_fee_rates": [i / 12 for i in range(12)], "solver": "highs"}
    print(f"  sweep of 12 rates: {json_sizes(sweep)}")
    for districts, teams in COUNCILS:
        what_if = {"config": scaled(config, districts, teams), "solver": "highs"}
        print(f"  what-if, {districts} districts in {teams} teams: {json_sizes(what_if)}")
    print("decoding a JSON body, ms (json.loads / decode_json):")
    for districts, teams in (*COUNCILS, (1500, 150)):
        what_if = {"config": scaled(config, districts, teams), "solver": "highs"}
        body = json.dumps(what_if, indent=4).encode()
        plain, strict = decode_ms(body)
        print(f"  what-if, {districts} districts, {len(body):,} bytes: {plain:.2f} / {strict:.2f}")
    print(f"long CSV reader, one data row (MAX_COLUMNS = {MAX_COLUMNS:,}):")
    for extra in (MAX_COLUMNS - 3, MAX_COLUMNS - 2, 1_000_000 - 3):
        seconds, found = header_seconds(extra)
        print(f"  {extra + 3:,} columns: {seconds:.3f} s, {found[:90]}")
    if args.body_mib:
        send_large_bodies(args.body_mib)


if __name__ == "__main__":
    main()
