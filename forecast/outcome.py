"""What fitting produced for one series, before calibration, combination and selection."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from forecast.backtest import Window
from forecast.models.base import Prediction


@dataclass(frozen=True, eq=False)
class ModelOutcome:
    """One model on one series: its backtest predictions (one per window) and final forecast."""

    name: str
    folds: tuple[Prediction, ...]
    final: Prediction


@dataclass(frozen=True, eq=False)
class SeriesOutcome:
    """Everything fitted for one series, before calibration and selection."""

    unique_id: str
    future_ds: pd.DatetimeIndex
    nonnegative: bool
    windows: tuple[Window, ...]
    models: dict[str, ModelOutcome]
    failures: list[tuple[str, str]] = field(default_factory=list)
    scale_ratio: float = 1.0  # at the final origin (see backtest.scale_ratio)
    # (first period at the new level, ratio after / before, t-statistic) in the whole history
    level_shifts: tuple[tuple[pd.Timestamp, float, float], ...] = ()
