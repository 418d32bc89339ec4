"""Accuracy metrics for one forecast window: MASE, sMAPE, RMSSE, scaled pinball, coverage."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from forecast.models.base import Prediction
from forecast.series import FloatArray


def error_scale(y: FloatArray, season_length: int, power: int = 1) -> float:
    """Mean |seasonal difference|**power of the training history (naive lag if too short).

    power=1 gives the MASE denominator, power=2 the RMSSE one. Falls back to lag 1, then the
    mean |y|**power, then 1.0, so constant and all-zero histories still get a finite scale.
    """
    for lag in (season_length, 1):
        if len(y) > lag:
            diffs = np.abs(y[lag:] - y[:-lag]) ** power
            value = float(np.nanmean(diffs)) if np.isfinite(diffs).any() else 0.0
            if value > 0:
                return value
    level = float(np.nanmean(np.abs(y) ** power)) if np.isfinite(y).any() else 0.0
    return level if level > 0 else 1.0


def metric_names(levels: Sequence[int]) -> list[str]:
    """The figures of a model's backtest metrics, in the order every output gives them."""
    return [
        "mase",
        "smape",
        "rmsse",
        "pinball",
        *(f"coverage_{level}" for level in levels),
        "folds",
        "selection_mase",
        "total_error_q10",
        "total_error_q90",
    ]


def with_metric_columns(metrics: pd.DataFrame, levels: Sequence[int]) -> pd.DataFrame:
    """A run's metrics (ForecastRun.metrics) with the same columns in the same order whatever
    it could measure, empty where it could not (a model scored on no backtest fold has no
    MASE), so a reader finds its columns every time; any further column goes before `chosen`.
    `members` comes last, after `chosen`: it was added after readers had learnt the others'
    positions, and text (the models a combination combined), not a figure."""
    fixed = ["unique_id", "model", *metric_names(levels), "chosen", "members"]
    extra = [c for c in metrics.columns if c not in fixed]
    return metrics.reindex(columns=[*fixed[:-2], *extra, *fixed[-2:]])


def window_metrics(
    actual: FloatArray, pred: Prediction, scales: tuple[float, float], levels: Sequence[int]
) -> dict[str, float]:
    """Metrics over one window; periods with no actual are ignored; pinball is MASE-scaled."""
    ok = np.isfinite(actual)
    y, f = actual[ok], pred.mean[ok]
    if not ok.any():
        return {}
    err = y - f
    out = {
        "mase": float(np.mean(np.abs(err)) / scales[0]),
        "smape": _smape(y, f),
        "rmsse": float(np.sqrt(np.mean(err**2) / scales[1])),
    }
    out.update(interval_scores(actual, pred, scales[0], levels))
    return out


def interval_scores(
    actual: FloatArray, pred: Prediction, mase_scale: float, levels: Sequence[int]
) -> dict[str, float]:
    """The window's scores of the intervals alone: pinball (the mean pinball loss of every
    level's two bounds, over `mase_scale`, the MASE denominator) and coverage_<L> (the share of
    actuals inside each level's interval); periods with no actual are ignored, and the answer
    is empty if none has one."""
    ok = np.isfinite(actual)
    if not ok.any():
        return {}
    y = actual[ok]
    out = {"pinball": _pinball(y, pred, ok, levels) / mase_scale}
    for level in levels:
        lo, hi = pred.interval(level)
        out[f"coverage_{level}"] = float(np.mean((y >= lo[ok]) & (y <= hi[ok])))
    return out


def _smape(y: FloatArray, f: FloatArray) -> float:
    denom = np.abs(y) + np.abs(f)
    ratio = np.where(denom > 0, 2.0 * np.abs(y - f) / np.where(denom > 0, denom, 1.0), 0.0)
    return float(np.mean(ratio))


def _pinball(y: FloatArray, pred: Prediction, ok: np.ndarray, levels: Sequence[int]) -> float:
    losses = []
    for level in levels:
        lo, hi = pred.interval(level)
        for q, bound in ((0.5 - level / 200.0, lo), (0.5 + level / 200.0, hi)):
            diff = y - bound[ok]
            losses.append(np.mean(np.maximum(q * diff, (q - 1.0) * diff)))
    return float(np.mean(losses)) if losses else float("nan")
