"""The engine's entry point: validate, fit every series (in parallel), calibrate, select."""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from forecast.assemble import SeriesResult, backtest_scores, finish
from forecast.backtest import fold_horizon
from forecast.combine import base_models, check_names, with_combos
from forecast.errors import ForecastInputError
from forecast.hierarchy import reconcile_paths_bottom_up, trees
from forecast.intervals import fit_calibration, normalised_errors
from forecast.metrics import with_metric_columns
from forecast.models import FACTORIES, POOLED_PREFIX
from forecast.outcome import FALLBACK_COLUMNS, SeriesOutcome
from forecast.parallel import map_series
from forecast.paths import leaf_correlation, leaf_shocks, sample_paths
from forecast.pooling import with_sibling_totals
from forecast.reconcile_run import check_hierarchy, reconciled_outcomes
from forecast.select import pooled_mase
from forecast.series import SeriesData
from forecast.settings import ForecastRun, ForecastSettings
from forecast.totals import total_error_bounds, with_total_bounds
from forecast.validate import split_history

log = logging.getLogger("forecast")


def run_forecasts(
    history: pd.DataFrame,
    settings: ForecastSettings,
    progress: Callable[[int, int], None] | None = None,
    freq: Mapping[str, str] | None = None,
) -> ForecastRun:
    """Forecast every series in `history` (unique_id, ds, y) `settings.horizon` periods ahead.

    Frequencies are inferred per series from `ds` (MS or W-MON) unless `freq` maps ids to them.
    `progress(done, total)` is called as each series finishes fitting. `history` is not changed.
    """
    check_model_names(settings.models)
    series = with_sibling_totals(split_history(history, freq))
    _check_some_model_fits(series, settings)
    if settings.hierarchy:
        check_hierarchy(series, settings)
    outcomes = [with_combos(o, settings.models) for o in map_series(series, settings, progress)]
    results = _finish_by_frequency(outcomes, settings)
    if settings.hierarchy:
        outcomes, results = _reconciled(series, outcomes, results, settings)
    log.info(
        "forecast %d series; %d fallbacks", len(results), sum(len(r.fallbacks) for r in results)
    )
    return _collect(outcomes, results, settings)


def accepted_models() -> str:
    """Every model name `settings.models` accepts, as a sentence for an error message: the zoo,
    each as a pooled season (pooled_<model>), the combinations and windowed fits."""
    zoo = sorted(FACTORIES)
    pooled = [POOLED_PREFIX + n for n in zoo]
    return (
        f"{', '.join(zoo)}; pooled seasons (weekly series with siblings) {', '.join(pooled)}; "
        "combinations of the best k fitted models mean_best<k> or median_best<k> (e.g. "
        "mean_best2, mean_best4, median_best3); and <model>@<periods> to fit on the last "
        "periods only (e.g. ets@36)"
    )


def check_model_names(names: Sequence[str]) -> None:
    """ForecastInputError naming an unknown model with every accepted name (and the nearest
    one), then the engine's own checks (a window too short, combinations alone)."""
    known = [*FACTORIES, *(POOLED_PREFIX + n for n in FACTORIES)]
    for name in base_models(names):
        base = name.partition("@")[0].removeprefix(POOLED_PREFIX)
        if base not in FACTORIES:
            near = difflib.get_close_matches(name, [*known, "mean_best2", "mean_best4"], n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            raise ForecastInputError(
                f"models: expected names from {accepted_models()}; found {name!r}{hint}",
                column="models",
            )
    check_names(names)


def _check_some_model_fits(series: list[SeriesData], settings: ForecastSettings) -> None:
    """ForecastInputError if every fitted model asked for is a pooled one and a series has no
    weekly siblings to pool a season from (they would all be skipped, leaving naive)."""
    fitted = base_models(settings.models)
    if not fitted or not all(n.startswith(POOLED_PREFIX) for n in fitted):
        return
    alone = next((s for s in series if s.pooled is None), None)
    if alone is not None:
        raise ForecastInputError(
            f"models: expected a model that fits {alone.unique_id!r} on its own (e.g. ets or "
            f"theta): {list(fitted)} pool a weekly season over sibling series, and it has "
            f"none ({alone.freq})",
            series_id=alone.unique_id,
        )


def _finish_by_frequency(
    outcomes: list[SeriesOutcome], settings: ForecastSettings
) -> list[SeriesResult]:
    """Interval calibration, pooled selection evidence and the bounds of a window total's miss
    (forecast/totals.py) are shared only among series of the same frequency (a weekly step is
    not a monthly step) and, with `pool_by_kind`, the same kind (the id up to its first '/');
    within a group, only among the series backtested at the full horizon when there are any."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i, o in enumerate(outcomes):
        kind = o.unique_id.partition("/")[0] if settings.pool_by_kind else ""
        groups.setdefault((str(o.future_ds.freqstr), kind), []).append(i)
    results: dict[int, SeriesResult] = {}
    for members in groups.values():
        group = [outcomes[i] for i in members]
        # a series backtested on one shorter fold (backtest.fold_windows) was scored nearer
        # ahead: its scores and errors would flatter the models in the long series' choice and
        # narrow their intervals, so they are evidence only where no series has a full fold
        evidence = [o for o in group if _full_folds(o, settings.eval_horizon)] or group
        calib = fit_calibration(evidence, settings.levels)
        pooled = pooled_mase(backtest_scores(o) for o in evidence)
        totals = total_error_bounds(evidence)
        for i in members:
            result = finish(outcomes[i], calib, pooled, settings)
            results[i] = replace(result, metrics=with_total_bounds(result.metrics, totals))
    return [results[i] for i in range(len(outcomes))]


def _full_folds(outcome: SeriesOutcome, horizon: int) -> bool:
    """Whether `outcome` was backtested `horizon` periods ahead (not on no fold, nor on one
    shorter fold)."""
    return fold_horizon(outcome.windows) >= horizon


def _reconciled(
    series: list[SeriesData],
    outcomes: list[SeriesOutcome],
    results: list[SeriesResult],
    settings: ForecastSettings,
) -> tuple[list[SeriesOutcome], list[SeriesResult]]:
    """Each reconciled node's result replaces (or, for a parent with no history, joins) the
    direct one; its metrics keep every candidate's rows beside the reconciled model's."""
    chosen = {o.unique_id: r.chosen for o, r in zip(outcomes, results, strict=True)}
    rec = reconciled_outcomes(series, outcomes, chosen, settings)
    if not rec:
        return outcomes, results
    rec_settings = replace(settings, models=tuple(dict.fromkeys(n for o in rec for n in o.models)))
    rec_results = _finish_by_frequency(rec, rec_settings)
    index = {o.unique_id: i for i, o in enumerate(outcomes)}
    outcomes, results = list(outcomes), list(results)
    for o, r in zip(rec, rec_results, strict=True):
        i = index.get(o.unique_id)
        if i is None:
            outcomes.append(o)
            results.append(r)
            continue
        direct = results[i].metrics.assign(chosen=False)
        metrics = pd.concat([direct, r.metrics], ignore_index=True)
        outcomes[i] = o
        results[i] = replace(r, metrics=metrics, fallbacks=results[i].fallbacks + r.fallbacks)
    return outcomes, results


def _collect(
    outcomes: list[SeriesOutcome],
    results: list[SeriesResult],
    settings: ForecastSettings,
) -> ForecastRun:
    fallbacks = [row for r in results for row in r.fallbacks]
    return ForecastRun(
        forecasts=pd.concat([r.forecast for r in results], ignore_index=True),
        metrics=with_metric_columns(
            pd.concat([r.metrics for r in results], ignore_index=True), settings.levels
        ),
        chosen={o.unique_id: r.chosen for o, r in zip(outcomes, results, strict=True)},
        fallbacks=pd.DataFrame(fallbacks, columns=list(FALLBACK_COLUMNS)),
        sample_paths=_paths(outcomes, results, settings),
        level_shifts=_shifts(outcomes),
    )


def _shifts(outcomes: list[SeriesOutcome]) -> pd.DataFrame:
    rows = [(o.unique_id, *shift) for o in outcomes for shift in o.level_shifts]
    return pd.DataFrame(rows, columns=["unique_id", "ds", "ratio", "t_stat"])


def _paths(
    outcomes: list[SeriesOutcome],
    results: list[SeriesResult],
    settings: ForecastSettings,
) -> pd.DataFrame | None:
    """Each series' paths around its final forecast; in a hierarchical run, each parent's path k
    is instead the sum of its leaves' paths k, and the leaves' shocks are correlated as their
    backtest errors were (see ForecastSettings for what that spread means).
    """
    if settings.sample_paths <= 0:
        return None
    parents = settings.hierarchy or {}
    shocks = _leaf_shocks(outcomes, results, settings) if parents else {}
    frames = []
    for o, r in zip(outcomes, results, strict=True):
        if o.unique_id in parents:
            continue  # summed from its leaves below
        spec = (settings.sample_paths, settings.seed, r.rho, o.nonnegative)
        frames.append(
            sample_paths(
                o.unique_id, o.future_ds, r.final, spec, settings.levels, shocks.get(o.unique_id)
            )
        )
    paths = pd.concat(frames, ignore_index=True)
    if not parents:
        return paths
    return _in_run_order(reconcile_paths_bottom_up(paths, parents), outcomes)


def _leaf_shocks(
    outcomes: list[SeriesOutcome], results: list[SeriesResult], settings: ForecastSettings
) -> dict[str, np.ndarray]:
    """Per tree, its leaves' shocks drawn together (`paths.leaf_shocks`), correlated by their
    chosen models' normalised backtest errors on the folds they share. The leaves are drawn in
    id order (the Cholesky factor depends on it), so the same seed gives the same paths however
    the hierarchy file orders its rows."""
    by_id = {o.unique_id: (o, r) for o, r in zip(outcomes, results, strict=True)}
    out: dict[str, np.ndarray] = {}
    for tree in trees(settings.hierarchy or {}):
        leaves = [by_id[leaf] for leaf in sorted(tree.leaves) if leaf in by_id]
        horizons = {len(o.future_ds) for o, _r in leaves}
        if len(leaves) < 2 or len(horizons) != 1:
            continue
        errors = [normalised_errors(o, r.chosen, settings.levels) for o, r in leaves]
        if len({len(e) for e in errors}) != 1:
            continue  # folds not aligned: leave the leaves independent
        spec = (settings.sample_paths, settings.seed, horizons.pop())
        drawn = leaf_shocks(
            tree.nodes[0], spec, [r.rho for _o, r in leaves], leaf_correlation(errors)
        )
        out.update({o.unique_id: s for (o, _r), s in zip(leaves, drawn, strict=True)})
    return out


def _in_run_order(paths: pd.DataFrame, outcomes: list[SeriesOutcome]) -> pd.DataFrame:
    """Series in the order of the run, each path's periods together (as `sample_paths` lays
    them out), whether or not a hierarchy summed some of them."""
    rank = paths["unique_id"].map({o.unique_id: i for i, o in enumerate(outcomes)})
    order = paths.assign(rank=rank).sort_values(["rank", "path", "ds"], kind="stable").index
    return paths.loc[order].reset_index(drop=True)
