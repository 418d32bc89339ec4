"""A high year's contingency within the config's limits (optimise/risk.py): `max_change_per_period`
and the revenue budget the plan leaves bound the hours `risk_periods` calls buyable.

A reviewer's finding: `extra_hours_within_limits` checked only max_per_period and
agency_max_per_period, so a head of service was told hours could be bought when buying them
would overspend the revenue budget, or step a team's hours up faster than the config allows.
Each instance here is one team, one district and OT alone at one hour a case and GBP 10 an
hour, three weeks, a high year 1.3 times the planned referrals, so every figure is worked out
by hand in its test. A later finding: the split ignored a district's own ceiling
(districts[].hours.<service>.max_per_period, an LP row), counting as idle or within the limits
hours the LP could never spend in that district; its instances add a second district.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from optimise.plan import plan
from optimise.result import PlanResult
from optimise.risk import beyond_budget_warning, beyond_limits_warning, ramp_room
from tests.optimise.factory import demand_frame, district, inputs_of, service

SPLIT = (
    "idle_paid_hours_used",
    "extra_hours_within_limits",
    "hours_beyond_budget",
    "hours_beyond_limits",
)


def _close(actual: object, expected: object) -> None:
    """Equal to the solver's round-off (a plan's hours come back within 1e-7 of the hand's)."""
    np.testing.assert_allclose(actual, expected, rtol=1e-9, atol=1e-6)  # type: ignore[arg-type]


def _config(hours: dict[str, Any], budget: float, **extra: Any) -> dict[str, Any]:
    return {
        "name": "contingency",
        "version": "1",
        "period_days": 7,
        "horizon_periods": 3,
        "services": [service("ot", 1.0, 10.0, 1.0, **extra.pop("service", {}))],
        "teams": [{"id": "north", "hours": {"ot": {"min_per_period": 0.0, **hours}}}],
        "districts": [district("rugby", "north", 5000.0, {"ot": 0.0})],
        "revenue_budget_gbp_per_period": budget,
        "fees": {"dfg_fee_rate": 0.0},
        "flows": {"p_ot_dfg": 0.0, "p_reab_dom": 0.0},
        "works_wait_weight": 1.0,
        **extra,
    }


def _plan(raw: dict[str, Any], cases: list[float]) -> PlanResult:
    key = ("ot", "rugby")
    demand = demand_frame({key: cases}, low_factor={key: [0.9] * 3}, high_factor={key: [1.3] * 3})
    result = plan(inputs_of(raw, demand), simulation_runs=0)
    assert result.ok, result.message
    return result


def _ot(result: PlanResult) -> pd.DataFrame:
    """OT's risk_periods rows, checked to add up: every contingency hour in one part."""
    rows = result.risk_periods.set_index(["service", "period"]).loc["ot"]
    assert (rows[list(SPLIT)] >= -1e-9).all().all()
    _close(rows[list(SPLIT)].sum(axis=1), rows["contingency_hours"])
    return rows


def test_a_team_whose_plan_uses_its_whole_step_up_cannot_buy_more_in_house() -> None:
    """The plan steps OT up 100, 110, 120 hours, max_change_per_period 10 from current 100:
    in week 1 the step up leaves 10 hours (and the 110 of week 2 allows them to fall back);
    weeks 2 and 3 already rise by the whole 10. So of 30, 33 and 36 contingency hours only 10
    can be bought in-house (GBP 100); before, all of them were "within limits"."""
    hours = {"max_per_period": 200.0, "max_change_per_period": 10.0, "current_per_period": 100.0}
    result = _plan(_config(hours, 3000.0), [100.0, 110.0, 120.0])
    _close(result.staffing["staff_hours"], [100.0, 110.0, 120.0])
    ot = _ot(result)
    _close(ot["contingency_hours"], [30.0, 33.0, 36.0])
    _close(ot["extra_hours_within_limits"], [10.0, 0.0, 0.0])
    _close(ot["hours_beyond_limits"], [20.0, 33.0, 36.0])
    _close(ot["hours_beyond_budget"], 0.0)
    _close(ot["contingency_cost_gbp"], [100.0, 0.0, 0.0])
    warning = beyond_limits_warning(result.risk_periods)
    assert warning is not None and warning in result.warnings
    assert "89 of the 99 contingency hours" in warning and "max_change_per_period" in warning
    assert beyond_budget_warning(result.risk_periods) is None


def test_agency_hours_take_what_the_step_limit_leaves() -> None:
    """The same with 25 agency hours a week allowed (GBP 15 an hour, the default premium):
    agency has no step limit, so it buys 20, 25 and 25 of the rest."""
    hours = {
        "max_per_period": 200.0,
        "max_change_per_period": 10.0,
        "current_per_period": 100.0,
        "agency_max_per_period": 25.0,
    }
    ot = _ot(_plan(_config(hours, 3000.0), [100.0, 110.0, 120.0]))
    _close(ot["extra_hours_within_limits"], [30.0, 25.0, 25.0])
    _close(ot["hours_beyond_limits"], [0.0, 8.0, 11.0])
    _close(ot["contingency_cost_gbp"], [100.0 + 300.0, 375.0, 375.0])


def test_a_period_budget_pays_for_only_what_the_plan_leaves_of_it() -> None:
    """GBP 1,100 a week; the plan spends 1,000 (100 hours), leaving 100 a week: of the 30
    contingency hours a week (GBP 300) it pays for 10, and the other 20 (GBP 200), which
    max_per_period allows, are beyond the budget."""
    result = _plan(_config({"max_per_period": 200.0}, 1100.0), [100.0] * 3)
    _close(result.revenue["headroom_gbp"], 100.0)
    ot = _ot(result)
    _close(ot["extra_hours_within_limits"], 10.0)
    _close(ot["hours_beyond_budget"], 20.0)
    _close(ot["hours_beyond_limits"], 0.0)
    _close(ot["contingency_cost_gbp"], 100.0)
    _close(ot["cost_beyond_budget_gbp"], 200.0)
    warning = beyond_budget_warning(result.risk_periods)
    assert warning is not None and warning in result.warnings
    assert "the 60 contingency hours" in warning and "GBP 600" in warning
    assert beyond_limits_warning(result.risk_periods) is None


def test_a_financial_years_budget_is_spent_in_period_order() -> None:
    """The same budget held per financial year (the three weeks are in 2024-25): GBP 3,300,
    of which the plan leaves 300, all spent on week 1's 30 hours; weeks 2 and 3 get none."""
    raw = _config({"max_per_period": 200.0}, 1100.0, revenue_budget_basis="financial_year")
    ot = _ot(_plan(raw, [100.0] * 3))
    _close(ot["extra_hours_within_limits"], [30.0, 0.0, 0.0])
    _close(ot["hours_beyond_budget"], [0.0, 30.0, 30.0])
    _close(ot["contingency_cost_gbp"], [300.0, 0.0, 0.0])


def test_the_charge_income_of_the_hours_bought_helps_pay_for_them() -> None:
    """A charge of GBP 5 an hour every client pays, as the LP's revenue rows count it: the plan
    nets GBP 500 a week of a GBP 600 budget, and each contingency hour nets GBP 5, so the 100
    left pays for 20 of the 30 hours (GBP 200 before charges)."""
    charges = {"charge_gbp_per_hour": 5.0, "charge_paying_share": 1.0}
    result = _plan(_config({"max_per_period": 200.0}, 600.0, service=charges), [100.0] * 3)
    _close(result.revenue["headroom_gbp"], 100.0)
    ot = _ot(result)
    _close(ot["extra_hours_within_limits"], 20.0)
    _close(ot["hours_beyond_budget"], 10.0)
    _close(ot["contingency_cost_gbp"], 200.0)


def test_with_budget_and_step_limit_slack_every_hour_below_the_ceiling_is_within() -> None:
    """A budget with room (GBP 3,000 a week for 1,000 of hours) and a step limit of 40: the
    split is as before either was checked, all 30 hours a week within the limits."""
    hours = {"max_per_period": 200.0, "max_change_per_period": 40.0, "current_per_period": 100.0}
    result = _plan(_config(hours, 3000.0), [100.0] * 3)
    ot = _ot(result)
    _close(ot["extra_hours_within_limits"], 30.0)
    _close(ot[["hours_beyond_budget", "hours_beyond_limits"]], 0.0)
    _close(ot["contingency_cost_gbp"], 300.0)
    _close(ot["cost_beyond_budget_gbp"], 0.0)
    assert not any("contingency hours" in w for w in result.warnings)


@pytest.mark.parametrize("seed", range(5))
def test_extra_hours_within_the_step_bounds_keep_every_step_within_the_limit(seed: int) -> None:
    """`ramp_room` is a bound any choice of extra hours within it keeps: random staff paths
    that keep max_change_per_period, and random extra hours up to each period's bound (none,
    some or all of it), never step by more than the limit, from current hours either."""
    rng = np.random.default_rng(seed)
    hours = {"max_per_period": 200.0, "max_change_per_period": 10.0, "current_per_period": 50.0}
    inputs = inputs_of(_config(hours, 3000.0), demand_frame({("ot", "rugby"): [100.0] * 3}))
    for _ in range(200):
        staff = 50.0 + np.cumsum(rng.uniform(-10.0, 10.0, 3))[None, None, :]
        room = ramp_room(inputs, staff)
        assert np.isfinite(room).all() and (room >= 0).all()
        extra = room * rng.choice([0.0, 1.0, rng.uniform()], size=room.shape)
        path = np.concatenate([[50.0], (staff + extra).ravel()])
        assert np.abs(np.diff(path)).max() <= 10.0 + 1e-9


def _two_districts(team_hours: dict[str, Any], rugby_max: float | None) -> PlanResult:
    """North serves Rugby and Warwick, 100 OT cases a week each (a high year 130), with the
    budget to spare (GBP 10,000 a week); Rugby's own ceiling is `rugby_max` hours a week."""
    raw = _config(team_hours, 10000.0)
    rugby = district("rugby", "north", 5000.0, {"ot": 0.0})
    if rugby_max is not None:
        rugby["hours"] = {"ot": {"max_per_period": rugby_max}}
    raw["districts"] = [rugby, district("warwick", "north", 5000.0, {"ot": 0.0})]
    keys = [("ot", "rugby"), ("ot", "warwick")]
    demand = demand_frame(
        {key: [100.0] * 3 for key in keys},
        low_factor={key: [0.9] * 3 for key in keys},
        high_factor={key: [1.3] * 3 for key in keys},
    )
    result = plan(inputs_of(raw, demand), simulation_runs=0)
    assert result.ok, result.message
    hours = result.hours.set_index(["district", "period"])["hours"]
    _close(hours.loc["rugby"], 100.0)
    _close(hours.loc["warwick"], 100.0)
    return result


def test_idle_hours_do_not_cover_a_district_at_its_own_ceiling() -> None:
    """A reviewer's finding: the split ignored districts[].hours.<service>.max_per_period, a
    row of the LP. North is held at a 300-hour floor and uses 200, so 100 paid hours sit
    idle; but the plan gives Rugby its whole ceiling of 100 hours, so none of Rugby's 30
    extra hours can be served: only Warwick's 30 are idle hours used, Rugby's 30 are beyond
    the limits (before: all 60 idle hours used, none beyond)."""
    result = _two_districts({"min_per_period": 300.0, "max_per_period": 400.0}, 100.0)
    _close(result.staffing["staff_hours"], 300.0)
    ot = _ot(result)
    _close(ot["contingency_hours"], 60.0)
    _close(ot["idle_paid_hours_used"], 30.0)
    _close(ot["hours_beyond_limits"], 30.0)
    _close(ot[["extra_hours_within_limits", "hours_beyond_budget"]], 0.0)
    warning = beyond_limits_warning(result.risk_periods)
    assert warning is not None and "90 of the 180 contingency hours" in warning
    assert "districts' own max_per_period" in warning


def test_hours_bought_for_a_district_stop_at_its_own_ceiling() -> None:
    """No floor, so north's 200 staff hours are all used and the 60 extra must be bought (its
    max_per_period, 400, allows them): Rugby's ceiling of 110 leaves it 10 of its 30, so 40
    are within the limits (GBP 400) and 20 beyond (before: all 60 within, GBP 600)."""
    result = _two_districts({"max_per_period": 400.0}, 110.0)
    _close(result.staffing["staff_hours"], 200.0)
    ot = _ot(result)
    _close(ot["extra_hours_within_limits"], 40.0)
    _close(ot["hours_beyond_limits"], 20.0)
    _close(ot[["idle_paid_hours_used", "hours_beyond_budget"]], 0.0)
    _close(ot["contingency_cost_gbp"], 400.0)


@pytest.mark.parametrize("rugby_max", [None, 130.0, 1000.0])
def test_a_district_ceiling_with_room_for_the_high_year_changes_nothing(
    rugby_max: float | None,
) -> None:
    """With no district ceiling, or one at or above the high year's 130 hours, every one of
    the 60 hours is within the limits, as before the ceiling was checked."""
    ot = _ot(_two_districts({"max_per_period": 400.0}, rugby_max))
    _close(ot["extra_hours_within_limits"], 60.0)
    _close(ot[["idle_paid_hours_used", "hours_beyond_limits", "hours_beyond_budget"]], 0.0)
