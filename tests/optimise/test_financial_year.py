"""Revenue budget per financial year: money may move between periods of the same year."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from optimise.build import SPEND_TIE_BREAK_DAYS_PER_GBP
from optimise.check import max_violation, residuals
from optimise.inputs import financial_years
from tests.optimise.factory import hand_config, hand_demand, inputs_of


def test_yearly_budget_is_spent_early_where_that_saves_most() -> None:
    inputs = inputs_of(hand_config(revenue_budget_basis="financial_year"), hand_demand())
    result = optimise.plan(inputs)
    # GBP 400 for the year. Per GBP: HAO in week 1 saves 2.8 days, in week 2 1.4 (capped at
    # 5 h a week); OT in week 1 saves 0.7, in week 2 0.35. So HAO 5 + 5 h (GBP 100), then all
    # 15 OT cases waiting in week 1 (30 h, GBP 300), and nothing left for OT in week 2.
    hours = result.hours.set_index(["service", "period"])["hours"]
    assert hours.to_dict() == pytest.approx(
        {("ot", 1): 30.0, ("ot", 2): 0.0, ("hao", 1): 5.0, ("hao", 2): 5.0}
    )
    # Waiting: OT 0 then 6, HAO 3 then 6 (weight 2), works 5 and 5: 7 x 34 days.
    assert result.objective_weighted_wait_days == pytest.approx(7 * 34)
    price = result.shadow_prices.set_index(["constraint", "index"]).loc[("revenue", "2024-25")]
    # The next GBP can only buy OT in week 2: 0.05 cases a week sooner, 0.35 days.
    assert price["value"] == pytest.approx(350.0 - 1000 * SPEND_TIE_BREAK_DAYS_PER_GBP)
    assert price["statement"].startswith("Financial year 2024-25: an extra GBP 1,000")
    assert max_violation(residuals(inputs, result)) < 1e-6


def test_periods_across_april_fall_in_two_years() -> None:
    starts = tuple(pd.date_range("2025-03-24", periods=3, freq="W-MON"))
    labels, index = financial_years(starts)
    assert labels == ("2024-25", "2025-26") and index.tolist() == [0, 0, 1]


def test_checker_sums_spend_over_the_year() -> None:
    raw = hand_config(revenue_budget_basis="financial_year")
    inputs = inputs_of(raw, hand_demand())
    result = optimise.plan(inputs)
    staffing = result.staffing.copy()
    staffing.loc[staffing["period"] == 2, "staff_hours"] += 3.0  # GBP 60 over the year
    found = residuals(inputs, result.with_extras(staffing=staffing))
    over = [r.violation for r in found if r.constraint == "revenue"]
    assert over[0] == pytest.approx(60.0)


def test_revenue_by_year_sums_each_budgets_year_and_the_year_holds_where_weeks_may_not() -> None:
    # GBP 400 for the year spent in week 1 as far as it saves most: week 1's own share of the
    # budget is overspent, the year's is not
    inputs = inputs_of(hand_config(revenue_budget_basis="financial_year"), hand_demand())
    result = optimise.plan(inputs)
    [year] = result.revenue_by_year.to_dict("records")
    assert (year["budget"], year["year"], year["periods"]) == ("pooled", "2024-25", 2)
    for column in ("staff_cost_gbp", "fee_income_gbp", "budget_gbp", "net_cost_gbp"):
        assert year[column] == pytest.approx(result.revenue[column].sum())
    assert year["headroom_gbp"] >= -1e-6
    assert (result.revenue["headroom_gbp"] < -1e-6).any()
    two = optimise.plan(inputs_of(hand_config(horizon_periods=3), _three_weeks()))
    assert two.revenue_by_year["year"].tolist() == ["2024-25", "2025-26"]  # 24, 31 March; 7 April
    assert two.revenue_by_year["periods"].tolist() == [2, 1]
    assert "per financial year" in two.summary_table()


def _three_weeks() -> pd.DataFrame:
    """The hand demand's two services over three weeks from 24 March 2025 (across 1 April)."""
    weeks = pd.date_range("2025-03-24", periods=3, freq="W-MON")
    rows = [
        {"service": s, "district": "rugby", "ds": d, "cases": 5.0}
        for s in ("ot", "hao")
        for d in weeks
    ]
    return pd.DataFrame(rows)
