"""What a 304 revalidation of a plan costs the server, against the 200 it saves sending.

Against a running server (e.g. `homeward demo --serve`), for each path: one GET for its ETag,
then `--times` sequential GETs with that tag in If-None-Match (304s) and `--times` without it
(200s), each timed from request to the last byte, printing the median, the fastest and the
slowest of each. Sequential and on loopback, so the figures are the server's work on one
request, not a load test; on a shared machine quote the medians:

    .venv/bin/python bench/conditional_get.py --url http://127.0.0.1:8000
    .venv/bin/python bench/conditional_get.py --url ... --key KEY   # keys on
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx

PATHS = ("/v1/plans/latest", "/v1/plans/latest/hours.csv")


def timed(client: httpx.Client, path: str, headers: dict[str, str], status: int) -> float:
    """Seconds for one GET of `path`, which must answer `status`."""
    began = time.perf_counter()
    answer = client.get(path, headers=headers)
    took = time.perf_counter() - began
    if answer.status_code != status:
        raise SystemExit(f"GET {path}: expected {status}, found {answer.status_code}")
    return took


def report(label: str, seconds: list[float]) -> str:
    return (
        f"  {label}: median {statistics.median(seconds):.3f} s "
        f"(fastest {min(seconds):.3f}, slowest {max(seconds):.3f}, n={len(seconds)})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--key", default=None, help="an API key, when keys are on")
    parser.add_argument("--times", type=int, default=20)
    args = parser.parse_args()
    auth = {"Authorization": f"Bearer {args.key}"} if args.key else {}
    with httpx.Client(base_url=args.url, headers=auth, timeout=120) as client:
        for path in PATHS:
            first = client.get(path)
            tag = first.headers["etag"]
            print(f"{path}: {len(first.content):,} bytes, ETag {tag}")
            again = {"If-None-Match": tag}
            print(report("304", [timed(client, path, again, 304) for _ in range(args.times)]))
            print(report("200", [timed(client, path, {}, 200) for _ in range(args.times)]))


if __name__ == "__main__":
    main()
