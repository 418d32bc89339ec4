"""`homeward forecast` and a pipeline run warn of intervals of zero width and of a level shift
that seasonal naive carries forward (forecast.notes)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeward.cli import main
from homeward.pipeline import forecast_by_frequency
from homeward.settings import Settings


def _history() -> pd.DataFrame:
    """'drop': 60 months around 50 with a winter rise, the last 6 around 12; 'flat': 4 each
    month."""
    ds = pd.date_range(end="2026-10-01", periods=60, freq="MS")
    t = np.arange(60)
    level = np.where(t >= 54, 12.0, 50.0)
    y = level * (1 + 0.3 * np.sin(2 * np.pi * t / 12)) + np.random.default_rng(1).normal(0, 1, 60)
    return pd.concat(
        [
            pd.DataFrame({"unique_id": "drop", "ds": ds, "y": np.round(y)}),
            pd.DataFrame({"unique_id": "flat", "ds": ds, "y": 4.0}),
        ]
    )


def test_the_forecast_command_warns_of_both(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    _history().to_csv(path, index=False)
    args = ["forecast", "--input", str(path), "--horizon", "6", "--output", str(out)]
    assert main([*args, "--models", "seasonal_naive", "--jobs", "1"]) == 0
    assert "1 series' level shifted within the last season" in caplog.text
    assert "drop (seasonal_naive; from 2026-05-01 at" in caplog.text
    assert "flat (6 of 6 periods; a constant history)" in caplog.text
    caplog.clear()
    assert main([*args, "--models", "seasonal_naive", "--jobs", "1", "--adjust-level-shifts"]) == 0
    assert "level shifted" not in caplog.text


def test_the_pipeline_run_warns_of_both(sqlite_settings: Settings) -> None:
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    warnings = forecast_by_frequency(_history(), fast, lambda _m: None).warnings
    [shifted] = [w for w in warnings if "level shifted" in w]
    assert "drop (seasonal_naive; from 2026-05-01 at" in shifted
    [flat] = [w for w in warnings if "zero width" in w]
    assert "flat (" in flat and "a constant history" in flat
