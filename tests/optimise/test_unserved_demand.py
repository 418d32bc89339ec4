"""Demand a plan cannot keep up with all through it (money or staff too short, or demand in the
wrong units) is named with what arrives, what is served and the queue and wait it leaves; a
plan that keeps up says nothing. The plan is still solved: it is the best the budget allows."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from optimise.horizon import unserved_demand_warning
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand

PERIODS = 16


def _solved(scale: float) -> tuple[PlanInputs, PlanResult]:
    demand = rich_demand(periods=PERIODS)
    demand["cases"] *= scale
    inputs = inputs_of(rich_config(horizon_periods=PERIODS), demand)
    return inputs, optimise.plan(inputs, simulation_runs=0)


def test_a_plan_that_keeps_up_with_its_demand_has_no_such_warning() -> None:
    inputs, result = _solved(1.0)
    assert result.ok
    assert unserved_demand_warning(inputs, result) is None
    assert not any("outruns" in w for w in result.warnings)


@pytest.mark.parametrize("scale", [4.35, 100.0])
def test_demand_many_times_what_the_budget_serves_is_named(scale: float) -> None:
    """Monthly counts on weekly rows (4.35 times) or a unit slip of 100: still an optimal
    plan, with queues growing every week, which the plan's warnings now say."""
    inputs, result = _solved(scale)
    assert result.status.value == "optimal"
    [text] = [w for w in result.warnings if w.startswith("demand outruns the plan all through it")]
    i = inputs.service_index("ot")
    assert i is not None
    weekly = float(inputs.demand_cases[i].sum()) / PERIODS
    assert f"OT {weekly:,.0f} cases arriving a week" in text
    ot = result.backlog[result.backlog["service"] == "ot"]
    assert sorted(set(ot["period"])) == list(range(1, PERIODS + 1))
    queue = float(ot[ot["period"] == PERIODS]["backlog_cases"].sum())  # the plan's last week
    assert f"to {queue:,.0f}, the wait at the end" in text
    # home care's arrivals include reablement's completions that go on to it
    d = inputs.service_index("domcare")
    assert d is not None
    reablement = result.backlog[result.backlog["service"] == "reablement"]["cases_served"].sum()
    home = float(inputs.demand_cases[d].sum()) + inputs.p_reab_dom * float(reablement)
    assert f"domiciliary care {home / PERIODS:,.0f} cases arriving a week" in text
    assert "check its units (monthly counts on weekly rows are 4.3 times too high)" in text


def test_on_a_monthly_plan_the_warning_speaks_of_months_and_not_of_weekly_rows() -> None:
    """A plan of calendar months (period_days 30) said 'cases arriving a period' and 'monthly
    counts on weekly rows are 4.3 times too high', a hint that cannot apply to monthly rows."""
    demand = rich_demand(periods=PERIODS)
    months = {w: m for w, m in zip(sorted(set(demand["ds"])), _months(), strict=True)}
    demand = demand.assign(ds=demand["ds"].map(months), cases=demand["cases"] * 100.0)
    inputs = inputs_of(rich_config(horizon_periods=PERIODS, period_days=30), demand)
    result = optimise.plan(inputs, simulation_runs=0)
    [text] = [w for w in result.warnings if w.startswith("demand outruns the plan all through it")]
    i = inputs.service_index("ot")
    assert i is not None
    monthly = float(inputs.demand_cases[i].sum()) / PERIODS
    assert f"OT {monthly:,.0f} cases arriving a month" in text
    assert "weekly rows" not in text
    assert "check its units (each row of a monthly series should count one month's" in text


def _months() -> list[pd.Timestamp]:
    return list(pd.date_range("2025-01-01", periods=PERIODS, freq="MS"))
