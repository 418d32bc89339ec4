"""Benchmark: Homeward against statistical peers on real DTOC data (fit to 2017, score 2018).

Run: .venv/bin/python bench/forecast_dtoc.py [--markdown]
     .venv/bin/python bench/forecast_dtoc.py --demo-weekly   (synthetic weekly referrals)
     .venv/bin/python bench/forecast_dtoc.py --demo-totals   (synthetic team and area totals)
Reads ../shared/data/dtoc-monthly/dtoc_la_monthly.csv in place (never copied into the repo).
"Homeward" is the engine's direct forecasts of days_total and days_social_care reconciled with
forecasts of days_nhs and days_both (days_total is their sum); "Homeward (direct, no
hierarchy)" is the direct run alone. The peers forecast the two scored metrics directly.
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
import warnings
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import cast

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forecast import RECOMMENDED_MODELS, ForecastSettings, reconcile_wls_struct, run_forecasts

DATA = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "dtoc-monthly"
METRICS = ("days_total", "days_social_care")
# days_total = days_nhs + days_social_care + days_both in every row of the data (checked in
# load); Homeward also forecasts the two other parts and reconciles each authority's tree.
PARTS = ("days_nhs", "days_social_care", "days_both")
HOMEWARD, DIRECT = "Homeward", "Homeward (direct, no hierarchy)"
INCOHERENT: set[str] = set()  # authorities whose days_total is not the sum of its parts (load)
EXCLUDED = ("809", "810", "811", "738")  # Dorset, Bournemouth, Poole: reorganised in 2019
CUTOFF, TEST_END = pd.Timestamp("2017-12-01"), pd.Timestamp("2018-12-01")
LEVELS = (80, 95)
Z = {80: 1.2815515655446004, 95: 1.959963984540054}


def load(metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """Long frame unique_id = '<metric>/<la_code_legacy>', monthly ds, y = delayed days."""
    raw = pd.read_csv(DATA / "dtoc_la_monthly.csv", dtype={"la_code_legacy": str})
    la = raw[(raw["geography_type"] == "local_authority") & ~raw["la_code_legacy"].isin(EXCLUDED)]
    parts = la[list(PARTS)].sum(axis=1)
    odd = la.loc[parts != la["days_total"], "la_code_legacy"].unique()
    INCOHERENT.update(str(c) for c in odd)
    if len(odd):  # later releases may differ: those authorities keep their direct forecasts
        print(f"days_total is not the sum of its parts for {len(odd)} authorities: {sorted(odd)}")
    frames = [
        pd.DataFrame(
            {
                "unique_id": metric + "/" + la["la_code_legacy"],
                "ds": pd.to_datetime(la["month"] + "-01"),
                "y": la[metric].astype(float),
            }
        )
        for metric in metrics
    ]
    return pd.concat(frames, ignore_index=True)


# ---- peers: each returns unique_id, ds, mean, lo-80, hi-80, lo-95, hi-95 -------------------


def seasonal_naive(train: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for uid, g in train.groupby("unique_id"):
        y = g.sort_values("ds")["y"].to_numpy()
        resid = y[12:] - y[:-12]
        sd = np.sqrt(np.mean(resid**2)) * np.ones(12)
        rows.append(_frame(str(uid), y[-12:], sd))
    return pd.concat(rows, ignore_index=True)


def _frame(uid: str, mean: np.ndarray, sd: np.ndarray) -> pd.DataFrame:
    ds = pd.date_range(CUTOFF + pd.DateOffset(months=1), periods=len(mean), freq="MS")
    out = pd.DataFrame({"unique_id": uid, "ds": ds, "mean": mean})
    for lv in LEVELS:
        out[f"lo-{lv}"], out[f"hi-{lv}"] = mean - Z[lv] * sd, mean + Z[lv] * sd
    return out


def _prophet_one(item: tuple[str, pd.DataFrame]) -> pd.DataFrame:
    uid, g = item
    for name in ("cmdstanpy", "prophet", "prophet.plot"):
        logging.getLogger(name).setLevel(logging.CRITICAL)
        logging.getLogger(name).addHandler(logging.NullHandler())
        logging.getLogger(name).propagate = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from prophet import Prophet

        model = Prophet()  # the analyst's default: 80% intervals
        model.fit(g[["ds", "y"]])
        future = model.make_future_dataframe(periods=12, freq="MS").tail(12)
        fc = model.predict(future)
    mean = fc["yhat"].to_numpy()
    sd = (fc["yhat_upper"].to_numpy() - fc["yhat_lower"].to_numpy()) / (2 * Z[80])
    return _frame(uid, mean, sd)  # 95% from the same sd (Prophet gives one width per fit)


def default_prophet(train: pd.DataFrame) -> pd.DataFrame:
    items = [(str(u), g.sort_values("ds")) for u, g in train.groupby("unique_id")]
    with ProcessPoolExecutor(2) as pool:
        return pd.concat(list(pool.map(_prophet_one, items, chunksize=8)), ignore_index=True)


def damped_ets(train: pd.DataFrame) -> pd.DataFrame:
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    rows = []
    for uid, g in train.groupby("unique_id"):
        y = pd.Series(g.sort_values("ds")["y"].to_numpy())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = ETSModel(
                y, error="add", trend="add", damped_trend=True, seasonal="add", seasonal_periods=12
            ).fit(disp=False)
            pred = res.get_prediction(start=len(y), end=len(y) + 11)
        sd = np.sqrt(np.maximum(np.asarray(pred.forecast_variance), 0))
        rows.append(_frame(str(uid), np.asarray(pred.predicted_mean), sd))
    return pd.concat(rows, ignore_index=True)


def statsforecast_trio(train: pd.DataFrame) -> dict[str, pd.DataFrame]:
    from statsforecast import StatsForecast
    from statsforecast.models import AutoARIMA, AutoETS, AutoTheta

    models = [AutoETS(season_length=12), AutoARIMA(season_length=12), AutoTheta(season_length=12)]
    sf = StatsForecast(models=models, freq="MS", n_jobs=-1)
    fc = sf.forecast(df=train, h=12, level=list(LEVELS)).reset_index(drop=False)
    out = {}
    for name in ("AutoETS", "AutoARIMA", "AutoTheta"):
        cols = {
            name: "mean",
            **{f"{name}-{s}-{lv}": f"{s}-{lv}" for s in ("lo", "hi") for lv in LEVELS},
        }
        out[f"sf {name}"] = fc[["unique_id", "ds", *cols]].rename(columns=cols)
    parts = [
        out[f"sf {n}"].set_index(["unique_id", "ds"]) for n in ("AutoETS", "AutoARIMA", "AutoTheta")
    ]
    out["sf mean(ETS,ARIMA,Theta)"] = ((parts[0] + parts[1] + parts[2]) / 3).reset_index()
    return out


def homeward(train: pd.DataFrame) -> pd.DataFrame:
    run = run_forecasts(train, ForecastSettings(horizon=12, n_jobs=2))
    return run.forecasts.drop(columns="model")


def homeward_reconciled(direct: pd.DataFrame, train_parts: pd.DataFrame) -> pd.DataFrame:
    """The other parts of days_total (NHS, both) forecast in a run of their own, so the direct
    forecasts are exactly those of the direct run; then each authority's days_total reconciled
    with its three parts (wls_struct). Returns the scored metrics' reconciled forecasts. An
    authority whose data do not add up, or with a part missing, keeps its direct forecasts."""
    run = run_forecasts(train_parts, ForecastSettings(horizon=12, n_jobs=2))
    parts = run.forecasts.drop(columns="model")
    nodes = pd.concat([direct, parts], ignore_index=True).assign(model="")
    codes = set(direct["unique_id"].str.partition("/")[2]) - INCOHERENT
    present = set(nodes["unique_id"])
    tree = {
        f"days_total/{c}": [f"{p}/{c}" for p in PARTS]
        for c in sorted(codes)
        if {f"days_total/{c}", *(f"{p}/{c}" for p in PARTS)} <= present
    }
    reconciled = reconcile_wls_struct(nodes, tree).drop(columns="model")
    scored = reconciled["unique_id"].isin(direct["unique_id"])
    return reconciled[scored].reset_index(drop=True)


# ---- scoring ----------------------------------------------------------------------------------


def score(fc: pd.DataFrame, train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    """Per series: MASE (in-sample seasonal naive scale), sMAPE, coverage of 80/95 intervals."""
    scale = train.sort_values("ds").groupby("unique_id")["y"].apply(_seasonal_naive_mae)
    merged = test.merge(fc, on=["unique_id", "ds"], how="left")
    err = (merged["y"] - merged["mean"]).abs()
    merged["ae"] = err
    merged["sape"] = 2 * err / (merged["y"].abs() + merged["mean"].abs()).replace(0, np.nan)
    merged["sape"] = merged["sape"].fillna(0.0)
    for lv in LEVELS:
        merged[f"in{lv}"] = (merged["y"] >= merged[f"lo-{lv}"]) & (
            merged["y"] <= merged[f"hi-{lv}"]
        )
    per = merged.groupby("unique_id").agg(
        mae=("ae", "mean"), smape=("sape", "mean"), cov80=("in80", "mean"), cov95=("in95", "mean")
    )
    per["mase"] = per["mae"] / scale.reindex(per.index).replace(0, np.nan)
    per["metric"] = per.index.str.split("/").str[0]
    return per


def _seasonal_naive_mae(y: pd.Series) -> float:
    values = y.to_numpy()
    return float(np.mean(np.abs(values[12:] - values[:-12])))


def summarise(scores: dict[str, pd.DataFrame], seconds: dict[str, float]) -> pd.DataFrame:
    rows = []
    for name, per in scores.items():
        for metric, g in per.groupby("metric"):
            rows.append(
                {
                    "metric": metric,
                    "method": name,
                    "mase_mean": g["mase"].mean(),
                    "mase_median": g["mase"].median(),
                    "smape_mean": g["smape"].mean(),
                    "smape_median": g["smape"].median(),
                    "cov80": g["cov80"].mean(),
                    "cov95": g["cov95"].mean(),
                    "wall_s": seconds[name],
                }
            )
    table = pd.DataFrame(rows)
    return pd.concat([_ratios(g) for _, g in table.groupby("metric")], ignore_index=True)


def _ratios(g: pd.DataFrame) -> pd.DataFrame:
    g = g.copy()
    snaive = g[g["method"] == "seasonal naive"].iloc[0]
    peers = g[~g["method"].str.startswith(HOMEWARD)]
    best = peers.loc[cast(int, peers["mase_mean"].idxmin())]
    g["mase_vs_snaive"] = g["mase_mean"] / snaive["mase_mean"]
    g["mase_vs_best_peer"] = g["mase_mean"] / best["mase_mean"]
    g["smape_vs_best_peer"] = g["smape_mean"] / best["smape_mean"]
    g["best_peer"] = best["method"]
    return g


def timed(
    fn: Callable[[pd.DataFrame], pd.DataFrame],
    train: pd.DataFrame,
) -> tuple[pd.DataFrame, float]:
    start = time.perf_counter()
    out = fn(train)
    return out, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--markdown", action="store_true", help="print markdown tables")
    parser.add_argument("--save", type=Path, help="also write every method's forecasts here")
    parser.add_argument("--rescore", type=Path, help="score forecasts saved by --save, no fits")
    parser.add_argument(
        "--cutoff",
        default="2017-12",
        help="last training month YYYY-MM; the next 12 are scored (default "
        "2017-12; earlier cutoffs are the development origins)",
    )
    parser.add_argument(
        "--demo-weekly",
        action="store_true",
        help="score weekly forecasts of the synthetic demo with and without pooled seasons",
    )
    parser.add_argument(
        "--demo-totals",
        action="store_true",
        help="score the synthetic demo's team and area totals' intervals on a 2025 holdout",
    )
    args = parser.parse_args()
    if args.demo_weekly:
        return demo_weekly()
    if args.demo_totals:
        return demo_totals()
    if not (DATA / "dtoc_la_monthly.csv").exists():
        print(f"skipped: {DATA} not found (the shared DTOC data sits beside the repository)")
        return 0
    logging.basicConfig(level=logging.ERROR)
    global CUTOFF, TEST_END
    CUTOFF = pd.Timestamp(args.cutoff + "-01")
    TEST_END = CUTOFF + pd.DateOffset(months=12)
    everything = load(METRICS + tuple(p for p in PARTS if p not in METRICS))
    data = everything[everything["unique_id"].str.partition("/")[0].isin(METRICS)]
    train, test = data[data["ds"] <= CUTOFF], data[(data["ds"] > CUTOFF) & (data["ds"] <= TEST_END)]
    if test.empty:
        last = data["ds"].max()
        print(f"nothing to score: the data end at {last:%Y-%m}, the cutoff is {CUTOFF:%Y-%m}")
        return 2
    extra = everything[~everything["unique_id"].isin(data["unique_id"])]
    train_parts = extra[extra["ds"] <= CUTOFF]
    print(
        f"{train['unique_id'].nunique()} series, train {train['ds'].min():%Y-%m} to "
        f"{CUTOFF:%Y-%m}, test {test['ds'].min():%Y-%m} to {TEST_END:%Y-%m}",
        flush=True,
    )
    if args.rescore:
        forecasts, seconds, trio_s = pd.read_pickle(args.rescore)
        return _finish(forecasts, seconds, trio_s, train, test, args.markdown)
    forecasts, seconds = {}, {}
    runs: list[tuple[str, Callable[[pd.DataFrame], pd.DataFrame]]] = [
        ("seasonal naive", seasonal_naive),
        ("Prophet (default)", default_prophet),
        ("statsmodels damped ETS", damped_ets),
        (DIRECT, homeward),
    ]
    for name, fn in runs:
        forecasts[name], seconds[name] = timed(fn, train)
        print(f"  {name}: {seconds[name]:.1f} s", flush=True)
    start = time.perf_counter()
    forecasts[HOMEWARD] = homeward_reconciled(forecasts[DIRECT], train_parts)
    seconds[HOMEWARD] = seconds[DIRECT] + time.perf_counter() - start
    print(
        f"  {HOMEWARD} (direct run plus the parts' run and reconciliation): "
        f"{seconds[HOMEWARD]:.1f} s",
        flush=True,
    )
    start = time.perf_counter()
    trio = statsforecast_trio(train)
    trio_s = time.perf_counter() - start
    print(f"  statsforecast AutoETS+AutoARIMA+AutoTheta: {trio_s:.1f} s", flush=True)
    for name, fc in trio.items():
        forecasts[name], seconds[name] = fc, trio_s
    if args.save:
        with open(args.save, "wb") as saved:  # read back by --rescore (pd.read_pickle)
            pickle.dump((forecasts, seconds, trio_s), saved)
    return _finish(forecasts, seconds, trio_s, train, test, args.markdown)


def demo_weekly() -> int:
    """Synthetic weekly referrals: backtest MASE of the chosen forecasts on the full history
    (52-week horizon, 3 folds) and a 2025 holdout (fit to 2024), without and with `pooled_*`."""
    from forecast.models.profile import bank_holidays
    from homeward.demo_series import generate_demo_observations

    obs = generate_demo_observations()
    weekly = obs[obs["unique_id"].str.startswith("referrals/")]
    cut = pd.Timestamp("2024-12-30")
    plain = tuple(m for m in RECOMMENDED_MODELS if not m.startswith("pooled_"))
    for label, models in (("without pooled", plain), ("with pooled (default)", RECOMMENDED_MODELS)):
        settings = ForecastSettings(horizon=52, n_jobs=2, models=models)
        run = run_forecasts(weekly, settings)
        chosen = run.metrics[run.metrics["chosen"]]
        fc = run.forecasts
        rel = fc["mean"] / fc.groupby("unique_id")["mean"].transform("mean")
        holiday = bank_holidays(pd.DatetimeIndex(fc["ds"])) > 0
        hold = run_forecasts(weekly[weekly["ds"] < cut], settings).forecasts
        merged = weekly[weekly["ds"] >= cut].merge(hold, on=["unique_id", "ds"])
        scale = weekly[weekly["ds"] < cut].groupby("unique_id")["y"].apply(_lag52_mae)
        mae = (merged["y"] - merged["mean"]).abs().groupby(merged["unique_id"]).mean()
        cover = ((merged["y"] >= merged["lo-80"]) & (merged["y"] <= merged["hi-80"])).mean()
        month = fc["ds"].dt.month
        shape = f"holiday weeks {rel[holiday].mean():.3f}, Nov {rel[month == 11].mean():.3f}, "
        shape += f"Aug {rel[month == 8].mean():.3f}"
        print(
            f"{label}: backtest MASE {chosen['mase'].mean():.3f}; 2025 holdout MASE "
            f"{(mae / scale).mean():.3f}, cover 80 {cover:.3f}; forecast / series mean: {shape}; "
            f"chosen {dict(Counter(run.chosen.values()))}",
            flush=True,
        )
    return 0


def demo_totals() -> int:
    """Synthetic weekly referrals: team and area totals (the demo config's teams) fitted to 2024
    and scored on the 2025 holdout: the run's own reconciled intervals against the districts'
    80% bounds added up, and against their half-widths added in quadrature (independence)."""
    from forecast import reconcile_bottom_up
    from homeward import demo_config, planning
    from homeward.demo_series import generate_demo_observations
    from optimise.config import PlanningConfig

    obs = generate_demo_observations()
    weekly = obs[obs["unique_id"].str.startswith("referrals/")]
    cut = pd.Timestamp("2024-12-30")
    config = PlanningConfig.model_validate(demo_config.demo_planning_config())
    tree = planning.referral_hierarchy(config, weekly["unique_id"].unique())
    settings = ForecastSettings(horizon=52, n_jobs=2, hierarchy=tree, reconcile="bottom_up")
    fc = run_forecasts(weekly[weekly["ds"] < cut], settings).forecasts
    districts = fc[~fc["unique_id"].isin(list(tree))]
    summed = reconcile_bottom_up(districts, tree)
    half = districts.assign(h=(districts["hi-80"] - districts["lo-80"]) / 2)
    quad = _quadrature(half, tree)
    actual = _tree_actuals(weekly[weekly["ds"] >= cut], tree)
    rows = []
    for label, frame in (
        ("reconciled in the run (default)", fc),
        ("districts' bounds added up", summed),
        ("half-widths in quadrature", quad),
    ):
        m = actual.merge(frame[frame["unique_id"].isin(list(tree))], on=["unique_id", "ds"])
        inside = (m["y"] >= m["lo-80"]) & (m["y"] <= m["hi-80"])
        width = ((m["hi-80"] - m["lo-80"]) / m["y"].abs().clip(lower=1)).mean()
        rows.append(f"  {label}: 2025 cover 80 {inside.mean():.3f}, width / actual {width:.3f}")
    print(f"{len(tree)} team and area totals of the SYNTHETIC demo, fit to 2024, 2025 holdout:")
    print("\n".join(rows))
    return 0


def _quadrature(half: pd.DataFrame, tree: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    """Each parent's 80% bounds with half-widths added in quadrature (independent errors)."""
    var = half.assign(v=half["h"] ** 2)[["unique_id", "ds", "mean", "v"]]
    for parent, children in tree.items():  # teams come before the area that holds them
        kids = var[var["unique_id"].isin(list(children))]
        total = kids.groupby("ds", as_index=False)[["mean", "v"]].sum()
        var = pd.concat([var, total.assign(unique_id=parent)], ignore_index=True)
    h = np.sqrt(var["v"])
    return var.assign(**{"lo-80": var["mean"] - h, "hi-80": var["mean"] + h})


def _tree_actuals(test: pd.DataFrame, tree: dict[str, tuple[str, ...]]) -> pd.DataFrame:
    frame = test[["unique_id", "ds", "y"]]
    for parent, children in tree.items():
        kids = frame[frame["unique_id"].isin(list(children))]
        total = kids.groupby("ds", as_index=False)["y"].sum().assign(unique_id=parent)
        frame = pd.concat([frame, total], ignore_index=True)
    return frame


def _lag52_mae(y: pd.Series) -> float:
    values = y.to_numpy()
    return float(np.mean(np.abs(values[52:] - values[:-52])))


def _finish(
    forecasts: dict[str, pd.DataFrame],
    seconds: dict[str, float],
    trio_s: float,
    train: pd.DataFrame,
    test: pd.DataFrame,
    markdown: bool,
) -> int:
    scores = {n: score(fc, train, test) for n, fc in forecasts.items()}
    table = summarise(scores, seconds)
    table["time_vs_trio"] = table["wall_s"] / trio_s
    report(table, markdown)
    return 0


def _markdown(frame: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(frame.columns) + " |", "|" + "---|" * len(frame.columns)]
    lines += ["| " + " | ".join(str(v) for v in row) + " |" for row in frame.itertuples(False)]
    return "\n".join(lines)


def report(table: pd.DataFrame, markdown: bool) -> None:
    cols = [
        "method",
        "mase_mean",
        "mase_median",
        "smape_mean",
        "smape_median",
        "cov80",
        "cov95",
        "wall_s",
        "mase_vs_snaive",
        "mase_vs_best_peer",
        "smape_vs_best_peer",
        "time_vs_trio",
    ]
    for metric, g in table.groupby("metric"):
        print(f"\n## {metric} (best peer: {g['best_peer'].iloc[0]})")
        shown = g[cols].round(3)
        print(_markdown(shown) if markdown else shown.to_string(index=False))
    home = table[table["method"] == HOMEWARD]
    print("\nTargets:")
    for _, row in home.iterrows():
        print(
            f"  {row['metric']}: MASE vs best peer {row['mase_vs_best_peer']:.3f} (target <= "
            f"0.95: {'met' if row['mase_vs_best_peer'] <= 0.95 else 'MISSED'}); 80% coverage "
            f"{row['cov80']:.3f} (target 0.75-0.85: "
            f"{'met' if 0.75 <= row['cov80'] <= 0.85 else 'MISSED'})"
        )
    ratio = home["time_vs_trio"].iloc[0]
    print(
        f"  wall time vs statsforecast trio {ratio:.2f}x (target <= 2: "
        f"{'met' if ratio <= 2 else 'MISSED'})"
    )


if __name__ == "__main__":
    raise SystemExit(main())
