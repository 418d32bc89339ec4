"""A what-if made with POST /v1/plans comes back set against the active config's latest plan,
as a sweep's rows are: its figures, each one's change from that plan, and the config fields it
changed, to the leaf.

The expected figures are reckoned here from each plan's own tables and its config (hours
times each service's rates, the capital table's fees, the budget per period times the
periods), not with `planning.plan_figures`, which the route uses: a wrong formula there
must fail these tests, not pass them twice."""

from __future__ import annotations

import copy
import csv
import io
import json
from typing import Any

import httpx
import pytest

from homeward import planning
from optimise.config import PlanningConfig


def _rows(plan: dict[str, Any], table: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = plan["result"][table]
    assert rows, f"plan {plan['id']} has no {table} rows"
    return rows


def _expected(plan: dict[str, Any], body: dict[str, Any]) -> dict[str, float]:
    """A plan's headline figures from its staffing, hours, capital and dtoc tables and the
    config it was made with: costs are hours times each service's rate (agency at its
    premium), charge income hours served times charge times paying share, and the budget
    each period's pooled and own budgets times the periods, whatever the budget's basis."""
    body = PlanningConfig.model_validate(body).model_dump()  # defaults filled in
    services = {s["id"]: s for s in body["services"]}
    staffing = _rows(plan, "staffing")
    staff = sum(r["staff_hours"] * _rate(services[r["service"]], r["ds"]) for r in staffing)
    agency = sum(
        r["agency_hours"]
        * _rate(services[r["service"]], r["ds"])
        * services[r["service"]]["agency_premium"]
        for r in staffing
    )
    charge = sum(
        r["hours"]
        * _charge(services[r["service"]], r["ds"])
        * services[r["service"]]["charge_paying_share"]
        for r in _rows(plan, "hours")
    )
    fee = sum(r["fee_income_gbp"] for r in _rows(plan, "capital"))
    own = sum(t.get("revenue_budget_gbp_per_period") or 0.0 for t in body["teams"])
    budget = ((body.get("revenue_budget_gbp_per_period") or 0.0) + own) * plan["result"]["periods"]
    net = staff + agency - fee - charge
    return {
        "weighted_wait_days": plan["objective_weighted_wait_days"],
        "fee_income_gbp": fee,
        "charge_income_gbp": charge,
        "staff_cost_gbp": staff,
        "agency_cost_gbp": agency,
        "revenue_cost_gbp": staff + agency,
        "revenue_budget_gbp": budget,
        "net_revenue_cost_gbp": net,
        "unspent_budget_gbp": budget - net,
        "staff_hours": sum(r["staff_hours"] for r in staffing),
        "agency_hours": sum(r["agency_hours"] for r in staffing),
        "works_completed": sum(r["works_completed"] for r in _rows(plan, "capital")),
        "dtoc_days": sum(r["dtoc_days"] for r in _rows(plan, "dtoc_days")),
        # the queue simulation's own total: its rows are person-days, not delayed days
        "simulated_dtoc_days": plan["result"]["simulated_dtoc_days"],
    }


def _rate(service: dict[str, Any], ds: str) -> float:
    """A service's cost of an hour in the period starting `ds`: its cost_per_hour_gbp, or
    its cost_per_hour_gbp_by_year of the financial year (from 1 April) the period starts in."""
    by_year = service.get("cost_per_hour_gbp_by_year")
    if by_year is None:
        return float(service["cost_per_hour_gbp"])
    return float(by_year[_year(ds)])


def _charge(service: dict[str, Any], ds: str) -> float:
    """A service's charge for an hour in the period starting `ds`, as _rate its cost."""
    by_year = service.get("charge_gbp_per_hour_by_year")
    if by_year is None:
        return float(service["charge_gbp_per_hour"])
    return float(by_year[_year(ds)])


def _year(ds: str) -> str:
    """The financial year (from 1 April) a period starting `ds` counts in, as "2025-26"."""
    year, month = int(ds[:4]), int(ds[5:7])
    start = year if month >= 4 else year - 1
    return f"{start}-{(start + 1) % 100:02d}"


def _assert_compared(
    comparison: dict[str, Any], now: dict[str, float], then: dict[str, float]
) -> None:
    assert set(now) == set(planning.SWEEP_FIGURES)  # every figure the comparison gives
    for name, value in now.items():
        money = name.endswith("_gbp")  # to the penny: within half a penny, a change a penny
        assert comparison[name] == pytest.approx(value, rel=1e-9, abs=0.005 if money else 1e-6)
        assert comparison[f"{name}_change"] == pytest.approx(
            value - then[name], rel=1e-6, abs=0.01 if money else 1e-4
        ), name
    assert comparison["not_comparable"] is None


def _latest(client: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
    """The active config's latest plan and the config body it was made with."""
    latest = client.get("/v1/plans/latest").json()
    config = client.get(f"/v1/configs/{latest['config_id']}").json()
    return latest, config["body"]


def _what_if(client: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    made = client.post("/v1/plans", json={"config": body})
    assert made.status_code == 201, made.text
    plan: dict[str, Any] = made.json()
    return plan


def test_a_what_if_is_compared_with_the_active_configs_latest_plan(
    finance: httpx.Client,
) -> None:
    latest, latest_body = _latest(finance)
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    [domcare] = [s for s in body["services"] if s["id"] == "domcare"]
    domcare["cost_per_hour_gbp"] = 25.0
    domcare["charge_gbp_per_hour"], domcare["charge_paying_share"] = 5.0, 0.5
    body["fees"]["dfg_fee_rate"] = 0.2
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    assert comparison["compared_with_plan_id"] == latest["id"]
    assert comparison["plan_id"] == plan["id"] and comparison["dfg_fee_rate"] == 0.2
    assert comparison["config_changes"] == [
        f"fees.dfg_fee_rate: {latest_body['fees']['dfg_fee_rate']} -> 0.2",
        "services[domcare].charge_gbp_per_hour: 0 -> 5",
        "services[domcare].charge_paying_share: 0 -> 0.5",
        "services[domcare].cost_per_hour_gbp: 23 -> 25",
    ]
    now, then = _expected(plan, body), _expected(latest, latest_body)
    _assert_compared(comparison, now, then)
    assert now["charge_income_gbp"] > 0 and then["charge_income_gbp"] == 0
    assert comparison["fee_income_gbp_change"] > 0  # a higher fee on the same works
    # the plan stored is the plan alone, as before
    assert "comparison" not in finance.get(f"/v1/plans/{plan['id']}").json()
    # and its comparison can be had again, for any two stored plans
    again = finance.get(f"/v1/plans/{plan['id']}/compare/{latest['id']}")
    assert again.status_code == 200, again.text
    assert again.json() == comparison


def _by_service(plan: dict[str, Any], body: dict[str, Any]) -> dict[str, tuple[float, float]]:
    """{service: (hours, net cost)} of a plan, in its config's order, from its staffing and
    hours tables and its config's rates: staff and agency hours; staff hours at the service's
    rate and agency hours at its premium, less care charges on the hours served (not from
    revenue_by_service, which the route sums)."""
    body = PlanningConfig.model_validate(body).model_dump()  # defaults filled in
    out = {}
    for s in body["services"]:
        staffing = [r for r in _rows(plan, "staffing") if r["service"] == s["id"]]
        served = sum(r["hours"] for r in _rows(plan, "hours") if r["service"] == s["id"])
        rate = s["cost_per_hour_gbp"]
        paid = sum(
            r["staff_hours"] * rate + r["agency_hours"] * rate * s["agency_premium"]
            for r in staffing
        )
        charged = served * s["charge_gbp_per_hour"] * s["charge_paying_share"]
        hours = sum(r["staff_hours"] + r["agency_hours"] for r in staffing)
        out[s["id"]] = (hours, paid - charged)
    return out


def test_a_what_if_changing_only_home_cares_rate_shows_it_in_home_cares_row(
    finance: httpx.Client,
) -> None:
    """Per service, hours and net cost in each plan and the change, in config order, each
    reckoned here from the plans' own staffing and hours tables: a dearer commissioned rate
    for home care (domcare) moves home care's net cost, and the services' net costs less DFG
    fee income are the totals' net cost."""
    latest, latest_body = _latest(finance)
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    [domcare] = [s for s in body["services"] if s["id"] == "domcare"]
    domcare["cost_per_hour_gbp"] = 30.0
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    assert comparison["config_changes"] == ["services[domcare].cost_per_hour_gbp: 23 -> 30"]
    now, then = _by_service(plan, body), _by_service(latest, latest_body)
    rows = comparison["by_service"]
    assert [r["service"] for r in rows] == [s["id"] for s in body["services"]]
    for r in rows:
        (hours, net), (hours_then, net_then) = now[r["service"]], then[r["service"]]
        assert r["hours"] == pytest.approx(hours, rel=1e-9, abs=1e-6), r
        assert r["compared_hours"] == pytest.approx(hours_then, rel=1e-9, abs=1e-6), r
        assert r["hours_change"] == pytest.approx(hours - hours_then, rel=1e-6, abs=1e-4), r
        # money to the penny, as the totals' (half a penny each way, a change a penny)
        assert r["net_cost_gbp"] == pytest.approx(net, abs=0.005), r
        assert r["compared_net_cost_gbp"] == pytest.approx(net_then, abs=0.005), r
        assert r["net_cost_gbp_change"] == pytest.approx(net - net_then, abs=0.01), r
        assert r["net_cost_gbp"] == round(r["net_cost_gbp"], 2), r
    [home] = [r for r in rows if r["service"] == "domcare"]
    assert abs(home["net_cost_gbp_change"]) > 1.0  # the rate moved home care's cost
    net = sum(r["net_cost_gbp"] for r in rows) - comparison["fee_income_gbp"]
    assert net == pytest.approx(comparison["net_revenue_cost_gbp"], abs=0.01 * len(rows))
    again = finance.get(f"/v1/plans/{plan['id']}/compare/{latest['id']}").json()
    assert again["by_service"] == rows


def test_a_financial_year_budget_is_reckoned_as_the_periods_budgets_summed(
    finance: httpx.Client,
) -> None:
    """Under `revenue_budget_basis: financial_year` the budget is still given per period: the
    unspent budget is the periods' budgets summed less the net cost, and the financial years'
    rows add up to it, so net cost and unspent budget add up to the budget on either basis."""
    latest, latest_body = _latest(finance)
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    body["revenue_budget_basis"] = "financial_year"
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    assert comparison["config_changes"] == ["revenue_budget_basis: period -> financial_year"]
    now = _expected(plan, body)
    _assert_compared(comparison, now, _expected(latest, latest_body))
    years = _rows(plan, "revenue_by_year")
    assert sum(r["periods"] for r in years) == plan["result"]["periods"]
    headroom = sum(r["headroom_gbp"] for r in years)
    assert now["unspent_budget_gbp"] == pytest.approx(headroom, rel=1e-9, abs=1e-3)
    budget = sum(r["budget_gbp"] for r in years)
    assert comparison["net_revenue_cost_gbp"] + comparison["unspent_budget_gbp"] == (
        pytest.approx(budget, rel=1e-9)
    )


def test_a_what_if_that_raises_the_budget_adds_up_on_its_own(finance: httpx.Client) -> None:
    """The budget's rise is a figure of the comparison, not only a line of config_changes
    (GBP 108,595 -> 130,000 a week on the demo left unspent +1,499,399.62 beside net cost
    -386,339.62, and nothing said the budget rose GBP 1,113,060): net cost's change and the
    unspent budget's add up to it. The summary gives the budget too."""
    latest, latest_body = _latest(finance)
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    before = body["revenue_budget_gbp_per_period"]
    body["revenue_budget_gbp_per_period"] = before * 1.2
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    _assert_compared(comparison, _expected(plan, body), _expected(latest, latest_body))
    rise = before * 0.2 * plan["result"]["periods"]
    assert comparison["revenue_budget_gbp_change"] == pytest.approx(rise, rel=1e-9)
    assert comparison["net_revenue_cost_gbp_change"] + comparison[
        "unspent_budget_gbp_change"
    ] == pytest.approx(rise, rel=1e-9)
    summary = finance.get(f"/v1/plans/{plan['id']}/summary").json()
    [budget] = [r for r in summary if r["figure"] == "revenue_budget_gbp"]
    assert budget["value"] == comparison["revenue_budget_gbp"]
    assert budget["unit"] == "GBP"
    # and each financial year's, from the plan's revenue_by_year rows summed by hand (the test
    # demo's 13 weeks from January: the last of one year, a budget per period)
    figures = {r["figure"]: r["value"] for r in summary}
    [year] = {r["year"] for r in _rows(plan, "revenue_by_year")}
    assert figures[f"periods[{year}]"] == plan["result"]["periods"]
    assert figures[f"part_year[{year}]"] is True
    # the what-if's own rows serve the whole year's weeks the summary compares them with
    assert {r["year_periods"] for r in _rows(plan, "revenue_by_year")} == {52}
    assert figures[f"revenue_budget_gbp[{year}]"] == pytest.approx(budget["value"], abs=0.005)
    net = sum(r["net_cost_gbp"] for r in _rows(plan, "revenue_by_year"))  # money to the penny:
    assert figures[f"net_revenue_cost_gbp[{year}]"] == pytest.approx(net, abs=0.005)
    assert figures[f"unspent_budget_gbp[{year}]"] == pytest.approx(budget["value"] - net, abs=0.01)
    assert f"year_revenue_budget_gbp[{year}]" not in figures
    # summary.csv gives them as its JSON does
    answer = finance.get(f"/v1/plans/{plan['id']}/summary.csv")
    assert answer.status_code == 200, answer.text
    cells = {r["figure"]: r["value"] for r in csv.DictReader(io.StringIO(answer.text))}
    # (CSV money to the penny, as the JSON's: net cost and unspent add up to the budget)
    assert float(cells[f"net_revenue_cost_gbp[{year}]"]) == pytest.approx(net, abs=0.005)
    pence = {
        name: round(float(cells[f"{name}[{year}]"]) * 100)
        for name in ("revenue_budget_gbp", "net_revenue_cost_gbp", "unspent_budget_gbp")
    }
    assert (
        pence["net_revenue_cost_gbp"] + pence["unspent_budget_gbp"] == pence["revenue_budget_gbp"]
    )
    assert cells[f"part_year[{year}]"] == "true"


def test_the_active_config_planned_again_changes_no_field(finance: httpx.Client) -> None:
    latest = finance.get("/v1/plans/latest").json()
    made = finance.post("/v1/plans", json={})
    assert made.status_code == 201, made.text
    comparison = made.json()["comparison"]
    assert comparison["config_changes"] == []
    assert comparison["compared_with_plan_id"] == latest["id"]
    assert comparison["not_comparable"] is None
    for name in planning.SWEEP_FIGURES:
        assert comparison[f"{name}_change"] == pytest.approx(0.0, abs=1e-3), name


def test_a_what_if_over_other_periods_has_no_changes_and_says_why(
    finance: httpx.Client,
) -> None:
    latest = finance.get("/v1/plans/latest").json()
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    body["horizon_periods"] = latest["result"]["periods"] // 2
    made = finance.post("/v1/plans", json={"config": body})
    assert made.status_code == 201, made.text
    plan = made.json()
    comparison = plan["comparison"]
    assert comparison["compared_with_plan_id"] == latest["id"]
    first, days = latest["result"]["first_ds"], latest["result"]["period_days"]
    assert comparison["not_comparable"] == (
        f"plan {plan['id']} covers {body['horizon_periods']} periods of {days} days from "
        f"{first}, plan {latest['id']} {latest['result']['periods']} periods of {days} days "
        f"from {first}: totals over other periods are not compared, so every change is null"
    )
    for name in planning.SWEEP_FIGURES:
        assert comparison[f"{name}_change"] is None, name
    assert comparison["weighted_wait_days"] == pytest.approx(
        plan["objective_weighted_wait_days"]
    )  # its own figures are still given
    # and so are each service's, in both plans, but not their changes
    assert [r["service"] for r in comparison["by_service"]] == [s["id"] for s in body["services"]]
    for r in comparison["by_service"]:
        assert r["hours"] is not None and r["compared_hours"] is not None, r
        assert r["hours_change"] is None and r["net_cost_gbp_change"] is None, r


def _years_of(plan: dict[str, Any]) -> dict[str, int]:
    """{financial year: periods} of a plan, from its capital_by_year rows."""
    return {r["year"]: r["periods"] for r in _rows(plan, "capital_by_year")}


def test_a_what_if_with_capital_by_financial_year_bounds_each_year(
    finance: httpx.Client,
) -> None:
    """Each district's capital given per financial year the plan reaches (half its
    capital_gbp, shared by the years' periods, so it binds): each year's spend is within its
    own capital, reported per year in JSON and CSV, priced per district and year, and the
    plan's summary gives each year's capital and spend. (The test demo's 13 weeks from
    January lie in one year; optimise/test_capital_by_year.py plans across 1 April.)"""
    latest, latest_body = _latest(finance)
    years = _years_of(latest)
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    periods = sum(years.values())
    given: dict[tuple[str, str], float] = {}
    for d in body["districts"]:
        capital = d.pop("capital_gbp")
        # whole pounds, as config_changes writes them (506889, not 506889.0)
        d["capital_by_year_gbp"] = {y: round(capital / 2 * n / periods) for y, n in years.items()}
        given.update({(d["id"], y): gbp for y, gbp in d["capital_by_year_gbp"].items()})
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    district = body["districts"][0]
    assert (
        f"districts[{district['id']}].capital_by_year_gbp: null -> "
        f"{json.dumps(district['capital_by_year_gbp'])}"
    ) in comparison["config_changes"]
    _assert_compared(comparison, _expected(plan, body), _expected(latest, latest_body))
    assert comparison["works_completed_change"] < 0  # half the capital: fewer works
    rows = _rows(plan, "capital_by_year")
    assert {(r["district"], r["year"]): r["capital_available_gbp"] for r in rows} == given
    for r in rows:
        assert r["capital_spent_gbp"] <= r["capital_available_gbp"] * (1 + 1e-9) + 1e-6, r
        assert r["capital_left_gbp"] == pytest.approx(
            r["capital_available_gbp"] - r["capital_spent_gbp"], abs=1e-6
        )
    prices = [p for p in _rows(plan, "shadow_prices") if p["constraint"] == "capital"]
    assert {(p["district"], p["year"]) for p in prices} == set(given)
    assert any(p["value"] > 0 for p in prices)
    csv = finance.get(f"/v1/plans/{plan['id']}/capital_by_year.csv")
    assert csv.status_code == 200, csv.text
    assert csv.text.splitlines()[0] == (
        "district,year,periods,works_completed,capital_spent_gbp,capital_available_gbp,"
        "capital_left_gbp"
    )
    summary = finance.get(f"/v1/plans/{plan['id']}/summary").json()
    figures = {r["figure"]: r["value"] for r in summary}
    for year in years:
        spent = sum(r["capital_spent_gbp"] for r in rows if r["year"] == year)
        assert figures[f"capital_spent_gbp[{year}]"] == pytest.approx(spent, rel=1e-9)
        assert figures[f"capital_available_gbp[{year}]"] == pytest.approx(
            sum(v for (_, y), v in given.items() if y == year), rel=1e-9
        )


def test_a_year_the_plan_never_reaches_is_left_out(finance: httpx.Client) -> None:
    """A stored config keeps planning as its horizon moves on: a year before the plan (given
    when it began) and one after it (next year's allocation, known early) plan nothing."""
    latest, _ = _latest(finance)
    years = list(_years_of(latest))
    start = int(years[-1][:4]) + 1
    later = f"{start}-{(start + 1) % 100:02d}"
    first = int(years[0][:4]) - 1
    earlier = f"{first}-{(first + 1) % 100:02d}"
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    for d in body["districts"]:
        capital = d.pop("capital_gbp")
        d["capital_by_year_gbp"] = {earlier: 7.0, **dict.fromkeys(years, capital), later: 9.0}
    planned = finance.post("/v1/plans", json={"config": body})
    assert planned.status_code == 201, planned.text[:300]
    rows = _rows(planned.json(), "capital_by_year")
    assert {r["year"] for r in rows} == set(years)
    total = sum(r["capital_available_gbp"] for r in rows)
    given = sum(d["capital_by_year_gbp"][y] for d in body["districts"] for y in years)
    assert total == pytest.approx(given, rel=1e-9)


def test_a_what_if_with_capital_and_capital_by_year_is_refused(finance: httpx.Client) -> None:
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    body["districts"][0]["capital_by_year_gbp"] = {"2026-27": 1.0}
    refused = finance.post("/v1/plans", json={"config": body})
    assert refused.status_code == 422, refused.text[:300]
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/config/districts/0/capital_gbp"
    assert problem["found"] == "both"


def test_a_config_whose_capital_years_miss_the_plans_is_refused_at_the_district(
    finance: httpx.Client,
) -> None:
    """POST /v1/configs refuses what a plan of it would be refused for now, located at the
    district's capital_by_year_gbp (it was the whole body: the field names a district by id)."""
    latest, _ = _latest(finance)
    years = list(_years_of(latest))
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    for d in body["districts"]:
        d["capital_by_year_gbp"] = {y: 1000.0 for y in years}
    body["districts"][1]["capital_by_year_gbp"] = {"2040-41": 1000.0}  # none the plan reaches
    for d in body["districts"]:
        d.pop("capital_gbp")
    body.pop("winter")  # the test demo has no forecast of its pressure series: refused first
    refused = finance.post("/v1/configs", json=body)
    assert refused.status_code == 422, refused.text[:300]
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/districts/1/capital_by_year_gbp"
    assert problem["found"] == f"none for {json.dumps(years)}"


def test_a_what_if_with_a_rate_by_financial_year_costs_each_years_hours_at_its_rate(
    finance: httpx.Client,
) -> None:
    """Home care's commissioned rate given by financial year, the plan's year at GBP 25 and
    the next (which this plan does not reach) at 27: its hours cost GBP 25, the comparison
    adds up from the plan's own tables at that rate, and config_changes names both fields."""
    latest, latest_body = _latest(finance)
    years = list(_years_of(latest))
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    [domcare] = [s for s in body["services"] if s["id"] == "domcare"]
    start = int(years[-1][:4]) + 1
    rates = {**dict.fromkeys(years, 25.0), f"{start}-{(start + 1) % 100:02d}": 27.0}
    before = domcare.pop("cost_per_hour_gbp")
    domcare["cost_per_hour_gbp_by_year"] = rates
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    assert comparison["config_changes"] == [
        f"services[domcare].cost_per_hour_gbp: {before:g} -> null",
        # whole pounds written whole, as config_changes writes them
        f"services[domcare].cost_per_hour_gbp_by_year: null -> "
        f"{json.dumps({y: int(r) for y, r in rates.items()})}",
    ]
    _assert_compared(comparison, _expected(plan, body), _expected(latest, latest_body))
    rows = [r for r in _rows(plan, "revenue_by_service") if r["service"] == "domcare"]
    assert any(r["staff_hours"] > 0 for r in rows)
    for r in rows:
        assert r["staff_cost_gbp"] == pytest.approx(r["staff_hours"] * 25.0, rel=1e-12), r


def test_a_config_whose_rate_years_miss_the_plans_is_refused_at_the_service(
    finance: httpx.Client,
) -> None:
    """POST /v1/configs refuses a service's cost_per_hour_gbp_by_year without a year the
    plan's periods start in at services/<i>/cost_per_hour_gbp_by_year (the field names the
    service by id), and a negative rate at its year; nothing is stored."""
    latest, _ = _latest(finance)
    years = list(_years_of(latest))
    active = finance.get("/v1/configs/active").json()
    body = copy.deepcopy(active["body"])
    body.pop("winter")  # the test demo has no forecast of its pressure series: refused first
    index = [s["id"] for s in body["services"]].index("domcare")
    domcare = body["services"][index]
    domcare.pop("cost_per_hour_gbp")
    domcare["cost_per_hour_gbp_by_year"] = {"2040-41": 23.0}  # none the plan reaches
    refused = finance.post("/v1/configs", json=body)
    assert refused.status_code == 422, refused.text[:300]
    [problem] = refused.json()["problems"]
    assert problem["location"] == f"body/services/{index}/cost_per_hour_gbp_by_year"
    assert problem["found"] == f"none for {json.dumps(years)}"
    domcare["cost_per_hour_gbp_by_year"] = {years[0]: -23.0}
    refused = finance.post("/v1/plans", json={"config": body})
    assert refused.status_code == 422, refused.text[:300]
    [problem] = refused.json()["problems"]
    assert problem == {
        "location": f"body/config/services/{index}/cost_per_hour_gbp_by_year/{years[0]}",
        "expected": "GBP from 0 to 100,000,000,000",
        "found": "-23",
    }
    assert finance.get("/v1/configs/active").json() == active


def test_a_what_if_with_fees_and_charges_by_financial_year_earns_each_years(
    finance: httpx.Client,
) -> None:
    """The DFG fee and home care's charge given by financial year, the plan's year at 20% and
    GBP 5 an hour (on half the hours) and the next (which this plan does not reach) at 30% and
    GBP 7: each works case's fee is 20% of its district's cost, the comparison adds up from
    the plan's own tables at those figures, has no one fee rate (null), and config_changes
    names the fields changed."""
    latest, latest_body = _latest(finance)
    [year] = list(_years_of(latest))
    start = int(year[:4]) + 1
    later = f"{start}-{(start + 1) % 100:02d}"
    body = copy.deepcopy(finance.get("/v1/configs/active").json()["body"])
    before = body["fees"].pop("dfg_fee_rate")
    body["fees"]["by_year"] = {year: {"dfg_fee_rate": 0.2}, later: {"dfg_fee_rate": 0.3}}
    [domcare] = [s for s in body["services"] if s["id"] == "domcare"]
    domcare["charge_gbp_per_hour_by_year"] = {year: 5.0, later: 7.0}
    domcare["charge_paying_share"] = 0.5
    plan = _what_if(finance, body)
    comparison = plan["comparison"]
    assert comparison["dfg_fee_rate"] is None
    changes = comparison["config_changes"]
    assert f"fees.dfg_fee_rate: {before:g} -> null" in changes
    # each year's structure in full, its defaults filled in, whole numbers written whole
    structure = '{{"dfg_fee_rate": {}, "min_fee_per_case_gbp": 0, "max_fee_per_case_gbp": null}}'
    given = f'{{"{year}": {structure.format(0.2)}, "{later}": {structure.format(0.3)}}}'
    assert f"fees.by_year: null -> {given}" in changes, changes
    assert (
        f'services[domcare].charge_gbp_per_hour_by_year: null -> {{"{year}": 5, "{later}": 7}}'
        in changes
    )
    _assert_compared(comparison, _expected(plan, body), _expected(latest, latest_body))
    costs = {d["id"]: d["cost_per_adaptation_gbp"] for d in body["districts"]}
    works = [r for r in _rows(plan, "capital") if r["works_completed"] > 0]
    assert works
    for r in works:
        fee = r["works_completed"] * costs[r["district"]] * 0.2
        assert r["fee_income_gbp"] == pytest.approx(fee, rel=1e-9), r
    charged = [r for r in _rows(plan, "revenue_by_service") if r["service"] == "domcare"]
    served = {}
    for r in _rows(plan, "hours"):
        if r["service"] == "domcare":
            key = (r["team"], r["period"])
            served[key] = served.get(key, 0.0) + r["hours"]
    assert any(r["charge_income_gbp"] > 0 for r in charged)
    for r in charged:
        by_hand = served[r["team"], r["period"]] * 5.0 * 0.5
        assert r["charge_income_gbp"] == pytest.approx(by_hand, rel=1e-9), r
    again = finance.get(f"/v1/plans/{plan['id']}/compare/{latest['id']}")
    assert again.status_code == 200, again.text
    assert again.json()["dfg_fee_rate"] is None
