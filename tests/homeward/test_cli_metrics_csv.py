"""`homeward forecast --metrics`: counts are written as whole numbers, and a combination's
members are named in the last column."""

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


def test_a_combinations_members_are_the_last_column(tmp_path: Path) -> None:
    """An analyst could not tell which two models a series' mean_best2 averaged."""
    months = pd.date_range("2016-01-01", periods=48, freq="MS")
    history = pd.DataFrame({"unique_id": "mar/ne/england", "ds": months, "y": 400.0})
    history["y"] += [(i * 37) % 11 + 20 * (i % 12 in (0, 1, 11)) for i in range(48)]
    history.to_csv(tmp_path / "in.csv", index=False, date_format="%Y-%m-%d")
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "3"]
    args += ["--output", str(tmp_path / "out.csv"), "--metrics", str(tmp_path / "m.csv")]
    models = "naive,ses,theta,damped,mean_best2"
    assert main([*args, "--models", models, "--folds", "2", "--jobs", "1"]) == 0
    metrics = pd.read_csv(tmp_path / "m.csv", dtype=str, keep_default_na=False)
    assert metrics.columns[-1] == "members"
    members = dict(zip(metrics["model"], metrics["members"], strict=True))
    combined = members.pop("mean_best2").split(";")
    # two of the fitted models other than the naive baseline, which only stands in for them
    assert len(combined) == 2 and set(combined) <= {"ses", "theta", "damped"}
    assert set(members.values()) == {""}
