"""The output column contract, input immutability and input errors of run_forecasts."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast import ForecastInputError, ForecastRun, ForecastSettings, run_forecasts
from tests.forecast.conftest import seasonal_series

FAST = ForecastSettings(horizon=6, models=("seasonal_naive", "naive"), backtest_folds=2)


@pytest.fixture(scope="module")
def run_and_history() -> tuple[ForecastRun, pd.DataFrame]:
    history = pd.concat([seasonal_series("a"), seasonal_series("b", seed=1)])
    before = history.copy()
    run = run_forecasts(history, FAST)
    pd.testing.assert_frame_equal(history, before)  # the input is never changed
    return run, history


def test_forecast_columns_and_rows(run_and_history: tuple[ForecastRun, pd.DataFrame]) -> None:
    fc = run_and_history[0].forecasts
    assert list(fc.columns) == [
        "unique_id",
        "ds",
        "model",
        "mean",
        "lo-80",
        "hi-80",
        "lo-95",
        "hi-95",
    ]
    assert fc.groupby("unique_id").size().to_dict() == {"a": 6, "b": 6}
    assert fc["ds"].min() == pd.Timestamp("2020-01-01")
    assert ((fc["lo-95"] <= fc["lo-80"]) & (fc["lo-80"] <= fc["mean"])).all()
    assert ((fc["mean"] <= fc["hi-80"]) & (fc["hi-80"] <= fc["hi-95"])).all()


METRICS_COLUMNS = [
    "unique_id",
    "model",
    "mase",
    "smape",
    "rmsse",
    "pinball",
    "coverage_80",
    "coverage_95",
    "folds",
    "selection_mase",
    "total_error_q10",
    "total_error_q90",
    "chosen",
    "members",
]


def test_metrics_columns_and_choice(run_and_history: tuple[ForecastRun, pd.DataFrame]) -> None:
    run = run_and_history[0]
    assert list(run.metrics.columns) == METRICS_COLUMNS
    assert len(run.metrics) == 4
    chosen_rows = run.metrics[run.metrics["chosen"]]
    assert dict(zip(chosen_rows["unique_id"], chosen_rows["model"], strict=True)) == run.chosen
    # a strongly seasonal series: seasonal naive must beat naive in backtest
    assert run.chosen == {"a": "seasonal_naive", "b": "seasonal_naive"}
    assert (run.forecasts["model"] == "seasonal_naive").all()
    assert list(run.fallbacks.columns) == ["unique_id", "model", "reason", "kind"]
    assert run.sample_paths is None


def test_metrics_keep_their_columns_when_no_series_could_be_backtested() -> None:
    """10 months, 12 ahead: no fold of any length fits, so nothing is measured; a dashboard
    still finds every column, empty, and each model's row says 0 folds."""
    ds = pd.date_range("2024-01-01", periods=10, freq="MS")
    history = pd.DataFrame(
        {"unique_id": "a", "ds": ds, "y": [float(10 + i % 3) for i in range(10)]}
    )
    run = run_forecasts(history, ForecastSettings(horizon=12, models=("naive", "ses")))
    assert list(run.metrics.columns) == METRICS_COLUMNS
    assert run.metrics["mase"].isna().all() and (run.metrics["folds"] == 0).all()
    assert run.metrics["chosen"].sum() == 1


def test_weekly_series_get_weekly_forecasts() -> None:
    history = seasonal_series("w", periods=120, freq="W-MON")
    run = run_forecasts(history, FAST)
    gaps = run.forecasts["ds"].diff().dropna()
    assert (gaps == pd.Timedelta(days=7)).all()
    assert (run.forecasts["ds"].dt.dayofweek == 0).all()


@pytest.mark.parametrize(
    ("mutate", "words"),
    [
        (lambda f: f.drop(columns="y"), ["'y'"]),
        (lambda f: f.assign(ds="not a date"), ["'a'", "'ds'", "expected a date"]),
        (lambda f: f.assign(y="x"), ["'a'", "'y'", "finite number"]),
        (lambda f: pd.concat([f, f.tail(1)]), ["'a'", "'ds'", "one row per period"]),
        (lambda f: f.assign(ds=f["ds"] + pd.Timedelta(days=2)), ["'a'", "'ds'", "W-MON"]),
        (lambda f: f.iloc[0:0], ["at least one row"]),
        (lambda f: f.assign(y=float("nan")), ["'a'", "'y'", "at least one observed value"]),
    ],
)
def test_bad_input_names_series_column_and_expectation(mutate, words) -> None:  # type: ignore[no-untyped-def]
    history = mutate(seasonal_series("a", periods=24))
    with pytest.raises(ForecastInputError) as err:
        run_forecasts(history, FAST)
    for word in words:
        assert word in str(err.value)


def test_unknown_model_and_bad_settings_are_rejected() -> None:
    with pytest.raises(ForecastInputError, match="models"):
        run_forecasts(seasonal_series(), ForecastSettings(horizon=3, models=("magic",)))
    with pytest.raises(ForecastInputError, match="horizon"):
        ForecastSettings(horizon=0)


def test_models_that_cannot_run_on_the_series_are_refused_not_replaced_by_naive() -> None:
    """Combinations alone have nothing to combine; pooled models need weekly siblings. Both
    used to fall back to naive with exit 0."""
    with pytest.raises(ForecastInputError, match="only combinations"):
        run_forecasts(seasonal_series(), ForecastSettings(horizon=3, models=("mean_best2",)))
    with pytest.raises(ForecastInputError, match="fits 'a' on its own") as refused:
        run_forecasts(seasonal_series("a"), ForecastSettings(horizon=3, models=("pooled_ses",)))
    assert refused.value.series_id == "a"
    mixed = ForecastSettings(horizon=3, models=("pooled_ses", "ses", "mean_best2"))
    assert run_forecasts(seasonal_series("a"), mixed).chosen["a"] in {"ses", "mean_best2"}


def test_sample_paths_shape_and_reproducibility() -> None:
    settings = ForecastSettings(horizon=4, models=("seasonal_naive",), sample_paths=50, seed=3)
    first = run_forecasts(seasonal_series("a"), settings).sample_paths
    second = run_forecasts(seasonal_series("a"), settings).sample_paths
    assert first is not None and second is not None
    assert list(first.columns) == ["unique_id", "ds", "path", "y"]
    assert len(first) == 200 and first["path"].nunique() == 50
    pd.testing.assert_frame_equal(first, second)


def test_mixed_frequencies_in_one_run() -> None:
    history = pd.concat(
        [seasonal_series("m", periods=40), seasonal_series("w", periods=120, freq="W-MON")]
    )
    run = run_forecasts(history, FAST)
    fc = run.forecasts.set_index("unique_id")
    assert (fc.loc["m", "ds"].dt.day == 1).all()
    assert (fc.loc["w", "ds"].dt.dayofweek == 0).all()
    assert fc.loc["w", "ds"].diff().dropna().eq(pd.Timedelta(days=7)).all()
