"""Reconciling inside a run: parents add up to their children in the backtest folds as well as
in the final forecast, so the reconciled forecasts get their own conformal intervals and
backtest metrics.

Reconciling only the final forecasts (`hierarchy.reconcile_*`) keeps each node's interval
width as it was (or, bottom-up, sums the bounds, which is too wide whenever the children's
errors are not perfectly aligned). Here every backtest fold of every node's chosen model is
reconciled the same way, the reconciled fold errors calibrate the reconciled intervals (split
conformal, pooled like any other model), and the same folds give the metrics a dashboard shows.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Collection, Mapping, Sequence

import numpy as np
import pandas as pd

from forecast.backtest import Window, fold_windows, min_train_length, scale_ratio
from forecast.errors import ForecastInputError
from forecast.hierarchy import Tree, check_tree_shape, trees
from forecast.intervals import clipped, reference_sd
from forecast.models.base import Prediction, gaussian_prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import FloatArray, SeriesData
from forecast.settings import ForecastSettings

log = logging.getLogger("forecast")
RECONCILE_METHODS = ("bottom_up", "wls_struct")
BOTTOM_UP = "bottom_up"


def check_hierarchy(series: Sequence[SeriesData], settings: ForecastSettings) -> None:
    """Before any fitting: a known method; a tree (no cycles, no child under two parents, no
    parent without children); every leaf in the history, every parent too for wls_struct; one
    frequency per tree; every node backtested on the same periods. ForecastInputError names the
    first id at fault."""
    hierarchy = settings.hierarchy or {}
    if settings.reconcile not in RECONCILE_METHODS:
        raise ForecastInputError(
            f"ForecastSettings.reconcile: expected one of {RECONCILE_METHODS}, "
            f"found {settings.reconcile!r}",
            column="reconcile",
        )
    check_tree_shape(hierarchy, {s.unique_id for s in series})
    data = {s.unique_id: s for s in series}
    for tree in trees(hierarchy):
        needed = tree.nodes if settings.reconcile == "wls_struct" else tree.leaves
        missing = next((n for n in needed if n not in data), None)
        if missing is not None:
            raise ForecastInputError(
                f"hierarchy: series {missing!r} expected in the history ({settings.reconcile} "
                f"needs {'every node' if settings.reconcile == 'wls_struct' else 'every leaf'}"
                "), found none",
                series_id=missing,
            )
        kinds = {data[n].freq for n in tree.nodes if n in data}
        if len(kinds) > 1:
            raise ForecastInputError(
                f"hierarchy: expected one frequency under {tree.nodes[0]!r}, found {sorted(kinds)}",
                series_id=tree.nodes[0],
            )
        nodes = {n: data.get(n) or _summed(n, tree, data) for n in tree.nodes}
        _check_aligned(tree, nodes, set(data), settings)
        for parent in reversed([n for n in tree.nodes if n not in tree.leaves]):
            # lowest first: it names the one at fault. bottom_up needs no parent history, but
            # one given and far from its leaves' sum means a child is missing: its forecast
            # would silently be the leaves' sum (a region at half its level)
            if settings.reconcile == "wls_struct" or parent in data:
                _check_adds_up(parent, tree, data)


MAX_SUM_GAP = 0.2  # median relative gap between a parent's history and its leaves' sum
# a smaller gap is planned with but said: counts that should add up exactly (delayed days of a
# region and its councils) 11% apart mean a council left out, and reconciling would add the
# difference to every other council's forecast
WARN_SUM_GAP = 0.02


def _check_adds_up(parent: str, tree: Tree, data: Mapping[str, SeriesData]) -> None:
    """ForecastInputError if a parent's own history is far from its leaves' sum (a child left
    out of the hierarchy file, or one listed under the wrong parent): reconciling would force
    the leaves to carry the difference. Periods where either is missing are not compared."""
    far = _sum_gap(parent, tree, data)
    if far:
        raise ForecastInputError(
            f"hierarchy: {far}; is a child missing from the hierarchy file, or listed under "
            "another parent?",
            series_id=parent,
        )
    if near := _sum_gap(parent, tree, data, WARN_SUM_GAP):
        log.warning(
            "hierarchy: %s; reconciling shares the difference among its leaves' forecasts. "
            "If a child is missing from the hierarchy file or the history, add it",
            near,
        )


def parents_far_from_leaves(
    series: Sequence[SeriesData], hierarchy: Mapping[str, Sequence[str]]
) -> dict[str, str]:
    """{parent: how far} for each parent whose own history in `series` is more than
    MAX_SUM_GAP from its leaves' sum, lowest first (for a caller that leaves such a history
    out rather than refuse the run, as the pipeline does with a total someone uploaded)."""
    data = {s.unique_id: s for s in series}
    out = {}
    for tree in trees(hierarchy):
        for parent in reversed([n for n in tree.nodes if n not in tree.leaves]):
            if parent in data and (far := _sum_gap(parent, tree, data)):
                out[parent] = far
    return out


def _sum_gap(
    parent: str, tree: Tree, data: Mapping[str, SeriesData], within: float = MAX_SUM_GAP
) -> str:
    """'expected 'north' to be the sum of its leaves [...] (median gap within 20%), found its
    history 85% above their sum over 72 periods', or '' when it is `within` that."""
    total = _summed(parent, tree, data)
    own = pd.Series(data[parent].y, index=data[parent].ds)
    both = pd.concat([own, pd.Series(total.y, index=total.ds)], axis=1, join="inner").dropna()
    if both.empty:
        return ""
    gap = (both[0] - both[1]) / both[1].abs().clip(lower=1.0)
    median = float(gap.median())
    if abs(median) <= within:
        return ""
    return (
        f"expected {parent!r} to be the sum of its leaves {tree.leaves_of(parent)} (median gap "
        f"within {within:.0%}), found its history {abs(median):.0%} "
        f"{'above' if median > 0 else 'below'} their sum over {len(both)} periods"
    )


def fold_signature(data: SeriesData, settings: ForecastSettings) -> tuple[object, ...]:
    """The last period and each backtest fold's first period and length: nodes reconciled
    together must share it."""
    wins = fold_windows(data, settings.backtest_folds, settings.eval_horizon)
    return (data.ds[-1], *((data.ds[w.origin], len(w.actual)) for w in wins))


def out_of_step(series: Sequence[SeriesData], settings: ForecastSettings) -> dict[str, str]:
    """The series whose fold signature is not the most common one, each with why: it ends on
    another period, it is too short for as many backtest folds as the others (a district one
    week short of three folds a year ahead), or its folds fall on other periods. A pipeline
    keeps such a district out of its team's total rather than fail."""
    signatures = {s.unique_id: fold_signature(s, settings) for s in series}
    if not signatures:
        return {}
    common, _n = Counter(signatures.values()).most_common(1)[0]
    reasons = {}
    for data in series:
        signature = signatures[data.unique_id]
        if signature == common:
            continue
        unit = "weeks" if data.freq == "W-MON" else "months"
        span = f"{data.ds[0]:%Y-%m-%d} to {data.ds[-1]:%Y-%m-%d}, {len(data.y)} {unit}"
        folds, theirs = len(signature) - 1, len(common) - 1
        if signature[0] != common[0]:
            reasons[data.unique_id] = (
                f"its history ({span}) ends on another period than the others' "
                f"({pd.Timestamp(str(common[0])):%Y-%m-%d})"
            )
        elif folds < theirs:
            horizon = settings.eval_horizon
            needed = min_train_length(data.season_length) + theirs * horizon
            reasons[data.unique_id] = (
                f"its history ({span}) is too short for the {theirs} backtest folds "
                f"{horizon} {unit} ahead the others have, which need {needed} {unit}; it has "
                f"{folds}"
            )
        else:
            reasons[data.unique_id] = (
                f"its history ({span}) is backtested on other periods than the others'"
            )
    return reasons


def reconciled_outcomes(
    series: Sequence[SeriesData],
    outcomes: Sequence[SeriesOutcome],
    chosen: Mapping[str, str],
    settings: ForecastSettings,
) -> list[SeriesOutcome]:
    """One outcome per reconciled node, holding a single model: its reconciled forecast.

    wls_struct replaces every node (model '<chosen>+wls_struct', with the members of the
    combination it moved, if it is one, so `mean_best2+wls_struct` names what it averaged as
    `mean_best2` does); bottom_up replaces or adds the parents only (model 'bottom_up', a sum
    that combines no models), the leaves keep their own forecasts. A parent with no
    history of its own is backtested against the sum of its leaves' histories.
    """
    data = {s.unique_id: s for s in series}
    fitted = {o.unique_id: o for o in outcomes}
    out: list[SeriesOutcome] = []
    for tree in trees(settings.hierarchy or {}):
        nodes = {n: data.get(n) or _summed(n, tree, data) for n in tree.nodes}
        out.extend(_reconcile_tree(tree, nodes, fitted, chosen, settings))
    return out


def _summed(node: str, tree: Tree, data: Mapping[str, SeriesData]) -> SeriesData:
    """A parent's history as the sum of its leaves' (on their common grid; gaps stay gaps)."""
    leaves = [data[leaf] for leaf in tree.leaves_of(node)]
    frame = pd.concat([pd.Series(s.y, index=s.ds) for s in leaves], axis=1)
    total = frame.sum(axis=1, min_count=len(leaves))
    total = total.loc[total.first_valid_index() :]  # from when every leaf has history
    return SeriesData(node, pd.DatetimeIndex(total.index), total.to_numpy(), leaves[0].freq)


def _reconcile_tree(
    tree: Tree,
    nodes: Mapping[str, SeriesData],
    fitted: Mapping[str, SeriesOutcome],
    chosen: Mapping[str, str],
    settings: ForecastSettings,
) -> list[SeriesOutcome]:
    bottom_up = settings.reconcile == BOTTOM_UP
    wins = {n: _windows(nodes[n], fitted.get(n), settings) for n in tree.nodes}
    preds = {n: _own_predictions(n, tree, fitted, chosen, wins, settings) for n in tree.nodes}
    matrix = tree.bottom_up() if bottom_up else tree.projection(_variances(tree, preds, settings))
    counts = {n for n in tree.leaves if _nonnegative(nodes[n])}
    reconciled = _moved(tree, matrix, preds, counts, settings)
    held_out = None
    if any(fitted[n].models[chosen[n]].held_out is not None for n in tree.nodes if n in fitted):
        scored = {
            n: _own_predictions(n, tree, fitted, chosen, wins, settings, held_out=True)
            for n in tree.nodes
        }
        held_out = _moved(tree, matrix, scored, counts, settings)
    out = []
    for n in tree.nodes:
        if bottom_up and n in tree.leaves:
            continue
        name = BOTTOM_UP if bottom_up else f"{chosen[n]}+wls_struct"
        model = ModelOutcome(
            name,
            tuple(reconciled[n][:-1]),
            reconciled[n][-1],
            None if held_out is None else tuple(held_out[n][:-1]),
            members=_members_of(fitted.get(n), chosen[n]) if not bottom_up else (),
        )
        out.append(_node_outcome(nodes[n], fitted.get(n), fitted[tree.leaves[0]], wins[n], model))
    return out


def _members_of(own: SeriesOutcome | None, model: str) -> tuple[str, ...]:
    """The members of the node's own `model`, if a combination (none without a fit)."""
    return own.models[model].members if own is not None else ()


def _moved(
    tree: Tree,
    matrix: np.ndarray,
    preds: Mapping[str, list[Prediction]],
    counts: Collection[str],
    settings: ForecastSettings,
) -> dict[str, list[Prediction]]:
    """Every node's folds then final forecast with the means moved by `matrix`, the leaves in
    `counts` then floored at zero and every parent summed from its leaves.

    Why: wls_struct shares a parent's difference from its leaves' sum among them, which can
    move a leaf of small counts below zero. Each node was floored alone afterwards, so the
    parent no longer added up (a county of 93.7 over a team of 95.2 and one floored from -1.5
    to 0); summed from the floored leaves, it adds up to what they publish."""
    out: dict[str, list[Prediction]] = {n: [] for n in tree.nodes}
    summing = tree.summing()
    rows = [tree.nodes.index(leaf) for leaf in tree.leaves]
    floored = np.array([leaf in counts for leaf in tree.leaves])[:, None]
    for k in range(len(preds[tree.nodes[0]])):
        leaves = (matrix @ np.array([preds[n][k].mean for n in tree.nodes]))[rows]
        moved = summing @ np.where(floored, np.maximum(leaves, 0.0), leaves)
        for i, n in enumerate(tree.nodes):
            out[n].append(_around(moved[i], preds[n][k], settings.levels))
    return out


def _node_outcome(
    data: SeriesData,
    own: SeriesOutcome | None,
    leaf: SeriesOutcome,
    wins: tuple[Window, ...],
    model: ModelOutcome,
) -> SeriesOutcome:
    if own is not None:
        ratio, shifts, future = own.scale_ratio, own.level_shifts, own.future_ds
    else:
        # on the values observed: a gap filled is a straight line, which looks noiseless
        ratio, shifts, future = scale_ratio(data.y, data.season_length), (), leaf.future_ds
    return SeriesOutcome(
        data.unique_id, future, _nonnegative(data), wins, {model.name: model}, [], ratio, shifts
    )


def _nonnegative(data: SeriesData) -> bool:
    """Whether `data` is a count (no value observed below zero): its forecasts are floored."""
    return bool(np.nanmin(data.y) >= 0)


def _folds(signature: tuple[object, ...]) -> str:
    """'3 backtest folds 12 ahead', '1 backtest fold 6 ahead' or '0 backtest folds' from a
    fold_signature."""
    folds = signature[1:]
    ahead = sorted({int(f[1]) for f in folds if isinstance(f, tuple)})
    text = f"{len(folds)} backtest fold{'' if len(folds) == 1 else 's'}"
    return f"{text} {'/'.join(map(str, ahead))} ahead" if ahead else text


def _windows(
    data: SeriesData, own: SeriesOutcome | None, settings: ForecastSettings
) -> tuple[Window, ...]:
    if own is not None:
        return own.windows
    filled = data.with_values(_filled(data.y))
    return tuple(fold_windows(filled, settings.backtest_folds, settings.eval_horizon))


def _filled(y: FloatArray) -> FloatArray:
    return np.asarray(pd.Series(y).interpolate(limit_direction="both"), dtype=np.float64)


def _check_aligned(
    tree: Tree, nodes: Mapping[str, SeriesData], own: set[str], settings: ForecastSettings
) -> None:
    """Every node must end on the same date and be backtested on the same periods. The odd one
    out is named against what most series with a history of their own have."""
    sigs = {n: fold_signature(nodes[n], settings) for n in tree.nodes}
    voters = [sigs[n] for n in tree.nodes if n in own] or list(sigs.values())
    usual = Counter(voters).most_common(1)[0][0]
    odd = sorted((n not in own, n) for n in tree.nodes if sigs[n] != usual)
    if not odd:
        return
    n = odd[0][1]
    sig, ds = sigs[n], nodes[n].ds
    if sig[0] != usual[0]:
        found = f"{n!r} ends {ds[-1]:%Y-%m-%d} where the others end {usual[0]:%Y-%m-%d}"
    else:
        found = (
            f"{n!r} has {_folds(sig)} from {len(ds)} periods where the others have {_folds(usual)}"
        )
    raise ForecastInputError(
        f"hierarchy: expected every series under {tree.nodes[0]!r} to end on the same date with "
        f"the same backtest periods, found {found}",
        series_id=n,
    )


FIXED = 1e-9  # the structural weight of a node with no uncertainty: it is held (nearly) fixed


def _variances(
    tree: Tree, preds: Mapping[str, list[Prediction]], settings: ForecastSettings
) -> np.ndarray:
    """Structural scaling (each node's leaf count), except that a node whose own forecast has
    no spread at all (a constant or all-zero series) is held fixed: moving it would give a
    shifted forecast with a zero-width interval."""
    counts = tree.summing().sum(axis=1)
    spread = np.array(
        [max(float(np.max(reference_sd(p, settings.levels))) for p in preds[n]) for n in tree.nodes]
    )
    return np.asarray(np.where(spread > 0, counts, FIXED * counts), dtype=np.float64)


def _own_predictions(
    node: str,
    tree: Tree,
    fitted: Mapping[str, SeriesOutcome],
    chosen: Mapping[str, str],
    wins: Mapping[str, tuple[Window, ...]],
    settings: ForecastSettings,
    held_out: bool = False,
) -> list[Prediction]:
    """The node's chosen model's folds (`held_out`: the ones its reported metrics are computed
    on) then final forecast; a parent that was not forecast gets its leaves' summed means with
    their sds added in quadrature (used only as its own sd)."""
    if node in fitted:
        return _as_written(fitted[node], chosen[node], held_out)
    leaves = [_as_written(fitted[leaf], chosen[leaf], held_out) for leaf in tree.leaves_of(node)]
    out = []
    for k in [*range(len(wins[node])), -1]:
        parts = [preds[k] for preds in leaves]
        mean = np.sum([p.mean for p in parts], axis=0)
        sd = np.sqrt(np.sum([reference_sd(p, settings.levels) ** 2 for p in parts], axis=0))
        out.append(gaussian_prediction(mean, sd, settings.levels))
    return out


def _as_written(outcome: SeriesOutcome, model: str, held_out: bool = False) -> list[Prediction]:
    """A model's folds then final forecast, floored at zero for a count series, as they are
    written out: parents then add up to what their children show."""
    found = outcome.models[model]
    preds = [*(found.scored if held_out else found.folds), found.final]
    return [clipped(p) for p in preds] if outcome.nonnegative else preds


def _around(mean: FloatArray, own: Prediction, levels: Sequence[int]) -> Prediction:
    """Gaussian intervals with the node's own sd around the reconciled mean; the conformal
    calibration then sets their width from the reconciled backtest errors."""
    sd = reference_sd(own, levels)
    return gaussian_prediction(np.asarray(mean, dtype=np.float64), sd, levels)
