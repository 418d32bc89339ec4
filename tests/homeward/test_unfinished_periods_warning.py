"""A pipeline run says which series end in a week or month not yet over (their partial counts
pull forecasts down), in one grouped sentence as it does for stale histories."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeward import ingest
from homeward.cli import main
from homeward.ingest import unfinished_warning
from homeward.pipeline import forecast_by_frequency
from homeward.settings import Settings

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def weekly(uid: str, end: str, periods: int = 120) -> pd.DataFrame:
    weeks = pd.date_range(end=end, periods=periods, freq="W-MON")
    return pd.DataFrame({"unique_id": uid, "ds": weeks, "y": 20.0 + np.arange(periods) % 7})


def test_the_warning_names_the_first_five_and_counts_the_rest() -> None:
    unfinished = {f"referrals/ot/d{i}": pd.Timestamp("2026-11-16") for i in range(7)}
    text = unfinished_warning(unfinished)
    assert text is not None
    assert text.startswith("7 series' newest periods have not ended yet (today is 2026-11-18): ")
    assert "referrals/ot/d0 (2026-11-16)" in text and "referrals/ot/d4 (2026-11-16)" in text
    assert "referrals/ot/d5" not in text and " and 2 more;" in text
    assert "a partial count pulls a forecast down" in text
    one = unfinished_warning({"referrals/ot/d0": pd.Timestamp("2026-11-16")})
    assert one is not None and one.startswith("1 series' newest period has not ended yet")
    assert unfinished_warning({}) is None


def test_the_pipeline_run_warns_of_a_week_not_yet_over(sqlite_settings: Settings) -> None:
    history = pd.concat(
        [
            weekly("referrals/ot/this-week", "2026-11-16"),  # 16-22 November: not over
            weekly("referrals/ot/last-week", "2026-11-09"),  # over on the 16th
        ],
        ignore_index=True,
    )
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    forecasts = forecast_by_frequency(history, fast, lambda _m: None)
    [warning] = forecasts.warnings
    assert warning.startswith(
        "1 series' newest period has not ended yet (today is 2026-11-18): "
        "referrals/ot/this-week (2026-11-16); they are left out of this run's forecasts"
    )
    # its partial week is not fitted: its forecast starts with that week, with the other's
    [run] = forecasts.runs
    starts = run.forecasts.groupby("unique_id")["ds"].min()
    assert starts["referrals/ot/this-week"] == starts["referrals/ot/last-week"]
    assert starts["referrals/ot/this-week"] == pd.Timestamp("2026-11-16")


def test_a_partial_week_does_not_pull_the_pipelines_forecast_down(
    sqlite_settings: Settings,
) -> None:
    """An export made on a Wednesday: 3 referrals so far in a week that usually has 20 to 26.
    Fitted, it pulled a council's forecast down by a fifth; now the week is forecast instead."""
    full = weekly("referrals/ot/rugby", "2026-11-09")
    partial = pd.DataFrame({"unique_id": ["referrals/ot/rugby"], "ds": ["2026-11-16"], "y": [3.0]})
    partial["ds"] = pd.to_datetime(partial["ds"])
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    with_partial = forecast_by_frequency(pd.concat([full, partial]), fast, lambda _m: None)
    without = forecast_by_frequency(full, fast, lambda _m: None)
    pd.testing.assert_frame_equal(with_partial.runs[0].forecasts, without.runs[0].forecasts)


def test_import_warns_of_a_week_not_yet_over(
    db_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """`homeward import` stores the figures and says which series end in a week not yet over,
    judged on the series as stored: a later correction of old weeks says nothing."""
    frame = weekly("referrals/ot/rugby", "2026-11-16")
    path = tmp_path / "rugby.csv"
    frame.to_csv(path, index=False, date_format="%Y-%m-%d")
    assert main(["import", str(path)]) == 0
    assert "1 series' newest period has not ended yet (today is 2026-11-18)" in caplog.text
    caplog.clear()
    ended = weekly("referrals/ot/rugby", "2026-11-09").tail(3).assign(y=30.0)
    ended.to_csv(path, index=False, date_format="%Y-%m-%d")
    assert main(["import", str(path)]) == 0
    assert "1 series' newest period has not ended yet" in caplog.text  # still the newest week
    caplog.clear()
    whole = weekly("referrals/ot/warwick", "2026-11-09")
    whole.to_csv(path, index=False, date_format="%Y-%m-%d")
    assert main(["import", str(path)]) == 0
    assert "has not ended" not in caplog.text and "a year or more" not in caplog.text
