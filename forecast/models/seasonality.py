"""Classical seasonal decomposition with a significance test, shared by the fast models."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.series import FloatArray

# 90% two-sided test on the lag-m autocorrelation, as in the M4 benchmarks.
_Z90 = 1.645


@dataclass(frozen=True, eq=False)
class Seasonal:
    """Seasonal indices by position in the cycle (0 = first history period)."""

    indices: FloatArray
    multiplicative: bool

    def remove(self, y: FloatArray) -> FloatArray:
        """Seasonally adjusted copy of `y` (which starts at `offset`)."""
        s = self._at(np.arange(len(y)))
        return y / s if self.multiplicative else y - s

    def restore(self, values: FloatArray, start: int) -> FloatArray:
        """Re-seasonalise `values` whose first period is `start` periods after history began."""
        s = self._at(np.arange(start, start + len(values)))
        return values * s if self.multiplicative else values + s

    def _at(self, t: np.ndarray) -> FloatArray:
        return np.asarray(self.indices[t % len(self.indices)], dtype=np.float64)


NONE = Seasonal(np.zeros(1), multiplicative=False)


def is_seasonal(y: FloatArray, m: int) -> bool:
    """Lag-m autocorrelation significantly positive (Bartlett bands), given 3+ seasons of data."""
    n = len(y)
    if m < 2 or n < 3 * m:
        return False
    x = y - y.mean()
    denom = float(np.sum(x**2))
    if denom == 0:
        return False
    acf = np.array([np.sum(x[k:] * x[:-k]) / denom for k in range(1, m + 1)])
    limit = _Z90 * np.sqrt((1 + 2 * np.sum(acf[:-1] ** 2)) / n)
    return bool(acf[-1] > limit)


def decompose(y: FloatArray, m: int, force: bool = False) -> Seasonal:
    """Classical decomposition (centred moving average) if the series is seasonal, else NONE.

    Multiplicative when every value is positive, additive otherwise.
    """
    if not force and not is_seasonal(y, m):
        return NONE
    if len(y) < 2 * m:
        return NONE
    multiplicative = bool(np.all(y > 0))
    trend = _centred_ma(y, m)
    ratio = y / trend if multiplicative else y - trend
    idx = np.array([np.nanmean(ratio[k::m]) for k in range(m)])
    idx = idx / idx.mean() if multiplicative else idx - idx.mean()
    return Seasonal(idx, multiplicative)


def _centred_ma(y: FloatArray, m: int) -> FloatArray:
    weights = np.ones(m + 1) if m % 2 == 0 else np.ones(m)
    if m % 2 == 0:
        weights[0] = weights[-1] = 0.5
    weights /= weights.sum()
    half = len(weights) // 2
    out = np.full(len(y), np.nan)
    out[half : len(y) - half] = np.convolve(y, weights, mode="valid")
    return out
