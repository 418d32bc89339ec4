"""PlanningConfig and build_inputs reject bad input with messages naming field, expected, found."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from optimise.config import PlanningConfig, RefusedValue, read_stored, refused_value
from optimise.errors import PlanInputError
from tests.optimise.factory import (
    bounds,
    demand_frame,
    hand_config,
    hand_demand,
    inputs_of,
    refusal,
    rich_config,
)


def _error(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    return str(caught.value)


def test_the_documented_shape_validates() -> None:
    config = PlanningConfig.model_validate(rich_config())
    assert [s.id for s in config.services] == ["ot", "hao", "reablement", "domcare"]


def test_negative_cost_names_the_field() -> None:
    raw = hand_config()
    raw["services"][0]["cost_per_hour_gbp"] = -5
    text = _error(raw)
    assert "services.0.cost_per_hour_gbp" in text and "greater than or equal to 0" in text
    assert "-5" in text


def test_wrong_sign_weight_names_the_field() -> None:
    raw = hand_config()
    raw["services"][1]["wait_weight"] = -1.0
    assert "services.1.wait_weight" in _error(raw)


def test_unknown_key_is_rejected() -> None:
    assert "budget" in _error(hand_config(budget=5))


def test_team_without_districts() -> None:
    hours = {"ot": bounds(0, 100), "hao": bounds(0, 5)}
    raw = hand_config(teams=[{"id": "north", "hours": hours}, {"id": "empty", "hours": hours}])
    assert "teams[empty]: expected at least one district" in _error(raw)


def test_district_with_unknown_team() -> None:
    raw = hand_config()
    raw["districts"][0]["team"] = "west"
    assert "districts[rugby].team: expected one of ['north'], found \"west\"" in _error(raw)


def test_min_above_max_hours() -> None:
    raw = hand_config(teams=[{"id": "north", "hours": {"ot": bounds(9, 5), "hao": bounds(0, 5)}}])
    assert "min_per_period: expected <= max_per_period (5.0), found 9.0" in _error(raw)


def test_missing_service_bounds_for_a_team() -> None:
    raw = hand_config(teams=[{"id": "north", "hours": {"ot": bounds(0, 5)}}])
    assert 'found none for ["hao"]' in _error(raw)


def test_urgent_share_needs_a_weight() -> None:
    raw = hand_config()
    raw["services"][0]["urgent_share"] = 0.2
    assert "urgent_wait_weight" in _error(raw)


def test_horizon_longer_than_demand() -> None:
    with pytest.raises(PlanInputError) as caught:
        inputs_of(hand_config(horizon_periods=3), hand_demand())
    assert caught.value.field == "horizon_periods"
    assert (
        str(caught.value)
        == "horizon_periods: expected at most 2: the weeks of the demand from the plan's start "
        "(2025-01-06 to 2025-01-13), found 3"
    )


def test_demand_missing_a_row() -> None:
    demand = hand_demand()
    demand = demand[~((demand["service"] == "hao") & (demand["ds"] == demand["ds"].max()))]
    with pytest.raises(
        PlanInputError, match="no cases for service hao, district rugby, ds 2025-01-13"
    ):
        inputs_of(hand_config(), demand)


def test_a_district_whose_demand_starts_early_does_not_stop_the_plan() -> None:
    """ot/rugby's history ended a week before hao/rugby's, so its forecast starts a week
    earlier: the plan starts when both have demand, with the same number of periods."""
    demand = demand_frame({("ot", "rugby"): [4.0, 5.0, 6.0], ("hao", "rugby"): [8.0, 8.0]})
    hao = demand["service"] == "hao"
    demand.loc[hao, "ds"] = demand.loc[hao, "ds"] + pd.Timedelta(weeks=1)
    inputs = inputs_of(hand_config(), demand)
    assert inputs.period_start == tuple(sorted(demand.loc[hao, "ds"]))
    late = r"at most 2: .* \(2025-01-13, the first week every service and district has demand"
    with pytest.raises(PlanInputError, match=late):
        inputs_of(hand_config(horizon_periods=3), demand)


def test_demand_negative_cases() -> None:
    demand = hand_demand()
    demand.loc[1, "cases"] = -3.0
    with pytest.raises(PlanInputError, match=r"demand.cases \(service ot, district rugby"):
        inputs_of(hand_config(), demand)


def test_demand_missing_column() -> None:
    with pytest.raises(PlanInputError, match="no column \\['cases'\\]"):
        inputs_of(hand_config(), hand_demand().drop(columns="cases"))


def test_build_inputs_does_not_change_the_frame() -> None:
    demand = hand_demand()
    before = demand.copy()
    inputs_of(hand_config(), demand)
    assert demand.equals(before)


@pytest.mark.parametrize(
    ("text", "loc"),
    [
        ('"revenue_budget_gbp_per_period": 1e400', ("revenue_budget_gbp_per_period",)),
        ('"revenue_budget_gbp_per_period": Infinity', ("revenue_budget_gbp_per_period",)),
        ('"revenue_budget_gbp_per_period": NaN', ("revenue_budget_gbp_per_period",)),
    ],
)
def test_a_non_finite_number_in_json_is_refused(text: str, loc: tuple[str, ...]) -> None:
    """Python's json reads 1e400 and Infinity as inf, as FastAPI and the CLI both do."""
    raw = json.loads(
        json.dumps(hand_config()).replace('"revenue_budget_gbp_per_period": 200.0', text)
    )
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    [err] = caught.value.errors()
    assert err["loc"] == loc and err["type"] == "finite_number"


@pytest.mark.parametrize(
    "where",
    [
        ("services", 0, "cost_per_hour_gbp"),
        ("teams", 0, "hours", "ot", "max_per_period"),
        ("districts", 0, "capital_gbp"),
        ("districts", 0, "initial_backlog_cases", "ot"),
        ("fees", "max_fee_per_case_gbp"),
    ],
)
def test_infinity_is_refused_in_every_nested_number(where: tuple[str | int, ...]) -> None:
    raw = hand_config()
    parent: Any = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = math.inf
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    [err] = caught.value.errors()
    assert err["loc"] == where and err["type"] == "finite_number"


def test_a_cross_field_error_locates_the_field_and_its_value_not_the_whole_config() -> None:
    raw = hand_config()
    raw["districts"].append({**raw["districts"][0], "id": "warwick", "team": "east"})
    assert refusal(raw) == RefusedValue(("districts", 1, "team"), "one of ['north']", '"east"')


@pytest.mark.parametrize(
    ("change", "loc"),
    [
        (
            lambda raw: raw["teams"][0]["hours"].update(ot=bounds(9, 5)),
            ("teams", 0, "hours", "ot", "min_per_period"),
        ),
        (
            lambda raw: raw["districts"][0]["initial_backlog_cases"].update(hao=-1),
            ("districts", 0, "initial_backlog_cases", "hao"),
        ),
        (
            lambda raw: raw["services"][0].update(urgent_share=0.2),
            ("services", 0, "urgent_wait_weight"),
        ),
        (lambda raw: raw["teams"][0]["hours"].pop("hao"), ("teams", 0, "hours")),
        (lambda raw: raw["services"].append(raw["services"][0]), ("services", 2, "id")),
        (lambda raw: raw.pop("revenue_budget_gbp_per_period"), ("revenue_budget_gbp_per_period",)),
        (
            lambda raw: raw.update(
                fees={"dfg_fee_rate": 0.1, "min_fee_per_case_gbp": 9, "max_fee_per_case_gbp": 5}
            ),
            ("fees", "min_fee_per_case_gbp"),
        ),
        (
            lambda raw: raw.update(winter={"quantile_column": "q90", "months": [12, 13]}),
            ("winter", "months", 1),
        ),
        (
            lambda raw: raw["districts"][0].update(hours={"ot": bounds(9, 5)}),
            ("districts", 0, "hours", "ot", "min_per_period"),
        ),
        (
            lambda raw: raw["districts"][0].update(hours={"reablement": {"max_per_period": 5}}),
            ("districts", 0, "hours", "reablement"),
        ),
        (
            lambda raw: raw["districts"][0].update(max_avg_wait_days={"domcare": 28}),
            ("districts", 0, "max_avg_wait_days", "domcare"),
        ),
        (
            lambda raw: raw["districts"][0].update(max_avg_wait_days={"ot": 0}),
            ("districts", 0, "max_avg_wait_days", "ot"),
        ),
        (
            lambda raw: raw["districts"][0].update(hours={"hao": {"min_per_period": 6}}),
            ("districts", 0, "hours", "hao", "min_per_period"),
        ),
    ],
)
def test_every_model_level_check_names_its_field(
    change: Callable[[dict[str, Any]], object], loc: tuple[str | int, ...]
) -> None:
    raw = hand_config()
    change(raw)
    refused = refusal(raw)
    assert refused.loc == loc
    assert not refused.expected.startswith(("Value error", "expected"))
    assert len(refused.found) < 40  # the value at fault, not the model around it


@pytest.mark.parametrize(("rate", "meant"), [(15, "0.15"), (2.5, "0.025"), (100, "1")])
def test_a_fee_rate_given_as_a_percentage_says_the_fraction_meant(rate: float, meant: str) -> None:
    """`dfg_fee_rate: 15` was refused only as "less than or equal to 1"."""
    raw = hand_config()
    raw["fees"] = {"dfg_fee_rate": rate}
    with pytest.raises(ValidationError) as refused:
        PlanningConfig.model_validate(raw)
    [error] = refused.value.errors()
    said = refused_value(error)
    assert said is not None and said.loc == ("fees", "dfg_fee_rate")
    assert said.expected == "a fraction from 0 to 1 (0.15 for 15%)"
    assert said.found == f"{rate:g} (a percentage? write {meant})"


@pytest.mark.parametrize(
    ("given", "field", "expected", "found"),
    [
        (
            {"charge_gbp_per_hour": 15},
            "charge_paying_share",
            "a fraction above 0 (to 1) paying it because charge_gbp_per_hour is 15",
            "0 (the default: no one pays the charge)",
        ),
        (
            {"charge_paying_share": 0.5},
            "charge_gbp_per_hour",
            "a charge above 0 GBP per hour because charge_paying_share is 0.5",
            "0 (the default: no charge)",
        ),
    ],
)
def test_a_care_charge_needs_its_paying_share_and_a_share_its_charge(
    given: dict[str, float], field: str, expected: str, found: str
) -> None:
    """A charge of GBP 15 an hour with no paying share planned with no charge income, the
    same waits as without it, and no word (and a share with no charge likewise)."""
    raw = hand_config()
    raw["services"][1].update(given)
    assert refusal(raw) == RefusedValue(("services", 1, field), expected, found)


def test_a_care_charge_with_its_paying_share_is_planned_with() -> None:
    raw = hand_config()
    raw["services"][1].update(charge_gbp_per_hour=15, charge_paying_share=0.5)
    [_, hao] = PlanningConfig.model_validate(raw).services
    assert (hao.charge_gbp_per_hour, hao.charge_paying_share) == (15, 0.5)


@pytest.mark.parametrize(
    ("where", "text"),
    [
        (("fees", "dfg_fee_rate"), "0.2"),
        (("services", 0, "cost_per_hour_gbp"), "25"),
        (("period_days",), "7"),
        (("teams", 0, "hours", "ot", "max_per_period"), "100"),
        (("districts", 0, "initial_backlog_cases", "ot"), "3"),
        (("revenue_budget_gbp_per_period",), "£108,595"),  # as typed: was "\u00a3108,595"
    ],
)
def test_a_number_given_as_text_is_refused_naming_the_field(
    where: tuple[str | int, ...], text: str
) -> None:
    """`"dfg_fee_rate": "0.2"` was read as 0.2 in a config (pydantic's lax mode) while a
    sweep's `"dfg_fee_rates": ["0.1"]` was refused: a config is as strict as a sweep now."""
    raw = hand_config(fees={"dfg_fee_rate": 0.1})
    parent: Any = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = text
    assert refusal(raw) == RefusedValue(where, "a number", f'"{text}" (text)')


def test_whole_numbers_where_fractions_go_and_json_numbers_still_validate() -> None:
    raw = json.loads(json.dumps(rich_config(revenue_budget_gbp_per_period=16_000)))
    raw["services"][0]["cost_per_hour_gbp"] = 25
    config = PlanningConfig.model_validate(raw)
    assert config.revenue_budget_gbp_per_period == 16_000
    assert config.services[0].cost_per_hour_gbp == 25


@pytest.mark.parametrize(
    "where",
    [
        ("services", 1, "charge_paying_share"),
        ("services", 1, "urgent_share"),
        ("services", 1, "hospital_share"),
        ("flows", "p_ot_dfg"),
        ("flows", "p_reab_dom"),
        ("fees", "dfg_fee_rate"),
    ],
)
def test_every_fraction_given_as_a_percentage_says_the_fraction_meant(
    where: tuple[str | int, ...],
) -> None:
    """`charge_paying_share: 50` was refused only as "less than or equal to 1", where
    `dfg_fee_rate: 15` was told "a percentage? write 0.15"."""
    raw = hand_config()
    raw["services"][1].update(charge_gbp_per_hour=15, charge_paying_share=0.5, urgent_wait_weight=2)
    parent: Any = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = 50
    expected = "a fraction from 0 to 1 (0.15 for 15%)"
    assert refusal(raw) == RefusedValue(where, expected, "50 (a percentage? write 0.5)")


@pytest.mark.parametrize(
    "where",
    [
        ("revenue_budget_gbp_per_period",),
        ("services", 0, "cost_per_hour_gbp"),
        ("districts", 0, "capital_gbp"),
        ("districts", 0, "cost_per_adaptation_gbp"),
        ("fees", "max_fee_per_case_gbp"),
    ],
)
def test_money_beyond_any_council_is_refused_naming_the_field(
    where: tuple[str | int, ...],
) -> None:
    """A budget of 1e308 was accepted, and its plan warned of "GBP inf a week"."""
    raw = hand_config(fees={"dfg_fee_rate": 0.1})
    parent: Any = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = 1e308
    refused = refusal(raw)
    assert (refused.loc, refused.found) == (where, "1e+308")
    assert refused.expected.startswith("at most GBP 100,000,000,000 (1e+11), more than any")
    parent[where[-1]] = 1e11  # the ceiling itself is a sum no council needs, but not refused
    PlanningConfig.model_validate(raw)


def test_money_just_above_the_ceiling_is_shown_in_full() -> None:
    """100000000001 was shown as "1e+11", reading as the ceiling it is above."""
    raw = hand_config(fees={"dfg_fee_rate": 0.1})
    for value, found in [(100_000_000_001, "100,000,000,001"), (1e11 + 0.5, "100,000,000,000.5")]:
        raw["revenue_budget_gbp_per_period"] = value
        assert refusal(raw).found == found


def test_a_refused_list_is_found_as_json() -> None:
    """A refused list or mapping is written as JSON (`["hao"]`), as the API says `found` is."""
    raw = hand_config(teams=[{"id": "north", "hours": {"ot": bounds(0, 5)}}])
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    refused = refused_value(caught.value.errors()[0])
    assert refused is not None and refused.found == 'none for ["hao"]'


@pytest.mark.parametrize(("hours", "hint"), [(0, ""), (-37, ""), (160, " (a month's")])
def test_hours_per_fte_is_a_week_above_zero_and_at_most_60(hours: float, hint: str) -> None:
    raw = hand_config()
    raw["services"][0]["hours_per_fte"] = hours
    with pytest.raises(ValidationError) as refused:
        PlanningConfig.model_validate(raw)
    [error] = refused.value.errors()
    said = refused_value(error)
    assert said is not None and said.loc == ("services", 0, "hours_per_fte")
    assert said.expected == "hours in one full-time week, above 0 and at most 60 (e.g. 37)"
    assert said.found.startswith(f"{hours:g}{hint}")


def test_hours_per_fte_is_optional() -> None:
    raw = hand_config()
    assert PlanningConfig.model_validate(raw).services[0].hours_per_fte is None
    raw["services"][0]["hours_per_fte"] = 37
    assert PlanningConfig.model_validate(raw).services[0].hours_per_fte == 37.0


def test_a_district_floor_above_its_teams_ceiling_says_what_the_team_can_give() -> None:
    """hand_config's team gives HAO 5 staff hours and 2 agency hours a week at most."""
    hours = {"ot": bounds(0, 100), "hao": bounds(0, 5, agency_max_per_period=2)}
    raw = hand_config(teams=[{"id": "north", "hours": hours}])
    raw["districts"][0]["hours"] = {"hao": {"min_per_period": 8}}
    refused = refusal(raw)
    assert refused.loc == ("districts", 0, "hours", "hao", "min_per_period")
    assert refused.expected.startswith("<= 7: team north's hao ceiling")
    assert refused.found == "8"
    raw["districts"][0]["hours"] = {"hao": {"min_per_period": 7, "max_per_period": 7}}
    assert PlanningConfig.model_validate(raw).districts[0].hours["hao"].min_per_period == 7


def test_a_negative_district_hours_limit_or_an_unknown_service_is_refused_at_its_field() -> None:
    raw = hand_config()
    raw["districts"][0]["hours"] = {"ot": {"max_per_period": -1}}
    assert "districts.0.hours.ot.max_per_period" in _error(raw)
    raw["districts"][0]["hours"] = {"physio": {"max_per_period": 10}}
    assert "districts.0.hours.physio" in _error(raw)
    raw["districts"][0]["hours"] = {"ot": {"min_per_period": 1, "floor": 2}}
    assert "districts.0.hours.ot.floor" in _error(raw)


@pytest.mark.parametrize(
    "where",
    [
        ("services", 0, "wait_weight"),
        ("services", 0, "urgent_wait_weight"),
        ("services", 1, "hospital_delay_weight"),
        ("works_wait_weight",),
    ],
)
@pytest.mark.parametrize("tiny", [1e-300, 5e-324, 9.9e-7])
def test_a_waiting_weight_above_0_but_under_a_millionth_is_refused_as_a_slip(
    where: tuple[str | int, ...], tiny: float
) -> None:
    """1e-300 was accepted: OT was then never served, and the plan blamed the budget."""
    raw = hand_config()
    raw["services"][0] |= {"urgent_share": 0.2, "urgent_wait_weight": 3.0}
    parent: Any = raw
    for key in where[:-1]:
        parent = parent[key]
    parent[where[-1]] = tiny
    refused = refusal(raw)
    assert refused.loc == where
    assert refused.expected == (
        "0 (not counted) or a weight of at least 1e-06 (1 counts a day of waiting once)"
    )
    assert refused.found == (
        f"{tiny:g} (a slip? below 1e-06 a day of waiting counts for less than a pound of staff "
        "spend)"
    )
    for allowed in (0.0, 1e-6):  # not counting a service's waiting is a choice, and planned
        parent[where[-1]] = allowed
        PlanningConfig.model_validate(raw)


def test_a_stored_config_with_a_tiny_weight_still_loads() -> None:
    """A config stored before the check still plans as it did (its plan names the weight)."""
    raw = hand_config(works_wait_weight=1e-300)
    assert read_stored(raw).works_wait_weight == 1e-300
