"""Rolling-origin backtest windows for one series."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.metrics import error_scale
from forecast.series import FloatArray, SeriesData


@dataclass(frozen=True, eq=False)
class Window:
    """One backtest fold: train on the first `origin` periods, score the next `horizon`."""

    origin: int
    actual: FloatArray
    scales: tuple[float, float]  # MASE and RMSSE denominators of the training part
    scale_ratio: float = 1.0  # recent over whole-window volatility (see scale_ratio)


def min_train_length(season_length: int) -> int:
    """Shortest training window a fold may have: one season plus two periods, and at least 6."""
    return max(6, season_length + 2)


def windows(series: SeriesData, folds: int, horizon: int) -> list[Window]:
    """Up to `folds` origins, `horizon` apart, the last ending at the end of history."""
    n, m = len(series.y), series.season_length
    origins = [n - horizon * (k + 1) for k in reversed(range(folds))]
    out = []
    for origin in origins:
        if origin < min_train_length(m):
            continue
        train = series.y[:origin]
        scales = (error_scale(train, m, 1), error_scale(train, m, 2))
        actual = series.y[origin : origin + horizon]
        out.append(Window(origin, actual, scales, scale_ratio(train, m)))
    return out


RECENT_SEASONS = 2  # how much recent history measures "how volatile is the series now"


def scale_ratio(y: FloatArray, season_length: int) -> float:
    """Mean absolute one-step change over the last RECENT_SEASONS seasons, over the same mean
    over the whole training window (1.0 when it cannot be measured).

    Models learn their error sd from the whole history; a series that is calmer now than on
    average (DTOC after the 2017 fall) has smaller errors than that sd says, and a series that
    is more volatile now has larger ones. Interval widths are scaled by this ratio.
    """
    steps = np.abs(np.diff(y))
    steps = steps[np.isfinite(steps)]
    recent = steps[-RECENT_SEASONS * season_length :]
    if not len(steps) or float(np.mean(steps)) <= 0 or float(np.mean(recent)) <= 0:
        return 1.0
    return float(np.mean(recent)) / float(np.mean(steps))
