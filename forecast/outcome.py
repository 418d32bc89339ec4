"""What fitting produced for one series, before calibration, combination and selection."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forecast.backtest import Window
from forecast.models.base import Prediction


@dataclass(frozen=True, eq=False)
class ModelOutcome:
    """One model on one series: its backtest predictions (one per window) and final forecast.

    `held_out` (combinations only): each window's prediction from members ranked on the
    other windows, so scoring it on that window is out of sample. `folds` rank the members on
    every window, as the final forecast does; selection and calibration use `folds`, the
    reported metrics `scored`.

    `members` (combinations only): the models the final forecast combines, best first, so a
    reader can tell what a series' `mean_best2` averaged; held-out windows may rank others.
    """

    name: str
    folds: tuple[Prediction, ...]
    final: Prediction
    held_out: tuple[Prediction, ...] | None = None
    members: tuple[str, ...] = ()

    @property
    def scored(self) -> tuple[Prediction, ...]:
        """The predictions the reported backtest metrics are computed on."""
        return self.folds if self.held_out is None else self.held_out


# the kinds of ForecastRun.fallbacks rows; only FAILED is a fault, the others are what a short
# or constant history is expected to give
SHORT_BACKTEST = "short_backtest"  # model chosen on fewer or shorter backtest folds
TOO_SHORT = "too_short"  # a model needs a longer history than the series has
CONSTANT = "constant"  # a constant series: naive only
FAILED = "failed"
FALLBACK_COLUMNS = ("unique_id", "model", "reason", "kind")


@dataclass(frozen=True, eq=False)
class SeriesOutcome:
    """Everything fitted for one series, before calibration and selection."""

    unique_id: str
    future_ds: pd.DatetimeIndex
    nonnegative: bool
    windows: tuple[Window, ...]
    models: dict[str, ModelOutcome]
    failures: list[tuple[str, str, str]] = field(default_factory=list)  # model, kind, reason
    scale_ratio: float = 1.0  # at the final origin (see backtest.scale_ratio)
    # (first period at the new level, ratio after / before, t-statistic) in the whole history
    level_shifts: tuple[tuple[pd.Timestamp, float, float], ...] = ()
