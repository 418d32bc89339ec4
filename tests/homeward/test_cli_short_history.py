"""`homeward forecast` on short histories: the metrics file keeps its columns, and series
backtested on fewer folds than asked are named in one grouped log line."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from homeward.cli import main

FULL_HEADER = (
    "unique_id,model,mase,smape,rmsse,pinball,coverage_80,coverage_95,folds,selection_mase,"
    "total_error_q10,total_error_q90,chosen,members"
)


def _history(path: Path, months: int, ids: tuple[str, ...] = ("dtoc_days/e06000001",)) -> None:
    ds = pd.date_range("2015-04-01", periods=months, freq="MS")
    frames = [
        pd.DataFrame(
            {"unique_id": uid, "ds": ds, "y": [300.0 + (i * 37 + k) % 41 for i in range(months)]}
        )
        for k, uid in enumerate(ids)
    ]
    pd.concat(frames).to_csv(path, index=False, date_format="%Y-%m-%d")


def _forecast(tmp_path: Path, horizon: int, folds: int = 3) -> int:
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", str(horizon)]
    args += ["--output", str(tmp_path / "out.csv"), "--metrics", str(tmp_path / "m.csv")]
    return main([*args, "--models", "naive,ses", "--folds", str(folds), "--jobs", "1"])


@pytest.mark.parametrize("months", [10, 36, 60])
def test_metrics_file_has_the_same_columns_whatever_the_history(
    tmp_path: Path, months: int
) -> None:
    _history(tmp_path / "in.csv", months)
    assert _forecast(tmp_path, 12) == 0
    header = (tmp_path / "m.csv").read_text().splitlines()[0]
    assert header == FULL_HEADER
    metrics = pd.read_csv(tmp_path / "m.csv")
    if months == 10:  # nothing could be measured: empty cells, not missing columns
        assert metrics["mase"].isna().all() and (metrics["folds"] == 0).all()


def test_fewer_folds_than_asked_are_logged_once_for_every_such_series(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    ids = ("dtoc_days/e06000001", "dtoc_days/e06000002", "dtoc_days/e06000003")
    _history(tmp_path / "in.csv", 36, ids)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12) == 0
    lines = [r.getMessage() for r in caplog.records if "fewer folds" in r.getMessage()]
    assert len(lines) == 1
    (line,) = lines
    assert line.startswith(
        "3 of 3 series backtested on fewer folds than the 3 asked, or shorter ones: 3 on 1 fold "
        "(e.g."
    )
    assert "36 months of history" in line and "--horizon 12" in line
    assert "3 folds need 50 months of history" in line
    assert set(pd.read_csv(tmp_path / "m.csv")["folds"]) == {1}


def test_a_series_too_short_for_one_full_fold_gets_a_shorter_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """20 months at --horizon 12: one full fold needs 26, so the series is backtested on one
    fold 6 months ahead (20 less the 14-month shortest training window), and the line says so."""
    _history(tmp_path / "in.csv", 20)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12) == 0
    (line,) = [r.getMessage() for r in caplog.records if "fewer folds" in r.getMessage()]
    assert "on 1 fold 6 months ahead (e.g." in line
    metrics = pd.read_csv(tmp_path / "m.csv")
    assert set(metrics["folds"]) == {1}
    assert metrics["mase"].notna().all()


def test_one_fold_asked_reads_in_the_singular(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """--folds 1 on 20 months at --horizon 12: one full fold needs 14 + 12 = 26 months."""
    _history(tmp_path / "in.csv", 20)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12, folds=1) == 0
    (line,) = [r.getMessage() for r in caplog.records if "fewer folds" in r.getMessage()]
    assert "than the 1 asked" in line and "so 1 fold needs 26 months of history" in line


def test_no_fewer_folds_line_when_every_series_gets_its_folds(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _history(tmp_path / "in.csv", 60)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 6) == 0
    assert not any("fewer folds" in r.getMessage() for r in caplog.records)
    assert set(pd.read_csv(tmp_path / "m.csv")["folds"]) == {3}


def test_a_horizon_longer_than_any_history_is_said_to_be_a_scenario(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """--horizon 60 on 36 months of history forecast five years from three, unremarked."""
    _history(tmp_path / "in.csv", 36)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 60, folds=1) == 0
    [line] = [r.getMessage() for r in caplog.records if "reaches further ahead" in r.getMessage()]
    assert line.startswith(
        "--horizon 60 reaches further ahead than any history reaches back (the longest monthly "
        "history is 36 months)"
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12, folds=1) == 0
    assert not any("reaches further ahead" in r.getMessage() for r in caplog.records)


def test_models_a_short_history_cannot_take_are_not_called_failures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ten months: seasonal naive needs a year, and no full backtest fold fits. The summary
    said '2 model failures replaced by fallbacks' for what is expected of such a series."""
    _history(tmp_path / "in.csv", 10)
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "3"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "seasonal_naive,ses"]
    assert main([*args, "--jobs", "1"]) == 0
    said = capsys.readouterr().out
    assert "model failures" not in said
    assert "1 series chose their model on fewer or shorter backtest folds" in said
    assert "models left out where a history is shorter than they need: seasonal_naive on 1" in said


def test_a_file_of_few_series_is_told_the_choice_and_intervals_rest_on_pooling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A council forecasting its one series alone got worse forecasts and intervals covering
    a quarter of the next year, with no word that the run pools errors over its series."""
    _history(tmp_path / "in.csv", 48)
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12) == 0
    [said] = [r.getMessage() for r in caplog.records if r.getMessage().startswith("only ")]
    assert said.startswith("only 1 monthly series: models are chosen and intervals calibrated")
    ids = tuple(f"dtoc_days/e0600000{k}" for k in range(5))
    _history(tmp_path / "in.csv", 48, ids)
    caplog.clear()
    with caplog.at_level(logging.WARNING):
        assert _forecast(tmp_path, 12) == 0
    assert not [r for r in caplog.records if r.getMessage().startswith("only ")]


def test_an_interrupted_forecast_says_nothing_was_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Ctrl-C printed nothing: the log stopped at 'series done' and an older output file
    stayed in place looking like the result."""
    _history(tmp_path / "in.csv", 48)
    (tmp_path / "out.csv").write_text("old\n")

    def interrupted(*args: object, **kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("homeward.commands.run_forecasts", interrupted)
    assert _forecast(tmp_path, 12) == 130
    assert capsys.readouterr().err.strip() == (
        "homeward forecast: interrupted; nothing written; files already at the output paths "
        "are as they were"
    )
    assert (tmp_path / "out.csv").read_text() == "old\n"
