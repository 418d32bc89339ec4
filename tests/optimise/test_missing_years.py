"""A config whose money by financial year lacks a year the plan reaches, in several fields
(the budget, a service's rate or charge, the fees, each district's capital), is refused
naming every such field at once, as the config's own format checks name every problem: it
named only the first, so each was mended in a round trip of its own."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from optimise.errors import PlanInputError, PlanInputProblems
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def _lacking_2024_25() -> dict[str, Any]:
    """rich, whose six weeks from 6 January 2025 start in 2024-25, with each money field by
    year giving only 2025-26."""
    raw = rich_config(revenue_budget_gbp_per_period=None)
    raw["revenue_budget_gbp_by_year"] = {"2025-26": 800_000.0}
    ot, _, _, domcare = raw["services"]
    ot.pop("cost_per_hour_gbp")
    ot["cost_per_hour_gbp_by_year"] = {"2025-26": 38.0}
    domcare["charge_gbp_per_hour_by_year"] = {"2025-26": 5.0}
    domcare["charge_paying_share"] = 0.5
    raw["fees"] = {"by_year": {"2025-26": {"dfg_fee_rate": 0.1}}}
    for district in raw["districts"]:
        district["capital_by_year_gbp"] = {"2025-26": district.pop("capital_gbp")}
    return raw


def test_every_field_lacking_a_year_is_named_together() -> None:
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_lacking_2024_25(), rich_demand())
    refused = caught.value
    assert isinstance(refused, PlanInputProblems)
    assert [p.field for p in refused.problems] == [
        "revenue_budget_gbp_by_year",
        "services[ot].cost_per_hour_gbp_by_year",
        "services[domcare].charge_gbp_per_hour_by_year",
        "districts[rugby].capital_by_year_gbp",
        "districts[nuneaton-and-bedworth].capital_by_year_gbp",
        "districts[warwick].capital_by_year_gbp",
        "fees.by_year",
    ]
    assert {p.found for p in refused.problems} == {'none for ["2024-25"]'}
    # the first is the error's own field, so a caller reading one field still reads a real one
    assert (refused.field, refused.found) == ("revenue_budget_gbp_by_year", 'none for ["2024-25"]')
    # said together, at most three of a kind: three districts here, each named
    message = str(refused)
    for problem in refused.problems:
        assert f"{problem.field}: expected {problem.expected}, found {problem.found}" in message


def test_four_districts_of_a_kind_name_three_and_count_the_rest() -> None:
    raw = _lacking_2024_25()
    extra = {**raw["districts"][0], "id": "stratford", "name": "Stratford-on-Avon"}
    raw["districts"].append(extra)
    demand = rich_demand()
    stratford = demand[demand["district"] == "rugby"].assign(district="stratford")
    demand = pd.concat([demand, stratford], ignore_index=True)
    with pytest.raises(PlanInputProblems) as caught:
        inputs_of(raw, demand)
    assert len(caught.value.problems) == 8
    message = str(caught.value)
    assert message.count("capital_by_year_gbp: expected") == 3
    assert "and 1 more of districts[].capital_by_year_gbp" in message


def test_one_field_lacking_a_year_is_refused_as_before() -> None:
    raw = rich_config(revenue_budget_gbp_per_period=None)
    raw["revenue_budget_gbp_by_year"] = {"2025-26": 800_000.0}
    with pytest.raises(PlanInputError) as caught:
        inputs_of(raw, rich_demand())
    assert not isinstance(caught.value, PlanInputProblems)
    assert caught.value.field == "revenue_budget_gbp_by_year"
