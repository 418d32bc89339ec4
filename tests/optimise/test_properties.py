"""Property tests on generated instances: invariants every optimal plan must keep."""

from __future__ import annotations

from typing import Any

import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import optimise
from optimise.config import MIN_WAIT_WEIGHT
from optimise.funding import funded_hours
from optimise.result import PlanResult
from tests.optimise.factory import bounds, demand_frame, district, inputs_of, service
from tests.optimise.lp_instances import pennies

SERVICES = ("ot", "hao", "reablement", "domcare")
# derandomize: CI meets the same examples as a local run (a random draw found a 1e-6 miss once)
PROPERTY = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)
# A plan's reported waiting is its even-waits solve's, which may sit up to
# equity.even_waits_tolerance (1e-6, relative) above the first solve's least waiting; two plans
# compared may each do so, so "never more waiting" holds to a few times that (CI saw
# 125.965127 after against 125.965 before: 1.0e-6 relative).
WAIT_TOLERANCE = 1e-5
money = st.floats(min_value=0.0, max_value=20000.0, allow_nan=False).map(pennies)
unit = st.floats(min_value=0.0, max_value=1.0, allow_nan=False)
# a waiting weight: 0 or at least MIN_WAIT_WEIGHT (a config refuses a weight between), drawn
# as `unit` is so the examples are those drawn before the refusal
weight = unit.map(lambda w: w if w >= MIN_WAIT_WEIGHT else 0.0)


@st.composite
def instances(draw: st.DrawFn) -> tuple[dict[str, Any], pd.DataFrame]:
    """1-2 teams, 1-3 districts, 2-4 weekly periods, all four services, random numbers."""
    periods = draw(st.integers(2, 4))
    teams = [f"team{i}" for i in range(draw(st.integers(1, 2)))]
    n_districts = draw(st.integers(len(teams), 3))
    names = [f"d{i}" for i in range(n_districts)]
    number = st.floats(min_value=0.5, max_value=30.0, allow_nan=False)
    services = [
        service(
            s,
            draw(number),
            draw(st.floats(10.0, 60.0)),
            draw(weight),
            hospital_delay_weight=draw(weight),
        )
        for s in SERVICES
    ]
    hours = {
        s: bounds(
            0.0, draw(st.floats(0.0, 300.0)), agency_max_per_period=draw(st.floats(0.0, 30.0))
        )
        for s in SERVICES
    }
    districts = [
        district(
            d,
            teams[i % len(teams)],
            draw(money) * 5,
            {s: draw(number) for s in SERVICES},
            initial_works_backlog_cases=draw(number),
            cost_per_adaptation_gbp=draw(st.floats(2000.0, 12000.0)),
        )
        for i, d in enumerate(names)
    ]
    raw = {
        "name": "generated",
        "version": "1",
        "period_days": 7,
        "horizon_periods": periods,
        "services": services,
        "teams": [{"id": t, "hours": hours} for t in teams],
        "districts": districts,
        "revenue_budget_gbp_per_period": draw(money),
        "fees": {"dfg_fee_rate": draw(st.floats(0.0, 0.2))},
        "flows": {"p_ot_dfg": draw(unit), "p_reab_dom": draw(unit)},
        "works_wait_weight": draw(weight),
    }
    cases = {(s, d): [draw(number) for _ in range(periods)] for s in SERVICES for d in names}
    return raw, demand_frame(cases)


def _plan(raw: dict[str, Any], demand: pd.DataFrame) -> PlanResult:
    result = optimise.plan(inputs_of(raw, demand))
    assert result.status is optimise.PlanStatus.OPTIMAL, result.message
    return result


@PROPERTY
@given(instances(), money)
def test_more_budget_never_increases_waiting(
    instance: tuple[dict[str, Any], pd.DataFrame], extra: float
) -> None:
    raw, demand = instance
    before = _plan(raw, demand).objective_weighted_wait_days
    richer = {**raw, "revenue_budget_gbp_per_period": raw["revenue_budget_gbp_per_period"] + extra}
    after = _plan(richer, demand).objective_weighted_wait_days
    assert after <= before + WAIT_TOLERANCE * max(1.0, abs(before))


@PROPERTY
@given(instances())
def test_capital_and_team_hours_never_exceeded(
    instance: tuple[dict[str, Any], pd.DataFrame],
) -> None:
    result = _plan(*instance)
    totals = result.capital_total
    # Solver tolerance: a millionth of one adaptation's cost.
    slack = 1e-6 * max(d["cost_per_adaptation_gbp"] for d in instance[0]["districts"])
    assert (totals["capital_spent_gbp"] <= totals["capital_available_gbp"] + slack).all()
    staffing = result.staffing
    available = staffing["max_hours"] + staffing["agency_max_hours"]
    assert (staffing["hours_used"] <= available + 1e-6).all()
    team_of = {d["id"]: d["team"] for d in instance[0]["districts"]}
    used = result.hours.assign(team=result.hours["district"].map(team_of))
    per_team = used.groupby(["service", "team", "period"])["hours"].sum()
    limit = staffing.set_index(["service", "team", "period"])
    assert (
        per_team <= (limit["max_hours"] + limit["agency_max_hours"])[per_team.index] + 1e-6
    ).all()


@PROPERTY
@given(instances(), st.floats(0.0, 0.3))
def test_higher_fee_rate_never_reduces_funded_hours(
    instance: tuple[dict[str, Any], pd.DataFrame], rise: float
) -> None:
    raw, demand = instance
    higher = {**raw, "fees": {"dfg_fee_rate": raw["fees"]["dfg_fee_rate"] + rise}}
    low, high = inputs_of(raw, demand), inputs_of(higher, demand)
    assert funded_hours(high) >= funded_hours(low) * (1 - 1e-9) - 1e-6
    before = _plan(raw, demand).objective_weighted_wait_days
    after = _plan(higher, demand).objective_weighted_wait_days
    assert after <= before + WAIT_TOLERANCE * max(1.0, abs(before))
