"""`homeward forecast` on the files an analyst really has: each bad one refused once, before any
forecasting, naming where, what was expected and what was found; nothing half-written."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from homeward import commands
from homeward.cli import main

SERIES = "referrals/ot/rugby"
_WITH_PATHS = {"--paths-output": ["--paths", "2"]}  # --paths-output needs --paths


def _monthly(series_id: str = SERIES, periods: int = 30) -> pd.DataFrame:
    ds = pd.date_range("2022-01-01", periods=periods, freq="MS")
    y = 40 + 5 * np.sin(2 * np.pi * np.arange(periods) / 12) + np.arange(periods) % 3
    return pd.DataFrame({"unique_id": series_id, "ds": ds.strftime("%Y-%m-%d"), "y": y})


@pytest.fixture
def history(tmp_path: Path) -> Path:
    path = tmp_path / "in.csv"
    _monthly().to_csv(path, index=False)
    return path


@pytest.fixture
def no_forecasting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Refusals must come before minutes of fitting, not after them."""

    def refuse(*_args: Any, **_kwargs: Any) -> None:
        raise AssertionError("forecasting started before the input was refused")

    monkeypatch.setattr(commands, "run_forecasts", refuse)
    yield


def _forecast(*args: str) -> int:
    fast = ["--models", "naive", "--folds", "1", "--jobs", "1"]
    return main(["forecast", *args, *fast])


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith("homeward forecast: ")
    return line


def _symlink_to_input(tmp_path: Path) -> str:
    link = tmp_path / "link.csv"
    link.symlink_to(tmp_path / "in.csv")
    return str(link)


@pytest.mark.parametrize(
    ("flag", "target", "clash"),
    [
        ("--output", lambda tmp: str(tmp / "in.csv"), "--input"),
        ("--output", _symlink_to_input, "--input"),
        ("--metrics", lambda tmp: str(tmp / "in.csv"), "--input"),
        ("--shifts", lambda tmp: str(tmp / "in.csv"), "--input"),
        ("--metrics", lambda tmp: str(tmp / "out.csv"), "--output"),
        ("--shifts", lambda tmp: str(tmp / "sub" / ".." / "out.csv"), "--output"),
        ("--paths-output", lambda tmp: str(tmp / "in.csv"), "--input"),
        ("--paths-output", lambda tmp: str(tmp / "out.csv"), "--output"),
        ("--paths-output", lambda tmp: str(tmp / "metrics.csv"), "--metrics"),
    ],
)
def test_an_output_that_is_another_file_of_the_run_is_refused(
    tmp_path: Path,
    history: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    target: Callable[[Path], str],
    clash: str,
) -> None:
    (tmp_path / "sub").mkdir()
    before = history.read_bytes()
    args = ["--input", str(history), "--horizon", "3", "--output", str(tmp_path / "out.csv")]
    args += ["--metrics", str(tmp_path / "metrics.csv")] if flag == "--paths-output" else []
    args += _WITH_PATHS.get(flag, [])
    assert _forecast(*args, flag, target(tmp_path)) == 2
    line = _one_line_error(capsys)
    assert flag in line and clash in line and "found the same file" in line
    assert history.read_bytes() == before
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("flag", ["--output", "--metrics", "--shifts", "--paths-output"])
def test_an_output_that_is_a_folder_is_refused_before_forecasting(
    tmp_path: Path,
    history: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    flag: str,
) -> None:
    folder = tmp_path / "results"
    folder.mkdir()
    paths = {"--output": str(tmp_path / "out.csv"), flag: str(folder)}
    args = ["--input", str(history), "--horizon", "3", *_WITH_PATHS.get(flag, [])]
    assert _forecast(*args, *[part for item in paths.items() for part in item]) == 2
    line = _one_line_error(capsys)
    assert flag in line and str(folder) in line and "found a folder" in line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("flag", "make", "found"),
    [
        ("--input", lambda tmp: tmp / "no-such.csv", "nothing there"),
        ("--input", lambda tmp: tmp, "a folder"),
        ("--hierarchy", lambda tmp: tmp / "no-such.csv", "nothing there"),
    ],
)
def test_an_input_that_is_not_a_file_is_named_with_expected_and_found(
    tmp_path: Path,
    history: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    flag: str,
    make: Callable[[Path], Path],
    found: str,
) -> None:
    paths = {"--input": str(history), flag: str(make(tmp_path))}
    args = [part for item in paths.items() for part in item]
    assert _forecast(*args, "--horizon", "3", "--output", str(tmp_path / "out.csv")) == 2
    line = _one_line_error(capsys)
    assert flag in line and str(make(tmp_path)) in line
    assert "expected a CSV file" in line and f"found {found}" in line


@pytest.mark.parametrize(
    ("freq", "horizon", "most"),
    [("MS", "100000", "2830"), ("W-MON", "700000", "12403")],
)
def test_a_horizon_past_the_last_representable_date_is_refused_before_forecasting(
    tmp_path: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    freq: str,
    horizon: str,
    most: str,
) -> None:
    ds = pd.date_range("2024-01-01", periods=30, freq=freq).strftime("%Y-%m-%d")
    path = tmp_path / "in.csv"
    pd.DataFrame({"unique_id": SERIES, "ds": ds, "y": 5.0}).to_csv(path, index=False)
    args = ["--input", str(path), "--horizon", horizon, "--output", str(tmp_path / "out.csv")]
    assert _forecast(*args) == 2
    line = _one_line_error(capsys)
    assert f"series '{SERIES}'" in line and "horizon" in line
    assert f"at most {most} periods" in line and f"found {horizon}" in line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(("lonely", "with_others"), [("2023-06-01", True), ("2024-06-03", False)])
def test_a_series_with_one_value_is_refused_not_given_zero_width_intervals(
    tmp_path: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    lonely: str,
    with_others: bool,
) -> None:
    one = pd.DataFrame({"unique_id": ["referrals/ot/warwick"], "ds": [lonely], "y": [7.0]})
    path = tmp_path / "in.csv"
    pd.concat([_monthly(), one] if with_others else [one]).to_csv(path, index=False)
    args = ["--input", str(path), "--horizon", "3", "--output", str(tmp_path / "out.csv")]
    assert _forecast(*args) == 2
    line = _one_line_error(capsys)
    assert "series 'referrals/ot/warwick'" in line and "'y'" in line
    assert "at least 2 observed values" in line and f"found 1 ({lonely})" in line
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("failing", ["metrics", "shifts", "paths"])
def test_a_failed_write_leaves_every_output_as_it_was(
    tmp_path: Path,
    history: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    failing: str,
) -> None:
    out = tmp_path / "out.csv"
    out.write_text("yesterday's forecasts\n")
    real_to_csv = pd.DataFrame.to_csv

    def disk_full(frame: pd.DataFrame, path: Any = None, *args: Any, **kwargs: Any) -> Any:
        if path is not None and failing in str(path):
            raise OSError(28, "No space left on device")
        return real_to_csv(frame, path, *args, **kwargs)

    monkeypatch.setattr(pd.DataFrame, "to_csv", disk_full)
    args = ["--input", str(history), "--horizon", "3", "--output", str(out)]
    args += ["--metrics", str(tmp_path / "metrics.csv"), "--shifts", str(tmp_path / "shifts.csv")]
    args += ["--paths", "3", "--paths-output", str(tmp_path / "paths.csv")]
    assert _forecast(*args) == 2
    assert "No space left on device" in _one_line_error(capsys)
    assert out.read_text() == "yesterday's forecasts\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv", "out.csv"]


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ("unique_id,ds,y\nx,01/02/2024,5\n", ["row 2", "'ds'", "YYYY-MM-DD", "'01/02/2024'"]),
        ("unique_id,ds,y\nx,2024-01-01 00:00:00,5\n", ["row 2", "'ds'", "YYYY-MM-DD"]),
        ("unique_id,ds,y\nx,2024-01-01T00:00:00Z,5\n", ["row 2", "'ds'", "YYYY-MM-DD"]),
        ('unique_id,ds,y\nx,2024-01-01,"1,234"\n', ["row 2", "'y'", "'1,234'"]),
        ("unique_id,ds,y\nx,2024-01-01,NA\n", ["row 2", "'y'", "'NA' (not a number)"]),
        ("unique_id,ds,y\nx,2024-01-01,\n", ["row 2", "'y'", "a blank value"]),
        ("unique_id,ds,y\nx,2024-01-01,-3\n", ["row 2", "'y'", "(negative)"]),
        ("unique_id,ds,y\nx,2024-01-01,lots\n", ["row 2", "'y'", "'lots'"]),
        ("unique_id,ds,y\nx,2024-01-01,1\nx,2024-01-01,2\n", ["row 3", "second row"]),
        ("unique_id,ds,y\nx,2024-01-01,1\nx,2024-03-01,2\n", ["series 'x'", "2024-02-01"]),
        ("unique_id;ds;y\nx;2024-01-01;1\n", ["row 1", "'unique_id;ds;y'"]),
        ("Unique_ID ,DS,y\nx,2024-01-01,1\n", ["row 1", "rename 'Unique_ID' to unique_id"]),
        ("unique_id,ds,y,note\nx,2024-01-01,1,n\n", ["row 1", "unknown column 'note'"]),
        ("", ["an empty file"]),
        ("unique_id,ds,y\n", ["a header only"]),
    ],
)
def test_a_bad_cell_or_header_is_refused_where_it_enters(
    tmp_path: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    body: str,
    words: list[str],
) -> None:
    path = tmp_path / "in.csv"
    path.write_text(body)
    args = ["--input", str(path), "--horizon", "3", "--output", str(tmp_path / "out.csv")]
    assert _forecast(*args) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith(f"homeward forecast: '{path}' was rejected")
    for word in words:
        assert word in err
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize("kind", ["symlink", "pipe"])
def test_an_output_through_a_symlink_or_a_pipe_is_written_through_it(
    tmp_path: Path, history: Path, kind: str
) -> None:
    out = tmp_path / "out.csv"
    received: list[str] = []
    if kind == "symlink":  # e.g. latest.csv -> 2025-06/forecasts.csv: the link stays a link
        (tmp_path / "2025-06").mkdir()
        real = tmp_path / "2025-06" / "forecasts.csv"
        real.write_text("old\n")
        out.symlink_to(real)
    else:  # e.g. --output /dev/stdout | head
        os.mkfifo(out)
        reader = threading.Thread(target=lambda: received.append(out.read_text()), daemon=True)
        reader.start()
    assert _forecast("--input", str(history), "--horizon", "3", "--output", str(out)) == 0
    if kind == "symlink":
        assert out.is_symlink() and out.read_text().startswith("unique_id,ds,model,mean")
    else:
        reader.join(timeout=60)
        assert received and received[0].startswith("unique_id,ds,model,mean")
    assert not [p for p in tmp_path.rglob("*.part")]


@pytest.mark.parametrize(
    ("given", "found"),
    [
        (["--paths", "5"], "found --paths 5 without --paths-output FILE"),
        (["--paths-output", "paths.csv"], "found --paths-output without --paths N"),
        (["--seed", "3"], "expected --paths N with it, found --seed 3 without --paths"),
    ],
)
def test_paths_and_paths_output_are_refused_one_without_the_other(
    tmp_path: Path,
    history: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    given: list[str],
    found: str,
) -> None:
    given = [str(tmp_path / g) if g.endswith(".csv") else g for g in given]
    args = ["--input", str(history), "--horizon", "3", "--output", str(tmp_path / "out.csv")]
    assert _forecast(*args, *given) == 2
    line = _one_line_error(capsys)
    assert found in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]


@pytest.mark.parametrize(
    ("count", "words"),
    [
        ("0", "expected a whole number of at least 1, found 0"),
        ("1001", "expected at most 1000 paths per series, found 1001"),
        ("many", "expected a whole number, found 'many'"),
    ],
)
def test_a_path_count_outside_1_to_1000_is_refused_where_it_enters(
    tmp_path: Path,
    history: Path,
    no_forecasting: None,
    capsys: pytest.CaptureFixture[str],
    count: str,
    words: str,
) -> None:
    args = ["--input", str(history), "--horizon", "3", "--output", str(tmp_path / "out.csv")]
    args += ["--paths", count, "--paths-output", str(tmp_path / "paths.csv")]
    with pytest.raises(SystemExit) as stopped:
        _forecast(*args)
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "--paths" in err and words in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.csv"]
