"""A spreadsheet's total row (id 'Total', 'all') is refused as a total to leave out, not told
how to spell it: stored, it would be one more series beside the ones it adds up."""

from __future__ import annotations

import pytest

from homeward.errors import ValidationFailed
from homeward.ingest import read_observations_csv


@pytest.mark.parametrize("label", ["Total", "total", "TOTAL", "All", "all"])
def test_a_total_row_is_told_to_be_left_out(label: str) -> None:
    text = (
        "unique_id,ds,y\n"
        "dtoc_days/e06000001,2024-01,10\ndtoc_days/e06000001,2024-02,12\n"
        f"{label},2024-01,10\n{label},2024-02,12\n"
    )
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv")
    problems = caught.value.problems
    assert [(p.row, p.column) for p in problems] == [(4, "unique_id"), (5, "unique_id")]
    found = problems[0].found
    assert found.startswith(f"'{label}' (a total row: leave it out; Homeward adds series up")
    assert "--hierarchy" in found
    assert "capitals" not in found and "write" not in found


def test_an_id_ending_in_total_is_still_a_series() -> None:
    text = "unique_id,ds,y\nreferrals/total,2024-01,10\nreferrals/total,2024-02,12\n"
    frame = read_observations_csv(text, "t.csv")
    assert set(frame["unique_id"]) == {"referrals/total"}
