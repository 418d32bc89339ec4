"""Quarterly, annual and fortnightly figures are named as such, not as periods gone missing."""

from __future__ import annotations

import pandas as pd
import pytest

from homeward.errors import Problem, ValidationFailed
from homeward.ingest import read_observations_csv
from tests.conftest import real_data

HEADER = "unique_id,ds,y\n"


def problems_of(text: str) -> tuple[Problem, ...]:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "test.csv")
    return caught.value.problems


def dated(series_id: str, dates: pd.DatetimeIndex) -> str:
    return HEADER + "".join(f"{series_id},{d:%Y-%m-%d},{i + 1}\n" for i, d in enumerate(dates))


@pytest.mark.parametrize(
    ("freq", "periods", "found"),
    [
        ("3MS", 41, "41 rows, one every 3 months (quarterly figures?)"),
        ("12MS", 7, "7 rows, one every 12 months (annual figures?)"),
        ("2W-MON", 10, "10 rows, one every 2 weeks (fortnightly figures?)"),
        ("5MS", 4, "4 rows, one every 5 months (figures every 5 months?)"),
    ],
)
def test_a_regular_coarse_spacing_is_named_not_listed_as_missing_periods(
    freq: str, periods: int, found: str
) -> None:
    dates = pd.date_range("2010-04-05" if "W" in freq else "2010-04-01", periods=periods, freq=freq)
    (problem,) = problems_of(dated("beds/available/england", dates))
    assert (problem.row, problem.column, problem.series_id) == (
        None,
        "ds",
        "beds/available/england",
    )
    assert problem.found == found
    assert "weekly (W-MON) or monthly (MS) series" in problem.expected
    assert f"from {dates[0]:%Y-%m-%d} to {dates[-1]:%Y-%m-%d}" in problem.expected


def test_two_dates_apart_are_still_a_gap() -> None:
    # two dates three months apart say nothing about a spacing: a gap, as before
    (problem,) = problems_of(dated("a", pd.DatetimeIndex(["2020-01-01", "2020-04-01"])))
    assert problem.found == "2 missing months: 2020-02-01, 2020-03-01"


def test_irregular_gaps_are_still_listed_as_missing_months() -> None:
    dates = pd.DatetimeIndex(["2020-01-01", "2020-02-01", "2020-05-01", "2020-08-01"])
    (problem,) = problems_of(dated("a", dates))
    assert problem.found.startswith("4 missing months: 2020-03-01, 2020-04-01")


def test_real_kh03_quarterly_beds_are_refused_as_quarterly() -> None:
    kh03 = pd.read_csv(real_data("kh03-beds", "kh03_beds_england_quarterly.csv"))
    overnight = kh03[kh03["bed_type"] == "overnight"]
    text = HEADER + "".join(
        f"beds/available/england,{month},{beds}\n"
        for month, beds in zip(
            overnight["quarter_start_month"], overnight["avail_total"], strict=True
        )
    )
    (problem,) = problems_of(text)
    assert problem.found == f"{len(overnight)} rows, one every 3 months (quarterly figures?)"


def test_month_end_dates_are_named_a_monthly_series_dated_by_its_last_days() -> None:
    # pandas' resample("M") and Excel's EOMONTH date each month by its last day
    month_ends = pd.date_range("2010-08-31", periods=6, freq="ME")
    problems = problems_of(dated("ae/att-total/england", month_ends))
    assert [p.row for p in problems] == [2, 3, 4, 5, 6, 7]
    assert {p.expected for p in problems} == {"the 1st of a month (the series is monthly, MS)"}
    assert problems[0].found == (
        "'2010-08-31' (the last day of its month; date it by its 1st, 2010-08-01)"
    )


def test_week_ending_sundays_name_the_monday_each_week_starts_on() -> None:
    # pandas' resample("W") labels each Monday-to-Sunday week by its Sunday
    sundays = pd.date_range("2015-12-06", periods=4, freq="W-SUN")
    problems = problems_of(dated("winter/ga/england", sundays))
    assert [p.row for p in problems] == [2, 3, 4, 5]
    assert "the series is weekly, W-MON" in problems[0].expected
    assert problems[0].found == "'2015-12-06' (a Sunday; date its week by its Monday, 2015-11-30)"
