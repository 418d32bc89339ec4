"""A plan whose first weeks are already over says so: its start is where the referral history
ends, which a stale upload (or the demo's fixed history) leaves in the past."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

import pandas as pd

from homeward.planning import started_in_the_past


def _inputs(first: str, periods: int = 52, days: int = 7) -> Any:
    starts = tuple(pd.date_range(first, periods=periods, freq=f"{days}D"))
    return SimpleNamespace(period_start=starts, period_days=days)


def test_a_plan_started_weeks_ago_says_how_many_weeks_are_over() -> None:
    warning = started_in_the_past(_inputs("2026-01-05"), date(2026, 11, 23))
    assert warning is not None
    assert warning.startswith("the plan starts 2026-01-05, 46 weeks before today (2026-11-23)")
    assert "its first 46 of 52 periods are over" in warning and "upload newer referrals" in warning


def test_a_plan_whose_every_period_is_over_counts_no_more_than_it_has() -> None:
    warning = started_in_the_past(_inputs("2024-01-01", periods=4), date(2026, 11, 23))
    assert warning is not None and "its first 4 of 4 periods are over" in warning


def test_a_plan_starting_this_week_or_later_has_no_warning() -> None:
    assert started_in_the_past(_inputs("2026-11-16"), date(2026, 11, 22)) is None  # 6 days in
    assert started_in_the_past(_inputs("2026-11-30"), date(2026, 11, 23)) is None
    one = started_in_the_past(_inputs("2026-11-16"), date(2026, 11, 23))
    assert one is not None and "1 week before today" in one
