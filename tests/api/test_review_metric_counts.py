"""The backtest's `folds` counts windows: it is served as an integer, not a float."""

from __future__ import annotations

import json

import httpx

from api.schemas import ModelMetricsPublic


def test_the_backtest_folds_are_served_as_an_integer(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/forecasts/referrals/ot/rugby")
    assert response.status_code == 200
    backtest = response.json()["backtest"]
    assert backtest
    for model in backtest:
        folds = model["metrics"]["folds"]
        assert isinstance(folds, int) and folds >= 1, model
        assert isinstance(model["metrics"]["mase"], float | None)
    assert '"folds":3.0' not in response.text.replace(" ", "")


def test_a_count_stored_as_a_float_is_written_whole_and_scores_stay_floats() -> None:
    served = ModelMetricsPublic(
        model="ets", chosen=True, metrics={"folds": 3.0, "mase": 1.0, "smape": None}
    )
    assert json.loads(served.model_dump_json())["metrics"] == {
        "folds": 3,
        "mase": 1.0,
        "smape": None,
    }
    assert '"folds":3,' in served.model_dump_json() and '"mase":1.0' in served.model_dump_json()
