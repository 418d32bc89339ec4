"""Tests for the synthetic demo and its calibration to the real files."""

from __future__ import annotations

import builtins
import io
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeward.calibration import (
    CALIBRATION,
    WARWICKSHIRE_SHARE_OF_ENGLAND,
    measure_calibration,
    ratio_to_moving_average,
    seasonal_factors,
    trend_per_year,
)
from homeward.demo_series import (
    ADMISSIONS_SERIES,
    DEMO_BASE_WEEKLY_REFERRALS,
    DEMO_DISTRICTS,
    SERVICES,
    demo_history_end,
    demo_last_year,
    generate_demo_observations,
    generate_demo_through,
    weekday_bank_holidays,
)
from homeward.ingest import (
    observations_hash,
    read_observations_csv,
    series_frequencies,
    validate_observations,
)
from tests.conftest import real_data

WINTER = [11, 12, 1, 2]
SUMMER = [5, 6, 7, 8]


@pytest.fixture(scope="module")
def demo() -> pd.DataFrame:
    return generate_demo_observations()


@pytest.fixture(scope="module")
def referrals(demo: pd.DataFrame) -> pd.Series:
    """Total referrals a week over every service and district."""
    rows = demo[demo["unique_id"].str.startswith("referrals/")]
    return rows.groupby("ds")["y"].sum()


def one_series(demo: pd.DataFrame, series_id: str) -> pd.Series:
    rows = demo[demo["unique_id"] == series_id]
    return pd.Series(rows["y"].to_numpy(), index=pd.DatetimeIndex(rows["ds"]))


def season_ratio(weekly: pd.Series) -> float:
    months = pd.DatetimeIndex(weekly.index).month
    return float(weekly[months.isin(WINTER)].mean() / weekly[months.isin(SUMMER)].mean())


# --- shape and determinism -------------------------------------------------------------------


def test_same_seed_same_data_other_seed_other_data(demo: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(generate_demo_observations(), demo)
    assert observations_hash(generate_demo_observations(7)) != observations_hash(demo)


def test_demo_passes_validation_and_a_csv_round_trip(demo: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(validate_observations(demo, "demo"), demo)
    text = demo.to_csv(index=False, date_format="%Y-%m-%d")
    pd.testing.assert_frame_equal(read_observations_csv(text, "demo.csv"), demo)


def test_demo_has_every_series_at_its_frequency_and_span(demo: pd.DataFrame) -> None:
    expected = {f"referrals/{s}/{d.id}": "W-MON" for s in SERVICES for d in DEMO_DISTRICTS}
    expected |= {"dtoc_days/warwickshire": "MS", "winter/emergency_admissions/warwickshire": "MS"}
    assert series_frequencies(demo) == expected
    spans = demo.groupby("unique_id")["ds"].agg(["min", "max"])
    weekly = spans.loc["referrals/ot/rugby"]
    assert (weekly["min"], weekly["max"]) == (
        pd.Timestamp("2016-01-04"),
        pd.Timestamp("2025-12-29"),
    )
    monthly = spans.loc["dtoc_days/warwickshire"]
    assert (monthly["min"], monthly["max"]) == (
        pd.Timestamp("2016-01-01"),
        pd.Timestamp("2025-12-01"),
    )
    assert (demo["y"] == demo["y"].round()).all()  # counts


def test_the_demo_runs_to_the_end_of_the_last_year_that_is_over() -> None:
    assert demo_last_year(date(2026, 12, 31)) == 2025
    # 2026's last week (from Monday 28 December) ends on Sunday 3 January 2027
    assert demo_last_year(date(2027, 1, 3)) == 2025
    assert demo_last_year(date(2027, 1, 4)) == 2026
    assert demo_last_year(date(2026, 1, 5)) == 2025  # the week of 29 December 2025 is over


@pytest.mark.parametrize(
    ("today", "last_day"),
    [
        (date(2026, 11, 23), date(2026, 11, 22)),  # a Monday: last week ended yesterday
        (date(2026, 11, 24), date(2026, 11, 22)),
        (date(2026, 11, 29), date(2026, 11, 22)),  # a Sunday: its week is not over
        (date(2027, 1, 3), date(2026, 12, 27)),
        (date(2027, 1, 4), date(2027, 1, 3)),  # the week of 28 December 2026 is over
        (date(2027, 1, 6), date(2027, 1, 3)),
    ],
)
def test_by_default_the_demo_runs_to_the_last_complete_week(today: date, last_day: date) -> None:
    assert demo_history_end(today) == last_day


@pytest.mark.parametrize(
    ("last_day", "last_week", "last_month"),
    [
        (date(2025, 11, 23), "2025-11-17", "2025-10-01"),  # November ends mid-week
        (date(2025, 12, 28), "2025-12-22", "2025-11-01"),  # a Sunday before New Year
        (date(2026, 1, 4), "2025-12-29", "2025-12-01"),  # the week after: the whole year
    ],
)
def test_a_demo_to_a_week_is_the_first_rows_of_its_whole_year(
    demo: pd.DataFrame, last_day: date, last_week: str, last_month: str
) -> None:
    """The same draws and yearly levels as the demo to the end of the year its last week
    starts in, so it keeps the calibration whichever week it ends, and a week later only
    adds rows."""
    cut = generate_demo_through(last_day)
    weekly = demo["unique_id"].str.startswith("referrals/")
    last = np.where(weekly, pd.Timestamp(last_week), pd.Timestamp(last_month))
    pd.testing.assert_frame_equal(cut, demo[demo["ds"] <= last].reset_index(drop=True))
    newest = cut.groupby("unique_id")["ds"].max()
    assert newest["referrals/ot/rugby"] == pd.Timestamp(last_week)
    assert newest["dtoc_days/warwickshire"] == pd.Timestamp(last_month)
    assert newest[ADMISSIONS_SERIES] == pd.Timestamp(last_month)


def test_an_earlier_year_ends_the_demo_there_at_the_same_level(demo: pd.DataFrame) -> None:
    """The demo to 2024 ends with 2024's last Monday and December, and its last year's
    referrals are at the level of the 2025 demo's last year (the levels hold at the start of
    the demo's last year, whichever it is, so the demo config fits its plan in any year)."""
    earlier = generate_demo_observations(last_year=2024)
    newest = earlier.groupby("unique_id")["ds"].max()
    assert newest["referrals/ot/rugby"] == pd.Timestamp("2024-12-30")
    assert newest["dtoc_days/warwickshire"] == pd.Timestamp("2024-12-01")
    assert earlier["ds"].min() == pd.Timestamp("2016-01-01")
    referrals = "referrals/"

    def last_year(frame: pd.DataFrame, year: int) -> float:
        """County referrals a week over `year` (2024 has 53 Mondays, 2025 52)."""
        rows = frame[frame["unique_id"].str.startswith(referrals) & (frame["ds"].dt.year == year)]
        return float(rows["y"].sum()) / rows["ds"].nunique()

    # about 260 referrals a week county-wide: a year's mean varies by about 1% with the noise
    assert last_year(earlier, 2024) == pytest.approx(last_year(demo, 2025), rel=0.03)
    assert last_year(demo, 2024) < 0.95 * last_year(demo, 2025)  # 8% growth a year


def test_a_demo_year_before_the_calibration_or_not_over_is_refused() -> None:
    with pytest.raises(ValueError, match="expected 2018 or later, found 2017"):
        generate_demo_observations(last_year=2017)


def test_demo_reads_no_files(monkeypatch: pytest.MonkeyPatch) -> None:
    """Works on a fresh clone: nothing is opened, so nothing beside the repo is needed."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the demo opened a file: {args}")

    monkeypatch.setattr(builtins, "open", refuse)
    monkeypatch.setattr(io, "open", refuse)
    monkeypatch.setattr(Path, "open", refuse)
    assert len(generate_demo_observations(1)) > 0


# --- referrals -------------------------------------------------------------------------------


def test_districts_and_base_levels() -> None:
    assert [d.id for d in DEMO_DISTRICTS] == [
        "north-warwickshire",
        "nuneaton-and-bedworth",
        "rugby",
        "warwick",
        "stratford-on-avon",
    ]
    assert {d.team for d in DEMO_DISTRICTS[:3]} == {"north"}
    assert {d.team for d in DEMO_DISTRICTS[3:]} == {"south"}
    for service in SERVICES:
        per_person = [
            DEMO_BASE_WEEKLY_REFERRALS[service][d.id] / d.population for d in DEMO_DISTRICTS
        ]
        assert max(per_person) / min(per_person) < 1.02  # proportional to population


def test_demo_level_in_early_2025_matches_the_published_base(demo: pd.DataFrame) -> None:
    for service in ("ot", "domcare"):
        for district in ("rugby", "warwick"):
            weekly = one_series(demo, f"referrals/{service}/{district}")
            # Jan-Mar 2025 against the base, allowing for winter season and noise.
            early = weekly["2025-01-06":"2025-03-31"].mean()
            base = DEMO_BASE_WEEKLY_REFERRALS[service][district]
            assert 0.85 < early / base < 1.2, (service, district, early, base)


def test_total_referrals_grow_about_8_percent_from_2024_to_2025(referrals: pd.Series) -> None:
    # Weekly means, not sums: 2024 has 53 Mondays and 2025 has 52.
    growth = referrals["2025"].mean() / referrals["2024"].mean() - 1
    assert 0.05 <= growth <= 0.11


def test_winter_weeks_are_busier_than_summer_weeks(
    demo: pd.DataFrame, referrals: pd.Series
) -> None:
    assert season_ratio(referrals) > 1.03
    by_service = {
        s: season_ratio(
            demo[demo["unique_id"].str.startswith(f"referrals/{s}/")].groupby("ds")["y"].sum()
        )
        for s in SERVICES
    }
    # Reablement follows hospital discharges, so it swings more than OT.
    assert by_service["reablement"] > by_service["ot"] > 1.0


def test_bank_holiday_weeks_are_lower_than_their_neighbours(referrals: pd.Series) -> None:
    holidays_in_week = weekday_bank_holidays(pd.DatetimeIndex(referrals.index))
    neighbours = (referrals.shift(1) + referrals.shift(-1)) / 2
    ratio = (referrals / neighbours)[holidays_in_week > 0].dropna()
    assert len(ratio) > 60  # about eight bank holidays a year, ten years
    assert ratio.mean() < 0.93
    ordinary = (referrals / neighbours)[holidays_in_week == 0].dropna()
    assert ordinary.mean() > ratio.mean() + 0.1


def test_weekday_bank_holidays_counts_england_holidays() -> None:
    weeks = pd.DatetimeIndex(
        ["2023-12-18", "2023-12-25", "2024-01-01", "2022-09-19", "2023-07-03", "2025-12-29"]
    )
    # Christmas + Boxing Day; New Year's Day; the Queen's funeral; none; New Year's Day 2026.
    assert weekday_bank_holidays(weeks).tolist() == [0, 2, 1, 1, 0, 1]


# --- monthly DTOC and admissions -------------------------------------------------------------


def test_dtoc_demo_seasonality_correlates_with_the_measured_factors(demo: pd.DataFrame) -> None:
    days = one_series(demo, "dtoc_days/warwickshire")
    factors, _ = seasonal_factors(days)
    correlation = np.corrcoef(factors, CALIBRATION.dtoc_days_total.seasonal)[0, 1]
    assert correlation > 0.7


def test_dtoc_demo_has_the_measured_levels_and_2017_shift(demo: pd.DataFrame) -> None:
    days = one_series(demo, "dtoc_days/warwickshire")
    figures = CALIBRATION.dtoc_days_total
    assert days["2016"].mean() == pytest.approx(figures.level_2016, rel=0.1)
    assert days["2018"].mean() == pytest.approx(figures.level_last12, rel=0.1)
    shift = days["2018"].mean() / days["2016-07":"2017-06"].mean()
    assert shift == pytest.approx(figures.level_shift_ratio, abs=0.08)
    # Flat after the shift (a stated assumption): no drift from 2019 to 2025.
    assert days["2025"].mean() == pytest.approx(days["2019"].mean(), rel=0.1)


def test_admissions_demo_grows_and_scales_like_england(demo: pd.DataFrame) -> None:
    admissions = one_series(demo, "winter/emergency_admissions/warwickshire")
    figures = CALIBRATION.emergency_admissions
    growth = admissions["2025"].sum() / admissions["2018"].sum()
    assert growth ** (1 / 7) - 1 == pytest.approx(figures.annual_growth, abs=0.005)
    level = admissions["2018-05":"2019-04"].mean()
    assert level == pytest.approx(figures.level_last12 * WARWICKSHIRE_SHARE_OF_ENGLAND, rel=0.03)
    factors, _ = seasonal_factors(admissions)
    assert np.corrcoef(factors, figures.seasonal)[0, 1] > 0.9


# --- calibration -----------------------------------------------------------------------------


def test_constants_equal_a_fresh_measurement_of_the_real_files() -> None:
    assert measure_calibration(real_data()).rounded() == CALIBRATION


def test_ratio_to_moving_average_is_centred() -> None:
    months = pd.date_range("2020-01-01", periods=48, freq="MS")
    pattern = np.tile([1.2, 1.0, 1.0, 1.0, 1.0, 1.0, 0.8, 1.0, 1.0, 1.0, 1.0, 1.0], 4)
    ratios = ratio_to_moving_average(pd.Series(100 * pattern, index=months))
    assert ratios.index[0] == pd.Timestamp("2020-07-01")  # first 6 months have no centred MA
    assert ratios["2021-01-01"] == pytest.approx(1.2, rel=1e-9)
    assert ratios["2021-07-01"] == pytest.approx(0.8, rel=1e-9)
    factors, irregular_cv = seasonal_factors(pd.Series(100 * pattern, index=months))
    assert factors[0] == pytest.approx(1.2) and factors[6] == pytest.approx(0.8)
    assert irregular_cv == pytest.approx(0.0, abs=1e-12)


def test_trend_per_year_is_units_per_month_per_year() -> None:
    months = pd.date_range("2020-01-01", periods=36, freq="MS")
    line = pd.Series(1000 + 10.0 * np.arange(36), index=months)  # +10 a month = +120 a year
    assert trend_per_year(line) == pytest.approx(120, rel=0.01)
