"""A series whose history ended a year or more ago is forecast from its end, and says so."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeward import ingest
from homeward.cli import main
from homeward.ingest import stale_series, stale_warning
from homeward.pipeline import forecast_by_frequency
from homeward.settings import Settings

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def monthly(uid: str, end: str, periods: int = 36) -> pd.DataFrame:
    months = pd.date_range(end=end, periods=periods, freq="MS")
    return pd.DataFrame({"unique_id": uid, "ds": months, "y": 100.0 + np.arange(periods) % 12})


def weekly(uid: str, end: str, periods: int = 120) -> pd.DataFrame:
    weeks = pd.date_range(end=end, periods=periods, freq="W-MON")
    return pd.DataFrame({"unique_id": uid, "ds": weeks, "y": 20.0 + np.arange(periods) % 7})


def test_a_series_is_stale_once_its_newest_period_ended_a_year_before_today() -> None:
    frame = pd.concat(
        [
            monthly("dtoc_days/old", "2018-12-01"),
            monthly("dtoc_days/a-year", "2025-10-01"),  # ended 2025-11-01, a year before today
            monthly("dtoc_days/recent", "2025-11-01"),  # ends 2025-12-01: not yet a year
            weekly("referrals/ot/a-year", "2025-11-10"),  # ended 2025-11-17
            weekly("referrals/ot/recent", "2025-11-17"),  # ends 2025-11-24
        ],
        ignore_index=True,
    )
    assert stale_series(frame) == {
        "dtoc_days/a-year": pd.Timestamp("2025-10-01"),
        "dtoc_days/old": pd.Timestamp("2018-12-01"),
        "referrals/ot/a-year": pd.Timestamp("2025-11-10"),
    }


def test_the_warning_names_the_oldest_five_and_counts_the_rest() -> None:
    stale = {f"dtoc_days/la-{i}": pd.Timestamp(f"201{i}-12-01") for i in range(8)}
    text = stale_warning(stale)
    assert text is not None
    assert text.startswith("8 series end a year or more before today (2026-11-18): ")
    assert "dtoc_days/la-0 (newest 2010-12-01)" in text and "dtoc_days/la-4" in text
    assert "dtoc_days/la-5" not in text and " and 3 more;" in text
    assert "for periods already over" in text
    assert stale_warning({}) is None
    one = stale_warning({"dtoc_days/x": pd.Timestamp("2018-12-01")})
    assert one is not None and one.startswith("1 series ends a year or more")


def test_forecast_warns_of_a_history_that_ended_long_ago(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    frame = pd.concat(
        [monthly("dtoc_days/old", "2018-12-01"), monthly("dtoc_days/new", "2026-10-01")]
    )
    (tmp_path / "in.csv").write_text(frame.to_csv(index=False, date_format="%Y-%m-%d"))
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "2"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "naive", "--jobs", "1"]
    assert main(args) == 0
    assert (
        "1 series ends a year or more before today (2026-11-18): dtoc_days/old (newest 2018-12-01)"
        in caplog.text
    )
    out = pd.read_csv(tmp_path / "out.csv", parse_dates=["ds"])
    assert out.loc[out["unique_id"] == "dtoc_days/old", "ds"].min() == pd.Timestamp("2019-01-01")


def test_the_pipeline_run_warns_of_a_history_that_ended_long_ago(
    sqlite_settings: Settings,
) -> None:
    history = pd.concat(
        [weekly("referrals/ot/a", "2026-11-09"), monthly("dtoc_days/old", "2018-12-01")],
        ignore_index=True,
    )
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    forecasts = forecast_by_frequency(history, fast, lambda _m: None)
    # (the old series repeats exactly every year, so seasonal naive's intervals have zero
    # width, which a warning of its own names)
    [warning] = [w for w in forecasts.warnings if "a year or more before today" in w]
    assert warning.startswith(
        "1 series ends a year or more before today (2026-11-18): dtoc_days/old"
    )
