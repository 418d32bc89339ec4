"""A default pooled-season candidate that cannot apply to a weekly series for lack of history
(under two years) is skipped quietly; one the user named still fails loudly."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import RECOMMENDED_MODELS, ForecastSettings, run_forecasts
from forecast.models import POOLED_PREFIX


def _weekly_siblings(weeks: int) -> pd.DataFrame:
    ds = pd.date_range("2024-01-01", periods=weeks, freq="W-MON")
    rng = np.random.default_rng(3)
    frames = [
        pd.DataFrame({"unique_id": f"referrals/ot/d{i}", "ds": ds, "y": rng.poisson(20, weeks)})
        for i in range(3)
    ]
    return pd.concat(frames, ignore_index=True).astype({"y": float})


def test_default_pooled_models_on_a_short_weekly_history_are_not_failures() -> None:
    run = run_forecasts(_weekly_siblings(80), ForecastSettings(horizon=4))
    assert run.fallbacks.empty, run.fallbacks["reason"].tolist()
    assert not run.metrics["model"].str.startswith(POOLED_PREFIX).any()
    assert set(run.chosen) == {f"referrals/ot/d{i}" for i in range(3)}


def test_pooled_models_the_user_named_still_fail_loudly() -> None:
    settings = ForecastSettings(horizon=4, models=("ses", "pooled_ses"))
    run = run_forecasts(_weekly_siblings(80), settings)
    failed = run.fallbacks[run.fallbacks["model"] == "pooled_ses"]
    assert len(failed) == 3
    assert failed["reason"].str.contains("pooled season: needs 104 weeks").all()


def test_default_pooled_models_still_fit_with_two_years_and_more() -> None:
    run = run_forecasts(_weekly_siblings(170), ForecastSettings(horizon=4))
    assert run.fallbacks.empty
    pooled = {m for m in RECOMMENDED_MODELS if m.startswith(POOLED_PREFIX)}
    assert pooled <= set(run.metrics["model"])
