"""pool_by_kind: a service's referral forecasts do not move when unrelated series join the run."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast import ForecastSettings, run_forecasts
from tests.forecast.conftest import seasonal_series

MODELS = ("seasonal_naive", "ses", "theta", "mean_best2")


def _referrals() -> pd.DataFrame:
    return pd.concat(
        [seasonal_series(f"referrals/ot/{d}", seed=i, noise=3.0) for i, d in enumerate("abc")],
        ignore_index=True,
    )


def _bulk() -> pd.DataFrame:
    """Series of another kind that jump to a new level every year, so every model's backtest
    errors on them differ from the referrals': pooled with them, they move their widths."""
    frames = []
    for i in range(4):
        s = seasonal_series(f"bulk/test/{i}", seed=10 + i)
        s["y"] += 60.0 * (s.index // 12)
        frames.append(s)
    return pd.concat(frames, ignore_index=True)


def _referral_forecasts(history: pd.DataFrame, by_kind: bool) -> pd.DataFrame:
    settings = ForecastSettings(horizon=6, models=MODELS, pool_by_kind=by_kind)
    fc = run_forecasts(history, settings).forecasts
    fc = fc[fc["unique_id"].str.startswith("referrals/")]
    return fc.sort_values(["unique_id", "ds"]).reset_index(drop=True)


def test_unrelated_series_leave_a_kinds_forecasts_alone_when_pooled_by_kind() -> None:
    alone = _referral_forecasts(_referrals(), by_kind=True)
    mixed = _referral_forecasts(pd.concat([_referrals(), _bulk()]), by_kind=True)
    pd.testing.assert_frame_equal(alone, mixed)


def test_pooled_over_the_whole_run_unrelated_series_move_the_intervals() -> None:
    """The default, which the DTOC benchmark was tuned with: evidence pools over every series
    of a frequency, so the bulk series move the referrals' intervals."""
    alone = _referral_forecasts(_referrals(), by_kind=False)
    mixed = _referral_forecasts(pd.concat([_referrals(), _bulk()]), by_kind=False)
    assert not np.allclose(mixed["hi-80"], alone["hi-80"])
