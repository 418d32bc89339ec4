"""Why a district is left out of its team's total: it ends on another week, it is too short
for the backtest folds the others have (a week short of three folds a year ahead said "out of
step", though it ended on the same date), or its folds fall on other weeks."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.reconcile_run import out_of_step
from forecast.series import SeriesData
from forecast.settings import ForecastSettings

END = pd.Timestamp("2025-12-29")


def _weekly(uid: str, weeks: int, end: pd.Timestamp = END) -> SeriesData:
    ds = pd.date_range(end=end, periods=weeks, freq="W-MON")
    return SeriesData(uid, ds, np.full(weeks, 20.0), "W-MON")


def test_each_district_left_out_is_given_its_own_reason() -> None:
    settings = ForecastSettings(horizon=52, backtest_folds=3)
    series = [
        _weekly("a", 260),
        _weekly("b", 260),
        _weekly("c", 260),
        _weekly("behind", 260, END - pd.Timedelta(weeks=1)),
        _weekly("short", 209),  # three folds 52 weeks ahead need 54 + 3 x 52 = 210
    ]
    reasons = out_of_step(series, settings)
    assert set(reasons) == {"behind", "short"}
    assert reasons["behind"] == (
        "its history (2021-01-04 to 2025-12-22, 260 weeks) ends on another period than the "
        "others' (2025-12-29)"
    )
    assert reasons["short"] == (
        "its history (2022-01-03 to 2025-12-29, 209 weeks) is too short for the 3 backtest "
        "folds 52 weeks ahead the others have, which need 210 weeks; it has 2"
    )


def test_series_in_step_have_no_reason() -> None:
    settings = ForecastSettings(horizon=13, backtest_folds=2)
    assert out_of_step([_weekly("a", 120), _weekly("b", 150)], settings) == {}
