"""How far a forecast's total over a backtest window has missed: the spread of a whole low or
high year, against which a plan's fixed hours are stress-tested (optimise/risk.py).

A period's interval is mostly that period's own noise, which averages out over a year; a year
that runs high is a level error that persists. Each backtest window's total miss measures that
directly: (actual total - forecast total) / forecast total over the window's observed periods.
Three windows per series are too few for a quantile, so the misses are pooled over the series
that pool their interval evidence (the same frequency and kind), as calibration does.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
import pandas as pd

from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import FloatArray

MIN_TOTALS = 10  # fewer pooled window totals than this give no bounds
LOW, HIGH = "total_error_q10", "total_error_q90"
QUANTILES = {LOW: 0.10, HIGH: 0.90}


def window_total_errors(outcome: SeriesOutcome, model: ModelOutcome) -> FloatArray:
    """Each backtest window's relative miss of its total, over its observed periods (the
    scored predictions: a combination's held-out ones); NaN where the forecast total is not
    positive or nothing was observed."""
    out = []
    for window, pred in zip(outcome.windows, model.scored, strict=True):
        seen = np.isfinite(window.actual)
        mean = np.maximum(pred.mean, 0.0) if outcome.nonnegative else pred.mean
        forecast = float(mean[seen].sum())
        if forecast <= 0.0 or not seen.any():
            out.append(np.nan)
            continue
        out.append((float(window.actual[seen].sum()) - forecast) / forecast)
    return np.asarray(out, dtype=np.float64)


def total_error_bounds(outcomes: Iterable[SeriesOutcome]) -> dict[str, dict[str, float]]:
    """Per model: the 10% and 90% quantiles of its window total misses pooled over
    `outcomes` (NaN with fewer than MIN_TOTALS of them)."""
    pooled: dict[str, list[FloatArray]] = {}
    for outcome in outcomes:
        for name, model in outcome.models.items():
            pooled.setdefault(name, []).append(window_total_errors(outcome, model))
    bounds = {}
    for name, chunks in pooled.items():
        errors = np.concatenate(chunks)
        errors = errors[np.isfinite(errors)]
        enough = len(errors) >= MIN_TOTALS
        bounds[name] = {
            column: float(np.quantile(errors, q)) if enough else float("nan")
            for column, q in QUANTILES.items()
        }
    return bounds


def with_total_bounds(
    metrics: pd.DataFrame, bounds: Mapping[str, Mapping[str, float]]
) -> pd.DataFrame:
    """`metrics` (one row per model) with each model's pooled total-miss bounds after its
    backtest scores (before `chosen`); NaN for a model scored on no window of this series."""
    out = metrics.copy()
    at = list(out.columns).index("chosen") if "chosen" in out.columns else len(out.columns)
    # a series with no backtest window of its own has no evidence that the pool's bounds fit it
    own = out["folds"].fillna(0).to_numpy() >= 1 if "folds" in out.columns else True
    for offset, column in enumerate(QUANTILES):
        values = [bounds.get(m, {}).get(column, float("nan")) for m in out["model"]]
        out.insert(at + offset, column, np.where(own, values, np.nan))
    return out
