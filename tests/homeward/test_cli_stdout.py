"""`homeward forecast --output /dev/stdout | ...` gives a clean CSV: the summary goes to stderr."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from homeward.cli import main

HISTORY = "unique_id,ds,y\n" + "".join(
    f"mar/non_elective/england,{d:%Y-%m},{440000 + 1000 * (i % 12)}\n"
    for i, d in enumerate(pd.date_range("2017-01-01", periods=24, freq="MS"))
)


def _forecast(tmp_path: Path, output: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "in.csv").write_text(HISTORY)
    command = [sys.executable, "-m", "homeward.cli", "-q", "forecast"]
    command += ["--input", str(tmp_path / "in.csv"), "--horizon", "2", "--output", output]
    command += ["--models", "naive", "--jobs", "1"]
    return subprocess.run(command, capture_output=True, text=True, check=True, timeout=300)


def test_forecasts_piped_to_stdout_are_csv_alone(tmp_path: Path) -> None:
    done = _forecast(tmp_path, "/dev/stdout")
    piped = pd.read_csv(io.StringIO(done.stdout))
    assert list(piped.columns[:3]) == ["unique_id", "ds", "model"]
    assert len(piped) == 2 and piped["mean"].notna().all()
    assert "wrote 2 rows to /dev/stdout" in done.stderr


def test_a_file_output_keeps_the_summary_on_stdout(tmp_path: Path) -> None:
    done = _forecast(tmp_path, str(tmp_path / "out.csv"))
    assert done.stdout.startswith("wrote 2 rows to ")


def test_a_dash_output_is_standard_output_not_a_file_named_dash(tmp_path: Path) -> None:
    (tmp_path / "in.csv").write_text(HISTORY)
    command = [sys.executable, "-m", "homeward.cli", "-q", "forecast"]
    command += ["--input", "in.csv", "--horizon", "2", "--output", "-"]
    command += ["--models", "naive", "--jobs", "1"]
    done = subprocess.run(
        command, capture_output=True, text=True, check=True, timeout=300, cwd=tmp_path
    )
    piped = pd.read_csv(io.StringIO(done.stdout))
    assert list(piped.columns[:3]) == ["unique_id", "ds", "model"] and len(piped) == 2
    assert "wrote 2 rows to standard output" in done.stderr
    assert not (tmp_path / "-").exists()


@pytest.mark.parametrize("flag", ["--metrics", "--shifts", "--paths-output"])
def test_a_dash_for_another_output_is_refused_naming_it(
    tmp_path: Path, flag: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in.csv").write_text(HISTORY)
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "2"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "naive", "--jobs", "1", flag, "-"]
    if flag == "--paths-output":
        args += ["--paths", "2"]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert f"cannot write {flag} -: expected a file name ('-', standard output, is for " in err
    assert not (tmp_path / "out.csv").exists()


def test_another_output_on_standard_output_beside_dash_is_refused(tmp_path: Path) -> None:
    """`--output -` with `--metrics /dev/stdout`, or with `--metrics m.csv` while stdout is
    redirected to m.csv, would truncate the forecasts already written (a code review's case):
    refused before any fitting, as the /dev/stdout form already was."""
    (tmp_path / "in.csv").write_text(HISTORY)
    base = [sys.executable, "-m", "homeward.cli", "-q", "forecast", "--input"]
    base += [str(tmp_path / "in.csv"), "--horizon", "2", "--output", "-"]
    base += ["--models", "naive", "--jobs", "1"]
    both = subprocess.run(
        [*base, "--metrics", "/dev/stdout"], capture_output=True, text=True, timeout=300
    )
    assert both.returncode == 2, both.stderr
    assert "cannot write --metrics /dev/stdout: expected a file apart from --output" in both.stderr
    target = tmp_path / "m.csv"
    with target.open("w") as redirected:
        same = subprocess.run(
            [*base, "--metrics", str(target)],
            stdout=redirected,
            stderr=subprocess.PIPE,
            text=True,
            timeout=300,
        )
    assert same.returncode == 2, same.stderr
    assert f"cannot write --metrics {target}: expected a file apart from --output" in same.stderr
