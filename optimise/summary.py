"""Human sentences and the CLI text table for a PlanResult."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from optimise.inputs import PlanInputs
    from optimise.result import PlanResult


def status_message(result: PlanResult, inputs: PlanInputs) -> str:
    """One or two sentences a planner can read: what was found and what limited it."""
    from optimise.result import PlanStatus

    horizon = f"{len(inputs.period_start)} periods of {inputs.period_days} days"
    if result.status is PlanStatus.OPTIMAL:
        return (
            f"Optimal plan over {horizon}: {result.objective_weighted_wait_days:,.0f} weighted "
            f"waiting days, {result.total_dtoc_days:,.0f} delayed days in hospital as the LP "
            "reckons them (its queue simulation's, where it ran, are the ones to expect). "
            + _equity(result, inputs)
            + _binding(result)
        )
    if result.status is PlanStatus.INFEASIBLE_RELAXED:
        return (
            f"The request cannot be met as stated over {horizon}; the closest plan relaxes "
            f"{_relaxed(result.relaxations)}. It then has "
            f"{result.objective_weighted_wait_days:,.0f} weighted waiting days. "
            + _equity(result, inputs)
        ).rstrip()
    return f"No plan: the solver ended with status {result.status.value} over {horizon}"


def _equity(result: PlanResult, inputs: PlanInputs) -> str:
    """With a worst-district weight, what the plan minimised besides the waiting days."""
    weight = inputs.worst_district_weight
    if weight <= 0:
        return ""
    return (
        f"It also minimises {weight:,.3g} x the worst district's weighted waiting days per "
        f"referral ({result.worst_district_wait_term / weight:,.1f}): an objective of "
        f"{result.objective_value:,.0f}. "
    )


# Rows that bind whenever hours are used, not limits a planner sets: "hours used <= hours
# paid" binds in every week the paid hours are all used. The binding table keeps them.
ACCOUNTING_ROWS = frozenset({"team_hours_used"})


def _binding(result: PlanResult) -> str:
    limits = result.binding[~result.binding["constraint"].isin(ACCOUNTING_ROWS)]
    if not len(limits):
        return "No budget, capital or staffing limit binds."
    counts = limits.groupby("constraint").size()
    parts = [f"{str(name).replace('_', ' ')} ({n})" for name, n in counts.items()]
    return "Binding: " + ", ".join(parts) + "."


def _relaxed(relaxations: pd.DataFrame) -> str:
    top = relaxations.sort_values("amount", ascending=False).head(3)
    parts = [
        f"{r.constraint} ({getattr(r, 'where', r.index)}) by {r.amount:,.1f} {r.unit} "
        f"(penalty {r.penalty_per_unit:,.3g} weighted days per {str(r.unit).rstrip('s')})"
        for r in top.itertuples()
    ]
    more = len(relaxations) - len(top)
    return "; ".join(parts) + (f"; and {more} more" if more > 0 else "")


def summary_table(result: PlanResult) -> str:
    """Status line, hours and mean waits per service, revenue totals, hours and average
    waits per district and service, then the top shadow prices, the baselines and the waits if
    referrals come in low or high."""
    lines = [
        f"status: {result.status.value} ({result.solver}, build {result.build_seconds:.2f} s, "
        f"solve {result.solve_seconds:.2f} s)",
        result.message,
        *_simulated(result),
        *_tie_break(result),
        "",
    ]
    if len(result.hours):
        lines += [_service_table(result), _revenue_line(result.revenue)]
        lines += [*_budget_lines(result.revenue_by_budget), *_year_lines(result.revenue_by_year)]
        lines += _capital_year_lines(result.capital_by_year)
        lines += [""]
    if len(result.district_waits):
        lines += [*_district_table(result.district_waits), ""]
    top = _largest_prices(result.shadow_prices)
    if top:
        lines += ["largest shadow price of each kind:", *(f"  {s}" for s in top)]
    if len(result.baselines):
        lines += ["", "against baselines at the same staff spend:", _baselines(result.baselines)]
    if len(result.demand_risk):
        lines += ["", *_risk_lines(result.demand_risk)]
    lines += [f"warning: {w}" for w in result.warnings]
    return "\n".join(lines).rstrip() + "\n"


PRICE_FLOOR = 1e-9  # below this a price is the solver's round-off (served as 0)


def _largest_prices(prices: pd.DataFrame) -> list[str]:
    """The statement of each kind's largest price (revenue, team hours, capital, works limit),
    kinds in the table's order: a pound, an hour and a works completion are not comparable,
    so one kind's many rows must not crowd out the others. Kinds priced at 0 are left out."""
    if not len(prices):
        return []
    size = prices["value"].abs()
    priced = prices[size > PRICE_FLOOR].assign(size=size[size > PRICE_FLOOR])
    if not len(priced):
        return []
    best = priced.sort_values("size", ascending=False, kind="stable").groupby(
        "constraint", sort=False
    )
    order = list(dict.fromkeys(prices["constraint"]))
    firsts = best.head(1).set_index("constraint")["statement"]
    return [str(firsts[k]) for k in order if k in firsts.index]


def _tie_break(result: PlanResult) -> list[str]:
    """What the even-waits stage did: the waiting it kept and the longest waits it evened."""
    if result.tie_break != "even_waits":
        return []
    return [
        f"Even waits ({result.tie_break_seconds:.2f} s more): among the plans with "
        f"{result.first_stage_weighted_wait_days:,.0f} weighted waiting days (this one: "
        f"{result.objective_weighted_wait_days:,.0f}), the one whose longest district wait "
        f"per team, service and period sums to least: {result.worst_wait_sum_days:,.0f} days, "
        f"against {result.first_stage_worst_wait_sum_days:,.0f} for the first solve's plan."
    ]


def _baselines(baselines: pd.DataFrame) -> str:
    table = baselines.set_index("name")[["weighted_wait_days", "dtoc_days", "vs_plan_pct"]]
    return table.to_string(float_format=lambda v: f"{v:,.1f}")


def _risk_lines(risk: pd.DataFrame) -> list[str]:
    """Per service over the area: the average wait with the plan's hours if the year's
    referrals come in low or high (optimise/risk.py)."""
    sums = risk.groupby(["service", "scenario"], sort=False)[
        ["person_days", "cases_served", "dtoc_days"]
    ].sum()
    wait = (sums["person_days"] / sums["cases_served"].where(sums["cases_served"] > 0)).unstack()
    table = wait.reindex(columns=["low", "planned", "high"])
    dtoc = sums["dtoc_days"].groupby(level="scenario").sum()
    return [
        "average wait in days with these hours if the year's referrals come in low / as "
        "planned / high (as far off as the lowest and highest tenth of backtest years):",
        table.to_string(float_format=lambda v: f"{v:,.1f}", na_rep="-"),
        f"delayed days in hospital: {dtoc['low']:,.0f} / {dtoc['planned']:,.0f} / "
        f"{dtoc['high']:,.0f}",
    ]


def _service_table(result: PlanResult) -> str:
    hours = result.hours.groupby("service")[["hours", "cases_served"]].sum()
    backlog = result.backlog.groupby("service")["backlog_cases"].mean().rename("mean_backlog_cases")
    table = hours.join(backlog, how="left").fillna(0.0)
    return table.to_string(float_format=lambda v: f"{v:,.1f}")


MAX_DISTRICTS_SHOWN = 12  # beyond this the CLI points to the frames rather than scroll


def _pounds(value: Any) -> str:
    """Whole pounds; solver round-off just below zero reads 0, not -0."""
    text = f"{value:,.0f}"
    return "0" if text == "-0" else text


def _revenue_line(revenue: pd.DataFrame) -> str:
    """Horizon totals in GBP: budget, what staff cost, what fees and charges brought in."""
    total = revenue.sum(numeric_only=True)
    return (
        f"revenue over {len(revenue)} periods (GBP): budget {total['budget_gbp']:,.0f}, "
        f"headroom {_pounds(total['headroom_gbp'])}\n  staff {total['staff_cost_gbp']:,.0f}, "
        f"agency {total['agency_cost_gbp']:,.0f}, fees {total['fee_income_gbp']:,.0f}, "
        f"charges {total['charge_income_gbp']:,.0f}"
    )


def _year_lines(by_year: pd.DataFrame) -> list[str]:
    """With a horizon over more than one financial year (or more than one budget), each
    budget's totals per financial year in GBP, as a finance officer reports them."""
    if len(by_year) < 2:
        return []
    lines = ["  per financial year: budget / net cost (staff + agency - income) / headroom"]
    return lines + _listed(
        by_year.itertuples(),
        len(by_year),
        lambda row: (
            f"  {row.budget} {row.year} ({row.periods} periods): {row.budget_gbp:,.0f}"
            f"{_of_the_year(getattr(row, 'year_budget_gbp', math.nan))} / "
            f"{_pounds(row.net_cost_gbp)} / {_pounds(row.headroom_gbp)}"
        ),
        "revenue_by_year",
    )


def _of_the_year(whole: float) -> str:
    """' (of the year's 5,900,000)' beside a budget given by financial year; '' otherwise."""
    return "" if pd.isna(whole) else f" (of the year's {whole:,.0f})"


def _listed(rows: Iterable[Any], count: int, line: Callable[[Any], str], table: str) -> list[str]:
    """A line per row for the first MAX_DISTRICTS_SHOWN of `count` rows, then how many more
    the plan output's `table` has."""
    shown = [line(row) for row in itertools.islice(rows, MAX_DISTRICTS_SHOWN)]
    more = count - len(shown)
    return shown + ([f"  ... and {more} more ({table} in the plan output)"] if more > 0 else [])


def _capital_year_lines(by_year: pd.DataFrame) -> list[str]:
    """Where the config gives DFG capital by financial year, each district's capital, spend
    and what is left per year in GBP, as a capital officer monitors them."""
    if not len(by_year) or not by_year["capital_available_gbp"].notna().any():
        return []
    lines = ["DFG capital per financial year: capital / spent / left (GBP), works completed"]
    return lines + _listed(
        by_year.itertuples(),
        len(by_year),
        lambda row: (
            f"  {row.district} {row.year} ({row.periods} periods): "
            f"{row.capital_available_gbp:,.0f} / {row.capital_spent_gbp:,.0f} / "
            f"{_pounds(row.capital_left_gbp)}, {row.works_completed:,.1f} works"
        ),
        "capital_by_year",
    )


def _budget_lines(by_budget: pd.DataFrame) -> list[str]:
    """With more than one revenue budget (teams holding their own), each budget's horizon
    totals in GBP, tightest first: a finance officer asks which budget runs out."""
    if not len(by_budget) or by_budget["budget"].nunique() < 2:
        return []
    totals = by_budget.groupby("budget", sort=False)[
        ["budget_gbp", "net_cost_gbp", "headroom_gbp"]
    ].sum()
    totals = totals.sort_values("headroom_gbp")
    lines = ["  per budget, tightest first: budget / net cost (staff + agency - income) / headroom"]
    return lines + _listed(
        totals.iterrows(),
        len(totals),
        lambda item: (
            f"  {item[0]}: {item[1].budget_gbp:,.0f} / "
            f"{_pounds(item[1].net_cost_gbp)} / {_pounds(item[1].headroom_gbp)}"
        ),
        "revenue_by_budget",
    )


def _district_table(waits: pd.DataFrame) -> list[str]:
    """Per district (rows) and service (columns): hours over the horizon and average wait."""
    cells = waits.assign(
        cell=[_cell(h, w) for h, w in zip(waits["hours"], waits["avg_wait_days"], strict=True)]
    )
    table = cells.pivot(index="district", columns="service", values="cell")
    table = table.reindex(index=waits["district"].unique(), columns=waits["service"].unique())
    shown = table.head(MAX_DISTRICTS_SHOWN)
    more = len(table) - len(shown)
    tail = [f"... and {more} more districts (district_waits in the plan output)"] if more else []
    header = "hours over the horizon / average wait in days, per district and service:"
    return [header, shown.to_string(index_names=False).replace("service", "       "), *tail]


def _cell(hours: float, wait_days: float) -> str:
    wait = "-" if pd.isna(wait_days) else f"{wait_days:.1f} d"
    return wait if pd.isna(hours) else f"{hours:,.0f} h / {wait}"


def _simulated(result: PlanResult) -> list[str]:
    """The delayed days in hospital as planned and as simulated, where the plan was
    simulated: the message gives only the LP's, and the simulated figure is the one to quote
    (queues near full use wait longer than the LP's fluid model)."""
    sim = result.simulated_dtoc_days
    if math.isnan(sim):
        return []
    return [
        f"delayed days in hospital: {result.total_dtoc_days:,.0f} as planned (the LP), "
        f"{sim:,.0f} in the plan's queue simulation (the figure to quote as the delayed days "
        "to expect)"
    ]
