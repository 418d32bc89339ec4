"""Explanations: shadow prices in users' units with their ranges, binding rows, relaxations."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimise.inputs import POOLED, PlanInputs, service_name
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
    "district_hours_max": "hours",
    "district_hours_min": "hours",
    "district_wait_cap": "cases",
    "worst_district": "days",
    "works_limit": "works",  # a bound on the works column, not a row (see _works_at_their_limit)
}
INEQUALITIES = tuple(name for name in UNITS if name != "works_limit")
BINDING_TOLERANCE = 1e-6
# what a row's `index` joins as 'ot/north/3', one column each (null where the row has none),
# so a dashboard joins a price or a binding row to its service, team, district, budget, year
# or period without parsing the index
WHERE = ("service", "team", "district", "budget", "year", "period")
SHADOW_COLUMNS = [
    "constraint",
    "index",
    "dual",
    "value",
    "unit",
    "statement",
    "range_low",
    "range_high",
    "ds",  # the period's start date, where the row has a period (added last: rows are served
    # in stored key order)
    *WHERE,
]
BINDING_COLUMNS = ["constraint", "index", "activity", "bound", "dual", "unit", *WHERE]


def _whole_periods(frame: pd.DataFrame) -> pd.DataFrame:
    """`period` as whole numbers, None where a row has none (pandas would make the column
    float, 3.0, as soon as one row lacks a period)."""
    periods = [None if pd.isna(p) else int(p) for p in frame["period"]]
    return frame.assign(period=pd.Series(periods, index=frame.index, dtype=object))


def _where(labels: dict[str, str]) -> tuple[float | str | int | None, ...]:
    """The row's coordinates in WHERE's order: ids as the config writes them, the period as
    a number (1 the first), None for an axis the row does not have."""
    return tuple(
        (int(labels[a]) if a == "period" else labels[a]) if a in labels else None for a in WHERE
    )


@dataclass(frozen=True)
class PriceRule:
    """How one row family's dual is stated: per `per` units of its bound, with a sign.

    `unit` and `sentence` name the effect `{effect}` and what it is counted in `{what}`: with
    no worst-district weight the price is one of weighted waiting days alone; with one, the
    dual is of the whole objective (waiting plus the worst-district term) and is said so."""

    per: float
    sign: float
    unit: str
    sentence: str
    adds: bool = False  # tightening the row (a floor hour) worsens the objective


PRICES = {
    "revenue": PriceRule(
        1000.0,
        -1.0,
        "{what} saved per extra GBP 1,000",
        "an extra GBP 1,000 of {owner}revenue budget {effect}",
    ),
    "team_hours_max": PriceRule(
        1.0,
        -1.0,
        "{what} saved per extra {service} hour",
        "an extra {service} hour for team {team} {effect}",
    ),
    "team_hours_min": PriceRule(
        1.0,
        1.0,
        "{what} added per extra {service} floor hour",
        "an extra hour on team {team}'s {service} floor {effect}",
        adds=True,
    ),
    "district_hours_max": PriceRule(
        1.0,
        -1.0,
        "{what} saved per extra {service} hour allowed in {district}",
        "an extra {service} hour allowed in {district} (its own ceiling) {effect}",
    ),
    "district_hours_min": PriceRule(
        1.0,
        1.0,
        "{what} added per extra {service} floor hour in {district}",
        "an extra hour on {district}'s own {service} floor {effect}",
        adds=True,
    ),
    "capital": PriceRule(
        1000.0,
        -1.0,
        "{what} saved per extra GBP 1,000",
        "an extra GBP 1,000 of {of_year}DFG capital for {district} {effect}",
    ),
}
WAITING = "waiting days"
OBJECTIVE = "objective days (weighted waiting days plus the worst-district term)"
OBJECTIVE_WORDS = "the plan's objective (weighted waiting days plus the worst-district term)"


def _effect(rule: PriceRule, value: float, whole_objective: bool) -> str:
    """'saves 2.31 weighted waiting days', or with the worst-district term in the objective
    'lowers the plan's objective (...) by 2.31 days': its dual is not waiting alone."""
    if whole_objective:
        verb = "raises" if rule.adds else "lowers"
        return f"{verb} {OBJECTIVE_WORDS} by {figure(value)} days"
    verb = "adds" if rule.adds else "saves"
    return f"{verb} {figure(value)} weighted waiting days"


def figure(value: float) -> str:
    """A price to 3 significant figures as a council reads it: '2.31', '0.0123', '28,000'
    (never e-notation); '0' below a billionth."""
    if not math.isfinite(value):
        return str(value)
    rounded = float(f"{value:.3g}") + 0.0
    if abs(rounded) < 1e-9:
        return "0"
    decimals = max(0, 2 - math.floor(math.log10(abs(rounded))))
    text = f"{rounded:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


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
    """One row per revenue, team-hours and capital constraint, and per limited district and
    period of works (`works_limit`): dual stated in users' units.

    With the even-waits tie-break, `result` carries the second stage's plan and the first
    stage's duals and ranging (optimise/tiebreak.py): the prices are those of weighted waiting,
    which the published plan attains within the tolerance, not those of evenness. A relaxed
    plan's prices are those of its LP with the relaxations held at the plan's amounts
    (optimise/elastic.py `held`), and each statement says so. With a worst-district weight
    the duals are of the whole objective (waiting plus the worst-district term), and the
    statements and units say so rather than "weighted waiting days". Each row carries `ds`,
    its period's start date (NaT where it has no period: capital, a financial year)."""
    parts = [_prices(inputs, model, result, name) for name in PRICES if name in model.rows]
    works = _works_limit_prices(inputs, model, result)
    parts += [works] if len(works) else []
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=SHADOW_COLUMNS)
    return frame


WORKS_UNIT = "{what} saved per extra works completion allowed"
NO_REDUCED_COST = "no price for the works limit (the solver gave no reduced costs; HiGHS does)"


def _works_limit_prices(inputs: PlanInputs, model: LpModel, result: SolveResult) -> pd.DataFrame:
    """A district's works limit (`max_works_per_period`) bounds its works column, so its price
    is the column's reduced cost where it is at the limit (else 0), not a row dual:
    what allowing one more DFG works completion in that district and period would save. One
    row per limited district and period, as for the rows above, ranged over the limit where
    HiGHS ranged it; NaN where the solver gives no reduced costs (CBC)."""
    block = model.columns.get("y")
    if block is None:
        return pd.DataFrame(columns=SHADOW_COLUMNS)
    span = slice(block.start, block.stop)
    upper = model.col_upper[span]
    limited = np.flatnonzero(np.isfinite(upper))
    if result.col_dual is None:
        reduced = np.full(len(limited), np.nan)
    else:
        # a column nonbasic at its limit has a reduced cost <= 0, the limit's price; one at
        # its lower bound (no works) has one >= 0, which prices that bound, not the limit, and
        # a basic one has 0. The sign alone tells them apart, from the same solve as the duals
        # (after the even-waits tie-break the plan's values are the second stage's, which may
        # sit a hair off the limit while the first stage's price still holds)
        raw = np.asarray(result.col_dual[span], dtype=float)[limited]
        reduced = np.minimum(raw, 0.0)
    ranging = result.ranging
    if ranging is None or ranging.col_low is None or ranging.col_high is None:
        low = high = np.full(len(limited), np.nan)
    else:
        low, high = _holding(
            ranging.col_low[span][limited], ranging.col_high[span][limited], upper[limited]
        )
    whole = inputs.worst_district_weight > 0
    what = OBJECTIVE if whole else WAITING
    rule = PriceRule(1.0, -1.0, WORKS_UNIT, "")
    names = _district_names(inputs)
    rows = []
    for i, dual, lo, hi in zip(limited, reduced, low, high, strict=True):
        labels = _one_label(model, block, int(i))
        value = -float(dual) + 0.0
        ranged = (float(lo), float(hi), float(upper[i]))
        valid = _qualifiers(rule, value, ranged, bool(model.penalties), UNITS["works_limit"])
        text = (
            f"allowing one more DFG works completion for {_named(labels, names)['district']} "
            f"{_effect(rule, value, whole)}{valid}"
        )
        if not np.isfinite(value):
            text = NO_PRICE if model.penalties else NO_REDUCED_COST
        rows.append(
            (
                "works_limit",
                index_text(labels),
                float(dual),
                value,
                WORKS_UNIT.format(what=what),
                _sentence(f"{_when(labels)}{text}"),
                float(lo),
                float(hi),
                _start(inputs, labels),
                *_where(labels),
            )
        )
    frame = pd.DataFrame(rows, columns=SHADOW_COLUMNS)
    frame["ds"] = pd.to_datetime(frame["ds"])
    return _whole_periods(frame)


def _prices(inputs: PlanInputs, model: LpModel, result: SolveResult, name: str) -> pd.DataFrame:
    block, rule = model.rows[name], PRICES[name]
    span = slice(block.start, block.stop)
    duals = result.row_dual[span]
    values = rule.sign * duals * rule.per
    bound = _bounds(model, span)
    low, high = _ranges(result, span, bound)
    whole = inputs.worst_district_weight > 0
    what = OBJECTIVE if whole else WAITING
    names = _district_names(inputs)
    rows = []
    for labels, dual, value, lo, hi, b in zip(
        entry_labels(model, block), duals, values, low, high, bound, strict=True
    ):
        effect = _effect(rule, float(value) + 0.0, whole)
        named = _named(labels, names)
        of_year = f"{labels['year']} " if "year" in labels else ""  # a year's capital
        text = rule.sentence.format(effect=effect, owner=_owner(labels), of_year=of_year, **named)
        where = _when(labels)
        ranged = (float(lo), float(hi), float(b))
        valid = _qualifiers(rule, float(value), ranged, bool(model.penalties), UNITS[name])
        if model.penalties and not np.isfinite(value):
            text = NO_PRICE
        rows.append(
            (
                name,
                index_text(labels),
                float(dual),
                float(value) + 0.0,
                rule.unit.format(what=what, **named),
                _sentence(f"{where}{text}{valid}"),
                float(lo),
                float(hi),
                _start(inputs, labels),
                *_where(labels),
            )
        )
    frame = pd.DataFrame(rows, columns=SHADOW_COLUMNS)
    frame["ds"] = pd.to_datetime(frame["ds"])  # NaT (null) where a row has no period
    return _whole_periods(frame)


def _district_names(inputs: PlanInputs) -> dict[str, str]:
    return dict(zip(inputs.districts, inputs.district_names, strict=True))


def _named(labels: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """The labels as a sentence or unit says them: a service as planners name it ("OT") and a
    district by its config `name` ("North Warwickshire"), as the plan's warnings and every
    dashboard card do. In sentences and units only: the row's `index` and coordinate columns
    keep the config's ids, which a client joins on."""
    named = dict(labels)
    if "service" in labels:
        named["service"] = service_name(labels["service"])
    if "district" in labels:
        named["district"] = names.get(labels["district"], labels["district"])
    return named


def _start(inputs: PlanInputs, labels: dict[str, str]) -> pd.Timestamp | None:
    """The start date of the row's period, None for a row without one (capital, a year)."""
    period = labels.get("period")
    return None if period is None else pd.Timestamp(inputs.period_start[int(period) - 1])


HELD = ", with what had to give held at the plan's amounts"
NO_PRICE = "no price (the plan is relaxed, and its LP with the relaxations held did not solve)"


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


def _bounds(model: LpModel, span: slice) -> np.ndarray:
    """Each row's bound as reported: its upper where finite (a ceiling), else its lower."""
    upper = model.row_upper[span]
    return np.where(np.isfinite(upper), upper, model.row_lower[span])


def _ranges(result: SolveResult, span: slice, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The bound values between which each row's price holds (the solver's ranging; -inf or
    inf where it holds without limit that way), NaN where unranged. A range that does not
    contain the row's own bound (beyond rounding) is not a range of that bound and is left out
    rather than stated."""
    n = span.stop - span.start
    if result.ranging is None:
        return np.full(n, np.nan), np.full(n, np.nan)
    return _holding(result.ranging.row_low[span], result.ranging.row_high[span], bound)


def _holding(low: np.ndarray, high: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The ranges that contain their own bound (taken to their end within rounding); NaN for
    the others."""
    low = np.asarray(low, dtype=float) + 0.0
    high = np.asarray(high, dtype=float) + 0.0
    slack = RANGE_TOLERANCE * np.maximum(1.0, np.abs(bound))
    with np.errstate(invalid="ignore"):
        holds = (low <= bound + slack) & (bound - slack <= high)
    # a bound a hair outside its range (the solver's tolerance) is taken as its end
    low = np.where(holds, np.minimum(low, bound), np.nan)
    high = np.where(holds, np.maximum(high, bound), np.nan)
    return low, high


RANGE_TOLERANCE = 1e-6


def _range_text(low: float, high: float, unit: str) -> str:
    """' (holds for a bound from 1,012,150 to 1,029,440 GBP)', or 'up to' / 'of ... or more'
    where the range is open on one side, ' (holds only at this bound, 40,000 GBP)' where it
    is a single point as written; '' where unranged or unlimited both ways. Amounts are
    written as a council reads them (`amount`)."""
    if np.isnan(low) or np.isnan(high):
        return ""
    if np.isfinite(low) and np.isfinite(high):
        lo, hi = amount(low, unit), amount(high, unit)
        if lo == hi:
            return f" (holds only at this bound, {lo} {unit})"
        return f" (holds for a bound from {lo} to {hi} {unit})"
    if np.isfinite(high):
        return f" (holds for a bound up to {amount(high, unit)} {unit})"
    if np.isfinite(low):
        return f" (holds for a bound of {amount(low, unit)} {unit} or more)"
    return ""


def _qualifiers(
    rule: PriceRule,
    value: float,
    ranged: tuple[float, float, float],
    relaxed: bool,
    unit: str,
) -> str:
    """The words after a price's effect, each clause reading on its own: that a `relaxed`
    plan's price is of its LP with what had to give held (before the range, so it is not read
    as part of 'beyond that the price falls'), then the range (`ranged`: its low and high
    end and the row's own bound, in `unit`), then how little of the unit the range holds for
    where that is less than the unit the price is quoted per. Every kind of price is qualified
    here, so none is quoted per a completion, an hour or GBP 1,000 it does not hold for."""
    low, high, bound = ranged
    held = HELD if relaxed and np.isfinite(value) else ""
    return held + _range_text(low, high, unit) + _headroom_text(rule, value, high - bound, unit)


def _headroom_text(rule: PriceRule, value: float, headroom: float, unit: str) -> str:
    """', for the first GBP 481 only; beyond that the price falls' where the price is quoted
    per more (GBP 1,000) than its range holds above the row's bound (`headroom`, in the
    bound's unit), so the quoted saving is not read as what the whole GBP 1,000 buys; ''
    where the range reaches the unit, is unknown (NaN) or the price is 0. Beyond its range a
    ceiling's saving can only fall and a floor's cost only rise (the LP's optimal value is
    convex in its bound)."""
    if not headroom < rule.per or figure(value) == "0" or not np.isfinite(value):
        return ""
    then = "rises" if rule.adds else "falls"
    given = amount(max(headroom, 0.0), unit)
    if given == "0":
        return f", not beyond this bound: above it the price {then}"
    first = f"GBP {given}" if unit == "GBP" else f"{given} {unit}"
    return f", for the first {first} only; beyond that the price {then}"


def amount(value: float, unit: str) -> str:
    """A bound in its unit as a council reads it: pounds to the pound ('1,012,150'), hours,
    cases and days to 0.1 ('312.5', '40' for 40.0); thousands separated, never e-notation."""
    places = 0 if unit == "GBP" else 1
    return f"{round(value, places) + 0.0:,.{places}f}".removesuffix(".0")


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
                    *_where(labels),
                )
            )
    rows += _works_at_their_limit(model, result)
    return _whole_periods(pd.DataFrame(rows, columns=BINDING_COLUMNS))


def _works_at_their_limit(
    model: LpModel, result: SolveResult
) -> list[tuple[float | str | int | None, ...]]:
    """A district's works limit (`max_works_per_period`) is a bound on its works column, not a
    row, so it has no row dual: where the works completed are at the limit it is listed with
    the column's reduced cost (NaN where the solver gives none) as `works_limit`."""
    block = model.columns.get("y")
    if block is None:
        return []
    span = slice(block.start, block.stop)
    upper, value = model.col_upper[span], result.col_value[span]
    finite = np.isfinite(upper)
    tight = finite & (
        np.abs(value - np.where(finite, upper, 0.0))
        <= BINDING_TOLERANCE * np.maximum(1.0, np.abs(np.where(finite, upper, 0.0)))
    )
    reduced = result.col_dual[span] if result.col_dual is not None else np.full(len(value), np.nan)
    labels = [_one_label(model, block, int(i)) for i in np.flatnonzero(tight)]
    return [
        (
            "works_limit",
            index_text(at),
            float(value[i]),
            float(upper[i]),
            float(reduced[i]),
            "works",
            *_where(at),
        )
        for i, at in zip(np.flatnonzero(tight), labels, strict=True)
    ]


def _one_label(model: LpModel, block: Block, i: int) -> dict[str, str]:
    flat = i if block.positions is None else int(block.positions[i])
    coords = np.unravel_index(flat, block.shape)
    return {a: model.labels[a][int(c)] for a, c in zip(block.axes, coords, strict=True)}


RELAXATION_COLUMNS = ["constraint", "index", "where", "amount", "unit", "penalty_per_unit"]


def relaxation_frame(inputs: PlanInputs, model: LpModel, result: SolveResult) -> pd.DataFrame:
    """Which constraints had to give (elastic slack > 0), by how much, and at what penalty.

    `index` is the row's index as shadow prices and binding rows give it ('ot/north/3'), so
    the three tables join on (constraint, index); `where` says it in words ('service ot, team
    north, period 3')."""
    rows = []
    for name, penalty in model.penalties.items():
        block = model.columns[name]
        amounts = result.col_value[block.start : block.stop]
        family = name.removeprefix("slack_")
        for i in np.flatnonzero(amounts > 1e-7):
            labels = _one_label(model, block, int(i))
            rows.append(
                (
                    family,
                    index_text(labels),
                    index_text(labels, named=True),
                    float(amounts[i]),
                    UNITS[family],
                    penalty,
                )
            )
    return pd.DataFrame(rows, columns=RELAXATION_COLUMNS)
