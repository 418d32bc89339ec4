"""A plan whose first weeks are already over says so: its start is where the referral history
ends, which a stale upload (or the demo's fixed history) leaves in the past."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pandas as pd
import pytest

from homeward import demo_config
from homeward.cli import main
from homeward.planning import started_in_the_past
from tests.homeward.test_cli import _plan_files


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


def test_homeward_plan_gives_the_start_warnings_the_pipeline_gives(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`homeward plan --demand` on demand from 2026-01-05 (over, whenever this runs) with one
    district's first week missing: both warnings are printed and in --json, as a plan made by
    the pipeline or the API has them (they were logged at most)."""
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=4))
    config.write_text(json.dumps(demo_config.demo_planning_config(horizon_periods=3)))
    frame = pd.read_csv(demand_path)
    late = (frame["district"] == "rugby") & (frame["ds"] == "2026-01-05")
    frame.loc[~late].to_csv(demand_path, index=False)
    out_json = tmp_path / "plan.json"
    args = ["plan", "--config", str(config), "--demand", str(demand_path), "--json", str(out_json)]
    assert main(args) == 0
    warnings = json.loads(out_json.read_text())["warnings"]
    [late_start] = [w for w in warnings if w.startswith("demand for ")]
    assert "rugby" in late_start and "starts 2026-01-12" in late_start
    [over] = [w for w in warnings if w.startswith("the plan starts 2026-01-12, ")]
    assert "weeks before today" in over and "of 3 periods are over" in over
    # no referral history here: the demand file is why, and what would move it on
    assert "because the demand file starts there" in over and "upload" not in over
    assert over.endswith("give demand from this week on")
    printed = capsys.readouterr().out
    assert "rugby" in printed and "weeks before today" in printed
