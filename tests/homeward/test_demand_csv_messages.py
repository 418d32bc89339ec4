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
