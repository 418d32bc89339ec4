"""A service's hourly cost by financial year (services[].cost_per_hour_gbp_by_year): a pay
award or a providers' fee uplift from 1 April costs each period's hours at the rate of the
financial year the period starts in, in the LP, its revenue tables, baselines and risk
tables; a config with one rate plans as it did; its refusals name the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.baselines import carried_forward_hours, keep_staffing_limits, proportional_hours
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig, config_problems
from optimise.elastic import penalties
from optimise.errors import PlanInputError
from optimise.result import PlanResult
from optimise.scale import money_scale_warnings
from tests.optimise.factory import START, demand_frame, hand_config, inputs_of, rich_config

ACROSS_APRIL = pd.Timestamp("2025-03-24")  # weeks of 24 and 31 March, then 7 and 14 April
APRIL = pd.Timestamp("2025-04-01")
# OT's rate: GBP 10 an hour to 31 March 2025, GBP 20 from 1 April (hand_config's is GBP 10)
RAISED = {"2024-25": 10.0, "2025-26": 20.0}


def _by_year(rates: dict[str, Any] | None = None, periods: int = 4, **extra: Any) -> dict[str, Any]:
    """The hand instance over `periods` weeks from 24 March 2025, OT's rate by year."""
    raw = hand_config(horizon_periods=periods, **extra)
    ot = raw["services"][0]
    del ot["cost_per_hour_gbp"]
    ot["cost_per_hour_gbp_by_year"] = dict(RAISED if rates is None else rates)
    return raw


def _demand(periods: int = 4, ot: float = 12.0) -> pd.DataFrame:
    """OT at 12 cases (24 hours) a week and HAO at 8: more than GBP 200 a week buys."""
    frame = demand_frame({("ot", "rugby"): [ot] * periods, ("hao", "rugby"): [8.0] * periods})
    return frame.assign(ds=frame["ds"] - START + ACROSS_APRIL)


def _flat(periods: int = 4) -> dict[str, Any]:
    return hand_config(horizon_periods=periods)


def _ot_rows(frame: pd.DataFrame, result: PlanResult) -> pd.DataFrame:
    """`frame`'s OT rows with each period's start as `ds`."""
    starts = dict(enumerate(pd.to_datetime(result.revenue["ds"]), start=1))
    rows = frame[frame["service"] == "ot"]
    return rows.assign(ds=rows["period"].map(starts))


def test_each_period_takes_the_rate_of_the_financial_year_it_starts_in() -> None:
    """The week of 31 March reaches 6 days into 2025-26 but counts in 2024-25, as it does in
    the revenue_by_year table: GBP 10, then GBP 20 for the weeks of 7 and 14 April. The agency
    rate is agency_premium (1.5) times each period's."""
    inputs = inputs_of(_by_year(), _demand())
    assert inputs.financial_years == ("2024-25", "2025-26")
    assert inputs.cost_per_hour_gbp.tolist() == [[10.0, 10.0, 20.0, 20.0], [10.0] * 4]
    assert inputs.agency_cost_per_hour_gbp.tolist() == [[15.0, 15.0, 30.0, 30.0], [15.0] * 4]


def test_the_revenue_tables_cost_the_april_weeks_at_the_new_rate() -> None:
    """By hand: the week of 7 April's staff cost is its OT hours at GBP 20 and its HAO hours
    at GBP 10, in the revenue, revenue_by_service, revenue_by_budget and revenue_by_year
    tables alike, and the plan keeps its GBP 200 a week."""
    inputs = inputs_of(_by_year(), _demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.ok, result.message
    assert max_violation(residuals(inputs, result)) < 1e-6
    staffing = result.staffing.set_index(["service", "period"])["staff_hours"]
    april = result.revenue.set_index("period").loc[3]
    assert pd.Timestamp(april["ds"]) == pd.Timestamp("2025-04-07")
    by_hand = staffing["ot", 3] * 20.0 + staffing["hao", 3] * 10.0
    assert april["staff_cost_gbp"] == pytest.approx(by_hand, rel=1e-12)
    assert april["staff_cost_gbp"] <= 200.0 + 1e-6
    march = result.revenue.set_index("period").loc[2]
    assert march["staff_cost_gbp"] == pytest.approx(
        staffing["ot", 2] * 10.0 + staffing["hao", 2] * 10.0, rel=1e-12
    )
    services = result.revenue_by_service.set_index(["service", "period"])
    assert services.loc[("ot", 3), "staff_cost_gbp"] == pytest.approx(staffing["ot", 3] * 20.0)
    assert services.loc[("ot", 2), "staff_cost_gbp"] == pytest.approx(staffing["ot", 2] * 10.0)
    budgets = result.revenue_by_budget.set_index("period")["staff_cost_gbp"]
    assert budgets.loc[3] == pytest.approx(by_hand)
    years = result.revenue_by_year.set_index("year")["staff_cost_gbp"]
    cost = result.revenue.groupby(pd.to_datetime(result.revenue["ds"]) >= APRIL)["staff_cost_gbp"]
    assert years.to_dict() == pytest.approx(
        {"2024-25": cost.sum()[False], "2025-26": cost.sum()[True]}
    )


def test_with_a_binding_budget_fewer_hours_are_bought_after_april_at_the_higher_rate() -> None:
    """GBP 200 a week buys HAO's 5 hours (its ceiling, worth more a pound) and OT's rest: 15
    hours at GBP 10, 7.5 at GBP 20. Before April the two plans buy the same."""
    flat = optimise.plan(inputs_of(_flat(), _demand()), simulation_runs=0)
    raised = optimise.plan(inputs_of(_by_year(), _demand()), simulation_runs=0)
    assert flat.ok and raised.ok
    flat_ot = _ot_rows(flat.staffing, flat).set_index("ds")["staff_hours"]
    raised_ot = _ot_rows(raised.staffing, raised).set_index("ds")["staff_hours"]
    before, after = flat_ot.index < APRIL, flat_ot.index >= APRIL
    assert raised_ot[before].tolist() == pytest.approx(flat_ot[before].tolist(), abs=1e-6)
    assert flat_ot[after].tolist() == pytest.approx([15.0, 15.0], abs=1e-6)
    assert raised_ot[after].tolist() == pytest.approx([7.5, 7.5], abs=1e-6)
    # the budget binds in every week of both plans: the same money, fewer hours
    for result in (flat, raised):
        assert result.revenue["staff_cost_gbp"].tolist() == pytest.approx([200.0] * 4)
    assert raised.objective_weighted_wait_days > flat.objective_weighted_wait_days


def test_one_rate_for_every_year_plans_exactly_as_cost_per_hour_gbp() -> None:
    """The same rate given by year is the same plan, to the bit, as the single figure."""
    flat = optimise.plan(inputs_of(_flat(), _demand()), simulation_runs=0)
    same = _by_year({"2024-25": 10.0, "2025-26": 10.0})
    again = optimise.plan(inputs_of(same, _demand()), simulation_runs=0)
    assert again.objective_weighted_wait_days == flat.objective_weighted_wait_days
    for table in ("revenue", "revenue_by_service", "revenue_by_year", "staffing", "baselines"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(flat, table))


def test_a_financial_year_basis_budget_pays_each_years_hours_at_its_rate() -> None:
    """Under revenue_budget_basis financial_year, 2025-26's two weeks share GBP 400: at GBP 20
    an OT hour they buy half the OT hours the flat rate does, whichever week they go in."""
    basis = {"revenue_budget_basis": "financial_year"}
    flat = optimise.plan(inputs_of(_flat() | basis, _demand()), simulation_runs=0)
    raised = optimise.plan(inputs_of(_by_year(**basis), _demand()), simulation_runs=0)
    flat_ot = _ot_rows(flat.staffing, flat).set_index("ds")["staff_hours"]
    raised_ot = _ot_rows(raised.staffing, raised).set_index("ds")["staff_hours"]
    after = flat_ot.index >= APRIL
    assert raised_ot[after].sum() == pytest.approx(flat_ot[after].sum() / 2, abs=1e-6)
    years = raised.revenue_by_year.set_index("year")
    assert years.loc["2025-26", "staff_cost_gbp"] == pytest.approx(400.0)


def test_the_baselines_spend_the_plans_money_at_each_periods_rate() -> None:
    """A baseline at the plan's staff spend buys half the OT hours a pound after April; its
    staff cost is its hours at each period's rate, within each week's money."""
    inputs = inputs_of(_by_year(), _demand())
    result = optimise.plan(inputs, simulation_runs=0)
    money = result.revenue_by_budget["staff_cost_gbp"].to_numpy()[None]
    for name, rule in (("proportional", proportional_hours), ("carried", carried_forward_hours)):
        hours = rule(inputs, money)
        cost = np.einsum("sdt,st->t", hours, inputs.cost_per_hour_gbp)
        assert (cost <= money[0] + 1e-6).all(), name
        flat_cost = np.einsum("sdt,s->t", hours, np.full(2, 10.0))
        assert (flat_cost[2:] < cost[2:]).all(), name  # April's OT hours cost twice as much
    rows = result.baselines.set_index("name")
    assert rows.loc["plan", "staff_cost_gbp"] == pytest.approx(
        result.revenue["staff_cost_gbp"].sum()
    )


def test_the_staffing_walk_cuts_april_hours_its_money_no_longer_pays_for() -> None:
    """OT's 15 hours and HAO's 5 a week cost GBP 200 at March's rates and GBP 350 at April's:
    kept within each week's GBP 200, April's hours are cut by the same factor, 200 / 350."""
    inputs = inputs_of(_by_year(), _demand())
    rule = np.zeros((2, 1, 4))
    rule[0], rule[1] = 15.0, 5.0
    hours = keep_staffing_limits(inputs, rule, np.full((1, 4), 200.0))
    np.testing.assert_allclose(hours[:, :, :2], rule[:, :, :2], rtol=1e-9)
    np.testing.assert_allclose(hours[:, :, 2:], rule[:, :, 2:] * 200 / 350, rtol=1e-6)


def test_the_risk_tables_price_april_contingency_hours_at_the_new_rate() -> None:
    """With budget to spare and OT's ceiling above its hours, a high year's extra OT hours
    are bought within the limits, each priced at its week's rate."""
    raw = _by_year(revenue_budget_gbp_per_period=5000.0)
    periods = 4
    cases = {("ot", "rugby"): [5.0] * periods, ("hao", "rugby"): [2.0] * periods}
    factors = {key: [1.5] * periods for key in cases}
    low = {key: [0.9] * periods for key in cases}
    demand = demand_frame(cases, low_factor=low, high_factor=factors)
    demand = demand.assign(ds=demand["ds"] - START + ACROSS_APRIL)
    result = optimise.plan(inputs_of(raw, demand), simulation_runs=0)
    weeks = result.risk_periods[result.risk_periods["service"] == "ot"].set_index("period")
    bought = weeks["extra_hours_within_limits"]
    assert (bought > 0).all()
    rate = pd.Series([10.0, 10.0, 20.0, 20.0], index=weeks.index)
    assert weeks["contingency_cost_gbp"].tolist() == pytest.approx((bought * rate).tolist())


def test_the_money_scale_warnings_and_penalties_see_every_periods_rate() -> None:
    """A budget in thousands is judged against its teams' floors at the median week's rate,
    as the budget is by its median week; the slack penalties take the dearest year's rate."""
    raw = _by_year({"2024-25": 10.0, "2025-26": 30.0}, revenue_budget_gbp_per_period=1.0)
    raw["teams"][0]["hours"]["ot"]["min_per_period"] = 50.0
    inputs = inputs_of(raw, _demand())
    [text] = money_scale_warnings(inputs)
    # floors: OT 50 hours at the median week's GBP 10 (10, 10, 30, 30: the lower middle one)
    assert "what its teams' staff cost at their minimum hours (GBP 500 a week)" in text
    later = inputs_of({**raw, "horizon_periods": 5}, _demand(5))
    assert later.cost_per_hour_gbp[0].tolist() == [10.0, 10.0, 30.0, 30.0, 30.0]
    [text] = money_scale_warnings(later)
    assert "(GBP 1,500 a week)" in text  # the median of 5 weeks is an April one
    # the penalties' dearest agency hour is 2025-26's, as a flat GBP 30 an OT hour gives
    flat = _flat()
    flat["services"][0]["cost_per_hour_gbp"] = 30.0
    assert penalties(inputs_of(_by_year({"2024-25": 10.0, "2025-26": 30.0}), _demand())) == (
        penalties(inputs_of(flat, _demand()))
    )


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    return config_problems(caught.value)


def test_a_rate_given_both_ways_or_neither_is_refused_naming_the_service() -> None:
    both = _by_year()
    both["services"][0]["cost_per_hour_gbp"] = 10.0
    said = (
        "services.0.cost_per_hour_gbp: expected exactly one of cost_per_hour_gbp (GBP per hour "
        "in every period) and cost_per_hour_gbp_by_year (GBP per hour in each financial year), "
        "found {}"
    )
    assert _refusal(both) == said.format("both")
    neither = hand_config()
    del neither["services"][1]["cost_per_hour_gbp"]
    assert _refusal(neither) == said.format("neither").replace("services.0", "services.1")


@pytest.mark.parametrize(
    ("rates", "said"),
    [
        (
            {"2025/26": 20.0},
            "services.0.cost_per_hour_gbp_by_year.2025/26: expected a financial year written "
            'YYYY-YY of consecutive years, such as "2026-27", found "2025/26"',
        ),
        (
            {"2024-25": 10.0, "2025-26": -20.0},
            "services.0.cost_per_hour_gbp_by_year.2025-26: expected GBP from 0 to "
            "100,000,000,000, found -20",
        ),
        (
            {"2024-25": 10.0, "2026-27": 20.0},
            "services.0.cost_per_hour_gbp_by_year: expected consecutive financial years, without "
            'a gap, found none for ["2025-26"] between ["2024-25", "2026-27"]',
        ),
        ({}, 'services.0.cost_per_hour_gbp_by_year: expected a year such as "2026-27", found {}'),
        (
            {"2024-25": "10"},
            'services.0.cost_per_hour_gbp_by_year.2024-25: expected a number, found "10" (text)',
        ),
        (
            {"2024-25": True},
            "services.0.cost_per_hour_gbp_by_year.2024-25: expected a number, found true",
        ),
    ],
    ids=["not-yyyy-yy", "negative", "gap", "empty", "text", "boolean"],
)
def test_a_years_label_or_rate_is_refused_as_a_budgets_by_year_are(
    rates: dict[str, Any], said: str
) -> None:
    assert _refusal(_by_year(rates)) == said


def test_a_year_the_plans_periods_start_in_but_is_not_given_is_refused_naming_the_service() -> None:
    """The weeks of 7 and 14 April start in 2025-26; one a plan never reaches is left out."""
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_by_year({"2024-25": 10.0}), _demand())
    assert str(caught.value) == (
        "services[ot].cost_per_hour_gbp_by_year: expected a rate for every financial year the "
        "plan's periods start in ['2024-25', '2025-26'], found none for [\"2025-26\"]"
    )
    # two weeks from 24 March start in 2024-25 alone, though the second reaches April
    two = inputs_of(_by_year({"2024-25": 10.0}, periods=2), _demand(2))
    assert two.cost_per_hour_gbp[0].tolist() == [10.0, 10.0]
    wider = inputs_of(_by_year({"2023-24": 1.0, **RAISED, "2026-27": 99.0}), _demand())
    assert wider.cost_per_hour_gbp[0].tolist() == [10.0, 10.0, 20.0, 20.0]


def test_a_rich_config_with_every_services_rate_by_year_plans_within_its_rows() -> None:
    """Four services, two teams, agency, fees: a check of the plan against its own LP's rows
    with every rate rising from April."""
    raw = rich_config()
    for s in raw["services"]:
        rate = s.pop("cost_per_hour_gbp")
        s["cost_per_hour_gbp_by_year"] = {"2024-25": rate, "2025-26": rate * 1.05}
        s["agency_premium"] = 1.4
    for team in raw["teams"]:
        team["hours"]["domcare"]["agency_max_per_period"] = 40.0
    demand = pd.concat(
        [
            demand_frame(
                {
                    (s, d): [v] * 6
                    for s, v in (("ot", 8.0), ("hao", 6.0), ("reablement", 3.0), ("domcare", 9.0))
                    for d in ("rugby", "nuneaton-and-bedworth", "warwick")
                }
            )
        ]
    )
    demand = demand.assign(ds=demand["ds"] - START + ACROSS_APRIL)
    inputs = inputs_of(raw, demand)
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.ok, result.message
    assert max_violation(residuals(inputs, result)) < 1e-6
    rows = result.revenue_by_service
    starts = dict(enumerate(pd.to_datetime(result.revenue["ds"]), start=1))
    later = rows["period"].map(starts) >= APRIL
    rates = {s["id"]: s["cost_per_hour_gbp_by_year"] for s in raw["services"]}
    expected = [
        hours * rates[service]["2025-26" if after else "2024-25"]
        for hours, service, after in zip(rows["staff_hours"], rows["service"], later, strict=True)
    ]
    assert rows["staff_cost_gbp"].tolist() == pytest.approx(expected)
    agency = [
        hours * 1.4 * rates[service]["2025-26" if after else "2024-25"]
        for hours, service, after in zip(rows["agency_hours"], rows["service"], later, strict=True)
    ]
    assert rows["agency_cost_gbp"].tolist() == pytest.approx(agency)
