"""The order a config lists its services, districts and teams in changes nothing in a plan but
the order of its tables' rows (optimise/canonical.py). Before, the demo's config with its
districts listed in reverse had the same weighted waiting but moved 225 of 520 district-week
hours by more than an hour: the LP has many optimal plans and HiGHS's pick (and so each
team's share of the pooled budget, which the even-waits stage keeps) followed the order."""

from __future__ import annotations

import copy
import dataclasses
import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimise
from homeward.demo_config import demo_planning_config
from homeward.demo_series import DEMO_BASE_WEEKLY_REFERRALS
from optimise.build import build_model
from optimise.canonical import FIELD_AXES, UNORDERED, _entry_map, canonical_order
from optimise.elastic import relax
from optimise.inputs import PlanInputs
from optimise.model import LpModel
from optimise.result import PlanResult
from tests.optimise.factory import START, full_config, inputs_of, rich_demand
from tests.optimise.test_team_budgets import with_team_budgets

WEEKS = 13
LISTS = ("districts", "services", "teams")


def _demo() -> tuple[dict[str, Any], pd.DataFrame]:
    """The demo's config without its winter, and demand that swings +-15% over half a year,
    each district out of step with the last (as the tester's script had it)."""
    raw = demo_planning_config(horizon_periods=WEEKS)
    raw.pop("winter", None)
    rows = [
        {
            "service": s,
            "district": d,
            "ds": START + pd.Timedelta(weeks=t),
            "cases": round(base * (1 + 0.15 * math.sin(2 * math.pi * (t + 3 * i) / 26)), 3),
        }
        for s, by_district in DEMO_BASE_WEEKLY_REFERRALS.items()
        for i, (d, base) in enumerate(by_district.items())
        for t in range(WEEKS)
    ]
    return raw, pd.DataFrame(rows)


def _reversed(raw: dict[str, Any], *lists: str) -> dict[str, Any]:
    out = copy.deepcopy(raw)
    for name in lists:
        out[name] = out[name][::-1]
    return out


def _plan(raw: dict[str, Any], demand: pd.DataFrame) -> PlanResult:
    return optimise.plan(inputs_of(raw, demand), simulation_runs=0)


def _hours(result: PlanResult) -> pd.Series:
    return result.hours.set_index(["service", "district", "period"])["hours"].sort_index()


@pytest.fixture(scope="module")
def demo() -> tuple[dict[str, Any], pd.DataFrame, PlanResult]:
    raw, demand = _demo()
    return raw, demand, _plan(raw, demand)


@pytest.mark.parametrize("lists", [(name,) for name in LISTS] + [LISTS])
def test_the_demo_listed_in_another_order_plans_the_same_hours(
    demo: tuple[dict[str, Any], pd.DataFrame, PlanResult], lists: tuple[str, ...]
) -> None:
    raw, demand, base = demo
    other = _plan(_reversed(raw, *lists), demand)
    assert base.tie_break == other.tie_break == "even_waits"
    for figure in (
        "objective_weighted_wait_days",
        "first_stage_weighted_wait_days",
        "worst_wait_sum_days",
        "first_stage_worst_wait_sum_days",
    ):  # the same solution, summed exactly whatever the order
        assert getattr(other, figure) == getattr(base, figure), figure
    pd.testing.assert_series_equal(_hours(other), _hours(base), rtol=0, atol=1e-6)
    staffing = ["service", "team", "period"]
    pd.testing.assert_frame_equal(
        other.staffing.set_index(staffing).sort_index(),
        base.staffing.set_index(staffing).sort_index(),
        rtol=0,
        atol=1e-6,
    )


def test_the_tables_keep_the_configs_order(
    demo: tuple[dict[str, Any], pd.DataFrame, PlanResult],
) -> None:
    raw, demand, _ = demo
    flipped = _reversed(raw, *LISTS)
    result = _plan(flipped, demand)
    assert list(result.hours["district"].unique()) == [d["id"] for d in flipped["districts"]]
    assert list(result.hours["service"].unique()) == [s["id"] for s in flipped["services"]]
    assert list(result.staffing["team"].unique()) == [t["id"] for t in flipped["teams"]]


def _busy() -> tuple[dict[str, Any], pd.DataFrame]:
    """full_config with a budget per team, a district's own limits and capital by year: every
    axis a config orders, budgets included, in one LP."""
    raw = with_team_budgets(full_config(), [9000.0, 7000.0])
    raw["districts"][0]["hours"] = {"ot": {"min_per_period": 5.0, "max_per_period": 60.0}}
    raw["districts"][1]["max_avg_wait_days"] = {"hao": 90.0}
    for d in raw["districts"]:
        d["capital_by_year_gbp"] = {"2024-25": d.pop("capital_gbp")}
    return raw, rich_demand()


def _same_lp(a: LpModel, b: LpModel, exact: bool = True) -> None:
    assert list(a.columns) == list(b.columns) and list(a.rows) == list(b.rows)
    for name in ("cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if exact:
        assert (a.matrix != b.matrix).nnz == 0
    else:  # but for round-off: a district's referrals are summed over services in its order
        assert (a.matrix.astype(bool) != b.matrix.astype(bool)).nnz == 0
        assert abs(a.matrix - b.matrix).max() <= 1e-12 * abs(b.matrix).max()
    assert a.labels == b.labels


def test_any_order_builds_the_same_lp_once_sorted() -> None:
    raw, demand = _busy()
    canon = build_model(canonical_order(inputs_of(raw, demand)).inputs)
    for lists in [(name,) for name in LISTS] + [LISTS]:
        other = canonical_order(inputs_of(_reversed(raw, *lists), demand)).inputs
        _same_lp(build_model(other), canon)


@pytest.mark.parametrize("relaxed", [False, True])
def test_the_sorted_lp_is_the_configs_lp_in_another_order(relaxed: bool) -> None:
    """The map from the config's columns and rows to the sorted LP's is a permutation that
    carries one LP onto the other exactly: what `solution` relies on."""
    raw, demand = _busy()
    inputs = inputs_of(_reversed(raw, *LISTS), demand)
    order = canonical_order(inputs)
    model, canon = build_model(inputs), build_model(order.inputs)
    if relaxed:
        model, canon = relax(model, inputs), relax(canon, order.inputs)
    cols = _entry_map(canon.columns, model.columns, order.position)
    rows = _entry_map(canon.rows, model.rows, order.position)
    assert not order.identity
    assert sorted(cols) == list(range(model.num_cols))
    assert sorted(rows) == list(range(model.num_rows))
    moved = dataclasses.replace(
        model,
        cost=canon.cost[cols],
        col_lower=canon.col_lower[cols],
        col_upper=canon.col_upper[cols],
        row_lower=canon.row_lower[rows],
        row_upper=canon.row_upper[rows],
        matrix=canon.matrix[rows][:, cols],
    )
    _same_lp(moved, model, exact=False)


@pytest.mark.parametrize("budget", [None, 100.0])  # 100: relaxed, money named as missing
def test_prices_and_relaxations_do_not_follow_the_order(budget: float | None) -> None:
    raw, demand = _busy()
    if budget is not None:
        raw["teams"] = [{**t, "revenue_budget_gbp_per_period": budget} for t in raw["teams"]]
    base = _plan(raw, demand)
    other = _plan(_reversed(raw, *LISTS), demand)
    assert base.status is other.status
    assert (base.status.value == "infeasible_relaxed") == (budget is not None)
    pd.testing.assert_series_equal(_hours(other), _hours(base), rtol=0, atol=1e-6)
    for table in ("shadow_prices", "relaxations"):
        keys = ["constraint", "index"]
        mine = getattr(other, table).set_index(keys).sort_index()
        theirs = getattr(base, table).set_index(keys).sort_index()
        pd.testing.assert_frame_equal(mine, theirs, rtol=0, atol=1e-9, check_like=True)


def test_a_config_in_sorted_order_is_solved_as_it_is() -> None:
    raw, demand = _busy()
    raw["districts"] = sorted(raw["districts"], key=lambda d: d["id"])  # the rest are already
    assert canonical_order(inputs_of(raw, demand)).identity


def test_every_input_is_sorted_or_has_no_ordered_axis() -> None:
    """A field added to PlanInputs must say how it is sorted (optimise/canonical.py)."""
    names = {f.name for f in dataclasses.fields(PlanInputs)}
    assert set(FIELD_AXES) | UNORDERED == names
    assert not set(FIELD_AXES) & UNORDERED


def test_a_display_name_changes_nothing_but_itself(
    demo: tuple[dict[str, Any], pd.DataFrame, PlanResult],
) -> None:
    raw, demand, base = demo
    renamed = copy.deepcopy(raw)
    renamed["districts"][0]["name"] = "Zzz"
    other = _plan(renamed, demand)
    pd.testing.assert_series_equal(_hours(other), _hours(base), rtol=0, atol=0)


def test_demand_frame_order_is_irrelevant_too() -> None:
    raw, demand = _busy()
    base = _plan(raw, demand)
    other = _plan(raw, demand.iloc[::-1].reset_index(drop=True))
    pd.testing.assert_series_equal(_hours(other), _hours(base), rtol=0, atol=1e-9)
