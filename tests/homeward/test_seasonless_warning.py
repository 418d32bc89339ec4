"""`homeward forecast` and a pipeline run say which series are too short for their chosen
models to fit a season (so their winter index shows little or no winter rise)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import ingest, repository
from homeward.cli import main
from homeward.ingest import observations_hash
from homeward.pipeline import forecast_by_frequency, run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def monthly(uid: str, months: int) -> pd.DataFrame:
    ds = pd.date_range(end="2026-10-01", periods=months, freq="MS")
    season = np.where(np.isin(ds.month, [12, 1, 2]), 1.4, 1.0)
    y = 1000.0 * season * (1 + np.random.default_rng(months).normal(0.0, 0.05, months))
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def test_the_pipeline_run_warns_of_a_series_too_short_for_a_season(
    sqlite_settings: Settings,
) -> None:
    history = pd.concat([monthly("winter/new", 30), monthly("winter/old", 60)])
    fast = sqlite_settings.model_copy(update={"forecast_models": ("ses", "theta", "mean_best2")})
    forecasts = forecast_by_frequency(history, fast, lambda _m: None)
    [warning] = [w for w in forecasts.warnings if "three years" in w]
    assert warning.startswith("1 series has under three years of history")
    assert "winter/new (30 months)." in warning and "winter/old" not in warning


def test_the_forecast_command_warns_too(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path, out = tmp_path / "in.csv", tmp_path / "out.csv"
    pd.concat([monthly("a", 30), monthly("b", 60)]).to_csv(path, index=False)
    args = ["forecast", "--input", str(path), "--horizon", "6", "--output", str(out)]
    assert main([*args, "--models", "ses,theta"]) == 0
    assert "1 series has under three years of history" in caplog.text
    assert "a (30 months)." in caplog.text
    caplog.clear()
    assert main([*args, "--models", "seasonal_naive"]) == 0
    assert "three years" not in caplog.text


def test_the_pipeline_run_warns_of_series_too_short_for_a_backtest(
    sqlite_settings: Settings,
) -> None:
    """78 weeks at the default 52-week horizon: one fold needs 106 weeks. The series gets one
    fold 24 weeks ahead instead (78 less the 54-week shortest training window), so its model is
    chosen on evidence, not by preference (seasonal naive first, which would repeat last year's
    noise); the run says which it was. 60 weeks leave 6, under a quarter season: no backtest, and
    seasonal naive, as the run says."""
    history = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": uid,
                    "ds": pd.date_range(end="2026-11-09", periods=n, freq="W-MON"),
                    "y": np.random.default_rng(11).poisson(40.0, n).astype(float),
                }
            )
            for uid, n in (("referrals/ot/norwich", 78), ("referrals/ot/breckland", 60))
        ]
    )
    year = sqlite_settings.model_copy(update={"forecast_horizon_weeks": 52})
    forecasts = forecast_by_frequency(history, year, lambda _m: None)
    [warning] = [w for w in forecasts.warnings if "backtest fold" in w]
    assert warning.startswith(
        "2 series have too little history for one backtest fold at a horizon of 52 (a season "
        "and two periods of training, then the horizon): "
    )
    assert "referrals/ot/norwich (78 weeks; one fold needs 106; backtested 24 ahead)" in warning
    assert "referrals/ot/breckland (60 weeks; one fold needs 106; no backtest)" in warning
    assert "1 was backtested on one shorter fold instead, and its model chosen on" in warning
    assert (
        "1 was too short even for a fold of a quarter season, and its model chosen by " in warning
    )
    assert "; it got seasonal naive, which repeats last year's values" in warning
    [run] = forecasts.runs
    assert run.chosen["referrals/ot/breckland"] == "seasonal_naive"
    assert run.chosen["referrals/ot/norwich"] != "seasonal_naive"
    scored = run.metrics[run.metrics["unique_id"] == "referrals/ot/norwich"]
    assert set(scored["folds"]) == {1.0}


def test_a_forecast_only_runs_message_ends_its_sentence_before_its_warnings(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """'... so no plan. Warning: ...', not '... so no plan Warning: ...' (analyst review)."""
    history = monthly("winter/new", 30)
    with transaction(factory) as session:
        repository.store_observations(session, history, "council.csv", observations_hash(history))
    fast = sqlite_settings.model_copy(update={"forecast_models": ("ses", "theta")})
    outcome = run_pipeline(factory, fast, trigger="demo", report=lambda _m: None)
    assert outcome.status == "forecast_only"
    assert "no planning config stored, so no plan. Warning: 1 series has under" in outcome.message
