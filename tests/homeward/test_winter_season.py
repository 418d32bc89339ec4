"""The planner's winter index is the pressure series' seasonal factor: each period over the
centred annual mean around it, so neither its growth, nor the plan's horizon, nor the month
the plan starts in moves it (a reviewer's real NHS data read growth as winter)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast.winter import (
    WINTER_MONTHS,
    bad_winter,
    centred_annual_mean,
)
from homeward import planning
from optimise.config import PlanningConfig
from optimise.inputs import build_inputs
from tests.optimise.factory import rich_config, rich_demand

MONTHS = pd.date_range("2018-01-01", "2029-12-01", freq="MS")
# emergency admissions a day, a normal month 1.0: a seasonal shape averaging 1 over a year
SEASON = {11: 1.08, 12: 1.15, 1: 1.12, 2: 1.05, 3: 1.02, 4: 0.97, 5: 0.95, 6: 0.93}
SEASON |= {7: 0.92, 8: 0.93, 9: 0.95}
SEASON[10] = 12.0 - sum(SEASON.values())


def _split(per_day: np.ndarray, start: str, months: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """History of `per_day` (a value a day in each of MONTHS) before `start`, and its forecast
    `months` on from it (the mean, and a top of the 80% interval 10% above it)."""
    counts = per_day * MONTHS.days_in_month / (365.25 / 12)
    first = pd.Timestamp(start)
    before = np.asarray(MONTHS.to_numpy() < first.to_datetime64())
    ahead = ~before & (MONTHS.to_numpy() < (first + pd.DateOffset(months=months)).to_datetime64())
    history = pd.DataFrame({"unique_id": "p", "ds": MONTHS[before], "y": counts[before]})
    forecast = pd.DataFrame({"unique_id": "p", "ds": MONTHS[ahead], "mean": counts[ahead]})
    return history, forecast.assign(**{"hi-80": forecast["mean"] * 1.1})


def _index(per_day: np.ndarray, start: str, months: int, level: str = "mean") -> pd.Series:
    """The planner's index of a plan of `months` from `start`, its pressure forecast reaching
    half a year further (as the demo's does), for the winter months of the plan."""
    history, forecast = _split(per_day, start, months + 6)
    index = planning.pressure_index(forecast, history, level)
    got = pd.Series(index["index"].to_numpy(), index=pd.DatetimeIndex(index["ds"]))
    first = pd.Timestamp(start)
    return got[(got.index >= first) & (got.index < first + pd.DateOffset(months=months))]


def _seasonal_trend() -> np.ndarray:
    season = np.array([SEASON[m] for m in MONTHS.month])
    return 900.0 * 1.08 ** (np.arange(len(MONTHS)) / 12) * season


@pytest.mark.parametrize("level", ["mean", "q90"])
def test_a_periods_index_is_the_same_whatever_the_plans_horizon_and_start(level: str) -> None:
    """A 6-month plan's December read 1.0402 where a 12-month plan's read 0.9924 of the same
    data: the index was over the forecast's first-year mean, or, under 11 months, the trailing
    year of history."""
    per_day = _seasonal_trend()
    plans = [("2026-10-01", 6), ("2026-10-01", 12), ("2026-10-01", 24), ("2026-07-01", 12)]
    plans += [("2026-12-01", 6), ("2026-04-01", 24), ("2026-11-01", 3)]
    got = [_index(per_day, start, months, level) for start, months in plans]
    for when in ("2026-12-01", "2027-01-01"):
        found = [index[pd.Timestamp(when)] for index in got]
        assert found == pytest.approx([found[0]] * len(found), rel=1e-9), when


def test_a_seasonless_trend_is_no_winter_wherever_the_period_falls() -> None:
    """A damped trend with no season read Dec 2020 1.0363 in a 24-month plan (demand +8.7%,
    all growth); a plan starting in October read every winter month below 1."""
    per_day = 1000.0 + 12.0 * np.arange(len(MONTHS))  # linear: +14% over the first year ahead
    for start, months in (("2026-10-01", 24), ("2026-04-01", 24), ("2027-01-01", 6)):
        index = _index(per_day, start, months)
        assert len(index) and index.to_numpy() == pytest.approx(1.0, abs=0.005), start


def test_a_seasonal_pressure_series_gives_back_its_seasonal_factors() -> None:
    index = _index(_seasonal_trend(), "2026-09-01", 24)
    expected = [SEASON[ts.month] for ts in index.index]
    assert index.to_numpy() == pytest.approx(expected, rel=0.01)
    two = index[index.index.month == 12]  # the second winter is not raised by a year's growth
    assert len(two) == 2 and two.iloc[1] == pytest.approx(two.iloc[0], rel=1e-3)


def test_winter_months_the_pressure_series_has_already_reported_read_what_it_observed() -> None:
    """Its history running past the referrals' (a plan from November, admissions to December
    stored): those months took 1.0 for want of a forecast, and a warning that the forecast
    did not reach them (winter reviewer)."""
    history, forecast = _split(_seasonal_trend(), "2027-01-01", 18)
    index = planning.pressure_index(forecast, history, "mean")
    got = pd.Series(index["index"].to_numpy(), index=pd.DatetimeIndex(index["ds"]))
    for month in ("2026-11-01", "2026-12-01"):  # observed, not forecast
        assert got[pd.Timestamp(month)] == pytest.approx(
            SEASON[pd.Timestamp(month).month], rel=0.01
        )
    assert got.index.min() >= pd.Timestamp("2026-01-01")  # the history's last year, no older


def test_a_winter_the_pressure_series_raises_nowhere_is_a_warning() -> None:
    """A winter config whose pressure index raised no period planned winter as the forecast
    alone and said nothing."""
    demand = rich_demand()  # six weeks from 2025-01-06
    months = pd.DatetimeIndex(demand["ds"]).month
    index = np.where(months == 1, 0.97, 0.99)
    demand = demand.assign(winter_index=index, normal_cases=100.0)
    winter = {"pressure_series": "winter/admissions", "months": [1, 2, 3]}
    config = PlanningConfig.model_validate(rich_config(winter=winter))
    inputs = build_inputs(config, demand)
    [warning] = planning.winter_notes(config, inputs)
    assert "'winter/admissions'" in warning and "0.99" in warning and "2025-02" in warning
    raised = demand.assign(winter_index=np.where(months == 1, 1.05, 0.99))
    assert planning.winter_notes(config, build_inputs(config, raised)) == ()


def test_a_two_year_plans_second_winter_raises_the_second_years_level() -> None:
    """normal_cases was the first year's mean for every period: a two-year plan's second
    winter raised the first year's level, a year's referral growth short. It is the referral
    forecast's centred annual mean at each period; a period within half a year of either end
    of the forecast takes the nearest full centred year's (a year's forecast: its mean)."""
    months = pd.date_range("2026-01-01", periods=24, freq="MS")
    factor = months.days_in_month / (365.25 / 12)
    per_day = 10.0 + np.arange(24.0)
    demand = pd.DataFrame(
        {"service": "ot", "district": "a", "ds": months, "cases": per_day * factor}
    )
    index = pd.DataFrame({"ds": months, "index": 1.1})
    out = planning.with_winter_pressure(demand, index)
    level = np.clip(per_day, 16.0, 27.0)  # full centred years from July 2026 to June 2027
    assert out["normal_cases"].to_numpy() == pytest.approx(level * factor)
    year = planning.with_winter_pressure(demand.iloc[:12], index)
    assert year["normal_cases"].to_numpy() == pytest.approx(per_day[:12].mean() * factor[:12])


@pytest.mark.parametrize("days", [1, 10])
def test_periods_neither_weeks_nor_months_get_a_centred_mean(days: int) -> None:
    """A plan of 10-day periods (or daily ones) read from a forecasts file: 51 of 60 centred
    means were NaN, off the weekly grid, and the plan refused its own normal_cases."""
    ds = pd.date_range("2026-01-05", periods=60, freq=f"{days}D")
    means = centred_annual_mean(pd.Series(100.0 + np.arange(60), index=ds))
    assert not means.isna().any()
    assert means.between(100.0, 159.0).all()


def _bad_winters(per_day: np.ndarray, bad: dict[int, float]) -> np.ndarray:
    """`per_day` with each winter (November to March) of a year in `bad` (the year the winter
    ends in) raised by that share."""
    winter_of = np.where(MONTHS.month >= 11, MONTHS.year + 1, MONTHS.year)
    raise_by = np.array([bad.get(int(y), 0.0) for y in winter_of])
    return per_day * np.where(MONTHS.month.isin([11, 12, 1, 2, 3]), 1.0 + raise_by, 1.0)


def test_a_bad_winter_is_a_bad_winter_of_the_history_not_the_forecasts_interval() -> None:
    """q90 read the top of the pressure forecast's 80% interval over the mean's annual level:
    as the interval widens with the horizon, an analyst's index rose from 1.34 in the first
    January to 1.71 in the next (1.01 and 1.00 for the mean), above the 1.28 of the
    series' worst winter month in 93. It is the mean's index raised by how far the history's winter
    months rose above their usual factor in a 1-in-10 month: the same at every horizon."""
    per_day = _bad_winters(_seasonal_trend(), {2020: 0.12, 2023: -0.05, 2024: 0.06})
    history, forecast = _split(per_day, "2026-10-01", 24)
    widening = np.linspace(1.05, 1.9, len(forecast))  # an interval growing with the horizon
    forecast = forecast.assign(**{"hi-80": forecast["mean"] * widening})
    mean = planning.pressure_index(forecast, history, "mean").set_index("ds")["index"]
    q90 = planning.pressure_index(forecast, history, "q90").set_index("ds")["index"]
    q975 = planning.pressure_index(forecast, history, "q975").set_index("ds")["index"]
    ahead = mean.index >= pd.Timestamp("2026-10-01")
    rise = (q90 - mean)[ahead]
    assert rise.to_numpy() == pytest.approx(rise.iloc[0], abs=1e-12)  # whatever the horizon
    # the 1-in-10 winter month: 0.056 here, short of the bad winter of 2020 (12% on a factor
    # near 1.1, some of it in its own annual mean) and well clear of none; the 1-in-40, further
    assert 0.04 < rise.iloc[0] < 0.1
    assert (q975 - mean)[ahead].iloc[0] > rise.iloc[0]
    # months the series has already reported read what was observed, bad winter or not
    assert (q90 - mean)[~ahead].to_numpy() == pytest.approx(0.0)


def test_growth_and_the_level_are_not_a_bad_winter() -> None:
    """A series growing 8% a year with the same season every year: no winter was bad."""
    history, forecast = _split(_seasonal_trend(), "2026-10-01", 12)
    forecast = forecast.assign(**{"hi-80": forecast["mean"] * 1.6})
    mean = planning.pressure_index(forecast, history, "mean")["index"]
    q975 = planning.pressure_index(forecast, history, "q975")["index"]
    assert q975.to_numpy() == pytest.approx(mean.to_numpy(), abs=1e-3)


def test_a_weekly_bad_winter_is_measured_by_month() -> None:
    """Weeks are averaged by the month they start in first, so a weekly series' bad winter
    is a bad month, as a monthly one's, not its noisiest week."""
    weeks = pd.date_range("2019-01-07", "2026-09-28", freq="W-MON")
    rng = np.random.default_rng(3)
    season = np.array([SEASON[m] for m in weeks.month])
    noisy = 500.0 * season * (1.0 + 0.1 * rng.standard_normal(len(weeks)))
    history = pd.DataFrame({"unique_id": "p", "ds": weeks, "y": noisy})
    monthly = (
        history.assign(ds=weeks.to_period("M").to_timestamp())
        .groupby("ds", as_index=False)
        .agg(unique_id=("unique_id", "first"), y=("y", "mean"))
    )
    weekly_rise = bad_winter(history, 0.9).rise
    # weekly noise of 10% would put a 1-in-10 week about 13% up; a month of four such weeks, 6%
    assert weekly_rise is not None and weekly_rise < 0.09
    assert weekly_rise == pytest.approx(bad_winter(monthly, 0.9).rise, abs=0.03)


def test_too_few_winters_say_how_bad_one_gets_and_the_plan_says_so() -> None:
    """A winter month needs MIN_WINTERS factors with a whole year around them: four years."""
    history, forecast = _split(_seasonal_trend(), "2026-10-01", 12)
    short = history[history["ds"] >= pd.Timestamp("2023-10-01")]  # three years
    assert bad_winter(short, 0.9).fewest == 2 and bad_winter(short, 0.9).rise is None
    assert bad_winter(history[history["ds"] >= pd.Timestamp("2022-10-01")], 0.9).rise is not None
    q90 = planning.pressure_index(forecast, short, "q90")["index"]
    mean = planning.pressure_index(forecast, short, "mean")["index"]
    assert q90.to_numpy() == pytest.approx(mean.to_numpy())
    note = planning.bad_winter_note("p", short, "q90", WINTER_MONTHS)
    assert note is not None and "found 2 in the history of 'p'" in note
    assert planning.bad_winter_note("p", history, "q90", WINTER_MONTHS) is None
    assert planning.bad_winter_note("p", short, "mean", WINTER_MONTHS) is None


def test_a_1_in_40_winter_month_from_few_winters_says_it_is_the_worst_seen() -> None:
    """q975 from three winters' 15 months was the worst month seen, little above q90, and
    the config and README promised a 1-in-40 winter month (a winter reviewer)."""
    history, _forecast = _split(_seasonal_trend(), "2026-10-01", 12)
    three = history[history["ds"] >= pd.Timestamp("2022-10-01")]
    note = planning.bad_winter_note("p", three, "q975", WINTER_MONTHS)
    assert note is not None and note.startswith("winter.pressure_level 'q975'")
    assert "found 15 in the history of 'p'" in note
    assert planning.bad_winter_note("p", three, "q90", WINTER_MONTHS) is None
    assert planning.bad_winter_note("p", history, "q975", WINTER_MONTHS) is None  # 40 months
