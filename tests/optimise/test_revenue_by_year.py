"""A revenue budget by financial year (revenue_budget_gbp_by_year, pooled or a team's own): each
period's budget is its share of its years' amounts by days, so a plan crossing 1 April gets
next year's budget from April; its refusals name the field as capital_by_year_gbp's do."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig, config_problems
from optimise.errors import PlanInputError
from optimise.result import PlanResult
from optimise.scale import money_scale_warnings
from tests.optimise.factory import START, demand_frame, hand_config, inputs_of, rich_config
from tests.optimise.factory import rich_demand as rich_weeks

ACROSS_APRIL = pd.Timestamp("2025-03-24")  # weeks of 24 and 31 March, then 7 and 14 April
# GBP 100 a day in 2024-25 (365 days), GBP 200 a day in 2025-26 (365 days)
YEARS = {"2024-25": 36_500.0, "2025-26": 73_000.0}


def _yearly(
    by_year: dict[str, Any] | None = None, periods: int = 3, **extra: Any
) -> dict[str, Any]:
    """The hand instance over `periods` weeks from 24 March 2025, its pooled budget by year."""
    raw = hand_config(horizon_periods=periods, **extra)
    del raw["revenue_budget_gbp_per_period"]
    raw["revenue_budget_gbp_by_year"] = dict(YEARS if by_year is None else by_year)
    return raw


def _demand(periods: int = 3, ot: float = 5.0) -> pd.DataFrame:
    frame = demand_frame({("ot", "rugby"): [ot] * periods, ("hao", "rugby"): [8.0] * periods})
    return frame.assign(ds=frame["ds"] - START + ACROSS_APRIL)


def _monthly(first: str, months: int, by_year: dict[str, float]) -> dict[str, Any]:
    raw = _yearly(by_year, periods=months, period_days=31)
    starts = pd.date_range(first, periods=months, freq="MS")
    demand = [
        {"service": s, "district": "rugby", "ds": ds, "cases": 5.0}
        for s in ("ot", "hao")
        for ds in starts
    ]
    return {"raw": raw, "demand": pd.DataFrame(demand)}


def test_a_weekly_periods_budget_is_its_days_share_of_each_year_across_1_april() -> None:
    """Week of 24 March: 7 days of 2024-25 (GBP 700); of 31 March: 1 day of 2024-25 and 6 of
    2025-26 (GBP 100 + 1,200); of 7 April: 7 days of 2025-26 (GBP 1,400)."""
    inputs = inputs_of(_yearly(), _demand())
    assert inputs.revenue_budget_gbp.tolist() == [pytest.approx([700.0, 1300.0, 1400.0])]
    assert inputs.revenue_budget_by_year_gbp is not None
    assert inputs.revenue_budget_by_year_gbp.tolist() == [[36_500.0, 73_000.0]]


def test_a_monthly_periods_budget_is_its_months_days_share_of_the_year() -> None:
    """2027-28 holds 29 February 2028 (366 days, GBP 1,000 a day for GBP 366,000); 2028-29 has
    365 (GBP 2,000 a day): January to April 2028 are 31, 29, 31 and 30 days."""
    monthly = _monthly("2028-01-01", 4, {"2027-28": 366_000.0, "2028-29": 730_000.0})
    inputs = inputs_of(monthly["raw"], monthly["demand"])
    assert inputs.revenue_budget_gbp.tolist() == [
        pytest.approx([31_000.0, 29_000.0, 31_000.0, 60_000.0])
    ]
    # twelve months from April are the whole year's budget, to the penny
    whole = _monthly("2026-04-01", 12, {"2026-27": 5_650_000.0})
    year = inputs_of(whole["raw"], whole["demand"]).revenue_budget_gbp
    assert year.sum() == pytest.approx(5_650_000.0, abs=1e-6)


def test_the_plans_tables_give_each_periods_budget_and_the_whole_years() -> None:
    result = optimise.plan(inputs_of(_yearly(), _demand()), simulation_runs=0)
    budgets = result.revenue_by_budget["budget_gbp"].tolist()
    assert budgets == pytest.approx([700.0, 1300.0, 1400.0])
    assert result.revenue["budget_gbp"].tolist() == pytest.approx(budgets)
    years = result.revenue_by_year.set_index("year")
    assert years["periods"].to_dict() == {"2024-25": 2, "2025-26": 1}
    assert years["budget_gbp"].to_dict() == pytest.approx({"2024-25": 2000.0, "2025-26": 1400.0})
    assert years["year_budget_gbp"].to_dict() == YEARS
    text = result.summary_table()
    assert "  pooled 2025-26 (1 periods): 1,400 (of the year's 73,000) / " in text
    stored = result.to_dict()["revenue_by_year"]
    assert [r["year_budget_gbp"] for r in stored] == [36_500.0, 73_000.0]
    # a budget given per period has no year's amount of its own
    flat = optimise.plan(inputs_of(hand_config(horizon_periods=3), _demand()), simulation_runs=0)
    assert flat.revenue_by_year["year_budget_gbp"].isna().all()
    assert [r["year_budget_gbp"] for r in flat.to_dict()["revenue_by_year"]] == [None, None]
    assert "of the year's" not in flat.summary_table()


def _after_april(result: PlanResult) -> float:
    rows = result.revenue[pd.to_datetime(result.revenue["ds"]) >= pd.Timestamp("2025-04-01")]
    return float(rows["net_cost_gbp"].sum())


def test_a_higher_budget_from_april_spends_more_after_1_april_than_a_flat_one() -> None:
    """GBP 200 a week in both years is the flat per-period budget, week for week; with
    2025-26's doubled, the April weeks serve the OT queue the flat budget left waiting."""
    flat_year = 200.0 * 365 / 7
    demand = _demand(periods=4, ot=12.0)
    flat = optimise.plan(inputs_of(hand_config(horizon_periods=4), demand), simulation_runs=0)
    same = _yearly({"2024-25": flat_year, "2025-26": flat_year}, periods=4)
    same_plan = optimise.plan(inputs_of(same, demand), simulation_runs=0)
    assert same_plan.revenue["budget_gbp"].tolist() == pytest.approx([200.0] * 4)
    assert _after_april(same_plan) == pytest.approx(_after_april(flat))
    higher = _yearly({"2024-25": flat_year, "2025-26": 2 * flat_year}, periods=4)
    inputs = inputs_of(higher, demand)
    raised = optimise.plan(inputs, simulation_runs=0)
    assert _after_april(flat) == pytest.approx(2 * 200.0, rel=1e-6)  # each week's budget spent
    assert _after_april(raised) > _after_april(flat) + 300.0
    assert raised.objective_weighted_wait_days < flat.objective_weighted_wait_days
    assert max_violation(residuals(inputs, raised)) < 1e-6


def test_a_financial_year_basis_bounds_each_years_share() -> None:
    raw = _yearly(revenue_budget_basis="financial_year")
    result = optimise.plan(inputs_of(raw, _demand()), simulation_runs=0)
    years = result.revenue_by_year.set_index("year")
    assert years["budget_gbp"].to_dict() == pytest.approx({"2024-25": 2000.0, "2025-26": 1400.0})
    assert (years["headroom_gbp"] >= -1e-6).all()


def test_a_year_the_plans_periods_reach_but_is_not_given_is_refused_naming_the_field() -> None:
    """The week of 31 March reaches 2025-26 by six days: its budget needs that year's."""
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_yearly({"2024-25": 36_500.0}, periods=2), _demand(periods=2))
    assert str(caught.value) == (
        "revenue_budget_gbp_by_year: expected the whole year's budget for every financial year "
        "the plan's periods reach ['2024-25', '2025-26'] (from 2025-03-24 to 2025-04-06), found "
        'none for ["2025-26"]'
    )
    team = hand_config(horizon_periods=2)
    del team["revenue_budget_gbp_per_period"]
    team["teams"][0]["revenue_budget_gbp_by_year"] = {"2025-26": 73_000.0}
    with pytest.raises(PlanInputError, match=r"^teams\[north\]\.revenue_budget_gbp_by_year: .*"):
        inputs_of(team, _demand(periods=2))


def test_a_year_the_plan_never_reaches_is_left_out() -> None:
    wider = inputs_of(_yearly({"2023-24": 1.0, **YEARS, "2026-27": 5.0}), _demand())
    assert (
        wider.revenue_budget_gbp.tolist()
        == inputs_of(_yearly(), _demand()).revenue_budget_gbp.tolist()
    )
    assert wider.revenue_budget_by_year_gbp is not None
    assert wider.revenue_budget_by_year_gbp.tolist() == [[36_500.0, 73_000.0]]


def test_a_teams_own_budget_by_year_beside_a_pooled_one_per_period() -> None:
    raw = rich_config()
    raw["teams"][0]["revenue_budget_gbp_by_year"] = {"2024-25": 7_000.0 * 365 / 7}
    inputs = inputs_of(raw, rich_weeks())
    assert inputs.budgets == ("north", "pooled")
    assert inputs.revenue_budget_gbp[:, 0].tolist() == pytest.approx([7_000.0, 16_000.0])
    assert inputs.revenue_budget_by_year_gbp is not None
    [north, pooled] = inputs.revenue_budget_by_year_gbp.tolist()
    assert north == [pytest.approx(365_000.0)] and pd.isna(pooled[0])


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    return config_problems(caught.value)


def test_a_budget_given_both_per_period_and_by_year_is_refused() -> None:
    both = _yearly()
    both["revenue_budget_gbp_per_period"] = 200.0
    said = (
        "expected one of revenue_budget_gbp_per_period (GBP per period) and "
        "revenue_budget_gbp_by_year (GBP per financial year), not both, found both"
    )
    assert _refusal(both) == f"revenue_budget_gbp_per_period: {said}"
    team = rich_config()
    team["teams"][1].update(
        revenue_budget_gbp_per_period=100.0, revenue_budget_gbp_by_year={"2024-25": 5000.0}
    )
    assert _refusal(team) == f"teams.1.revenue_budget_gbp_per_period: {said}"


def test_a_pooled_budget_is_still_required_for_teams_without_their_own() -> None:
    raw = _yearly()
    del raw["revenue_budget_gbp_by_year"]
    assert _refusal(raw).startswith(
        "revenue_budget_gbp_per_period: expected a pooled budget (revenue_budget_gbp_per_period, "
        "or revenue_budget_gbp_by_year) for the teams without their own"
    )
    own = _yearly()
    own["teams"][0]["revenue_budget_gbp_by_year"] = YEARS
    assert _refusal(own) == (
        "revenue_budget_gbp_by_year: expected none because every team has its own "
        "teams[].revenue_budget_gbp_per_period or teams[].revenue_budget_gbp_by_year, found "
        '{"2024-25": 36500.0, "2025-26": 73000.0}'
    )


@pytest.mark.parametrize(
    ("by_year", "said"),
    [
        (
            {"2025/26": 3000.0},
            "revenue_budget_gbp_by_year.2025/26: expected a financial year written YYYY-YY of "
            'consecutive years, such as "2026-27", found "2025/26"',
        ),
        (
            {"2024-25": -1.0, "2025-26": 5000.0},
            "revenue_budget_gbp_by_year.2024-25: expected GBP from 0 to 100,000,000,000, found -1",
        ),
        (
            {"2024-25": 3000.0, "2026-27": 5000.0},
            "revenue_budget_gbp_by_year: expected consecutive financial years, without a gap, "
            'found none for ["2025-26"] between ["2024-25", "2026-27"]',
        ),
        ({}, 'revenue_budget_gbp_by_year: expected a year such as "2026-27", found {}'),
        (
            {"2024-25": "3000"},
            'revenue_budget_gbp_by_year.2024-25: expected a number, found "3000" (text)',
        ),
    ],
    ids=["not-yyyy-yy", "negative", "gap", "empty", "text"],
)
def test_a_years_label_or_amount_is_refused_as_capital_by_years_are(
    by_year: dict[str, Any], said: str
) -> None:
    assert _refusal(_yearly(by_year)) == said
    team = hand_config()
    del team["revenue_budget_gbp_per_period"]
    team["teams"][0]["revenue_budget_gbp_by_year"] = by_year
    assert _refusal(team) == f"teams.0.{said}"


def test_money_scale_warnings_judge_the_periods_share_and_name_the_field() -> None:
    """A year's amount in thousands (GBP 16 a week of rich's GBP 5,400 floors), and a budget
    ten years' worth: judged on the weeks' shares, named by revenue_budget_gbp_by_year."""
    week = 365 / 7
    small = rich_config(revenue_budget_gbp_per_period=None)
    small["revenue_budget_gbp_by_year"] = {"2024-25": 16.0 * week}
    [text] = money_scale_warnings(inputs_of(small, rich_weeks()))
    # the advice is the field's: the year and its amount as entered, what the floors cost a
    # week and a year, and what a year's figure is
    assert text.startswith(
        f"the pooled revenue_budget_gbp_by_year for 2024-25 is GBP {16.0 * week:,.2f}, under 1% "
        "of what its teams' staff cost at their minimum hours in that year (GBP 5,400 a week, "
        f"about GBP {5_400 * week:,.0f} a year); in thousands of pounds it would be GBP "
        f"{16_000.0 * week:,.0f}"
    )
    assert text.endswith(
        "Is it in thousands? revenue_budget_gbp_by_year is in GBP per financial year, each "
        "year's whole amount"
    )
    assert "per period" not in text.split("Is it in thousands?")[1]
    large = rich_config(revenue_budget_gbp_per_period=None)
    large["revenue_budget_gbp_by_year"] = {"2024-25": 832_000.0 * week}
    [text] = money_scale_warnings(inputs_of(large, rich_weeks()))
    assert text.startswith(
        f"the pooled revenue_budget_gbp_by_year for 2024-25 is GBP {832_000.0 * week:,.0f} (GBP "
        "832,000 a week), 22 times what its teams' hours can cost"
    )
    assert "Is it a year's budget?" not in text  # it is: that is what the field takes
    assert text.endswith(
        "Is it in pence, or a figure for several years? revenue_budget_gbp_by_year is in GBP "
        "per financial year, each year's whole amount"
    )
    zero = rich_config(revenue_budget_gbp_per_period=None)
    zero["revenue_budget_gbp_by_year"] = {"2024-25": 0.0}
    [text] = money_scale_warnings(inputs_of(zero, rich_weeks()))
    assert text.endswith(
        "Is a budget missing? revenue_budget_gbp_by_year is in GBP per financial year, each "
        "year's whole amount"
    )
    fine = rich_config(revenue_budget_gbp_per_period=None)
    fine["revenue_budget_gbp_by_year"] = {"2024-25": 16_000.0 * week}
    assert money_scale_warnings(inputs_of(fine, rich_weeks())) == []


def _two_years(by_year: dict[str, float]) -> list[str]:
    """rich's scale warnings over 16 weeks from 6 January 2025 (13 start in 2024-25, 3 in
    2025-26), its pooled budget by year."""
    raw = rich_config(revenue_budget_gbp_per_period=None, horizon_periods=16)
    raw["revenue_budget_gbp_by_year"] = by_year
    return money_scale_warnings(inputs_of(raw, rich_weeks(periods=16)))


# GBP 16,000 a week a year (rich's floors cost GBP 5,400 a week, GBP 281,571 a year)
YEAR_GBP = 16_000.0 * 365 / 7


@pytest.mark.parametrize("year", ["2024-25", "2025-26"])
def test_a_year_of_0_beside_a_year_in_pounds_is_named_alone(year: str) -> None:
    """Judged by the median period, a zero 2025-26 (3 weeks of 16) said nothing, and a zero
    2024-25 was said as if the whole budget were 0, naming no year."""
    other = "2025-26" if year == "2024-25" else "2024-25"
    [text] = _two_years({year: 0.0, other: YEAR_GBP})
    assert text.startswith(
        f"a zero revenue budget: the pooled revenue_budget_gbp_by_year for {year} is GBP 0: the "
        "GBP 5,400 a week (about GBP 281,571 a year) its teams' minimum hours cost in that year "
        "can be paid only from"
    )
    assert other not in text


@pytest.mark.parametrize("year", ["2024-25", "2025-26"])
def test_a_year_in_thousands_beside_a_year_in_pounds_is_named_with_its_figure(year: str) -> None:
    other = "2025-26" if year == "2024-25" else "2024-25"
    [text] = _two_years({year: YEAR_GBP / 1000, other: YEAR_GBP})
    assert text == (
        f"the pooled revenue_budget_gbp_by_year for {year} is GBP 834.29, under 1% of what its "
        "teams' staff cost at their minimum hours in that year (GBP 5,400 a week, about GBP "
        "281,571 a year); in thousands of pounds it would be GBP 834,286. Is it in thousands? "
        "revenue_budget_gbp_by_year is in GBP per financial year, each year's whole amount"
    )


def test_a_year_of_many_years_worth_beside_a_year_in_pounds_is_named_with_its_figure() -> None:
    """Forty years' money in 2025-26 (3 weeks of 16) was judged by the median week, a
    2024-25 one, and said nothing."""
    [text] = _two_years({"2024-25": YEAR_GBP, "2025-26": 40 * YEAR_GBP})
    assert text.startswith(
        "the pooled revenue_budget_gbp_by_year for 2025-26 is GBP 33,371,429 (GBP 640,000 a "
        "week), 17 times what its teams' hours can cost at their ceilings, agency included (GBP "
        "38,400 a week, about GBP 2,002,286 a year): at least 90% of it cannot be spent"
    )
