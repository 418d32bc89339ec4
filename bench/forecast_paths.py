"""Benchmark: a parent's sample paths against its own interval, English regions over authorities.

Run: .venv/bin/python bench/forecast_paths.py [--markdown] [--origins 2015-12 2016-12 2017-12]
Reads ../shared/data/dtoc-monthly/dtoc_la_monthly.csv in place (never copied into the repo).

With `--hierarchy`, a parent gets two descriptions of its uncertainty: its own calibrated
interval (`lo-80`, `hi-80` in the forecasts), and the spread of its sample paths, each the sum
of its leaves' paths drawn correlated as their backtest errors were. The two can differ by
region; this measures which has described the following year better. Each English region is a
parent of its local authorities (those with every month of history, the benchmark's Dorset,
Bournemouth and Poole codes left out), one metric at a time, with the CLI's defaults
(`wls_struct`, 3 folds) at a 12-month horizon from each origin, 500 paths. Nothing is chosen
on these figures.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import logging
import re
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import forecast_dtoc as dtoc  # the data's location and left-out codes

from forecast import ForecastSettings, run_forecasts

PATHS, HORIZON = 500, 12
ORIGINS = ("2015-12", "2016-12", "2017-12")
BANDS = {"p10": 0.1, "p90": 0.9, "p025": 0.025, "p975": 0.975}  # paths' 80% and 95% bands


def regions(metric: str) -> tuple[pd.DataFrame, dict[str, tuple[str, ...]]]:
    """Authorities (`la/<code>`) and their regions' sums (`r/<region>`) as one long frame, and
    the region -> authorities hierarchy."""
    raw = pd.read_csv(dtoc.DATA / "dtoc_la_monthly.csv", dtype={"la_code_legacy": str})
    la = raw[
        (raw["geography_type"] == "local_authority") & ~raw["la_code_legacy"].isin(dtoc.EXCLUDED)
    ].copy()
    la["ds"] = pd.to_datetime(la["month"] + "-01")
    la["leaf"] = "la/" + la["la_code_legacy"].str.lower()
    la["parent"] = "r/" + la["region"].str.lower().map(lambda s: re.sub(r"[^a-z0-9]+", "-", s))
    months = la.groupby("leaf")["ds"].nunique()
    la = la[la["leaf"].isin(months[months == months.max()].index)]
    leaves = la[["leaf", "ds", metric]].set_axis(["unique_id", "ds", "y"], axis=1)
    sums = la.groupby(["parent", "ds"], as_index=False)[metric].sum()
    frame = pd.concat([leaves, sums.set_axis(["unique_id", "ds", "y"], axis=1)])
    tree = {
        str(parent): tuple(sorted(set(group["leaf"]))) for parent, group in la.groupby("parent")
    }
    return frame.astype({"y": float}), tree


def interval_score(y: pd.Series, lo: pd.Series, hi: pd.Series, level: int) -> pd.Series:
    """Winkler's interval score: width plus 2/alpha times each miss (lower is better)."""
    penalty = 2.0 / (1.0 - level / 100.0)
    return (hi - lo) + penalty * ((lo - y).clip(lower=0) + (y - hi).clip(lower=0))


def score(origin: str, metric: str) -> tuple[dict[str, float], pd.Series]:
    """One origin and metric: parents' coverage and interval score, own interval against
    paths, and each region's width ratio (paths' 10-90% band over its own 80% interval)."""
    frame, tree = regions(metric)
    cut = pd.Timestamp(origin + "-01")
    end = cut + pd.DateOffset(months=HORIZON)
    settings = ForecastSettings(
        horizon=HORIZON,
        n_jobs=2,
        hierarchy=tree,
        reconcile="wls_struct",
        sample_paths=PATHS,
    )
    run = run_forecasts(frame[frame["ds"] <= cut], settings)
    assert run.sample_paths is not None
    grouped = run.sample_paths.groupby(["unique_id", "ds"])["y"]
    bands = pd.concat(
        {name: grouped.quantile(q) for name, q in BANDS.items()}, axis=1
    ).reset_index()
    actual = frame[(frame["ds"] > cut) & (frame["ds"] <= end)]
    m = run.forecasts.merge(actual, on=["unique_id", "ds"]).merge(bands, on=["unique_id", "ds"])
    m = m[m["unique_id"].isin(tree)]
    ratio = ((m["p90"] - m["p10"]) / (m["hi-80"] - m["lo-80"])).groupby(m["unique_id"]).median()
    row = {
        "own 80": _covers(m["y"], m["lo-80"], m["hi-80"]),
        "paths 80": _covers(m["y"], m["p10"], m["p90"]),
        "own 95": _covers(m["y"], m["lo-95"], m["hi-95"]),
        "paths 95": _covers(m["y"], m["p025"], m["p975"]),
        "IS80 paths / own": float(
            interval_score(m["y"], m["p10"], m["p90"], 80).mean()
            / interval_score(m["y"], m["lo-80"], m["hi-80"], 80).mean()
        ),
    }
    return row, ratio


def _covers(y: pd.Series, lo: pd.Series, hi: pd.Series) -> float:
    return float(((y >= lo) & (y <= hi)).mean())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print a markdown table")
    parser.add_argument("--origins", nargs="+", default=list(ORIGINS))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    rows, ratios = [], []
    for origin in args.origins:
        for metric in dtoc.METRICS:
            row, ratio = score(origin, metric)
            rows.append({"origin": origin, "metric": metric, **row})
            ratios.append(ratio.rename(f"{origin} {metric}"))
            print(f"{origin} {metric}: done", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    by_region = pd.concat(ratios, axis=1)
    summary = {
        "width ratio, median over regions and runs": float(np.nanmedian(by_region.to_numpy())),
        "width ratio, lowest": float(np.nanmin(by_region.to_numpy())),
        "width ratio, highest": float(np.nanmax(by_region.to_numpy())),
        "runs where the paths' interval score is lower": int((table["IS80 paths / own"] < 1).sum()),
        "runs": len(table),
    }
    if args.markdown:
        print(dtoc._markdown(table.round(3)))
        print()
        print(dtoc._markdown(by_region.round(2).reset_index(names="region")))
    else:
        print(table.round(3).to_string(index=False))
        print(by_region.round(2).to_string())
    for key, value in summary.items():
        print(f"{key}: {value:.3f}" if isinstance(value, float) else f"{key}: {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
