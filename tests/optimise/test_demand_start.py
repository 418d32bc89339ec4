"""A plan starts when every service and district has demand, and says which started late."""

from __future__ import annotations

import pandas as pd

from optimise.demand import late_start


def _demand(firsts: dict[str, str]) -> pd.DataFrame:
    return pd.concat(
        [
            pd.DataFrame(
                {
                    "service": "ot",
                    "district": district,
                    "ds": pd.date_range(first, periods=3, freq="W-MON"),
                    "cases": 1.0,
                }
            )
            for district, first in firsts.items()
        ],
        ignore_index=True,
    )


def test_the_late_series_and_the_plans_start_are_named() -> None:
    demand = _demand({"a": "2026-01-05", "b": "2026-01-12", "c": "2026-01-05"})
    assert late_start(demand, ("ot",), ("a", "b", "c")) == (
        "demand for ot/b starts 2026-01-12, later than the rest (from 2026-01-05): the plan "
        "starts 2026-01-12, the first period every service and district has demand for"
    )


def test_no_warning_when_all_start_together_or_only_others_start_early() -> None:
    demand = _demand({"a": "2026-01-12", "b": "2026-01-12", "outside": "2026-01-05"})
    assert late_start(demand, ("ot",), ("a", "b")) is None


def test_when_most_start_late_the_few_that_start_early_are_named() -> None:
    demand = _demand({"a": "2026-01-12", "b": "2026-01-05", "c": "2026-01-12"})
    assert late_start(demand, ("ot",), ("a", "b", "c")) == (
        "demand for ot/b starts 2026-01-05, earlier than the rest (from 2026-01-12): the plan "
        "starts 2026-01-12, the first period every service and district has demand for, and "
        "leaves out its earlier periods"
    )
