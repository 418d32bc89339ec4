"""A forecast from a file whose newest week or month is still in progress warns about it."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from homeward import ingest
from homeward.cli import main
from homeward.ingest import read_observations_csv, unfinished_periods

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday; its week began 2026-11-16


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def history(weeks_end: str, months_end: str) -> str:
    weeks = pd.date_range(end=weeks_end, periods=30, freq="W-MON")
    months = pd.date_range(end=months_end, periods=30, freq="MS")
    rows = [f"referrals/ot/rugby,{d:%Y-%m-%d},{40 + i % 5}\n" for i, d in enumerate(weeks)]
    rows += [f"dtoc_days/warwickshire,{d:%Y-%m},{1500 + i % 7}\n" for i, d in enumerate(months)]
    return "unique_id,ds,y\n" + "".join(rows)


def test_this_week_and_this_month_are_unfinished() -> None:
    frame = read_observations_csv(history("2026-11-16", "2026-11-01"), "t.csv")
    assert unfinished_periods(frame) == {
        "dtoc_days/warwickshire": pd.Timestamp("2026-11-01"),
        "referrals/ot/rugby": pd.Timestamp("2026-11-16"),
    }


def test_last_week_and_last_month_have_ended() -> None:
    frame = read_observations_csv(history("2026-11-09", "2026-10-01"), "t.csv")
    assert unfinished_periods(frame) == {}


def test_forecast_warns_of_a_partial_newest_period(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "in.csv").write_text(history("2026-11-09", "2026-11-01"))
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "2"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "naive", "--jobs", "1"]
    assert main(args) == 0
    assert (
        "series dtoc_days/warwickshire: its newest period, starting 2026-11-01, has not ended"
        in caplog.text
    )
    assert "series referrals/ot/rugby: its newest period" not in caplog.text
