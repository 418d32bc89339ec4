"""The CSV a spreadsheet user downloads: solver round-off is not written out."""

from __future__ import annotations

import math

import pandas as pd

from homeward.exports import csv_text, tidy, without_round_off


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


def test_round_off_in_money_is_judged_against_the_largest_figure_in_its_column() -> None:
    """A budget spent to the penny leaves -1.06e-09 GBP of headroom beside millions: written
    0.0, not -1.062289812e-09 (an overspend, to a spreadsheet reader). Other columns may mix
    units or scales (a small forecast beside a large one), so they keep small figures."""
    frame = pd.DataFrame(
        {
            "headroom_gbp": [-1.0622898e-09, 2_500_000.0, 12.5],
            "dual": [3.5e-09, 1.25e-08, 0.0],
            "mean": [2.5e-06, 2_500_000.0, 0.0],
        }
    )
    assert csv_text(frame).splitlines()[1:] == [
        "0.0,3.5e-09,2.5e-06",
        "2500000.0,1.25e-08,2500000.0",
        "12.5,0.0,0.0",
    ]


def test_a_change_is_round_off_only_beside_the_figures_it_is_between() -> None:
    assert without_round_off(-3.7e-09, 4_100_000.0, 4_100_000.0) == 0.0
    assert without_round_off(-1.1e-13, 0.0) == 0.0
    assert without_round_off(-0.01, 4_100_000.0) == -0.01
    assert without_round_off(2e-09, 0.5, 0.5) == 2e-09  # small figures: a change of 2e-09 of 1
