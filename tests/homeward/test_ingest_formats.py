"""A file in another shape (a wide table, an NHS DTOC file) is one problem saying what it is."""

from __future__ import annotations

import pandas as pd
import pytest

from homeward.errors import ValidationFailed
from homeward.ingest import read_observations_csv
from tests.conftest import real_data


def only_problem(data: bytes | str) -> str:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(data, "t.csv")
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, None)
    assert problem.expected == "the header unique_id,ds,y (long format)"
    return problem.found


def test_a_wide_table_is_one_problem_not_one_per_column() -> None:
    text = "month,att_total,em_adm_total\n2019-01,2100000,500000\n"
    assert only_problem(text) == (
        "'month,att_total,em_adm_total' (3 columns, none of unique_id, ds, y: a wide table? "
        "give one row per series and period: unique_id, ds, y)"
    )


@pytest.mark.parametrize(
    ("header", "renames"),
    [
        ("Series,Date,Value", "'Series' to unique_id, 'Date' to ds, 'Value' to y"),
        ("Week,Area,Total referrals", "'Area' to unique_id, 'Week' to ds, 'Total referrals' to y"),
    ],
)
def test_a_long_file_with_its_columns_named_otherwise_is_told_the_renaming(
    header: str, renames: str
) -> None:
    """Already one row per series and period: "a wide table?" was the wrong guess."""
    found = only_problem(f"{header}\nreferrals/ot/rugby,2025-01-06,3\n")
    assert found.endswith(f"one row per series and period already? rename {renames})")


def test_a_long_export_with_district_and_service_columns_is_told_the_series_id() -> None:
    """`District,Service,Month,Referrals` was called "a wide table?": it is long, its series
    id split in two columns."""
    found = only_problem("District,Service,Month,Referrals\nRedcar,OT,2021-11-01,1948\n")
    assert found == (
        "'District,Service,Month,Referrals' (4 columns, none of unique_id, ds, y: one row per "
        "series and period already, its series id in two columns? write unique_id as "
        "'referrals/<service>/<district>' from 'Service' and 'District', in lower case (e.g. "
        "'referrals/ot/rugby'), and rename 'Month' to ds, 'Referrals' to y)"
    )


@pytest.mark.parametrize(
    ("header", "renames"),
    [
        ("Unique_ID,DS,Y", "'Unique_ID' to unique_id, 'DS' to ds, 'Y' to y"),
        ("unique_id,DS,y", "'DS' to ds"),
    ],
)
def test_the_columns_in_another_case_are_told_the_renaming(header: str, renames: str) -> None:
    """`Unique_ID,DS,Y` was told "none of unique_id, ds, y: a wide table?"."""
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(f"{header}\nreferrals/ot/rugby,2025-01-06,3\n", "t.csv")
    (problem,) = caught.value.problems
    assert problem.expected == "the header unique_id,ds,y (names in lower case)"
    assert problem.found == f"'{header}' (rename {renames})"


def test_one_column_misnamed_is_named_as_the_one_missing() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv("unique_id,ds,value\nreferrals/ot/rugby,2025-01-06,3\n", "t.csv")
    missing, unknown = caught.value.problems
    assert (missing.column, unknown.column) == ("y", "value")
    assert missing.found == "'unique_id,ds,value'; is 'value' the y? rename it"


def _long(ids: int = 3, months: int = 4) -> pd.DataFrame:
    ds = pd.date_range("2011-04-01", periods=months, freq="MS")
    return pd.DataFrame(
        [(f"dtoc_days/e0600000{i}", d, 100 + i + k) for i in range(1, ids + 1)
         for k, d in enumerate(ds)],
        columns=["unique_id", "ds", "y"],
    )  # fmt: skip


def test_a_pandas_pivot_keyed_by_ds_is_one_wide_table_problem() -> None:
    wide = _long().pivot(index="ds", columns="unique_id", values="y")
    text = wide.to_csv(date_format="%Y-%m-%d")
    assert text.startswith("ds,dtoc_days/e06000001,dtoc_days/e06000002,")
    found = only_problem(text)
    assert "(4 columns, only 'ds' of unique_id, ds, y: a wide table? give one row per" in found
    assert "melt(id_vars='ds', var_name='unique_id', value_name='y')" in found


def test_a_transposed_wide_table_keyed_by_unique_id_is_one_problem() -> None:
    wide = _long().pivot(index="unique_id", columns="ds", values="y")
    wide.columns = [f"{d:%Y-%m-%d}" for d in wide.columns]
    text = wide.to_csv()
    assert text.startswith("unique_id,2011-04-01,2011-05-01,")
    found = only_problem(text)
    assert "only 'unique_id' of unique_id, ds, y: a wide table? give one row per series" in found
    assert "the columns after 'unique_id' are periods" in found


def test_one_required_column_present_still_names_each_column() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv("unique_id,month,value\na,2024-01,1\n", "t.csv")
    assert {p.column for p in caught.value.problems} == {"ds", "y", "month", "value"}


def test_the_real_nhs_dtoc_file_is_named_and_sent_to_homeward_import() -> None:
    found = only_problem(real_data("dtoc-monthly", "dtoc_la_monthly.csv").read_bytes())
    assert found.endswith(
        "none of unique_id, ds, y: an NHS England DTOC file, which `homeward import FILE` "
        "reads as it is)"
    )


def test_a_pandas_index_column_is_named_as_one() -> None:
    # DataFrame.to_csv without index=False: an unnamed first column of row numbers
    text = ",unique_id,ds,y\n0,mar/ne/england,2012-04,444233\n1,mar/ne/england,2012-05,474097\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    (problem,) = caught.value.problems
    assert problem.found == (
        "an empty name (row 2 has '0'): a pandas index? write the file with "
        "to_csv(..., index=False)"
    )


def test_an_unnamed_column_of_notes_gets_no_pandas_hint() -> None:
    text = ",unique_id,ds,y\nlate,a,2012-04,1\nlate,a,2012-05,2\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    assert caught.value.problems[0].found == "an empty name (row 2 has 'late')"


@pytest.mark.parametrize(
    ("cell", "found"),
    [
        ('"1,752,381"', "'1,752,381' (digits grouped with commas: write 1752381)"),
        ('"2,137,000.5"', "'2,137,000.5' (digits grouped with commas: write 2137000.5)"),
        ('"1,5"', "'1,5'"),  # a decimal comma, not grouping: left as it is
    ],
)
def test_a_count_with_grouping_commas_says_how_to_write_it(cell: str, found: str) -> None:
    text = f"unique_id,ds,y\nae/att-total/england,2019-01,{cell}\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    (problem,) = caught.value.problems
    assert (problem.row, problem.column, problem.found) == (2, "y", found)


def test_a_long_file_with_misnamed_columns_is_not_taken_for_a_pivot() -> None:
    """`ds,district,referrals,notes` has id-like column names after `ds`, but its cells are
    names and words, not counts (a code review's case): each column is named, as before."""
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv("ds,district,referrals,notes\n2026-01-05,rugby,12,ok\n", "t.csv")
    assert {p.column for p in caught.value.problems} == {
        "unique_id",
        "y",
        "district",
        "referrals",
        "notes",
    }


def test_blank_rows_a_spreadsheet_leaves_below_the_data_are_not_refused() -> None:
    """`,,` lines (Excel's rows below the last one) hold nothing: read as blank lines are, not
    refused three times each; a row with any value is still read (and refused if bad)."""
    text = (
        "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,3\n,,\n , ,\n"
        "referrals/ot/rugby,2025-01-13,4\n,,\n"
    )
    frame = read_observations_csv(text, "t.csv")
    assert frame["y"].tolist() == [3.0, 4.0]
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text + ",,5\n", "t.csv")
    assert {p.row for p in caught.value.problems} == {7}  # its blank id and date


def test_a_suppressed_figure_is_named_as_one() -> None:
    text = "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,3\nreferrals/ot/rugby,2025-01-13,*\n"
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, "y")
    assert problem.found.startswith("'*' (a figure withheld or not available")


def test_a_district_and_service_export_of_another_figure_is_not_told_referrals() -> None:
    """Delayed days written as 'referrals/<service>/<district>' would be planned as referral
    demand: only a column of referrals is told that id; any other figure its own metric."""
    found = only_problem("District,Service,Month,Delayed days\nRedcar,OT,2021-11-01,19\n")
    assert "referrals/<service>/<district>' from" not in found
    assert "write unique_id as '<metric>/<service>/<district>' from 'Service' and" in found
    assert "(e.g. 'delayed_days/ot/rugby'; Homeward plans from referrals only" in found
    assert found.endswith("rename 'Month' to ds, 'Delayed days' to y)")


def test_a_referral_column_in_any_case_is_told_the_referrals_id() -> None:
    found = only_problem("Area,Team,Week,REFERRAL count\nRedcar,OT,2021-11-01,19\n")
    assert "write unique_id as 'referrals/<service>/<district>' from 'Team' and 'Area'" in found
