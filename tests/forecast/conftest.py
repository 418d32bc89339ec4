"""Synthetic series with known shape for the forecasting tests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest


def seasonal_series(
    uid: str = "s",
    periods: int = 60,
    freq: str = "MS",
    noise: float = 2.0,
    seed: int = 0,
    level: float = 100.0,
    amplitude: float = 20.0,
) -> pd.DataFrame:
    """level + amplitude * sin(annual cycle) + N(0, noise); monthly (MS) or weekly (W-MON)."""
    m = 12 if freq == "MS" else 52
    start = "2015-01-01" if freq == "MS" else "2015-01-05"
    ds = pd.date_range(start, periods=periods, freq=freq)
    t = np.arange(periods)
    rng = np.random.default_rng(seed)
    y = level + amplitude * np.sin(2 * np.pi * t / m) + rng.normal(0.0, noise, periods)
    return pd.DataFrame({"unique_id": uid, "ds": ds, "y": y})


def true_seasonal(
    ds: pd.Series, freq: str = "MS", level: float = 100.0, amplitude: float = 20.0
) -> np.ndarray:
    """Noise-free value of `seasonal_series` at dates `ds` (same start as the generator)."""
    m = 12 if freq == "MS" else 52
    start = pd.Timestamp("2015-01-01" if freq == "MS" else "2015-01-05")
    if freq == "MS":
        t = (ds.dt.year - start.year) * 12 + (ds.dt.month - start.month)
    else:
        t = (ds - start).dt.days // 7
    return np.asarray(level + amplitude * np.sin(2 * np.pi * t.to_numpy() / m), dtype=float)


@pytest.fixture
def seasonal() -> pd.DataFrame:
    return seasonal_series()
