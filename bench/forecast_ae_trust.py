"""Benchmark: Homeward against the DTOC benchmark's peers on short histories and a winter horizon.

Run: .venv/bin/python bench/forecast_ae_trust.py [--markdown]
Reads ../shared/data/nhsr-ae-trust/ae_attendances_trust_monthly_2016_2019.csv in place (never
copied into the repository): NHS England A&E attendances and emergency admissions via A&E per
trust, monthly 2016-04 to 2019-03 (NHSRdatasets, see its PROVENANCE.md). Series: each trust's
type 1 (major) A&E `attendances` and `admissions`, kept when every month of 2016-04..2019-03 is
present and the series is not all zero. Every method is fitted on 2016-04..2018-09 (30 months,
what a council with two and a half years of data has) and scored on the winter 2018-10..2019-03.
The peers and the scoring are bench/forecast_dtoc.py's; Homeward is the engine with default
settings at a 6-month horizon (so its default 3 backtest folds are 6 months apart).
"""

from __future__ import annotations

import os

# Before numpy loads: the peers' fits use tiny matrices and BLAS threads oversubscribe 2 cores.
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import argparse
import logging
import pickle
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import forecast_dtoc as dtoc  # the peers, scoring and report, used as they are

from forecast import ForecastRun, ForecastSettings, run_forecasts

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "nhsr-ae-trust"
FILE = "ae_attendances_trust_monthly_2016_2019.csv"
METRICS = ("attendances", "admissions")
FIRST, LAST = pd.Timestamp("2016-04-01"), pd.Timestamp("2019-03-01")
CUTOFF = pd.Timestamp("2018-09-01")  # last training month: 30 months of history
HORIZON = 6  # 2018-10 .. 2019-03


def load() -> tuple[pd.DataFrame, list[str]]:
    """Long frame unique_id = '<metric>/<org_code>' (type 1 departments), monthly ds, y; and one
    line per dropped series saying why."""
    raw = pd.read_csv(DATA / FILE, dtype={"type": str, "org_code": str})
    type1 = raw[raw["type"] == "1"]
    months = pd.date_range(FIRST, LAST, freq="MS")
    kept, dropped = [], []
    for metric in METRICS:
        frame = pd.DataFrame(
            {
                "unique_id": metric + "/" + type1["org_code"],
                "ds": pd.to_datetime(type1["period"] + "-01"),
                "y": type1[metric].astype(float),
            }
        )
        for uid, g in frame.groupby("unique_id"):
            g = g[(g["ds"] >= FIRST) & (g["ds"] <= LAST)].dropna(subset=["y"])
            missing = len(months.difference(pd.DatetimeIndex(g["ds"])))
            if g["ds"].duplicated().any():
                dropped.append(f"{uid}: duplicate months")
            elif missing:
                dropped.append(f"{uid}: {missing} of {len(months)} months missing")
            elif (g["y"] == 0).all():
                dropped.append(f"{uid}: all zero")
            else:
                kept.append(g.sort_values("ds"))
    return pd.concat(kept, ignore_index=True), dropped


class _Collect(logging.Handler):
    """Keeps the engine's warnings logged in this process (fallbacks are also in the run)."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record.getMessage())


RUNS: list[ForecastRun] = []


def homeward(train: pd.DataFrame) -> pd.DataFrame:
    """The engine as bench/forecast_dtoc.py's homeward() runs it (defaults, n_jobs=2), at this
    benchmark's horizon: that function fixes horizon=12, which here would also set 12-month
    backtest folds, so it is not reused as is."""
    run = run_forecasts(train, ForecastSettings(horizon=HORIZON, n_jobs=2))
    RUNS.append(run)
    return run.forecasts.drop(columns="model")


def _check_complete(name: str, fc: pd.DataFrame, test: pd.DataFrame) -> None:
    """Every test month of every series has a finite forecast and bounds (a peer that wrote
    wrong dates, or a model that failed, would otherwise be scored on what is left)."""
    merged = test.merge(fc, on=["unique_id", "ds"], how="left")
    cols = ["mean"] + [f"{s}-{lv}" for s in ("lo", "hi") for lv in dtoc.LEVELS]
    bad = merged[cols].isna().any(axis=1)
    if bad.any():
        raise SystemExit(f"{name}: {int(bad.sum())} of {len(merged)} test rows lack forecasts")


def engine_notes(run: ForecastRun, logged: list[str]) -> list[str]:
    """What the engine chose, its backtest folds, fallbacks and warnings, as report lines."""
    lines = []
    metric = pd.Series(list(run.chosen)).str.partition("/")[0]
    for m in METRICS:
        ids = [uid for uid, k in zip(run.chosen, metric, strict=True) if k == m]
        counts = Counter(run.chosen[uid] for uid in ids).most_common()
        lines.append(f"  {m}: chosen " + ", ".join(f"{n} {c}" for n, c in counts))
    chosen = run.metrics[run.metrics["chosen"]]
    folds = Counter(chosen["folds"].astype(int)).most_common()
    lines.append("  backtest folds per series (chosen model): " + str(dict(folds)))
    lines.append(f"  fallbacks recorded in the run: {len(run.fallbacks)}")
    if len(run.fallbacks):
        reasons = Counter(
            (str(r.model), str(r.reason)) for r in run.fallbacks.itertuples(index=False)
        )
        for (model, reason), n in reasons.most_common(10):
            lines.append(f"    {n} x {model}: {reason}")
    lines.append(f"  warnings logged by the engine in this process: {len(logged)}")
    lines.extend(f"    {text}" for text, _ in Counter(logged).most_common(5))
    shifts = run.level_shifts
    lines.append(
        f"  level shifts detected: {len(shifts)} in {shifts['unique_id'].nunique()} series"
    )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--save", type=Path, help="also pickle the forecasts and the run here")
    args = parser.parse_args()
    if not (DATA / FILE).exists():
        print(f"skipped: {DATA / FILE} not found (the shared data sit beside the repository)")
        return 0
    logging.basicConfig(level=logging.ERROR)
    collect = _Collect()
    logging.getLogger("forecast").addHandler(collect)
    dtoc.CUTOFF = CUTOFF  # the peers date their forecasts from dtoc.CUTOFF (_frame)
    data, dropped = load()
    train, test = data[data["ds"] <= CUTOFF], data[data["ds"] > CUTOFF]
    per_metric = data.drop_duplicates("unique_id")["unique_id"].str.partition("/")[0]
    print(
        f"{data['unique_id'].nunique()} series kept ({dict(Counter(per_metric))}), "
        f"{len(dropped)} dropped; train {train['ds'].min():%Y-%m} to {CUTOFF:%Y-%m} "
        f"({train.groupby('unique_id').size().max()} months), test {test['ds'].min():%Y-%m} to "
        f"{test['ds'].max():%Y-%m}",
        flush=True,
    )
    for line in Counter(d.partition(": ")[2] for d in dropped).most_common():
        print(f"  dropped {line[1]} series: {line[0]}")
    forecasts, seconds = {}, {}
    runs: list[tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = [
        ("seasonal naive", dtoc.seasonal_naive),
        ("Prophet (default)", dtoc.default_prophet),
        ("statsmodels damped ETS", dtoc.damped_ets),
        (dtoc.HOMEWARD, homeward),
    ]
    for name, fn in runs:  # the peers forecast 12 months (fixed there); the first 6 are scored
        forecasts[name], seconds[name] = dtoc.timed(fn, train)
        print(f"  {name}: {seconds[name]:.1f} s", flush=True)
    start = time.perf_counter()
    trio = dtoc.statsforecast_trio(train)
    trio_s = time.perf_counter() - start
    print(f"  statsforecast AutoETS+AutoARIMA+AutoTheta: {trio_s:.1f} s", flush=True)
    for name, fc in trio.items():
        forecasts[name], seconds[name] = fc, trio_s
    for name, fc in forecasts.items():
        _check_complete(name, fc, test)
    if args.save:
        args.save.write_bytes(pickle.dumps((forecasts, seconds, trio_s, RUNS[-1])))
    scores = {n: dtoc.score(fc, train, test) for n, fc in forecasts.items()}
    table = dtoc.summarise(scores, seconds)
    table["time_vs_trio"] = table["wall_s"] / trio_s
    dtoc.report(table, args.markdown)
    print("\nHomeward's engine on these series (default settings, horizon 6):")
    print("\n".join(engine_notes(RUNS[-1], collect.records)))
    lengths = train.groupby("unique_id").size()
    short = int((lengths < 3 * 12).sum())
    print(
        f"  histories shorter than three years (the fast models' seasonality test, "
        f"forecast/models/seasonality.py, needs 36 months): {short} of {len(lengths)}"
    )
    print("  MASE by Homeward's choice, against the best peer on the same series:")
    for metric, g in table.groupby("metric"):
        best = str(g["best_peer"].iloc[0])
        home, peer = scores[dtoc.HOMEWARD], scores[best]
        home = home[home["metric"] == metric]
        chosen = home.index.map(RUNS[-1].chosen)
        for name, rows in home.groupby(chosen):
            print(
                f"    {metric}, {name} ({len(rows)} series): Homeward {rows['mase'].mean():.3f}, "
                f"{best} {peer.loc[rows.index, 'mase'].mean():.3f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
