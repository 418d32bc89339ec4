"""Digits other than 0-9 ('١٢' Arabic-Indic, '１２' full-width, '१२' Devanagari) are refused
alike in every reader's counts and dates, named at their row with the cell to write: float()
reads them all as 12 and pandas' date parser reads some scripts and not others, so such a
count was once stored as 12 while a date beside it was refused, or stored, by script."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeward.demand_csv import read_demand_csv
from homeward.dtoc import read_nhs_dtoc
from homeward.errors import ValidationFailed
from homeward.ingest import EXPECTED_DATE, EXPECTED_Y, read_observations_csv

HEAD = "unique_id,ds,y\n"
TWELVE = {"Arabic-Indic": "١٢", "full-width": "１２", "Devanagari": "१२"}
DATES = {"Arabic-Indic": "٢٠٢٥-٠١-٠٦", "full-width": "２０２５-01-06", "Devanagari": "२०२५-०१-०६"}


@pytest.mark.parametrize("script", sorted(TWELVE))
def test_a_count_in_other_digits_is_refused_with_the_count_to_write(script: str) -> None:
    rows = f"referrals/ot/rugby,2025-01-06,4\nreferrals/ot/rugby,2025-01-13,{TWELVE[script]}\n"
    text = HEAD + rows
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.expected) == (3, "y", EXPECTED_Y)
    assert problem.found == f"{TWELVE[script]!r} (digits other than 0-9: write 12)"


@pytest.mark.parametrize("script", sorted(DATES))
def test_a_date_in_other_digits_is_refused_with_the_date_to_write(script: str) -> None:
    text = f"{HEAD}referrals/ot/rugby,{DATES[script]},4\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.expected) == (2, "ds", EXPECTED_DATE)
    assert problem.found == f"{DATES[script]!r} (digits other than 0-9: write 2025-01-06)"


def test_what_else_is_wrong_in_other_digits_is_said_too() -> None:
    text = f"{HEAD}referrals/ot/rugby,2025-01-06,-４\nreferrals/ot/rugby,2025-01-13,１,０７８\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text.replace("１,０７８", '"１,０７８"'), "t.csv")
    assert [p.found for p in caught.value.problems] == [
        "'-４' (digits other than 0-9; in 0-9 '-4': negative)",
        "'１,０７８' (digits other than 0-9; in 0-9 '1,078': digits grouped with commas: "
        "write 1078)",
    ]


def test_demand_cases_and_dates_in_other_digits_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text(
        "service,district,ds,cases\not,rugby,２０２６-01-05,5\not,rugby,2026-01-12,١٢\n",
        encoding="utf-8",
    )
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path)
    assert [(p.row, p.column, p.found) for p in caught.value.problems] == [
        (2, "ds", "'２０２６-01-05' (digits other than 0-9: write 2026-01-05)"),
        (3, "cases", "'١٢' (digits other than 0-9: write 12)"),
    ]


def test_a_forecast_file_dated_in_other_digits_is_refused_as_demand(tmp_path: Path) -> None:
    path = tmp_path / "forecast.csv"
    path.write_text("unique_id,ds,mean\nreferrals/ot/rugby,２０２６-01-05,12\n", encoding="utf-8")
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2, "ds")


@pytest.mark.parametrize("month", ["٢٠١٨-01", "２０１８-01"])
def test_a_dtoc_month_in_other_digits_is_refused(month: str) -> None:
    text = f"month,days_total,days_nhs,days_social_care\n{month},5,3,2\n"
    with pytest.raises(ValidationFailed) as caught:
        read_nhs_dtoc(text, source="d.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.found) == (2, "month", repr(month))


def test_dtoc_days_in_other_digits_are_refused() -> None:
    text = "month,days_total,days_nhs,days_social_care\n2018-01,５,3,2\n"
    with pytest.raises(ValidationFailed) as caught:
        read_nhs_dtoc(text, source="d.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.found) == (
        2,
        "days_total",
        "'５' (digits other than 0-9: write 5)",
    )
