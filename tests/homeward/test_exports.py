"""The CSV a spreadsheet user downloads: solver round-off is not written out."""

from __future__ import annotations

import math

import pandas as pd

from homeward.exports import csv_text, tidy


def test_solver_round_off_is_written_as_a_spreadsheet_shows_it() -> None:
    frame = pd.DataFrame(
        {
            "capital_gbp": [1013778.0000000001, 110133.29999999999, 1.4551915228366852e-11],
            "dual": [-3.2e-12, 0.000123456789123, math.nan],
            "period": [0, 1, 2],
            "ds": pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19"]),
        }
    )
    text = csv_text(frame)
    assert text.splitlines() == [
        "capital_gbp,dual,period,ds",
        "1013778.0,0.0,0,2026-01-05",
        "110133.3,0.0001234567891,1,2026-01-12",
        "0.0,,2,2026-01-19",
    ]
    assert frame["capital_gbp"].iloc[0] == 1013778.0000000001  # the caller's frame is unchanged
    assert tidy(frame)["period"].tolist() == [0, 1, 2]
