"""Sample paths around a calibrated forecast: normal margins, AR(1)-correlated over steps, and
in a hierarchy correlated across the leaves as their backtest errors were."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.intervals import reference_sd
from forecast.models.base import Prediction, z_value
from forecast.series import FloatArray

MIN_SHARED = 10  # complete (fold, step) observations needed to estimate leaves' correlation


def sample_paths(
    unique_id: str,
    future_ds: pd.DatetimeIndex,
    pred: Prediction,
    spec: tuple[int, int, float, bool],
    levels: Sequence[int],
    shocks: np.ndarray | None = None,
) -> pd.DataFrame:
    """`n` paths (spec = n, seed, lag-1 error correlation, non-negative) as unique_id, ds, path, y.

    Each step's margin matches the calibrated interval of the first level (`path_sd`; for a
    count floored at zero, like the interval); the same seed and id always give the same paths.
    `shocks` (n x horizon, standard-normal margins), when given, replace the series' own draws
    (see `leaf_shocks`).
    """
    n, seed, rho, nonnegative = spec
    if shocks is None:
        rng = np.random.default_rng([seed, zlib.crc32(unique_id.encode())])
        shocks = _ar1(rng, n, len(pred.mean), rho)
    values = pred.mean + path_sd(pred, levels, nonnegative) * shocks
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


def path_sd(pred: Prediction, levels: Sequence[int], nonnegative: bool) -> FloatArray:
    """Per step sd of the paths: the first level's interval as normal, except where a count's
    interval was floored at zero (its lower bound at zero), whose sd is read from the upper side
    alone, (hi - mean) / z: flooring keeps that side's spread (`intervals.clipped` raises the
    upper bounds with a mean raised to zero). The whole interval's width, cut short by the
    floor, gave paths half as wide as the published interval, with 1-4% above its hi-80."""
    sd = reference_sd(pred, levels)
    if not nonnegative:
        return sd
    lo, hi = pred.interval(levels[0])
    upper = np.maximum(hi - pred.mean, 0.0) / z_value(levels[0])
    return np.asarray(np.where(lo > 0.0, sd, upper), dtype=np.float64)


def leaf_shocks(
    root: str, spec: tuple[int, int, int], rhos: Sequence[float], corr: FloatArray
) -> list[np.ndarray]:
    """Per leaf, n x h standard-normal shocks (spec = n, seed, h): AR(1) over steps with the
    leaf's own rho, and at each step correlated across the leaves by `corr`. The same seed and
    root always give the same shocks."""
    n, seed, h = spec
    rng = np.random.default_rng([seed, zlib.crc32(root.encode())])
    eps = rng.standard_normal((n, h, len(rhos))) @ np.linalg.cholesky(corr).T
    return [_ar1_from(eps[:, :, j], rho) for j, rho in enumerate(rhos)]


def leaf_correlation(errors: Sequence[FloatArray]) -> FloatArray:
    """Correlation of the leaves' normalised backtest errors (each the same folds and steps,
    NaN where missing), shrunk towards its mean off-diagonal value by k / (k + m) for k leaves
    and m complete observations (a matrix of k(k-1)/2 estimates from few folds is noisy; the
    shared part of the leaves' errors is what a parent's spread needs). Identity when there
    are fewer than MIN_SHARED complete observations."""
    k = len(errors)
    grid = np.column_stack(errors) if k else np.empty((0, 0))
    grid = grid[np.isfinite(grid).all(axis=1)] if k else grid
    m = len(grid)
    if k < 2 or m < MIN_SHARED or (np.std(grid, axis=0) == 0).any():
        return np.eye(k)
    corr = np.corrcoef(grid, rowvar=False)
    mean_off = float((corr.sum() - k) / (k * (k - 1)))
    target = np.full((k, k), max(mean_off, 0.0))
    np.fill_diagonal(target, 1.0)
    weight = k / (k + m)
    return _nearest_correlation((1.0 - weight) * corr + weight * target)


def _nearest_correlation(c: FloatArray) -> FloatArray:
    """Eigenvalues floored just above zero, then unit diagonal again (so Cholesky succeeds)."""
    values, vectors = np.linalg.eigh((c + c.T) / 2.0)
    fixed = (vectors * np.maximum(values, 1e-6)) @ vectors.T
    d = np.sqrt(np.diag(fixed))
    return np.asarray(fixed / np.outer(d, d), dtype=np.float64)


def _ar1(rng: np.random.Generator, n: int, h: int, rho: float) -> np.ndarray:
    """Standard-normal margins with correlation rho between consecutive steps."""
    return _ar1_from(rng.standard_normal((n, h)), rho)


def _ar1_from(eps: np.ndarray, rho: float) -> np.ndarray:
    out = np.empty_like(eps)
    out[:, 0] = eps[:, 0]
    scale = np.sqrt(1.0 - rho**2)
    for t in range(1, eps.shape[1]):
        out[:, t] = rho * out[:, t - 1] + scale * eps[:, t]
    return out
