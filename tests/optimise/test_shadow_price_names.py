"""Shadow-price sentences name services as planners do; the row's index keeps the config's ids."""

from __future__ import annotations

import optimise
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def test_statements_say_ot_hao_and_domiciliary_care_and_the_index_keeps_ids() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    team = result.shadow_prices[result.shadow_prices["constraint"].str.startswith("team_hours")]
    by_service = {row.index.split("/")[0]: row for row in team.itertuples()}
    assert {"ot", "hao", "domcare"} <= set(by_service)
    assert "extra OT" in by_service["ot"].statement + by_service["ot"].unit
    assert "HAO" in by_service["hao"].statement and "hao" not in by_service["hao"].statement
    assert "domiciliary care" in by_service["domcare"].statement
    assert "domcare" not in " ".join(team["statement"]) + " ".join(team["unit"])
