"""The even-waits tie-break: among the plans with the least weighted waiting, the one whose
districts wait most evenly within each team and service (optimise/tiebreak.py)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig
from optimise.decompose import parts
from optimise.inputs import PlanInputs
from optimise.result import PlanResult
from optimise.solution import SolveResult, SolveStatus, empty_result
from optimise.tiebreak import (
    ABSOLUTE_ROOM_DAYS,
    MIN_DEMAND_CASES,
    _split_by_team,
    even_waits_model,
    start_basis,
    wait_days_per_case,
)
from tests.optimise.factory import (
    bounds,
    demand_frame,
    district,
    full_config,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
    service,
)
from tests.optimise.test_team_budgets import with_team_budgets

TOLERANCE = 1e-6  # the default equity.even_waits_tolerance


def twins(**equity: Any) -> dict[str, Any]:
    """One team of two districts alike in everything but demand (a: 10 OT cases a week, b: 5),
    9 OT hours a week (1 hour a case) for both: 6 cases a week more than the team can serve."""
    raw = hand_config(
        name="twins",
        horizon_periods=4,
        services=[service("ot", 1.0, 10.0, 1.0)],
        teams=[{"id": "north", "hours": {"ot": bounds(9, 9)}}],
        districts=[district(d, "north", 0.0, {"ot": 0.0}) for d in ("a", "b")],
        revenue_budget_gbp_per_period=1000.0,
    )
    if equity:
        raw["equity"] = equity
    return raw


def twins_demand() -> pd.DataFrame:
    return demand_frame({("ot", "a"): [10.0] * 4, ("ot", "b"): [5.0] * 4})


def _waits(result: PlanResult, inputs: PlanInputs) -> np.ndarray:
    """(D, T) average wait by Little's law: backlog x period days / demand."""
    care = result.backlog[result.backlog["service"] == "ot"]
    cases = care.groupby(["district", "period"])["backlog_cases"].sum().unstack()
    cases = cases.loc[list(inputs.districts)].to_numpy()
    return np.asarray(cases * inputs.period_days / inputs.demand_cases[0])


def test_twins_wait_alike_and_waiting_is_unchanged() -> None:
    inputs = inputs_of(twins(), twins_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    off = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    # The team falls 6 cases a week behind whoever is served: 7 x 6 x (1 + 2 + 3 + 4) = 420
    # waiting days in every optimal plan. Alike waits keep backlog in proportion to demand
    # (a: 4 cases a week more, b: 2), so both wait 2.8 days more each week.
    assert off.objective_weighted_wait_days == pytest.approx(420.0, rel=1e-9)
    assert result.tie_break == "even_waits"
    assert result.first_stage_weighted_wait_days == pytest.approx(420.0, rel=1e-9)
    assert result.objective_weighted_wait_days <= 420.0 * (1 + TOLERANCE) + ABSOLUTE_ROOM_DAYS
    expected = 2.8 * np.arange(1, 5)
    assert _waits(result, inputs) == pytest.approx(np.vstack([expected, expected]), abs=1e-6)
    assert result.worst_wait_sum_days == pytest.approx(2.8 * 10, abs=1e-6)
    waits = result.district_waits.set_index(["service", "district"])["avg_wait_days"]
    assert waits["ot", "a"] == pytest.approx(waits["ot", "b"], abs=1e-6)
    assert max_violation(residuals(inputs, result)) < 1e-6


def test_knob_off_is_the_first_solve_alone() -> None:
    inputs = inputs_of(twins(even_waits=False), twins_demand())
    assert not inputs.even_waits
    result = optimise.plan(inputs, simulation_runs=0)
    model = optimise.build_model(inputs)
    old = optimise.extract(inputs, model, optimise.solve(model))
    assert result.tie_break == "none" and result.tie_break_seconds == 0.0
    pd.testing.assert_frame_equal(result.hours, old.hours)
    pd.testing.assert_frame_equal(result.backlog, old.backlog)
    assert result.objective_weighted_wait_days == old.objective_weighted_wait_days
    assert result.first_stage_weighted_wait_days == result.objective_weighted_wait_days
    assert result.worst_wait_sum_days == result.first_stage_worst_wait_sum_days
    assert max_violation(residuals(inputs, result)) < 1e-6


def test_configs_keep_validating_and_the_knob_is_checked() -> None:
    assert PlanningConfig.model_validate(rich_config()).equity is None
    assert inputs_of(rich_config(), rich_demand()).even_waits  # on without an equity section
    assert inputs_of(full_config(), rich_demand()).even_waits  # and with an older one
    assert not inputs_of(twins(even_waits=False), twins_demand()).even_waits
    with pytest.raises(ValidationError, match="even_waits_tolerance"):
        PlanningConfig.model_validate(twins(even_waits_tolerance=0.5))


@pytest.mark.parametrize(
    "config",
    [
        rich_config(),
        rich_config(revenue_budget_basis="financial_year"),
        full_config(),
        with_team_budgets(full_config(), [9000.0, 6500.0]),
    ],
    ids=["pooled", "pooled-by-year", "every-option", "team-budgets"],
)
def test_waiting_kept_within_tolerance_and_every_row_holds(config: dict[str, Any]) -> None:
    inputs = inputs_of(config, rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    off = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    assert result.tie_break == "even_waits" and not result.warnings
    assert result.first_stage_weighted_wait_days == off.objective_weighted_wait_days
    allowed = off.objective_weighted_wait_days * (1 + TOLERANCE) + ABSOLUTE_ROOM_DAYS
    assert result.objective_weighted_wait_days <= allowed + 1e-9
    assert result.worst_wait_sum_days <= off.worst_wait_sum_days + 1e-6
    found = residuals(inputs, result)
    assert {"keep_waiting", "waiting_reported", "worst_wait_reported"} <= {
        r.constraint for r in found
    }
    assert max_violation(found) < 1e-6


def test_a_larger_tolerance_buys_more_evenness_at_its_stated_price() -> None:
    # Waits alone: with steady hours in the objective too, a looser tolerance may buy
    # steadiness instead, so the evenness term alone need not fall.
    raw = rich_config(equity={"steady_hours_weight": 0})
    tight = optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0)
    raw = rich_config(equity={"even_waits_tolerance": 0.01, "steady_hours_weight": 0})
    loose = optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0)
    first = loose.first_stage_weighted_wait_days
    assert loose.objective_weighted_wait_days <= first * 1.01 + ABSOLUTE_ROOM_DAYS
    assert loose.worst_wait_sum_days <= tight.worst_wait_sum_days + 1e-6


def test_shadow_prices_are_the_first_solves() -> None:
    inputs = inputs_of(full_config(), rich_demand())
    on = optimise.plan(inputs, simulation_runs=0)
    off = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    pd.testing.assert_frame_equal(on.shadow_prices, off.shadow_prices)


def _team_net_gbp(inputs: PlanInputs, result: PlanResult) -> pd.Series:
    """Staff and agency cost less DFG fees, per team and period (no care charges here)."""
    staffing = result.staffing
    # each row's service and period: the rate is the period's (S, T)
    at = (staffing["service"].map(inputs.services.index), staffing["period"] - 1)
    cost = staffing["staff_hours"] * inputs.cost_per_hour_gbp[at]
    cost += staffing["agency_hours"] * inputs.agency_cost_per_hour_gbp[at]
    spend = cost.groupby([staffing["team"], staffing["period"]]).sum()
    team = pd.Series(np.asarray(inputs.teams)[inputs.team_of_district], index=inputs.districts)
    capital = result.capital
    fees = capital["fee_income_gbp"].groupby([capital["district"].map(team), capital["period"]])
    return spend - fees.sum()


def test_a_pooled_budget_is_not_moved_between_teams() -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    on = optimise.plan(inputs, simulation_runs=0)
    off = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    assert (_team_net_gbp(inputs, on) <= _team_net_gbp(inputs, off) + 1e-6).all()


def test_under_a_pooled_budget_the_second_stage_splits_by_team() -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    model = optimise.build_model(inputs)
    first = optimise.solve(model)
    assert len(parts(model, 0)) == 1  # the budget couples the two teams
    assert len(parts(_split_by_team(inputs, model, first), 0)) == 2


@pytest.mark.parametrize("solver", ["cbc", "pulp-highs"])
def test_every_solver_finds_the_same_evenness(solver: str) -> None:
    # Teams on their own budgets: nothing left for a solver to choose between teams either.
    inputs = inputs_of(with_team_budgets(rich_config(), [9000.0, 6500.0]), rich_demand())
    highs = optimise.plan(inputs, simulation_runs=0)
    other = optimise.plan(inputs, solver=solver, simulation_runs=0)
    assert other.tie_break == "even_waits"
    assert other.worst_wait_sum_days == pytest.approx(highs.worst_wait_sum_days, rel=1e-5)
    assert max_violation(residuals(inputs, other)) < 1e-3  # CBC: ~1e-4 GBP on capital rows


def test_the_start_basis_is_complete_and_changes_nothing_but_time() -> None:
    inputs = inputs_of(full_config(), rich_demand())
    model = optimise.build_model(inputs)
    first = optimise.solve(model)
    second = even_waits_model(inputs, model, first)
    start = start_basis(inputs, model, second, first)
    assert start is not None
    basic = (start.col_status == 1).sum() + (start.row_status == 1).sum()
    assert basic == second.num_rows
    warm = optimise.solve(second, ranging=False, start=start)
    cold = optimise.solve(second, ranging=False)
    assert warm.ok and cold.ok
    assert warm.objective == pytest.approx(cold.objective, rel=1e-7, abs=1e-9)


def test_a_failed_second_solve_keeps_the_first_plan_and_says_so(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(*_args: object, **_kwargs: object) -> SolveResult:
        return empty_result("highs", SolveStatus.TIME_LIMIT, 0.0, "HiGHS: Time limit")

    monkeypatch.setattr("optimise.tiebreak.solve", failing)
    inputs = inputs_of(twins(), twins_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL and result.tie_break == "none"
    assert any("even waits" in w and "ran out of time" in w for w in result.warnings)
    assert result.objective_weighted_wait_days == pytest.approx(420.0, rel=1e-9)


def test_a_relaxed_plan_relaxes_the_same_after_the_tie_break() -> None:
    hours = {"ot": bounds(0, 100), "hao": bounds(30, 40)}  # the floor costs over the budget
    inputs = inputs_of(hand_config(teams=[{"id": "north", "hours": hours}]), hand_demand())
    on = optimise.plan(inputs, simulation_runs=0)
    off = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    assert on.status is optimise.PlanStatus.INFEASIBLE_RELAXED and on.tie_break == "even_waits"
    pd.testing.assert_frame_equal(on.relaxations, off.relaxations)
    broken = {r.constraint for r in residuals(inputs, on) if r.violation > 1e-6}
    assert broken == {"revenue"}  # what the relaxation reports, and nothing else


def test_the_checker_catches_waiting_beyond_the_tolerance() -> None:
    inputs = inputs_of(twins(), twins_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    claimed = replace(result, first_stage_weighted_wait_days=400.0)
    broken = {r.constraint for r in residuals(inputs, claimed) if r.violation > 1e-6}
    assert broken == {"keep_waiting"}


def _moved_hours(result: PlanResult) -> float:
    """Sum over service and district of the hours' moves from one week to the next."""
    hours = result.hours.pivot_table(
        index=["service", "district"], columns="period", values="hours"
    ).to_numpy()
    return float(np.abs(np.diff(hours, axis=1)).sum())


def test_steady_hours_cut_needless_churn_and_keep_the_waiting() -> None:
    """Plans tying on waiting differ in how districts' hours swing week to week; the second
    solve prefers steady ones (here 828 hours moved without the term, 767 with it), with the
    waiting held as before."""
    inputs = inputs_of(rich_config(), rich_demand())
    steady = optimise.plan(inputs, simulation_runs=0)
    loose = optimise.plan(replace(inputs, steady_hours_weight=0.0), simulation_runs=0)
    assert inputs.steady_hours_weight == 0.1  # the default
    assert _moved_hours(steady) < 0.95 * _moved_hours(loose)
    first = steady.first_stage_weighted_wait_days
    assert first == pytest.approx(loose.first_stage_weighted_wait_days, rel=1e-9)
    assert (
        steady.objective_weighted_wait_days <= first * (1 + TOLERANCE) + ABSOLUTE_ROOM_DAYS + 1e-9
    )
    assert max_violation(residuals(inputs, steady)) < 1e-6


def test_the_steady_hours_weight_is_checked() -> None:
    assert inputs_of(twins(steady_hours_weight=0), twins_demand()).steady_hours_weight == 0.0
    with pytest.raises(ValidationError, match="steady_hours_weight"):
        PlanningConfig.model_validate(twins(steady_hours_weight=-1))


def pair() -> dict[str, Any]:
    """One team, two districts (aa, bb), three services; the LP audit's instance."""
    hours = {"ot": bounds(0, 120), "reablement": bounds(0, 300), "domcare": bounds(0, 500)}
    reablement = service("reablement", 20.0, 25.0, 1.5, hospital_delay_weight=1.0)
    return hand_config(
        name="pair",
        horizon_periods=8,
        services=[service("ot", 6.0, 40.0, 1.0), reablement, service("domcare", 30.0, 20.0, 1.2)],
        teams=[{"id": "north", "hours": hours}],
        districts=[
            district(
                "aa",
                "north",
                50000.0,
                {"ot": 30, "reablement": 5, "domcare": 4},
                initial_works_backlog_cases=10,
                cost_per_adaptation_gbp=7000.0,
            ),
            district(
                "bb",
                "north",
                20000.0,
                {"ot": 20, "reablement": 3, "domcare": 2},
                initial_works_backlog_cases=5,
                cost_per_adaptation_gbp=7000.0,
            ),
        ],
        revenue_budget_gbp_per_period=15000.0,
        fees={"dfg_fee_rate": 0.1},
        flows={"p_ot_dfg": 0.2, "p_reab_dom": 0.4},
    )


def pair_demand(bb_domcare: float) -> pd.DataFrame:
    """Weekly cases with a wiggle; home care in bb `bb_domcare` cases every week."""
    level = {"ot": 10.0, "reablement": 6.0, "domcare": 5.0}
    wiggle = 1 + 0.05 * np.sin(np.arange(8))
    cases = {
        (s, d): list(level[s] * f * wiggle) for s in level for d, f in (("aa", 1), ("bb", 0.6))
    }
    cases[("domcare", "bb")] = [bb_domcare] * 8
    return demand_frame(cases)


def test_a_mean_demand_below_the_floor_has_no_average_wait() -> None:
    inputs = inputs_of(pair(), pair_demand(MIN_DEMAND_CASES * 0.99))
    domcare, bb = inputs.services.index("domcare"), inputs.districts.index("bb")
    assert (wait_days_per_case(inputs)[domcare, bb] == 0).all()
    inputs = inputs_of(pair(), pair_demand(MIN_DEMAND_CASES))
    assert wait_days_per_case(inputs)[domcare, bb] == pytest.approx(7 / MIN_DEMAND_CASES)


@pytest.mark.parametrize("solver", ["highs", "cbc"])
@pytest.mark.parametrize("tiny", [1e-20, 1e-10])
def test_a_near_zero_forecast_leaves_the_tie_break_well_scaled(solver: str, tiny: float) -> None:
    """Its wait coefficient, 7 days / mean demand, was 7e20: CBC then published an all-zero
    plan (nothing served while 30 OT cases waited in aa) as optimal, and HiGHS gave up on the
    second solve ("unbounded"). Below the floor the series has no average wait, so the plan
    is the one where it has no demand at all, evened out, with every balance kept."""
    inputs = inputs_of(pair(), pair_demand(tiny))
    first = optimise.plan(replace(inputs, even_waits=False), simulation_runs=0)
    result = optimise.plan(inputs, solver=solver, simulation_runs=0)
    none = optimise.plan(inputs_of(pair(), pair_demand(0.0)), solver=solver, simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL and result.tie_break == "even_waits"
    assert not [w for w in result.warnings if w.startswith("even waits")]
    allowed = TOLERANCE * first.objective_weighted_wait_days + 1e-5
    assert abs(result.objective_weighted_wait_days - first.objective_weighted_wait_days) < allowed
    balances = [
        r.violation for r in residuals(inputs, result) if r.constraint in ("backlog", "works")
    ]
    assert max(balances) < 1e-5
    assert max_violation(residuals(inputs, result)) < 1e-3  # CBC: ~4e-4 GBP on capital rows
    np.testing.assert_allclose(result.hours["hours"], none.hours["hours"], atol=1e-5)


def test_a_failed_second_solve_names_a_near_zero_forecast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def failing(*_args: object, **_kwargs: object) -> SolveResult:
        return empty_result("highs", SolveStatus.UNBOUNDED, 0.0, "HiGHS: Unbounded")

    monkeypatch.setattr("optimise.tiebreak.solve", failing)
    result = optimise.plan(inputs_of(pair(), pair_demand(1e-4)), simulation_runs=0)
    (warning,) = [w for w in result.warnings if w.startswith("even waits")]
    assert "did not give a usable plan (HiGHS: Unbounded)" in warning
    assert "so the solver lost precision" in warning
    assert "domcare in bb has a mean forecast of 0.0001 cases a period" in warning
    assert "set its forecast to 0" in warning
