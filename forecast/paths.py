"""Sample paths around a calibrated forecast: normal margins, AR(1)-correlated over steps."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.intervals import reference_sd
from forecast.models.base import Prediction


def sample_paths(
    unique_id: str,
    future_ds: pd.DatetimeIndex,
    pred: Prediction,
    spec: tuple[int, int, float, bool],
    levels: Sequence[int],
) -> pd.DataFrame:
    """`n` paths (spec = n, seed, lag-1 error correlation, non-negative) as unique_id, ds, path, y.

    Each step's margin matches the calibrated interval of the first level; the same seed and id
    always give the same paths.
    """
    n, seed, rho, nonnegative = spec
    rng = np.random.default_rng([seed, zlib.crc32(unique_id.encode())])
    shocks = _ar1(rng, n, len(pred.mean), rho)
    values = pred.mean + reference_sd(pred, levels) * shocks
    if nonnegative:
        values = np.maximum(values, 0.0)
    h = len(pred.mean)
    return pd.DataFrame(
        {
            "unique_id": unique_id,
            "ds": np.tile(future_ds.to_numpy(), n),
            "path": np.repeat(np.arange(n), h),
            "y": values.ravel(),
        }
    )


def _ar1(rng: np.random.Generator, n: int, h: int, rho: float) -> np.ndarray:
    """Standard-normal margins with correlation rho between consecutive steps."""
    eps = rng.standard_normal((n, h))
    out = np.empty_like(eps)
    out[:, 0] = eps[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, h):
        out[:, t] = rho * out[:, t - 1] + scale * eps[:, t]
    return out
