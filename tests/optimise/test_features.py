"""Issue-4 extensions: classes, agency, recruitment, equity, winter, DTOC, fees, charges."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from tests.optimise.factory import (
    bounds,
    full_config,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
)


@pytest.fixture(scope="module")
def full_plan() -> PlanResult:
    return optimise.plan(inputs_of(full_config(), rich_demand()))


def test_full_plan_is_optimal_and_checked(full_plan: PlanResult) -> None:
    assert full_plan.status is optimise.PlanStatus.OPTIMAL
    assert max_violation(residuals(inputs_of(full_config(), rich_demand()), full_plan)) < 1e-6


def test_urgent_cases_wait_less(full_plan: PlanResult) -> None:
    care = full_plan.backlog[full_plan.backlog["service"] != "dfg_works"]
    per_case = (
        care.groupby("priority")["backlog_cases"].sum()
        / care.groupby("priority")["cases_served"].sum()
    )
    assert per_case["urgent"] < per_case["standard"]


def test_triage_split_of_arrivals() -> None:
    inputs = inputs_of(full_config(), rich_demand())
    assert inputs.classes == ("urgent", "standard")
    assert inputs.class_share[0].tolist() == pytest.approx([0.2, 0.8])
    assert inputs.wait_weight[0].tolist() == pytest.approx([3.0, 1.0])


def test_agency_only_above_staff_ceiling_and_bounded(full_plan: PlanResult) -> None:
    staffing = full_plan.staffing
    used = staffing[staffing["agency_hours"] > 1e-6]
    assert len(used) > 0
    assert (staffing["agency_hours"] <= staffing["agency_max_hours"] + 1e-9).all()


def test_agency_costs_a_premium() -> None:
    hours = {"ot": bounds(0, 15, agency_max_per_period=10), "hao": bounds(0, 5)}
    raw = hand_config(teams=[{"id": "north", "hours": hours}], revenue_budget_gbp_per_period=1e6)
    result = optimise.plan(inputs_of(raw, hand_demand()))
    revenue = result.revenue.set_index("period")
    agency = result.staffing.set_index(["service", "period"])["agency_hours"]
    assert agency[("ot", 1)] == pytest.approx(10.0)  # 15 staff hours serve 7.5 of 15 cases
    assert revenue.loc[1, "agency_cost_gbp"] == pytest.approx(10.0 * 10.0 * 1.5)


def test_recruitment_limits_change(full_plan: PlanResult) -> None:
    staff = full_plan.staffing.sort_values(["service", "team", "period"])
    change = staff.groupby(["service", "team"])["staff_hours"].diff().abs().dropna()
    assert change.max() <= 30.0 + 1e-6
    first = staff[staff["period"] == 1]
    current = (first["min_hours"] + first["max_hours"]) / 2
    assert (abs(first["staff_hours"] - current) <= 30.0 + 1e-6).all()


def _over_wait_cap(inputs: PlanInputs, result: PlanResult, days: float) -> dict[int, float]:
    """By period, the most any service's backlog in a district is above `days` of its arrivals
    there (Little's law: the equity cap's measure), cases."""
    care = result.backlog[result.backlog["service"] != "dfg_works"]
    backlog = care.groupby(["service", "district", "period"])["backlog_cases"].sum()
    over: dict[int, float] = {}
    for (s, d, t), cases in backlog.items():
        arrivals = inputs.demand_cases[inputs.services.index(s), inputs.districts.index(d), t - 1]
        gap = cases - days * arrivals / inputs.period_days
        over[t] = max(over.get(t, -np.inf), gap)
    return over


def test_equity_cap_holds_from_its_period() -> None:
    # 28 days' arrivals: without the cap, period 5 queues more than that; with it, periods 1
    # and 2 still do (the starting backlog takes weeks to clear), which is why it applies from
    # period 4
    equity = {**full_config()["equity"], "max_avg_wait_days": None}
    plain = optimise.plan(inputs_of(full_config(equity=equity), rich_demand()), simulation_runs=0)
    equity = {**equity, "max_avg_wait_days": 28.0}
    inputs = inputs_of(full_config(equity=equity), rich_demand())
    capped = optimise.plan(inputs, simulation_runs=0)
    assert inputs.equity_from_period == 4
    assert capped.status is optimise.PlanStatus.OPTIMAL
    before = _over_wait_cap(inputs, plain, 28.0)
    after = _over_wait_cap(inputs, capped, 28.0)
    assert max(before[t] for t in before if t >= 4) > 1.0  # the cap is not met without it
    assert max(after[t] for t in after if t >= 4) <= 1e-6
    assert max(after[t] for t in after if t < 4) > 0.5
    assert "equity_cap" in set(capped.binding["constraint"])
    assert max_violation(residuals(inputs, capped)) < 1e-6


def _worst_district_wait(result: PlanResult) -> float:
    care = result.backlog[result.backlog["service"] != "dfg_works"]
    return float(care.groupby("district")["backlog_cases"].sum().max())


def test_worst_district_weight_narrows_the_gap() -> None:
    # Against the first stage alone: the even-waits tie-break evens a different measure (each
    # period's wait, within teams) and would blur what the weight itself does.
    plain = optimise.plan(inputs_of(rich_config(equity={"even_waits": False}), rich_demand()))
    equity = {"worst_district_weight": 5000.0, "even_waits": False}
    fair = optimise.plan(inputs_of(rich_config(equity=equity), rich_demand()))
    assert _worst_district_wait(fair) <= _worst_district_wait(plain) + 1e-6
    # The weight can only cost waiting (the headline is waiting days alone, without the term;
    # room for the solver and the spend tie-break). Here it costs none.
    waited = plain.objective_weighted_wait_days
    assert fair.objective_weighted_wait_days >= waited - 1e-6 * max(1.0, waited)
    assert fair.objective_value == pytest.approx(
        fair.objective_weighted_wait_days + fair.worst_district_wait_term
    )
    assert fair.worst_district_wait_term > 0 and plain.worst_district_wait_term == 0


def test_winter_periods_take_the_quantile() -> None:
    demand = rich_demand()
    winter = inputs_of(rich_config(winter={"quantile_column": "q90", "months": [1]}), demand)
    normal = inputs_of(rich_config(), demand)
    january = np.array([ts.month == 1 for ts in winter.period_start])
    assert january.any() and not january.all()
    assert winter.demand_cases[:, :, january] == pytest.approx(
        1.3 * normal.demand_cases[:, :, january]
    )
    assert winter.demand_cases[:, :, ~january] == pytest.approx(normal.demand_cases[:, :, ~january])


def test_winter_quantile_must_be_an_upper_one() -> None:
    with pytest.raises(ValidationError, match="q95"):
        PlanningConfig.model_validate(rich_config(winter={"quantile_column": "q95"}))


def test_winter_column_missing_is_named() -> None:
    demand = rich_demand().drop(columns="q90")
    with pytest.raises(optimise.PlanInputError, match="q90"):
        inputs_of(rich_config(winter={"quantile_column": "q90"}), demand)


def _with_pressure(demand: pd.DataFrame, index: float, normal: float) -> pd.DataFrame:
    january = pd.DatetimeIndex(demand["ds"]).month == 1
    return demand.assign(winter_index=np.where(january, index, 1.0), normal_cases=normal)


def test_winter_pressure_raises_demand_to_the_indexed_normal_level() -> None:
    # normal 10 cases, index 1.2: services in proportion plan for 12, reablement (elasticity
    # 0.5) for 11; a forecast already above that keeps its own figure
    demand = _with_pressure(rich_demand(), index=1.2, normal=10.0)
    winter = {
        "pressure_series": "winter/emergency_admissions/area",
        "pressure_elasticity": {"reablement": 0.5},
        "months": [1],
    }
    got = inputs_of(rich_config(winter=winter), demand)
    january = np.array([ts.month == 1 for ts in got.period_start])
    assert january.any() and not january.all()
    expected = np.maximum(got.forecast_cases, np.array([12.0, 12.0, 11.0, 12.0])[:, None, None])
    assert got.demand_cases[:, :, january] == pytest.approx(expected[:, :, january])
    assert got.demand_cases[:, :, ~january] == pytest.approx(got.forecast_cases[:, :, ~january])
    assert (got.demand_cases[:, :, january] > got.forecast_cases[:, :, january]).any()
    assert got.forecast_cases == pytest.approx(inputs_of(rich_config(), demand).demand_cases)


def test_winter_pressure_below_one_never_lowers_demand() -> None:
    demand = _with_pressure(rich_demand(), index=0.5, normal=1000.0)
    winter = {"pressure_series": "winter/emergency_admissions/area", "months": [1]}
    got = inputs_of(rich_config(winter=winter), demand)
    assert got.demand_cases == pytest.approx(got.forecast_cases)


def test_winter_pressure_columns_are_required_and_named() -> None:
    winter = {"pressure_series": "winter/emergency_admissions/area"}
    with pytest.raises(optimise.PlanInputError, match="winter_index"):
        inputs_of(rich_config(winter=winter), rich_demand())


@pytest.mark.parametrize(
    ("winter", "found"),
    [
        ({"months": [1]}, "found neither"),
        ({"pressure_series": "w", "pressure_elasticity": {"ot": 7.5}}, "7.5"),
        ({"quantile_column": "q90", "pressure_elasticity": {"ot": 0.5}}, "no pressure_series"),
        ({"pressure_series": "w", "pressure_elasticity": {"hao": 0.5}}, "hao"),
    ],
)
def test_winter_config_is_checked_where_it_enters(winter: dict[str, object], found: str) -> None:
    raw = rich_config(winter=winter)
    # without HAO, so a share for it names a service this config does not have
    raw["services"] = [s for s in raw["services"] if s["id"] != "hao"]
    for team in raw["teams"]:
        team["hours"] = {k: v for k, v in team["hours"].items() if k != "hao"}
    with pytest.raises(ValidationError, match=found):
        PlanningConfig.model_validate(raw)


def test_dtoc_days_from_hospital_waits(full_plan: PlanResult) -> None:
    care = full_plan.backlog[full_plan.backlog["service"].isin(["reablement", "domcare"])]
    waiting = care.groupby(["service", "district", "period"])["backlog_cases"].sum()
    dtoc = full_plan.dtoc_days.set_index(["service", "district", "period"])["dtoc_days"]
    assert dtoc[waiting.index].to_numpy() == pytest.approx(7.0 * waiting.to_numpy())
    assert dtoc.loc["ot"].sum() == 0.0


def test_hospital_weight_moves_hours_to_reablement() -> None:
    def reablement_hours(weight: float) -> float:
        services = rich_config()["services"]
        services[2] = {**services[2], "hospital_delay_weight": weight}
        result = optimise.plan(inputs_of(rich_config(services=services), rich_demand()))
        return float(result.hours.query("service == 'reablement'")["hours"].sum())

    assert reablement_hours(50.0) >= reablement_hours(0.0) - 1e-6


def test_fee_per_case_is_clamped() -> None:
    inputs = inputs_of(full_config(), rich_demand())
    # 10% of 9,000 / 8,000 / 10,000, clamped to [850, 950].
    assert inputs.fee_per_case_gbp[:, 0].tolist() == pytest.approx([900.0, 850.0, 950.0])
    assert (inputs.fee_per_case_gbp == inputs.fee_per_case_gbp[:, :1]).all()  # every period


def test_care_charges_fund_revenue(full_plan: PlanResult) -> None:
    revenue = full_plan.revenue
    hours = full_plan.hours.groupby(["period", "service"])["hours"].sum().unstack()
    expected = hours["reablement"] * 18.0 * 0.3 + hours["domcare"] * 20.0 * 0.5
    assert revenue.set_index("period")["charge_income_gbp"].to_numpy() == pytest.approx(
        expected.to_numpy()
    )


def test_slack_budget_pays_for_no_idle_or_agency_hours() -> None:
    hours = {"ot": bounds(2, 100, agency_max_per_period=50), "hao": bounds(0, 50)}
    raw = hand_config(teams=[{"id": "north", "hours": hours}], revenue_budget_gbp_per_period=1e6)
    staffing = optimise.plan(inputs_of(raw, hand_demand()), simulation_runs=0).staffing
    expected = staffing["hours_used"].clip(lower=staffing["min_hours"])
    assert staffing["staff_hours"].to_numpy() == pytest.approx(expected.to_numpy())
    assert (staffing["agency_hours"] == 0).all()


def test_funded_hours_by_hand() -> None:
    # GBP 200 a week at GBP 10 an hour funds 20 hours a week: 40 over two weeks; with a 10% fee
    # on 5 works of GBP 1,000 (GBP 500, all in week 1 at most) 50 more hours become fundable.
    from optimise.funding import funded_hours

    assert funded_hours(inputs_of(hand_config(), hand_demand())) == pytest.approx(40.0)
    with_fee = hand_config(fees={"dfg_fee_rate": 0.10})
    assert funded_hours(inputs_of(with_fee, hand_demand())) == pytest.approx(90.0)


def test_a_fee_charged_to_the_grant_funds_hours_with_capital_works_would_have_used() -> None:
    """Rugby's £5,000 of capital at £1,000 a case: a 10% fee on top of the capital funds 50
    more hours (5 cases x £100 at £10 an hour); paid out of the grant, each case uses £1,100,
    so 4.55 cases are done and their fees fund 45.5 hours."""
    from optimise.funding import funded_hours

    on_top = hand_config(fees={"dfg_fee_rate": 0.10})
    from_grant = hand_config(fees={"dfg_fee_rate": 0.10, "charged_to_grant": True})
    assert funded_hours(inputs_of(on_top, hand_demand())) == pytest.approx(90.0)
    assert funded_hours(inputs_of(from_grant, hand_demand())) == pytest.approx(40.0 + 500 / 11)
    works = [
        optimise.plan(inputs_of(c, hand_demand())).capital["works_completed"].sum()
        for c in (on_top, from_grant)
    ]
    assert works == pytest.approx([5.0, 5000.0 / 1100.0])
