"""A district's own hours floor and ceiling and its own wait cap (districts[].hours,
districts[].max_avg_wait_days): held by the plan, relaxed and named when they cannot be."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimise
from optimise.check import max_violation, residuals
from optimise.config import read_stored
from optimise.inputs import PlanInputs, build_inputs
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand

# rich_config's north team gives its 120 OT hours a week to rugby and nuneaton-and-bedworth,
# whose OT cases wait at the same weight: left to itself (one solve) the plan gives rugby 40,
# none in week 2, then 112, 120, 120 and 46 (one of many plans with the least waiting: the
# solver's pick for the LP in its canonical order, optimise/canonical.py).


def _rugby(**limits: Any) -> dict[str, Any]:
    """rich_config with rugby's (districts[0]) own limits."""
    raw = rich_config(equity={"even_waits": False})
    raw["districts"][0] = {**raw["districts"][0], **limits}
    return raw


def _plan(raw: dict[str, Any]) -> tuple[PlanInputs, PlanResult]:
    inputs = inputs_of(raw, rich_demand())
    return inputs, optimise.plan(inputs, simulation_runs=0)


def _ot_hours(result: PlanResult, district: str = "rugby") -> pd.Series:
    hours = result.hours
    return hours[(hours["service"] == "ot") & (hours["district"] == district)].set_index("period")[
        "hours"
    ]


def test_a_district_floor_raises_its_hours_to_the_floor() -> None:
    _, plain = _plan(_rugby())
    inputs, result = _plan(_rugby(hours={"ot": {"min_per_period": 70.0}}))
    assert result.status is optimise.PlanStatus.OPTIMAL
    assert _ot_hours(plain).min() < 1.0
    assert (_ot_hours(result) >= 70.0 - 1e-6).all()
    assert max_violation(residuals(inputs, result)) < 1e-6


def test_a_district_ceiling_holds_binds_and_is_priced() -> None:
    _, plain = _plan(_rugby())
    inputs, result = _plan(_rugby(hours={"ot": {"max_per_period": 20.0}}))
    assert result.status is optimise.PlanStatus.OPTIMAL
    assert _ot_hours(plain).max() > 100.0
    assert _ot_hours(result).max() == pytest.approx(20.0)
    binding = result.binding[result.binding["constraint"] == "district_hours_max"]
    assert "ot/rugby/1" in set(binding["index"]) and set(binding["district"]) == {"rugby"}
    prices = result.shadow_prices.set_index(["constraint", "index"])
    price = prices.loc[("district_hours_max", "ot/rugby/1")]
    assert price["value"] > 0 and price["district"] == "rugby" and price["service"] == "ot"
    assert "an extra OT hour allowed in Rugby (its own ceiling) saves" in price["statement"]
    assert max_violation(residuals(inputs, result)) < 1e-6


def _backlog_over_cap(inputs: PlanInputs, result: PlanResult, days: float, first: int) -> float:
    """The most rugby's OT backlog is above `days` of its arrivals from period `first`, cases."""
    care = result.backlog[
        (result.backlog["service"] == "ot") & (result.backlog["district"] == "rugby")
    ]
    backlog = care.groupby("period")["backlog_cases"].sum().to_numpy()
    cap = days * inputs.demand_cases[0, 0, :] / inputs.period_days
    return float(np.max((backlog - cap)[first - 1 :]))


def test_a_district_wait_cap_holds_and_moves_hours_to_it() -> None:
    equity = {"even_waits": False, "applies_from_period": 3}
    _, plain = _plan({**_rugby(), "equity": equity})
    raw = {**_rugby(max_avg_wait_days={"ot": 10.0}), "equity": equity}
    inputs, capped = _plan(raw)
    assert capped.status is optimise.PlanStatus.OPTIMAL
    assert _backlog_over_cap(inputs, plain, 10.0, 3) > 1.0  # the cap is not met without it
    assert _backlog_over_cap(inputs, capped, 10.0, 3) <= 1e-6
    # in some week, hours the plain plan gave nuneaton-and-bedworth go to rugby instead
    gained = _ot_hours(capped) - _ot_hours(plain)
    lost = _ot_hours(plain, "nuneaton-and-bedworth") - _ot_hours(capped, "nuneaton-and-bedworth")
    assert ((gained > 1.0) & (lost > 1.0)).any()
    assert max_violation(residuals(inputs, capped)) < 1e-6


def test_an_impossible_wait_cap_is_relaxed_and_names_the_district() -> None:
    # 30 OT cases wait in rugby and 120 hours a week serve 20: one day's wait is out of reach
    _, result = _plan(_rugby(max_avg_wait_days={"ot": 1.0}))
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    gave = result.relaxations
    assert set(gave["constraint"]) == {"district_wait_cap"}
    first = gave.set_index("index").loc["ot/rugby/1"]
    assert first["where"] == "service ot, district rugby, period 1" and first["amount"] > 0
    assert "district_wait_cap (service ot, district rugby, period 1)" in result.message


def test_a_stored_floor_above_the_team_ceiling_plans_relaxed_naming_the_district() -> None:
    """Refused when sent (test_config.py); a stored one plans, the floor giving way."""
    raw = _rugby(hours={"ot": {"min_per_period": 150.0}})
    inputs = build_inputs(read_stored(raw), rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    gave = result.relaxations
    assert set(gave["constraint"]) == {"district_hours_min"}
    assert gave["index"].str.startswith("ot/rugby/").all() and len(gave) == 6
    assert "district_hours_min (service ot, district rugby, period" in result.message
    # rugby's cases take 120 hours a week at most, and fewer than 150 over the weeks as a whole
    broken = [r for r in residuals(inputs, result) if r.violation > 1e-6]
    assert {r.constraint for r in broken} == {"district_hours_min"}
    assert sum(r.violation for r in broken) == pytest.approx(gave["amount"].sum())


def test_without_district_limits_the_model_is_unchanged() -> None:
    """Limits left out (or a floor of 0) add no rows: every existing plan solves as before."""
    raw = _rugby(hours={"ot": {"min_per_period": 0.0}}, max_avg_wait_days={})
    model = optimise.build_model(inputs_of(raw, rich_demand()))
    plain = optimise.build_model(inputs_of(rich_config(), rich_demand()))
    assert model.rows.keys() == plain.rows.keys() and model.num_rows == plain.num_rows
