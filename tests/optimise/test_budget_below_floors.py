"""A revenue budget below what its teams' minimum hours cost, in a period or financial year, is
named in a plan's warnings with both figures and the fix. Before, only a budget under 1% of the
floors' cost (in thousands?) was: one of GBP 100,000 a month against floors costing 224,420 was
planned infeasible_relaxed, the revenue row relaxed, with warnings that pointed at the demand's
units instead (analyst review)."""

from __future__ import annotations

from typing import Any

import optimise
from optimise.scale import money_scale_warnings
from tests.optimise.factory import inputs_of, rich_config, rich_demand

PERIODS = 16  # weeks from Monday 6 January 2025: 13 in 2024-25, then 7, 14 and 21 April
FIX = (
    "A plan must pay for those hours, so it is relaxed, spending past the budget: lower the "
    "teams' minimum hours (teams[].hours.<service>.min_per_period) or raise the budget"
)


def _config(**overrides: Any) -> dict[str, Any]:
    """rich_config over 16 weeks, its floors costing GBP 5,400 a week, without DFG fees."""
    return rich_config(horizon_periods=PERIODS, fees={"dfg_fee_rate": 0.0}, **overrides)


def _below(raw: dict[str, Any]) -> list[str]:
    inputs = inputs_of(raw, rich_demand(periods=PERIODS))
    return [w for w in money_scale_warnings(inputs) if w.startswith("a revenue budget below")]


def test_a_budget_the_floors_fit_says_nothing() -> None:
    assert _below(_config(revenue_budget_gbp_per_period=5400.0)) == []


def test_a_budget_below_the_floors_is_named_with_both_figures_and_the_fix() -> None:
    raw = _config(revenue_budget_gbp_per_period=3000.0)
    [text] = _below(raw)
    assert text == (
        "a revenue budget below what its teams' minimum hours cost: the pooled "
        "revenue_budget_gbp_per_period is GBP 3,000 in the week of 2025-01-06, and its teams' "
        "minimum hours cost GBP 5,400 then (GBP 2,400 short; short in all 16 of the plan's "
        f"weeks). {FIX}"
    )
    result = optimise.plan(inputs_of(raw, rich_demand(periods=PERIODS)), simulation_runs=0)
    assert result.status.value == "infeasible_relaxed"
    assert text in result.warnings


def test_with_fees_the_floors_cost_is_said_to_be_before_that_income() -> None:
    """DFG fees could make up the difference, which the warning cannot know before a plan."""
    [text] = _below(rich_config(horizon_periods=PERIODS, revenue_budget_gbp_per_period=3000.0))
    assert "minimum hours cost GBP 5,400 then, before DFG fee income (GBP 2,400 short" in text
    assert "relaxed, spending past the budget, unless that income makes up the difference" in text


def test_with_care_charges_too_the_cost_is_before_both() -> None:
    raw = rich_config(horizon_periods=PERIODS, revenue_budget_gbp_per_period=3000.0)
    raw["services"][3].update(charge_gbp_per_hour=20.0, charge_paying_share=0.5)
    [text] = _below(raw)
    assert "cost GBP 5,400 then, before DFG fee and care charge income (GBP 2,400" in text


def test_a_rate_rising_from_april_is_named_in_the_weeks_it_costs_too_much() -> None:
    """Domiciliary care's GBP 20 an hour rising to GBP 32 from 1 April puts the floors at
    GBP 6,600 a week from the week of 7 April, over a budget of GBP 6,000 that paid them
    (GBP 5,400) until then: a budget by the median week, as `_budget_too_small` judges it, never
    sees it."""
    raw = _config(revenue_budget_gbp_per_period=6000.0)
    domcare = raw["services"][3]
    del domcare["cost_per_hour_gbp"]
    domcare["cost_per_hour_gbp_by_year"] = {"2024-25": 20.0, "2025-26": 32.0}
    [text] = _below(raw)
    assert "is GBP 6,000 in the week of 2025-04-07" in text
    assert "cost GBP 6,600 then (GBP 600 short; short in 3 of the plan's 16 weeks)" in text


def _by_year(**overrides: Any) -> dict[str, Any]:
    """GBP 200,000 a year, GBP 3,836 a week: under the floors' GBP 5,400 a week in both."""
    raw = _config(revenue_budget_gbp_by_year={"2024-25": 200_000.0, "2025-26": 200_000.0})
    del raw["revenue_budget_gbp_per_period"]
    return {**raw, **overrides}


def test_a_budget_by_financial_year_is_judged_by_each_periods_share() -> None:
    [text] = _below(_by_year())
    assert (
        "the pooled revenue_budget_gbp_by_year is GBP 3,836 in the week of 2025-01-06 (its "
        "share of the year's GBP 200,000), and its teams' minimum hours cost GBP 5,400 then"
    ) in text


def test_a_budget_by_financial_year_is_judged_over_each_years_periods() -> None:
    """revenue_budget_basis financial_year: a year's periods share its amount, so each year's
    share for the plan's weeks of it is set against their floors' cost."""
    raw = _by_year(revenue_budget_basis="financial_year")
    [text] = _below(raw)
    inputs = inputs_of(raw, rich_demand(periods=PERIODS))
    first = inputs.revenue_budget_gbp[0, inputs.year_of_period == 0].sum()
    assert (
        "the pooled revenue_budget_gbp_by_year is GBP "
        f"{first:,.0f} in financial year 2024-25 (its share for the plan's periods in it), and "
        "its teams' minimum hours cost GBP 70,200 then"
    ) in text
    assert "short in all 2 of the plan's financial years" in text


def test_a_team_with_its_own_budget_is_named_alone() -> None:
    raw = _config(revenue_budget_gbp_per_period=6000.0)
    raw["teams"][1]["revenue_budget_gbp_per_period"] = 1000.0
    [text] = _below(raw)
    assert "teams[south].revenue_budget_gbp_per_period is GBP 1,000" in text
    assert "cost GBP 2,700 then" in text and "pooled" not in text


def test_a_budget_in_thousands_is_left_to_its_own_warning() -> None:
    assert _below(_config(revenue_budget_gbp_per_period=16.0)) == []
    assert _below(_config(revenue_budget_gbp_per_period=0.0)) == []
