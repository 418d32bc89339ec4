"""A district's works limit: the LP completes no more DFG works a period than it allows."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import residuals
from optimise.config import PlanningConfig
from tests.optimise.factory import full_config, inputs_of, rich_demand


def _capped(cap: float | None) -> dict[str, Any]:
    raw = full_config()
    return {**raw, "districts": [{**d, "max_works_per_period": cap} for d in raw["districts"]]}


def _works(cap: float | None) -> tuple[np.ndarray, optimise.PlanResult]:
    inputs = inputs_of(_capped(cap), rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    assert result.status.value == "optimal"
    assert max(r.violation for r in residuals(inputs, result)) < 1e-6
    return result.capital["works_completed"].to_numpy(), result


def test_works_stay_within_the_limit_that_the_unlimited_plan_breaks() -> None:
    free, free_result = _works(None)
    cap = 0.6 * float(free.max())
    capped, capped_result = _works(cap)
    assert free.max() > cap  # the limit binds somewhere
    assert capped.max() <= cap + 1e-7
    # a limit only takes choices away
    assert (
        capped_result.objective_weighted_wait_days
        >= free_result.objective_weighted_wait_days - 1e-6
    )


def test_residuals_report_works_above_the_limit() -> None:
    inputs = inputs_of(_capped(None), rich_demand())
    result = optimise.plan(inputs, simulation_runs=0)
    tight = inputs_of(_capped(0.0), rich_demand())  # the same plan judged against no works
    assert result.capital["works_completed"].sum() > 0
    over = [r.violation for r in residuals(tight, result) if r.constraint == "works_capacity"]
    assert max(over) == pytest.approx(result.capital["works_completed"].max())


def test_no_limit_by_default_and_a_negative_one_is_refused() -> None:
    assert np.isinf(inputs_of(full_config(), rich_demand()).max_works_per_period).all()
    with pytest.raises(ValidationError, match="max_works_per_period"):
        PlanningConfig.model_validate(_capped(-1.0))


def test_a_works_limit_that_binds_is_listed_and_named_in_the_message() -> None:
    """The limit is a bound on the works column, not a row: it is listed with the column's
    reduced cost, so the message does not say that nothing limits the works."""
    free, _ = _works(None)
    capped, result = _works(0.6 * float(free.max()))
    at_limit = result.binding[result.binding["constraint"] == "works_limit"]
    assert len(at_limit) == int((capped >= 0.6 * float(free.max()) - 1e-7).sum()) > 0
    assert at_limit["activity"].to_numpy() == pytest.approx(at_limit["bound"].to_numpy())
    assert (at_limit["dual"] <= 1e-9).all()  # more works a period never adds waiting
    assert f"works limit ({len(at_limit)})" in result.message
    _, unlimited = _works(None)
    assert "works_limit" not in set(unlimited.binding["constraint"])
