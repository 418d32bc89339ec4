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


def test_hierarchy_problems_are_named_before_fitting(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fitting(*_args: object) -> None:
        raise AssertionError("fitting started before the hierarchy was checked")

    monkeypatch.setattr("forecast.engine.map_series", no_fitting)
    history = _history(False)
    short = history[~((history["unique_id"] == "c") & (history["ds"] >= "2024-10-01"))]
    new = history[~((history["unique_id"] == "c") & (history["ds"] < "2023-06-01"))]
    cases = [
        (TREE, "wls_struct", history, "series 'county' expected in the history"),
        (TREE, "mint", history, "reconcile: expected one of"),
        (TREE, "bottom_up", short, "found 'c' ends 2024-09-01 where the others end 2024-12-01"),
        (
            TREE,
            "bottom_up",
            new,
            "found 'c' has 1 backtest fold 5 ahead from 19 periods where the others have 3 "
            "backtest folds 6 ahead",
        ),
        ({"p": ("q", "a"), "q": ("p", "b")}, "bottom_up", history, "expected no cycles"),
        ({"p": ("a", "b"), "q": ("b", "c")}, "bottom_up", history, "found 'b' under two"),
        ({"p": ()}, "bottom_up", history, "expected children for 'p'"),
    ]
    for tree, how, frame, message in cases:
        settings = ForecastSettings(horizon=6, models=MODELS, hierarchy=tree, reconcile=how)
        with pytest.raises(ForecastInputError, match=message):
            run_forecasts(frame, settings)


def test_parents_add_up_to_the_children_as_written_when_a_child_is_floored_at_zero() -> None:
    ds = pd.date_range("2019-01-01", periods=48, freq="MS")
    falling = np.maximum(0.0, 60.0 - 1.5 * np.arange(48))  # reaches zero; Holt goes below it
    steady = 50.0 + np.random.default_rng(2).normal(0, 3, 48)
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": "z", "ds": ds, "y": falling}),
            pd.DataFrame({"unique_id": "a", "ds": ds, "y": steady}),
        ],
        ignore_index=True,
    )
    settings = ForecastSettings(horizon=12, models=("holt",), hierarchy={"p": ("a", "z")})
    mean = run_forecasts(history, settings).forecasts.set_index(["unique_id", "ds"])["mean"]
    assert (mean["z"] >= 0).all()
    assert np.allclose(mean["p"], mean["a"] + mean["z"])


def test_wls_struct_holds_a_constant_child_fixed() -> None:
    """A constant child has no spread to move within: it keeps its value (and a real interval
    is not faked); the others absorb the parent's difference, still adding up."""
    history = _history(True)
    history.loc[history["unique_id"] == "c", "y"] = 5.0
    history.loc[history["unique_id"] == "county", "y"] += 5.0 - 60.0  # roughly consistent
    settings = ForecastSettings(horizon=6, models=MODELS, hierarchy=TREE, reconcile="wls_struct")
    fc = run_forecasts(history, settings).forecasts.set_index(["unique_id", "ds"])
    assert np.allclose(fc.loc["c", "mean"], 5.0, atol=1e-6)
    assert np.allclose(fc.loc["county", "mean"], fc.loc["north", "mean"] + fc.loc["c", "mean"])


def test_a_parent_far_from_its_leaves_sum_is_refused_before_fitting() -> None:
    """'north' is a + b; a hierarchy file that forgets b would make a carry b's level (the
    forecasting review measured a child inflated by 85%). Recording noise (4 in 200) passes."""
    forgot_b = {"north": ("a",), "county": ("north", "c")}
    settings = ForecastSettings(
        horizon=6, models=MODELS, hierarchy=forgot_b, reconcile="wls_struct"
    )
    history = _history(parents=True)
    history = history[history["unique_id"] != "b"]
    with pytest.raises(ForecastInputError, match="expected 'north' to be the sum") as refused:
        run_forecasts(history, settings)
    assert refused.value.series_id == "north"
    assert "above their sum over 72 periods" in str(refused.value)
    bottom_up = ForecastSettings(horizon=6, models=MODELS, hierarchy=forgot_b)
    run_forecasts(history[~history["unique_id"].isin(["north", "county"])], bottom_up)
    # bottom_up with the parents' own records given: the same refusal, not a 'north' that is
    # silently a alone (the analyst review's region forecast at half its level)
    with pytest.raises(ForecastInputError, match="expected 'north' to be the sum"):
        run_forecasts(history, bottom_up)


def test_a_parent_a_little_above_its_leaves_sum_is_said_not_spread_in_silence(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A region 11% above its councils' sum (one council, 8% of it, left out) was reconciled
    without a word, adding the gap to every other council's forecast. Within the refusal's
    20%, it is now a warning naming the parent; recording noise (4 in 200) says nothing."""
    history = _history(parents=True)
    settings = ForecastSettings(horizon=6, models=("ses",), hierarchy=TREE, reconcile="wls_struct")
    with caplog.at_level("WARNING", logger="forecast"):
        run_forecasts(history, settings)
    assert not [r for r in caplog.records if "sum of its leaves" in r.getMessage()]
    north = history["unique_id"] == "north"
    history.loc[north, "y"] *= 1.11
    history.loc[history["unique_id"] == "county", "y"] += (
        history.loc[north, "y"].to_numpy() / 1.11 * 0.11
    )
    with caplog.at_level("WARNING", logger="forecast"):
        run_forecasts(history, settings)
    # the county too is above its leaves' sum (a, b and c): each parent is named
    said, county = [r.getMessage() for r in caplog.records if "sum of its leaves" in r.getMessage()]
    assert "expected 'county' to be the sum of its leaves ['a', 'b', 'c']" in county
    assert said.startswith("hierarchy: expected 'north' to be the sum of its leaves ['a', 'b']")
    assert "found its history 11% above their sum over 72 periods" in said


def test_wls_struct_adds_up_exactly_when_it_pushes_a_small_leaf_below_zero() -> None:
    """A county recorded 8% under its two teams' sum (accepted, with a warning): reconciling
    shares the difference between the teams, which moves the tiny one (0s and 1s) below zero.
    Floored there alone, its parent no longer added up (county 93.7 where north alone was 95.2);
    the parent is its floored leaves' sum."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2019-01-07", periods=156, freq="W-MON")
    north = np.round(100 + 10 * np.sin(np.arange(156) * 2 * np.pi / 52) + rng.normal(0, 8, 156))
    south = rng.poisson(0.4, 156).astype(float)
    series = {"north": north, "south": south, "county": np.round(0.92 * (north + south))}
    history = pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in series.items()],
        ignore_index=True,
    )
    tree = {"county": ("north", "south")}
    settings = ForecastSettings(horizon=12, models=("ses",), hierarchy=tree, reconcile="wls_struct")
    fc = run_forecasts(history, settings).forecasts.set_index(["unique_id", "ds"])
    assert (fc.loc["south", "mean"] == 0.0).all()  # the case: reconciled below zero, floored
    assert (fc.loc["county", "mean"] == fc.loc["north", "mean"] + fc.loc["south", "mean"]).all()
    assert (fc.loc["county", "hi-80"] >= fc.loc["county", "mean"]).all()
