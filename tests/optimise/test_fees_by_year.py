"""Care charges and DFG fees by financial year (services[].charge_gbp_per_hour_by_year,
fees.by_year): councils change both from 1 April, so each period's charge income and each
works case's fee are at the figures of the financial year the period starts in, in the LP's
revenue rows and every revenue table; a config with one figure plans as it did; refusals
name the field."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig, config_problems
from optimise.errors import PlanInputError
from optimise.risk import funded_share
from tests.optimise.factory import START, full_config, inputs_of, rich_demand

ACROSS_APRIL = pd.Timestamp("2025-03-24")  # weeks of 24 and 31 March, then four from 7 April
APRIL = pd.Timestamp("2025-04-01")
# full_config's fee (10% of 9,000 / 8,000 / 10,000 within GBP 850 to 950: 900, 850, 950), then
# from April 12% within GBP 1,000 to 1,200 (1,080, 1,000, 1,200)
FEES = {
    "2024-25": {"dfg_fee_rate": 0.10, "min_fee_per_case_gbp": 850.0, "max_fee_per_case_gbp": 950.0},
    "2025-26": {
        "dfg_fee_rate": 0.12,
        "min_fee_per_case_gbp": 1000.0,
        "max_fee_per_case_gbp": 1200.0,
    },
}
# full_config's home care charge, GBP 20 an hour on half its hours, GBP 24 from April
CHARGES = {"2024-25": 20.0, "2025-26": 24.0}


def _flat(**extra: Any) -> dict[str, Any]:
    """full_config (charges and fee bounds) with each district completing at most one works
    case a week, so works, and their fees, fall in every week."""
    raw = full_config(**extra)
    for d in raw["districts"]:
        d["max_works_per_period"] = 1.0
    return raw


def _by_year(
    fees: dict[str, Any] | None = None, charges: dict[str, float] | None = None, **extra: Any
) -> dict[str, Any]:
    """_flat with the fees by year (FEES) and home care's charge by year (CHARGES)."""
    raw = _flat(**extra)
    raw["fees"] = {"by_year": FEES if fees is None else fees}
    domcare = raw["services"][3]
    assert domcare["id"] == "domcare"
    del domcare["charge_gbp_per_hour"]
    domcare["charge_gbp_per_hour_by_year"] = CHARGES if charges is None else charges
    return raw


def _demand() -> pd.DataFrame:
    demand = rich_demand()
    return demand.assign(ds=demand["ds"] - START + ACROSS_APRIL)


def _plan(raw: dict[str, Any]) -> optimise.PlanResult:
    inputs = inputs_of(raw, _demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.ok, result.message
    assert max_violation(residuals(inputs, result)) < 1e-6
    return result


def test_each_period_takes_the_fee_and_charge_of_the_financial_year_it_starts_in() -> None:
    """The week of 31 March counts in 2024-25 (as it does everywhere in a plan): the old fee
    and charge; the weeks from 7 April the new ones."""
    inputs = inputs_of(_by_year(), _demand())
    assert inputs.financial_years == ("2024-25", "2025-26")
    old, new = [900.0, 850.0, 950.0], [1080.0, 1000.0, 1200.0]
    assert inputs.fee_per_case_gbp.T.tolist() == [old, old, new, new, new, new]
    domcare = inputs.charge_income_gbp_per_hour[3]  # charge x paying share (0.5)
    assert domcare.tolist() == [10.0, 10.0, 12.0, 12.0, 12.0, 12.0]
    assert inputs.charge_income_gbp_per_hour[2].tolist() == [18.0 * 0.3] * 6  # reablement's one


def test_april_fee_income_is_at_the_new_rate_by_hand() -> None:
    """The week of 7 April's fee income is each district's works completed that week at its
    2025-26 fee (12% of its cost within GBP 1,000 to 1,200), and the week of 31 March's at the
    old fee, in the revenue, capital, revenue_by_budget and revenue_by_year tables alike."""
    result = _plan(_by_year())
    works = result.capital.set_index(["district", "period"])["works_completed"]
    costs = {"rugby": 9000.0, "nuneaton-and-bedworth": 8000.0, "warwick": 10000.0}
    april = {d: min(max(0.12 * c, 1000.0), 1200.0) for d, c in costs.items()}
    march = {d: min(max(0.10 * c, 850.0), 950.0) for d, c in costs.items()}
    assert april == {"rugby": 1080.0, "nuneaton-and-bedworth": 1000.0, "warwick": 1200.0}
    revenue = result.revenue.set_index("period")
    assert pd.Timestamp(revenue.loc[3, "ds"]) == pd.Timestamp("2025-04-07")
    by_hand = sum(works[d, 3] * fee for d, fee in april.items())
    assert by_hand > 0  # works are completed in April, so the fee shows
    assert revenue.loc[3, "fee_income_gbp"] == pytest.approx(by_hand, rel=1e-12)
    old = sum(works[d, 2] * fee for d, fee in march.items())
    assert revenue.loc[2, "fee_income_gbp"] == pytest.approx(old, rel=1e-12)
    capital = result.capital.set_index(["district", "period"])["fee_income_gbp"]
    for d, fee in april.items():
        assert capital[d, 3] == pytest.approx(works[d, 3] * fee, rel=1e-12)
    budgets = result.revenue_by_budget.groupby("period")["fee_income_gbp"].sum()
    assert budgets.loc[3] == pytest.approx(by_hand)
    years = result.revenue_by_year.groupby("year")["fee_income_gbp"].sum()
    later = pd.to_datetime(result.revenue["ds"]) >= APRIL
    fees = result.revenue["fee_income_gbp"]
    assert years.to_dict() == pytest.approx(
        {"2024-25": fees[~later].sum(), "2025-26": fees[later].sum()}
    )


def test_a_charge_rising_from_april_raises_aprils_charge_income() -> None:
    """Home care's hours served in a week from 7 April earn GBP 24 x 0.5 an hour, those of
    the week of 31 March GBP 20 x 0.5; reablement's one charge is unchanged."""
    result = _plan(_by_year())
    served = result.hours.groupby(["service", "team", "period"])["hours"].sum()
    rows = result.revenue_by_service.set_index(["service", "team", "period"])
    for team in ("north", "south"):
        assert served["domcare", team, 3] > 0
        april = rows.loc[("domcare", team, 3), "charge_income_gbp"]
        assert april == pytest.approx(served["domcare", team, 3] * 24.0 * 0.5, rel=1e-9)
        march = rows.loc[("domcare", team, 2), "charge_income_gbp"]
        assert march == pytest.approx(served["domcare", team, 2] * 20.0 * 0.5, rel=1e-9)
        reablement = rows.loc[("reablement", team, 3), "charge_income_gbp"]
        assert reablement == pytest.approx(served["reablement", team, 3] * 18.0 * 0.3, rel=1e-9)
    # the same hours at the old charge would earn a sixth less from April
    flat = _plan(_by_year(charges={"2024-25": 20.0, "2025-26": 20.0}))
    flat_rows = flat.revenue_by_service.set_index(["service", "team", "period"])
    flat_served = flat.hours.groupby(["service", "team", "period"])["hours"].sum()
    for t in (3, 4, 5, 6):
        raised = rows.loc[("domcare", "north", t), "charge_income_gbp"]
        per_hour = raised / served["domcare", "north", t]
        flat_per_hour = (
            flat_rows.loc[("domcare", "north", t), "charge_income_gbp"]
            / (flat_served["domcare", "north", t])
        )
        assert per_hour == pytest.approx(12.0) and flat_per_hour == pytest.approx(10.0)


def test_one_fee_and_charge_for_every_year_plans_exactly_as_the_single_figures() -> None:
    """The single figures given by year, the same each year, are the same plan to the bit."""
    flat = _plan(_flat())
    same_fee = {"dfg_fee_rate": 0.10, "min_fee_per_case_gbp": 850.0, "max_fee_per_case_gbp": 950.0}
    same = _by_year(
        fees={"2024-25": same_fee, "2025-26": same_fee},
        charges={"2024-25": 20.0, "2025-26": 20.0},
    )
    again = _plan(same)
    assert again.objective_weighted_wait_days == flat.objective_weighted_wait_days
    for table in (
        "revenue",
        "revenue_by_service",
        "revenue_by_budget",
        "revenue_by_year",
        "capital",
        "staffing",
        "baselines",
    ):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(flat, table), check_exact=True)


def test_a_fee_rising_from_april_earns_more_for_the_same_works() -> None:
    """With the works pace fixed (one case a week a district), the fee rising from April
    raises the plan's April fee income and leaves March's alone."""
    flat, raised = _plan(_flat()), _plan(_by_year())
    before = pd.to_datetime(flat.revenue["ds"]) < APRIL
    flat_fees = flat.revenue["fee_income_gbp"]
    raised_fees = raised.revenue["fee_income_gbp"]
    works = raised.capital.groupby("period")["works_completed"].sum().to_numpy()
    assert (works[~before.to_numpy()] > 0).all()
    assert (raised_fees[~before] > flat_fees[~before]).all()
    assert raised_fees[before].tolist() == pytest.approx(flat_fees[before].tolist())


COSTS = {"rugby": 9000.0, "nuneaton-and-bedworth": 8000.0, "warwick": 10000.0}
# FEES on COSTS: the week of 31 March and before at 2024-25's, from 7 April at 2025-26's
MARCH_FEES = {"rugby": 900.0, "nuneaton-and-bedworth": 850.0, "warwick": 950.0}
APRIL_FEES = {"rugby": 1080.0, "nuneaton-and-bedworth": 1000.0, "warwick": 1200.0}


def _charged_to_grant() -> dict[str, Any]:
    raw = _by_year()
    raw["fees"]["charged_to_grant"] = True
    return raw


def test_fees_by_year_charged_to_grant_make_each_periods_case_cost_its_years_fee() -> None:
    """A council that pays its agency fee out of the grant and changes the fee in April: a
    works case completed from 7 April uses its cost plus 2025-26's fee of capital, one before
    its cost plus 2024-25's."""
    inputs = inputs_of(_charged_to_grant(), _demand())
    march = [COSTS[d] + MARCH_FEES[d] for d in inputs.districts]
    april = [COSTS[d] + APRIL_FEES[d] for d in inputs.districts]
    assert inputs.cost_per_adaptation_gbp.T.tolist() == [march, march, april, april, april, april]
    fees = [[fee[d] for d in inputs.districts] for fee in (MARCH_FEES, APRIL_FEES)]
    assert inputs.fee_per_case_gbp.T.tolist() == [fees[0]] * 2 + [fees[1]] * 4


def test_a_fee_charged_to_grant_rising_from_april_spends_each_years_cost_and_fee() -> None:
    """The capital table's capital_gbp is each period's works at the district's cost plus
    its year's fee, capital_by_year sums them by year, and the fee is still revenue income at
    its year's figure (the single-rate charged_to_grant behaviour, one year at a time)."""
    result = _plan(_charged_to_grant())
    capital = result.capital.set_index(["district", "period"])
    works = capital["works_completed"]
    assert works.sum() > 0
    by_year: dict[tuple[str, str], float] = {}
    for (d, t), done in works.items():
        fee = MARCH_FEES[d] if t <= 2 else APRIL_FEES[d]
        assert capital.loc[(d, t), "capital_gbp"] == pytest.approx(done * (COSTS[d] + fee))
        assert capital.loc[(d, t), "fee_income_gbp"] == pytest.approx(done * fee)
        year = "2024-25" if t <= 2 else "2025-26"
        by_year[d, year] = by_year.get((d, year), 0.0) + done * (COSTS[d] + fee)
    table = result.capital_by_year.set_index(["district", "year"])["capital_spent_gbp"]
    assert table.to_dict() == pytest.approx(by_year)
    assert sum(works[d, t] for d in COSTS for t in (3, 4, 5, 6)) > 0  # April's fee is spent


def test_a_years_capital_buys_its_works_at_that_years_cost_and_fee_in_the_lp() -> None:
    """Each district's capital by year set to 1.5 cases at 2024-25's cost plus fee and 2.5 at
    2025-26's (works are worth buying, the backlog and one case a week allow more): the LP
    spends each year's to the penny on exactly those works, so it priced April's cases at
    April's fee (at March's it would buy 2.5 x 10,080 / 9,900 = 2.55 for Rugby)."""
    raw = _charged_to_grant()
    for d in raw["districts"]:
        del d["capital_gbp"]
        cost = COSTS[d["id"]]
        d["capital_by_year_gbp"] = {
            "2024-25": 1.5 * (cost + MARCH_FEES[d["id"]]),
            "2025-26": 2.5 * (cost + APRIL_FEES[d["id"]]),
        }
    result = _plan(raw)
    years = result.capital_by_year.set_index(["district", "year"])
    for d in COSTS:
        for year, cases in (("2024-25", 1.5), ("2025-26", 2.5)):
            row = years.loc[(d, year)]
            assert row["works_completed"] == pytest.approx(cases, rel=1e-9)
            assert row["capital_left_gbp"] == pytest.approx(0.0, abs=1e-6)


def test_a_fee_charged_to_grant_by_year_the_same_each_year_plans_as_the_single_rate() -> None:
    """The single rate charged to the grant, given by year the same each year, is the same
    plan to the bit."""
    flat = _flat()
    flat["fees"] = {**flat["fees"], "charged_to_grant": True}
    same_fee = {"dfg_fee_rate": 0.10, "min_fee_per_case_gbp": 850.0, "max_fee_per_case_gbp": 950.0}
    same = _by_year(fees={"2024-25": same_fee, "2025-26": same_fee})
    same["fees"]["charged_to_grant"] = True
    same["services"][3] = flat["services"][3]
    one, again = _plan(flat), _plan(same)
    assert again.objective_weighted_wait_days == one.objective_weighted_wait_days
    for table in ("capital", "capital_by_year", "revenue", "staffing", "baselines"):
        pd.testing.assert_frame_equal(getattr(again, table), getattr(one, table), check_exact=True)


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    return config_problems(caught.value)


@pytest.mark.parametrize(
    ("fees", "said"),
    [
        (
            {"dfg_fee_rate": 0.1, "by_year": FEES},
            "fees.dfg_fee_rate: expected exactly one of dfg_fee_rate (with min_fee_per_case_gbp "
            "and max_fee_per_case_gbp: one fee in every period) and by_year (the fee in each "
            "financial year), found both",
        ),
        (
            {"min_fee_per_case_gbp": 500.0},
            "fees.dfg_fee_rate: expected exactly one of dfg_fee_rate (with min_fee_per_case_gbp "
            "and max_fee_per_case_gbp: one fee in every period) and by_year (the fee in each "
            "financial year), found neither",
        ),
        (
            {"by_year": FEES, "min_fee_per_case_gbp": 500.0},
            "fees.min_fee_per_case_gbp: expected none beside fees.by_year (each year's "
            "min_fee_per_case_gbp goes in its entry there), found 500",
        ),
        (
            {"by_year": FEES, "max_fee_per_case_gbp": 1500.0},
            "fees.max_fee_per_case_gbp: expected none beside fees.by_year (each year's "
            "max_fee_per_case_gbp goes in its entry there), found 1500",
        ),
        (
            {"by_year": {"2024-25": FEES["2024-25"], "2025/26": FEES["2025-26"]}},
            "fees.by_year.2025/26: expected a financial year written YYYY-YY of consecutive "
            'years, such as "2026-27", found "2025/26"',
        ),
        (
            {"by_year": {"2024-25": FEES["2024-25"], "2026-27": FEES["2025-26"]}},
            "fees.by_year: expected consecutive financial years, without a gap, found none for "
            '["2025-26"] between ["2024-25", "2026-27"]',
        ),
        ({"by_year": {}}, 'fees.by_year: expected a year such as "2026-27", found {}'),
        (
            {"by_year": {"2024-25": {"dfg_fee_rate": 12}}},
            "fees.by_year.2024-25.dfg_fee_rate: expected a fraction from 0 to 1 (0.15 for 15%), "
            "found 12 (a percentage? write 0.12)",
        ),
        (
            {"by_year": {"2024-25": {"dfg_fee_rate": 0.1, "max_fee_per_case_gbp": -5}}},
            "fees.by_year.2024-25.max_fee_per_case_gbp: Input should be greater than or equal "
            "to 0, found -5",
        ),
        (
            {
                "by_year": {
                    "2024-25": {
                        "dfg_fee_rate": 0.1,
                        "min_fee_per_case_gbp": 900.0,
                        "max_fee_per_case_gbp": 800.0,
                    }
                }
            },
            "fees.by_year.2024-25.min_fee_per_case_gbp: expected <= max_fee_per_case_gbp "
            "(800.0), found 900.0",
        ),
        (
            {"by_year": {"2024-25": {"rate": 0.1}}},
            "fees.by_year.2024-25.dfg_fee_rate: expected a value (it is required), found nothing; "
            "fees.by_year.2024-25.rate: Extra inputs are not permitted, found 0.1",
        ),
    ],
    ids=[
        "both",
        "neither",
        "min-beside",
        "max-beside",
        "label",
        "gap",
        "empty",
        "percent",
        "negative",
        "min-above-max",
        "unknown-field",
    ],
)
def test_fees_by_year_are_refused_at_the_field(fees: dict[str, Any], said: str) -> None:
    raw = _flat()
    raw["fees"] = fees
    assert _refusal(raw) == said


@pytest.mark.parametrize(
    ("change", "said"),
    [
        (
            {"charge_gbp_per_hour": 20.0, "charge_gbp_per_hour_by_year": CHARGES},
            "services.3.charge_gbp_per_hour: expected one of charge_gbp_per_hour (GBP per hour "
            "in every period) and charge_gbp_per_hour_by_year (GBP per hour in each financial "
            "year), not both, found both",
        ),
        (
            {"charge_gbp_per_hour_by_year": {"2024-25": 20.0, "2025-26": -1.0}},
            "services.3.charge_gbp_per_hour_by_year.2025-26: expected GBP from 0 to "
            "100,000,000,000, found -1",
        ),
        (
            {"charge_gbp_per_hour_by_year": {"2024-25": "20"}},
            'services.3.charge_gbp_per_hour_by_year.2024-25: expected a number, found "20" (text)',
        ),
        (
            {"charge_gbp_per_hour_by_year": CHARGES, "charge_paying_share": 0.0},
            "services.3.charge_paying_share: expected a fraction above 0 (to 1) paying it "
            "because charge_gbp_per_hour_by_year charges, found 0 (the default: no one pays the "
            "charge)",
        ),
        (
            {"charge_gbp_per_hour_by_year": {"2024-25": 0.0, "2025-26": 0.0}},
            "services.3.charge_gbp_per_hour_by_year: expected a charge above 0 GBP per hour "
            "because charge_paying_share is 0.5, found 0 in every year",
        ),
    ],
    ids=["both", "negative", "text", "no-share", "no-charge"],
)
def test_a_charge_by_year_is_refused_at_the_field(change: dict[str, Any], said: str) -> None:
    raw = _flat()
    domcare = raw["services"][3]
    del domcare["charge_gbp_per_hour"]
    domcare.update(change)
    assert _refusal(raw) == said


def test_a_year_the_plans_periods_start_in_but_not_given_is_refused_naming_the_field() -> None:
    """2025-26, which the weeks from 7 April start in, left out of the fees or a charge; a
    year the plan never reaches is left out of the arrays."""
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_by_year(fees={"2024-25": FEES["2024-25"]}), _demand())
    assert str(caught.value) == (
        "fees.by_year: expected a fee for every financial year the plan's periods start in "
        "['2024-25', '2025-26'], found none for [\"2025-26\"]"
    )
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_by_year(charges={"2025-26": 24.0}), _demand())
    assert str(caught.value) == (
        "services[domcare].charge_gbp_per_hour_by_year: expected a charge for every financial "
        "year the plan's periods start in ['2024-25', '2025-26'], found none for "
        '["2024-25"]'
    )
    wider = _by_year(
        fees={"2023-24": {"dfg_fee_rate": 1.0}, **FEES, "2026-27": {"dfg_fee_rate": 1.0}},
        charges={"2023-24": 99.0, **CHARGES, "2026-27": 99.0},
    )
    inputs = inputs_of(wider, _demand())
    assert inputs.charge_income_gbp_per_hour[3].tolist() == [10.0, 10.0, 12.0, 12.0, 12.0, 12.0]
    assert np.array_equal(
        inputs.fee_per_case_gbp, inputs_of(_by_year(), _demand()).fee_per_case_gbp
    )


def test_contingency_hours_served_earn_their_periods_charge_in_the_funded_share() -> None:
    """risk_periods' funded share nets each period's charge income off the cost of extra
    hours: an idle home care hour (already paid for) served earns GBP 10 before April and
    GBP 12 from it, towards a bought hour costing GBP 30 less that charge, so with no budget
    left 10 / 20 of the bought hours are funded in March and 12 / 18 in April."""
    inputs = inputs_of(_by_year(), _demand())
    shape = (len(inputs.services), len(inputs.teams), len(inputs.period_start))
    one = np.zeros(shape)
    one[3] = 1.0  # home care, each team and week
    share = funded_share(inputs, 30.0 * one, one, one, np.zeros((1, shape[2])))
    assert share[0].tolist() == pytest.approx([10 / 20, 10 / 20] + [12 / 18] * 4)


def test_a_null_single_charge_beside_a_charge_by_year_is_taken_as_a_null_rate_is() -> None:
    """A form sending the by-year form with the single figure null (as cost_per_hour_gbp:
    null beside cost_per_hour_gbp_by_year is taken) was refused: "a valid number, found
    null". null is no single charge, as 0 is; without a by-year charge, no charge at all."""
    raw = _by_year()
    domcare = next(s for s in raw["services"] if s["id"] == "domcare")
    domcare["charge_gbp_per_hour"] = None
    config = PlanningConfig.model_validate(raw)
    [read] = [s for s in config.services if s.id == "domcare"]
    assert (read.charge_gbp_per_hour, read.charge_gbp_per_hour_by_year) == (0.0, CHARGES)
    plain = _flat()
    for service in plain["services"]:
        service["charge_gbp_per_hour"] = None
        service["charge_paying_share"] = 0.0
    assert all(s.charge_gbp_per_hour == 0.0 for s in PlanningConfig.model_validate(plain).services)
