"""Tests for the NHS England DTOC importer, on the real files in place and on tiny made-up ones."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from homeward.dtoc import is_nhs_dtoc_csv, la_slug, read_nhs_dtoc
from homeward.errors import Problem, ValidationFailed
from homeward.ingest import validate_observations
from tests.conftest import real_data

LA_HEADER = (
    "month,geography_type,la_code_legacy,ons_code,ons_code_source,la_name,region,"
    "days_total,days_nhs,days_social_care,days_both"
)


@pytest.fixture(scope="module")
def dtoc_dir() -> Path:
    return real_data("dtoc-monthly")


@pytest.fixture(scope="module")
def la_frame(dtoc_dir: Path) -> pd.DataFrame:
    return read_nhs_dtoc(dtoc_dir / "dtoc_la_monthly.csv")


def la_row(
    month: str, code: str, name: str, total: str = "10", geo: str = "local_authority"
) -> str:
    return f'{month},{geo},{code},E0,reported,"{name}",Region,{total},6,3,1'


def la_csv(*rows: str) -> str:
    return "\n".join([LA_HEADER, *rows]) + "\n"


def rejected(text: str | bytes, **kwargs: Any) -> tuple[Problem, ...]:
    with pytest.raises(ValidationFailed) as caught:
        read_nhs_dtoc(text, **kwargs)
    return caught.value.problems


# --- the real files --------------------------------------------------------------------------


def test_real_la_file_gives_every_authority_every_month(la_frame: pd.DataFrame) -> None:
    assert la_frame["unique_id"].nunique() == 151 * 3
    assert (la_frame.groupby("unique_id").size() == 93).all()
    assert la_frame["ds"].min() == pd.Timestamp("2011-04-01")
    assert la_frame["ds"].max() == pd.Timestamp("2018-12-01")
    ids = set(la_frame["unique_id"])
    for expected in (
        "dtoc_days/warwickshire",
        "dtoc_social_care_days/warwickshire",
        "dtoc_nhs_days/cheshire-west-and-chester",
        "dtoc_days/halton",
        "dtoc_days/brighton-and-hove",
    ):
        assert expected in ids


def test_real_values_are_read_exactly(la_frame: pd.DataFrame) -> None:
    y = la_frame.set_index(["unique_id", "ds"])["y"]
    # Values as printed in dtoc_la_monthly.csv (Warwickshire, legacy 404; Halton June 2017).
    assert y[("dtoc_days/warwickshire", pd.Timestamp("2018-12-01"))] == 1219
    assert y[("dtoc_social_care_days/warwickshire", pd.Timestamp("2018-12-01"))] == 547
    assert y[("dtoc_days/warwickshire", pd.Timestamp("2011-04-01"))] == 2234
    assert y[("dtoc_days/halton", pd.Timestamp("2017-06-01"))] == 258


def test_real_output_passes_validation_unchanged(la_frame: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(validate_observations(la_frame, "again"), la_frame)


def test_la_rows_sum_to_the_england_file(dtoc_dir: Path, la_frame: pd.DataFrame) -> None:
    england = read_nhs_dtoc(dtoc_dir / "dtoc_england_monthly.csv")
    assert set(england["unique_id"]) == {
        "dtoc_days/england",
        "dtoc_social_care_days/england",
        "dtoc_nhs_days/england",
    }
    assert len(england) == 93 * 3
    # Non-England residents are part of the England total, so add them back in.
    outside = read_nhs_dtoc(dtoc_dir / "dtoc_la_monthly.csv", geography="non_england_residents")
    both = pd.concat([la_frame, outside])
    metric = both["unique_id"].str.split("/").str[0]
    summed = both.groupby([metric, "ds"])["y"].sum()
    national = england.set_index([england["unique_id"].str.split("/").str[0], "ds"])["y"]
    pd.testing.assert_series_equal(summed.sort_index(), national.sort_index(), check_names=False)


def test_an_import_of_the_la_file_says_which_rows_it_left_out(
    dtoc_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The by-LA file's England row and non-England residents are not imported: the import
    count (42,129 rows) said nothing of the 372 rows it left out."""
    with caplog.at_level(logging.INFO):
        read_nhs_dtoc(dtoc_dir / "dtoc_la_monthly.csv", source="la.csv")
        read_nhs_dtoc(dtoc_dir / "dtoc_la_monthly.csv", geography="country", source="c.csv")
    said = [r.getMessage() for r in caplog.records if "left out" in r.getMessage()]
    assert said == [
        "la.csv: left out 93 'country', 279 'non_england_residents' rows (geography_type): "
        "only 'local_authority' rows are read",
        "c.csv: left out 14,043 'local_authority', 279 'non_england_residents' rows "
        "(geography_type): only 'country' rows are read",
    ]


def test_country_row_of_la_file_equals_england_file(dtoc_dir: Path) -> None:
    from_la = read_nhs_dtoc(dtoc_dir / "dtoc_la_monthly.csv", ["days_total"], geography="country")
    england = read_nhs_dtoc(dtoc_dir / "dtoc_england_monthly.csv", ["days_total"])
    pd.testing.assert_frame_equal(from_la, england)


def test_real_headers_are_recognised(dtoc_dir: Path) -> None:
    for name in ("dtoc_la_monthly.csv", "dtoc_england_monthly.csv"):
        header = (dtoc_dir / name).read_text().split("\n", 1)[0].split(",")
        assert is_nhs_dtoc_csv(header)
    assert not is_nhs_dtoc_csv(["unique_id", "ds", "y"])
    assert not is_nhs_dtoc_csv(["month", "days_total"])


# --- made-up files: slugs and continuity ------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Warwickshire", "warwickshire"),
        ("Cheshire West And Chester", "cheshire-west-and-chester"),
        ("Halton UA", "halton"),
        ("Brighton & Hove UA", "brighton-and-hove"),
        ("Stoke-On-Trent UA", "stoke-on-trent"),
        ("Bournemouth, Christchurch and Poole UA", "bournemouth-christchurch-and-poole"),
        ("England", "england"),
        ("St Helens", "st-helens"),
    ],
)
def test_la_slug(name: str, slug: str) -> None:
    assert la_slug(name) == slug


def test_renamed_authority_stays_one_series_under_its_latest_name() -> None:
    text = la_csv(
        la_row("2019-03", "809", "Dorset", "5"),
        la_row("2019-04", "809", "Dorset", "6"),
        la_row("2019-05", "809", "Dorset UA", "7"),
        la_row("2019-04", "811", "Poole UA", "0"),
        la_row("2019-05", "738", "Bournemouth, Christchurch and Poole UA", "9"),
    )
    frame = read_nhs_dtoc(text, metrics=["days_total"])
    series = frame.groupby("unique_id")["y"].apply(list).to_dict()
    assert series == {
        "dtoc_days/dorset": [5.0, 6.0, 7.0],
        "dtoc_days/poole": [0.0],
        "dtoc_days/bournemouth-christchurch-and-poole": [9.0],
    }


def test_a_code_renamed_outright_takes_its_latest_name() -> None:
    text = la_csv(la_row("2019-01", "500", "Old Shire", "1"), la_row("2019-02", "500", "New Shire"))
    frame = read_nhs_dtoc(text, metrics=["days_total"])
    assert set(frame["unique_id"]) == {"dtoc_days/new-shire"}


def test_two_codes_with_one_name_are_refused() -> None:
    text = la_csv(la_row("2019-01", "500", "Shire"), la_row("2019-01", "501", "Shire UA"))
    (problem,) = rejected(text, metrics=["days_total"])
    assert problem.column == "la_code_legacy"
    assert "500, 501" in problem.found


# --- made-up files: every problem names row and column ----------------------------------------


def test_non_numeric_days_value_names_row_and_column() -> None:
    text = la_csv(
        la_row("2019-01", "404", "Warwickshire"), la_row("2019-02", "404", "Warwickshire", "lots")
    )
    (problem,) = rejected(text)
    assert (problem.row, problem.column, problem.found) == (3, "days_total", "'lots'")


def test_negative_and_blank_days_values() -> None:
    text = la_csv(
        la_row("2019-01", "404", "Warwickshire", "-4"), la_row("2019-02", "404", "Warwickshire", "")
    )
    problems = rejected(text, metrics=["days_total"])
    assert [(p.row, p.column, p.found) for p in problems] == [
        (2, "days_total", "'-4' (negative)"),
        (3, "days_total", "a blank value"),
    ]


def test_bad_month_names_row_and_column() -> None:
    (problem,) = rejected(la_csv(la_row("2019-13", "404", "Warwickshire")))
    assert (problem.row, problem.column, problem.found) == (2, "month", "'2019-13'")


def test_missing_month_is_a_gap_in_that_series() -> None:
    text = la_csv(
        la_row("2019-01", "404", "Warwickshire"), la_row("2019-03", "404", "Warwickshire")
    )
    problems = rejected(text, metrics=["days_total"])
    assert [(p.series_id, p.column) for p in problems] == [("dtoc_days/warwickshire", "month")]
    assert "2019-02-01" in problems[0].found


def test_repeated_month_names_the_file_row() -> None:
    text = la_csv(
        la_row("2019-01", "404", "Warwickshire"), la_row("2019-01", "404", "Warwickshire")
    )
    problems = rejected(text, metrics=["days_total"])
    assert [(p.row, p.column) for p in problems] == [(3, "month")]
    assert "first on row 2" in problems[0].found


def test_missing_column_and_empty_selection() -> None:
    (problem,) = rejected("month,days_total,days_nhs\n2019-01,1,1\n")
    assert (problem.row, problem.column) == (1, "days_social_care")
    (problem,) = rejected(la_csv(la_row("2019-01", "ENG", "England", geo="country")))
    assert problem.column == "geography_type"
    assert "country" in problem.found


def test_empty_and_binary_files_are_refused() -> None:
    assert rejected("")[0].found == "an empty file"
    assert "ZIP" in rejected(b"PK\x03\x04xx")[0].found


def test_unknown_metric_or_geography_is_a_caller_error() -> None:
    with pytest.raises(ValueError, match="metrics"):
        read_nhs_dtoc(la_csv(la_row("2019-01", "404", "W")), metrics=["days_lost"])
    with pytest.raises(ValueError, match="geography"):
        read_nhs_dtoc(la_csv(la_row("2019-01", "404", "W")), geography="region")
