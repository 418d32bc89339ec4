"""A plan says its own horizon: days per period, how many periods, and the first and last
period's start dates, taken from its inputs and written last in to_dict (after the
objective's parts), so a dashboard need not infer them from rows."""

from __future__ import annotations

import json

import pandas as pd

import optimise
from optimise.build import build_model
from optimise.extract import extract
from optimise.inputs import PlanInputs
from optimise.solution import SolveStatus, empty_result
from tests.optimise.factory import hand_config, hand_demand, inputs_of, rich_config, rich_demand

HORIZON = ["period_days", "periods", "first_ds", "last_ds"]
BEFORE = ["total_dtoc_days", "worst_district_wait_term", "objective_value"]


def _expected(inputs: PlanInputs) -> dict[str, object]:
    starts = inputs.period_start
    return {
        "period_days": inputs.period_days,
        "periods": len(starts),
        "first_ds": pd.Timestamp(starts[0]).strftime("%Y-%m-%d"),
        "last_ds": pd.Timestamp(starts[-1]).strftime("%Y-%m-%d"),
    }


def test_a_plan_says_its_horizon_last_in_its_dict() -> None:
    for inputs in (
        inputs_of(hand_config(), hand_demand()),
        inputs_of(rich_config(), rich_demand(periods=6)),
    ):
        result = optimise.plan(inputs, simulation_runs=0)
        assert result.ok
        payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
        assert list(payload)[-7:] == BEFORE + HORIZON
        assert {k: payload[k] for k in HORIZON} == _expected(inputs)
        assert isinstance(payload["period_days"], int) and isinstance(payload["periods"], int)
        # the horizon is the plan's rows' own
        dates = sorted({r["ds"] for r in payload["hours"]})
        assert (dates[0], dates[-1], len(dates)) == (
            payload["first_ds"],
            payload["last_ds"],
            payload["periods"],
        )


def test_the_hand_plan_runs_two_weeks_from_its_first_monday() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert (result.period_days, result.periods) == (7, 2)
    assert result.first_ds is not None and result.last_ds is not None
    assert result.last_ds - result.first_ds == pd.Timedelta(days=7)
    assert result.first_ds == pd.Timestamp(hand_demand()["ds"].min())


def test_an_unsolved_plan_still_says_its_horizon() -> None:
    inputs = inputs_of(hand_config(), hand_demand())
    failed = empty_result("highs", SolveStatus.ERROR, 0.0, "solver failed")
    result = extract(inputs, build_model(inputs), failed)
    assert result.status is optimise.PlanStatus.ERROR
    payload = json.loads(json.dumps(result.to_dict(), allow_nan=False))
    assert list(payload)[-4:] == HORIZON
    assert {k: payload[k] for k in HORIZON} == _expected(inputs)
