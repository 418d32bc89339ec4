"""Level shifts: a step in a series' seasonally adjusted level, told apart from a trend.

At each period t the seasonally adjusted series is fitted, over the half season either side of
t, by a line plus a step at t; a step whose t-statistic exceeds SHIFT_T (noise measured robustly
from one-step changes), is the largest within half a season, and moves the mean level over a
year either side by at least MIN_CHANGE, the same way as the step, is a level shift. A steady
rise or fall fits the line and is not a shift; nor is the bend where a fall starts (the fit
puts a step up against the falling line, while the level a year on is lower: ratio and
t_stat would disagree in sign); series with zeros or negative levels get no shifts (no
ratio). Abrupt changes in DTOC days (the 2017 policy change where an authority acted at once,
a change of recording) are the case in point; a fall spread over many months is a trend to
this test and is left to the adaptive models (Warwickshire's 2017 fall is one).

`detect_level_shifts` reports them (the run returns them per series as `level_shifts`).
`without_level_shifts` rescales the history before each shift to the level after it, so that
a model fitted to it sees one regime (`ForecastSettings.adjust_level_shifts`). Each backtest
origin detects on its own training window only. It is off by default: over the DTOC origins
2014-12 to 2017-12 its gain came from one origin (2016-12) and it cost 3% on
`days_social_care` in 2018, where the rescaled pre-2017 rise fed Theta's whole-history drift
(docs/benchmarks.md; measured before session 11, when shifts whose step ran against the
change of level were still reported: 72 of the 321 found in the whole DTOC histories then).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from forecast.models.seasonality import decompose
from forecast.series import FloatArray

SHIFT_T = 4.0  # |t| of the step beyond which a shift is reported
MIN_CHANGE = 0.1  # and the level must move by at least 10% (smaller steps are noise to a plan)
_MAD_TO_SD = 1.4826


@dataclass(frozen=True)
class LevelShift:
    """A shift whose first period at the new level is `index`; `ratio` = level after / before
    (seasonally adjusted means over up to a season either side, up to the neighbouring shift)."""

    index: int
    ratio: float
    t_stat: float


def detect_level_shifts(y: FloatArray, season_length: int) -> list[LevelShift]:
    """Level shifts in a complete series `y`, oldest first (none if it is too short or flat)."""
    w = max(3, season_length // 2)
    n = len(y)
    if n < 4 * w or not np.isfinite(y).all():
        return []
    adjusted = decompose(y, season_length).remove(y)
    t_stats = _local_t_stats(adjusted, w)
    if t_stats is None:
        return []
    found = []
    for i in range(len(t_stats)):
        lo, hi = max(0, i - w), min(len(t_stats), i + w + 1)
        if abs(t_stats[i]) > SHIFT_T and abs(t_stats[i]) == np.max(np.abs(t_stats[lo:hi])):
            found.append(i + w)
    t_at = [float(t_stats[i - w]) for i in found]
    shifts = [_shift(adjusted, found, k, t_at[k], season_length) for k in range(len(found))]
    return [s for s in shifts if _moves_the_level(s)]


def _moves_the_level(shift: LevelShift) -> bool:
    """The mean level moved by at least MIN_CHANGE, and the same way as the step: a step up in
    a falling series (a January rise in a year-long fall) leaves the level lower a year on, so
    it is a blip in a trend, not a shift, and its ratio and t_stat would disagree in sign."""
    change = float(np.log(shift.ratio))  # nan where a level is not positive: never a shift
    return bool(abs(change) >= np.log1p(MIN_CHANGE) and np.sign(change) == np.sign(shift.t_stat))


def without_level_shifts(y: FloatArray, shifts: list[LevelShift]) -> FloatArray:
    """`y` with the history before each shift rescaled to the level after it (latest first, so
    older history takes every later shift too). Multiplicative where the ratio is positive."""
    out = np.array(y, dtype=np.float64)
    for shift in reversed(shifts):
        if np.isfinite(shift.ratio) and shift.ratio > 0:
            out[: shift.index] *= shift.ratio
    return out


def _local_t_stats(a: FloatArray, w: int) -> FloatArray | None:
    """t-statistic of the least-squares step at each t in [w, n - w] from a line + step fitted
    to a[t-w : t+w] (None if the noise is zero). The design is the same at every t, so the step
    estimate is one fixed linear filter."""
    x = np.arange(-w, w, dtype=np.float64)
    design = np.column_stack([np.ones(2 * w), x, (x >= 0).astype(np.float64)])
    inverse = np.linalg.inv(design.T @ design)
    weights = (inverse @ design.T)[2]  # step = weights . window
    windows = np.lib.stride_tricks.sliding_window_view(a, 2 * w)
    steps = windows @ weights
    d = np.diff(a)
    noise = _MAD_TO_SD * float(np.median(np.abs(d - np.median(d)))) / np.sqrt(2.0)
    if noise <= 0:
        return None
    return np.asarray(steps / (noise * np.sqrt(inverse[2, 2])), dtype=np.float64)


def _shift(a: FloatArray, found: list[int], k: int, t_stat: float, span: int) -> LevelShift:
    """The k-th shift, its ratio from mean levels over up to `span` periods either side."""
    index = found[k]
    start = max(found[k - 1] if k > 0 else 0, index - span)
    end = min(found[k + 1] if k + 1 < len(found) else len(a), index + span)
    before, after = float(np.mean(a[start:index])), float(np.mean(a[index:end]))
    ratio = after / before if before > 0 and after > 0 else float("nan")
    return LevelShift(index, ratio, t_stat)
