"""`homeward forecast --fill-gaps`: a missed monthly return no longer blocks a whole file."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from homeward.cli import main
from homeward.errors import ValidationFailed
from homeward.ingest import is_missing_periods, read_observations_csv
from tests.conftest import real_data

HEADER = "unique_id,ds,y\n"


def monthly(series_id: str, months: pd.DatetimeIndex, drop: tuple[int, ...] = ()) -> str:
    return "".join(
        f"{series_id},{d:%Y-%m},{100 + 3 * i + (i % 12) * 5}\n"
        for i, d in enumerate(months)
        if i not in drop
    )


MONTHS = pd.date_range("2016-04-01", periods=36, freq="MS")


def test_allow_gaps_leaves_a_missing_month_out_of_the_frame() -> None:
    text = HEADER + monthly("ae/type1/rfr", MONTHS, drop=(7,)) + monthly("ae/type1/rf4", MONTHS)
    frame = read_observations_csv(text, "t.csv", allow_gaps=True)
    rfr = frame[frame["unique_id"] == "ae/type1/rfr"]
    assert len(rfr) == 35 and MONTHS[7] not in set(rfr["ds"])
    assert (frame["unique_id"] == "ae/type1/rf4").sum() == 36


def test_without_allow_gaps_a_missing_month_is_still_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(HEADER + monthly("a", MONTHS, drop=(7,)), "t.csv")
    (problem,) = caught.value.problems
    assert problem.found == "1 missing month: 2016-11-01"
    assert is_missing_periods(problem)


def test_allow_gaps_refuses_a_series_mostly_missing() -> None:
    # a winter-only collection: 16 of 52 weeks, the summers never collected
    weeks = pd.date_range("2016-11-07", periods=52, freq="W-MON")
    kept = [d for i, d in enumerate(weeks) if i < 16 or i == 51]
    text = HEADER + "".join(
        f"winter/beds/england,{d:%Y-%m-%d},{90000 + i}\n" for i, d in enumerate(kept)
    )
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv", allow_gaps=True)
    (problem,) = caught.value.problems
    assert (problem.series_id, problem.column, problem.row) == ("winter/beds/england", "ds", None)
    assert problem.found.startswith("35 of 52 weeks missing: 2017-02-27")
    assert "at least half the weeks from 2016-11-07 to 2017-10-30 (W-MON)" in problem.expected
    assert not is_missing_periods(problem)


def test_allow_gaps_still_refuses_quarterly_figures() -> None:
    quarters = pd.date_range("2010-04-01", periods=8, freq="3MS")
    text = HEADER + "".join(
        f"beds/ga/england,{d:%Y-%m-%d},{100 + i}\n" for i, d in enumerate(quarters)
    )
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(text, "t.csv", allow_gaps=True)
    assert caught.value.problems[0].found == "8 rows, one every 3 months (quarterly figures?)"


def _forecast(tmp_path: Path, *extra: str) -> int:
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "3"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "seasonal_naive,ses"]
    return main([*args, "--folds", "2", "--jobs", "1", *extra])


def test_forecast_refusal_of_missing_months_points_at_fill_gaps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "in.csv").write_text(HEADER + monthly("a", MONTHS, drop=(7,)))
    assert _forecast(tmp_path) == 2
    err = capsys.readouterr().err
    assert "found 1 missing month: 2016-11-01" in err and "(--fill-gaps forecasts" in err
    assert not (tmp_path / "out.csv").exists()


def test_forecast_fill_gaps_forecasts_a_series_with_a_missing_month(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "in.csv").write_text(
        HEADER + monthly("a", MONTHS, drop=(7,)) + monthly("b", MONTHS)
    )
    assert _forecast(tmp_path, "--fill-gaps") == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert sorted(set(out["unique_id"])) == ["a", "b"]
    assert out.loc[out["unique_id"] == "a", "ds"].tolist() == [
        "2019-04-01",
        "2019-05-01",
        "2019-06-01",
    ]
    assert "series a: 1 of 36 months missing, interpolated (--fill-gaps)" in caplog.text


def test_fill_gaps_names_each_series_once_and_counts_no_model_failure(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    # the interpolation was asked for: logged once per series, never per model as a failure
    (tmp_path / "in.csv").write_text(
        HEADER + monthly("a", MONTHS, drop=(7, 20)) + monthly("b", MONTHS)
    )
    assert _forecast(tmp_path, "--fill-gaps") == 0
    messages = [r.getMessage() for r in caplog.records]
    assert [m for m in messages if "series a" in m] == [
        "series a: 2 of 36 months missing, interpolated (--fill-gaps)"
    ]
    assert not any("linearly interpolated" in m for m in messages)
    assert "model failures" not in capsys.readouterr().out


def test_real_trust_file_with_a_missed_return_forecasts_with_fill_gaps(tmp_path: Path) -> None:
    trust_ae = real_data("nhsr-ae-trust", "ae_attendances_trust_monthly_2016_2019.csv")
    trusts = pd.read_csv(trust_ae, dtype={"type": str})
    # RFR has no row for November 2016 (a return not made); RF4 is complete
    kept = trusts[(trusts["type"] == "1") & trusts["org_code"].isin(["RFR", "RF4"])]
    long = pd.DataFrame(
        {
            "unique_id": "ae/type1/" + kept["org_code"].str.lower(),
            "ds": kept["period"],
            "y": kept["attendances"],
        }
    )
    long.to_csv(tmp_path / "in.csv", index=False)
    assert _forecast(tmp_path) == 2
    assert _forecast(tmp_path, "--fill-gaps") == 0
    out = pd.read_csv(tmp_path / "out.csv")
    assert out.groupby("unique_id").size().to_dict() == {"ae/type1/rf4": 3, "ae/type1/rfr": 3}
    assert (out["mean"] > 0).all() and (out["hi-80"] > out["lo-80"]).all()
