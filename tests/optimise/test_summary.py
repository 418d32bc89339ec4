"""The CLI table: per district and service hours and waits, and the revenue totals."""

from __future__ import annotations

import pytest

import optimise
from tests.optimise.factory import hand_config, hand_demand, inputs_of, rich_config, rich_demand


def test_hand_plan_table_shows_districts_and_revenue() -> None:
    text = optimise.plan(inputs_of(hand_config(), hand_demand())).summary_table()
    rugby = next(line for line in text.splitlines() if line.startswith("rugby"))
    # OT: 30 h serve 15 cases; 7 x (7.5 + 6) = 94.5 person-days: 6.3 days each. HAO: 10 h,
    # 7 x (3 + 6) = 63 person-days over 10 cases. Works: 7 x (5 + 5) over 5 done: 14 days.
    expected = ["rugby", "30", "h", "/", "6.3", "d", "10", "h", "/", "6.3", "d", "14.0", "d"]
    assert rugby.split() == expected
    assert "budget 400, headroom 0" in text and "staff 400, agency 0, fees 0" in text
    assert len(text.splitlines()) < 40


def test_district_waits_frame() -> None:
    result = optimise.plan(inputs_of(hand_config(), hand_demand()))
    waits = result.district_waits.set_index("service")["avg_wait_days"]
    assert waits.to_dict() == pytest.approx({"ot": 6.3, "hao": 6.3, "dfg_works": 14.0})


def test_team_budgets_are_listed_tightest_first() -> None:
    raw = rich_config()
    raw.pop("revenue_budget_gbp_per_period")
    raw["teams"][0]["revenue_budget_gbp_per_period"] = 9000.0
    raw["teams"][1]["revenue_budget_gbp_per_period"] = 5000.0
    result = optimise.plan(inputs_of(raw, rich_demand()))
    lines = result.summary_table().splitlines()
    start = next(i for i, line in enumerate(lines) if "per budget, tightest first" in line)
    rows = [line.split(":")[0].strip() for line in lines[start + 1 : start + 3]]
    totals = result.revenue_by_budget.groupby("budget")["headroom_gbp"].sum()
    assert rows == list(totals.sort_values().index)
    name, numbers = lines[start + 1].split(":")
    budget, net, headroom = (float(v.replace(",", "")) for v in numbers.split("/"))
    by_budget = result.revenue_by_budget.groupby("budget").sum(numeric_only=True)
    tightest = by_budget.loc[name.strip()]
    assert budget == pytest.approx(tightest["budget_gbp"], abs=1.0)
    assert budget in (6 * 5000.0, 6 * 9000.0)
    assert net == pytest.approx(tightest["net_cost_gbp"], abs=1.0)
    assert headroom == pytest.approx(budget - net, abs=1.0)


def test_one_pooled_budget_has_no_per_budget_lines() -> None:
    text = optimise.plan(inputs_of(rich_config(), rich_demand())).summary_table()
    assert "per budget" not in text


def test_largest_price_of_each_kind_not_the_five_largest_of_one() -> None:
    """Prices in pounds, hours and works completions are not comparable: the table lists each
    priced kind's largest statement once, so many large works-limit prices do not crowd out
    the revenue and staff prices (they did when the five largest overall were listed)."""
    from tests.optimise.test_works_capacity import _capped, _works

    free, _ = _works(None)
    result = optimise.plan(
        inputs_of(_capped(0.6 * float(free.max())), rich_demand()), simulation_runs=0
    )
    prices = result.shadow_prices
    priced = prices[prices["value"].abs() > 1e-9]
    kinds = list(dict.fromkeys(priced["constraint"]))
    assert {"revenue", "works_limit"} <= set(kinds) and len(kinds) >= 3
    lines = result.summary_table().splitlines()
    start = lines.index("largest shadow price of each kind:")
    listed = [line.strip() for line in lines[start + 1 : start + 1 + len(kinds)]]
    largest = [priced.loc[priced["constraint"] == k, "value"].abs().idxmax() for k in kinds]
    assert listed == [prices.loc[i, "statement"] for i in largest]
    assert not lines[start + 1 + len(kinds)].startswith("  ")


def test_a_long_per_budget_listing_stops_at_twelve_and_says_how_many_more() -> None:
    """40 teams' budgets over two financial years: the CLI lists the first twelve rows of each
    table and points to the plan output for the rest."""
    import pandas as pd

    from optimise.summary import _budget_lines, _year_lines

    budgets = [f"team{i:02d}" for i in range(40)]
    by_budget = pd.DataFrame(
        {"budget": budgets, "budget_gbp": 100.0, "net_cost_gbp": 90.0}
        | {"headroom_gbp": [float(i) for i in range(40)]}
    )
    lines = _budget_lines(by_budget)
    assert len(lines) == 1 + 12 + 1
    assert lines[1] == "  team00: 100 / 90 / 0" and lines[12] == "  team11: 100 / 90 / 11"
    assert lines[-1] == "  ... and 28 more (revenue_by_budget in the plan output)"
    by_year = by_budget.assign(year="2026-27", periods=19).head(13)
    lines = _year_lines(by_year)
    assert lines[1] == "  team00 2026-27 (19 periods): 100 / 90 / 0"
    assert lines[-1] == "  ... and 1 more (revenue_by_year in the plan output)"
    assert len(_year_lines(by_year.head(12))) == 13  # all shown, no "more" line
