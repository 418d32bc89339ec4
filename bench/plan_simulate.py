"""Simulated waits against the LP's predicted waits, for a county and for England (the
synthetic instances of plan_scale.py, each team on its own revenue budget).

.venv/bin/python bench/plan_simulate.py            # markdown for docs/benchmarks.md
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from plan_scale import synthetic_instance  # noqa: E402

import optimise  # noqa: E402
from optimise.config import PlanningConfig  # noqa: E402
from optimise.inputs import build_inputs  # noqa: E402
from optimise.simulate import simulate  # noqa: E402


def run(
    las: int, teams: int, periods: int, runs: int, seed: int
) -> tuple[pd.DataFrame, float, float]:
    raw, demand = synthetic_instance(las, teams, periods, seed)
    inputs = build_inputs(PlanningConfig.model_validate(raw), demand)
    started = time.perf_counter()
    result = optimise.plan(inputs, simulation_runs=0)
    solved = time.perf_counter()
    frame = simulate(inputs, result, runs=runs, seed=seed)
    return frame, solved - started, time.perf_counter() - solved


SERVICE_HEAD = (
    "| service | pairs | flagged (>15%) | LP wait days (median) | simulated wait days (median) "
    "| LP person-days | simulated person-days |\n| --- | --- | --- | --- | --- | --- | --- |"
)
PAIR_HEAD = (
    "| service | district | LP wait days | simulated wait days | difference % | flagged |\n"
    "| --- | --- | --- | --- | --- | --- |"
)


def by_service(frame: pd.DataFrame) -> str:
    rows = [SERVICE_HEAD]
    for service, part in frame.groupby("service", sort=False):
        rows.append(
            f"| {service} | {len(part)} | {int(part['flagged'].sum())} "
            f"| {part['lp_wait_days'].median():.1f} | {part['sim_wait_days'].median():.1f} "
            f"| {part['lp_person_days'].sum():,.0f} | {part['sim_person_days'].sum():,.0f} |"
        )
    return "\n".join(rows)


def by_pair(frame: pd.DataFrame) -> str:
    rows = [PAIR_HEAD]
    for r in frame.itertuples():
        flag = "yes" if r.flagged else ""
        rows.append(
            f"| {r.service} | {r.district} | {r.lp_wait_days:.1f} | {r.sim_wait_days:.1f} "
            f"| {r.difference_pct:+.0f} | {flag} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    for label, size in (("County", (5, 2, 26)), ("England", (151, 40, 52))):
        frame, solve_s, sim_s = run(*size, args.runs, args.seed)
        print(
            f"{label} ({size[0]} districts, {size[1]} teams, {size[2]} weeks, {args.runs} runs): "
            f"plan {solve_s:.2f} s, simulation {sim_s:.2f} s.\n"
        )
        print(by_service(frame) + "\n")
        if label == "County":
            print(by_pair(frame) + "\n")


if __name__ == "__main__":
    main()
