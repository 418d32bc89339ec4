"""Rolling-origin backtest windows for one series."""

from __future__ import annotations

from dataclasses import dataclass

from forecast.metrics import error_scale
from forecast.series import FloatArray, SeriesData


@dataclass(frozen=True, eq=False)
class Window:
    """One backtest fold: train on the first `origin` periods, score the next `horizon`."""

    origin: int
    actual: FloatArray
    scales: tuple[float, float]  # MASE and RMSSE denominators of the training part


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
        out.append(Window(origin, series.y[origin : origin + horizon], scales))
    return out
