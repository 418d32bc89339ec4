"""A refused demand cell is quoted, or named blank: never an empty 'found'."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeward import demo_config
from homeward.demand_csv import read_demand_csv
from homeward.errors import ValidationFailed
from optimise.config import PlanningConfig


def test_blank_and_bad_cells_are_named(tmp_path: Path) -> None:
    path = tmp_path / "demand.csv"
    path.write_text(
        "service,district,ds,cases\n"
        "ot,rugby,,5\n"  # blank date
        "ot,rugby,2026-01-05,\n"  # blank cases
        "ot,rugby,05/01/2026,3\n"  # a UK date
    )
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path)
    assert [(p.row, p.column, p.found) for p in caught.value.problems] == [
        (2, "ds", "a blank value"),
        (3, "cases", "a blank value"),
        (
            4,
            "ds",
            "'05/01/2026' (a spreadsheet date, read day first, as UK spreadsheets write it: "
            "write 2026-01-05)",
        ),
    ]


def test_weekly_demand_dated_by_week_ending_sundays_names_each_monday(tmp_path: Path) -> None:
    """The config plans weeks (period_days 7), named by their Mondays as the referral histories
    are; demand dated 'week ending' Sunday would make every plan week start on a Sunday."""
    path = tmp_path / "demand.csv"
    path.write_text("service,district,ds,cases\not,rugby,2026-01-05,5\not,rugby,2026-01-11,3\n")
    config = PlanningConfig.model_validate(demo_config.demo_planning_config(horizon_periods=2))
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path, config)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (3, "ds")
    assert problem.expected.startswith("a Monday YYYY-MM-DD (the config's periods are weeks")
    assert problem.found == "'2026-01-11' (a Sunday; date its week by its Monday, 2026-01-05)"
    monthly = config.model_copy(update={"period_days": 30})
    assert len(read_demand_csv(path, monthly)) == 2  # other periods: no day of the week


def test_grouped_thousands_are_told_the_number_as_import_tells_them(tmp_path: Path) -> None:
    """`homeward plan --demand` refused '1,078' with no hint; `homeward import` gives one."""
    path = tmp_path / "demand.csv"
    path.write_text(
        'service,district,ds,cases\not,rugby,2026-01-05,"1,078"\not,rugby,2026-01-12,-2\n'
    )
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path)
    assert [(p.row, p.column, p.found) for p in caught.value.problems] == [
        (2, "cases", "'1,078' (digits grouped with commas: write 1078)"),
        (3, "cases", "'-2' (negative)"),
    ]


def test_a_count_import_accepts_is_accepted_and_a_refused_one_named_as_import_names_it(
    tmp_path: Path,
) -> None:
    """'5' with a no-break space after it, as a spreadsheet may save it, is a count to
    `homeward import`: it was refused here as "more than 10,000,000 in one period"."""
    path = tmp_path / "demand.csv"
    path.write_text("service,district,ds,cases\not,rugby,2026-01-05,5\u00a0\n")
    assert read_demand_csv(path)["cases"].tolist() == [5.0]
    path.write_text(
        'service,district,ds,cases\not,rugby,2026-01-05,"1,078"\not,rugby,2026-01-12,-2\n'
    )
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path)
    assert [(p.row, p.found) for p in caught.value.problems] == [
        (2, "'1,078' (digits grouped with commas: write 1078)"),
        (3, "'-2' (negative)"),
    ]


def _demand_rows(districts: list[str]) -> str:
    """Demand of two weeks of the demo's 4 services for each district: 8 rows each."""
    weeks = ("2026-01-05", "2026-01-12")
    services = ("ot", "hao", "reablement", "domcare")
    rows = [f"{s},{d},{w},5" for d in districts for s in services for w in weeks]
    return "service,district,ds,cases\n" + "\n".join(rows) + "\n"


def _small_config(**changes: object) -> PlanningConfig:
    body = {**demo_config.demo_planning_config(horizon_periods=2), "winter": None, **changes}
    return PlanningConfig.model_validate(body)


def test_a_district_id_missing_a_letter_is_refused_at_its_first_row(tmp_path: Path) -> None:
    """'rugy' for the config's 'rugby' was left out with a warning, and the plan then refused
    for want of rugby's rows, naming neither the rows nor the id they were meant to have."""
    config = _small_config()
    ids = [d.id for d in config.districts]
    path = tmp_path / "demand.csv"
    path.write_text(_demand_rows([*ids[:2], "rugy", *ids[3:]]))
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path, config)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2 + 2 * 8, "district")  # rugby's first row
    assert problem.expected == f"one of the config's district ids ({', '.join(ids)})"
    assert problem.found == (
        "'rugy' on 8 rows, this the first, spelt nearly as the config's 'rugby' "
        "(districts[2].id), which no row has: the file or the config misspells it"
    )


def test_a_config_district_id_misspelt_is_named_at_its_config_field(tmp_path: Path) -> None:
    """The config wrong and the forecasts right ('warwik', 'warwick'): the refusal names the
    config field to mend, at the forecast file's first row of the district."""
    districts = demo_config.demo_planning_config()["districts"]
    districts[3] = {**districts[3], "id": "warwik"}
    config = _small_config(districts=districts)
    path = tmp_path / "forecasts.csv"
    ids = ["north-warwickshire", "nuneaton-and-bedworth", "rugby", "warwick", "stratford-on-avon"]
    path.write_text(
        "unique_id,ds,mean\n"
        + "".join(
            f"referrals/{s}/{d},{w},5\n"
            for s in ("ot", "hao", "reablement", "domcare")
            for d in ids
            for w in ("2026-01-05", "2026-01-12")
        )
    )
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path, config)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (2 + 3 * 2, "unique_id")
    assert problem.found == (
        "district 'warwick' on 8 rows, this the first, spelt nearly as the config's 'warwik' "
        "(districts[3].id), which no row has: the file or the config misspells it"
    )


def test_a_config_district_with_no_rows_names_the_ids_left_out(tmp_path: Path) -> None:
    """Rugby's rows under its ONS code, far from any config id, are left out as another
    area's; the plan then lacked rugby, and its error named no row and no id left out."""
    config = _small_config()
    ids = [d.id for d in config.districts]
    path = tmp_path / "demand.csv"
    path.write_text(_demand_rows([*ids[:2], "E07000220", *ids[3:]]))
    with pytest.raises(ValidationFailed) as caught:
        read_demand_csv(path, config)
    [problem] = caught.value.problems
    assert (problem.row, problem.column) == (None, "district")
    assert problem.expected == "rows of every district of the config, in its ids"
    assert problem.found == (
        "none of 'rugby' (districts[2].id), while rows of districts not in the config are left "
        "out: 'E07000220' (first on row 18); if one of them is 'rugby', write the config's id "
        "there (or the file's in the config)"
    )


def test_another_areas_rows_near_a_config_id_it_has_are_left_out_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A file may hold other councils' rows: the county's 'warwickshire' is spelt nearly as
    'north-warwickshire', whose rows the file has, so it is no misspelling of it."""
    config = _small_config()
    ids = [d.id for d in config.districts]
    path = tmp_path / "demand.csv"
    path.write_text(_demand_rows([*ids, "warwickshire"]))
    demand = read_demand_csv(path, config)  # the plan leaves its rows out (build_inputs)
    assert demand["district"].value_counts()["warwickshire"] == 8
    assert "demand for district ['warwickshire'] is not in the config; left out" in caplog.text
