"""SYNTHETIC demo observations for Warwickshire, calibrated to real figures held as constants.

Nothing here is real data and nothing here reads ``shared/data``: levels, trends and seasonality
come from ``homeward.calibration.CALIBRATION`` (measured from the real files, checked by a test)
and from the stated assumptions below, so the demo works on a fresh clone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np
import pandas as pd

from homeward.calibration import CALIBRATION, WARWICKSHIRE_SHARE_OF_ENGLAND
from homeward.ingest import validate_observations

DEFAULT_SEED = 20250401
# The demo's history starts in January 2016 and runs to the end of its last year, whose
# December's week and month are its newest periods; the plan covers the year after. The figures
# in tests and docs are for DEMO_LAST_YEAR (HOMEWARD_DEMO_LAST_YEAR); `homeward demo` by
# default cuts the year under way at its last complete week (`generate_demo_through`), so its
# plan starts the week after, as a council's own data would.
DEMO_LAST_YEAR = 2025
FIRST_DEMO_LAST_YEAR = 2018  # the DTOC calibration's real history runs to 2018-12
WEEKLY_START, MONTHLY_START = "2016-01-04", "2016-01-01"  # a Monday (W-MON); a month start (MS)
SERVICES = ("ot", "hao", "reablement", "domcare")


@dataclass(frozen=True)
class DemoDistrict:
    """A HEART partnership district (seed 000 §1.2, §3.6); population: residents, approximate."""

    id: str
    name: str
    team: str
    population: int


# Approximate usual-resident populations, ONS Census 2021, rounded to the nearest thousand:
# public figures used only to split county demand between districts.
DEMO_DISTRICTS: tuple[DemoDistrict, ...] = (
    DemoDistrict("north-warwickshire", "North Warwickshire", "north", 65_000),
    DemoDistrict("nuneaton-and-bedworth", "Nuneaton and Bedworth", "north", 134_000),
    DemoDistrict("rugby", "Rugby", "north", 114_000),
    DemoDistrict("warwick", "Warwick", "south", 149_000),
    DemoDistrict("stratford-on-avon", "Stratford-on-Avon", "south", 135_000),
)

# County-wide referrals a week at the start of the demo's last year (before season and
# bank-holiday effects; named for DEMO_LAST_YEAR). Demo assumptions of a plausible size for a
# county of about 0.6m people, not measured figures.
COUNTY_WEEKLY_REFERRALS: Mapping[str, float] = {
    "ot": 100.0,
    "hao": 60.0,
    "reablement": 60.0,
    "domcare": 40.0,
}
# Demand growth: "+8% over the last year" (DOMAIN.md, seed 000 §4.4), applied to every year.
ANNUAL_GROWTH = 0.08
# Referral seasonality follows hospital pressure: the measured England emergency-admissions
# factors, amplified by this much (assumption). Reablement and domiciliary care take hospital
# discharges, so they swing more than OT and HAO referrals from the community.
ADMISSIONS_SERIES = "winter/emergency_admissions/warwickshire"
SEASONAL_STRENGTH: Mapping[str, float] = {"ot": 1.5, "hao": 1.5, "reablement": 3.0, "domcare": 2.5}
# Share of a week's referrals lost per weekday bank holiday (assumption): OT and HAO referrals
# arrive on the five working days; discharges into reablement and home care slow but continue.
BANK_HOLIDAY_LOSS: Mapping[str, float] = {
    "ot": 0.2,
    "hao": 0.2,
    "reablement": 0.12,
    "domcare": 0.12,
}
# Week-to-week variation beyond Poisson (gamma-Poisson, coefficient of variation; assumption).
REFERRAL_EXTRA_CV = 0.12
# DTOC after the real history ends (2018-12): no trend after the mid-2017 shift (assumption;
# the collection stopped in 2020, so nothing later can be measured). The shift is a linear ramp
# over 2017-07..2017-12, from the pre-shift trend line to the measured post-shift level.
DTOC_SHIFT_START, DTOC_SHIFT_END = pd.Timestamp("2017-07-01"), pd.Timestamp("2018-01-01")
DTOC_TREND_ORIGIN = pd.Timestamp("2016-07-01")  # centre of 2016, where level_2016 holds
# Centre of the 12 months (May 2018..Apr 2019) whose mean is the admissions level.
ADMISSIONS_LEVEL_DATE = pd.Timestamp("2018-11-01")


def _base_weekly_referrals() -> dict[str, dict[str, float]]:
    total = sum(d.population for d in DEMO_DISTRICTS)
    return {
        service: {d.id: round(county * d.population / total, 1) for d in DEMO_DISTRICTS}
        for service, county in COUNTY_WEEKLY_REFERRALS.items()
    }


# Expected referrals a week at the start of the demo's last year (its first Monday) per service
# and district, split by population: the same whichever year that is, so the demo config's
# staffing and budgets (sized on these) meet the same referral levels in any year (the noise
# drawn, and so the plan's figures, still differ: docs/benchmarks.md).
DEMO_BASE_WEEKLY_REFERRALS: Mapping[str, Mapping[str, float]] = _base_weekly_referrals()


def generate_demo_observations(
    seed: int = DEFAULT_SEED, last_year: int = DEMO_LAST_YEAR
) -> pd.DataFrame:
    """SYNTHETIC long observations (unique_id, ds, y) for the Warwickshire demo.

    Weekly referrals ``referrals/<service>/<district>`` (W-MON, 2016-01-04 to the last Monday of
    `last_year`, 2025-12-29 for 2025, cases a week), monthly ``dtoc_days/warwickshire`` (MS,
    2016-01 to December of `last_year`, delayed days a month) and
    ``winter/emergency_admissions/warwickshire`` (MS, admissions a month). Deterministic for a
    seed and year; validated by ``validate_observations`` before it is returned.
    """
    return validate_observations(_whole_years(seed, last_year), "synthetic demo")


def generate_demo_through(last_day: date, seed: int = DEFAULT_SEED) -> pd.DataFrame:
    """The SYNTHETIC demo cut at `last_day`: every week (W-MON) and month (MS) that is over by
    its end, so the weekly series end with the Monday of the last week that ends by `last_day`
    and the monthly ones with the last month that does.

    Exactly the first rows of ``generate_demo_observations`` for that Monday's year: the same
    draws and the same yearly levels (referrals at DEMO_BASE_WEEKLY_REFERRALS on the year's
    first Monday), so the demo keeps its calibration whichever week it ends with and a week
    later only adds rows, within a year. The year is generated whole and cut, as every series
    draws its noise for all its periods at once; so once the last week falls in a new year the
    whole history is drawn again, to that year's levels (a restart in early January replaces
    the stored demo with one about 8% lower in its earlier years, as a year's roll always did).
    """
    last_week = pd.Timestamp(last_day) - pd.Timedelta(days=6)  # a week whose Sunday is by then
    last_monday = last_week - pd.Timedelta(days=last_week.dayofweek)
    last_month = ((pd.Timestamp(last_day) + pd.Timedelta(days=1)).to_period("M") - 1).start_time
    if last_monday.year < FIRST_DEMO_LAST_YEAR:
        raise ValueError(
            f"the demo's last week: expected one in {FIRST_DEMO_LAST_YEAR} or later, "
            f"found {last_monday:%Y-%m-%d}"
        )
    frame = _whole_years(seed, last_monday.year)
    weekly = frame["unique_id"].str.startswith("referrals/")
    kept = (weekly & (frame["ds"] <= last_monday)) | (~weekly & (frame["ds"] <= last_month))
    return validate_observations(frame[kept].reset_index(drop=True), "synthetic demo")


def demo_history_end(today: date) -> date:
    """The last day of the last complete week on `today` (weeks Monday to Sunday): the day
    before today on a Monday, else the Sunday before (on a Sunday, the one a week before: its
    own week is not over until the day is). The demo runs to it, so its plan starts this
    week, like a council's whose data runs to its latest week."""
    return today - timedelta(days=today.weekday() + 1)


def _whole_years(seed: int, last_year: int) -> pd.DataFrame:
    """The demo to the end of `last_year`, not yet validated (its last year may not be over)."""
    if last_year < FIRST_DEMO_LAST_YEAR:
        raise ValueError(
            f"the demo's last year: expected {FIRST_DEMO_LAST_YEAR} or later, found {last_year}"
        )
    rng = np.random.default_rng(seed)
    weeks = pd.date_range(WEEKLY_START, f"{last_year}-12-31", freq="W-MON")
    months = pd.date_range(MONTHLY_START, f"{last_year}-12-01", freq="MS")
    frames = [
        *_referral_frames(rng, weeks),
        _dtoc_frame(rng, months),
        _admissions_frame(rng, months),
    ]
    return pd.concat(frames, ignore_index=True)


def demo_last_year(today: date) -> int:
    """The last calendar year that is over on `today`, its last week included (the week of 29
    December 2025 ends on 4 January 2026): the latest HOMEWARD_DEMO_LAST_YEAR, as the demo has
    no unfinished periods."""
    year = today.year - 1
    last_monday = pd.date_range(f"{year}-12-25", f"{year}-12-31", freq="W-MON")[0].date()
    return year if last_monday + timedelta(days=7) <= today else year - 1


# --- weekly referrals ------------------------------------------------------------------------


def _referral_frames(rng: np.random.Generator, weeks: pd.DatetimeIndex) -> list[pd.DataFrame]:
    level_date = weeks[weeks.year == weeks[-1].year][0]  # the last year's first Monday
    growth = (1 + ANNUAL_GROWTH) ** ((weeks - level_date).days.to_numpy() / 365.25)
    holiday_counts = weekday_bank_holidays(weeks)
    season = weekly_admissions_season(weeks)
    frames = []
    for service in SERVICES:
        shape = growth * _amplified(season, SEASONAL_STRENGTH[service])
        shape = shape * (1 - BANK_HOLIDAY_LOSS[service] * holiday_counts)
        for district in DEMO_DISTRICTS:
            mean = DEMO_BASE_WEEKLY_REFERRALS[service][district.id] * shape
            y = overdispersed_counts(rng, mean, extra_cv=REFERRAL_EXTRA_CV)
            frames.append(_frame(f"referrals/{service}/{district.id}", weeks, y))
    return frames


def weekday_bank_holidays(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Number of England bank holidays on Monday..Friday of each week (weeks: Mondays)."""
    # The last week's Friday may fall in the next year (2025-12-29 holds New Year's Day 2026).
    years = range(weeks.min().year, (weeks.max() + pd.Timedelta(days=4)).year + 1)
    days = pd.DatetimeIndex(list(holidays.country_holidays("GB", subdiv="ENG", years=years)))
    weekdays = days[days.dayofweek < 5]
    per_week = pd.Series(1, index=weekdays - pd.to_timedelta(weekdays.dayofweek, unit="D"))
    return per_week.groupby(level=0).sum().reindex(weeks, fill_value=0).to_numpy()


def weekly_admissions_season(weeks: pd.DatetimeIndex) -> np.ndarray:
    """Emergency-admissions seasonal factor per week, as a daily rate (mean about 1).

    The measured factors are for monthly totals, so February's shortness is in them; dividing
    by days in month gives the daily rate that a week's referrals follow. A week takes the
    factor of the month its Thursday falls in.
    """
    monthly = np.asarray(CALIBRATION.emergency_admissions.seasonal)
    days_in_month = pd.date_range("2019-01-01", periods=12, freq="MS").days_in_month.to_numpy()
    daily = monthly / days_in_month
    daily = daily / np.average(daily, weights=days_in_month)
    thursdays = weeks + pd.Timedelta(days=3)
    return np.asarray(daily[thursdays.month.to_numpy() - 1])


def _amplified(factors: np.ndarray, strength: float) -> np.ndarray:
    return 1 + strength * (factors - 1)


# --- monthly DTOC and emergency admissions -----------------------------------------------------


def _dtoc_frame(rng: np.random.Generator, months: pd.DatetimeIndex) -> pd.DataFrame:
    figures = CALIBRATION.dtoc_days_total
    mean = dtoc_level(months) * _monthly(figures.seasonal, months)
    y = overdispersed_counts(rng, mean, total_cv=figures.irregular_cv)
    return _frame("dtoc_days/warwickshire", months, y)


def dtoc_level(months: pd.DatetimeIndex) -> np.ndarray:
    """Deseasonalised Warwickshire delayed days a month: measured trend, shift, then flat."""
    figures = CALIBRATION.dtoc_days_total
    years = (months - DTOC_TREND_ORIGIN).days.to_numpy() / 365.25
    before = figures.level_2016 + figures.trend_per_year * years
    after = figures.level_before_shift * figures.level_shift_ratio
    at_start = figures.level_2016 + figures.trend_per_year * _years(
        DTOC_TREND_ORIGIN, DTOC_SHIFT_START
    )
    ramp = np.clip(
        (months - DTOC_SHIFT_START).days.to_numpy() / (DTOC_SHIFT_END - DTOC_SHIFT_START).days, 0, 1
    )
    shifted = at_start + (after - at_start) * ramp
    return np.where(months < DTOC_SHIFT_START, before, shifted)


def _admissions_frame(rng: np.random.Generator, months: pd.DatetimeIndex) -> pd.DataFrame:
    figures = CALIBRATION.emergency_admissions
    years = (months - ADMISSIONS_LEVEL_DATE).days.to_numpy() / 365.25
    level = figures.level_last12 * WARWICKSHIRE_SHARE_OF_ENGLAND
    mean = level * (1 + figures.annual_growth) ** years * _monthly(figures.seasonal, months)
    y = overdispersed_counts(rng, mean, total_cv=figures.irregular_cv)
    return _frame(ADMISSIONS_SERIES, months, y)


def _monthly(factors: Sequence[float], months: pd.DatetimeIndex) -> np.ndarray:
    by_month: np.ndarray = np.asarray(factors)[months.month.to_numpy() - 1]
    return by_month


def _years(start: pd.Timestamp, end: pd.Timestamp) -> float:
    return (end - start).days / 365.25


# --- noise and assembly ----------------------------------------------------------------------


def overdispersed_counts(
    rng: np.random.Generator,
    mean: np.ndarray,
    extra_cv: float | None = None,
    total_cv: float | None = None,
) -> np.ndarray:
    """Gamma-Poisson (negative binomial) counts around ``mean``.

    Give ``extra_cv`` (variation beyond Poisson) or ``total_cv`` (the whole coefficient of
    variation, e.g. a measured irregular CV; the Poisson part is taken out of it).
    """
    if total_cv is not None:
        extra_variance = np.maximum(total_cv**2 - 1 / np.maximum(mean, 1e-9), 0.0)
    else:
        extra_variance = np.full_like(mean, (extra_cv or 0.0) ** 2, dtype=float)
    shape = 1 / np.maximum(extra_variance, 1e-12)  # tiny variance: the gamma is all but fixed
    rates = mean * rng.gamma(shape, 1 / shape)
    counts: np.ndarray = rng.poisson(rates).astype("float64")
    return counts


def _frame(series_id: str, dates: pd.DatetimeIndex, y: np.ndarray) -> pd.DataFrame:
    return pd.DataFrame({"unique_id": series_id, "ds": dates, "y": y})
