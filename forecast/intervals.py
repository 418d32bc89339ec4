"""Conformal calibration of interval widths from pooled, normalised backtest errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from forecast.models.base import Prediction, z_value
from forecast.outcome import SeriesOutcome
from forecast.series import FloatArray

MIN_ERRORS = 10
MIN_PER_STEP = 100  # errors needed to give a horizon step its own width


Widths = Mapping[str, Mapping[int, FloatArray]]  # model -> level -> half-width per step


@dataclass(frozen=True)
class Calibration:
    """Per model and level: interval half-width per horizon step, in units of the model's own
    sd (steps past the backtest horizon reuse the last one); and the lag-1 error correlation.

    `held_out` maps a backtest fold, counted from the end of each series' history (0 is the
    latest), to the widths calibrated on every other fold's errors: a fold's intervals rebuilt
    with them were not calibrated on that fold, so their coverage of it and pinball loss on it
    are out of sample. A
    model missing there had too few errors (MIN_ERRORS) without that fold.
    """

    widths: Widths
    rho: Mapping[str, float]
    held_out: Mapping[int, Widths] = field(default_factory=dict)


def reference_sd(pred: Prediction, levels: Sequence[int]) -> FloatArray:
    """The model's own per-step sd implied by its first-level interval."""
    lo, hi = pred.interval(levels[0])
    return np.maximum(hi - lo, 0.0) / (2.0 * z_value(levels[0]))


def fit_calibration(outcomes: Iterable[SeriesOutcome], levels: Sequence[int]) -> Calibration:
    """Pool |actual - mean| / (sd * scale ratio) over series and folds for each model (split
    conformal). The scale ratio at each origin puts errors on the series' current noise level.

    Each horizon step gets its own quantile when at least MIN_PER_STEP errors exist for it (many
    series), else all steps share one; fewer than MIN_ERRORS errors leave a model uncalibrated.
    The same is done once more per fold without that fold's errors (`Calibration.held_out`).
    """
    errors: dict[str, list[tuple[int, FloatArray]]] = {}  # (fold from the end, errors)
    for outcome in outcomes:
        for name in outcome.models:
            chunks = _fold_errors(outcome, name, levels)
            tagged = [(len(chunks) - 1 - i, c) for i, c in enumerate(chunks)]
            if tagged:
                errors.setdefault(name, []).extend(tagged)
    widths, rho = {}, {}
    for name, pairs in errors.items():
        chunks = [c for _, c in pairs]
        if _enough(chunks):
            widths[name] = {lv: _step_widths(chunks, lv / 100.0) for lv in levels}
            rho[name] = _lag1(chunks)
    return Calibration(widths, rho, _held_out_widths(errors, levels))


def _held_out_widths(
    errors: Mapping[str, list[tuple[int, FloatArray]]], levels: Sequence[int]
) -> dict[int, Widths]:
    """Per fold (from the end), every model's widths from the other folds' errors (leave one
    fold out: with three folds, calibrating only on earlier ones would leave the oldest fold
    nothing and the next one a single fold's errors)."""
    folds = sorted({k for pairs in errors.values() for k, _ in pairs})
    out: dict[int, Widths] = {}
    for fold in folds:
        kept = {name: [c for k, c in pairs if k != fold] for name, pairs in errors.items()}
        out[fold] = {
            name: {lv: _step_widths(chunks, lv / 100.0) for lv in levels}
            for name, chunks in kept.items()
            if _enough(chunks)
        }
    return out


def _enough(chunks: list[FloatArray]) -> bool:
    return bool(chunks) and int(np.isfinite(np.concatenate(chunks)).sum()) >= MIN_ERRORS


def normalised_errors(outcome: SeriesOutcome, model: str, levels: Sequence[int]) -> FloatArray:
    """A model's backtest errors on one series, fold after fold, each over its sd times the
    fold's scale ratio (as calibration pools them); NaN where the sd is zero."""
    chunks = _fold_errors(outcome, model, levels)
    return np.concatenate(chunks) if chunks else np.empty(0)


def _fold_errors(outcome: SeriesOutcome, model: str, levels: Sequence[int]) -> list[FloatArray]:
    out = []
    for win, pred in zip(outcome.windows, outcome.models[model].folds, strict=True):
        sd = reference_sd(pred, levels) * win.scale_ratio
        with np.errstate(divide="ignore", invalid="ignore"):
            z = (win.actual - pred.mean) / sd
        out.append(np.where(np.isfinite(z), z, np.nan))
    return out


def _step_widths(chunks: list[FloatArray], q: float) -> FloatArray:
    steps = max(len(c) for c in chunks)
    grid = np.full((len(chunks), steps), np.nan)
    for i, c in enumerate(chunks):
        grid[i, : len(c)] = np.abs(c)
    grid[~np.isfinite(grid)] = np.nan
    overall = float(np.nanquantile(grid, q))
    out = np.full(steps, overall)
    for s in range(steps):
        column = grid[:, s][np.isfinite(grid[:, s])]
        if len(column) >= MIN_PER_STEP:
            out[s] = float(np.quantile(column, q))
    # neighbouring steps share most of their information; a 3-step average removes jitter
    padded = np.concatenate([out[:1], out, out[-1:]])
    return np.asarray(np.convolve(padded, np.ones(3) / 3.0, mode="valid"), dtype=np.float64)


def calibrated(
    pred: Prediction,
    widths: Mapping[int, FloatArray] | None,
    levels: Sequence[int],
    scale_ratio: float = 1.0,
) -> Prediction:
    """Intervals rebuilt as mean +/- width * sd * scale_ratio (the series' recent noise
    over its whole-history noise at the origin); unchanged if the model has no
    calibration."""
    if widths is None:
        return pred
    sd = reference_sd(pred, levels) * scale_ratio
    quantiles = {}
    for level in levels:
        w = widths[level]
        half = w[np.minimum(np.arange(len(sd)), len(w) - 1)] * sd
        quantiles[f"lo-{level}"] = pred.mean - half
        quantiles[f"hi-{level}"] = pred.mean + half
    return Prediction(pred.mean, quantiles)


def clipped(pred: Prediction) -> Prediction:
    """Counts cannot be negative: mean and quantiles floored at zero, and where the mean is
    raised to zero the upper quantiles are raised by as much first.

    Why: a mean below zero is a model's trend run past where counts can go (a fall carried
    on by ARIMA or Holt), not evidence that the count will be zero for certain. Floored alone,
    the interval went under zero with it and was published as [0, 0] in the months after a
    last value of 10. Raised with the mean, each upper quantile stands as far above the
    published mean as the model put it above its own: the spread the model stated is kept,
    its lower half cut at zero. Where the mean is not below zero nothing moves."""
    raised = np.maximum(-pred.mean, 0.0)
    quantiles = {
        k: np.maximum(v + raised if k.startswith("hi-") else v, 0.0)
        for k, v in pred.quantiles.items()
    }
    return Prediction(np.maximum(pred.mean, 0.0), quantiles)


def _lag1(chunks: list[FloatArray]) -> float:
    pairs = [(c[:-1], c[1:]) for c in chunks if len(c) > 1]
    if not pairs:
        return 0.0
    a = np.concatenate([p[0] for p in pairs])
    b = np.concatenate([p[1] for p in pairs])
    ok = np.isfinite(a) & np.isfinite(b)
    if ok.sum() < MIN_ERRORS or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
        return 0.0
    return float(np.clip(np.corrcoef(a[ok], b[ok])[0, 1], 0.0, 0.99))
