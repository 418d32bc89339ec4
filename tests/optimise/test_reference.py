"""The vectorised builder and the obvious PuLP builder give the same LP and the same solution."""

from __future__ import annotations

from typing import Any

import numpy as np
import pulp
import pytest

import optimise
from optimise.model import LpModel
from optimise.reference import build_reference
from tests.optimise.factory import (
    full_config,
    hand_config,
    hand_demand,
    inputs_of,
    rich_config,
    rich_demand,
)

Row = tuple[dict[str, float], float, float]


def works_capacity() -> dict[str, Any]:
    """full_config with a works limit in two of its districts (the third has none)."""
    raw = full_config()
    caps = [0.5, 1.0, None]
    districts = [
        {**d, "max_works_per_period": cap} for d, cap in zip(raw["districts"], caps, strict=True)
    ]
    return {**raw, "districts": districts}


def team_budgets() -> dict[str, Any]:
    """full_config with north on its own budget and south on the pooled one."""
    raw = full_config()
    raw["teams"] = [{**raw["teams"][0], "revenue_budget_gbp_per_period": 9000.0}, raw["teams"][1]]
    return {**raw, "revenue_budget_gbp_per_period": 7000.0}


def district_limits() -> dict[str, Any]:
    """full_config with districts' own hours limits and wait caps: rugby's cap (30 days) is
    tighter than the equity cap (60), nuneaton-and-bedworth's (90) looser and so no row."""
    raw = full_config()
    own = [
        {"hours": {"ot": {"min_per_period": 20.0, "max_per_period": 90.0}}},
        {"hours": {"hao": {"max_per_period": 60.0}}, "max_avg_wait_days": {"ot": 90.0}},
        {"max_avg_wait_days": {"hao": 30.0}},
    ]
    raw["districts"] = [{**d, **o} for d, o in zip(raw["districts"], own, strict=True)]
    raw["districts"][0]["max_avg_wait_days"] = {"ot": 30.0}
    return raw


def capital_by_year() -> dict[str, Any]:
    """full_config over 14 weeks from 6 January 2025 (11 in 2024-25, 3 in 2025-26), each
    district's capital given by financial year."""
    raw = full_config(horizon_periods=14)
    for i, d in enumerate(raw["districts"]):
        capital = d.pop("capital_gbp")
        d["capital_by_year_gbp"] = {"2024-25": capital * 0.7, "2025-26": capital * (0.1 + i / 10)}
    return raw


def money_by_year() -> dict[str, Any]:
    """full_config over 14 weeks into April 2025, its DFG fees and a care charge rising from
    1 April (fees.by_year, charge_gbp_per_hour_by_year) and home care's hourly rate too."""
    raw = full_config(horizon_periods=14)
    raw["fees"] = {
        "by_year": {
            "2024-25": {"dfg_fee_rate": 0.10, "min_fee_per_case_gbp": 850.0},
            "2025-26": {"dfg_fee_rate": 0.12, "max_fee_per_case_gbp": 1100.0},
        }
    }
    domcare = raw["services"][3]
    domcare["charge_gbp_per_hour_by_year"] = {"2024-25": 20.0, "2025-26": 23.0}
    del domcare["charge_gbp_per_hour"]
    domcare["cost_per_hour_gbp_by_year"] = {"2024-25": 20.0, "2025-26": 21.0}
    del domcare["cost_per_hour_gbp"]
    return raw


def _pulp_rows(prob: pulp.LpProblem) -> dict[str, Row]:
    rows = {}
    for name, con in prob.constraints.items():
        rhs = -con.constant
        low = rhs if con.sense in (pulp.LpConstraintEQ, pulp.LpConstraintGE) else -np.inf
        high = rhs if con.sense in (pulp.LpConstraintEQ, pulp.LpConstraintLE) else np.inf
        rows[name] = ({v.name: c for v, c in con.items() if c != 0}, low, high)
    return rows


def _model_rows(model: LpModel) -> dict[str, Row]:
    cols, m = model.names("cols"), model.matrix
    rows = {}
    for i, name in enumerate(model.names("rows")):
        span = slice(m.indptr[i], m.indptr[i + 1])
        coefs = {cols[j]: float(c) for j, c in zip(m.indices[span], m.data[span], strict=True)}
        rows[name] = (coefs, float(model.row_lower[i]), float(model.row_upper[i]))
    return rows


def _assert_same_rows(left: dict[str, Row], right: dict[str, Row]) -> None:
    assert left.keys() == right.keys()
    for name, (coefs, low, high) in left.items():
        other, other_low, other_high = right[name]
        assert coefs.keys() == other.keys(), name
        assert [coefs[k] for k in coefs] == pytest.approx([other[k] for k in coefs]), name
        assert (low, high) == pytest.approx((other_low, other_high)), name


def _columns(model: LpModel) -> dict[str, tuple[float, float, float]]:
    return {
        n: (float(c), float(lo), float(hi))
        for n, c, lo, hi in zip(
            model.names("cols"), model.cost, model.col_lower, model.col_upper, strict=True
        )
    }


def _pulp_columns(prob: pulp.LpProblem) -> dict[str, tuple[float, float, float]]:
    cost = {v.name: c for v, c in prob.objective.items()}
    return {
        v.name: (
            float(cost.get(v.name, 0.0)),
            -np.inf if v.lowBound is None else float(v.lowBound),
            np.inf if v.upBound is None else float(v.upBound),
        )
        for v in prob.variables()
    }


@pytest.mark.parametrize(
    ("config", "demand"),
    [
        (hand_config(), hand_demand()),
        (rich_config(), rich_demand()),
        (full_config(), rich_demand()),
        (team_budgets(), rich_demand()),
        ({**team_budgets(), "revenue_budget_basis": "financial_year"}, rich_demand()),
        (works_capacity(), rich_demand()),
        (district_limits(), rich_demand()),
        (capital_by_year(), rich_demand(periods=14)),
        (money_by_year(), rich_demand(periods=14)),
    ],
    ids=[
        "hand",
        "rich",
        "full",
        "team-budgets",
        "financial-year",
        "works-capacity",
        "district-limits",
        "capital-by-year",
        "money-by-year",
    ],
)
def test_same_model(config: dict[str, Any], demand: Any) -> None:
    inputs = inputs_of(config, demand)
    model, prob = optimise.build_model(inputs), build_reference(inputs)
    _assert_same_rows(_model_rows(model), _pulp_rows(prob))
    mine, theirs = _columns(model), _pulp_columns(prob)
    assert mine.keys() == theirs.keys()
    for name, values in mine.items():
        assert values == pytest.approx(theirs[name]), name


@pytest.mark.parametrize(
    "config",
    [full_config(), team_budgets(), works_capacity(), district_limits()],
    ids=["full", "team-budgets", "works-capacity", "district-limits"],
)
def test_same_solution(config: dict[str, Any]) -> None:
    inputs = inputs_of(config, rich_demand())
    prob = build_reference(inputs)
    prob.solve(pulp.HiGHS(msg=False))
    outcome = optimise.solve(optimise.build_model(inputs))
    assert pulp.value(prob.objective) == pytest.approx(outcome.objective, rel=1e-9)


def test_same_unique_solution_values() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    prob = build_reference(inputs)
    prob.solve(pulp.HiGHS(msg=False))
    model = optimise.build_model(inputs)
    outcome = optimise.solve(model)
    theirs = {v.name: v.varValue for v in prob.variables()}
    mine = dict(zip(model.names("cols"), outcome.col_value, strict=True))
    assert mine == pytest.approx(theirs)
