"""A refused demand cell is quoted, or named blank: never an empty 'found'."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeward.demand_csv import read_demand_csv
from homeward.errors import ValidationFailed


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
        (4, "ds", "'05/01/2026'"),
    ]
