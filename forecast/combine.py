"""Combinations: the mean or median of a series' best k models by backtest MASE."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

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
    """ForecastInputError for a name that is neither a zoo model nor a combination."""
    for name in base_models(names):
        make_model(name)


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


def backtest_mase(outcome: SeriesOutcome, model: ModelOutcome) -> float:
    """Mean over folds of the model's MASE (inf if it has no scored fold)."""
    values = [
        float(np.nanmean(np.abs(w.actual - p.mean)) / w.scales[0])
        for w, p in zip(outcome.windows, model.folds, strict=True)
        if np.isfinite(w.actual).any()
    ]
    return float(np.mean(values)) if values else float("inf")


def add_combo(outcome: SeriesOutcome, name: str, members: Sequence[str]) -> SeriesOutcome:
    """`outcome` plus the combination `name` of its best members (needs two or more)."""
    parsed = parse_combo(name)
    assert parsed is not None
    how, k = parsed
    ranked = sorted(
        (backtest_mase(outcome, outcome.models[m]), m) for m in members if m in outcome.models
    )
    chosen = [outcome.models[m] for _, m in ranked[:k]]
    if len(chosen) < 2:
        return outcome
    combo = _combine(name, chosen, REDUCERS[how])
    models = {**outcome.models, name: combo}
    return replace(outcome, models=models)


def _combine(name: str, members: list[ModelOutcome], reduce: Reducer) -> ModelOutcome:
    folds = tuple(
        _reduce([m.folds[i] for m in members], reduce) for i in range(len(members[0].folds))
    )
    return ModelOutcome(name, folds, _reduce([m.final for m in members], reduce))


def _reduce(preds: list[Prediction], reduce: Reducer) -> Prediction:
    mean = reduce(np.array([p.mean for p in preds]))
    keys = preds[0].quantiles.keys()
    quantiles = {k: reduce(np.array([p.quantiles[k] for p in preds])) for k in keys}
    return Prediction(mean, quantiles)
