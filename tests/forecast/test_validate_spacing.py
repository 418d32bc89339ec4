"""The engine refuses quarterly or annual figures instead of forecasting them as monthly."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.errors import ForecastInputError
from forecast.validate import split_history


def frame(series_id: str, ds: pd.DatetimeIndex) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": series_id, "ds": ds, "y": np.arange(len(ds)) + 100.0})


@pytest.mark.parametrize(
    ("ds", "found"),
    [
        (pd.date_range("2010-04-01", periods=41, freq="3MS"), "41 values one every 3 months"),
        (pd.date_range("2016-04-01", periods=6, freq="12MS"), "6 values one every 12 months"),
        (pd.date_range("2024-01-01", periods=10, freq="2W-MON"), "10 values one every 2 weeks"),
    ],
)
def test_values_every_k_periods_are_refused(ds: pd.DatetimeIndex, found: str) -> None:
    with pytest.raises(ForecastInputError) as caught:
        split_history(frame("beds/available/england", ds))
    assert caught.value.series_id == "beds/available/england"
    assert caught.value.column == "ds"
    assert found in str(caught.value)


def test_missing_months_are_still_allowed() -> None:
    ds = pd.date_range("2016-04-01", periods=36, freq="MS").delete([7, 20])
    (series,) = split_history(frame("ae/type1/rfr", ds))
    assert (len(series.y), series.n_missing) == (36, 2)


def test_two_values_apart_are_a_gap_not_a_spacing() -> None:
    ds = pd.DatetimeIndex(["2020-01-01", "2020-04-01"])
    (series,) = split_history(frame("a", ds))
    assert series.n_missing == 2
