"""Combinations: the mean or median of a series' best k models by backtest MASE."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from forecast.errors import ForecastInputError
from forecast.models import make_model
from forecast.models.base import Prediction
from forecast.outcome import ModelOutcome, SeriesOutcome
from forecast.series import FloatArray

Reducer = Callable[[FloatArray], FloatArray]
REDUCERS: dict[str, Reducer] = {
    "mean": lambda a: np.asarray(a.mean(axis=0)),
    "median": lambda a: np.asarray(np.median(a, axis=0)),
}


def combo_name(how: str, k: int) -> str:
    """Zoo name of a combination, e.g. 'mean_best3'."""
    return f"{how}_best{k}"


def parse_combo(name: str) -> tuple[str, int] | None:
    """('mean', 3) for 'mean_best3'; None if `name` is not a combination."""
    how, sep, k = name.partition("_best")
    if sep and how in REDUCERS and k.isdigit() and int(k) >= 1:
        return how, int(k)
    return None


BASELINES = ("seasonal_naive", "naive")


def base_models(names: Sequence[str]) -> tuple[str, ...]:
    """The names that are fitted models, not combinations."""
    return tuple(n for n in names if parse_combo(n) is None)


def check_names(names: Sequence[str]) -> None:
    """ForecastInputError for a name that is neither a zoo model nor a combination, or a list
    of combinations alone (they combine the fitted models listed beside them)."""
    for name in base_models(names):
        make_model(name)
    if names and not base_models(names):
        raise ForecastInputError(
            "models: expected at least one fitted model for the combinations to combine "
            f"(e.g. ets,theta,{names[0]}), found only combinations {list(names)}"
        )


def combo_members(names: Sequence[str]) -> tuple[str, ...]:
    """Models a combination may draw on: the fitted ones, less the naive baselines if 2+ remain."""
    base = base_models(names)
    strong = tuple(n for n in base if n not in BASELINES)
    return strong if len(strong) >= 2 else base


def with_combos(outcome: SeriesOutcome, names: Sequence[str]) -> SeriesOutcome:
    """`outcome` plus every combination named in `names`."""
    members = combo_members(names)
    for name in names:
        if parse_combo(name) is not None:
            outcome = add_combo(outcome, name, members)
    return outcome


def fold_mase(outcome: SeriesOutcome, model: ModelOutcome) -> list[float]:
    """The model's MASE on each backtest window (NaN where the window has no actual)."""
    return [
        float(np.nanmean(np.abs(w.actual - p.mean)) / w.scales[0])
        if np.isfinite(w.actual).any()
        else float("nan")
        for w, p in zip(outcome.windows, model.folds, strict=True)
    ]


def backtest_mase(outcome: SeriesOutcome, model: ModelOutcome) -> float:
    """Mean over folds of the model's MASE (inf if it has no scored fold)."""
    values = [v for v in fold_mase(outcome, model) if np.isfinite(v)]
    return float(np.mean(values)) if values else float("inf")


def add_combo(outcome: SeriesOutcome, name: str, members: Sequence[str]) -> SeriesOutcome:
    """`outcome` plus the combination `name` of its best members (needs two or more).

    The members are ranked on every backtest window, as for the final forecast, and that
    in-sample score is what selection sees (ranking on held-out windows made the choice worse
    on the DTOC development origins, docs/benchmarks.md). For the reported metrics each window
    is also predicted by members ranked on the other windows only (`held_out`), so a
    dashboard's backtest MASE of a combination is out of sample; with fewer than two scored
    windows there is nothing to hold out and both are the same.
    """
    parsed = parse_combo(name)
    assert parsed is not None
    how, k = parsed
    scores = {m: fold_mase(outcome, outcome.models[m]) for m in members if m in outcome.models}
    chosen = [outcome.models[m] for m in _best(scores, k, skip=None)]
    if len(chosen) < 2:
        return outcome
    combo = _combine(name, chosen, REDUCERS[how])
    if sum(np.isfinite(v) for v in fold_mase(outcome, chosen[0])) >= 2:
        held_out = tuple(
            _reduce([outcome.models[m].folds[i] for m in _best(scores, k, skip=i)], REDUCERS[how])
            for i in range(len(outcome.windows))
        )
        combo = replace(combo, held_out=held_out)
    models = {**outcome.models, name: combo}
    return replace(outcome, models=models)


def _best(scores: dict[str, list[float]], k: int, skip: int | None) -> list[str]:
    """The k members with the lowest mean MASE over the windows other than `skip` (ties by
    name; a member with no such window ranks last)."""

    def mean(values: list[float]) -> float:
        kept = [v for i, v in enumerate(values) if i != skip and np.isfinite(v)]
        return float(np.mean(kept)) if kept else float("inf")

    return [m for _, m in sorted((mean(v), m) for m, v in scores.items())[:k]]


def _combine(name: str, members: list[ModelOutcome], reduce: Reducer) -> ModelOutcome:
    folds = tuple(
        _reduce([m.folds[i] for m in members], reduce) for i in range(len(members[0].folds))
    )
    final = _reduce([m.final for m in members], reduce)
    return ModelOutcome(name, folds, final, members=tuple(m.name for m in members))


def _reduce(preds: list[Prediction], reduce: Reducer) -> Prediction:
    mean = reduce(np.array([p.mean for p in preds]))
    keys = preds[0].quantiles.keys()
    quantiles = {k: reduce(np.array([p.quantiles[k] for p in preds])) for k in keys}
    return Prediction(mean, quantiles)
