"""A what-if's `config_changes` name each changed field with both values in full, so a change
of a pound in a million still reads as a change."""

from __future__ import annotations

import copy

from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.storage import transaction


def test_config_changes_show_numbers_in_full(factory: sessionmaker[Session]) -> None:
    body = demo_config.demo_planning_config(horizon_periods=4)
    body["districts"][0]["capital_gbp"] = 1013778.0
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    changed = copy.deepcopy(body)
    changed["districts"][0]["capital_gbp"] = 1013782.0
    changed["revenue_budget_gbp_per_period"] = 108595.4
    changed["fees"]["dfg_fee_rate"] = 0.125
    district = body["districts"][0]["id"]
    with factory() as session:
        changes = planning.config_changes(session, changed)
    assert changes == [
        f"districts[{district}].capital_gbp: 1013778 -> 1013782",
        "fees.dfg_fee_rate: 0.1 -> 0.125",
        "revenue_budget_gbp_per_period: 108595 -> 108595.4",
    ]
