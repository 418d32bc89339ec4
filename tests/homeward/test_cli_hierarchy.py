"""`homeward forecast --hierarchy`: every parent written is the sum of its children."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from homeward.cli import main


def _history(path: Path, with_parent: bool) -> None:
    rng = np.random.default_rng(7)
    ds = pd.date_range("2019-01-01", periods=48, freq="MS")
    season = 1 + 0.2 * np.sin(2 * np.pi * np.arange(48) / 12)
    kids = {k: base * season + rng.normal(0, 5, 48) for k, base in (("a", 100), ("b", 60))}
    series = dict(kids)
    if with_parent:  # the county's own records differ a little from its districts' sum
        series["county"] = kids["a"] + kids["b"] + rng.normal(0, 8, 48)
    rows = [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in series.items()]
    pd.concat(rows).to_csv(path, index=False, date_format="%Y-%m-%d")


def _forecast(tmp_path: Path, *extra: str) -> int:
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "6"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "seasonal_naive,ses"]
    args += ["--folds", "2", "--jobs", "1", "--hierarchy", str(tmp_path / "h.csv")]
    return main([*args, *extra])


@pytest.mark.parametrize("how", ["wls_struct", "bottom_up"])
def test_forecast_cli_writes_coherent_parents(tmp_path: Path, how: str) -> None:
    _history(tmp_path / "in.csv", with_parent=how == "wls_struct")
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,b\n")
    assert _forecast(tmp_path, "--reconcile", how) == 0
    out = pd.read_csv(tmp_path / "out.csv").set_index(["unique_id", "ds"])
    assert set(out.index.get_level_values(0)) == {"a", "b", "county"}
    county, a, b = (out.loc[k, "mean"].to_numpy() for k in ("county", "a", "b"))
    assert np.allclose(county, a + b, atol=1e-3)
    expected = "bottom_up" if how == "bottom_up" else "+wls_struct"
    assert out.loc["county", "model"].str.endswith(expected).all()


def test_forecast_cli_rejects_a_bad_hierarchy_before_forecasting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(tmp_path / "in.csv", with_parent=True)
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,\n")
    assert _forecast(tmp_path) == 2
    # the file's third line (the header is row 1), as the CLI's other file messages count
    assert "hierarchy row 3: expected a series id in child_id" in capsys.readouterr().err
    assert not (tmp_path / "out.csv").exists()


def test_forecast_cli_wls_struct_needs_the_parent_in_the_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(tmp_path / "in.csv", with_parent=False)
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,b\n")
    assert _forecast(tmp_path) == 2
    err = capsys.readouterr().err
    assert "row 2, column 'parent_id': expected a series of --input" in err
    assert "found 'county', which has no rows there (--reconcile wls_struct" in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("how", ["wls_struct", "bottom_up"])
def test_forecast_cli_names_the_hierarchy_row_of_a_child_missing_from_the_input(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    # a tree written for more areas than the history holds (an authority left out)
    _history(tmp_path / "in.csv", with_parent=True)
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,b\ncounty,c\n")
    assert _forecast(tmp_path, "--reconcile", how) == 2
    err = capsys.readouterr().err
    assert "--hierarchy" in err and "row 4, column 'child_id': expected a series of --input" in err
    assert "found 'c', which has no rows there (a leaf is forecast from its own history)" in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("how", ["wls_struct", "bottom_up"])
def test_forecast_cli_writes_sample_paths_that_add_up(
    tmp_path: Path, how: str, capsys: pytest.CaptureFixture[str]
) -> None:
    _history(tmp_path / "in.csv", with_parent=how == "wls_struct")
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,b\n")

    def paths(seed: str, name: str) -> pd.DataFrame:
        out = str(tmp_path / name)
        extra = ["--paths", "7", "--paths-output", out, "--seed", seed]
        assert _forecast(tmp_path, "--reconcile", how, *extra) == 0
        return pd.read_csv(out)

    first = paths("3", "paths.csv")
    assert list(first.columns) == ["unique_id", "ds", "path", "y"]
    assert len(first) == 3 * 6 * 7  # series x horizon x paths
    assert set(first["path"]) == set(range(7))
    assert (first.groupby("unique_id")["path"].nunique() == 7).all()
    grid = first.pivot_table(index=["ds", "path"], columns="unique_id", values="y")
    # four decimals in the file: the sum of two rounded children is within 1e-4
    assert np.allclose(grid["county"], grid["a"] + grid["b"], rtol=0, atol=2e-4)
    assert "wrote 7 sample paths per series to" in capsys.readouterr().out
    pd.testing.assert_frame_equal(paths("3", "again.csv"), first)
    assert not np.allclose(paths("4", "other.csv")["y"], first["y"])


def reconciled_combination_history() -> pd.DataFrame:
    """Districts a and b and their county: a weak season under a rising level and noise, where
    neither seasonal naive (noisy) nor ses (no season, lagging the rise) beats their mean, so
    mean_best2 is chosen for every one (tests/api/test_reconciled_members.py reads it too)."""
    rng = np.random.default_rng(0)
    ds = pd.date_range("2019-01-01", periods=48, freq="MS")
    level = (1 + 0.1 * np.sin(2 * np.pi * np.arange(48) / 12)) * (1 + 0.01 * np.arange(48))
    kids = {k: base * level + rng.normal(0, 10, 48) for k, base in (("a", 100), ("b", 60))}
    series = kids | {"county": kids["a"] + kids["b"] + rng.normal(0, 10, 48)}
    return pd.concat([pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in series.items()])


def test_a_reconciled_combination_names_its_members(tmp_path: Path) -> None:
    """`mean_best2+wls_struct` is mean_best2 moved to add up: --metrics named the two models
    the `mean_best2` row averaged but not the reconciled row's, the forecast written."""
    history = reconciled_combination_history()
    history.to_csv(tmp_path / "in.csv", index=False, date_format="%Y-%m-%d")
    (tmp_path / "h.csv").write_text("parent_id,child_id\ncounty,a\ncounty,b\n")
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "6"]
    args += ["--output", str(tmp_path / "out.csv"), "--metrics", str(tmp_path / "m.csv")]
    args += ["--models", "seasonal_naive,ses,mean_best2", "--folds", "2", "--jobs", "1"]
    assert main([*args, "--hierarchy", str(tmp_path / "h.csv")]) == 0
    metrics = pd.read_csv(tmp_path / "m.csv", dtype=str, keep_default_na=False)
    chosen = metrics[metrics["chosen"] == "true"]  # as GET /v1/metrics.csv writes it
    assert dict(zip(chosen["unique_id"], chosen["model"], strict=True)) == {
        uid: "mean_best2+wls_struct" for uid in ("a", "b", "county")
    }
    members = metrics.set_index(["unique_id", "model"])["members"]
    for uid in ("a", "b", "county"):  # the parent's: its own mean_best2's
        assert members[uid, "mean_best2+wls_struct"] == members[uid, "mean_best2"], uid
        assert set(members[uid, "mean_best2"].split(";")) == {"seasonal_naive", "ses"}
