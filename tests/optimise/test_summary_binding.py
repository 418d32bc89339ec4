"""A plan's message names the limits that bind, not the rows that bind whenever hours are used."""

from __future__ import annotations

import optimise
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def test_the_message_leaves_out_hours_used_but_the_binding_table_keeps_it() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    binding = set(result.binding["constraint"])
    assert "team_hours_used" in binding  # paid hours all used: true in almost every plan
    assert "team hours used" not in result.message
    others = sorted(binding - {"team_hours_used"})
    assert others and all(f"{c.replace('_', ' ')} (" in result.message for c in others)
