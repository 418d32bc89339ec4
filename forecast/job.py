"""The unit of parallel work: backtest and fit every candidate model on one series."""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import cast

import numpy as np
import pandas as pd

from forecast.backtest import Window, fold_windows, scale_ratio
from forecast.calendar import adjusted, restored
from forecast.combine import base_models
from forecast.errors import ForecastInputError, HistoryTooShort, ModelFitError
from forecast.metrics import error_scale
from forecast.models import POOLED_PREFIX, make_model
from forecast.models.base import Forecaster, Prediction
from forecast.models.profile import fit_profile
from forecast.outcome import CONSTANT, FAILED, TOO_SHORT, ModelOutcome, SeriesOutcome
from forecast.outliers import cleaned
from forecast.series import SeriesData
from forecast.settings import RECOMMENDED_MODELS, ForecastSettings
from forecast.shifts import detect_level_shifts, without_level_shifts

log = logging.getLogger(__name__)


def run_series(series: SeriesData, settings: ForecastSettings) -> SeriesOutcome:
    """Backtest and fit each candidate on `series`; failures are recorded, never raised."""
    failures: list[tuple[str, str, str]] = []
    candidates = _candidates(series, settings, failures)
    if _is_constant(series):  # a constant total stays constant, whatever the month length
        settings = replace(settings, calendar_adjust=False)
    clean = _interpolated(series)
    wins = tuple(fold_windows(clean, settings.backtest_folds, settings.eval_horizon))
    wins = _as_observed(wins, series)
    models: dict[str, ModelOutcome] = {}
    if settings.models == RECOMMENDED_MODELS:  # defaults the user did not choose
        candidates = _applicable(candidates, clean, wins, settings)
    for name in candidates:
        try:
            models[name] = _run_model(name, series, wins, settings)
        except HistoryTooShort as err:  # expected of a short series, not a fault
            failures.append((name, TOO_SHORT, f"history too short: {err}"))
        except Exception as err:  # any third-party failure becomes a recorded fallback
            failures.append((name, FAILED, f"failed: {type(err).__name__}: {err}"))
    if not models:
        models["naive"] = _last_resort(series, wins, settings)
        failures.append(("*", FAILED, "every candidate failed; naive used"))
    nonneg = bool(np.nanmin(series.y) >= 0)
    future = series.future_ds(settings.horizon)
    # on the values observed, as each fold's (`_as_observed`): not on `clean`, whose gaps
    # are straight lines that look noiseless
    ratio = scale_ratio(series.y, series.season_length)
    seen = adjusted(clean) if settings.calendar_adjust else clean
    shifts = tuple(
        (seen.ds[s.index], s.ratio, s.t_stat)
        for s in detect_level_shifts(seen.y, seen.season_length)
    )
    return SeriesOutcome(series.unique_id, future, nonneg, wins, models, failures, ratio, shifts)


def _last_resort(
    series: SeriesData, wins: tuple[Window, ...], settings: ForecastSettings
) -> ModelOutcome:
    """Naive, when every candidate failed; ForecastInputError naming the series when even it
    fails: finite values so large that their squares overflow (1e160) leave no model a finite
    forecast, and that is the history's fault, not a model's."""
    try:
        return _run_model("naive", series, wins, settings)
    except ModelFitError as err:
        observed = series.y[np.isfinite(series.y)]
        raise ForecastInputError(
            f"series {series.unique_id!r}: expected values a forecast can be made from; found "
            f"values from {observed.min():.3g} to {observed.max():.3g}, on which every model "
            f"failed, the naive fallback too ({err})",
            series_id=series.unique_id,
        ) from err


def _candidates(
    series: SeriesData, settings: ForecastSettings, failures: list[tuple[str, str, str]]
) -> tuple[str, ...]:
    if _is_constant(series):
        observed = series.y[np.isfinite(series.y)]
        for name in settings.models:
            if name != "naive":
                failures.append((name, CONSTANT, f"constant series (every value {observed[0]:g})"))
        return ("naive",)
    names = base_models(settings.models)
    if series.pooled is None:  # pooled seasons exist only where siblings were pooled (weekly)
        names = tuple(n for n in names if not n.startswith(POOLED_PREFIX))
    return names


def _applicable(
    names: tuple[str, ...], clean: SeriesData, wins: tuple[Window, ...], settings: ForecastSettings
) -> tuple[str, ...]:
    """`names` less the pooled-season models when the series' first training window (the
    shortest a model is fitted on) holds too little history for a pooled season (two years of
    weeks): a default candidate that cannot apply is skipped, not reported as a failure. The
    check is the profile fit the model itself would make first, so a model kept here fits
    exactly as before, and one dropped would have failed."""
    if clean.pooled is None or not any(n.startswith(POOLED_PREFIX) for n in names):
        return names
    first = _prepared(clean.head(wins[0].origin) if wins else clean, settings)
    if first.pooled is None:
        return names
    try:
        fit_profile(first.ds, first.pooled)
    except ModelFitError as err:
        log.debug("series %s: pooled models skipped (%s)", clean.unique_id, err)
        return tuple(n for n in names if not n.startswith(POOLED_PREFIX))
    return names


def _is_constant(series: SeriesData) -> bool:
    observed = series.y[np.isfinite(series.y)]
    return bool(observed.min() == observed.max())


def _run_model(
    name: str, series: SeriesData, wins: tuple[Window, ...], settings: ForecastSettings
) -> ModelOutcome:
    """`name` backtested on `wins` and fitted on the whole of `series`. A series with gaps
    (--fill-gaps) is interpolated for a model that needs every value: asked for and logged
    once per series by the caller, so neither a failure nor a fallback. Each fold interpolates
    its own training window only, so no value after its origin shapes what it is fitted on."""
    calendar = settings.calendar_adjust
    fill = _identity if _accepts_missing(name) else _interpolated
    folds = []
    model: Forecaster | None = None
    for w in wins:
        model = _refit(name, model, _prepared(fill(series.head(w.origin)), settings))
        pred = model.predict(len(w.actual), settings.levels)
        ds = series.ds[w.origin : w.origin + len(w.actual)]
        folds.append(_checked(name, restored(pred, ds, series.freq) if calendar else pred))
    fitted = make_model(name).fit(_prepared(fill(series), settings))
    final = fitted.predict(settings.horizon, settings.levels)
    future = series.future_ds(settings.horizon)
    final = restored(final, future, series.freq) if calendar else final
    return ModelOutcome(name, tuple(folds), _checked(name, final))


def _prepared(train: SeriesData, settings: ForecastSettings) -> SeriesData:
    """What models see: per standard month, level shifts adjusted, recent history only, spikes
    removed; each step uses only the training window itself, so backtests see no future data."""
    data = adjusted(train) if settings.calendar_adjust else train
    if settings.adjust_level_shifts:
        shifts = detect_level_shifts(data.y, data.season_length)
        data = data.with_values(without_level_shifts(data.y, shifts))
    if settings.max_history is not None:
        data = data.tail(settings.max_history)
    return cleaned(data) if settings.clean_outliers else data


def _refit(name: str, previous: Forecaster | None, train: SeriesData) -> Forecaster:
    """Fit at the first origin; later origins re-filter with the same parameters when the model
    can (`extend`), which keeps the backtest honest (no future data) and cheap."""
    extend = getattr(previous, "extend", None)
    if extend is not None:
        return cast(Forecaster, extend(train))
    return make_model(name).fit(train)


def _checked(name: str, pred: Prediction) -> Prediction:
    values = [pred.mean, *pred.quantiles.values()]
    if not all(np.isfinite(v).all() for v in values):
        raise ModelFitError(f"{name}: non-finite forecast")
    return pred


def _accepts_missing(name: str) -> bool:
    return bool(getattr(make_model(name), "accepts_missing", False))


def _as_observed(wins: tuple[Window, ...], series: SeriesData) -> tuple[Window, ...]:
    """`wins` (cut from the interpolated series) scored on what was observed: each fold's
    actuals NaN where `series` has a gap (every score skips them), its error scales and scale
    ratio from its own training window's observed values. Interpolated actuals across a fold's
    origin were drawn from both sides of it, so a fold was scored against invented values."""
    if not series.n_missing:
        return wins
    m = series.season_length
    out = []
    for w in wins:
        train = series.y[: w.origin]
        scales = (error_scale(train, m, 1), error_scale(train, m, 2))
        actual = series.y[w.origin : w.origin + len(w.actual)]
        out.append(replace(w, actual=actual, scales=scales, scale_ratio=scale_ratio(train, m)))
    return tuple(out)


def _identity(series: SeriesData) -> SeriesData:
    return series


def _interpolated(series: SeriesData) -> SeriesData:
    """Gaps filled linearly between observed values, before the first and after the last by
    the nearest one (the last value carried forward at the end of a training window)."""
    if not series.n_missing:
        return series
    y = np.asarray(pd.Series(series.y).interpolate(limit_direction="both"), dtype=np.float64)
    return series.with_values(y)
