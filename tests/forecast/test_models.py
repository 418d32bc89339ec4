"""Each model in the zoo on a synthetic series with known seasonality."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastInputError
from forecast.models import FACTORIES, make_model
from forecast.models.arima import AutoArima
from forecast.models.base import Prediction, z_value
from forecast.series import SeriesData
from forecast.validate import split_history
from tests.forecast.conftest import seasonal_series, true_seasonal

SEASONAL_MODELS = [n for n in FACTORIES if n != "naive"]


@pytest.mark.parametrize("name", SEASONAL_MODELS)
def test_model_recovers_known_seasonality(name: str) -> None:
    [series] = split_history(seasonal_series(periods=72, noise=1.0))
    pred = make_model(name).fit(series).predict(12, (80, 95))
    truth = true_seasonal(pd.Series(series.future_ds(12)))
    # the seasonal swing is +/-20; a model that missed it would be ~13 off on average
    assert np.mean(np.abs(pred.mean - truth)) < 3.0
    lo80, hi80 = pred.interval(80)
    lo95, hi95 = pred.interval(95)
    assert (lo95 <= lo80).all() and (lo80 < pred.mean).all() and (hi80 <= hi95).all()


def test_naive_repeats_last_value() -> None:
    [series] = split_history(seasonal_series(periods=30))
    pred = make_model("naive").fit(series).predict(5, (80,))
    assert np.allclose(pred.mean, series.y[-1])
    width = pred.interval(80)[1] - pred.interval(80)[0]
    assert np.all(np.diff(width) > 0)  # random-walk intervals widen with the horizon


def test_weekly_ets_uses_weekly_season() -> None:
    [series] = split_history(seasonal_series(periods=156, freq="W-MON", noise=1.0))
    pred = make_model("ets").fit(series).predict(8, (80,))
    truth = true_seasonal(pd.Series(series.future_ds(8)), freq="W-MON")
    assert np.mean(np.abs(pred.mean - truth)) < 3.0


def test_every_registered_model_has_its_name() -> None:
    for name in FACTORIES:
        assert make_model(name).name == name


def test_windowed_model_ignores_the_old_regime() -> None:
    # level 500 for five years, then 100 for two: Theta's drift from the full history points down
    ds = pd.date_range("2012-01-01", periods=84, freq="MS")
    y = np.r_[np.full(60, 500.0), np.full(24, 100.0)] + np.tile([1.0, -1.0], 42)
    history = pd.DataFrame({"unique_id": "shift", "ds": ds, "y": y})
    [series] = split_history(history)
    windowed = make_model("theta@24").fit(series).predict(6, (80,))
    full = make_model("theta").fit(series).predict(6, (80,))
    assert np.allclose(windowed.mean, 100.0, atol=5.0)
    assert full.mean[-1] < 90.0
    assert make_model("ses@36").name == "ses@36"
    with pytest.raises(ForecastInputError, match="periods >= 4"):
        make_model("ses@2")


SHORT_A = [17.0, 24, 10, 21, 16, 20, 21, 9, 17, 10, 15, 25, 17]  # 13 months, first = last


def _monthly(values: list[float]) -> SeriesData:
    ds = pd.date_range("2022-12-01", periods=len(values), freq="MS")
    return SeriesData("s", ds, np.array(values, dtype=float), "MS")


def test_seasonal_naive_on_a_season_and_one_month_takes_the_naive_spread() -> None:
    # its one lag-12 difference is 17 - 17 = 0: intervals of zero width until floored at the
    # root mean square one-step change, as the naive model's
    series = _monthly(SHORT_A)
    pred = make_model("seasonal_naive").fit(series).predict(12, (80,))
    lo, hi = pred.interval(80)
    rms_step = float(np.sqrt(np.mean(np.diff(SHORT_A) ** 2)))
    assert np.allclose(hi - lo, 2 * z_value(80) * rms_step)
    assert rms_step == pytest.approx(8.44, abs=0.01)


def test_a_spread_from_six_residuals_stands() -> None:
    # 18 months: six lag-12 differences, all 1, are evidence enough; no floor
    values = [10.0, 30, 10, 30, 10, 30, 10, 30, 10, 30, 10, 30]
    series = _monthly(values + [v + 1 for v in values[:6]])
    pred = make_model("seasonal_naive").fit(series).predict(1, (80,))
    lo, hi = pred.interval(80)
    assert (hi - lo)[0] == pytest.approx(2 * z_value(80) * 1.0)


@pytest.mark.parametrize("name", ["holt", "damped"])
def test_a_trend_model_on_five_months_is_no_surer_than_the_naive(name: str) -> None:
    # a near-straight rise leaves Holt (2 degrees of freedom) and damped (1) almost no
    # in-sample error; their one-step sd is floored at the one-step changes' (about 10)
    values = [10.0, 20.5, 30, 39.5, 50]
    pred = make_model(name).fit(_monthly(values)).predict(1, (80,))
    lo, hi = pred.interval(80)
    rms_step = float(np.sqrt(np.mean(np.diff(values) ** 2)))
    assert (hi - lo)[0] >= 2 * z_value(80) * rms_step - 1e-9


def test_arima_forecasts_a_series_in_thousands_as_the_same_series_in_units() -> None:
    """ARIMA is fitted on the adjusted series over the sd of its changes: unscaled, statsmodels'
    optimiser stopped early on large values, and this series x1000 got order (1, 1, 0) without
    drift against (0, 1, 1) with drift in units, its forecast 9% off and its interval 19%."""
    rng = np.random.default_rng(2)
    n = 72
    shocks = rng.normal(0.0, 10.0, n + 1)
    season = 20.0 * np.sin(2 * np.pi * np.arange(n) / 12)
    y = 150.0 + np.cumsum(shocks[1:] - 0.8 * shocks[:-1]) + season
    ds = pd.date_range("2015-01-01", periods=n, freq="MS")

    def series(k: float, periods: int) -> SeriesData:
        frame = pd.DataFrame({"unique_id": "s", "ds": ds[:periods], "y": k * y[:periods]})
        [one] = split_history(frame)
        return one

    units, thousands = AutoArima().fit(series(1.0, 60)), AutoArima().fit(series(1000.0, 60))
    orders = [(m._result.model.order, m._result.model.trend) for m in (units, thousands)]
    assert orders[0] == orders[1] == ((0, 1, 1), "t")
    for fitted in (
        (units, thousands),
        (units.extend(series(1.0, n)), thousands.extend(series(1000.0, n))),
    ):
        small, large = (m.predict(6, (80, 95)) for m in fitted)
        np.testing.assert_allclose(large.mean / 1000.0, small.mean, rtol=1e-3)
        for q in small.quantiles:
            np.testing.assert_allclose(large.quantiles[q] / 1000.0, small.quantiles[q], rtol=1e-3)


@pytest.mark.parametrize("name", ["ets", "theta_sm"])
def test_statsmodels_smoothing_forecasts_a_series_in_thousands_as_in_units(name: str) -> None:
    """`ets` and `theta_sm` are fitted on the series over the sd of its changes, as `arima` is:
    unscaled, this series x1000 got an ets mean 32% off and an 80% interval 2.7 times as wide
    after dividing back, and a theta_sm interval width (from statsmodels' SARIMAX variance)
    3% off."""
    rng = np.random.default_rng(4)
    n = 60
    season = 20.0 * np.sin(2 * np.pi * np.arange(n) / 12)
    y = np.maximum(150.0 + np.cumsum(rng.normal(0.0, 10.0, n)) + season, 1.0)
    ds = pd.date_range("2015-01-01", periods=n, freq="MS")

    def predict(k: float) -> Prediction:
        [one] = split_history(pd.DataFrame({"unique_id": "s", "ds": ds, "y": k * y}))
        return make_model(name).fit(one).predict(6, (80, 95))

    small, large = predict(1.0), predict(1000.0)
    np.testing.assert_allclose(large.mean / 1000.0, small.mean, rtol=1e-5)
    for q in small.quantiles:
        np.testing.assert_allclose(large.quantiles[q] / 1000.0, small.quantiles[q], rtol=1e-5)
