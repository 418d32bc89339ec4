"""Explanations: shadow prices in users' units with their ranges, binding rows, relaxations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimise.inputs import POOLED, PlanInputs
from optimise.model import Block, LpModel
from optimise.solution import SolveResult

UNITS = {
    "revenue": "GBP",
    "capital": "GBP",
    "team_hours_used": "hours",
    "team_hours_max": "hours",
    "team_hours_min": "hours",
    "recruitment_up": "hours",
    "recruitment_down": "hours",
    "equity_cap": "cases",
    "worst_district": "days",
}
INEQUALITIES = tuple(UNITS)
BINDING_TOLERANCE = 1e-6
SHADOW_COLUMNS = [
    "constraint",
    "index",
    "dual",
    "value",
    "unit",
    "statement",
    "range_low",
    "range_high",
]


@dataclass(frozen=True)
class PriceRule:
    """How one row family's dual is stated: per `per` units of its bound, with a sign."""

    per: float
    sign: float
    unit: str
    sentence: str


PRICES = {
    "revenue": PriceRule(
        1000.0,
        -1.0,
        "waiting days saved per extra GBP 1,000",
        "an extra GBP 1,000 of {owner}revenue budget saves {v:,.3g} weighted waiting days",
    ),
    "team_hours_max": PriceRule(
        1.0,
        -1.0,
        "waiting days saved per extra {service} hour",
        "an extra {service} hour for team {team} saves {v:,.3g} weighted waiting days",
    ),
    "team_hours_min": PriceRule(
        1.0,
        1.0,
        "waiting days added per extra {service} floor hour",
        "an extra hour on team {team}'s {service} floor adds {v:,.3g} weighted waiting days",
    ),
    "capital": PriceRule(
        1000.0,
        -1.0,
        "waiting days saved per extra GBP 1,000",
        "an extra GBP 1,000 of DFG capital for {district} saves {v:,.3g} weighted waiting days",
    ),
}


def entry_labels(model: LpModel, block: Block) -> list[dict[str, str]]:
    coords = block.coords()
    cols = [
        np.asarray(model.labels[a], dtype=object)[c]
        for a, c in zip(block.axes, coords, strict=True)
    ]
    return [dict(zip(block.axes, row, strict=True)) for row in zip(*cols, strict=True)]


def index_text(labels: dict[str, str], named: bool = False) -> str:
    """'ot/north/3', or with `named` 'service ot, team north, period 3'."""
    if named:
        return ", ".join(f"{axis} {label}" for axis, label in labels.items())
    return "/".join(labels.values())


def shadow_price_frame(inputs: PlanInputs, model: LpModel, result: SolveResult) -> pd.DataFrame:
    """One row per revenue, team-hours and capital constraint: dual stated in users' units.

    With the even-waits tie-break, `result` carries the second stage's plan and the first
    stage's duals and ranging (optimise/tiebreak.py): the prices are those of weighted waiting,
    which the published plan attains within the tolerance, not those of evenness."""
    parts = [_prices(inputs, model, result, name) for name in PRICES if name in model.rows]
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SHADOW_COLUMNS)
    return frame


def _prices(inputs: PlanInputs, model: LpModel, result: SolveResult, name: str) -> pd.DataFrame:
    block, rule = model.rows[name], PRICES[name]
    span = slice(block.start, block.stop)
    duals = result.row_dual[span]
    values = rule.sign * duals * rule.per
    low, high = _ranges(result, span)
    low, high = low + 0.0, high + 0.0
    rows = []
    for labels, dual, value, lo, hi in zip(
        entry_labels(model, block), duals, values, low, high, strict=True
    ):
        text = rule.sentence.format(v=value + 0.0, owner=_owner(labels), **labels)
        where = _when(labels)
        valid = (
            f" (holds for a bound from {lo:,.6g} to {hi:,.6g} {UNITS[name]})"
            if np.isfinite(lo) or np.isfinite(hi)
            else ""
        )
        rows.append(
            (
                name,
                index_text(labels),
                float(dual),
                float(value) + 0.0,
                rule.unit.format(**labels),
                _sentence(f"{where}{text}{valid}"),
                float(lo),
                float(hi),
            )
        )
    return pd.DataFrame(rows, columns=SHADOW_COLUMNS)


def _when(labels: dict[str, str]) -> str:
    if "period" in labels:
        return f"period {labels['period']}: "
    return f"financial year {labels['year']}: " if "year" in labels else ""


def _owner(labels: dict[str, str]) -> str:
    """Whose budget a revenue row is: '' for the single pooled one, else a team's or the pool."""
    budget = labels.get("budget")
    if budget is None:
        return ""
    return "the pooled " if budget == POOLED else f"team {budget}'s "


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def _ranges(result: SolveResult, span: slice) -> tuple[np.ndarray, np.ndarray]:
    if result.ranging is None:
        n = span.stop - span.start
        return np.full(n, np.nan), np.full(n, np.nan)
    return result.ranging.row_low[span], result.ranging.row_high[span]


def binding_frame(inputs: PlanInputs, model: LpModel, result: SolveResult) -> pd.DataFrame:
    """Inequality rows at their bound (relative tolerance 1e-6), with activity, bound and dual
    (activity of the published plan; dual of the first stage, as in shadow_price_frame)."""
    rows = []
    for name in INEQUALITIES:
        if name not in model.rows:
            continue
        block = model.rows[name]
        span = slice(block.start, block.stop)
        activity = result.row_activity[span]
        bound = np.where(
            np.isfinite(model.row_upper[span]), model.row_upper[span], model.row_lower[span]
        )
        tight = np.abs(activity - bound) <= BINDING_TOLERANCE * np.maximum(1.0, np.abs(bound))
        for i in np.flatnonzero(tight):
            labels = _one_label(model, block, int(i))
            rows.append(
                (
                    name,
                    index_text(labels),
                    float(activity[i]),
                    float(bound[i]),
                    float(result.row_dual[span][i]),
                    UNITS[name],
                )
            )
    return pd.DataFrame(rows, columns=["constraint", "index", "activity", "bound", "dual", "unit"])


def _one_label(model: LpModel, block: Block, i: int) -> dict[str, str]:
    flat = i if block.positions is None else int(block.positions[i])
    coords = np.unravel_index(flat, block.shape)
    return {a: model.labels[a][int(c)] for a, c in zip(block.axes, coords, strict=True)}


def relaxation_frame(inputs: PlanInputs, model: LpModel, result: SolveResult) -> pd.DataFrame:
    """Which constraints had to give (elastic slack > 0), by how much, and at what penalty."""
    rows = []
    for name, penalty in model.penalties.items():
        block = model.columns[name]
        amounts = result.col_value[block.start : block.stop]
        family = name.removeprefix("slack_")
        for i in np.flatnonzero(amounts > 1e-7):
            labels = _one_label(model, block, int(i))
            rows.append(
                (family, index_text(labels, named=True), float(amounts[i]), UNITS[family], penalty)
            )
    return pd.DataFrame(rows, columns=["constraint", "index", "amount", "unit", "penalty_per_unit"])
