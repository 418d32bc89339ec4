"""Serving an OT case puts p_ot_dfg of a person in the DFG works queue, which the objective
also weighs. Where works cannot be completed as fast (capital spent) and p_ot_dfg x
works_wait_weight is at or above OT's own weight, the least weighted waiting assesses almost
no one: GBP 1,000,000 a week, p_ot_dfg 0.2 and works_wait_weight 6 used none of OT's 960
hours. The objective is the user's choice; the config is now warned of, and a plan whose OT
queue grows all year names the weights as its cause, not "the budget and the staff limits"
(the budget was 45 times what could be spent)."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

import optimise
from optimise.config import PlanningConfig, works_weight_warnings
from optimise.horizon import unserved_demand_warning
from optimise.result import PlanResult
from tests.optimise.factory import inputs_of, rich_config, rich_demand

WEEKS = 16
WEEK = pd.Timedelta(weeks=1)


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


def _plan(scale: float = 1.0, **overrides: Any) -> tuple[Any, PlanResult]:
    demand = rich_demand(periods=WEEKS)
    demand["cases"] *= scale
    inputs = inputs_of(rich_config(horizon_periods=WEEKS, **overrides), demand)
    return inputs, optimise.plan(inputs, simulation_runs=0)


def test_ot_held_back_by_its_weights_is_not_blamed_on_the_budget_or_staff() -> None:
    """Money no object (GBP 1,000,000 a week) and OT's hours idle: the plan serves almost no
    OT case and its warning had said the budget and staff limits could not keep up."""
    inputs, result = _plan(works_wait_weight=6.0, revenue_budget_gbp_per_period=1e6)
    assert result.status.value == "optimal"
    text = unserved_demand_warning(inputs, result)
    assert text is not None and text in result.warnings
    assert text.startswith("demand outruns the plan all through it: OT 24 cases arriving a week")
    assert (
        "held back by the objective's weights, not by the budget or staff limits (more of its "
        "hours would go unused): each OT case assessed puts p_ot_dfg 0.3 of a person in the DFG "
        "works queue, whose days weigh works_wait_weight 6: 1.8 a day, at least OT's own "
        "(wait_weight 1)"
    ) in text
    assert "an OT weight above 1.8 serves it" in text
    assert "cannot keep up" not in text and "check its units" not in text
    assert text.endswith(
        "Where the objective's weights hold a service back, more money or staff would not "
        "serve it: give it a higher wait weight"
    )


def test_an_ot_weight_of_0_plans_and_names_the_weight() -> None:
    inputs, result = _plan(services=_ot(wait_weight=0.0), revenue_budget_gbp_per_period=1e6)
    text = unserved_demand_warning(inputs, result)
    assert text is not None
    assert (
        "held back by the objective's weights, not by the budget or staff limits (more of its "
        "hours would go unused): its weight is 0 (wait_weight 0), so its waiting costs the plan "
        "nothing"
    ) in text
    assert "cannot keep up" not in text


def test_demand_the_budget_cannot_serve_names_the_budget_and_the_staff_limits_reached() -> None:
    """Monthly counts on weekly rows: the revenue budget is spent every week (and HAO's teams
    are at their ceilings), which the warning names for each service it holds back."""
    inputs, result = _plan(scale=4.35)
    text = unserved_demand_warning(inputs, result)
    assert text is not None
    assert "OT 105 cases arriving a week" in text
    assert (
        "the wait at the end 1,745 days, held back by the budget: the revenue budget spent in "
        "all 16 weeks;"
    ) in text
    assert (
        "held back by the budget and staff limits: the revenue budget spent in all 16 weeks, "
        "team north's HAO hours at max_per_period in all 16 weeks"
    ) in text
    assert "objective's weights" not in text
    assert text.endswith(
        "Where the budget or staff limits hold a service back, they cannot keep up with this "
        "demand; if it is higher than expected, check its units (monthly counts on weekly rows "
        "are 4.3 times too high)"
    )


def test_a_budget_spent_in_a_few_weeks_is_not_what_holds_back_a_service_idle_in_the_rest() -> None:
    """The demo with OT's weights at 1e-06 named the budget, spent in its last 4 of 52 weeks
    for other services' sake, as OT's cause, while OT's paid hours sat idle for half the year.
    Here home care's demand is six times as high in the last 4 of 16 weeks, which the budget
    (GBP 12,000 a week) cannot serve: it is spent in those weeks alone, and prices OT's hours
    (which bring fee income) in 2 of them, while OT's cases wait in all 16 and its hours sit
    idle in the other 14. Judged week by week, OT is held back by its weights, and home care,
    whose cases wait only in the weeks of the surge, by the budget."""
    demand = rich_demand(periods=WEEKS)
    surge = (demand["service"] == "domcare") & (demand["ds"] >= demand["ds"].min() + 12 * WEEK)
    demand.loc[surge, "cases"] *= 6
    raw = rich_config(
        horizon_periods=WEEKS,
        works_wait_weight=6.0,
        services=_ot(wait_weight=1e-06),
        revenue_budget_gbp_per_period=12000.0,
    )
    inputs = inputs_of(raw, demand)
    result = optimise.plan(inputs, simulation_runs=0)
    binding = result.binding
    assert sorted(binding.loc[binding["constraint"] == "revenue", "period"]) == [13, 14, 15, 16]
    text = unserved_demand_warning(inputs, result)
    assert text is not None
    assert (
        "OT 24 cases arriving a week, 1 served (3%), waiting cases from 90 to 461, the wait at "
        "the end without end (none served), held back by the objective's weights, not by the "
        "budget or staff limits (more of its hours would go unused in 14 of the plan's 16 "
        "weeks, with its cases waiting; in 2, more would cut waiting: the revenue budget spent "
        "in 2 of 16 weeks): each OT case assessed puts p_ot_dfg 0.3"
    ) in text
    assert (
        "domiciliary care 18 cases arriving a week, 15 served (84%), waiting cases from 13 to "
        "54, the wait at the end 15 days, held back by the budget: the revenue budget spent in "
        "4 of 16 weeks."
    ) in text
