"""Shadow prices against finite differences: re-plan with one bound raised and compare the
change in weighted waiting with the price a plan reports, in its stated units and sign.

- "waiting days saved per extra GBP 1,000" (revenue, per budget and period or financial
  year; DFG capital, per district): raising the bound by GBP 1,000 saves at most the price
  (the optimal waiting is convex in a bound), and exactly the price while the raised bound
  stays in the range the plan states for it.
- "per extra hour" (team_hours_max, per team, service and period): one more hour in every
  period saves at most the sum of the periods' prices; "per extra floor hour"
  (team_hours_min): one more floor hour in every period adds at least the sum of theirs.

Exactness is up to the spend tie-break (a millionth of a day per GBP: 0.001 days per
GBP 1,000) and the solver's tolerances.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

import optimise
from optimise.budgets import revenue_bounds, row_of_period
from optimise.build import build_model, weighted_wait_days
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand
from tests.optimise.lp_instances import FEW, requests

GBP_STEP = 1000.0


def plan(inputs: PlanInputs) -> PlanResult:
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL, result.message
    return result


def waiting(inputs: PlanInputs) -> float:
    """The optimal weighted waiting (what a plan's first solve reaches)."""
    model = build_model(inputs)
    outcome = optimise.solve(model)
    assert outcome.ok, outcome.message
    return weighted_wait_days(model, outcome.col_value)


def saved(before: PlanResult, inputs: PlanInputs) -> float:
    """Weighted waiting days the changed inputs save on `before`."""
    return before.first_stage_weighted_wait_days - waiting(inputs)


def near(days: float) -> float:
    return 1e-6 * max(1.0, abs(days)) + 5e-3


def revenue_key(inputs: PlanInputs, budget: int, period: int) -> str:
    time = (
        inputs.financial_years[inputs.year_of_period[period]]
        if inputs.budget_per_financial_year
        else str(period + 1)
    )
    return time if inputs.pooled_only else f"{inputs.budgets[budget]}/{time}"


def check_price(price: pd.Series, bound: float, change: float, base: float) -> None:
    assert change <= price["value"] + near(base)
    if not np.isnan(price["range_high"]) and bound + GBP_STEP <= price["range_high"]:
        assert abs(change - price["value"]) <= near(base) + 1e-6 * abs(price["value"])


@FEW
@given(requests(), st.data())
def test_money_prices_are_the_waiting_an_extra_gbp_1000_saves(
    request: tuple[dict[str, Any], pd.DataFrame], data: st.DataObject
) -> None:
    inputs = inputs_of(*request)
    before = plan(inputs)
    base = before.first_stage_weighted_wait_days
    prices = before.shadow_prices.set_index(["constraint", "index"])
    b = data.draw(st.integers(0, len(inputs.budgets) - 1))
    t = data.draw(st.integers(0, len(inputs.period_start) - 1))
    budget = inputs.revenue_budget_gbp.copy()
    budget[b, t] += GBP_STEP
    price = prices.loc[("revenue", revenue_key(inputs, b, t))]
    row = _revenue_bound(inputs, b, t)
    check_price(price, row, saved(before, replace(inputs, revenue_budget_gbp=budget)), base)
    d = data.draw(st.integers(0, len(inputs.districts) - 1))
    capital = inputs.capital_gbp.copy()
    capital[d] += GBP_STEP
    price = prices.loc[("capital", inputs.districts[d])]
    change = saved(before, replace(inputs, capital_gbp=capital))
    check_price(price, float(inputs.capital_gbp[d]), change, base)


def _revenue_bound(inputs: PlanInputs, budget: int, period: int) -> float:
    """The revenue row's bound that period's budget is part of (GBP)."""
    return float(revenue_bounds(inputs)[budget, row_of_period(inputs)[period]])


@FEW
@given(requests(), st.data())
def test_hour_prices_bound_what_an_extra_hour_saves_or_a_floor_hour_adds(
    request: tuple[dict[str, Any], pd.DataFrame], data: st.DataObject
) -> None:
    inputs = inputs_of(*request)
    before = plan(inputs)
    base = before.first_stage_weighted_wait_days
    prices = before.shadow_prices.set_index(["constraint", "index"])["value"]
    s = data.draw(st.integers(0, len(inputs.services) - 1))
    g = data.draw(st.integers(0, len(inputs.teams) - 1))
    periods = range(1, len(inputs.period_start) + 1)

    def total(family: str) -> float:
        keys = [(family, f"{inputs.services[s]}/{inputs.teams[g]}/{t}") for t in periods]
        return float(sum(prices[k] for k in keys))

    ceiling = inputs.hours_max.copy()
    ceiling[s, g] += 1.0
    assert saved(before, replace(inputs, hours_max=ceiling)) <= total("team_hours_max") + near(base)
    floor = inputs.hours_min.copy()
    floor[s, g] = min(floor[s, g] + 1.0, inputs.hours_max[s, g])
    if floor[s, g] > inputs.hours_min[s, g]:
        model = build_model(replace(inputs, hours_min=floor))
        outcome = optimise.solve(model)
        if outcome.ok:  # the higher floor may not be affordable
            added = weighted_wait_days(model, outcome.col_value) - base
            step = floor[s, g] - inputs.hours_min[s, g]
            assert added >= step * total("team_hours_min") - near(base)


def test_each_weeks_revenue_price_is_what_gbp_1000_more_that_week_saves() -> None:
    """On the rich instance (two teams, fees, flows), week by week."""
    inputs = inputs_of(rich_config(), rich_demand())
    before = plan(inputs)
    prices = before.shadow_prices.set_index(["constraint", "index"])
    for t in range(len(inputs.period_start)):
        budget = inputs.revenue_budget_gbp.copy()
        budget[0, t] += GBP_STEP
        price = prices.loc[("revenue", str(t + 1))]
        change = saved(before, replace(inputs, revenue_budget_gbp=budget))
        check_price(price, _revenue_bound(inputs, 0, t), change, 0.0)
