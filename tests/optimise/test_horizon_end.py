"""A queue the LP lets rise in the last periods (waiting after the horizon is free) is named."""

from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

import optimise
from optimise.horizon import end_of_horizon_warnings
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand

PERIODS = 16  # the last eighth: 2 periods


@pytest.fixture(scope="module")
def solved() -> tuple[PlanInputs, PlanResult]:
    inputs = inputs_of(rich_config(horizon_periods=PERIODS), rich_demand(periods=PERIODS))
    assert len(inputs.period_start) == PERIODS
    return inputs, optimise.plan(inputs, simulation_runs=0)


def _with_queue(result: PlanResult, service: str, path: np.ndarray) -> PlanResult:
    """The plan's backlog with one service's county queue replaced by `path` (one district)."""
    frame = result.backlog[result.backlog["service"] != service]
    rows = pd.DataFrame(
        {
            "service": service,
            "district": "d1",
            "period": np.arange(1, PERIODS + 1),
            "backlog_cases": path,
        }
    )
    return result.with_extras(backlog=pd.concat([frame, rows], ignore_index=True))


def _arrivals(inputs: PlanInputs, service: str) -> float:
    i = inputs.service_index(service)
    assert i is not None
    return float(inputs.demand_cases[i].sum()) / PERIODS


def test_the_solved_plan_has_no_rise_at_its_end(solved: tuple[PlanInputs, PlanResult]) -> None:
    inputs, result = solved
    assert end_of_horizon_warnings(inputs, result) == []


def test_a_queue_that_rises_only_at_the_end_is_named(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    inputs, result = solved
    level = float(inputs.initial_backlog_cases[inputs.service_index("domcare")].sum())
    jump = 3 * _arrivals(inputs, "domcare")
    path = np.full(PERIODS, level)
    path[-2:] = [level + jump / 2, level + jump]
    [text] = end_of_horizon_warnings(inputs, _with_queue(result, "domcare", path))
    when = f"{inputs.period_start[-2]:%Y-%m-%d}"
    assert text.startswith(
        f"queues rise in the plan's last 2 periods (from {when}) beyond their trend before: "
    )
    assert f"domiciliary care from {level:,.0f} to {level + jump:,.0f} cases waiting" in text
    assert "waiting after the plan's last period is not counted" in text.lower()


def test_a_queue_growing_all_along_or_ending_below_its_start_is_not_named(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    inputs, result = solved
    level = float(inputs.initial_backlog_cases[inputs.service_index("domcare")].sum())
    step = _arrivals(inputs, "domcare")  # a period's arrivals more each period: money is short
    growing = level + step * np.arange(PERIODS)
    assert end_of_horizon_warnings(inputs, _with_queue(result, "domcare", growing)) == []
    falls_then_rises = np.concatenate([np.zeros(PERIODS - 2), [level / 2, level * 0.9]])
    assert end_of_horizon_warnings(inputs, _with_queue(result, "domcare", falls_then_rises)) == []


def test_plan_attaches_the_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    module = importlib.import_module("optimise.plan")  # `optimise.plan` is the function
    monkeypatch.setattr(module, "end_of_horizon_warnings", lambda *_a: ["the end rises"])
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    assert "the end rises" in result.warnings


def test_works_that_stop_when_the_capital_is_spent_are_put_down_to_the_capital(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    """Re-planning does not bring more capital, so a works queue rising once the grant is
    spent gets its own warning, not the lean-last-periods one."""
    inputs, result = solved
    level = float(inputs.initial_works_backlog_cases.sum())
    path = np.full(PERIODS, level)
    path[-2:] = [level + 10 * _works_arrivals(inputs), level + 20 * _works_arrivals(inputs)]
    risen = _with_queue(result, "dfg_works", path)
    capital = risen.capital.copy()  # works every period but the last two; the grant all spent
    stopped = capital["period"] >= PERIODS - 1
    capital["works_completed"] = np.where(stopped, 0.0, 1.0)
    grant = dict(zip(inputs.districts, inputs.capital_gbp, strict=True))
    capital["capital_gbp"] = np.where(stopped, 0.0, capital["district"].map(grant) / (PERIODS - 2))
    [text] = end_of_horizon_warnings(inputs, risen.with_extras(capital=capital))
    last = f"{inputs.period_start[PERIODS - 3]:%Y-%m-%d}"
    assert text.startswith(f"the DFG capital is spent by the week of {last}: no works are")
    assert f"the works queue rises from {level:,.0f} to " in text  # from when works stopped
    # one district's grant spent, the others' not: that district is named
    one = inputs.districts[0]
    partly = capital.assign(
        capital_gbp=np.where(capital["district"] == one, capital["capital_gbp"], 0.0)
    )
    [named] = end_of_horizon_warnings(inputs, risen.with_extras(capital=partly))
    assert named.startswith(f"the DFG capital of {one} is spent by the week of {last}")
    # capital left over: the same rise is a lean last period like any other queue's
    unspent = capital.assign(capital_gbp=capital["capital_gbp"] / 2)
    [lean] = end_of_horizon_warnings(inputs, risen.with_extras(capital=unspent))
    assert "DFG works from" in lean and "not counted" in lean


def _works_arrivals(inputs: PlanInputs) -> float:
    return inputs.p_ot_dfg * _arrivals(inputs, "ot")


def test_a_fall_in_fee_income_at_the_end_is_named_as_a_cause(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    """Works stop when the capital is spent and their fees, which pay for staff, stop with
    them: a queue rising at the end then has less money behind it, which re-planning does not
    restore, so the warning says so beside the uncounted waiting after the horizon."""
    inputs, result = solved
    level = float(inputs.initial_backlog_cases[inputs.service_index("domcare")].sum())
    path = np.full(PERIODS, level)
    path[-2:] = [level + 2 * _arrivals(inputs, "domcare"), level + 4 * _arrivals(inputs, "domcare")]
    risen = _with_queue(result, "domcare", path)
    revenue = risen.revenue.copy()
    revenue["fee_income_gbp"] = np.where(revenue["period"] > PERIODS - 2, 0.0, 500.0)
    [text] = end_of_horizon_warnings(inputs, risen.with_extras(revenue=revenue))
    assert (
        "DFG fee income, which pays for staff, falls from GBP 500 a week on average before to "
        "GBP 0 in those periods" in text
    )
    assert text.endswith(
        "; and waiting after the plan's last period is not counted, so those periods are planned "
        "lean; each run re-plans them with the periods after in view"
    )
    steady = revenue.assign(fee_income_gbp=500.0)  # fees as before: only the horizon is named
    [plain] = end_of_horizon_warnings(inputs, risen.with_extras(revenue=steady))
    assert "fee income" not in plain and "Waiting after the plan's last period" in plain


def test_works_that_stop_when_the_last_years_capital_is_spent_name_that_year(
    solved: tuple[PlanInputs, PlanResult],
) -> None:
    """With capital by financial year, the works stop for want of the capital of the year they
    stop in (2025-26, from week 14): so named, though 2024-25's, not carried, was left unspent
    and the horizon's total is not. Where the stopping year's capital is left, the rise is a
    lean last period like any other queue's."""
    inputs, result = solved
    assert inputs.financial_years == ("2024-25", "2025-26")
    assert inputs.year_of_period.tolist()[12:] == [0, 1, 1, 1]
    level = float(inputs.initial_works_backlog_cases.sum())
    path = np.full(PERIODS, level)
    path[-2:] = [level + 10 * _works_arrivals(inputs), level + 20 * _works_arrivals(inputs)]
    risen = _with_queue(result, "dfg_works", path)
    capital = risen.capital.copy()  # works every period but the last two, GBP 1,000 a week
    stopped = capital["period"] >= PERIODS - 1
    capital["works_completed"] = np.where(stopped, 0.0, 1.0)
    capital["capital_gbp"] = np.where(stopped, 0.0, 1000.0)
    by_year = np.tile([20000.0, 1000.0], (len(inputs.districts), 1))  # 13 of 20 spent, 1 of 1
    yearly = replace(inputs, capital_by_year_gbp=by_year, capital_gbp=by_year.sum(axis=1))
    [text] = end_of_horizon_warnings(yearly, risen.with_extras(capital=capital))
    last = f"{inputs.period_start[PERIODS - 3]:%Y-%m-%d}"
    assert text.startswith(f"the DFG capital is spent by the week of {last}: no works are")
    assert text.endswith(
        "(their capital_by_year_gbp for 2025-26 is spent by then, and no later financial year "
        "of the plan gives them more: a later allocation is not in this plan)"
    )
    left = replace(yearly, capital_by_year_gbp=by_year * [1.0, 2.0])
    [lean] = end_of_horizon_warnings(left, risen.with_extras(capital=capital))
    assert "DFG works from" in lean and "not counted" in lean
