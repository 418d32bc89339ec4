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


def test_config_changes_show_a_budget_by_year_and_each_years_change_in_full(
    factory: sessionmaker[Session],
) -> None:
    """A budget moved from per period to by financial year names both fields, the years with
    their amounts in full (not 5650000.0); a year's amount changed or added is its own line."""
    body = demo_config.demo_planning_config(horizon_periods=4)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    yearly = copy.deepcopy(body)
    del yearly["revenue_budget_gbp_per_period"]
    yearly["revenue_budget_gbp_by_year"] = {"2026-27": 5650000.0, "2027-28": 5900000.5}
    per_period = int(body["revenue_budget_gbp_per_period"])  # whole pounds in the demo
    with factory() as session:
        assert planning.config_changes(session, yearly) == [
            'revenue_budget_gbp_by_year: null -> {"2026-27": 5650000, "2027-28": 5900000.5}',
            f"revenue_budget_gbp_per_period: {per_period} -> null",
        ]
    with transaction(factory) as session:
        repository.save_config(session, yearly, planning.config_hash(yearly))
    changed = copy.deepcopy(yearly)
    changed["revenue_budget_gbp_by_year"] = {"2026-27": 5650000.0, "2027-28": 6100000.0}
    changed["revenue_budget_gbp_by_year"]["2028-29"] = 6200000.0
    with factory() as session:
        assert planning.config_changes(session, changed) == [
            "revenue_budget_gbp_by_year.2027-28: 5900000.5 -> 6100000",
            "revenue_budget_gbp_by_year.2028-29: null -> 6200000",
        ]
