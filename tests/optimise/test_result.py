"""PlanResult renders to JSON for the API and to a text table for the CLI."""

from __future__ import annotations

import json

import numpy as np

import optimise
from tests.optimise.factory import (
    bounds,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
)


def test_to_dict_is_json() -> None:
    result = optimise.plan(inputs_of(hand_config(), hand_demand()))
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["status"] == "optimal"
    assert payload["hours"][0]["ds"] == "2025-01-06"
    assert {"statement", "range_low", "range_high"} <= set(payload["shadow_prices"][0])


def test_summary_table_names_status_and_prices() -> None:
    text = optimise.plan(inputs_of(hand_config(), hand_demand())).summary_table()
    assert text.startswith("status: optimal")
    assert "GBP 1,000" in text


def test_infeasible_to_dict_is_json() -> None:
    raw = hand_config(teams=[{"id": "north", "hours": {"ot": bounds(0, 9), "hao": bounds(30, 40)}}])
    result = optimise.plan(inputs_of(raw, hand_demand()))
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert payload["status"] == "infeasible_relaxed"
    assert payload["relaxations"]


def test_staffing_gives_fte_where_a_service_gives_hours_per_fte() -> None:
    """fte = in-house staff hours / (hours_per_fte x weeks in the period), per team and week;
    null for a service without hours_per_fte, and no column when no service gives one."""
    raw = rich_config()
    assert "fte" not in optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0).staffing
    raw["services"][0]["hours_per_fte"] = 30.0  # ot
    inputs = inputs_of(raw, rich_demand())
    staffing = optimise.plan(inputs, simulation_runs=0).staffing
    ot = staffing["service"] == "ot"
    weeks = inputs.period_days / 7
    assert np.allclose(staffing.loc[ot, "fte"], staffing.loc[ot, "staff_hours"] / (30.0 * weeks))
    assert staffing.loc[ot, "fte"].gt(0).all()
    assert staffing.loc[~ot, "fte"].isna().all()
