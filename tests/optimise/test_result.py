"""PlanResult renders to JSON for the API and to a text table for the CLI."""

from __future__ import annotations

import json

import optimise
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of


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
