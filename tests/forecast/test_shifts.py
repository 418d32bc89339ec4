"""Level-shift detection: a step is found where it is, a trend or noise is not a step."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.shifts import detect_level_shifts, without_level_shifts

MONTHS = 84


def _seasonal_noise(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(MONTHS)
    return 1.0 + 0.1 * np.sin(2 * np.pi * t / 12) + rng.normal(0.0, 0.03, MONTHS)


def test_a_step_is_found_at_its_period_with_its_size() -> None:
    level = np.where(np.arange(MONTHS) < 60, 1000.0, 600.0)  # a 40% fall at period 60
    [shift] = detect_level_shifts(level * _seasonal_noise(1), 12)
    assert abs(shift.index - 60) <= 1
    assert shift.ratio == pytest.approx(0.6, abs=0.05)
    assert shift.t_stat < -4.0


@pytest.mark.parametrize("seed", range(5))
def test_noise_and_a_steady_trend_are_not_shifts(seed: int) -> None:
    trend = 1000.0 + 8.0 * np.arange(MONTHS)  # rising about 0.8% a month, like DTOC to 2016
    assert detect_level_shifts(1000.0 * _seasonal_noise(seed), 12) == []
    assert detect_level_shifts(trend * _seasonal_noise(seed), 12) == []


def test_short_flat_or_gappy_series_have_no_shifts() -> None:
    assert detect_level_shifts(np.full(60, 5.0), 12) == []
    assert detect_level_shifts(np.arange(20.0), 12) == []
    gappy = 1000.0 * _seasonal_noise(0)
    gappy[10] = np.nan
    assert detect_level_shifts(gappy, 12) == []


def test_adjusted_history_sits_at_the_latest_level() -> None:
    level = np.where(np.arange(MONTHS) < 60, 1000.0, 600.0)
    y = level * _seasonal_noise(2)
    out = without_level_shifts(y, detect_level_shifts(y, 12))
    assert np.mean(out[36:60]) == pytest.approx(np.mean(out[60:]), rel=0.05)
    assert np.array_equal(out[60:], y[60:])  # the current regime is untouched
    assert detect_level_shifts(out, 12) == []


def test_run_reports_shifts_and_can_fit_the_latest_regime() -> None:
    ds = pd.date_range("2011-01-01", periods=MONTHS, freq="MS")
    level = np.where(np.arange(MONTHS) < 72, 1000.0, 600.0)  # fell a year before the end
    history = pd.DataFrame({"unique_id": "s", "ds": ds, "y": level * _seasonal_noise(3)})
    plain = run_forecasts(history, ForecastSettings(horizon=12, models=("theta",)))
    assert list(plain.level_shifts.columns) == ["unique_id", "ds", "ratio", "t_stat"]
    [row] = plain.level_shifts.itertuples()
    assert abs((row.ds - ds[72]).days) <= 31 and row.ratio == pytest.approx(0.6, abs=0.05)
    adjusted = run_forecasts(
        history, ForecastSettings(horizon=12, models=("theta",), adjust_level_shifts=True)
    )
    # theta's drift is fitted over the whole history: the old regime drags it down in the plain
    # fit, and the adjusted fit sees one level
    truth = 600.0 * (1.0 + 0.1 * np.sin(2 * np.pi * np.arange(MONTHS, MONTHS + 12) / 12))
    plain_err = np.mean(np.abs(plain.forecasts["mean"].to_numpy() - truth))
    adjusted_err = np.mean(np.abs(adjusted.forecasts["mean"].to_numpy() - truth))
    assert adjusted_err < plain_err


@pytest.mark.parametrize("seed", range(4, 8))
def test_the_start_of_a_steady_fall_is_not_a_shift(seed: int) -> None:
    """Flat, then falling 5% a month (DTOC social-care days through 2017 in some
    authorities): the line-plus-step fit at the bend puts a step *up* against the falling
    line, while the level a year on is lower, so ratio and t_stat would disagree in sign. A
    fall spread over months is a trend, left to the adaptive models, not a level shift."""
    t = np.arange(MONTHS)
    y = 3000.0 * np.exp(-0.05 * np.clip(t - 48, 0, None)) * _seasonal_noise(seed)
    shifts = detect_level_shifts(y, 12)
    assert not [s for s in shifts if abs(s.index - 48) <= 3]
    assert all(np.sign(np.log(s.ratio)) == np.sign(s.t_stat) for s in shifts)
