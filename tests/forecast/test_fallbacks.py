"""Series a model cannot fit: too short, constant, all zeros, gappy; never silent."""

from __future__ import annotations

import logging

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError, ForecastSettings, run_forecasts
from tests.forecast.conftest import seasonal_series

SETTINGS = ForecastSettings(horizon=6, models=("seasonal_naive", "ets"), backtest_folds=2)


def _frame(uid: str, values: list[float], start: str = "2018-01-01") -> pd.DataFrame:
    ds = pd.date_range(start, periods=len(values), freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": values})


def test_too_short_series_falls_back_and_says_so(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="forecast"):
        run = run_forecasts(_frame("short", [5.0, 7.0, 6.0]), SETTINGS)
    reasons = run.fallbacks.set_index("model")["reason"]
    assert "needs more than one season" in reasons["seasonal_naive"]
    assert "too short for any backtest" in reasons["backtest"]
    kinds = run.fallbacks.set_index("model")["kind"]
    assert kinds["seasonal_naive"] == "too_short" and kinds["backtest"] == "short_backtest"
    assert run.chosen["short"] not in ("seasonal_naive",)
    assert np.isfinite(run.forecasts[["mean", "lo-95", "hi-95"]].to_numpy()).all()
    assert any("short" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("value", [0.0, 42.0])
def test_constant_and_all_zero_series_forecast_the_constant(
    value: float, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="forecast"):
        run = run_forecasts(_frame("flat", [value] * 30), SETTINGS)
    # one line for the series, not one per model (a zero series logged 11 the same)
    [said] = [r.getMessage() for r in caplog.records if "constant series" in r.getMessage()]
    assert said.startswith("series flat, models seasonal_naive, ets: constant series")
    assert run.chosen["flat"] == "naive"
    fc = run.forecasts
    assert np.allclose(fc[["mean", "lo-80", "hi-80", "lo-95", "hi-95"]].to_numpy(), value)
    failed = set(run.fallbacks["model"])
    assert failed == {"seasonal_naive", "ets"}
    assert run.fallbacks["reason"].str.contains("constant series").all()
    assert (run.fallbacks["kind"] == "constant").all()


def test_gappy_series_is_interpolated_without_counting_a_failure() -> None:
    # interpolating gaps is what --fill-gaps asks for (the CLI names each such series once):
    # no model failed, so nothing is a fallback
    history = seasonal_series("gappy", periods=48)
    history = history.drop(index=[10, 11, 25]).reset_index(drop=True)
    run = run_forecasts(history, SETTINGS)
    assert len(run.forecasts) == 6
    assert np.isfinite(run.forecasts["mean"]).all()
    assert run.fallbacks.empty
    assert set(run.metrics["model"]) >= {"seasonal_naive", "ets"}


def test_failing_model_is_replaced_by_the_chosen_one() -> None:
    # 20 months: enough for a backtest fold of the non-seasonal naive, not for seasonal models
    settings = ForecastSettings(horizon=3, models=("seasonal_naive", "naive"), backtest_folds=1)
    values = list(np.linspace(10.0, 30.0, 12))
    run = run_forecasts(_frame("s", values), settings)
    row = run.fallbacks[run.fallbacks["model"] == "seasonal_naive"]
    assert len(row) == 1
    assert row["reason"].iloc[0].endswith("replaced by naive")
    assert run.chosen["s"] == "naive"


def test_one_bad_series_does_not_stop_the_others() -> None:
    history = pd.concat([seasonal_series("good"), _frame("zero", [0.0] * 8)])
    run = run_forecasts(history, SETTINGS)
    assert set(run.chosen) == {"good", "zero"}
    assert set(run.fallbacks["unique_id"]) == {"zero"}


def test_a_model_that_fails_is_kept_apart_from_one_the_history_is_too_short_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only a failure is a fault: the summary counts it apart from a short history's expected
    gaps by the row's kind, not by the wording of the model's message (which once said
    "needs" for both)."""
    from forecast.errors import ModelFitError
    from forecast.models.ets import AutoETS

    def broken(self: AutoETS, series: object) -> AutoETS:
        raise ModelFitError("ets: needs a miracle")

    monkeypatch.setattr(AutoETS, "fit", broken)
    run = run_forecasts(seasonal_series("s", periods=48), SETTINGS)
    [row] = run.fallbacks.itertuples(index=False)
    assert (row.model, row.kind) == ("ets", "failed")
    assert row.reason.startswith("failed: ModelFitError: ets: needs a miracle")


# numpy's overflow warnings, errors under this project's pytest settings, are only warnings in
# a run: the run goes on to fit every model, as this test needs it to
@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_values_too_large_for_even_naive_are_refused_naming_the_series() -> None:
    # finite, so accepted as numbers, but their squares overflow: every model fails, and the
    # naive fallback, which is not guarded like the others, raised a bare ModelFitError
    rng = np.random.default_rng(0)
    values = list(1e160 * (1 + 0.1 * rng.normal(size=36)))
    with pytest.raises(ForecastInputError, match=r"'huge'.*expected.*found") as err:
        run_forecasts(_frame("huge", values), ForecastSettings(horizon=3))
    assert err.value.series_id == "huge"
