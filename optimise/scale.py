"""Money in the wrong units: a plan's warnings when a budget, a district's capital or the cost
of a works case is off by a factor no council's figures are, as a figure in thousands of
pounds, or a year's budget given per period, would be.

Such a config is valid and plans "optimal" (or relaxed, naming only the budget it relaxed):
with DFG capital in GBP thousands the demo completed 0.64 works cases in a year instead of 636
and its works waits ran to 400,000 days, with no warning at all. Each rule here fires only far
outside what a real figure can be, so a plan of a council's own figures is not cluttered.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from optimise.budgets import revenue_bounds, row_of_period
from optimise.config import financial_year_label
from optimise.horizon import period_unit
from optimise.inputs import POOLED, PlanInputs, year_days

# a budget under this share of what its teams' hours cost (at their floors, or at their
# ceilings where they have no floors) is read as given in thousands of pounds
THOUSANDS_SHARE = 0.01
# a budget over this many times what its teams' hours can cost, agency included, is at least
# 90% unspent: a year's budget given per period, most likely
CEILING_TIMES = 10.0
# England's average DFG grant was GBP 3,356 to 5,966 a case in 2009-10 to 2014-15 (the public
# figures in ../shared/data/dfg, measure dfg_average_grant); a case costing under this is not
# a DFG works case's cost in pounds
LEAST_CASE_COST_GBP = 100.0
# the most a mandatory DFG pays for one adaptation in England (since 2008); a council may top it
# up from its own discretionary policy, but an average grant above it is most likely a decimal
# slip (71,000 for 7,100), which planned a tenth of the works without a word
MOST_MANDATORY_DFG_GBP = 30000.0
# a year, days: a horizon more than a period shorter than this is part of a year, whose
# capital_gbp (over the whole horizon) a year's grant would overstate
YEAR_DAYS = 365.25


def money_scale_warnings(inputs: PlanInputs) -> list[str]:
    """A warning for each kind of money figure that looks like the wrong unit: revenue budgets
    too small or too large for their teams' hours (and, in any unit, below what their teams'
    minimum hours cost in a period or financial year), districts' capital smaller than one works
    case, works cases costing under GBP 100 or over GBP 30,000, and capital over a horizon
    shorter than a year (which a year's grant would overstate)."""
    return [
        warning
        for warning in (
            _budget_zero(inputs),
            _budget_too_small(inputs),
            _budget_below_floors(inputs),
            _budget_too_large(inputs),
            _capital_zero(inputs),
            _capital_below_one_case(inputs),
            _case_cost_too_small(inputs),
            _case_cost_too_large(inputs),
            _capital_over_part_of_a_year(inputs),
        )
        if warning is not None
    ]


def _per_period(inputs: PlanInputs) -> str:
    return "a week" if inputs.period_days == 7 else "a period"


@dataclass(frozen=True)
class _Judged:
    """A revenue budget as the scale rules judge it: over all its periods, or, given by
    financial year, one year at a time (each year's amount is entered on its own, so one year
    of 0 or in thousands beside years in pounds is that year's slip, not the budget's)."""

    b: int  # index into inputs.budgets
    budget: str
    amount: float  # GBP a period: the typical period's, or the year's share of a period
    periods: np.ndarray  # (T,) bool: the periods judged
    year: int | None = None  # index into financial_years, for a budget given by year

    def year_amount(self, inputs: PlanInputs) -> float:
        """The year's whole amount as entered (revenue_budget_gbp_by_year)."""
        assert inputs.revenue_budget_by_year_gbp is not None and self.year is not None
        return float(inputs.revenue_budget_by_year_gbp[self.b, self.year])


def _about_a_year(inputs: PlanInputs, judged: _Judged, per_period: float, frame: str) -> str:
    """'about GBP 281,571 a year', `per_period` GBP a period over the judged financial year,
    within `frame` (' ({})', ', {}'); '' for a budget judged per period."""
    if judged.year is None:
        return ""
    a_year = per_period * _periods_a_year(inputs, judged.year)
    return frame.format(f"about GBP {a_year:,.0f} a year")


def _periods_a_year(inputs: PlanInputs, y: int) -> float:
    """How many periods of the plan's length financial year `y` holds."""
    return year_days(int(inputs.financial_years[y][:4])) / inputs.period_days


def _budget_name(inputs: PlanInputs, judged: _Judged) -> str:
    """The field a budget is given in, with the financial year judged where given by year."""
    by_year = judged.year is not None
    field = "revenue_budget_gbp_by_year" if by_year else "revenue_budget_gbp_per_period"
    name = f"the pooled {field}" if judged.budget == POOLED else f"teams[{judged.budget}].{field}"
    if judged.year is None:
        return name
    return f"{name} for {inputs.financial_years[judged.year]}"


def _yearly(inputs: PlanInputs, b: int) -> bool:
    """Whether budget `b` is given by financial year (revenue_budget_gbp_by_year)."""
    by_year = inputs.revenue_budget_by_year_gbp
    return by_year is not None and not np.isnan(by_year[b]).all()


def _units(inputs: PlanInputs, named: list[int]) -> str:
    """How the budgets named in a warning are given: per period, per financial year, or both
    where a warning names budgets of each kind (the pooled one by year, a team's per period)."""
    per_period = "revenue_budget_gbp_per_period is in GBP per period"
    per_year = "revenue_budget_gbp_by_year is in GBP per financial year, each year's whole amount"
    kinds = {_yearly(inputs, b) for b in named}
    if kinds == {True}:
        return per_year
    return (
        f"{per_period}; {per_year}" if kinds == {True, False} else "Budgets are in GBP per period"
    )


def _teams_of(inputs: PlanInputs, b: int) -> np.ndarray:
    teams: np.ndarray = np.asarray(inputs.budget_of_team) == b
    return teams


def _hours_cost(inputs: PlanInputs, hours: np.ndarray, rate: np.ndarray, judged: _Judged) -> float:
    """What hours (S, G) a period cost at `rate` (S, T), each period's, over the teams paid
    from the judged budget in its judged periods: the median period's (the lower middle one,
    as `_budgets` takes the budget's), so a rate that rises from 1 April is judged as the
    budget is; inf where hours beyond reason overflow, which the rules below then leave
    alone."""
    teams = hours[:, _teams_of(inputs, judged.b)]
    periods = rate[:, judged.periods]
    with np.errstate(over="ignore"):
        costs = [(teams * periods[:, t, None]).sum() for t in range(periods.shape[1])]
    return float(np.quantile(costs, 0.5, method="lower"))


def _budgets(inputs: PlanInputs) -> list[_Judged]:
    """Each revenue budget as judged: its typical amount a period over the plan (the median,
    one of the amounts, never the mean of two, which overflowed to inf for two of 1e308), or,
    given by financial year, each year the plan's periods start in with its share of a period.
    A budget that is not finite, which a config refuses (MAX_MONEY_GBP), is left out rather
    than written as 'GBP inf'."""
    judged = []
    for b, budget in enumerate(inputs.budgets):
        if _yearly(inputs, b):
            judged += [
                _year_judged(inputs, b, budget, y) for y in range(len(inputs.financial_years))
            ]
            continue
        amount = float(np.quantile(inputs.revenue_budget_gbp[b], 0.5, method="lower"))
        judged.append(_Judged(b, budget, amount, np.ones(len(inputs.period_start), dtype=bool)))
    return [j for j in judged if np.isfinite(j.amount)]


def _year_judged(inputs: PlanInputs, b: int, budget: str, y: int) -> _Judged:
    """Budget `b`'s financial year `y`: its amount's share of a period, over the periods that
    start in it."""
    assert inputs.revenue_budget_by_year_gbp is not None
    with np.errstate(over="ignore"):
        amount = float(inputs.revenue_budget_by_year_gbp[b, y]) / _periods_a_year(inputs, y)
    return _Judged(b, budget, amount, np.asarray(inputs.year_of_period) == y, y)


def _budget_zero(inputs: PlanInputs) -> str | None:
    """A budget of 0 (left at 0, or a figure missing) pays staff only from the fees and
    charges its districts earn: a plan is relaxed wherever they fall short of the teams'
    floors, and no test of scale below applies to 0."""
    shown, named = [], []
    for judged in _budgets(inputs):
        floor = _hours_cost(inputs, inputs.hours_min, inputs.cost_per_hour_gbp, judged)
        most = _hours_cost(inputs, inputs.hours_max, inputs.cost_per_hour_gbp, judged)
        if judged.amount != 0 or not np.isfinite(most) or most <= 0:
            continue
        named.append(judged.b)
        earned = "can be paid only from the DFG fees and care charges its districts earn"
        name, then = _budget_name(inputs, judged), "" if judged.year is None else " in that year"
        if np.isfinite(floor) and floor > 0:
            a_year = _about_a_year(inputs, judged, floor, " ({})")
            shown.append(
                f"{name} is GBP 0: the GBP {floor:,.0f} {_per_period(inputs)}{a_year} its "
                f"teams' minimum hours cost{then} {earned}, so a plan is relaxed wherever those "
                "fall short"
            )
        else:
            shown.append(f"{name} is GBP 0: its teams' staff {earned}")
    if not shown:
        return None
    return (
        "a zero revenue budget: "
        + "; ".join(shown)
        + f". Is a budget missing? {_units(inputs, named)}"
    )


def _budget_too_small(inputs: PlanInputs) -> str | None:
    shown, named = [], []
    for judged in _budgets(inputs):
        floor = _hours_cost(inputs, inputs.hours_min, inputs.cost_per_hour_gbp, judged)
        what = "at their minimum hours"
        if floor <= 0:
            floor = _hours_cost(inputs, inputs.hours_max, inputs.cost_per_hour_gbp, judged)
            what = "at their in-house ceilings"
        if not np.isfinite(floor) or not 0 < judged.amount < THOUSANDS_SHARE * floor:
            continue
        named.append(judged.b)
        shown.append(_too_small(inputs, judged, floor, what))
    if not shown:
        return None
    return "; ".join(shown) + f". Is it in thousands? {_units(inputs, named)}"


def _too_small(inputs: PlanInputs, judged: _Judged, floor: float, what: str) -> str:
    """One budget (or one year of it) under 1% of its floors, with its figure as entered, what
    the floors cost, and the figure read as thousands."""
    cost = f"(GBP {floor:,.0f} {_per_period(inputs)}{_about_a_year(inputs, judged, floor, ', {}')})"
    if judged.year is None:
        figure, given = judged.amount, f"GBP {judged.amount:,.2f} {_per_period(inputs)}"
    else:  # the figure entered is the year's: its share of a period is not what was typed
        figure, what = judged.year_amount(inputs), f"{what} in that year"
        given = f"GBP {figure:,.2f}"
    return (
        f"{_budget_name(inputs, judged)} is {given}, under 1% of what its teams' staff cost "
        f"{what} {cost}; in thousands of pounds it would be GBP {1000 * figure:,.0f}"
    )


def _budget_below_floors(inputs: PlanInputs) -> str | None:
    """Each budget below what its teams' minimum hours cost in some revenue row (a period, or a
    financial year's periods in the plan), at each period's rate (a rise from 1 April
    included): a plan must pay for them, so it is relaxed. A budget of 0 or in thousands has
    its own warning above. Fee and charge income depend on the plan, so where the budget's
    districts can earn any, the cost is said to be before it (analyst review: GBP 100,000 a
    month against floors costing GBP 224,420 was relaxed with no word of either figure)."""
    bounds, rows = revenue_bounds(inputs), row_of_period(inputs)
    shown, income = [], False
    for b, budget in enumerate(inputs.budgets):
        said = _rows_said(inputs, b, bounds.shape[1])
        if said is None:
            continue
        floors = np.zeros(bounds.shape[1])
        np.add.at(floors, rows, _floors_by_period(inputs, b))
        short = floors - bounds[b]
        below = np.isfinite(short) & (short > 1e-6 * np.maximum(1.0, bounds[b]))
        over = np.flatnonzero(below & ~said)
        if not len(over):
            continue
        earns = _income(inputs, b)
        income |= bool(earns)
        shown.append(_below_floors(inputs, budget, over, bounds[b], floors, earns))
    if not shown:
        return None
    relaxed = (
        "relaxed, spending past the budget, unless that income makes up the difference"
        if income
        else "relaxed, spending past the budget"
    )
    return (
        "a revenue budget below what its teams' minimum hours cost: "
        + "; ".join(shown)
        + f". A plan must pay for those hours, so it is {relaxed}: lower the teams' minimum "
        "hours (teams[].hours.<service>.min_per_period) or raise the budget"
    )


def _rows_said(inputs: PlanInputs, b: int, rows: int) -> np.ndarray | None:
    """(R,) bool: the revenue rows of budget `b` whose shortfall `_budget_zero` or
    `_budget_too_small` already says, with the likely slip (every row of a budget per period
    said so; of a budget by year, the rows of each year said so, a week across 1 April into
    such a year with them); None for a budget left out as not finite."""
    judged = [j for j in _budgets(inputs) if j.b == b]
    if not judged:
        return None
    said = [j for j in judged if _scale_said(inputs, j)]
    years = [j.year for j in said if j.year is not None]
    if len(years) < len(said):  # a budget per period, said as a whole
        return np.ones(rows, dtype=bool)
    if inputs.budget_per_financial_year:
        return np.isin(np.arange(rows), years)
    labels = [inputs.financial_years[y] for y in years]
    ends = [_year_of(s + pd.Timedelta(days=inputs.period_days - 1)) for s in inputs.period_start]
    return np.isin(inputs.year_of_period, years) | np.isin(ends, labels)


def _year_of(day: pd.Timestamp) -> str:
    """The label of the financial year `day` falls in ('2025-26')."""
    return financial_year_label(day.year if day.month >= 4 else day.year - 1)


def _scale_said(inputs: PlanInputs, judged: _Judged) -> bool:
    """Whether a budget (or one year of it) is 0 or under 1% of its floors' cost a period:
    `_budget_zero` and `_budget_too_small` say so, and the likely slip with it."""
    floor = _hours_cost(inputs, inputs.hours_min, inputs.cost_per_hour_gbp, judged)
    return judged.amount == 0 or judged.amount < THOUSANDS_SHARE * floor


def _floors_by_period(inputs: PlanInputs, b: int) -> np.ndarray:
    """(T,) GBP the minimum hours of budget `b`'s teams cost in each period, at its rates."""
    with np.errstate(over="ignore", invalid="ignore"):
        floors: np.ndarray = np.einsum(
            "sg,st->t", inputs.hours_min[:, _teams_of(inputs, b)], inputs.cost_per_hour_gbp
        )
    return floors


def _income(inputs: PlanInputs, b: int) -> str:
    """The income budget `b` can earn, in words: DFG fees (its districts' fees, with capital
    for works) and care charges (a charged service its teams may work); '' for none."""
    districts = inputs.budget_of_district == b
    fees = bool(
        np.any(inputs.fee_per_case_gbp[districts] > 0) and np.any(inputs.capital_gbp[districts] > 0)
    )
    worked = inputs.hours_max[:, _teams_of(inputs, b)].sum(axis=1) > 0
    charges = bool(np.any(inputs.charge_income_gbp_per_hour[worked] > 0))
    kinds = [kind for kind, earned in (("DFG fee", fees), ("care charge", charges)) if earned]
    return f"{' and '.join(kinds)} income" if kinds else ""


def _below_floors(
    inputs: PlanInputs,
    budget: str,
    over: np.ndarray,
    amounts: np.ndarray,
    floors: np.ndarray,
    earns: str,
) -> str:
    """One budget's shortfall in words: its worst row's budget and floors' cost, and how many
    of the plan's rows are short."""
    short = (floors - amounts)[over]
    worst = int(over[np.flatnonzero(short >= short.max() - 0.5)[0]])  # the first, to the pound
    yearly, b = inputs.budget_per_financial_year, inputs.budgets.index(budget)
    field = "revenue_budget_gbp_by_year" if _yearly(inputs, b) else "revenue_budget_gbp_per_period"
    name = f"the pooled {field}" if budget == POOLED else f"teams[{budget}].{field}"
    where, before = _row_words(inputs, b, worst), f", before {earns}" if earns else ""
    rows, what = len(amounts), "financial years" if yearly else f"{period_unit(inputs)}s"
    some = f"{len(over)} of the plan's {rows} {what}"
    count = f"all {rows} of the plan's {what}" if len(over) == rows else some
    return (
        f"{name} is GBP {amounts[worst]:,.0f} {where}, and its teams' minimum hours cost GBP "
        f"{floors[worst]:,.0f} then{before} (GBP {floors[worst] - amounts[worst]:,.0f} short; "
        f"short in {count})"
    )


def _row_words(inputs: PlanInputs, b: int, row: int) -> str:
    """Budget `b`'s revenue row `row` in words: a financial year's periods, or a period (with
    the year's amount it is a share of, where the budget is given by year)."""
    if inputs.budget_per_financial_year:
        year = inputs.financial_years[row]
        return f"in financial year {year} (its share for the plan's periods in it)"
    where = f"in the {period_unit(inputs)} of {inputs.period_start[row]:%Y-%m-%d}"
    if not _yearly(inputs, b):
        return where
    assert inputs.revenue_budget_by_year_gbp is not None
    amount = inputs.revenue_budget_by_year_gbp[b, inputs.year_of_period[row]]
    return f"{where} (its share of the year's GBP {amount:,.0f})"


def _budget_too_large(inputs: PlanInputs) -> str | None:
    shown, named = [], []
    for judged in _budgets(inputs):
        most = _hours_cost(
            inputs, inputs.hours_max, inputs.cost_per_hour_gbp, judged
        ) + _hours_cost(inputs, inputs.agency_max_hours, inputs.agency_cost_per_hour_gbp, judged)
        if not np.isfinite(most) or most <= 0 or judged.amount <= CEILING_TIMES * most:
            continue
        named.append(judged.b)
        per_period = f"GBP {judged.amount:,.0f} {_per_period(inputs)}"
        given = (
            per_period
            if judged.year is None
            else (f"GBP {judged.year_amount(inputs):,.0f} ({per_period})")
        )
        shown.append(
            f"{_budget_name(inputs, judged)} is {given}, {_times(judged.amount / most)} what "
            "its teams' hours can cost at their ceilings, agency included (GBP "
            f"{most:,.0f} {_per_period(inputs)}{_about_a_year(inputs, judged, most, ', {}')})"
        )
    if not shown:
        return None
    if all(_yearly(inputs, b) for b in named):  # a year's budget is what was asked for
        return (
            "; ".join(shown) + ": at least 90% of it cannot be spent. Is it in pence, or a "
            "figure for several years? revenue_budget_gbp_by_year is in GBP per financial "
            "year, each year's whole amount"
        )
    return (
        "; ".join(shown) + ": at least 90% of it cannot be spent. Is it a year's budget? "
        "Budgets are per period (a week's of a weekly plan; revenue_budget_basis "
        "'financial_year' lets a year's periods share their total, still given per period; "
        "revenue_budget_gbp_by_year takes a year's)"
    )


def _times(ratio: float) -> str:
    """'22 times'; 'over a trillion times' past that (a ceiling of a millionth of an hour
    would otherwise read 'inf times')."""
    return f"{ratio:,.0f} times" if ratio < 1e12 else "over a trillion times"


def _capital_below_one_case(inputs: PlanInputs) -> str | None:
    """A district whose capital funds not one case, unless its case costs over the mandatory
    DFG's maximum: that cost, not the capital, is then the likely slip (_case_cost_too_large).
    With capital by financial year, each year the plan reaches is judged on its own: a year
    given in thousands beside another in pounds ({"2026-27": 450, "2027-28": 1800000}) funds
    no works in its year, which the years' sum hid."""
    # a case's capital: its cost, and its fee where the fee is charged to the grant; the
    # least a period (fees by year), so capital that funds no case funds none in any period
    short = []
    for name, capitals, cost, own in zip(
        inputs.district_names,
        _capital_by_year(inputs),
        inputs.cost_per_adaptation_gbp.min(axis=1),
        _own_case_costs(inputs),
        strict=True,
    ):
        below = [f"GBP {c:,.2f}{year}" for year, c in capitals if 0 < c < cost]
        if below and own <= MOST_MANDATORY_DFG_GBP:
            short.append(f"{name} {' and '.join(below)} against GBP {cost:,.0f} a case")
    if not short:
        return None
    field, what = _capital_field(inputs)
    return (
        f"DFG {field} funds not one works case in {len(short)} district(s) "
        f"({'; '.join(short)}): is it in thousands of pounds? {field} is the district's "
        f"{what} in GBP (Warwickshire's 2019/20 grant was GBP 4,516,609)"
    )


def _capital_zero(inputs: PlanInputs) -> str | None:
    """Districts whose capital is 0 (over the horizon, or in a financial year the plan
    reaches) while they have works cases to fund: left at 0, or a figure missing, as a zero
    revenue budget is; a plan completes none of their works then, with no other word. Every
    English district council has a DFG allocation (the Better Care Fund's)."""
    works = _works_cases(inputs)
    unfunded = []
    for name, capitals, cases in zip(
        inputs.district_names, _capital_by_year(inputs), works, strict=True
    ):
        years = [year for year, c in capitals if c == 0]
        if years and cases > 0:
            unfunded.append(f"{name}{' and'.join(years)}")
    if not unfunded:
        return None
    field, what = _capital_field(inputs)
    return (
        f"a zero DFG capital: {field} is GBP 0 in {len(unfunded)} district(s) with works cases "
        f"to fund ({'; '.join(unfunded)}): a plan completes none of their works. Is a figure "
        f"missing? {field} is the district's {what} in GBP (Warwickshire's 2019/20 grant was "
        "GBP 4,516,609)"
    )


def _capital_field(inputs: PlanInputs) -> tuple[str, str]:
    """The field districts' capital is given in, and what it is."""
    if inputs.capital_per_financial_year:
        return "capital_by_year_gbp", "capital in each financial year"
    return "capital_gbp", "capital over the whole horizon"


def _works_cases(inputs: PlanInputs) -> np.ndarray:
    """(D,) the works cases each district has to fund over the horizon, at most: its works
    backlog and OT's share (p_ot_dfg) of its OT backlog and demand."""
    cases = np.asarray(inputs.initial_works_backlog_cases, dtype=float)
    ot = inputs.service_index("ot")
    if ot is not None:
        referred = inputs.demand_cases[ot].sum(axis=1) + inputs.initial_backlog_cases[ot]
        cases = cases + inputs.p_ot_dfg * referred
    return cases


def _capital_by_year(inputs: PlanInputs) -> list[list[tuple[str, float]]]:
    """Each district's [(' in 2026-27', capital), ...] for each financial year the plan
    reaches, or [('', capital over the horizon)]."""
    if inputs.capital_by_year_gbp is None:
        return [[("", float(c))] for c in inputs.capital_gbp]
    return [
        [(f" in {year}", float(c)) for year, c in zip(inputs.financial_years, row, strict=True)]
        for row in inputs.capital_by_year_gbp
    ]


def _own_case_costs(inputs: PlanInputs) -> np.ndarray:
    """(D,) each district's cost_per_adaptation_gbp as the config gives it, before a fee
    charged to the grant (which a unit slip leaves alone)."""
    costs = (
        inputs.cost_per_adaptation_gbp.min(axis=1)
        if inputs.works_cost_gbp is None
        else inputs.works_cost_gbp
    )
    return np.asarray(costs, dtype=float)


def _case_cost_too_small(inputs: PlanInputs) -> str | None:
    costs = _own_case_costs(inputs)
    cheap = [
        f"{name} GBP {cost:,.2f}"
        for name, cost in zip(inputs.district_names, costs, strict=True)
        if cost < LEAST_CASE_COST_GBP
    ]
    if not cheap:
        return None
    return (
        f"DFG works cost under GBP {LEAST_CASE_COST_GBP:,.0f} a case in {len(cheap)} "
        f"district(s) ({'; '.join(cheap)}): is cost_per_adaptation_gbp in thousands of pounds? "
        "England's average grant was GBP 3,356 to 5,966 a case in 2009-10 to 2014-15"
    )


def _case_cost_too_large(inputs: PlanInputs) -> str | None:
    """Works cases whose average grant is above the mandatory DFG's maximum, each district
    with its figure: a decimal slip, most likely, or a discretionary top-up in every case."""
    costs = _own_case_costs(inputs)
    dear = [
        f"{name} GBP {cost:,.0f}"
        for name, cost in zip(inputs.district_names, costs, strict=True)
        if cost > MOST_MANDATORY_DFG_GBP
    ]
    if not dear:
        return None
    return (
        f"DFG works cost over GBP {MOST_MANDATORY_DFG_GBP:,.0f} a case in {len(dear)} "
        f"district(s) ({'; '.join(dear)}): cost_per_adaptation_gbp is the average grant paid per "
        "adaptation (after the applicant's means-tested contribution), and a mandatory DFG in "
        f"England pays at most GBP {MOST_MANDATORY_DFG_GBP:,.0f}. Is a figure mistyped (a "
        "decimal slip)? Unless every case is topped up from a discretionary policy, the plan "
        "completes fewer works than the capital would fund"
    )


def _capital_over_part_of_a_year(inputs: PlanInputs) -> str | None:
    """What capital_gbp was taken to cover when the horizon is more than a period shorter than
    a year and the capital is more than every works case its weeks can complete could cost
    (`_works_cost_bound`): the field is the capital over the whole horizon, and a year's grant
    left in it for 26 weeks looks so. The demo at 26 weeks kept the year's GBP 4.5 million,
    spent 55% of it, and no warning said so."""
    if inputs.capital_per_financial_year:
        return None  # each year's capital is given for its own periods, not the horizon's
    days = len(inputs.period_start) * inputs.period_days
    total = float(np.sum(inputs.capital_gbp))
    need = _works_cost_bound(inputs)
    if days > YEAR_DAYS - inputs.period_days or not need < total < np.inf:
        return None
    if _case_cost_too_small(inputs) is not None:  # that slip, not the horizon, is the cause
        return None
    periods = len(inputs.period_start)
    span = f"{periods} weeks" if inputs.period_days == 7 else f"{periods} periods"
    return (
        f"DFG capital_gbp is each district's capital over the whole horizon: GBP {total:,.0f} "
        f"in {len(inputs.districts)} district(s) was taken to cover these {span} ({days} days, "
        f"under a year), more than the GBP {need:,.0f} every works case they can complete would "
        "cost. If that is the year's grant, give the share for these weeks (GBP "
        f"{total * days / YEAR_DAYS:,.0f} pro rata): a year's capital in part of a year plans "
        "more works, and more fee income, than those weeks have"
    )


def _works_cost_bound(inputs: PlanInputs) -> float:
    """What every works case the horizon can complete would cost, GBP: the works backlog and
    OT's share (p_ot_dfg) of its backlog and demand, at most max_works_per_period a period,
    each district at its dearest period's cost a case (a fee charged to the grant by year)."""
    cases = np.minimum(_works_cases(inputs), inputs.max_works_per_period * len(inputs.period_start))
    return float(np.sum(cases * inputs.cost_per_adaptation_gbp.max(axis=1)))
