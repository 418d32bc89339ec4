"""Slashed dates that only make sense month first (a US export) are named as such, with the
month-first date to write; day first stays the reading for UK files."""

from __future__ import annotations

import pandas as pd
import pytest

from homeward.errors import ValidationFailed
from homeward.ingest import found_unread_date, read_observations_csv

HEADER = "unique_id,ds,y\n"


def problems(text: str) -> list[tuple[int | None, str | None, str]]:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    return [(p.row, p.column, p.found) for p in caught.value.problems]


def _monthly(
    fmt: str, ids: tuple[str, ...] = ("dtoc_days/e06000001", "dtoc_days/e06000002")
) -> str:
    months = pd.date_range("2011-04-01", periods=12, freq="MS")
    return HEADER + "".join(
        f"{sid},{d.strftime(fmt)},{100 + i}\n" for sid in ids for i, d in enumerate(months)
    )


def test_month_first_monthly_dates_read_as_consecutive_january_days_say_month_first() -> None:
    found = problems(_monthly("%m/%d/%Y"))
    row, column, first = found[0]
    assert (row, column) == (2, "ds")
    assert first.startswith("'04/01/2011' (a spreadsheet date written month first, as US")
    assert "consecutive days of January" in first
    assert first.endswith("write 2011-04-01)")  # the 1st of April, not 2011-01-04
    assert found[1][2].endswith("write 2011-05-01)")
    assert not any("day first, as UK" in f for _r, _c, f in found)


def test_a_middle_number_above_12_makes_every_slashed_date_month_first() -> None:
    text = HEADER + "referrals/ot/rugby,01/26/2026,3\nreferrals/ot/rugby,02/02/2026,4\n"
    (_, _, late), (_, _, ambiguous) = problems(text)
    assert late.endswith("write 2026-01-26)")
    assert "written month first" in ambiguous and ambiguous.endswith("write 2026-02-02)")


def test_uk_day_first_dates_stay_day_first() -> None:
    found = problems(_monthly("%d/%m/%Y"))
    assert found[0][2] == (
        "'01/04/2011' (a spreadsheet date, read day first, as UK spreadsheets write it: "
        "write 2011-04-01)"
    )
    weekly = HEADER + "referrals/ot/rugby,05/01/2026,3\nreferrals/ot/rugby,12/01/2026,4\n"
    assert problems(weekly)[1][2].endswith("read day first, as UK spreadsheets write it: "
                                           "write 2026-01-12)")  # fmt: skip


def test_one_typo_in_a_uk_file_does_not_make_every_date_month_first() -> None:
    """01/13/2026 among a UK monthly file's 1sts is a typo, not a US export (a code review's
    case): the other dates keep their day-first reading."""
    text = _monthly("%d/%m/%Y").replace("01/06/2011", "01/13/2011", 1)
    found = problems(text)
    assert found[0][2] == (
        "'01/04/2011' (a spreadsheet date, read day first, as UK spreadsheets write it: "
        "write 2011-04-01)"
    )
    assert not any("written month first" in f for _r, _c, f in found)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        (
            "02/01/23",
            "(a spreadsheet date, read day first, as UK spreadsheets write it: write 2023-01-02)",
        ),
        (
            "01/01/95",
            "(a spreadsheet date, read day first, as UK spreadsheets write it: write 1995-01-01)",
        ),
        ("02-Jan-2023", "(write 2023-01-02)"),
        ("2 January 2023", "(write 2023-01-02)"),
        ("2023/01/16", "(write 2023-01-16)"),
        ("2023/13/40", None),
        ("soon", None),
        # a month's last day is told the monthly date too, not refused again for it next time
        (
            "30/04/2011",
            "(a spreadsheet date, read day first, as UK spreadsheets write it: write "
            "2011-04-30, or 2011-04-01 if the series is monthly)",
        ),
        ("2011/04/30", "(write 2011-04-30, or 2011-04-01 if the series is monthly)"),
        # a month as Excel shows one
        ("Apr-11", "(a month: write its 1st, 2011-04-01)"),
        ("Sept-99", "(a month: write its 1st, 1999-09-01)"),
        ("April 2011", "(a month: write its 1st, 2011-04-01)"),
        ("Mayday-11", None),
    ],
)
def test_other_ways_of_writing_a_date_are_told_the_date_to_write(
    written: str, meant: str | None
) -> None:
    """Two-digit years, month names and year-first slashes had no hint at all."""
    assert found_unread_date(written) == f"{written!r}" + (f" {meant}" if meant else "")


def test_month_first_month_end_dates_are_told_the_1st_too() -> None:
    """A US export's month-end dates (01/31/2025) are told the 1st beside the date meant, as
    day-first ones are: 2025-01-31 alone would be refused next as a month's last day."""
    months = pd.date_range("2025-01-31", periods=6, freq="ME")
    found = problems(HEADER + "".join(f"referrals/ot/rugby,{d:%m/%d/%Y},5\n" for d in months))
    assert found[0][2].startswith("'01/31/2025' (a spreadsheet date written month first")
    assert found[0][2].endswith("write 2025-01-31, or 2025-01-01 if the series is monthly)")
    assert found[1][2].endswith("write 2025-02-28, or 2025-02-01 if the series is monthly)")
