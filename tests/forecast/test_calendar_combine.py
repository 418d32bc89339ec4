"""Calendar adjustment and combinations of the best models."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.calendar import adjusted, month_factor, restored
from forecast.combine import add_combo, parse_combo
from forecast.models.base import Prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import SeriesData
from tests.forecast.conftest import seasonal_series


def test_daily_rate_series_forecast_exactly_with_calendar_adjustment() -> None:
    # 10 delayed days every day: monthly totals are 280..310, pure calendar effect
    ds = pd.date_range("2016-01-01", periods=48, freq="MS")
    history = pd.DataFrame({"unique_id": "d", "ds": ds, "y": 10.0 * ds.days_in_month})
    run = run_forecasts(history, ForecastSettings(horizon=12, models=("naive",)))
    fc = run.forecasts
    assert np.allclose(fc["mean"], 10.0 * fc["ds"].dt.days_in_month)
    plain = run_forecasts(
        history, ForecastSettings(horizon=12, models=("naive",), calendar_adjust=False)
    ).forecasts
    assert np.allclose(plain["mean"], 310.0)  # December's total repeated


def test_adjust_and_restore_round_trip() -> None:
    ds = pd.date_range("2020-01-01", periods=3, freq="MS")
    s = SeriesData("x", ds, np.array([31.0, 29.0, 31.0]), "MS")
    a = adjusted(s)
    assert np.allclose(a.y, 365.25 / 12)
    back = restored(Prediction(a.y, {"lo-80": a.y}), ds, "MS")
    assert np.allclose(back.mean, s.y) and np.allclose(back.quantiles["lo-80"], s.y)
    assert np.allclose(month_factor(ds, "W-MON"), 1.0)


def _pred(value: float) -> Prediction:
    v = np.full(2, value)
    return Prediction(v, {"lo-80": v - 1, "hi-80": v + 1})


def test_combo_averages_the_best_k_by_backtest() -> None:
    from forecast.backtest import Window

    win = Window(10, np.array([10.0, 10.0]), (1.0, 1.0))
    models = {
        name: ModelOutcome(name, (_pred(v),), _pred(v * 2))
        for name, v in {"a": 10.0, "b": 11.0, "c": 14.0}.items()
    }
    outcome = SeriesOutcome(
        "s", pd.date_range("2020-01-01", periods=2, freq="MS"), True, (win,), models
    )
    out = add_combo(outcome, "mean_best2", ["a", "b", "c"])
    combo = out.models["mean_best2"]
    assert np.allclose(combo.final.mean, 21.0)  # (20 + 22) / 2: c is excluded
    assert np.allclose(combo.folds[0].quantiles["hi-80"], 11.5)
    assert parse_combo("median_best3") == ("median", 3) and parse_combo("ets") is None


def test_combo_is_a_candidate_in_a_run() -> None:
    settings = ForecastSettings(horizon=3, models=("ses", "theta", "mean_best2"), backtest_folds=2)
    run = run_forecasts(seasonal_series(periods=48), settings)
    assert set(run.metrics["model"]) == {"ses", "theta", "mean_best2"}


def _three_fold_outcome() -> SeriesOutcome:
    """Three windows with actual 10. 'a' is perfect on window 0 only, which is what puts it in
    the in-sample best two; on the other windows 'c' beats it."""
    from forecast.backtest import Window

    wins = tuple(Window(10 + 2 * i, np.array([10.0, 10.0]), (1.0, 1.0)) for i in range(3))
    per_fold = {"a": (10.0, 15.0, 15.0), "b": (13.0, 13.0, 13.0), "c": (14.0, 14.0, 14.0)}
    models = {
        name: ModelOutcome(name, tuple(_pred(v) for v in values), _pred(values[-1]))
        for name, values in per_fold.items()
    }
    ds = pd.date_range("2020-01-01", periods=2, freq="MS")
    return SeriesOutcome("s", ds, True, wins, models)


def test_combo_is_scored_on_members_ranked_on_the_other_folds() -> None:
    out = add_combo(_three_fold_outcome(), "mean_best2", ["a", "b", "c"])
    combo = out.models["mean_best2"]
    # in sample: b (MASE 3) and a (3.33) on every fold, as for the final forecast
    assert [float(p.mean[0]) for p in combo.folds] == [11.5, 14.0, 14.0]
    assert np.allclose(combo.final.mean, 14.0)  # (13 + 15) / 2
    # held out: window 0 ranks on windows 1-2 (a 5, b 3, c 4), so b and c; windows 1 and 2
    # rank on windows that include a's perfect one (a 2.5, b 3, c 4), so a and b
    assert combo.held_out is not None
    assert [float(p.mean[0]) for p in combo.held_out] == [13.5, 14.0, 14.0]
    assert combo.scored is combo.held_out


def test_reported_combo_metrics_are_out_of_sample_and_selection_in_sample() -> None:
    from forecast.assemble import finish
    from forecast.intervals import Calibration

    outcome = add_combo(_three_fold_outcome(), "mean_best2", ["a", "b", "c"])
    settings = ForecastSettings(horizon=2, levels=(80,), models=("a", "b", "c", "mean_best2"))
    result = finish(outcome, Calibration({}, {}), {}, settings)
    rows = result.metrics.set_index("model")
    assert rows.loc["mean_best2", "mase"] == pytest.approx((3.5 + 4.0 + 4.0) / 3)
    assert rows.loc["mean_best2", "selection_mase"] == pytest.approx((1.5 + 4.0 + 4.0) / 3)
    assert rows.loc["a", "mase"] == rows.loc["a", "selection_mase"] == pytest.approx(10 / 3)
    # the choice is the in-sample one: b (3.0) beats the combination's 3.17 and a's 3.33
    assert result.chosen == "b"


def test_a_combos_metrics_name_the_members_its_forecast_combined() -> None:
    """The members are the in-sample best two (b, then a), which the final forecast averages,
    not window 0's held-out pair (b and c); a fitted model names none."""
    from forecast.assemble import finish
    from forecast.intervals import Calibration

    outcome = add_combo(_three_fold_outcome(), "mean_best2", ["a", "b", "c"])
    settings = ForecastSettings(horizon=2, levels=(80,), models=("a", "b", "c", "mean_best2"))
    metrics = finish(outcome, Calibration({}, {}), {}, settings).metrics
    members = dict(zip(metrics["model"], metrics["members"], strict=True))
    assert members == {"a": "", "b": "", "c": "", "mean_best2": "b;a"}
    assert list(metrics.columns)[-2:] == ["chosen", "members"]


def test_combo_with_one_scored_fold_has_nothing_to_hold_out() -> None:
    outcome = _three_fold_outcome()
    one = replace(
        outcome,
        windows=outcome.windows[:1],
        models={n: replace(m, folds=m.folds[:1]) for n, m in outcome.models.items()},
    )
    combo = add_combo(one, "mean_best2", ["a", "b", "c"]).models["mean_best2"]
    assert combo.held_out is None and combo.scored is combo.folds


@pytest.mark.parametrize("how", ["bottom_up", "wls_struct"])
def test_reconciled_nodes_carry_held_out_folds_that_add_up(how: str) -> None:
    """Reconciling a tree of combinations also reconciles their held-out folds (what the
    reported metrics are computed on), so those add up through the tree as well."""
    from forecast.combine import with_combos
    from forecast.parallel import map_series
    from forecast.reconcile_run import reconciled_outcomes
    from forecast.validate import split_history
    from tests.forecast.test_reconcile_run import TREE, _history

    models = ("ses", "theta", "damped", "mean_best2")  # three members to rank
    settings = ForecastSettings(horizon=6, models=models, hierarchy=TREE, reconcile=how)
    series = split_history(_history(how == "wls_struct"))
    outcomes = [with_combos(o, models) for o in map_series(series, settings, None)]
    chosen = {o.unique_id: "mean_best2" for o in outcomes}
    rec = {
        o.unique_id: next(iter(o.models.values()))
        for o in reconciled_outcomes(series, outcomes, chosen, settings)
    }
    held = {n: m.held_out for n, m in rec.items()}
    assert all(h is not None for h in held.values())
    moved = [
        not np.allclose(h.mean, f.mean)
        for n, m in rec.items()
        for h, f in zip(held[n] or (), m.folds, strict=True)
    ]
    assert any(moved)  # some fold's members differ when ranked on the other folds
    if how == "bottom_up":
        leaves = {o.unique_id: o.models["mean_best2"] for o in outcomes}
        parts = [leaves["a"].scored, leaves["b"].scored]
    else:
        parts = [held["a"] or (), held["b"] or ()]
    for k, north in enumerate(held["north"] or ()):
        assert np.allclose(
            north.mean, np.maximum(parts[0][k].mean, 0) + np.maximum(parts[1][k].mean, 0)
        )
