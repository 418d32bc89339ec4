"""Time `homeward import` of a large long CSV into a fresh SQLite file (or PostgreSQL
database), twice: a first import of its series, then the same series with every value revised
(the import a monthly update is: judged against the series' stored frequencies, and merged
with their stored history).

Run: .venv/bin/python bench/import_long.py                           (150 series x 96 months)
     .venv/bin/python bench/import_long.py --series 1500 --repeat 3  (best of three)
     .venv/bin/python bench/import_long.py --series 12000           (1,152,000 rows, 49 MB:
                                                                       a council's large file)
     .venv/bin/python bench/import_long.py --series 500 --profile    (where the revision's
                                                                       time goes)
     .venv/bin/python bench/import_long.py --database postgresql     (a throwaway server, as
                                                                       the tests start one)
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import importlib.util
import io
import os
import pstats
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from homeward import ingest
from homeward.cli import main as homeward
from homeward.settings import get_settings
from homeward.storage import make_engine


def long_csv(series: int, months: int, level: int) -> str:
    """`series` monthly referral series of `months` months to the last complete month, each
    value `level` plus a figure of its series and month (so two levels differ in every value)."""
    last_month = (pd.Timestamp.today().to_period("M") - 1).to_timestamp()
    dates = pd.date_range(end=last_month, periods=months, freq="MS").strftime("%Y-%m-%d")
    rows = (
        f"referrals/ot/district-{s:05d},{d},{level + (s * 7 + i) % 500}"
        for s in range(series)
        for i, d in enumerate(dates)
    )
    return "unique_id,ds,y\n" + "\n".join(rows) + "\n"


Seconds = tuple[float, float]  # wall, CPU (this process's: other work on the cores aside)
# the file's parsing, CPU seconds and calls per import: decoding and splitting it into cells
# (ingest.read_csv_as_text), then reading each cell (ingest._parse_cells)
PARSING: list[float] = []
PARSERS = ("read_csv_as_text", "_parse_cells")


def _timed(parse: Callable[..., Any]) -> Callable[..., Any]:
    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return parse(*args, **kwargs)
        finally:
            PARSING.append(time.process_time() - start)

    return timed


def timed_imports(
    url: str, first: Path, revised: Path, profile: bool = False
) -> tuple[Seconds, Seconds]:
    """Seconds of `homeward import` of `first`, then of `revised`, into the new database at
    `url` (the revision under cProfile if `profile`, its slowest calls printed)."""
    os.environ["DATABASE_URL"] = url
    get_settings.cache_clear()
    seconds = []
    for path in (first, revised):
        PARSING.clear()
        wall, cpu = time.perf_counter(), time.process_time()
        profiler = cProfile.Profile() if profile and path == revised else None
        with contextlib.redirect_stdout(io.StringIO()):  # its one line, "imported ..."
            if profiler:
                profiler.enable()
            assert homeward(["-q", "import", str(path)]) == 0
            if profiler:
                profiler.disable()
        seconds.append((time.perf_counter() - wall, time.process_time() - cpu))
        calls = len(PARSING) // len(PARSERS)
        print(f"  {path.stem}: parsing {sum(PARSING):.2f} s CPU in {calls} parse(s)")
        if profiler:
            pstats.Stats(profiler).sort_stats("cumulative").print_stats("homeward", 20)
    return seconds[0], seconds[1]


@contextlib.contextmanager
def new_databases(kind: str, folder: Path) -> Iterator[Callable[[int], str]]:
    """URLs of new, empty databases, one per run: SQLite files in `folder`, or databases on a
    throwaway PostgreSQL server (``tests/pg_server.py``: local, fsync off) for its lifetime."""
    if kind == "sqlite":
        yield lambda run: f"sqlite:///{folder / f'bench-{run}.db'}"
        return
    spec = importlib.util.spec_from_file_location(
        "pg_server", Path(__file__).resolve().parents[1] / "tests" / "pg_server.py"
    )
    assert spec is not None and spec.loader is not None
    pg_server = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(pg_server)
    with pg_server.running_postgres() as server:

        def database(run: int) -> str:
            admin = make_engine(server).execution_options(isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.exec_driver_sql(f"CREATE DATABASE bench_{run}")
            admin.dispose()
            return str(server.rsplit("/", 1)[0] + f"/bench_{run}")

        yield database


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--series", type=int, default=150)
    parser.add_argument("--months", type=int, default=96)
    parser.add_argument("--repeat", type=int, default=1, help="runs, each on a new database")
    parser.add_argument("--profile", action="store_true", help="profile the revision")
    parser.add_argument("--database", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    for name in PARSERS:
        setattr(ingest, name, _timed(getattr(ingest, name)))
    with tempfile.TemporaryDirectory() as tmp, new_databases(args.database, Path(tmp)) as url:
        folder = Path(tmp)
        first, revised = folder / "first.csv", folder / "revised.csv"
        first.write_text(long_csv(args.series, args.months, 0))
        revised.write_text(long_csv(args.series, args.months, 1))
        runs = [timed_imports(url(run), first, revised, args.profile) for run in range(args.repeat)]
    rows = args.series * args.months
    size_mb = len(long_csv(args.series, args.months, 0)) / 1e6
    print(
        f"{args.series} series x {args.months} months = {rows:,} rows ({size_mb:.1f} MB), "
        f"{args.database}"
    )
    for name, times in (("first import", [r[0] for r in runs]), ("revision", [r[1] for r in runs])):
        shown = ", ".join(f"{wall:.2f}/{cpu:.2f}" for wall, cpu in times)
        best_wall, best_cpu = min(t[0] for t in times), min(t[1] for t in times)
        print(f"{name}: best {best_wall:.2f} s wall, {best_cpu:.2f} s CPU (wall/CPU: {shown})")


if __name__ == "__main__":
    main()
