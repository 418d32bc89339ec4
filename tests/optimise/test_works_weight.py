"""Serving an OT case puts p_ot_dfg of a person in the DFG works queue, which the objective
also weighs. Where works cannot be completed as fast (capital spent) and p_ot_dfg x
works_wait_weight is at or above OT's own weight, the least weighted waiting assesses almost
no one: GBP 1,000,000 a week, p_ot_dfg 0.2 and works_wait_weight 6 used none of OT's 960
hours. The objective is the user's choice; the config is now warned of it."""

from __future__ import annotations

from typing import Any

import pytest

from optimise.config import PlanningConfig, works_weight_warnings
from tests.optimise.factory import rich_config


def _warnings(**overrides: Any) -> tuple[str, ...]:
    return works_weight_warnings(PlanningConfig.model_validate(rich_config(**overrides)))


def _ot(**extra: Any) -> list[dict[str, Any]]:
    services = rich_config()["services"]
    return [{**s, **extra} if s["id"] == "ot" else s for s in services]


def test_an_ot_weight_below_what_its_assessments_add_to_the_works_queue_is_named() -> None:
    [text] = _warnings(works_wait_weight=6.0)  # p_ot_dfg 0.3 x 6 = 1.8 against OT's 1
    assert text == (
        "services[ot]: each OT case assessed puts p_ot_dfg 0.3 of a person in the DFG works "
        "queue, whose days weigh works_wait_weight 6: 1.8 a day, at least OT's own wait_weight "
        "1. Where works cannot be completed as fast as OT refers them (capital_gbp or "
        "max_works_per_period), the plan may hold back OT assessments to keep people out of the "
        "works queue, even with budget and staff to spare. For OT cases to be assessed, give OT "
        "a wait_weight above 1.8 (p_ot_dfg x works_wait_weight), or a lower works_wait_weight"
    )


@pytest.mark.parametrize(
    ("overrides", "warned"),
    [
        ({}, False),  # 0.3 x 1 against 1: the rich config's own weights
        ({"works_wait_weight": 3.0}, False),  # 0.9 against 1
        ({"flows": {"p_ot_dfg": 0.25, "p_reab_dom": 0.4}, "works_wait_weight": 4.0}, True),  # 1
        ({"services": _ot(wait_weight=0.0)}, True),  # 0.3 against 0
        ({"flows": {"p_ot_dfg": 0.0, "p_reab_dom": 0.4}, "works_wait_weight": 6.0}, False),
        ({"works_wait_weight": 0.0}, False),
        # OT's waiting cases in hospital weigh more: 1 + 2 x 0.5 = 2 against 1.8
        (
            {
                "works_wait_weight": 6.0,
                "services": _ot(hospital_delay_weight=2.0, hospital_share=0.5),
            },
            False,
        ),
    ],
)
def test_the_warning_is_given_where_assessing_costs_at_least_what_it_saves(
    overrides: dict[str, Any], warned: bool
) -> None:
    assert bool(_warnings(**overrides)) is warned


def test_only_the_priority_class_whose_weight_is_too_low_is_named() -> None:
    services = _ot(urgent_share=0.2, urgent_wait_weight=3.0)
    [text] = _warnings(works_wait_weight=6.0, services=services)
    assert "at least OT's own wait_weight 1 (standard cases)." in text
    assert "urgent_wait_weight" not in text
    [both] = _warnings(works_wait_weight=20.0, services=services)  # 6 a day
    assert "wait_weight 1 (standard cases) and urgent_wait_weight 3 (urgent cases)" in both
    assert "give OT a wait_weight and urgent_wait_weight above 6 " in both


def test_a_config_without_ot_has_no_such_warning() -> None:
    raw = rich_config(works_wait_weight=6.0)
    raw["services"] = [s for s in raw["services"] if s["id"] != "ot"]
    for team in raw["teams"]:
        team["hours"] = {k: v for k, v in team["hours"].items() if k != "ot"}
    for district in raw["districts"]:
        district["initial_backlog_cases"].pop("ot")
    assert works_weight_warnings(PlanningConfig.model_validate(raw)) == ()
