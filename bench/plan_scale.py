"""England-scale allocation LP: Homeward vs the obvious PuLP+CBC build vs HiGHS alone.

Two instances, the same but for budgets: teams on their own revenue budgets (independent
blocks, which Homeward solves apart) and one national budget (one coupled LP). Each part runs
in its own process so that its peak memory (ru_maxrss) is its own:

    .venv/bin/python bench/plan_scale.py                      # both instances, markdown
    .venv/bin/python bench/plan_scale.py --budgets team       # one instance
    .venv/bin/python bench/plan_scale.py --part homeward      # one part, JSON line

The parts compare the first-stage LP (the one the obvious builder writes too). The even-waits
tie-break (optimise/tiebreak.py) is measured on its own, before and after in the same run, on
the demo plan (forecast first, about a minute) and both instances:

    .venv/bin/python bench/plan_scale.py --even-waits         # markdown (about 3 minutes)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SERVICES = {  # hours per case, GBP per hour, wait weight, hospital weight, weekly cases per LA
    "ot": (6.0, 42.0, 1.0, 0.0, 30.0),
    "hao": (4.0, 31.0, 0.8, 0.0, 20.0),
    "reablement": (20.0, 27.0, 1.5, 1.0, 12.0),
    "domcare": (30.0, 23.0, 1.2, 1.0, 8.0),
}
URGENT = {"ot": (0.2, 3.0), "hao": (0.1, 2.0), "reablement": (0.4, 4.0), "domcare": (0.3, 3.0)}


def synthetic_instance(
    las: int = 151, teams: int = 40, periods: int = 52, seed: int = 0, team_budgets: bool = True
) -> tuple[dict[str, Any], pd.DataFrame]:
    """A PlanningConfig body and weekly demand: LAs of lognormal size, winter bump, two classes.

    With `team_budgets` each team pays its staff from its own revenue budget (councils and
    shared services do not pool revenue budgets nationally); without, one national budget of
    the same total couples every authority into one LP."""
    rng = np.random.default_rng(seed)
    size = rng.lognormal(0.0, 0.5, las)
    team_of = [f"team-{i % teams:02d}" for i in range(las)]
    ids = [f"la-{i:03d}" for i in range(las)]
    starts = pd.date_range("2025-04-07", periods=periods, freq="W-MON")
    season = 1.0 + 0.15 * np.cos(2 * np.pi * (starts.dayofyear.to_numpy() - 15) / 365)
    demand = _demand(rng, ids, size, season, starts)
    wanted = {
        s: {
            t: sum(size[i] for i in range(las) if team_of[i] == t) * v[4] * v[0]
            for t in set(team_of)
        }
        for s, v in SERVICES.items()
    }
    raw = {
        "name": "england-synthetic",
        "version": "bench",
        "period_days": 7,
        "horizon_periods": periods,
        "services": [_service(s) for s in SERVICES],
        "teams": [_team(t, wanted, team_budgets) for t in sorted(set(team_of))],
        "districts": [_district(ids[i], team_of[i], size[i], rng) for i in range(las)],
        "revenue_budget_gbp_per_period": None
        if team_budgets
        else sum(_budget(wanted, t) for t in set(team_of)),
        "fees": {
            "dfg_fee_rate": 0.10,
            "min_fee_per_case_gbp": 500.0,
            "max_fee_per_case_gbp": 1500.0,
        },
        "flows": {"p_ot_dfg": 0.30, "p_reab_dom": 0.40},
        "works_wait_weight": 1.0,
    }
    return raw, demand


def _budget(wanted: dict[str, dict[str, float]], team: str) -> float:
    """92% of what the hours that demand wants would cost: the budget binds."""
    return round(0.92 * sum(wanted[s][team] * SERVICES[s][1] for s in SERVICES), 0)


def _team(team: str, wanted: dict[str, dict[str, float]], own_budget: bool) -> dict[str, Any]:
    out: dict[str, Any] = {"id": team, "hours": {s: _bounds(wanted[s][team]) for s in SERVICES}}
    if own_budget:
        out["revenue_budget_gbp_per_period"] = _budget(wanted, team)
    return out


def _service(sid: str) -> dict[str, Any]:
    hours, cost, weight, hospital, _ = SERVICES[sid]
    share, urgent = URGENT[sid]
    return {
        "id": sid,
        "hours_per_case": hours,
        "cost_per_hour_gbp": cost,
        "wait_weight": weight,
        "hospital_delay_weight": hospital,
        "urgent_share": share,
        "urgent_wait_weight": urgent,
        "agency_premium": 1.6,
    }


def _bounds(wanted_hours: float) -> dict[str, float]:
    return {
        "min_per_period": round(0.6 * wanted_hours, 1),
        "max_per_period": round(1.05 * wanted_hours, 1),
        "agency_max_per_period": round(0.1 * wanted_hours, 1),
        "max_change_per_period": round(0.05 * wanted_hours, 1),
        "current_per_period": round(0.9 * wanted_hours, 1),
    }


def _district(did: str, team: str, size: float, rng: np.random.Generator) -> dict[str, Any]:
    return {
        "id": did,
        "name": did.upper(),
        "team": team,
        "capital_gbp": round(size * 1_500_000, 0),
        "cost_per_adaptation_gbp": round(float(rng.uniform(6000, 12000)), 0),
        "initial_backlog_cases": {
            s: round(size * v[4] * w, 1)
            for (s, v), w in zip(SERVICES.items(), (8, 4, 1, 2), strict=True)
        },
        "initial_works_backlog_cases": round(size * 40, 1),
    }


def _demand(
    rng: np.random.Generator,
    ids: list[str],
    size: np.ndarray,
    season: np.ndarray,
    starts: pd.DatetimeIndex,
) -> pd.DataFrame:
    frames = []
    for sid, v in SERVICES.items():
        mean = size[:, None] * v[4] * season[None, :]
        cases = rng.gamma(20.0, mean / 20.0)
        frames.append(
            pd.DataFrame(
                {
                    "service": sid,
                    "district": np.repeat(ids, len(starts)),
                    "ds": np.tile(starts, len(ids)),
                    "cases": cases.ravel().round(2),
                    "q90": (cases * 1.25).ravel().round(2),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _inputs(args: argparse.Namespace) -> Any:
    from optimise.config import PlanningConfig
    from optimise.inputs import build_inputs

    team = args.budgets == "team"
    raw, demand = synthetic_instance(args.las, args.teams, args.periods, args.seed, team)
    return raw, demand, lambda: build_inputs(PlanningConfig.model_validate(raw), demand)


def part_homeward(args: argparse.Namespace, workers: int = 1) -> dict[str, Any]:
    """Homeward end to end: validate + inputs, vectorised build, HiGHS in memory (block by
    block where the model splits), extract."""
    import optimise
    from optimise.decompose import Decomposition

    _, _, make = _inputs(args)
    base = _peak_mib()
    t0 = time.perf_counter()
    inputs = make()
    t1 = time.perf_counter()
    model = optimise.build_model(inputs)
    t2 = time.perf_counter()
    outcome = optimise.solve(model, decomposition=Decomposition(workers=workers))
    t3 = time.perf_counter()
    result = optimise.extract(inputs, model, outcome)
    t4 = time.perf_counter()
    return {
        "part": "homeward" if workers == 1 else "homeward-pool",
        "status": result.status.value,
        "objective": outcome.objective,
        "weighted_wait_days": result.objective_weighted_wait_days,
        "columns": model.num_cols,
        "rows": model.num_rows,
        "nonzeros": int(model.matrix.nnz),
        "blocks": outcome.blocks,
        "inputs_s": t1 - t0,
        "build_s": t2 - t1,
        "solve_call_s": t3 - t2,
        "solver_run_s": outcome.solve_seconds,
        "ranging_s": outcome.ranging_seconds,
        "extract_s": t4 - t3,
        "total_s": t4 - t0,
        "peak_mib": _peak_mib(),
        "import_mib": base,
    }


def part_homeward_pool(args: argparse.Namespace) -> dict[str, Any]:
    """As part_homeward, with the blocks solved in a pool of 2 forked processes."""
    return part_homeward(args, workers=2)


def part_obvious(args: argparse.Namespace) -> dict[str, Any]:
    """The obvious way: LpVariable.dicts, one lpSum per constraint, bundled CBC via PuLP."""
    import pulp

    return _through_pulp(args, "obvious", pulp.PULP_CBC_CMD(msg=False, timeLimit=args.cbc_limit))


def part_pulp_highs(args: argparse.Namespace) -> dict[str, Any]:
    """The obvious build handed to PuLP's own in-memory HiGHS class (for context)."""
    import pulp

    # The same HiGHS options as Homeward uses for a whole model this size (IPM, one thread).
    highs = pulp.HiGHS(msg=False, threads=1, solver="ipm")
    return _through_pulp(args, "pulp-highs", highs)


def _through_pulp(args: argparse.Namespace, part: str, solver: Any) -> dict[str, Any]:
    import pulp

    from optimise.reference import build_reference

    _, _, make = _inputs(args)
    base = _peak_mib()
    t0 = time.perf_counter()
    inputs = make()
    t1 = time.perf_counter()
    prob = build_reference(inputs)
    t2 = time.perf_counter()
    prob.solve(solver)
    t3 = time.perf_counter()
    values = {v.name: v.varValue for v in prob.variables()}
    duals = {n: c.pi for n, c in prob.constraints.items()}
    t4 = time.perf_counter()
    return {
        "part": part,
        "status": pulp.LpStatus[prob.status],
        "objective": pulp.value(prob.objective),
        "columns": len(values),
        "rows": len(duals),
        "inputs_s": t1 - t0,
        "build_s": t2 - t1,
        "solve_call_s": t3 - t2,
        "extract_s": t4 - t3,
        "total_s": t4 - t0,
        "peak_mib": _peak_mib(),
        "import_mib": base,
    }


def part_floor(args: argparse.Namespace) -> dict[str, Any]:
    """HiGHS alone on the same whole matrix (built beforehand, not timed): just `run()`."""
    import highspy

    import optimise
    from optimise.highs_backend import new_highs, to_highs_lp

    _, _, make = _inputs(args)
    model = optimise.build_model(make())
    lp = to_highs_lp(model)
    base = _peak_mib()
    h = new_highs(None, model.num_cols)  # the options Homeward uses for a whole model
    h.passModel(lp)
    t0 = time.perf_counter()
    h.run()
    t1 = time.perf_counter()
    return {
        "part": "floor",
        "status": h.modelStatusToString(h.getModelStatus()),
        "objective": h.getInfo().objective_function_value,
        "solver_run_s": t1 - t0,
        "total_s": t1 - t0,
        "peak_mib": _peak_mib(),
        "import_mib": base,
        "highspy": highspy.Highs().version(),  # type: ignore[no-untyped-call]
    }


def even_waits_figures(inputs: Any, repeat: int = 1) -> dict[str, Any]:
    """The first stage alone (a plan before the even-waits tie-break, or with it off), then
    the even-waits stage on top of it, timed in the same run (the median of `repeat` runs):
    weighted waiting, the tie-break term, staff spend and the spread of district waits before
    and after."""
    import optimise
    from optimise.tiebreak import even_waits

    first_s, even_s = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        model = optimise.build_model(inputs)
        first = optimise.solve(model)
        t1 = time.perf_counter()
        before = optimise.extract(inputs, model, first)
        t2 = time.perf_counter()
        second = even_waits(inputs, model, first)
        t3 = time.perf_counter()
        after = second.report(optimise.extract(inputs, model, second.outcome))
        first_s.append(t1 - t0)
        even_s.append(t3 - t2)
    return {
        "status": after.status.value,
        "tie_break": after.tie_break,
        "first_build_solve_s": float(np.median(first_s)),
        "even_build_solve_s": float(np.median(even_s)),
        "wait_before": before.objective_weighted_wait_days,
        "wait_after": after.objective_weighted_wait_days,
        "worst_before": before.worst_wait_sum_days,
        "worst_after": after.worst_wait_sum_days,
        "spend_before": _spend(before),
        "spend_after": _spend(after),
        "spread_before": district_spread(inputs, before),
        "spread_after": district_spread(inputs, after),
        "waits_before": _waits(before),
        "waits_after": _waits(after),
        "teams": {
            d: inputs.teams[g]
            for d, g in zip(inputs.districts, inputs.team_of_district, strict=True)
        },
    }


def _spend(result: Any) -> float:
    return float(result.revenue[["staff_cost_gbp", "agency_cost_gbp"]].to_numpy().sum())


def _waits(result: Any) -> dict[str, dict[str, float]]:
    frame = result.district_waits.pivot(index="district", columns="service", values="avg_wait_days")
    return {str(k): {str(d): float(v) for d, v in col.items()} for k, col in frame.items()}


def district_spread(inputs: Any, result: Any) -> dict[str, list[float]]:
    """Per service (and DFG works): over the teams with two or more districts, the median and
    the largest gap in days between the longest and shortest district average wait (person-days
    waiting over cases served, over the horizon: the plan's district_waits)."""
    waits = result.district_waits.copy()
    team = pd.Series(np.asarray(inputs.teams)[inputs.team_of_district], index=inputs.districts)
    waits["team"] = waits["district"].map(team)
    by = waits.groupby(["service", "team"], sort=False)["avg_wait_days"]
    gap = (by.max() - by.min())[by.count() >= 2]
    return {
        str(s): [float(g.median()), float(g.max())] for s, g in gap.groupby(level=0, sort=False)
    }


def demo_inputs(demand_file: str | None) -> Any:
    """The demo plan's inputs as `homeward plan` makes them: the demo config and a forecast
    of the synthetic demo referrals (about a minute; `demand_file`, a pickle, caches it)."""
    from homeward import demo_config
    from homeward.commands import _demo_demand  # what `homeward plan` plans from
    from homeward.demo_series import DEMO_LAST_YEAR
    from optimise.config import PlanningConfig
    from optimise.inputs import build_inputs

    # the figures in docs/benchmarks.md are for the demo to 2025 (`homeward plan` itself plans
    # the demo to the last complete week)
    os.environ.setdefault("HOMEWARD_DEMO_LAST_YEAR", str(DEMO_LAST_YEAR))
    config = PlanningConfig.model_validate(demo_config.demo_planning_config())
    cached = Path(demand_file) if demand_file else None
    if cached is not None and cached.exists():
        demand = pd.read_pickle(cached)
    else:
        demand, _warnings = _demo_demand(config)
        if cached is not None:
            demand.to_pickle(cached)
    return build_inputs(config, demand)


def run_even_waits(args: argparse.Namespace) -> str:
    """The demo and both England instances: markdown for docs/benchmarks.md."""
    from optimise.config import PlanningConfig
    from optimise.inputs import build_inputs

    instances = {"demo (Warwickshire, pooled budget, 52 weeks)": demo_inputs(args.demo_demand)}
    for budgets in ("team", "national"):
        raw, demand = synthetic_instance(
            args.las, args.teams, args.periods, args.seed, budgets == "team"
        )
        label = f"England, {'own budget per team' if budgets == 'team' else 'one national budget'}"
        instances[label] = build_inputs(PlanningConfig.model_validate(raw), demand)
    results = {}
    for label, inputs in instances.items():
        small = label.startswith("demo")  # a fraction of a second: time it 5 times
        results[label] = even_waits_figures(inputs, repeat=5 if small else 1)
        print(f"{label}: done", file=sys.stderr)
    if args.save:
        Path(args.save).write_text(json.dumps(results, indent=1))
    return even_waits_report(results)


def even_waits_report(results: dict[str, dict[str, Any]]) -> str:
    lines = [
        "| instance | weighted waiting before | after | change | tie-break term before "
        "| after (days) | staff spend change GBP | build+solve s before | after | ratio |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for label, r in results.items():
        before_s = r["first_build_solve_s"]
        after_s = before_s + r["even_build_solve_s"]
        lines.append(
            f"| {label} | {r['wait_before']:,.1f} | {r['wait_after']:,.1f} "
            f"| {r['wait_after'] / r['wait_before'] - 1:+.2e} | {r['worst_before']:,.0f} "
            f"| {r['worst_after']:,.0f} | {r['spend_after'] - r['spend_before']:+,.0f} "
            f"| {before_s:.2f} | {after_s:.2f} | {after_s / before_s:.2f}x |"
        )
    lines += [
        "",
        "Gap between the longest and shortest district average wait within a team, "
        "days (median / largest over teams):",
        "",
    ]
    services = list(next(iter(results.values()))["spread_before"])
    lines += [
        "| instance | " + " | ".join(services) + " |",
        "| --- |" + " --- |" * len(services),
    ]
    for label, r in results.items():
        cells = [f"{_gap(r['spread_before'][s])} -> {_gap(r['spread_after'][s])}" for s in services]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join([*lines, "", *_demo_table(next(iter(results.values())))])


def _gap(median_max: list[float]) -> str:
    return f"{median_max[0]:.1f} / {median_max[1]:.1f}"


def _demo_table(r: dict[str, Any]) -> list[str]:
    """The first instance's district average waits, days, before -> after."""
    services = list(r["waits_before"])
    lines = [
        "| district (team) | " + " | ".join(services) + " |",
        "| --- |" + " --- |" * len(services),
    ]
    for d, team in r["teams"].items():
        cells = [f"{r['waits_before'][s][d]:.1f} -> {r['waits_after'][s][d]:.1f}" for s in services]
        lines.append(f"| {d} ({team}) | " + " | ".join(cells) + " |")
    return lines


PARTS = {
    "homeward": part_homeward,
    "homeward-pool": part_homeward_pool,
    "obvious": part_obvious,
    "pulp-highs": part_pulp_highs,
    "floor": part_floor,
}
ORDER = ("floor", "homeward", "homeward-pool", "obvious", "pulp-highs")


def run_all(args: argparse.Namespace, budgets: str) -> list[dict[str, Any]]:
    out = []
    for name in ORDER:
        if name == "homeward-pool" and budgets != "team":
            continue  # one block: nothing to share between processes
        cmd = [sys.executable, __file__, "--part", name, "--budgets", budgets]
        for flag in ("las", "teams", "periods", "seed", "cbc_limit"):
            cmd += [f"--{flag.replace('_', '-')}", str(getattr(args, flag))]
        done = subprocess.run(cmd, capture_output=True, text=True, check=True)
        out.append({**json.loads(done.stdout.strip().splitlines()[-1]), "budgets": budgets})
        print(f"{budgets} {name}: {out[-1]['total_s']:.2f} s", file=sys.stderr)
    return out


LABELS = {
    "homeward": "Homeward (vectorised build, HiGHS by blocks in turn, extract)",
    "homeward-pool": "Homeward, blocks in a pool of 2 processes",
    "obvious": "obvious (PuLP dicts + lpSum, bundled CBC, whole LP)",
    "floor": "floor (HiGHS alone on the whole matrix, same options)",
    "pulp-highs": "context: obvious build, PuLP's in-memory HiGHS class",
}


def report(results: list[dict[str, Any]]) -> str:
    """Markdown: per instance, one row per part, then the breakdown and the two targets."""
    out = []
    for budgets in ("team", "national"):
        mine = [r for r in results if r.get("budgets", "national") == budgets]
        if mine:
            out.append(_report_one(budgets, {r["part"]: r for r in mine}))
    return "\n\n".join(out)


def _report_one(budgets: str, by: dict[str, dict[str, Any]]) -> str:
    home, obvious = by["homeward"], by["obvious"]
    solver = home["solver_run_s"] + home["ranging_s"]
    overhead = home["total_s"] - solver
    title = "own budget per team" if budgets == "team" else "one national budget (coupled)"
    lines = [
        f"### {title}",
        "",
        f"{home['columns']:,} columns, {home['rows']:,} rows, {home['nonzeros']:,} non-zeros; "
        f"Homeward solved it as {home['blocks']} block(s).",
        "",
        "| part | status | objective | total s | solver s | peak MiB (above imports) |",
        "| --- | --- | --- | --- | --- | --- |",
        *(_row(LABELS[p], by[p]) for p in ORDER if p in by),
        "",
        f"Homeward: inputs {home['inputs_s']:.2f} s, build {home['build_s']:.2f} s, "
        f"HiGHS runs {home['solver_run_s']:.2f} s, ranging {home['ranging_s']:.2f} s, "
        f"splitting, passing models and assembling "
        f"{home['solve_call_s'] - solver:.2f} s, extract {home['extract_s']:.2f} s.",
        f"Obvious: inputs {obvious['inputs_s']:.2f} s, build {obvious['build_s']:.2f} s, "
        f"CBC through PuLP {obvious['solve_call_s']:.2f} s, values and duals "
        f"{obvious['extract_s']:.2f} s.",
        f"End to end Homeward is {obvious['total_s'] / home['total_s']:.1f}x faster than the "
        "obvious implementation (target >= 3x).",
        f"Modelling overhead (all but HiGHS runs and ranging) {overhead:.2f} s = "
        f"{overhead / solver:.0%} of solver time (target < 50%).",
    ]
    return "\n".join(lines)


def _row(label: str, r: dict[str, Any]) -> str:
    solver = r.get("solver_run_s", r.get("solve_call_s", float("nan"))) + r.get("ranging_s", 0.0)
    return (
        f"| {label} | {r['status']} | {r['objective']:,.1f} | {r['total_s']:.2f} "
        f"| {solver:.2f} | {r['peak_mib']:,.0f} ({r['peak_mib'] - r['import_mib']:,.0f}) |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--part", choices=[*PARTS, "all"], default="all")
    parser.add_argument("--budgets", choices=["team", "national", "both"], default="both")
    parser.add_argument("--las", type=int, default=151)
    parser.add_argument("--teams", type=int, default=40)
    parser.add_argument("--periods", type=int, default=52)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--cbc-limit", type=float, default=3600.0)
    parser.add_argument("--save", help="also write the parts' JSON results to this file")
    parser.add_argument("--report-from", help="print the report of a saved JSON file")
    parser.add_argument(
        "--even-waits",
        action="store_true",
        help="the even-waits tie-break before and after, on the demo and both instances",
    )
    parser.add_argument("--demo-demand", help="with --even-waits: cache the demo's forecast here")
    args = parser.parse_args()
    if args.even_waits:
        print(run_even_waits(args))
    elif args.report_from:
        print(report(json.loads(Path(args.report_from).read_text())))
    elif args.part == "all":
        kinds = ("team", "national") if args.budgets == "both" else (args.budgets,)
        results = [r for kind in kinds for r in run_all(args, kind)]
        if args.save:
            Path(args.save).write_text(json.dumps(results, indent=1))
        print(report(results))
    else:
        budgets = "team" if args.budgets == "both" else args.budgets
        print(json.dumps({**PARTS[args.part](args), "budgets": budgets}))


if __name__ == "__main__":
    main()
