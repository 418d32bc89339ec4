"""Months missing near the end of a history never make its forecast look more certain: the
final forecast's interval widths are scaled by the recent noise of the values observed, as
every backtest fold's are, never by a straight line drawn across the gap."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import run_forecasts
from forecast.backtest import scale_ratio
from forecast.settings import ForecastSettings

DS = pd.date_range("2018-01-01", periods=72, freq="MS")
SETTINGS = ForecastSettings(horizon=12, models=("seasonal_naive", "ses"))


def _history(seed: int, missing: list[int]) -> pd.DataFrame:
    """Six noisy seasonal monthly counts (so calibration has errors to pool); s0 has the
    months `missing` left out."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(6):
        y = np.round(100 + 15 * np.sin(np.arange(72) * 2 * np.pi / 12) + rng.normal(0, 6, 72))
        frame = pd.DataFrame({"unique_id": f"s{i}", "ds": DS, "y": y})
        keep = [k for k in range(72) if not (i == 0 and k in missing)]
        frames.append(frame.iloc[keep])
    return pd.concat(frames, ignore_index=True)


def _widths_95(history: pd.DataFrame) -> np.ndarray:
    f = run_forecasts(history, SETTINGS).forecasts
    f = f[f.unique_id == "s0"]
    return np.asarray(f["hi-95"] - f["lo-95"], dtype=float)


@pytest.mark.parametrize(
    ("seed", "missing"),
    [
        (0, [67, 68, 69, 70]),  # a straight line across them measured ~1e-15 recent noise
        (4, [66, 67, 68]),  # and here a tenth of the observed
    ],
)
def test_a_gap_near_the_end_does_not_narrow_the_interval(seed: int, missing: list[int]) -> None:
    complete = _widths_95(_history(seed, []))
    gappy = _widths_95(_history(seed, missing))
    # a half season's noise is a median of six second differences, which varies by a factor
    # of two from one end of history to the next: a gap may leave it unmeasured (ratio 1), but
    # never shrinks it to that of a straight line drawn across the gap
    assert gappy.min() >= complete.min() / 3.0
    assert gappy.mean() >= complete.mean() / 3.0


def test_scale_ratio_skips_rounding_crumbs_of_a_straight_stretch() -> None:
    # noisy for four years, then a straight rise in steps of 0.1: second differences there
    # are ~1e-14 (floating-point rounding), not a measure of noise; like an exactly flat
    # stretch, the recent noise cannot be measured
    rng = np.random.default_rng(0)
    y = np.concatenate([100.0 + rng.normal(0.0, 3.0, 48), 100.0 + 0.1 * np.arange(1, 13)])
    assert np.abs(np.diff(y[-12:], n=2)).max() > 0.0  # the crumbs are there
    assert scale_ratio(y, 12) == 1.0


def _parent_widths_95(history: pd.DataFrame) -> np.ndarray:
    """The 95% widths of a parent forecast only as its leaves' sum (no history of its own)."""
    settings = ForecastSettings(
        horizon=12, models=SETTINGS.models, hierarchy={"all": ("s0", "s1")}, reconcile="bottom_up"
    )
    f = run_forecasts(history, settings).forecasts
    f = f[f.unique_id == "all"]
    return np.asarray(f["hi-95"] - f["lo-95"], dtype=float)


@pytest.mark.parametrize(("seed", "missing"), [(0, [67, 68, 69, 70]), (7, [66, 67, 68])])
def test_a_gap_in_a_leaf_does_not_narrow_its_parents_interval(
    seed: int, missing: list[int]
) -> None:
    # the parent's history is its leaves' sum, missing where a leaf is
    complete = _parent_widths_95(_history(seed, []))
    gappy = _parent_widths_95(_history(seed, missing))
    assert gappy.min() >= complete.min() / 3.0


def test_scale_ratio_is_unknown_when_most_of_the_last_half_season_is_missing() -> None:
    # loud (+-2) for four years, then calm (+-0.5); three of the last five months missing leave
    # one of the last half season's six second differences: too few to say how noisy it is now
    y = np.concatenate([np.tile([0.0, 2.0], 24), np.tile([0.0, 0.5], 6)])
    assert scale_ratio(y, 12) == pytest.approx(1.0 / 4.0)
    y[55:58] = np.nan
    assert scale_ratio(y, 12) == 1.0
