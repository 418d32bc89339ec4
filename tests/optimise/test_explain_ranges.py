"""Shadow prices' ranges are ranges of their own row's bound (non-binding rows included); the
shadow price, binding and relaxation tables name a row the same way; baselines' costs are
defined as the plan's revenue rows define them."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimise
from homeward import demo_config
from homeward.demo_series import DEMO_BASE_WEEKLY_REFERRALS
from optimise.build import build_model
from optimise.config import PlanningConfig
from optimise.explain import PRICES, amount, entry_labels, index_text
from optimise.inputs import PlanInputs, build_inputs
from optimise.solve import solve
from tests.optimise.factory import (
    bounds,
    full_config,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
)


def _demo_inputs(weeks: int = 12, growth: float = 1.08, **changes: Any) -> PlanInputs:
    """The demo config (two teams, floors, ceilings) on flat demand: a realistic LP in which
    many floors and ceilings do not bind. `changes` go into the config's body."""
    body = demo_config.demo_planning_config(horizon_periods=weeks)
    body.pop("winter", None)  # spring weeks: no winter uplift to read
    config = PlanningConfig.model_validate({**body, **changes})
    starts = pd.date_range("2026-04-06", periods=weeks, freq="W-MON")
    demand = pd.DataFrame(
        [
            {"service": s, "district": d, "ds": w, "cases": n * growth}
            for s, by_district in DEMO_BASE_WEEKLY_REFERRALS.items()
            for d, n in by_district.items()
            for w in starts
        ]
    )
    return build_inputs(config, demand)


def _with_agency(body: dict[str, Any], hours: float) -> list[dict[str, Any]]:
    """The demo's teams, each allowed `hours` of agency a week for every service."""
    return [
        {
            **team,
            "hours": {s: {**h, "agency_max_per_period": hours} for s, h in team["hours"].items()},
        }
        for team in body["teams"]
    ]


def _bounds_by_row(inputs: PlanInputs) -> pd.DataFrame:
    """constraint, index, bound of every priced row and works limit, from the model itself."""
    model = build_model(inputs)
    outcome = solve(model, "highs")
    assert outcome.ok
    rows = []
    for name in PRICES:
        if name not in model.rows:
            continue
        block = model.rows[name]
        span = slice(block.start, block.stop)
        upper, lower = model.row_upper[span], model.row_lower[span]
        bound = np.where(np.isfinite(upper), upper, lower)
        for labels, b in zip(entry_labels(model, block), bound, strict=True):
            rows.append((name, index_text(labels), float(b)))
    works = model.columns["y"]
    limits = model.col_upper[works.start : works.stop]
    for labels, b in zip(entry_labels(model, works), limits, strict=True):
        if np.isfinite(b):  # a district's works limit: a bound on its works column
            rows.append(("works_limit", index_text(labels), float(b)))
    return pd.DataFrame(rows, columns=["constraint", "index", "bound"])


def _split_budgets() -> PlanInputs:
    """The demo with each team on its own budget: solved block by block (decompose.py)."""
    body = demo_config.demo_planning_config(horizon_periods=12)
    share = body["revenue_budget_gbp_per_period"] / len(body["teams"])
    teams = [{**t, "revenue_budget_gbp_per_period": share} for t in body["teams"]]
    return _demo_inputs(teams=teams, revenue_budget_gbp_per_period=None)


CASES = {
    "demo": _demo_inputs,
    "demo_split_budgets": _split_budgets,
    "rich": lambda: inputs_of(rich_config(), rich_demand()),
    "full": lambda: inputs_of(full_config(), rich_demand()),
    "hand": lambda: inputs_of(hand_config(), hand_demand()),
}


@pytest.mark.parametrize("case", list(CASES))
def test_every_reported_range_contains_its_own_bound(case: str) -> None:
    inputs = CASES[case]()
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status.value == "optimal"
    prices = result.shadow_prices.merge(_bounds_by_row(inputs), on=["constraint", "index"])
    assert len(prices) == len(result.shadow_prices)  # every priced row found by its index
    ranged = prices[prices["range_low"].notna() & prices["range_high"].notna()]
    assert len(ranged) == len(prices)  # HiGHS ranged every row
    low, high, bound = (
        ranged[c].to_numpy(dtype=float) for c in ("range_low", "range_high", "bound")
    )
    outside = ranged[(low > bound) | (bound > high)]
    assert outside.empty, outside[["constraint", "index", "bound", "range_low", "range_high"]]


def test_a_non_binding_row_holds_its_zero_price_on_its_slack_side() -> None:
    inputs = _demo_inputs(equity={"even_waits": False})  # binding rows of the priced solve
    result = optimise.plan(inputs, simulation_runs=0)
    prices = result.shadow_prices.merge(_bounds_by_row(inputs), on=["constraint", "index"])
    binding = set(map(tuple, result.binding[["constraint", "index"]].to_numpy()))
    loose = prices[
        [(c, i) not in binding for c, i in zip(prices["constraint"], prices["index"], strict=True)]
    ]
    floors = loose[loose["constraint"] == "team_hours_min"]
    ceilings = loose[loose["constraint"] == "team_hours_max"]
    assert len(floors) and len(ceilings)  # the demo has loose floors and ceilings
    assert (loose["value"].abs() < 1e-9).all()
    # a loose floor: its price stays 0 from -inf up to the hours it has (above its bound)
    assert (floors["range_low"] == -np.inf).all() and (floors["range_high"] > floors["bound"]).all()
    # a loose ceiling: from the hours it has (below its bound) up without limit
    assert (ceilings["range_high"] == np.inf).all()
    assert (ceilings["range_low"] < ceilings["bound"]).all()
    floor = floors.iloc[0]
    assert (
        f"holds for a bound up to {amount(floor['range_high'], 'hours')} hours"
        in floor["statement"]
    )


def test_ranges_survive_json_as_open_ends() -> None:
    result = optimise.plan(_demo_inputs(), simulation_runs=0)
    binding = set(result.binding["index"][result.binding["constraint"] == "team_hours_min"])
    rows = result.to_dict()["shadow_prices"]
    # a loose floor's zero price holds from -inf; a floor that binds, even at a zero price,
    # holds it over a finite range
    floors = [
        r
        for r in rows
        if r["constraint"] == "team_hours_min" and r["value"] == 0 and r["index"] not in binding
    ]
    assert floors and all(r["range_low"] is None and r["range_high"] is not None for r in floors)


def test_shadow_prices_binding_and_relaxations_name_rows_alike() -> None:
    raw = hand_config(
        teams=[{"id": "north", "hours": {"ot": bounds(0, 100), "hao": bounds(30, 40)}}]
    )
    result = optimise.plan(inputs_of(raw, hand_demand()), simulation_runs=0)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    relaxed = result.relaxations
    assert list(relaxed["index"]) == ["1", "2"] and list(relaxed["where"]) == [
        "period 1",
        "period 2",
    ]
    keys = ["constraint", "index"]
    joined = relaxed.merge(result.shadow_prices, on=keys).merge(result.binding, on=keys)
    assert len(joined) == len(relaxed)  # each relaxed revenue row found in the other two
    assert "revenue (period 1) by 100.0 GBP" in result.message  # the words stay in the message


def test_team_rows_use_one_index_format_in_every_table() -> None:
    raw = hand_config(
        teams=[{"id": "north", "hours": {"ot": bounds(70, 100), "hao": bounds(0, 5)}}]
    )
    result = optimise.plan(inputs_of(raw, hand_demand()), simulation_runs=0)
    tables = (result.shadow_prices, result.binding, result.relaxations)
    team_rows = [t[t["constraint"].str.startswith("team_hours")]["index"] for t in tables if len(t)]
    assert all(i.count("/") == 2 for rows in team_rows for i in rows)  # service/team/period


def test_baseline_costs_are_defined_as_the_revenue_rows() -> None:
    raw = full_config()
    result = optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0)
    table = result.baselines.set_index("name")
    assert {"staff_cost_gbp", "agency_cost_gbp"} <= set(table.columns)
    plan_row = table.loc["plan"]
    assert plan_row["staff_cost_gbp"] == pytest.approx(result.revenue["staff_cost_gbp"].sum())
    assert plan_row["agency_cost_gbp"] == pytest.approx(result.revenue["agency_cost_gbp"].sum())
    assert (table.drop(index="plan")["agency_cost_gbp"] == 0).all()


def test_a_plan_using_agency_hours_reports_them_at_the_agency_rate() -> None:
    body = demo_config.demo_planning_config(horizon_periods=12)
    inputs = _demo_inputs(  # more demand than in-house ceilings, and money for agency
        growth=1.6,
        teams=_with_agency(body, 200.0),
        revenue_budget_gbp_per_period=3 * body["revenue_budget_gbp_per_period"],
    )
    result = optimise.plan(inputs, simulation_runs=0)
    agency = result.revenue["agency_cost_gbp"].sum()
    assert agency > 0
    plan_row = result.baselines.set_index("name").loc["plan"]
    assert plan_row["agency_cost_gbp"] == pytest.approx(agency)
    in_house_rate = float(
        np.einsum("sgt,st->", _grid(result, inputs, "staff_hours"), inputs.cost_per_hour_gbp)
    )
    assert plan_row["staff_cost_gbp"] == pytest.approx(in_house_rate)


def _grid(result: optimise.PlanResult, inputs: PlanInputs, column: str) -> np.ndarray:
    frame = result.staffing.set_index(["service", "team", "period"])[column]
    index = pd.MultiIndex.from_product(
        [list(inputs.services), list(inputs.teams), range(1, len(inputs.period_start) + 1)]
    )
    shape = (len(inputs.services), len(inputs.teams), len(inputs.period_start))
    return frame.reindex(index).fillna(0.0).to_numpy().reshape(shape)
