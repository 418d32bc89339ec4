"""Tests for the observations door: every rejected kind names row, column, expected, found."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeward import ingest
from homeward.errors import MAX_PROBLEMS_IN_MESSAGE, Problem, ValidationFailed
from homeward.ingest import (
    MAX_COLUMNS,
    MAX_COUNT,
    MAX_PROBLEMS_PER_CHECK,
    codec_for_charset,
    frequency_of,
    observations_hash,
    read_observations_csv,
    read_upload,
    series_frequencies,
    validate_observations,
)

HEADER = "unique_id,ds,y\n"
GOOD = (
    HEADER
    + "referrals/ot/rugby,2024-01-01,3\n"
    + "referrals/ot/rugby,2024-01-08,4\n"
    + "referrals/ot/rugby,2024-01-15,0\n"
    + "dtoc_days/warwickshire,2024-01,1200\n"
    + "dtoc_days/warwickshire,2024-02-01,1100.5\n"
)


def problems_of(data: bytes | str, **kwargs: int) -> tuple[Problem, ...]:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(data, "test.csv", **kwargs)
    assert caught.value.source == "test.csv"
    return caught.value.problems


def only_problem(data: bytes | str, **kwargs: int) -> Problem:
    problems = problems_of(data, **kwargs)
    assert len(problems) == 1, problems
    return problems[0]


def test_good_file_gives_clean_sorted_typed_frame() -> None:
    frame = read_observations_csv(GOOD.encode(), "good.csv")
    assert list(frame.columns) == ["unique_id", "ds", "y"]
    assert frame["ds"].dtype == "datetime64[ns]"
    assert frame["y"].dtype == "float64"
    assert (
        frame["unique_id"].tolist() == ["dtoc_days/warwickshire"] * 2 + ["referrals/ot/rugby"] * 3
    )
    assert frame["ds"].iloc[0] == pd.Timestamp("2024-01-01")
    assert frame["y"].tolist() == [1200.0, 1100.5, 3.0, 4.0, 0.0]
    assert list(frame.index) == [0, 1, 2, 3, 4]


def test_str_bytes_and_path_give_the_same_frame(tmp_path: Path) -> None:
    path = tmp_path / "obs.csv"
    path.write_bytes(("\ufeff" + GOOD).encode())  # Excel writes a BOM; accept it
    from_path = read_observations_csv(path, "obs.csv")
    pd.testing.assert_frame_equal(from_path, read_observations_csv(GOOD, "obs.csv"))
    pd.testing.assert_frame_equal(from_path, read_observations_csv(GOOD.encode(), "obs.csv"))


def test_crlf_whitespace_and_blank_lines_are_tolerated() -> None:
    text = GOOD.replace("\n", "\r\n").replace(",3\r\n", ", 3 \r\n\r\n")
    pd.testing.assert_frame_equal(
        read_observations_csv(text, "x"), read_observations_csv(GOOD, "x")
    )


@pytest.mark.parametrize("rows", [2, 10])
def test_cr_alone_between_lines_reads_as_the_same_file(rows: int) -> None:
    """Older Excel for Mac's "CSV (Macintosh)" ends lines with CR alone: a file of more than
    a few rows was refused, its rows read as repeated header names."""
    lines = ["unique_id,ds,y"] + [
        f"referrals/ot/rugby,{pd.Timestamp('2024-01-01') + pd.Timedelta(weeks=i):%Y-%m-%d},{i % 3}"
        for i in range(rows)
    ]
    plain = "\n".join(lines) + "\n"
    pd.testing.assert_frame_equal(
        read_observations_csv("\r".join(lines) + "\r", "mac"), read_observations_csv(plain, "p")
    )


def test_quoted_fields_read_the_same_as_plain_ones() -> None:
    # Quotes send the file through the careful reader; plain files take pandas' C parser.
    quoted = "".join(
        ",".join(f'"{cell}"' for cell in line.split(",")) + "\n" for line in GOOD.splitlines()
    )
    pd.testing.assert_frame_equal(
        read_observations_csv(quoted, "q"), read_observations_csv(GOOD, "p")
    )


def test_a_quoted_comma_is_a_value_not_a_field() -> None:
    problem = only_problem(HEADER + 'referrals/ot/rugby,2024-01-01,"1,000"\n')
    assert (problem.row, problem.column) == (2, "y")
    assert problem.found == "'1,000' (digits grouped with commas: write 1000)"


@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"PK\x03\x04rest-of-a-zip", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "Excel .xls"),
        ("unique_id,ds,y\n".encode("utf-16"), "NUL byte"),
    ],
)
def test_binary_files_are_rejected(data: bytes, found: str) -> None:
    problem = only_problem(data)
    assert found in problem.found
    assert "UTF-8" in problem.expected


@pytest.mark.parametrize("encoding", ["windows-1252", "latin-1"])
@pytest.mark.parametrize(
    ("data", "found"),
    [
        (b"PK\x03\x04rest-of-a-zip", "ZIP archive"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1", "Excel .xls"),
        ("unique_id,ds,y\n".encode("utf-16"), "NUL byte"),
    ],
)
def test_binary_files_name_the_charset_they_were_read_in(
    data: bytes, found: str, encoding: str
) -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(data, "excel.csv", encoding=encoding)
    [problem] = caught.value.problems
    assert found in problem.found
    assert encoding in problem.expected and "UTF-8" not in problem.expected


def test_latin1_file_names_the_line_of_the_bad_byte() -> None:
    data = (HEADER + "referrals/ot/rugby,2024-01-01,3\n").encode() + "café,2024-01-01,1\n".encode(
        "latin-1"
    )
    problem = only_problem(data)
    assert problem.row == 3
    assert "0xe9" in problem.found
    assert "caf\ufffd,2024-01-01,1" in problem.found  # the text around the byte, to find it by


def test_bytes_are_read_in_the_encoding_given() -> None:
    text = GOOD.replace("rugby,2024-01-01,3", "rugby,2024-01-01,3\u00a0")  # a no-break space
    pd.testing.assert_frame_equal(
        read_observations_csv(text.encode("cp1252"), "excel.csv", encoding="windows-1252"),
        read_observations_csv(GOOD, "plain.csv"),
    )
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(HEADER.encode() + "café,2024-01-01,1\n".encode("latin-1"), "l1",
                              encoding="latin-1")  # fmt: skip
    assert caught.value.problems[0].found == "'café' (a name: write an id such as 'cafe')"


def test_a_byte_the_encoding_does_not_use_names_its_line_and_the_encoding() -> None:
    data = (HEADER + "referrals/ot/rugby,2024-01-01,3\n").encode() + b"x\x81,2024-01-01,1\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(data, "x.csv", encoding="windows-1252")
    [problem] = caught.value.problems
    assert problem.row == 3 and "0x81" in problem.found
    assert "windows-1252" in problem.expected and "windows-1252" in problem.found


@pytest.mark.parametrize(
    ("charset", "codec"),
    [("UTF8", "utf-8"), ("us-ascii", "ascii"), ("latin-1", "iso8859-1"),
     ("Windows-1252", "cp1252"), (" iso-8859-15 ", "iso8859-15"),
     ("utf-16", None), ("rot13", None), ("klingon", None), ("", None)],
)  # fmt: skip
def test_codec_for_charset_knows_the_supported_charsets_by_any_alias(
    charset: str, codec: str | None
) -> None:
    assert codec_for_charset(charset) == codec


@pytest.mark.parametrize("data", [b"", b"   \n\n", ""])
def test_empty_file(data: bytes | str) -> None:
    problem = only_problem(data)
    assert problem.found == "an empty file"
    assert "unique_id,ds,y" in problem.expected


def test_header_only() -> None:
    problem = only_problem(HEADER)
    assert problem.row is None
    assert "header only" in problem.found


def test_missing_required_column_is_named() -> None:
    problem = only_problem("ds,y\n2024-01-01,3\n")
    assert (problem.row, problem.column) == (1, "unique_id")
    assert problem.found == "'ds,y'"


def test_unknown_extra_column_is_named() -> None:
    problem = only_problem("unique_id,ds,y,notes\nreferrals/ot/rugby,2024-01-01,3,hi\n")
    assert (problem.row, problem.column) == (1, "notes")
    assert "unknown column 'notes'" in problem.found


def test_repeated_header_name() -> None:
    problem = only_problem("unique_id,ds,y,y\nreferrals/ot/rugby,2024-01-01,3,4\n")
    assert (problem.row, problem.column) == (1, "y")


def test_every_repeated_header_name_is_named_once() -> None:
    header = "unique_id,ds,y,notes,y,ds,notes,notes"
    problem = only_problem(f"{header}\nreferrals/ot/rugby,2024-01-01,3,a,4,b,c,d\n")
    assert (problem.row, problem.column) == (1, "ds")
    assert problem.found == "the header names 'ds', 'notes', 'y' more than once"


def _wide(columns: int, quoted: bool = False, name: str = "c{}") -> str:
    """A long file with `columns` more columns after unique_id, ds, y, and one data row."""
    names = ["unique_id", "ds", "y", *(name.format(i) for i in range(columns))]
    header = ",".join(f'"{n}"' if quoted else n for n in names)
    return header + "\nreferrals/ot/rugby,2024-01-01,3" + ",1" * columns + "\n"


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
@pytest.mark.parametrize("extra_columns", [MAX_COLUMNS - 2, 1_000_000])
def test_a_header_wider_than_any_layout_is_refused_before_a_cell_is_parsed(
    monkeypatch: pytest.MonkeyPatch, extra_columns: int, quoted: bool
) -> None:
    """A million columns (a 9 MB file) kept a core busy for days: a count per name, then
    pandas building a column per name. Refused from the header alone, whichever reader
    (plain or quoted CSV) reads it."""

    def not_called(*args: object, **kwargs: object) -> None:
        raise AssertionError("pandas was asked to parse the cells")

    monkeypatch.setattr(ingest.pd, "read_csv", not_called)
    monkeypatch.setattr(ingest, "_categorical_chunk", not_called)
    problem = only_problem(_wide(extra_columns, quoted))
    assert (problem.row, problem.column) == (1, None)
    assert problem.expected == (
        f"at most {MAX_COLUMNS:,} columns (comma-separated columns unique_id,ds,y)"
    )
    assert problem.found == (
        f"a header of {extra_columns + 3:,} columns (a wide table, a column per series or period?)"
    )


def test_a_header_of_unused_spreadsheet_columns_is_told_to_delete_them() -> None:
    text = "unique_id,ds,y" + "," * 5_000 + "\nreferrals/ot/rugby,2024-01-01,3" + "," * 5_000
    problem = only_problem(text)
    assert problem.found == (
        "a header of 5,003 columns (5,000 of them with no name: a spreadsheet's unused "
        "columns? delete them)"
    )


def test_a_header_as_wide_as_allowed_is_read_and_its_columns_named() -> None:
    problems = problems_of(_wide(MAX_COLUMNS - 3))
    assert [p.column for p in problems] == [f"c{i}" for i in range(MAX_COLUMNS - 3)]
    assert problems[0].found == "an unknown column 'c0'"


def test_unknown_columns_beyond_the_problem_limit_are_counted_not_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ingest, "MAX_PROBLEMS_PER_CHECK", 5)
    problems = problems_of(_wide(20))
    assert [p.column for p in problems] == ["c0", "c1", "c2", "c3", "c4", None]
    assert (problems[-1].row, problems[-1].expected) == (1, "only the columns unique_id, ds, y")
    assert problems[-1].found == "15 more unknown columns like these (not listed)"


def test_ragged_rows_beyond_the_problem_limit_are_counted_not_listed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 57 MB file of two-field rows under a three-column header made 2 million problems
    (1.1 GB, and a 422 of hundreds of megabytes)."""
    monkeypatch.setattr(ingest, "MAX_PROBLEMS_PER_CHECK", 5)
    problems = problems_of(HEADER + "referrals/ot/rugby,2024-01-01\n" * 12)
    assert [p.row for p in problems] == [2, 3, 4, 5, 6, None]
    assert problems[-1].expected == problems[0].expected
    assert problems[-1].found == "7 more rows like these (not listed)"


@pytest.mark.parametrize(
    ("series_id", "found"),
    [
        ("", "a blank value"),
        ("Referrals/OT/Rugby", "'Referrals/OT/Rugby' (capitals: write 'referrals/ot/rugby')"),
        ("dtoc/E06000049", "'dtoc/E06000049' (capitals: write 'dtoc/e06000049')"),
        # a name, not an id: the id to write for it (lower case alone would not be one)
        ("Referrals OT", "'Referrals OT' (a name: write an id such as 'referrals-ot')"),
        (
            "Barking & Dagenham",
            "'Barking & Dagenham' (a name: write an id such as 'barking-and-dagenham')",
        ),
        ("referrals//rugby", "'referrals//rugby'"),  # no id is meant by an empty part
        ("referrals/ot/rugby/", "'referrals/ot/rugby/'"),
        ("-referrals", "'-referrals' (a name: write an id such as 'referrals')"),
        (
            "referrals/ot rugby",
            "'referrals/ot rugby' (a name: write an id such as 'referrals/ot-rugby')",
        ),
    ],
)
def test_bad_series_ids(series_id: str, found: str) -> None:
    problem = only_problem(f"{HEADER}{series_id},2024-01-01,3\n")
    assert (problem.row, problem.column, problem.found) == (2, "unique_id", found)


@pytest.mark.parametrize(
    ("date", "found"),
    [
        ("05/01/2026", "'05/01/2026' (a spreadsheet date, read day first, as UK spreadsheets "
         "write it: write 2026-01-05)"),
        ("5.1.2026", "'5.1.2026' (a spreadsheet date, read day first, as UK spreadsheets "
         "write it: write 2026-01-05)"),
        ("01/25/2026", "'01/25/2026' (a spreadsheet date written month first, as US software "
         "writes it: read day first, '01/25/2026' would be in month 25, and no date's first "
         "number is above 12; write 2026-01-25)"),
        ("31/31/2026", "'31/31/2026'"),  # no date either way: nothing suggested
    ],
)  # fmt: skip
def test_a_spreadsheets_slashed_date_is_refused_with_the_date_to_write(
    date: str, found: str
) -> None:
    problem = only_problem(f"{HEADER}referrals/ot/rugby,{date},3\n")
    assert (problem.row, problem.column, problem.found) == (2, "ds", found)


@pytest.mark.parametrize(
    "date", ["2024-13-01", "2024-02-30", "01/01/2024", "2024-1-1", "2024", "", "2024-01-01T00:00"]
)
def test_unparseable_dates(date: str) -> None:
    problem = only_problem(
        f"{HEADER}referrals/ot/rugby,2024-01-01,3\nreferrals/ot/rugby,{date},3\n"
    )
    assert (problem.row, problem.column) == (3, "ds")
    assert "YYYY-MM-DD" in problem.expected
    assert problem.found.startswith(repr(date) if date else "a blank value")


def test_problem_reads_like_the_spec() -> None:
    problem = only_problem(f"{HEADER}referrals/ot/rugby,2024-13-01,3\n")
    assert str(problem) == (
        "row 2, column 'ds': expected a date YYYY-MM-DD (a Monday for weekly series) "
        "or a month YYYY-MM, found '2024-13-01'"
    )


def test_weekly_date_not_a_monday() -> None:
    rows = ["2024-01-01", "2024-01-08", "2024-01-17", "2024-01-22"]
    text = HEADER + "".join(f"referrals/ot/rugby,{d},1\n" for d in rows)
    problem = only_problem(text)
    assert (problem.row, problem.column, problem.series_id) == (4, "ds", "referrals/ot/rugby")
    assert "Monday" in problem.expected
    assert problem.found == "'2024-01-17' (a Wednesday; date its week by its Monday, 2024-01-15)"


def test_a_bare_month_in_a_weekly_series_is_refused() -> None:
    rows = ["2024-03-11", "2024-03-18", "2024-03-25", "2024-04"]  # 2024-04-01 is a Monday
    text = HEADER + "".join(f"referrals/ot/rugby,{d},1\n" for d in rows)
    problems = problems_of(text)
    assert [(p.row, p.column) for p in problems] == [(5, "ds")]
    assert problems[0].found == "'2024-04' (a month, not a day)"


def test_monthly_date_not_the_first() -> None:
    rows = ["2024-01-01", "2024-02-01", "2024-03-15", "2024-04-01"]
    text = HEADER + "".join(f"dtoc_days/x,{d},1\n" for d in rows)
    problem = only_problem(text)
    assert (problem.row, problem.column) == (4, "ds")
    assert "1st of a month" in problem.expected


def test_series_mixing_weekly_and_monthly_spacing() -> None:
    rows = ["2024-01-01", "2024-01-08", "2024-01-15", "2024-02-01", "2024-03-01"]
    text = HEADER + "".join(f"referrals/ot/rugby,{d},1\n" for d in rows)
    problem = problems_of(text)[0]
    assert (problem.row, problem.series_id) == (None, "referrals/ot/rugby")
    assert "2 weekly and 1 monthly steps" in problem.found


@pytest.mark.parametrize(
    ("value", "found"),
    [
        ("abc", "'abc'"),
        ("1,000", None),  # the comma splits the row: a ragged row, not a number
        ("", "a blank value"),
        ("NaN", "'NaN' (not a number)"),
        ("inf", "'inf' (infinite)"),
        ("1e999", "'1e999' (too large: infinite)"),
        ("-1", "'-1' (negative)"),
        ("0x10", "'0x10'"),
        ("True", "'True'"),
    ],
)
def test_bad_values(value: str, found: str | None) -> None:
    problem = only_problem(f"{HEADER}referrals/ot/rugby,2024-01-01,{value}\n")
    assert problem.row == 2
    if found is None:
        assert problem.column is None
        assert "4 fields" in problem.found
    else:
        assert (problem.column, problem.found) == ("y", found)


@pytest.mark.parametrize("value", ["0", "3", "2.5", "1e3", "+4", ".5", "-0"])
def test_good_values(value: str) -> None:
    frame = read_observations_csv(f"{HEADER}referrals/ot/rugby,2024-01-01,{value}\n", "x")
    assert frame["y"].iloc[0] == float(value)


def test_duplicate_rows_name_both_lines() -> None:
    text = HEADER + "a,2024-01-01,1\na,2024-01-08,1\na,2024-01-01,2\n"
    problem = only_problem(text)
    assert (problem.row, problem.column, problem.series_id) == (4, "ds", "a")
    assert problem.found == (
        "a second row for '2024-01-01' (first on row 2, with another value, 1: keep the right one)"
    )
    copy = only_problem(HEADER + "a,2024-01-01,1\na,2024-01-08,1\na,2024-01-08,1\n")
    assert copy.found == (
        "a second row for '2024-01-08' (first on row 3, with the same value: a copy, leave one out)"
    )


def test_a_repeat_of_a_row_left_blank_is_told_to_keep_the_figure() -> None:
    """The first row's own value, blank, not the next row's (pandas' first() skips blanks)."""
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(HEADER + "a,2024-01-01,\na,2024-01-01,5\na,2024-01-01,7\n", "x")
    repeats = [p.found for p in caught.value.problems if p.column == "ds"]
    assert (
        repeats
        == [
            "a second row for '2024-01-01' (first on row 2, whose value is blank: keep the row "
            "with the figure)"
        ]
        * 2
    )


def test_a_repeat_of_a_row_whose_value_is_unreadable_names_that_value() -> None:
    """'1,728' is not blank: it was said to be, with "keep the row with the figure"."""
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(HEADER + 'a,2024-01-01,"1,728"\na,2024-01-01,1728\n', "x")
    [repeat] = [p.found for p in caught.value.problems if p.column == "ds"]
    assert repeat == (
        "a second row for '2024-01-01' (first on row 2, whose value is unreadable, '1,728': "
        "keep one row, with the count written in place of '1,728')"
    )


def test_a_repeat_of_an_excel_error_row_is_told_the_count_goes_in_its_place() -> None:
    """Row 2's '#N/A' is told to be replaced by the count; its repeat was told only "keep one
    row", as if the '#N/A' row could be kept as it is."""
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(HEADER + "a,2024-01-01,#N/A\na,2024-01-01,5\n", "x")
    found = {p.row: p.found for p in caught.value.problems}
    assert found[2].endswith("write the count itself, a number, in its place)")
    assert found[3].endswith(
        "whose value is unreadable, '#N/A': keep one row, with the count written in place of "
        "'#N/A')"
    )


def test_gap_in_weekly_series() -> None:
    rows = ["2024-01-01", "2024-01-08", "2024-01-29"]
    problem = only_problem(HEADER + "".join(f"a,{d},1\n" for d in rows))
    assert (problem.row, problem.column, problem.series_id) == (None, "ds", "a")
    assert problem.found == "2 missing weeks: 2024-01-15, 2024-01-22"


def test_gap_in_monthly_series() -> None:
    rows = ["2023-11", "2024-01", "2024-02"]
    problem = only_problem(HEADER + "".join(f"a,{d},1\n" for d in rows))
    assert problem.found == "1 missing month: 2023-12-01"
    assert "(MS)" in problem.expected


def test_unreadable_date_does_not_also_report_a_gap() -> None:
    rows = ["2024-01-01", "2024-01-8", "2024-01-15"]
    problem = only_problem(HEADER + "".join(f"a,{d},1\n" for d in rows))
    assert (problem.row, problem.column) == (3, "ds")


def test_ragged_rows() -> None:
    text = HEADER + "a,2024-01-01,1\na,2024-01-08\na,2024-01-15,1,extra\na,2024-01-22,1\n"
    problems = problems_of(text)
    assert [(p.row, p.column) for p in problems[:2]] == [(3, None), (4, None)]
    assert problems[0].found == "2 fields: 'a,2024-01-08'"
    assert "3 fields" in problems[0].expected


def test_prose_sent_as_csv_is_one_problem_not_one_a_line() -> None:
    """A README or a report exported as text: its first line has no comma, and every later
    line with one was a problem of its own (100 of them for the README)."""
    text = "# Homeward\n\nHomeward forecasts referrals, delays and winter pressure, then plans.\n"
    text += "".join(f"Line {i}, with a comma, or two.\n" for i in range(50))
    problem = only_problem(text)
    assert problem.row == 1
    assert problem.expected == "comma-separated columns unique_id,ds,y"
    assert problem.found == (
        "a first line of one field ('# Homeward') and rows of more fields below it (the first "
        "at line 3): not a CSV file of these columns"
    )


@pytest.mark.parametrize("bad_line", ['a,"2024-01-08,1', '"a"b,2024-01-08,1'])
def test_malformed_quoting_names_its_line(bad_line: str) -> None:
    problem = only_problem(f"{HEADER}a,2024-01-01,1\n{bad_line}\n")
    assert problem.row == 3
    assert problem.expected == "well-formed CSV"


def test_too_many_rows() -> None:
    text = HEADER + "".join(
        f"a,{d:%Y-%m-%d},1\n" for d in pd.date_range("2024-01-01", periods=6, freq="W-MON")
    )
    assert len(read_observations_csv(text, "x", max_rows=6)) == 6
    problem = only_problem(text, max_rows=5)
    assert problem.expected == "at most 5 data rows"


def test_all_problems_are_listed_not_just_the_first() -> None:
    text = HEADER + "Bad,2024-01-01,1\na,2024-99-01,1\nb,2024-01-01,-2\nc,2024-01-01,x,y\n"
    problems = problems_of(text)
    assert [(p.row, p.column) for p in problems] == [
        (2, "unique_id"),
        (3, "ds"),
        (4, "y"),
        (5, None),
    ]


def test_message_states_total_and_shows_a_few_of_one_kind() -> None:
    """25 negative counts are one mistake: three of them listed, under the line saying what
    all 25 share (20 near-identical lines were noise)."""
    text = HEADER + "".join(f"a{i},2024-01-01,-1\n" for i in range(25))
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "many.csv")
    message = str(caught.value)
    assert "25 problems found" in message
    assert "row 4," in message and "row 5," not in message
    assert "and 22 more (3 shown: the first of each kind, at most 3 of any)" in message
    # what all 25 share is said once, before the listing cut short
    [line] = [x for x in message.splitlines() if x.startswith("  25 rows")]
    assert line.startswith("  25 rows (2 to 26), column 'y': expected ")


def test_message_shows_one_of_each_kind_before_the_cap() -> None:
    """480 slashed dates first in the file do not hide the few other problems below them."""
    months = pd.date_range("1990-01-01", periods=480, freq="MS")
    counts = ["5"] * 480
    counts[100:104] = ["-5", "n/a", "twelve", ""]
    rows = "".join(f"a,{d:%d/%m/%Y},{y}\n" for d, y in zip(months, counts, strict=True))
    text = HEADER + rows + "b,2024-01-01,3\nb,2024-01-01,3\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "many.csv")
    message = str(caught.value)
    assert "485 problems found" in message
    listed = [line for line in message.splitlines() if line.startswith("  - ")]
    assert len(listed) == 8  # 3 dates, then one of each other kind
    for found in ("'-5' (negative)", "'n/a' (not a number)", "'twelve'", "a blank value"):
        assert any(found in line for line in listed), found
    assert any("a second row for '2024-01-01'" in line for line in listed)
    # the dates listed are the first three, and the listing is in file order
    rows_listed = [int(line.split("row ")[1].split(",")[0]) for line in listed]
    assert rows_listed == sorted(rows_listed) and rows_listed[:3] == [2, 3, 4]
    assert "... and 477 more" in message


def test_a_listing_of_many_kinds_stops_at_the_cap() -> None:
    """Kinds enough to fill the cap: the first of each, in file order, and no more."""
    words = [f"kind {chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(30)]  # no digits
    problems = [Problem(2 + i, "y", word, "x") for i, word in enumerate(words)]
    listed = [x for x in str(ValidationFailed(problems, "kinds.csv")).splitlines() if "- row" in x]
    assert [x.split("expected ")[1] for x in listed] == [f"{w}, found x" for w in words[:20]]
    assert len(listed) == MAX_PROBLEMS_IN_MESSAGE


def test_problems_beyond_the_cap_are_counted() -> None:
    n = MAX_PROBLEMS_PER_CHECK + 7
    text = HEADER + "".join(f"a{i},2024-01-01,x\n" for i in range(n))
    problems = problems_of(text)
    assert len(problems) == MAX_PROBLEMS_PER_CHECK + 1
    assert problems[-1].found == "7 more rows like these (not listed)"


def test_validate_frame_numbers_rows_as_in_a_csv_and_never_mutates() -> None:
    raw = pd.DataFrame({"unique_id": ["a", "a"], "ds": ["2024-01-01", "2024-01-09"], "y": [1, 2]})
    before = raw.copy()
    with pytest.raises(ValidationFailed) as caught:
        validate_observations(raw, "api")
    assert caught.value.problems[0].row == 3
    pd.testing.assert_frame_equal(raw, before)


def test_validate_frame_with_a_repeated_column_is_refused() -> None:
    raw = pd.DataFrame([["a", "2024-01-01", "1", "2"]], columns=["unique_id", "ds", "y", "y"])
    with pytest.raises(ValidationFailed) as caught:
        validate_observations(raw, "api")
    assert [(p.row, p.column) for p in caught.value.problems] == [(1, "y")]


def test_validate_frame_accepts_typed_columns() -> None:
    raw = pd.DataFrame(
        {
            "unique_id": ["a", "a"],
            "ds": pd.to_datetime(["2024-01-01", "2024-02-01"]),
            "y": np.array([1.0, 2.0]),
        }
    )
    clean = validate_observations(raw, "api")
    assert clean["y"].tolist() == [1.0, 2.0]
    assert clean is not raw


def test_validate_frame_rejects_missing_and_nan_values() -> None:
    raw = pd.DataFrame(
        {"unique_id": ["a", None], "ds": ["2024-01-01", "2024-01-01"], "y": [np.nan, 1.0]}
    )
    with pytest.raises(ValidationFailed) as caught:
        validate_observations(raw, "api")
    problems = {(p.row, p.column, p.found) for p in caught.value.problems}
    assert (2, "y", "'nan' (not a number)") in problems
    assert (3, "unique_id", "a blank value") in problems


def test_frequency_of() -> None:
    assert frequency_of(pd.Series(pd.to_datetime(["2024-01-01", "2024-01-08"]))) == "W-MON"
    assert frequency_of(pd.Series(pd.to_datetime(["2024-01-01", "2024-02-01"]))) == "MS"
    assert frequency_of(pd.Series(pd.to_datetime(["2024-03-01"]))) == "MS"
    assert frequency_of(pd.Series(pd.to_datetime(["2024-03-04"]))) == "W-MON"
    with pytest.raises(ValueError, match="neither"):
        frequency_of(pd.Series(pd.to_datetime(["2024-03-05"])))
    frame = read_observations_csv(GOOD, "x")
    assert series_frequencies(frame) == {
        "dtoc_days/warwickshire": "MS",
        "referrals/ot/rugby": "W-MON",
    }


def test_hash_ignores_row_order_and_changes_with_any_value() -> None:
    frame = read_observations_csv(GOOD, "x")
    shuffled = frame.sample(frac=1.0, random_state=1).reset_index(drop=True)
    assert observations_hash(shuffled) == observations_hash(frame)
    changed = frame.assign(y=frame["y"].where(frame.index != 2, 3.0000001))
    assert observations_hash(changed) != observations_hash(frame)
    assert len(observations_hash(frame)) == 64


series_ids = st.from_regex(
    r"[a-z0-9][a-z0-9_.-]{0,8}(/[a-z0-9][a-z0-9_.-]{0,8}){0,2}", fullmatch=True
)


@settings(max_examples=25, deadline=None)
@given(
    ids=st.lists(series_ids, min_size=1, max_size=4, unique=True),
    weekly=st.booleans(),
    length=st.integers(min_value=1, max_value=30),
    values=st.lists(st.floats(min_value=0, max_value=MAX_COUNT), min_size=30, max_size=30),
)
def test_any_valid_frame_round_trips_through_csv(
    ids: list[str], weekly: bool, length: int, values: list[float]
) -> None:
    dates = pd.date_range(
        "2019-12-02" if weekly else "2019-12-01", periods=length, freq="W-MON" if weekly else "MS"
    )
    frame = pd.DataFrame(
        {
            "unique_id": np.repeat(ids, length).astype(object),
            "ds": np.tile(dates, len(ids)),
            "y": np.tile(values[:length], len(ids)),
        }
    )
    text = frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%d"), y=frame["y"].map(repr)).to_csv(
        index=False
    )
    clean = read_observations_csv(text, "prop")
    expected = frame.sort_values(["unique_id", "ds"], kind="stable").reset_index(drop=True)
    pd.testing.assert_frame_equal(clean, expected)
    assert observations_hash(clean) == observations_hash(frame)


@settings(max_examples=25, deadline=None)
@given(
    weekly=st.booleans(),
    length=st.integers(min_value=3, max_value=40),
    data=st.data(),
)
def test_any_missing_interior_period_is_reported_as_a_gap(
    weekly: bool, length: int, data: st.DataObject
) -> None:
    freq = "W-MON" if weekly else "MS"
    dates = pd.date_range("2020-01-06" if weekly else "2020-01-01", periods=length, freq=freq)
    dropped = data.draw(st.integers(min_value=1, max_value=length - 2))
    kept = dates.delete(dropped)
    text = HEADER + "".join(f"s/x,{d:%Y-%m-%d},1\n" for d in kept)
    problem = only_problem(text)
    assert (problem.row, problem.series_id) == (None, "s/x")
    assert problem.found.endswith(f"{dates[dropped]:%Y-%m-%d}")
    assert f"({freq})" in problem.expected


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(min_value=0, max_value=2**32 - 1))
def test_row_order_in_the_file_does_not_change_the_result(seed: int) -> None:
    lines = GOOD.splitlines()
    body = pd.Series(lines[1:]).sample(frac=1.0, random_state=seed).tolist()
    shuffled = "\n".join([lines[0], *body]) + "\n"
    pd.testing.assert_frame_equal(
        read_observations_csv(shuffled, "s"), read_observations_csv(GOOD, "g")
    )


@pytest.mark.parametrize(("separator", "kind"), [(";", "semicolon"), ("\t", "tab")])
def test_a_semicolon_or_tab_separated_file_is_named_once_at_its_header(
    separator: str, kind: str
) -> None:
    """Excel's "CSV" in a decimal-comma locale, or its "Text (Tab delimited)"."""
    lines = [["unique_id", "ds", "y"], ["referrals/ot/rugby", "2024-01-01", "3,5"]]
    text = "".join(separator.join(line) + "\n" for line in lines)
    problem = only_problem(text.encode())
    header = separator.join(lines[0])
    assert (problem.row, problem.column) == (1, None)
    assert problem.expected == "comma-separated columns unique_id,ds,y"
    assert problem.found == (
        f"one column {header!r}: the file looks {kind}-separated; save it as CSV (comma delimited)"
    )


@pytest.mark.parametrize("quoted", [False, True], ids=["plain", "quoted"])
def test_trailing_empty_columns_from_excel_are_ignored(quoted: bool) -> None:
    text = "".join(line.rstrip("\n") + ",,\n" for line in GOOD.splitlines(keepends=True))
    if quoted:  # the careful reader, not the fast one
        text = text.replace("referrals/ot/rugby,2024-01-15", '"referrals/ot/rugby",2024-01-15')
    frame = read_observations_csv(text.encode(), "trailing.csv")
    pd.testing.assert_frame_equal(frame, read_observations_csv(GOOD.encode(), "good.csv"))


def test_an_empty_header_over_values_names_the_column_position_and_a_value() -> None:
    text = HEADER.rstrip("\n") + ",,\n" + "referrals/ot/rugby,2024-01-01,3,,\n"
    text += "referrals/ot/rugby,2024-01-08,4,,note\n"
    problem = only_problem(text.encode())
    assert (problem.row, problem.column) == (1, None)
    assert problem.expected == "a name in the header for column 5, which holds values"
    assert problem.found == "an empty name (row 3 has 'note')"


def test_a_weekly_series_slashed_sunday_is_told_its_monday() -> None:
    """'01/01/2023' was told "write 2023-01-01", a Sunday, refused next as not a Monday."""
    sundays = pd.date_range("2023-01-01", periods=4, freq="W-SUN")
    text = HEADER + "".join(f"a,{d:%d/%m/%Y},{i}\n" for i, d in enumerate(sundays))
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "weeks.csv")
    first = caught.value.problems[0]
    assert (first.row, first.column) == (2, "ds")
    assert first.found == (
        "'01/01/2023' (a spreadsheet date, read day first, as UK spreadsheets write it: "
        "2023-01-01, a Sunday; the series is weekly: date its week by its Monday, write "
        "2022-12-26)"
    )
    # the dates the hints give are accepted
    mondays = [p.found.rsplit("write ", 1)[1].rstrip(")") for p in caught.value.problems]
    fixed = HEADER + "".join(f"a,{d},{i}\n" for i, d in enumerate(mondays))
    assert len(read_observations_csv(fixed, "weeks.csv")) == 4


def test_a_single_month_end_date_is_told_the_1st() -> None:
    """One row (a correction of a stored monthly series) shows no frequency of its own:
    '2026-10-31' was "a Saturday", without the 1st a whole file of month-ends is told."""
    problem = only_problem(HEADER + "a,2026-10-31,5\n")
    assert problem.found == (
        "'2026-10-31' (a Saturday, the last day of its month; date a month by its 1st, "
        "2026-10-01, or a week by its Monday, 2026-10-26)"
    )


def test_a_value_s_problem_names_its_row_s_series() -> None:
    """An API client groups problems by series: a negative or text count's was null."""
    text = HEADER + "a,2024-01-01,-5\na,2024-01-08,twelve\nBad Id,2024-01-15,x\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "values.csv")
    values = [(p.row, p.series_id) for p in caught.value.problems if p.column == "y"]
    assert values == [(2, "a"), (3, "a"), (4, None)]  # a bad id names no series


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("01-11-2021", "'01-11-2021' (a spreadsheet date, read day first, as UK spreadsheets "
         "write it: write 2021-11-01)"),
        ("01/11/2021 00:00", "'01/11/2021 00:00' (a date and time: leave the time out; a "
         "spreadsheet date, read day first, as UK spreadsheets write it: write 2021-11-01)"),
        ("2021-11-01 00:00:00", "'2021-11-01 00:00:00' (a date and time: leave the time out, "
         "write 2021-11-01)"),
        ("44501", "'44501' (an Excel date serial number, the day 2021-11-01: format the column "
         "as a date YYYY-MM-DD before saving; write 2021-11-01)"),
    ],
)  # fmt: skip
def test_excel_s_other_dates_are_refused_with_the_date_to_write(written: str, found: str) -> None:
    """Refused, not read (a date is read only as YYYY-MM-DD), but no longer without a hint."""
    problem = only_problem(f"{HEADER}a,{written},3\n")
    assert (problem.row, problem.column, problem.found) == (2, "ds", found)


@pytest.mark.parametrize("error", ["#N/A", "#VALUE!", "#DIV/0!"])
def test_an_excel_error_value_is_named_as_one(error: str) -> None:
    problem = only_problem(f"{HEADER}a,2021-11-01,{error}\n")
    assert (problem.row, problem.column) == (2, "y")
    assert problem.found == (
        f"'{error}' (an Excel error value: its formula failed; write the count itself, a "
        "number, in its place)"
    )


def test_rows_sharing_a_line_name_no_one_series_and_do_not_break_the_lookup() -> None:
    """A wide file melted long (the NHS DTOC file: one line, two metrics) gives rows that
    share a line number; a value's problem on such a line names no series, and the lookup of
    the others' series does not fail on the shared numbers (it raised InvalidIndexError)."""
    raw = pd.DataFrame(
        {
            "unique_id": ["a", "b", "a", "b", "c"],
            "ds": ["2024-01-01", "2024-01-01", "2024-02-01", "2024-02-01", "2024-01-01"],
            "y": ["1", "-2", "3", "4", "-5"],
        },
        index=pd.Index([2, 2, 3, 3, 4], name="line"),
    )
    with pytest.raises(ValidationFailed) as caught:
        validate_observations(raw, "wide.csv")
    values = [(p.row, p.series_id) for p in caught.value.problems if p.column == "y"]
    assert values == [(2, None), (4, "c")]


def test_a_series_id_longer_than_the_database_holds_is_refused_naming_its_length() -> None:
    """A 250-character id was read, stored on SQLite, and failed the insert on PostgreSQL
    (series ids are VARCHAR(200)); 200 characters still fit."""
    fits, long = "a" * 200, "a" * 201
    rows = [f"{sid},2025-01-{day},3" for sid in (fits, long) for day in ("06", "13")]
    with pytest.raises(ValidationFailed) as refused:
        read_upload(("unique_id,ds,y\n" + "\n".join(rows) + "\n").encode(), source="long.csv")
    problems = [p for p in refused.value.problems if p.column == "unique_id"]
    assert [p.row for p in problems] == [4, 5]
    assert all("at most 200 characters" in p.expected for p in problems)
    assert all(p.found.endswith("(201 characters)") for p in problems)
