"""Sample paths of a parent (the sum of its leaves' paths): are its 10-90% bands right?

Compares the engine's paths, whose leaves' shocks are correlated as their backtest errors were,
with the same leaves' paths made independent of one another (each leaf's path numbers shuffled
on their own, so every leaf keeps its margins and only the dependence between leaves goes).

.venv/bin/python bench/paths_hierarchy.py [--draws 30]

- synthetic: eight districts whose noise is their own, half shared or all one shared shock,
  `--draws` histories each, 72 months fitted, the next 6 scored (bottom_up);
- real DTOC data in ../shared/data/dtoc-monthly (read in place): each authority's days_total
  over its three parts (wls_struct), fitted to the development origins 2015-12 and 2016-12 and
  scored on the next 12 months. 2017-12 (the benchmark's scored year) is never used here;
- the SYNTHETIC weekly demo: team and area referral totals, fitted to 2024, 2025 scored.

Figures: 80% coverage of the parents' outcomes by their paths' 10-90% band, the band's mean
width and the mean 80% interval score, both over the parent's mean outcome.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import forecast_dtoc as fd  # noqa: E402

from forecast import ForecastSettings, run_forecasts  # noqa: E402
from forecast.hierarchy import reconcile_paths_bottom_up  # noqa: E402

PATHS = 500


def independent(paths: pd.DataFrame, tree: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """The leaves' paths with each leaf's path numbers permuted on their own, parents re-summed."""
    rng = np.random.default_rng(0)
    leaves = paths[~paths["unique_id"].isin(list(tree))].copy()
    n = int(paths["path"].max()) + 1
    perm = {uid: rng.permutation(n) for uid in leaves["unique_id"].unique()}
    leaves["path"] = [perm[u][p] for u, p in zip(leaves["unique_id"], leaves["path"], strict=True)]
    return reconcile_paths_bottom_up(leaves, tree)


def band_scores(paths: pd.DataFrame, actual: pd.DataFrame, parents: Sequence[str]) -> list[float]:
    """Coverage, width / mean outcome and 80% interval score / mean outcome of the parents."""
    p = paths[paths["unique_id"].isin(list(parents))]
    q = p.groupby(["unique_id", "ds"])["y"].quantile(np.array([0.1, 0.9])).unstack().reset_index()
    m = actual.merge(q, on=["unique_id", "ds"])
    lo, hi, y = m[0.1], m[0.9], m["y"]
    score = (hi - lo) + 10 * (lo - y).clip(lower=0) + 10 * (y - hi).clip(lower=0)
    scale = m.groupby("unique_id")["y"].transform(lambda s: s.abs().mean()).clip(lower=1)
    inside = (y >= lo) & (y <= hi)
    return [float(inside.mean()), float(((hi - lo) / scale).mean()), float((score / scale).mean())]


def compare(
    label: str, history: pd.DataFrame, actual: pd.DataFrame, settings: ForecastSettings
) -> list[list[object]]:
    tree = settings.hierarchy or {}
    run = run_forecasts(history, settings)
    assert run.sample_paths is not None
    together = band_scores(run.sample_paths, actual, list(tree))
    apart = band_scores(independent(run.sample_paths, tree), actual, list(tree))
    return [[label, "correlated (engine)", *together], [label, "independent", *apart]]


def synthetic(shared: float, draws: int) -> list[list[object]]:
    tree = {"county": tuple(f"d{i}" for i in range(8))}
    settings = ForecastSettings(
        horizon=6, models=("seasonal_naive", "ses", "theta"), hierarchy=tree, sample_paths=PATHS
    )
    rows: list[np.ndarray] = []
    for seed in range(100, 100 + draws):
        rng = np.random.default_rng(seed)
        ds = pd.date_range("2019-01-01", periods=78, freq="MS")
        season = 80 * (1 + 0.15 * np.sin(2 * np.pi * np.arange(78) / 12))
        common = rng.normal(0, 8, 78)
        frames = [
            pd.DataFrame(
                {
                    "unique_id": leaf,
                    "ds": ds,
                    "y": season
                    + shared * common
                    + (1 - shared) * rng.normal(0, 8, 78)
                    + rng.normal(0, 2, 78),
                }
            )
            for leaf in tree["county"]
        ]
        data = pd.concat(frames, ignore_index=True)
        cut = ds[72]
        actual = fd._tree_actuals(data[data["ds"] >= cut], tree)
        pair = compare("", data[data["ds"] < cut], actual, settings)
        rows.append(np.array([r[2:] for r in pair], dtype=float))
    mean = np.mean(rows, axis=0)
    label = f"synthetic, shared {shared:.0%}, {draws} draws"
    return [[label, how, *mean[i]] for i, how in enumerate(("correlated (engine)", "independent"))]


def dtoc(origin: str) -> list[list[object]]:
    data = fd.load(("days_total", *fd.PARTS))
    codes = sorted(set(data["unique_id"].str.partition("/")[2]) - fd.INCOHERENT)
    tree = {f"days_total/{c}": tuple(f"{p}/{c}" for p in fd.PARTS) for c in codes}
    cut = pd.Timestamp(origin)
    end = cut + pd.DateOffset(months=12)
    scored = data[(data["ds"] > cut) & (data["ds"] <= end) & data["unique_id"].isin(list(tree))]
    settings = ForecastSettings(
        horizon=12, n_jobs=2, hierarchy=tree, reconcile="wls_struct", sample_paths=PATHS
    )
    label = f"DTOC days_total over its parts, fit to {origin[:7]}"
    return compare(label, data[data["ds"] <= cut], scored, settings)


def demo() -> list[list[object]]:
    from homeward import demo_config, planning
    from homeward.demo_series import generate_demo_observations
    from optimise.config import PlanningConfig

    obs = generate_demo_observations()
    weekly = obs[obs["unique_id"].str.startswith("referrals/")]
    cut = pd.Timestamp("2024-12-30")
    config = PlanningConfig.model_validate(demo_config.demo_planning_config())
    tree = planning.referral_hierarchy(config, weekly["unique_id"].unique())
    settings = ForecastSettings(
        horizon=52, n_jobs=2, hierarchy=tree, reconcile="bottom_up", sample_paths=PATHS
    )
    actual = fd._tree_actuals(weekly[weekly["ds"] >= cut], tree)
    return compare(
        "SYNTHETIC demo team and area totals, 2025", weekly[weekly["ds"] < cut], actual, settings
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--draws", type=int, default=30, help="synthetic histories per case")
    args = parser.parse_args()
    warnings.filterwarnings("ignore")
    rows = []
    for shared in (0.0, 0.5, 1.0):
        rows += synthetic(shared, args.draws)
    for origin in ("2015-12-01", "2016-12-01"):
        rows += dtoc(origin)
    rows += demo()
    print("| case | leaves' shocks | 80% coverage | band width / mean | interval score / mean |")
    print("|---|---|---|---|---|")
    for case, how, cover, width, score in rows:
        print(f"| {case} | {how} | {cover:.3f} | {width:.3f} | {score:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
