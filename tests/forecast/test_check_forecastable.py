"""check_forecastable names every series too short to forecast in one message."""

from __future__ import annotations

import pandas as pd
import pytest

from forecast.errors import ForecastInputError
from forecast.validate import check_forecastable


def history(lonely: list[str]) -> pd.DataFrame:
    months = pd.date_range("2016-04-01", periods=36, freq="MS")
    full = pd.DataFrame({"unique_id": "ae/type1/rf4", "ds": months, "y": 100.0})
    ones = pd.DataFrame({"unique_id": lonely, "ds": pd.Timestamp("2019-03-01"), "y": 7.0})
    return pd.concat([full, ones], ignore_index=True)


def test_every_series_with_one_value_is_named_at_once() -> None:
    with pytest.raises(ForecastInputError) as caught:
        check_forecastable(history(["ae/type1/new1", "ae/type1/new2", "ae/type1/new3"]), 3)
    message = str(caught.value)
    assert caught.value.series_id == "ae/type1/new1"
    assert message.startswith("series 'ae/type1/new1', column 'y': expected at least 2")
    assert "found 1 (2019-03-01); also series 'ae/type1/new2': 1 (2019-03-01)" in message
    assert message.endswith("; also series 'ae/type1/new3': 1 (2019-03-01)")


def test_past_four_more_the_rest_are_counted() -> None:
    lonely = [f"ae/type1/new{i}" for i in range(7)]
    with pytest.raises(ForecastInputError) as caught:
        check_forecastable(history(lonely), 3)
    message = str(caught.value)
    assert "'ae/type1/new4'" in message and "'ae/type1/new5'" not in message
    assert message.endswith("; and 2 more such series")


def test_a_forecastable_history_passes() -> None:
    check_forecastable(history([]), 3)
