"""`homeward forecast --metrics`: counts are written as whole numbers."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from homeward.cli import main


def test_folds_are_written_as_whole_numbers(tmp_path: Path) -> None:
    months = pd.date_range("2016-01-01", periods=36, freq="MS")
    history = pd.DataFrame({"unique_id": "mar/ne/england", "ds": months, "y": 400.0})
    history["y"] += [(i * 37) % 11 for i in range(36)]
    history.to_csv(tmp_path / "in.csv", index=False, date_format="%Y-%m-%d")
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "2"]
    args += ["--output", str(tmp_path / "out.csv"), "--metrics", str(tmp_path / "m.csv")]
    assert main([*args, "--models", "naive,ses", "--folds", "2", "--jobs", "1"]) == 0
    folds = pd.read_csv(tmp_path / "m.csv", dtype=str)["folds"]
    assert set(folds) == {"2"}
