"""Reconciling inside a run: coherent forecasts with their own calibrated intervals and metrics."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError, ForecastSettings, run_forecasts

MODELS = ("seasonal_naive", "ses", "theta")
TREE = {"north": ("a", "b"), "county": ("north", "c")}


def _history(parents: bool, periods: int = 72) -> pd.DataFrame:
    """Three districts with independent noise (so summed bounds are far too wide) and, when
    asked, the teams' and county's own records (the districts' sum plus recording noise)."""
    rng = np.random.default_rng(11)
    ds = pd.date_range("2019-01-01", periods=periods, freq="MS")
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(periods) / 12)
    kids = {
        k: base * season + rng.normal(0, 8, periods)
        for k, base in (("a", 120), ("b", 80), ("c", 60))
    }
    series = dict(kids)
    if parents:
        series["north"] = kids["a"] + kids["b"] + rng.normal(0, 4, periods)
        series["county"] = series["north"] + kids["c"] + rng.normal(0, 4, periods)
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in series.items()],
        ignore_index=True,
    )


def _run(parents: bool, how: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    settings = ForecastSettings(horizon=6, models=MODELS, hierarchy=TREE, reconcile=how)
    run = run_forecasts(_history(parents), settings)
    return run.forecasts.set_index(["unique_id", "ds"]), run.metrics


@pytest.mark.parametrize(("parents", "how"), [(False, "bottom_up"), (True, "wls_struct")])
def test_run_forecasts_add_up_at_every_level(parents: bool, how: str) -> None:
    fc, metrics = _run(parents, how)
    assert set(fc.index.get_level_values(0)) == {"a", "b", "c", "north", "county"}
    mean = fc["mean"]
    assert np.allclose(mean["north"], mean["a"] + mean["b"])
    assert np.allclose(mean["county"], mean["north"] + mean["c"])
    chosen = metrics[metrics["chosen"]].set_index("unique_id")
    assert len(chosen) == 5  # one chosen row per node, the reconciled one where reconciled
    suffix = "bottom_up" if how == "bottom_up" else "+wls_struct"
    reconciled = ["north", "county"] if how == "bottom_up" else ["a", "b", "c", "north", "county"]
    assert chosen.loc[reconciled, "model"].str.endswith(suffix).all()
    assert chosen.loc[reconciled, "coverage_80"].between(0.0, 1.0).all()
    assert (chosen.loc[reconciled, "folds"] == 3).all()


def test_bottom_up_intervals_are_calibrated_not_summed() -> None:
    """Eight districts with independent errors: the county's 80% interval, calibrated on its own
    reconciled backtest, is far narrower than the sum of the districts' bounds (which assumes
    their errors always move together); its backtest coverage is recorded with it."""
    rng = np.random.default_rng(4)
    ds = pd.date_range("2019-01-01", periods=72, freq="MS")
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(72) / 12)
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": f"d{i}", "ds": ds, "y": 80 * season + rng.normal(0, 8, 72)})
            for i in range(8)
        ],
        ignore_index=True,
    )
    tree = {"county": tuple(f"d{i}" for i in range(8))}
    run = run_forecasts(history, ForecastSettings(horizon=6, models=MODELS, hierarchy=tree))
    fc = run.forecasts.set_index(["unique_id", "ds"])
    width = (fc["hi-80"] - fc["lo-80"]).unstack(0)
    districts = width.drop(columns="county")
    assert (width["county"] < 0.6 * districts.sum(axis=1)).all()
    county = run.metrics[run.metrics["chosen"]].set_index("unique_id").loc["county"]
    assert county["model"] == "bottom_up" and 0.5 <= county["coverage_80"] <= 1.0


def test_hierarchy_problems_are_named_before_fitting() -> None:
    history = _history(False)
    wls = ForecastSettings(horizon=6, models=MODELS, hierarchy=TREE, reconcile="wls_struct")
    with pytest.raises(ForecastInputError, match="series 'county' expected in the history"):
        run_forecasts(history, wls)
    odd = ForecastSettings(horizon=6, models=MODELS, hierarchy=TREE, reconcile="mint")
    with pytest.raises(ForecastInputError, match="reconcile: expected one of"):
        run_forecasts(history, odd)
    short = history[~((history["unique_id"] == "c") & (history["ds"] >= "2024-10-01"))]
    bottom_up = ForecastSettings(horizon=6, models=MODELS, hierarchy=TREE)
    with pytest.raises(ForecastInputError, match="end on the same date"):
        run_forecasts(short, bottom_up)
