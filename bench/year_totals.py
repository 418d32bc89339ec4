"""Do the low and high years a plan is stress-tested against hold on real data?

A plan's demand risk (optimise/risk.py) scales each series' demand by one plus the 10% and 90%
quantiles of how far its forecasts' totals over backtest windows missed (forecast/totals.py),
pooled over a run's series. If those quantiles are honest, about 80% of next years' totals fall
between them. This fits the engine (its default settings) to every English local authority's
DTOC history up to each development origin and scores the next 12 months' totals:

    .venv/bin/python bench/year_totals.py                    # origins 2014-12, 2015-12, 2016-12
    .venv/bin/python bench/year_totals.py --origins 2016-12  # one origin

For comparison it also scores the naive alternative the risk rows replaced: every month at the
top (or bottom) of its own 80% interval, i.e. the sum of the 12 monthly bounds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forecast_dtoc import load

from forecast.engine import run_forecasts
from forecast.settings import ForecastSettings
from forecast.totals import HIGH, LOW

ORIGINS = ("2014-12", "2015-12", "2016-12")


def score(origin: str) -> dict[str, float]:
    """Fit to `origin`, then the share of next-12-month totals inside the measured bounds and
    inside the summed monthly 80% bounds, with the bounds' mean widths (fractions of the
    forecast total)."""
    data = load()
    cutoff = pd.Timestamp(origin + "-01")
    end = cutoff + pd.DateOffset(months=12)
    train = data[data["ds"] <= cutoff]
    test = data[(data["ds"] > cutoff) & (data["ds"] <= end)]
    started = time.perf_counter()
    run = run_forecasts(train, ForecastSettings(horizon=12, n_jobs=2))
    seconds = time.perf_counter() - started
    chosen = run.metrics[run.metrics["chosen"]].set_index("unique_id")[[LOW, HIGH]]
    fc = run.forecasts.merge(test, on=["unique_id", "ds"], how="inner")
    totals = fc.groupby("unique_id")[["y", "mean", "lo-80", "hi-80"]].sum()
    months = fc.groupby("unique_id")["y"].size()
    totals = totals[(months == 12) & (totals["mean"] > 0)].join(chosen)
    miss = totals["y"] / totals["mean"] - 1.0
    inside = (miss >= totals[LOW]) & (miss <= totals[HIGH])
    summed = (totals["y"] >= totals["lo-80"]) & (totals["y"] <= totals["hi-80"])
    return {
        "series": float(len(totals)),
        "covered": float(inside.mean()),
        "below": float((miss < totals[LOW]).mean()),
        "above": float((miss > totals[HIGH]).mean()),
        "width": float((totals[HIGH] - totals[LOW]).mean()),
        "width_median": float((totals[HIGH] - totals[LOW]).median()),
        "summed_covered": float(summed.mean()),
        "summed_width": float(((totals["hi-80"] - totals["lo-80"]) / totals["mean"]).mean()),
        "low": float(totals[LOW].median()),
        "high": float(totals[HIGH].median()),
        "seconds": seconds,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origins", nargs="+", default=list(ORIGINS))
    args = parser.parse_args()
    rows = {origin: score(origin) for origin in args.origins}
    table = pd.DataFrame(rows).T
    print(
        "share of next-12-month totals inside the measured low/high bounds (covered; target "
        "about 0.80), and inside the sum of the 12 monthly 80% bounds (summed_covered); widths "
        "as fractions of the forecast total"
    )
    print(table.to_string(float_format=lambda v: f"{v:.3f}"))
    print(f"mean coverage {np.mean(table['covered']):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
