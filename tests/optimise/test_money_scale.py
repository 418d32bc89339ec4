"""Money in the wrong units is named in a plan's warnings: a budget in thousands of pounds or a
year's budget given per week, a district's capital in thousands, a works case's cost in
thousands. Before, each planned "optimal" (or relaxed, naming only the money it relaxed) with
no word: the demo with capital in thousands completed 0.64 works cases in a year, not 636."""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import pytest

import optimise
from homeward.demo_config import demo_planning_config
from optimise.scale import money_scale_warnings
from tests.optimise.factory import demand_frame, inputs_of, rich_config, rich_demand


def _warnings(**overrides: Any) -> list[str]:
    return money_scale_warnings(inputs_of(rich_config(**overrides), rich_demand()))


def _districts(scale_field: str, factor: float) -> list[dict[str, Any]]:
    return [
        {**district, scale_field: district[scale_field] * factor}
        for district in rich_config()["districts"]
    ]


def test_figures_in_pounds_say_nothing() -> None:
    assert _warnings() == []


def test_the_demo_config_says_nothing() -> None:
    body = demo_planning_config(horizon_periods=8)
    body.pop("winter", None)
    demand = demand_frame(
        {(s["id"], d["id"]): [20.0] * 8 for s in body["services"] for d in body["districts"]}
    )
    assert money_scale_warnings(inputs_of(body, demand)) == []


def test_a_budget_in_thousands_is_named_and_planned_with_it() -> None:
    """16.0 for GBP 16,000 a week: under 1% of the teams' floors (GBP 5,400 a week), so the
    plan is relaxed; its warnings say the likely slip, not only how much money was missing."""
    inputs = inputs_of(rich_config(revenue_budget_gbp_per_period=16.0), rich_demand())
    [text] = money_scale_warnings(inputs)
    assert text == (
        "the pooled revenue_budget_gbp_per_period is GBP 16.00 a week, under 1% of what its "
        "teams' staff cost at their minimum hours (GBP 5,400 a week); in thousands of pounds it "
        "would be GBP 16,000. Is it in thousands? Budgets are in GBP per period"
    )
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status.value == "infeasible_relaxed"
    assert text in result.warnings


def test_a_years_budget_given_per_week_is_named() -> None:
    """52 weeks' money a week: 22 times what the teams' hours can cost at their ceilings
    (GBP 38,400 a week: 2 teams x (120 x 38 + 80 x 28 + 200 x 22 + 400 x 20))."""
    [text] = _warnings(revenue_budget_gbp_per_period=16_000.0 * 52)
    assert text.startswith(
        "the pooled revenue_budget_gbp_per_period is GBP 832,000 a week, 22 times what its "
        "teams' hours can cost at their ceilings, agency included (GBP 38,400 a week)"
    )
    assert "at least 90% of it cannot be spent. Is it a year's budget?" in text
    # ten times is still a budget a council could set: not named
    assert _warnings(revenue_budget_gbp_per_period=38_400.0 * 10) == []


def test_a_teams_own_budget_is_named_by_its_team() -> None:
    teams = [{**team, "revenue_budget_gbp_per_period": 8.0} for team in rich_config()["teams"]]
    [text] = _warnings(teams=teams, revenue_budget_gbp_per_period=None)
    assert text.startswith("teams[north].revenue_budget_gbp_per_period is GBP 8.00 a week")
    assert "; teams[south].revenue_budget_gbp_per_period is GBP 8.00 a week" in text


def test_capital_in_thousands_is_named_with_each_district() -> None:
    [text] = _warnings(districts=_districts("capital_gbp", 1 / 1000))
    assert text.startswith(
        "DFG capital_gbp funds not one works case in 3 district(s) (Rugby GBP 90.00"
    )
    assert "is it in thousands of pounds?" in text
    # capital of none is not a figure in thousands: it has its warning of its own
    [none] = _warnings(districts=_districts("capital_gbp", 0.0))
    assert none.startswith("a zero DFG capital: capital_gbp is GBP 0 in 3 district(s)")


@pytest.mark.parametrize("factor", [1 / 1000, 1 / 200])
def test_a_works_case_costing_under_100_pounds_is_named(factor: float) -> None:
    [text] = _warnings(districts=_districts("cost_per_adaptation_gbp", factor))
    cost = 9000.0 * factor
    assert text.startswith(
        f"DFG works cost under GBP 100 a case in 3 district(s) (Rugby GBP {cost:,.2f}"
    )
    assert "is cost_per_adaptation_gbp in thousands of pounds?" in text


def test_a_works_case_above_the_mandatory_dfg_maximum_is_named_with_its_district() -> None:
    """GBP 71,000 for 7,100 planned a tenth of the works the capital funds without a word;
    the mandatory DFG in England pays at most GBP 30,000."""
    districts = rich_config()["districts"]
    districts[1] = {**districts[1], "cost_per_adaptation_gbp": 71000.0}
    [text] = _warnings(districts=districts)
    assert text == (
        "DFG works cost over GBP 30,000 a case in 1 district(s) (Nuneaton-And-Bedworth GBP "
        "71,000): cost_per_adaptation_gbp is the average grant paid per adaptation (after the "
        "applicant's means-tested contribution), and a mandatory DFG in England pays at most "
        "GBP 30,000. Is a figure mistyped (a decimal slip)? Unless every case is topped up from "
        "a discretionary policy, the plan completes fewer works than the capital would fund"
    )
    districts[1]["cost_per_adaptation_gbp"] = 30000.0  # the maximum itself is a grant
    assert _warnings(districts=districts) == []
    inputs = inputs_of(
        rich_config(districts=_districts("cost_per_adaptation_gbp", 10)), rich_demand()
    )
    result = optimise.plan(inputs, simulation_runs=0)
    [said] = [w for w in result.warnings if w.startswith("DFG works cost over GBP 30,000")]
    assert "in 3 district(s) (Rugby GBP 90,000; " in said


def test_the_warning_reaches_a_plans_warnings_when_optimal() -> None:
    inputs = inputs_of(rich_config(districts=_districts("capital_gbp", 1 / 1000)), rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status.value == "optimal"
    assert any(w.startswith("DFG capital_gbp funds not one works case") for w in result.warnings)


def test_a_works_cost_in_thousands_is_named_when_the_fee_is_charged_to_the_grant() -> None:
    """The capital a case uses then adds its fee (here at least GBP 100), which hid a cost of
    GBP 9 (thousands) from the check."""
    fees = {"dfg_fee_rate": 0.15, "min_fee_per_case_gbp": 100.0, "charged_to_grant": True}
    [text] = _warnings(districts=_districts("cost_per_adaptation_gbp", 1 / 1000), fees=fees)
    assert text.startswith("DFG works cost under GBP 100 a case in 3 district(s) (Rugby GBP 9.00")


@pytest.mark.parametrize(
    ("budget", "ceiling_hours"),
    [(1e308, 120.0), (1e11, 1e-300), (1e11, 1e307)],
    ids=[
        "a budget beyond any (built past the config)",
        "a ceiling of no hours",
        "hours whose cost overflows",
    ],
)
def test_no_warning_says_inf(budget: float, ceiling_hours: float) -> None:
    """A budget of 1e308 a week was warned of as "GBP inf a week, inf times what its teams'
    hours can cost" (the median of two such weeks overflowed). A config refuses it now
    (MAX_MONEY_GBP); a budget built past the config, or one at the ceiling over hours of no
    cost or of endless cost, still says no inf."""
    inputs = inputs_of(rich_config(), rich_demand())
    hours_max = np.full_like(inputs.hours_max, ceiling_hours)
    inputs = dataclasses.replace(
        inputs,
        revenue_budget_gbp=np.full_like(inputs.revenue_budget_gbp, budget),
        hours_min=np.zeros_like(inputs.hours_min),
        hours_max=hours_max,
    )
    said = money_scale_warnings(inputs)
    assert not [w for w in said if "inf" in w.replace("infeasible", "")], said


def test_a_zero_budget_is_named_and_its_plan_is_relaxed() -> None:
    """A budget of 0 drew no warning (the thousands rule needs a budget above 0), and its
    plan was relaxed naming only the money it relaxed."""
    inputs = inputs_of(rich_config(revenue_budget_gbp_per_period=0.0), rich_demand())
    [text] = money_scale_warnings(inputs)
    assert text == (
        "a zero revenue budget: the pooled revenue_budget_gbp_per_period is GBP 0: the GBP "
        "5,400 a week its teams' minimum hours cost can be paid only from the DFG fees and care "
        "charges its districts earn, so a plan is relaxed wherever those fall short. Is a budget "
        "missing? Budgets are in GBP per period"
    )
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status.value == "infeasible_relaxed"
    assert text in result.warnings


def test_a_zero_budget_without_floors_says_no_plan_is_relaxed() -> None:
    teams = [
        {**team, "hours": {s: {**h, "min_per_period": 0} for s, h in team["hours"].items()}}
        for team in rich_config()["teams"]
    ]
    [text] = _warnings(revenue_budget_gbp_per_period=0.0, teams=teams)
    assert "GBP 0: its teams' staff can be paid only from the DFG fees" in text
    assert "relaxed" not in text


def _flat_inputs(body: dict[str, Any], periods: int) -> Any:
    body = {**body, "horizon_periods": periods}
    body.pop("winter", None)
    cases = [20.0] * periods
    return inputs_of(
        body,
        demand_frame(
            {(s["id"], d["id"]): cases for s in body["services"] for d in body["districts"]}
        ),
    )


def test_a_years_capital_over_26_weeks_says_what_it_was_taken_to_cover() -> None:
    """The active config's year of capital (GBP 4,516,609) with `horizon_periods: 26`: the
    field is the capital over the horizon, so the plan had the year's grant for half a year
    (and spent 55% of it, its works at their weekly limits) with no warning."""
    year = demo_planning_config()
    capital = sum(d["capital_gbp"] for d in year["districts"])
    texts = money_scale_warnings(_flat_inputs(year, 26))
    [text] = [t for t in texts if t.startswith("DFG capital_gbp is each district's capital")]
    assert text.startswith(
        f"DFG capital_gbp is each district's capital over the whole horizon: GBP {capital:,.0f} "
        "in 5 district(s) was taken to cover these 26 weeks (182 days, under a year)"
    )
    assert f"give the share for these weeks (GBP {capital * 182 / 365.25:,.0f} pro rata)" in text


def test_capital_for_the_horizons_own_weeks_or_a_year_says_nothing() -> None:
    """The demo's config for 26 weeks has the pro rata share; a year of 52 weeks is a year."""
    assert money_scale_warnings(_flat_inputs(demo_planning_config(horizon_periods=26), 26)) == []
    assert money_scale_warnings(_flat_inputs(demo_planning_config(), 52)) == []


def test_a_districts_capital_of_0_is_named_as_a_zero_budget_is() -> None:
    """capital_gbp 0 (left at 0, or a figure missing) drew no warning (the thousands rule
    needs capital above 0): the district's works cases wait the whole plan, unfunded."""
    districts = [dict(d) for d in rich_config()["districts"]]
    districts[0]["capital_gbp"] = 0.0
    [text] = _warnings(districts=districts)
    assert text == (
        "a zero DFG capital: capital_gbp is GBP 0 in 1 district(s) with works cases to fund "
        "(Rugby): a plan completes none of their works. Is a figure missing? capital_gbp is "
        "the district's capital over the whole horizon in GBP (Warwickshire's 2019/20 grant "
        "was GBP 4,516,609)"
    )
