"""The summary's revenue by financial year: per year the plan reaches, its periods in the year,
whether that is only part of the year, the revenue budget for them, the net revenue cost and
what is left unspent (`revenue_budget_gbp[2025-26]`, as `capital_spent_gbp[2025-26]` names a
year's capital), every budget's summed. Figures are checked against the plan's own
revenue_by_year rows summed here, and the years against the headline totals."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import optimise
from homeward.plan_summary import unstored_summary_rows
from tests.optimise.factory import START, demand_frame, hand_config, inputs_of

ACROSS_APRIL = pd.Timestamp("2025-03-24")  # weeks of 24 and 31 March (2024-25), then April's


def _summary(raw: dict[str, Any], periods: int, start: pd.Timestamp) -> tuple[dict, dict]:
    """The hand instance over `periods` periods from `start`: {figure: value} of its summary,
    and the plan's result as stored."""
    cases = {("ot", "rugby"): [5.0] * periods, ("hao", "rugby"): [8.0] * periods}
    frame = demand_frame(cases)
    demand = frame.assign(ds=frame["ds"] - START + start)
    result = optimise.plan(inputs_of(raw, demand), simulation_runs=0).to_dict()
    rows = unstored_summary_rows(
        result["status"], result["objective_weighted_wait_days"], result, raw
    )
    figures = {r["figure"]: r["value"] for r in rows}
    assert len(figures) == len(rows)  # no figure named twice
    return figures, result


def _by_hand(result: dict[str, Any], year: str, column: str) -> float:
    return sum(r[column] for r in result["revenue_by_year"] if r["year"] == year)


def test_a_budget_by_year_across_1_april_gives_two_years_each_in_part() -> None:
    raw = hand_config(horizon_periods=3)
    del raw["revenue_budget_gbp_per_period"]
    raw["revenue_budget_gbp_by_year"] = {"2024-25": 36_500.0, "2025-26": 73_000.0}
    figures, result = _summary(raw, 3, ACROSS_APRIL)
    years = [f[len("periods[") : -1] for f in figures if f.startswith("periods[")]
    assert years == ["2024-25", "2025-26"]
    assert [figures[f"periods[{y}]"] for y in years] == [2, 1]
    assert [figures[f"part_year[{y}]"] for y in years] == [True, True]
    for y in years:
        budget = _by_hand(result, y, "budget_gbp")
        net = _by_hand(result, y, "net_cost_gbp")
        assert figures[f"revenue_budget_gbp[{y}]"] == pytest.approx(budget, rel=1e-12)
        assert figures[f"net_revenue_cost_gbp[{y}]"] == pytest.approx(net, rel=1e-12)
        assert figures[f"unspent_budget_gbp[{y}]"] == pytest.approx(budget - net, rel=1e-9)
    # GBP 100 a day: weeks of 24 and 31 March are 7 + 1 days of 2024-25 and 6 of 2025-26 at
    # GBP 200, then a week of April's
    assert figures["revenue_budget_gbp[2024-25]"] == pytest.approx(700.0 + 100.0 + 1200.0)
    assert figures["revenue_budget_gbp[2025-26]"] == pytest.approx(1400.0)
    assert figures["year_revenue_budget_gbp[2024-25]"] == 36_500.0
    assert figures["year_revenue_budget_gbp[2025-26]"] == 73_000.0
    # the years add up to the totals over the horizon
    for name in ("revenue_budget_gbp", "net_revenue_cost_gbp", "unspent_budget_gbp"):
        total = sum(figures[f"{name}[{y}]"] for y in years)
        assert total == pytest.approx(figures[name], rel=1e-9), name


def test_a_year_covered_in_full_is_not_part_of_one_and_a_budget_per_period_has_no_years() -> None:
    """53 weeks from Monday 31 March 2025: its first week is 2024-25's last (part of it), the
    other 52 every week starting in 2025-26. A budget per period gives no whole year's."""
    raw = hand_config(horizon_periods=53)
    figures, result = _summary(raw, 53, pd.Timestamp("2025-03-31"))
    assert figures["periods[2024-25]"] == 1 and figures["part_year[2024-25]"] is True
    assert figures["periods[2025-26]"] == 52 and figures["part_year[2025-26]"] is False
    per_period = raw["revenue_budget_gbp_per_period"]
    assert figures["revenue_budget_gbp[2025-26]"] == pytest.approx(52 * per_period)
    assert figures["net_revenue_cost_gbp[2025-26]"] == pytest.approx(
        _by_hand(result, "2025-26", "net_cost_gbp"), rel=1e-12
    )
    assert not any(f.startswith("year_revenue_budget_gbp[") for f in figures)


def test_twelve_months_from_april_cover_the_year() -> None:
    raw = hand_config(horizon_periods=12, period_days=31)
    del raw["revenue_budget_gbp_per_period"]
    raw["revenue_budget_gbp_by_year"] = {"2026-27": 5_650_000.0}
    starts = pd.date_range("2026-04-01", periods=12, freq="MS")
    demand = pd.DataFrame(
        [
            {"service": s, "district": "rugby", "ds": ds, "cases": 5.0}
            for s in ("ot", "hao")
            for ds in starts
        ]
    )
    result = optimise.plan(inputs_of(raw, demand), simulation_runs=0).to_dict()
    rows = unstored_summary_rows("optimal", result["objective_weighted_wait_days"], result, raw)
    figures = {r["figure"]: r["value"] for r in rows}
    assert figures["periods[2026-27]"] == 12 and figures["part_year[2026-27]"] is False
    assert figures["revenue_budget_gbp[2026-27]"] == pytest.approx(5_650_000.0, abs=1e-6)


def test_a_years_money_is_to_the_penny_and_its_net_cost_and_unspent_add_up_to_its_budget() -> None:
    """A year's net cost, every budget's summed, was 2063305.0000000005 beside a budget of
    2063305.0 and 0.0 unspent: it read as over budget. Each year's money is to the penny, and
    its net cost and unspent budget add up to its budget."""
    share = 2_063_305.0 / 7  # seven budgets' net costs, each a seventh of the year's
    budgets = [294_757.0] * 6 + [2_063_305.0 - 6 * 294_757.0]
    by_year = [
        {"budget": f"b{i}", "year": "2026-27", "periods": 2}
        | {"budget_gbp": b, "net_cost_gbp": share, "headroom_gbp": b - share}
        for i, b in enumerate(budgets)
    ]
    assert sum(r["net_cost_gbp"] for r in by_year) == 2_063_305.0000000005
    result = {"revenue_by_year": by_year, "period_days": 7, "periods": 2}
    result |= {"first_ds": "2026-04-06", "revenue": [], "staffing": [], "capital": []}
    rows = unstored_summary_rows("optimal", 1.0, result, {})
    figures = {r["figure"]: r["value"] for r in rows}
    assert repr(figures["revenue_budget_gbp[2026-27]"]) == "2063305.0"
    assert repr(figures["net_revenue_cost_gbp[2026-27]"]) == "2063305.0"
    assert repr(figures["unspent_budget_gbp[2026-27]"]) == "0.0"
