"""Rolling-origin backtest windows for one series."""

from __future__ import annotations

from collections.abc import Sequence
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
    scale_ratio: float = 1.0  # recent over whole-window noise (see scale_ratio)


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


def shortest_fold(season_length: int) -> int:
    """Shortest backtest horizon worth a fold when the full one leaves none: a quarter season
    (3 months, 13 weeks), and at least 3 periods."""
    return max(3, season_length // 4)


def short_fold(n: int, season_length: int) -> int:
    """Horizon of the one fold a series of `n` periods gets when the full horizon leaves none:
    the longest that leaves the shortest training window, or 0 when that is under
    `shortest_fold` periods (then the series has no backtest)."""
    h = n - min_train_length(season_length)
    return h if h >= shortest_fold(season_length) else 0


def fold_horizon(wins: Sequence[Window]) -> int:
    """How far ahead `wins` were scored: the full horizon, a short fold's, or 0 with none."""
    return len(wins[-1].actual) if wins else 0


def fold_windows(series: SeriesData, folds: int, horizon: int) -> list[Window]:
    """`windows` at `horizon`; when the history is too short for even one fold there, one fold
    at `short_fold` periods ahead. A short fold is weak evidence of how a model does a full
    horizon ahead, but the run pools it with its other series' scores (forecast.select), and
    on DTOC histories cut to 18 and 24 months that chose forecasts 9-12% better in MASE than
    preference order, which gives seasonal naive (docs/benchmarks.md, "Short histories")."""
    out = windows(series, folds, horizon)
    if out or folds < 1:
        return out
    short = min(short_fold(len(series.y), series.season_length), horizon)
    return windows(series, 1, short) if short else []


RECENT_SHARE = 0.5  # seasons of recent history that measure "how noisy is the series now"
# a second difference under this share of the series' largest value is floating-point rounding
# (a straight stretch of non-integer values), not noise: it counts as zero
ROUNDING = 1e-9


def scale_ratio(y: FloatArray, season_length: int) -> float:
    """Median absolute second difference over the last half season (6 months, 26 weeks), over
    the same median over the whole training window (1.0 when either is zero or cannot be
    measured).

    Models learn their error sd from the whole history; a series that is calmer now than on
    average (DTOC after the 2017 fall) has smaller errors than that sd says, and a series that
    is noisier now has larger ones. Interval widths are scaled by this ratio. Second
    differences ignore a steady rise or fall (a trend is not noise) and the median ignores the
    few large steps of a level shift, so the ratio measures the noise around the current path.
    Chosen on the DTOC development origins 2014-12, 2015-12 and 2016-12 over mean one-step
    changes across two seasons and over windows of 12 and 18 months (docs/benchmarks.md,
    "Interval widths").

    Gaps (NaN) are skipped: a second difference is taken only across three consecutive observed
    periods. When under half of the last half season's second differences were observed (a gap
    of two or more months near the end), the recent noise is unknown and the ratio 1.0: the
    last observed ones from further back would measure another season's noise. Never pass a
    series with its gaps filled: a straight line across them has second differences of zero up
    to rounding, which read as a series gone calm and shrank the widths up to 1e15-fold.
    """
    steps = np.abs(np.diff(y, n=2))
    observed = np.isfinite(steps)
    if not observed.any():
        return 1.0
    steps[observed & (steps <= ROUNDING * float(np.max(np.abs(y[np.isfinite(y)]))))] = 0.0
    k = max(3, round(RECENT_SHARE * season_length))
    recent = steps[-k:][observed[-k:]]
    if 2 * len(recent) < min(k, len(steps)):
        return 1.0
    whole, now = float(np.median(steps[observed])), float(np.median(recent))
    if whole <= 0 or now <= 0:
        return 1.0
    return now / whole
