"""Pooled seasons: sibling totals, the fitted profile, and seasonal weekly forecasts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.errors import ModelFitError
from forecast.models import make_model, profile
from forecast.models.profile import bank_holidays, fit_profile
from forecast.pooling import group_key, with_sibling_totals
from forecast.series import SeriesData
from forecast.validate import split_history

WEEKS = pd.date_range("2016-01-04", "2020-12-28", freq="W-MON")
HOLIDAY_LOSS = 0.2  # share of a week lost per weekday bank holiday


def _shape(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Winter peak (about +10% in January, -10% in July) and bank-holiday dips."""
    angle = 2 * np.pi * (weeks + pd.Timedelta(days=3)).dayofyear.to_numpy() / 365.25
    return np.exp(0.1 * np.cos(angle)) * (1 - HOLIDAY_LOSS * bank_holidays(weeks))


def _siblings(n: int = 5, level: float = 10.0, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = [
        pd.DataFrame(
            {
                "unique_id": f"referrals/ot/d{i}",
                "ds": WEEKS,
                "y": rng.poisson(level * _shape(WEEKS)),
            }
        )
        for i in range(n)
    ]
    return pd.concat(frames, ignore_index=True).astype({"y": float})


def test_group_key_is_the_id_up_to_its_last_slash() -> None:
    assert group_key("referrals/ot/rugby") == "referrals/ot/"
    assert group_key("total") == ""


def test_sibling_totals_sum_weekly_groups_and_leave_monthly_alone() -> None:
    ds = pd.date_range("2020-01-06", periods=3, freq="W-MON")
    months = pd.date_range("2020-01-01", periods=3, freq="MS")
    series = [
        SeriesData("a/x", ds, np.array([1.0, 2.0, 3.0]), "W-MON"),
        SeriesData("a/y", ds, np.array([10.0, np.nan, 30.0]), "W-MON"),
        SeriesData("b/x", ds, np.array([5.0, 5.0, 5.0]), "W-MON"),
        SeriesData("a/m", months, np.array([1.0, 2.0, 3.0]), "MS"),
    ]
    out = with_sibling_totals(series)
    assert np.array_equal(out[0].pooled, [11.0, np.nan, 33.0], equal_nan=True)
    assert np.array_equal(out[1].pooled, out[0].pooled, equal_nan=True)
    assert np.array_equal(out[2].pooled, [5.0, 5.0, 5.0])
    assert out[3].pooled is None
    assert series[0].pooled is None  # inputs unchanged


def test_profile_recovers_a_known_season_and_holiday_dip() -> None:
    total = 200.0 * _shape(WEEKS)
    profile = fit_profile(WEEKS, total)
    assert profile.holiday_log == pytest.approx(np.log(1 - HOLIDAY_LOSS), abs=0.03)
    factors = profile.factors(WEEKS)
    truth = np.exp(0.1 * np.cos(2 * np.pi * (WEEKS + pd.Timedelta(days=3)).dayofyear / 365.25))
    plain = bank_holidays(WEEKS) == 0
    assert np.max(np.abs(factors[plain] / truth[plain] - 1)) < 0.03


def test_profile_needs_two_years_of_totals() -> None:
    with pytest.raises(ModelFitError, match="pooled season"):
        fit_profile(WEEKS[:100], np.full(100, 50.0))
    # three weeks are three weeks, none usable (the message once said 52)
    with pytest.raises(ModelFitError, match=r"found 3 weeks, 0 of them usable"):
        fit_profile(WEEKS[:3], np.full(3, 50.0))


def test_pooled_model_without_siblings_fails_with_a_named_error() -> None:
    series = SeriesData("x", WEEKS, np.full(len(WEEKS), 5.0), "W-MON")
    with pytest.raises(ModelFitError, match="sibling"):
        make_model("pooled_ses").fit(series)


def test_a_district_just_added_neither_cuts_the_total_short_nor_goes_without_it() -> None:
    """Five districts with five years of history and a sixth with 21 weeks: the total stays
    the five's over the five years (with the sixth in it, every week before its first was
    missing and every pooled model failed for every district), and the sixth gets it too."""
    history = _siblings()
    newcomer = pd.DataFrame({"unique_id": "referrals/ot/new", "ds": WEEKS[-21:], "y": 12.0})
    run_history = pd.concat([history, newcomer], ignore_index=True)
    series = split_history(run_history)
    out = {s.unique_id: s for s in with_sibling_totals(series)}
    five = history.groupby("ds")["y"].sum().reindex(WEEKS).to_numpy()
    assert np.array_equal(out["referrals/ot/d0"].pooled, five)
    assert np.array_equal(out["referrals/ot/new"].pooled, five[-21:])
    settings = ForecastSettings(horizon=13, backtest_folds=2, models=("ses", "pooled_ses"))
    chosen = run_forecasts(run_history, settings).chosen
    assert {chosen[f"referrals/ot/d{i}"] for i in range(5)} == {"pooled_ses"}


def test_noisy_siblings_get_seasonal_forecasts_with_holiday_dips() -> None:
    settings = ForecastSettings(horizon=52, models=("ses", "pooled_ses"))
    run = run_forecasts(_siblings(), settings)
    assert set(run.chosen.values()) == {"pooled_ses"}
    mase = run.metrics.groupby("model")["mase"].mean()
    assert mase["pooled_ses"] < mase["ses"]
    fc = run.forecasts
    weeks = pd.DatetimeIndex(fc["ds"])
    holiday = bank_holidays(weeks) > 0
    january = (weeks.month == 1) & ~holiday
    july = (weeks.month == 7) & ~holiday
    assert fc["mean"][january].mean() > 1.1 * fc["mean"][july].mean()
    assert fc["mean"][holiday].mean() < 0.9 * fc["mean"][~holiday].mean()


def test_monthly_series_skip_pooled_models_quietly() -> None:
    ds = pd.date_range("2015-01-01", periods=48, freq="MS")
    y = 100 + 10 * np.sin(np.arange(48) * 2 * np.pi / 12)
    history = pd.DataFrame({"unique_id": "m/a", "ds": ds, "y": y})
    run = run_forecasts(history, ForecastSettings(horizon=6, models=("ses", "pooled_ses")))
    assert run.chosen == {"m/a": "ses"}
    assert run.fallbacks.empty


def test_the_design_of_the_same_weeks_is_computed_once_and_shared_read_only(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    profile._cached_design.cache_clear()
    computed: list[int] = []
    compute = profile._computed_design

    def counted(weeks: pd.DatetimeIndex) -> np.ndarray:
        computed.append(len(weeks))
        return compute(weeks)

    monkeypatch.setattr(profile, "_computed_design", counted)
    first = profile._design(WEEKS)
    again = profile._design(pd.DatetimeIndex(list(WEEKS)))  # equal values, another index
    other = profile._design(WEEKS[1:])
    assert computed == [len(WEEKS), len(WEEKS) - 1]
    assert again is first and not first.flags.writeable
    np.testing.assert_array_equal(first, compute(WEEKS))
    np.testing.assert_array_equal(other, compute(WEEKS[1:]))
