"""Figures far beyond any council's are refused at entry, naming the field, the ceiling and the
figure: before, `hours_per_case: 1e15` was stored and made active and its plan ended with the
solver's status error and empty tables, `wait_weight: 1e10` planned "optimal" at 4e13 weighted
waiting days, and a backlog of 1e12 cases at 8.7e14. A config stored before the ceilings is
still read (as every entry check added since leaves a stored config)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any, get_args

import pytest
from pydantic import BaseModel, ValidationError

from homeward.demo_config import demo_planning_config
from optimise.config import (
    CEILINGS,
    MAX_WAIT_WEIGHT,
    PlanningConfig,
    config_problems,
    read_stored,
)

Change = Callable[[dict[str, Any]], None]


def _service(field: str, value: float) -> Change:
    return lambda body: body["services"][0].__setitem__(field, value)


def _district(field: str, value: Any) -> Change:
    return lambda body: body["districts"][0].__setitem__(field, value)


def _team_hours(field: str, value: float) -> Change:
    return lambda body: body["teams"][0]["hours"]["ot"].__setitem__(field, value)


def _top(field: str, value: Any) -> Change:
    return lambda body: body.__setitem__(field, value)


# (change, the refused field's location, what it is found as)
CASES: list[tuple[Change, tuple[Any, ...], str]] = [
    (_service("hours_per_case", 1e15), ("services", 0, "hours_per_case"), "1,000,000,000,000,000"),
    (_service("wait_weight", 1e308), ("services", 0, "wait_weight"), "1e+308"),
    (_service("wait_weight", 1e10), ("services", 0, "wait_weight"), "10,000,000,000"),
    (_service("urgent_wait_weight", 1001), ("services", 0, "urgent_wait_weight"), "1,001"),
    (_service("hospital_delay_weight", 1e6), ("services", 0, "hospital_delay_weight"), "1,000,000"),
    (_service("agency_premium", 11), ("services", 0, "agency_premium"), "11"),
    (_service("wait_warning_days", 1e9), ("services", 0, "wait_warning_days"), "1,000,000,000"),
    (_top("works_wait_weight", 2000.5), ("works_wait_weight",), "2,000.5"),
    (_top("period_days", 400), ("period_days",), "400"),
    (
        _district("initial_backlog_cases", {"domcare": 1e12}),
        ("districts", 0, "initial_backlog_cases", "domcare"),
        "1,000,000,000,000",
    ),
    (
        _district("initial_works_backlog_cases", 2e6),
        ("districts", 0, "initial_works_backlog_cases"),
        "2,000,000",
    ),
    (
        _district("max_works_per_period", 1e7),
        ("districts", 0, "max_works_per_period"),
        "10,000,000",
    ),
    (
        _district("max_avg_wait_days", {"ot": 1e5}),
        ("districts", 0, "max_avg_wait_days", "ot"),
        "100,000",
    ),
    (
        _district("hours", {"ot": {"max_per_period": 1e8}}),
        ("districts", 0, "hours", "ot", "max_per_period"),
        "100,000,000",
    ),
    (
        _team_hours("agency_max_per_period", 1e8),
        ("teams", 0, "hours", "ot", "agency_max_per_period"),
        "100,000,000",
    ),
    (
        _team_hours("max_change_per_period", 1e12),
        ("teams", 0, "hours", "ot", "max_change_per_period"),
        "1,000,000,000,000",
    ),
    (
        _top("equity", {"worst_district_weight": 1e7}),
        ("equity", "worst_district_weight"),
        "10,000,000",
    ),
    (_top("equity", {"max_avg_wait_days": 1e5}), ("equity", "max_avg_wait_days"), "100,000"),
    (_top("equity", {"applies_from_period": 521}), ("equity", "applies_from_period"), "521"),
]


def _body(change: Change) -> dict[str, Any]:
    body = copy.deepcopy(demo_planning_config(horizon_periods=13))
    change(body)
    return body


@pytest.mark.parametrize(("change", "loc", "found"), CASES)
def test_a_figure_beyond_its_ceiling_is_refused_at_its_field(
    change: Change, loc: tuple[Any, ...], found: str
) -> None:
    body = _body(change)
    with pytest.raises(ValidationError) as raised:
        PlanningConfig.model_validate(body)
    problems = config_problems(raised.value)
    where = ".".join(str(p) for p in loc)
    ceiling = CEILINGS[next(p for p in reversed(loc) if p in CEILINGS)]
    assert problems == f"{where}: expected {ceiling.expected()}, found {found}"


@pytest.mark.parametrize(("change", "loc", "found"), CASES)
def test_a_config_stored_before_the_ceilings_is_still_read(
    change: Change, loc: tuple[Any, ...], found: str
) -> None:
    read_stored(_body(change))


def test_every_ceiling_names_a_field_of_the_config_and_the_demo_is_within_them() -> None:
    """A ceiling keyed by a name no model has would refuse nothing."""
    models: list[type[BaseModel]] = [PlanningConfig]
    names: set[str] = set()
    while models:
        model = models.pop()
        for name, field in model.model_fields.items():
            names.add(name)
            models.extend(_models_in(field.annotation))
    assert set(CEILINGS) <= names
    PlanningConfig.model_validate(demo_planning_config(horizon_periods=13))


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def test_a_weight_at_the_ceiling_is_taken() -> None:
    body = _body(_service("wait_weight", MAX_WAIT_WEIGHT))
    assert PlanningConfig.model_validate(body).services[0].wait_weight == MAX_WAIT_WEIGHT
