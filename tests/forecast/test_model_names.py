"""An unknown model name is refused naming every name the engine accepts."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.errors import ForecastInputError


def test_an_unknown_model_lists_pooled_models_and_combinations() -> None:
    history = pd.DataFrame(
        {"unique_id": "a", "ds": pd.date_range("2016-01-01", periods=12, freq="MS"), "y": 1.0}
    )
    with pytest.raises(ForecastInputError) as caught:
        run_forecasts(history, ForecastSettings(horizon=2, models=("ses", "pooled_thetaa")))
    message = str(caught.value)
    assert "pooled_theta, pooled_theta_sm" in message
    assert "mean_best2, mean_best4" in message
    assert message.endswith("found 'pooled_thetaa' (did you mean 'pooled_theta'?)")
