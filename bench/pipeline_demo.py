"""Time the demo pipeline end to end on a fresh SQLite file: migrate, load, forecast, plan.

Run: .venv/bin/python bench/pipeline_demo.py            (prints the stages and their wall times)
     .venv/bin/python bench/pipeline_demo.py --england  (also every English authority's real
                                                          DTOC history, read in place from
                                                          ../shared/data/dtoc-monthly/)
"""

from __future__ import annotations

import argparse
import logging
import tempfile
import time
from itertools import pairwise
from pathlib import Path

import pandas as pd

from homeward import demo_config, planning, repository
from homeward.demo_series import generate_demo_observations
from homeward.dtoc import read_nhs_dtoc
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade

DTOC = Path(__file__).resolve().parents[2] / "shared/data/dtoc-monthly/dtoc_la_monthly.csv"


def main() -> None:
    """Run the same steps as `homeward demo`, timing each (with --england, after importing the
    DTOC file as `homeward import` does)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--england", action="store_true", help="also import the real DTOC file")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), scheduler_enabled=False)
        marks = {"start": time.perf_counter()}
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = session_factory(engine)
        marks["migrate"] = time.perf_counter()
        frame = generate_demo_observations()
        body = demo_config.demo_planning_config()
        with transaction(factory) as session:
            repository.store_observations(session, frame, "demo", observations_hash(frame))
            repository.save_config(session, body, planning.config_hash(body))
        marks["load demo"] = time.perf_counter()
        if args.england:
            dtoc = read_nhs_dtoc(DTOC.read_bytes())
            with transaction(factory) as session:
                repository.store_observations(session, dtoc, str(DTOC), observations_hash(dtoc))
            marks["load dtoc"] = time.perf_counter()
            frame = pd.concat([frame, dtoc]).drop_duplicates(["unique_id", "ds"], keep="last")
        outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
        marks["pipeline"] = time.perf_counter()
        with factory() as session:
            run = repository.list_runs(session, 1)[0]
        print(
            f"{'demo and DTOC' if args.england else 'demo'}: {frame['unique_id'].nunique()} "
            f"series, {len(frame):,} observations; "
            f"run {outcome.run_id} {outcome.status}, solver {run.solver_status}"
        )
        names = list(marks)
        for before, after in pairwise(names):
            print(f"{after:>10}: {marks[after] - marks[before]:7.1f} s")
        print(f"  forecast: {run.timings_s.get('forecast_s', 0):7.1f} s (inside pipeline)")
        print(f"      plan: {run.timings_s.get('plan_s', 0):7.1f} s (inside pipeline)")
        print(f"     total: {marks['pipeline'] - marks['start']:7.1f} s")


if __name__ == "__main__":
    main()
