"""Real figures the synthetic demo is calibrated to: constants, and how to re-measure them.

The demo must run on a fresh clone with nothing beside it, so ``demo_series`` reads only the
constants in ``CALIBRATION``. ``measure_calibration`` re-measures every constant from the real
files in ``shared/data`` and a test asserts the two agree (after ``Calibration.rounded``), so the
constants cannot drift from the data.

Method shared by every seasonal figure: the ratio of each month to a centred 2x12 moving
average, averaged by calendar month and normalised to mean 1 (classical multiplicative
decomposition). The irregular CV is the standard deviation of those ratios once divided by
their month's factor.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from homeward.dtoc import read_nhs_dtoc

DTOC_FILE = Path("dtoc-monthly") / "dtoc_la_monthly.csv"
AE_FILE = Path("ae-monthly") / "ae_england_monthly.csv"
WARWICKSHIRE_SLUG = "warwickshire"  # la_name "Warwickshire", la_code_legacy 404
WARWICKSHIRE_LEGACY_CODE = "404"

# Windows (inclusive months). Social-care-attributable delays fell steeply from mid-2017 after a
# national policy push (PROVENANCE.md, "known breaks"), so seasonality and trend are measured
# before the fall and the fall itself is measured as a level shift between two 12-month means
# (whole years, so seasonality cancels).
DTOC_SEASONAL_WINDOW = ("2011-04", "2017-06")
DTOC_TREND_WINDOW = ("2015-07", "2017-06")  # the last two whole years before the fall
DTOC_BEFORE_SHIFT = ("2016-07", "2017-06")
DTOC_AFTER_SHIFT = ("2018-01", "2018-12")
# England emergency admissions: compound growth between two 12-month totals seven years apart.
AE_GROWTH_FROM = ("2011-05", "2012-04")
AE_GROWTH_TO = ("2018-05", "2019-04")
AE_GROWTH_YEARS = 7

# Assumptions, not measurements: approximate mid-2018 resident populations (ONS mid-year
# estimates, rounded), the period of the England admissions data they scale.
WARWICKSHIRE_POPULATION = 580_000
ENGLAND_POPULATION = 56_000_000
WARWICKSHIRE_SHARE_OF_ENGLAND = WARWICKSHIRE_POPULATION / ENGLAND_POPULATION


@dataclass(frozen=True)
class DtocCalibration:
    """Warwickshire monthly delayed days for one ``dtoc`` column (days per month)."""

    level_last12: float  # mean of the last 12 months available (2018-01..2018-12)
    level_2016: float  # mean of calendar 2016
    trend_per_year: float  # OLS slope over DTOC_TREND_WINDOW, days/month per year
    level_before_shift: float  # mean over DTOC_BEFORE_SHIFT
    level_shift_ratio: float  # mean over DTOC_AFTER_SHIFT / level_before_shift
    seasonal: tuple[float, ...]  # Jan..Dec, over DTOC_SEASONAL_WINDOW, mean 1
    irregular_cv: float  # over DTOC_SEASONAL_WINDOW


@dataclass(frozen=True)
class DelayReasonCalibration:
    """Warwickshire delayed days a day over DTOC_AFTER_SHIFT, for the reasons the plan models.

    People delayed on a given day equal delayed days per day, so these are the people in a
    hospital bed waiting for the service on an average day.
    """

    care_package_home_per_day: float  # reason E, awaiting a care package in own home
    further_nhs_nonacute_per_day: float  # reason C, incl. intermediate care and rehabilitation


@dataclass(frozen=True)
class AdmissionsCalibration:
    """England monthly emergency admissions (``em_adm_total``, admissions per month)."""

    level_last12: float  # mean month over AE_GROWTH_TO (May 2018..Apr 2019)
    annual_growth: float  # (total AE_GROWTH_TO / total AE_GROWTH_FROM) ** (1/7) - 1
    seasonal: tuple[float, ...]  # Jan..Dec, over the whole file (2010-08..2019-04), mean 1
    irregular_cv: float


_Figures = TypeVar("_Figures", DtocCalibration, AdmissionsCalibration, DelayReasonCalibration)


@dataclass(frozen=True)
class Calibration:
    """Every measured figure the demo uses."""

    dtoc_days_total: DtocCalibration
    dtoc_days_social_care: DtocCalibration
    emergency_admissions: AdmissionsCalibration
    delays_by_reason: DelayReasonCalibration

    def rounded(self) -> Calibration:
        """Rounded as the constants are written: days to 0.1, ratios to 4 decimals."""
        return Calibration(
            _round_fields(self.dtoc_days_total),
            _round_fields(self.dtoc_days_social_care),
            _round_fields(self.emergency_admissions),
            _round_fields(self.delays_by_reason),
        )


# Measured by measure_calibration(shared/data) and pasted here; test_demo_series checks them.
# fmt: off
CALIBRATION = Calibration(
    # dtoc-monthly/dtoc_la_monthly.csv, column days_total, la_code_legacy 404 (Warwickshire).
    dtoc_days_total=DtocCalibration(
        level_last12=1382.8,  # mean 2018-01..2018-12, days/month
        level_2016=2100.8,  # mean 2016-01..2016-12
        trend_per_year=339.2,  # OLS slope 2015-07..2017-06, days/month per year
        level_before_shift=2501.0,  # mean 2016-07..2017-06
        level_shift_ratio=0.5529,  # mean 2018 / mean 2016-07..2017-06
        seasonal=(  # Jan..Dec, ratio to centred 2x12 MA, months 2011-04..2017-06
            0.9653, 0.9736, 0.9713, 0.9531, 0.9201, 0.9353,
            1.0211, 1.0671, 1.0919, 1.0614, 1.0463, 0.9935,
        ),
        irregular_cv=0.0901,  # sd of deseasonalised ratios, same window
    ),
    # dtoc-monthly/dtoc_la_monthly.csv, column days_social_care, la_code_legacy 404 (Warwickshire).
    dtoc_days_social_care=DtocCalibration(
        level_last12=647.9,  # mean 2018-01..2018-12, days/month
        level_2016=1099.6,  # mean 2016-01..2016-12
        trend_per_year=291.9,  # OLS slope 2015-07..2017-06, days/month per year
        level_before_shift=1357.3,  # mean 2016-07..2017-06
        level_shift_ratio=0.4773,  # mean 2018 / mean 2016-07..2017-06
        seasonal=(  # Jan..Dec, ratio to centred 2x12 MA, months 2011-04..2017-06
            0.9866, 1.0133, 0.9435, 0.9423, 0.7651, 0.9215,
            1.0059, 1.1793, 1.0535, 1.1088, 1.0568, 1.0233,
        ),
        irregular_cv=0.1892,  # sd of deseasonalised ratios, same window
    ),
    # ae-monthly/ae_england_monthly.csv, column em_adm_total (England, admissions/month).
    emergency_admissions=AdmissionsCalibration(
        level_last12=533415.5,  # mean 2018-05..2019-04
        annual_growth=0.0323,  # (total 2018-05..2019-04 / total 2011-05..2012-04)^(1/7) - 1
        seasonal=(  # Jan..Dec, ratio to centred 2x12 MA, whole file
            1.0166, 0.9406, 1.0388, 0.9766, 1.0190, 0.9846,
            1.0134, 0.9737, 0.9742, 1.0222, 1.0054, 1.0349,
        ),
        irregular_cv=0.0099,  # sd of deseasonalised ratios, whole file
    ),
    # dtoc-monthly/dtoc_la_monthly.csv, reason columns, la_code_legacy 404, 2018-01..2018-12.
    delays_by_reason=DelayReasonCalibration(
        care_package_home_per_day=13.8795,  # reason_E_care_package_home, days / 365
        further_nhs_nonacute_per_day=4.3315,  # reason_C_further_nhs_nonacute, days / 365
    ),
)
# fmt: on


def measure_calibration(data_dir: Path) -> Calibration:
    """Measure every figure from the real files under ``data_dir`` (``shared/data``)."""
    dtoc = read_nhs_dtoc(data_dir / DTOC_FILE, metrics=("days_total", "days_social_care"))
    return Calibration(
        dtoc_days_total=measure_dtoc(_series(dtoc, f"dtoc_days/{WARWICKSHIRE_SLUG}")),
        dtoc_days_social_care=measure_dtoc(
            _series(dtoc, f"dtoc_social_care_days/{WARWICKSHIRE_SLUG}")
        ),
        emergency_admissions=measure_admissions(_admissions(data_dir / AE_FILE)),
        delays_by_reason=measure_delay_reasons(data_dir / DTOC_FILE),
    )


def measure_dtoc(days: pd.Series) -> DtocCalibration:
    """Level, trend, level shift and seasonality of monthly delayed days (index: month starts)."""
    before_shift = _mean(days, DTOC_BEFORE_SHIFT)
    seasonal, irregular_cv = seasonal_factors(_window(days, DTOC_SEASONAL_WINDOW))
    return DtocCalibration(
        level_last12=float(days.iloc[-12:].mean()),
        level_2016=_mean(days, ("2016-01", "2016-12")),
        trend_per_year=trend_per_year(_window(days, DTOC_TREND_WINDOW)),
        level_before_shift=before_shift,
        level_shift_ratio=_mean(days, DTOC_AFTER_SHIFT) / before_shift,
        seasonal=seasonal,
        irregular_cv=irregular_cv,
    )


def measure_delay_reasons(path: Path) -> DelayReasonCalibration:
    """Warwickshire's delayed days a day by reason over DTOC_AFTER_SHIFT (whole months)."""
    table = pd.read_csv(path, dtype={"la_code_legacy": str})
    rows = table[
        (table["geography_type"] == "local_authority")
        & (table["la_code_legacy"] == WARWICKSHIRE_LEGACY_CODE)
        & table["month"].between(*DTOC_AFTER_SHIFT)
    ]
    months = pd.DatetimeIndex(pd.to_datetime(rows["month"], format="%Y-%m"))
    if len(months) != 12:
        found = len(months)
        raise ValueError(f"expected 12 Warwickshire months in {DTOC_AFTER_SHIFT}, found {found}")
    days = int(np.sum(months.days_in_month))
    return DelayReasonCalibration(
        care_package_home_per_day=float(rows["reason_E_care_package_home"].sum()) / days,
        further_nhs_nonacute_per_day=float(rows["reason_C_further_nhs_nonacute"].sum()) / days,
    )


def measure_admissions(admissions: pd.Series) -> AdmissionsCalibration:
    """Level, compound annual growth and seasonality of monthly admissions."""
    total_to = _window(admissions, AE_GROWTH_TO).sum()
    total_from = _window(admissions, AE_GROWTH_FROM).sum()
    seasonal, irregular_cv = seasonal_factors(admissions)
    return AdmissionsCalibration(
        level_last12=_mean(admissions, AE_GROWTH_TO),
        annual_growth=float((total_to / total_from) ** (1 / AE_GROWTH_YEARS) - 1),
        seasonal=seasonal,
        irregular_cv=irregular_cv,
    )


def seasonal_factors(monthly: pd.Series) -> tuple[tuple[float, ...], float]:
    """(Jan..Dec factors with mean 1, irregular CV) by ratio to a centred 2x12 moving average.

    ``monthly``: values indexed by consecutive month starts, at least two years long.
    """
    ratios = ratio_to_moving_average(monthly)
    months = pd.DatetimeIndex(ratios.index).month
    by_month = ratios.groupby(months).mean().reindex(range(1, 13))
    factors = by_month / by_month.mean()
    irregular = ratios / factors.reindex(months).to_numpy()
    return tuple(float(f) for f in factors), float(irregular.std())


def ratio_to_moving_average(monthly: pd.Series) -> pd.Series:
    """Each month over its centred 2x12 moving average; the first and last 6 months drop out."""
    # A trailing 12-month mean ending at t is centred on t - 5.5; the mean of two neighbours
    # (ending at t and t + 1) is centred on t - 5, hence the shift by 5.
    twelve = monthly.rolling(12).mean()
    centred = ((twelve + twelve.shift(-1)) / 2).shift(-5)
    return (monthly / centred).dropna()


def trend_per_year(monthly: pd.Series) -> float:
    """OLS slope of monthly values on time, in units per month per year."""
    years = (monthly.index - monthly.index[0]).days.to_numpy() / 365.25
    slope, _ = np.polyfit(years, monthly.to_numpy(dtype=float), 1)
    return float(slope)


def _series(frame: pd.DataFrame, series_id: str) -> pd.Series:
    rows = frame[frame["unique_id"] == series_id]
    return pd.Series(rows["y"].to_numpy(), index=pd.DatetimeIndex(rows["ds"]), name=series_id)


def _admissions(path: Path) -> pd.Series:
    table = pd.read_csv(path, usecols=["month", "em_adm_total"])
    index = pd.DatetimeIndex(pd.to_datetime(table["month"], format="%Y-%m"))
    return pd.Series(table["em_adm_total"].to_numpy(dtype=float), index=index)


def _window(monthly: pd.Series, window: tuple[str, str]) -> pd.Series:
    return monthly.loc[window[0] : window[1]]


def _mean(monthly: pd.Series, window: tuple[str, str]) -> float:
    return float(_window(monthly, window).mean())


_COUNT_FIELDS = frozenset({"level_last12", "level_2016", "level_before_shift", "trend_per_year"})


def _round_value(name: str, value: float | tuple[float, ...]) -> float | tuple[float, ...]:
    if isinstance(value, tuple):
        return tuple(round(v, 4) for v in value)
    # Day and admission counts to 0.1; ratios, rates and CVs to 4 decimals.
    return round(value, 1) if name in _COUNT_FIELDS else round(value, 4)


def _round_fields(figures: _Figures) -> _Figures:
    changes: dict[str, Any] = {
        f.name: _round_value(f.name, getattr(figures, f.name)) for f in fields(figures)
    }
    return replace(figures, **changes)
