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


def test_each_price_and_binding_row_gives_its_coordinates_as_columns() -> None:
    """A dashboard had to parse `index` ('ot/north/3', 'north-warwickshire/1', '1'), whose
    form depends on the constraint, to join a price to its service, team, district or week."""
    result = optimise.plan(inputs_of(rich_config(), rich_demand()), simulation_runs=0)
    for frame in (result.shadow_prices, result.binding):
        assert {"service", "team", "district", "budget", "year", "period"} <= set(frame.columns)
        for row in frame.itertuples():
            parts = [
                str(v) for v in (row.budget, row.service, row.team, row.district, row.year,
                                 row.period) if v is not None and v == v
            ]  # fmt: skip
            assert sorted(parts) == sorted(row.index.split("/")), row
    team = result.shadow_prices[result.shadow_prices["constraint"] == "team_hours_max"].iloc[0]
    assert team["service"] in ("ot", "hao", "reablement", "domcare") and team["team"] in (
        "north",
        "south",
    )
    assert team["district"] is None and int(team["period"]) >= 1
    capital = result.shadow_prices[result.shadow_prices["constraint"] == "capital"].iloc[0]
    assert capital["district"] == capital["index"] and capital["period"] is None


def test_statements_name_districts_by_their_config_names_and_the_index_keeps_ids() -> None:
    """A capital price read "an extra GBP 1,000 of DFG capital for melton", the config's id,
    where the plan's warnings and every dashboard card say "Melton": a config's `name` is how
    a plan writes a district (optimise/config.py DistrictConfig)."""
    raw = rich_config(equity={"even_waits": False})
    raw["districts"][0] = {
        **raw["districts"][0],
        "name": "Rugby Borough",
        "hours": {"ot": {"max_per_period": 20.0}},
    }
    result = optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0)
    prices = result.shadow_prices.set_index(["constraint", "index"])
    capital = prices.loc[("capital", "rugby")]
    assert "DFG capital for Rugby Borough " in capital["statement"]
    assert capital["district"] == "rugby"
    ceiling = prices.loc[("district_hours_max", "ot/rugby/1")]
    assert "an extra OT hour allowed in Rugby Borough (its own ceiling)" in ceiling["statement"]
    assert ceiling["unit"].endswith("saved per extra OT hour allowed in Rugby Borough")
    districts = result.shadow_prices.dropna(subset=["district"])
    assert not districts["statement"].str.contains(r"\brugby\b").any()
