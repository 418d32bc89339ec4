"""Run settings and the run result: the engine's frozen value types."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from forecast.errors import ForecastInputError

# Fast, strong and diverse: chosen on DTOC origins 2015-12 and 2016-12 (never on 2018).
# Slower zoo members ('ets', 'theta_sm', 'prophet', 'prophet_log', 'holt') are available by name.
RECOMMENDED_MODELS: tuple[str, ...] = (
    "seasonal_naive",
    "ses",
    "damped",
    "theta",
    "arima",
    # weekly only (skipped where no siblings are pooled): chosen on the synthetic demo's backtest
    "pooled_ses",
    "pooled_damped",
    "pooled_theta",
    "pooled_arima",
    "mean_best2",
    "mean_best4",
)


@dataclass(frozen=True)
class ForecastSettings:
    """What to forecast and how.

    horizon: periods ahead. levels: central interval levels in percent. backtest_folds: rolling
    origins, backtest_horizon apart (default: horizon). models: zoo names (see forecast.models)
    and combinations such as 'mean_best2' / 'median_best3'. n_jobs: local processes (1 =
    in-process); dask_address: run the per-series work on that Dask scheduler instead.
    sample_paths: paths per series to return (0 = none), reproducible from seed.
    calendar_adjust: fit monthly totals per standard-length month. clean_outliers: replace
    isolated spikes before fitting. max_history: fit on at most this many recent periods.
    adjust_level_shifts: rescale history before each detected level shift to the level after it
    before fitting (see shifts.py; off by default: its gain on the DTOC origins came from one
    origin, docs/benchmarks.md). Detected shifts are reported either way.
    hierarchy: {parent id: child ids}; the run then reconciles it (reconcile_run.py), backtest
    folds included, with `reconcile` 'bottom_up' (parents are their leaves' sums; a parent
    needs no history of its own) or 'wls_struct' (every node forecast, then combined).
    Sample paths then add up: each leaf's paths are drawn around its own final (reconciled)
    forecast as for any series, and each parent's path k is the sum of its leaves' paths k,
    so a parent's paths centre on its leaves' summed forecasts (its own reconciled forecast,
    unless leaves near zero were floored there).
    Leaves' shocks are drawn together, correlated as their chosen models' normalised backtest
    errors were on the folds they share (shrunk towards their mean correlation; independent
    when fewer than 10 fold-steps are shared; paths.leaf_correlation), so a shock that all
    districts feel widens the parent's paths as it widened the parent's own backtest errors.
    On eight synthetic districts sharing one shock, the county's 10-90% paths covered 82% of
    outcomes over 30 draws (39% with independent leaves); with independent district noise,
    91% (92%). On real DTOC data (each authority's days_total over its three parts, fitted to
    2015-12 and 2016-12, scored on the next year) the parts' errors are mildly correlated and
    the paths' 80% coverage moved from 0.825 / 0.842 to 0.833 / 0.877 (docs/benchmarks.md).
    Use the parent's paths for coherent totals of leaf scenarios; its own interval remains its
    calibrated marginal uncertainty.
    pool_by_kind: model choice and interval widths pool their evidence over the run's series
    of the same frequency; with this on, only over those whose ids share their first
    '/'-segment (a service pools its referral series with each other, not with a council's
    other uploads, so adding unrelated series does not move its forecasts).
    """

    horizon: int
    levels: tuple[int, ...] = (80, 95)
    backtest_folds: int = 3
    backtest_horizon: int | None = None
    models: tuple[str, ...] = RECOMMENDED_MODELS
    n_jobs: int = 1
    dask_address: str | None = None
    sample_paths: int = 0
    seed: int = 0
    calendar_adjust: bool = True  # monthly totals fitted per standard month (see calendar.py)
    clean_outliers: bool = False  # isolated spikes replaced before fitting (see outliers.py)
    max_history: int | None = None  # fit on at most this many recent periods (old regimes)
    adjust_level_shifts: bool = False  # fit old regimes' history at the latest level
    hierarchy: Mapping[str, tuple[str, ...]] | None = None
    reconcile: str = "bottom_up"
    pool_by_kind: bool = False  # pool only among ids with the same first '/'-segment

    def __post_init__(self) -> None:
        _require(self.horizon >= 1, "horizon", ">= 1", self.horizon)
        _require(self.backtest_folds >= 0, "backtest_folds", ">= 0", self.backtest_folds)
        _require(all(0 < lv < 100 for lv in self.levels), "levels", "each in 1..99", self.levels)
        _require(len(self.models) > 0, "models", "at least one model name", self.models)
        _require(self.n_jobs >= 1, "n_jobs", ">= 1", self.n_jobs)
        _require(self.sample_paths >= 0, "sample_paths", ">= 0", self.sample_paths)
        _require(len(self.levels) > 0, "levels", "at least one level", self.levels)
        mh = self.max_history
        _require(mh is None or mh >= 4, "max_history", "None or >= 4", mh)
        bh = self.backtest_horizon
        _require(bh is None or bh >= 1, "backtest_horizon", "None or >= 1", bh)

    @property
    def eval_horizon(self) -> int:
        """Backtest horizon in periods (defaults to the forecast horizon)."""
        return self.backtest_horizon or self.horizon


def _require(ok: bool, name: str, expected: str, found: object) -> None:
    if not ok:
        raise ForecastInputError(
            f"ForecastSettings.{name}: expected {expected}, found {found!r}", column=name
        )


@dataclass(frozen=True)
class ForecastRun:
    """Everything one run produced; all frames are long format keyed by `unique_id`.

    forecasts: unique_id, ds, model, mean, lo-<L>, hi-<L> per level (chosen model only).
    metrics: unique_id, model, mase, smape, rmsse, pinball, coverage_<L>, folds, selection_mase,
        chosen, members; means over the backtest folds. `members` names the models a
        combination's final forecast combined, ';' between them, best first ('' for others).
        A combination's metrics are out of sample (each fold's members ranked on the other
        folds); `selection_mase` is the in-sample backtest MASE the choice used (the same as
        `mase` for single models; the choice also pools it over the run's series,
        select.py). pinball and coverage_<L> are out of sample too: each fold is scored with
        intervals calibrated on the run's other folds (NaN where those leave too few errors),
        while the forecasts' intervals are calibrated on every fold
        (intervals.Calibration.held_out).
    chosen: unique_id -> chosen model name.
    fallbacks: unique_id, model, reason, kind (every model that failed and what replaced it;
        kind is one of outcome.py's SHORT_BACKTEST, TOO_SHORT, CONSTANT, FAILED, and only
        FAILED is a fault: the others are what a short or constant history gives).
    sample_paths: unique_id, ds, path, y when requested, else None.
    level_shifts: unique_id, ds (first period at the new level), ratio (level after / before,
        seasonally adjusted), t_stat; detected in each series' whole history (shifts.py).
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    chosen: Mapping[str, str]
    fallbacks: pd.DataFrame
    sample_paths: pd.DataFrame | None
    level_shifts: pd.DataFrame
