"""Turn one series' calibrated outcome into rows: metrics, choice, forecast, fallbacks."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from forecast.backtest import fold_horizon
from forecast.combine import backtest_mase
from forecast.intervals import Calibration, calibrated, clipped
from forecast.metrics import interval_scores, window_metrics
from forecast.models.base import Prediction
from forecast.outcome import SHORT_BACKTEST, ModelOutcome, SeriesOutcome
from forecast.select import choose
from forecast.series import FloatArray
from forecast.settings import ForecastSettings

log = logging.getLogger("forecast")


@dataclass(frozen=True, eq=False)
class SeriesResult:
    """Final rows for one series."""

    chosen: str
    forecast: pd.DataFrame
    metrics: pd.DataFrame
    fallbacks: list[tuple[str, str, str, str]]  # unique_id, model, reason, kind
    final: Prediction
    rho: float  # lag-1 correlation of the chosen model's backtest errors (for sample paths)


def finish(
    outcome: SeriesOutcome,
    calib: Calibration,
    pooled: Mapping[str, float],
    settings: ForecastSettings,
) -> SeriesResult:
    """Calibrate, score every model, choose one (partially pooled), explain every fallback."""
    models = {n: _calibrated(m, calib, outcome, settings) for n, m in outcome.models.items()}
    metrics = {n: _mean_metrics(outcome, m.scored, settings) for n, m in models.items()}
    for name, raw in outcome.models.items():
        metrics[name].update(_held_out_interval_scores(outcome, raw, calib, settings))
    selection = mase_by_model(metrics)
    for name, m in models.items():
        if m.held_out is not None:
            selection[name] = _mean_metrics(outcome, m.folds, settings).get("mase", float("nan"))
        metrics[name]["selection_mase"] = selection[name]
    chosen = choose(selection, settings.models, pooled)
    final = models[chosen].final
    fallbacks = _fallbacks(outcome, chosen, settings.eval_horizon)
    return SeriesResult(
        chosen,
        _forecast_frame(outcome, chosen, final),
        _metrics_frame(outcome.unique_id, metrics, chosen, models),
        fallbacks,
        final,
        calib.rho.get(chosen, 0.0),
    )


def mase_by_model(metrics: Mapping[str, Mapping[str, float]]) -> dict[str, float]:
    """Backtest MASE per model (NaN where a model has no scored fold)."""
    return {n: r.get("mase", float("nan")) for n, r in metrics.items()}


def backtest_scores(outcome: SeriesOutcome) -> dict[str, float]:
    """Backtest MASE of each model on one series (point forecasts need no calibration)."""
    return {n: backtest_mase(outcome, m) for n, m in outcome.models.items()}


def _calibrated(
    model: ModelOutcome, calib: Calibration, outcome: SeriesOutcome, settings: ForecastSettings
) -> ModelOutcome:
    widths = calib.widths.get(model.name)

    def fix(pred: Prediction, ratio: float) -> Prediction:
        return _rebuilt(pred, widths, ratio, outcome.nonnegative, settings)

    def fixed(preds: tuple[Prediction, ...]) -> tuple[Prediction, ...]:
        return tuple(fix(p, w.scale_ratio) for w, p in zip(outcome.windows, preds, strict=True))

    held_out = None if model.held_out is None else fixed(model.held_out)
    return replace(
        model,
        folds=fixed(model.folds),
        final=fix(model.final, outcome.scale_ratio),
        held_out=held_out,
    )


def _rebuilt(
    pred: Prediction,
    widths: Mapping[int, FloatArray] | None,
    ratio: float,
    nonnegative: bool,
    settings: ForecastSettings,
) -> Prediction:
    out = calibrated(pred, widths, settings.levels, ratio)
    return clipped(out) if nonnegative else out


def _held_out_interval_scores(
    outcome: SeriesOutcome, model: ModelOutcome, calib: Calibration, settings: ForecastSettings
) -> dict[str, float]:
    """pinball and coverage_<L> out of sample: each backtest fold's scores by intervals
    calibrated without that fold (`Calibration.held_out`), averaged over the folds that could
    be; NaN where none could (too few errors without it). Empty for a model the run did not
    calibrate: its intervals are its own, never fitted to these errors, so their scores stand.

    The intervals calibrated on every fold include the scored fold's own errors, so their
    coverage sat near nominal by construction and their pinball loss flattered them. Folds
    are matched across the run's series by their place from the end of each history, the same
    periods when the series end together.
    """
    if model.name not in calib.widths:
        return {}
    last = len(outcome.windows) - 1
    keys = ["pinball", *(f"coverage_{lv}" for lv in settings.levels)]
    rows = []
    for i, (win, pred) in enumerate(zip(outcome.windows, model.scored, strict=True)):
        if not np.isfinite(win.actual).any():
            continue
        widths = calib.held_out.get(last - i, {}).get(model.name)
        if widths is None:
            rows.append(dict.fromkeys(keys, float("nan")))
        else:
            fixed = _rebuilt(pred, widths, win.scale_ratio, outcome.nonnegative, settings)
            rows.append(interval_scores(win.actual, fixed, win.scales[0], settings.levels))
    return {key: _mean_of_finite([r[key] for r in rows]) for key in keys} if rows else {}


def _mean_of_finite(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return float(np.mean(finite)) if finite else float("nan")


def _mean_metrics(
    outcome: SeriesOutcome, preds: tuple[Prediction, ...], settings: ForecastSettings
) -> dict[str, float]:
    rows = [
        window_metrics(w.actual, p, w.scales, settings.levels)
        for w, p in zip(outcome.windows, preds, strict=True)
    ]
    rows = [r for r in rows if r]
    if not rows:
        return {"folds": 0.0}
    out = {k: float(np.mean([r[k] for r in rows])) for k in rows[0]}
    out["folds"] = float(len(rows))
    return out


def _metrics_frame(
    uid: str,
    metrics: dict[str, dict[str, float]],
    chosen: str,
    models: Mapping[str, ModelOutcome],
) -> pd.DataFrame:
    """One row per model; `members` names what a combination's final forecast combined (';'
    between names, best first), empty for a fitted model."""
    rows = [
        {
            "unique_id": uid,
            "model": n,
            **m,
            "chosen": n == chosen,
            "members": ";".join(models[n].members),
        }
        for n, m in metrics.items()
    ]
    return pd.DataFrame(rows)


def _forecast_frame(outcome: SeriesOutcome, chosen: str, pred: Prediction) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unique_id": outcome.unique_id,
            "ds": outcome.future_ds,
            "model": chosen,
            "mean": pred.mean,
        }
    )
    for key, values in pred.quantiles.items():
        frame[key] = values
    return frame


def _fallbacks(
    outcome: SeriesOutcome, chosen: str, horizon: int
) -> list[tuple[str, str, str, str]]:
    rows = []
    if not outcome.windows:
        rows.append(
            (
                "backtest",
                SHORT_BACKTEST,
                f"history too short for any backtest fold; chose {chosen} by preference order",
            )
        )
    elif (ahead := fold_horizon(outcome.windows)) < horizon:
        rows.append(
            (
                "backtest",
                SHORT_BACKTEST,
                f"history too short for a backtest fold {horizon} periods ahead; chose {chosen} "
                f"on one fold {ahead} periods ahead, pooled with the run's other series",
            )
        )
    rows.extend(outcome.failures)
    out = []
    said: dict[str, list[str]] = {}  # one log line per reason: a constant series' models
    for model, kind, reason in rows:
        kept = model in outcome.models or model in ("backtest", "*")
        text = reason if kept else f"{reason}; replaced by {chosen}"
        said.setdefault(text, []).append(model)
        out.append((outcome.unique_id, model, text, kind))
    for text, models in said.items():
        which = f"model {models[0]}" if len(models) == 1 else f"models {', '.join(models)}"
        log.warning("series %s, %s: %s", outcome.unique_id, which, text)
    return out
