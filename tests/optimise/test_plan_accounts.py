"""Accounting identities of a published plan, recomputed from its own frames and the config
(independently of optimise/check.py, which re-evaluates the LP's rows): what a finance
officer adds up must add up."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import given

import optimise
from optimise.check import max_violation, residuals
from tests.optimise.factory import inputs_of
from tests.optimise.lp_instances import FAST, requests

GBP = 1e-4  # solver tolerance on money, GBP
CASES = 1e-6


@FAST
@given(requests())
def test_a_plans_figures_add_up(request: tuple[dict[str, Any], pd.DataFrame]) -> None:
    raw, demand = request
    inputs = inputs_of(raw, demand)
    plan = optimise.plan(inputs, simulation_runs=0)
    assert plan.status is optimise.PlanStatus.OPTIMAL, plan.message
    assert max_violation(residuals(inputs, plan)) < 1e-5
    services = {s["id"]: s for s in raw["services"]}
    districts = {d["id"]: d for d in raw["districts"]}

    # hours = cases served x hours per case; a team's hours used are its districts' hours
    hours = plan.hours
    per_case = hours["service"].map(lambda s: services[s]["hours_per_case"])
    assert np.allclose(hours["hours"], hours["cases_served"] * per_case, atol=CASES)
    used = hours.groupby(["service", "team", "period"])["hours"].sum()
    staffing = plan.staffing.set_index(["service", "team", "period"])
    assert np.allclose(staffing["hours_used"], used.reindex(staffing.index), atol=CASES)
    assert (
        staffing["hours_used"] <= staffing["staff_hours"] + staffing["agency_hours"] + 1e-6
    ).all()

    # staff hours at the in-house rate, agency hours at the rate times the premium
    rate = plan.staffing["service"].map(lambda s: services[s]["cost_per_hour_gbp"])
    premium = plan.staffing["service"].map(lambda s: services[s].get("agency_premium", 1.5))
    by_period = (
        plan.staffing.assign(
            staff=plan.staffing["staff_hours"] * rate,
            agency=plan.staffing["agency_hours"] * rate * premium,
        )
        .groupby("period")[["staff", "agency"]]
        .sum()
    )
    revenue = plan.revenue.set_index("period")
    assert np.allclose(revenue["staff_cost_gbp"], by_period["staff"], atol=GBP)
    assert np.allclose(revenue["agency_cost_gbp"], by_period["agency"], atol=GBP)

    # DFG: fee = rate x works cost per case; capital = cost (+ fee when charged to the grant)
    fees = raw["fees"]
    capital = plan.capital
    cost = capital["district"].map(lambda d: districts[d]["cost_per_adaptation_gbp"])
    fee = cost * fees["dfg_fee_rate"]
    assert np.allclose(capital["fee_income_gbp"], capital["works_completed"] * fee, atol=GBP)
    per_case_capital = cost + fee if fees["charged_to_grant"] else cost
    spent = capital["works_completed"] * per_case_capital
    assert np.allclose(capital["capital_gbp"], spent, atol=GBP)
    by_district = capital.groupby("district")["capital_gbp"].sum()
    for d, available in ((d, districts[d]["capital_gbp"]) for d in districts):
        assert by_district[d] <= available + 1e-6 * max(1.0, available)  # never pooled
    assert np.allclose(
        revenue["fee_income_gbp"], capital.groupby("period")["fee_income_gbp"].sum(), atol=GBP
    )

    # revenue: net cost = staff + agency - fees - charges, within the budget per period (or
    # summed over each financial year)
    net = revenue["staff_cost_gbp"] + revenue["agency_cost_gbp"]
    net = net - revenue["fee_income_gbp"] - revenue["charge_income_gbp"]
    assert np.allclose(revenue["net_cost_gbp"], net, atol=GBP)
    assert np.allclose(revenue["headroom_gbp"], revenue["budget_gbp"] - net, atol=GBP)
    if inputs.budget_per_financial_year:
        year = pd.Series(inputs.year_of_period, index=revenue.index)
        assert (revenue.groupby(year)["headroom_gbp"].sum() >= -GBP).all()
    else:
        assert (revenue["headroom_gbp"] >= -GBP).all()

    # waits: backlog x period days / cases served; DTOC days: hospital share of waiting days
    backlog = plan.backlog
    served = backlog["cases_served"].where(backlog["cases_served"] > 1e-9)
    wait = backlog["backlog_cases"] * inputs.period_days / served
    assert np.allclose(wait.fillna(-1.0), backlog["avg_wait_days"].fillna(-1.0))
    care = backlog[backlog["service"] != "dfg_works"]
    waiting = care.groupby(["service", "district", "period"])["backlog_cases"].sum()
    share = dict(zip(inputs.services, inputs.hospital_share, strict=True))
    dtoc = plan.dtoc_days.set_index(["service", "district", "period"])["dtoc_days"]
    expected = waiting * inputs.period_days * waiting.index.get_level_values(0).map(share)
    assert np.allclose(dtoc, expected.reindex(dtoc.index), atol=CASES)
    totals = plan.district_waits.set_index(["service", "district"])
    days = backlog.groupby(["service", "district"])["backlog_cases"].sum() * inputs.period_days
    assert np.allclose(totals["person_days"], days.reindex(totals.index), atol=CASES)

    # the baselines' plan row is the plan: the same waiting (no worst-district term here)
    # and the same staff and agency spend
    row = plan.baselines.set_index("name").loc["plan"]
    # within the solver's tolerances: the even-waits stage alone may move waiting by 1e-6
    assert abs(row["weighted_wait_days"] - plan.objective_weighted_wait_days) <= 1e-5 * max(
        1.0, plan.objective_weighted_wait_days
    )
    assert abs(row["staff_cost_gbp"] - revenue["staff_cost_gbp"].sum()) <= GBP
    assert abs(row["agency_cost_gbp"] - revenue["agency_cost_gbp"].sum()) <= GBP
