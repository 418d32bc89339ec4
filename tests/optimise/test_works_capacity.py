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


def _objective_with_limits(
    caps: dict[str, float | None], periods: int
) -> tuple[float, optimise.PlanResult]:
    raw = full_config()
    districts = [{**d, "max_works_per_period": caps[d["id"]]} for d in raw["districts"]]
    result = optimise.plan(
        inputs_of({**raw, "districts": districts}, rich_demand(periods=periods)),
        simulation_runs=0,
    )
    assert result.status.value == "optimal"
    return result.objective_value, result


@pytest.mark.parametrize(("periods", "share"), [(6, 0.6), (8, 0.7)])
def test_works_limit_prices_predict_what_a_higher_limit_saves(periods: int, share: float) -> None:
    """Each limited district and period has a `works_limit` price (the works column's reduced
    cost at its limit, else 0). Raising one district's limit by a little lowers the objective
    by that little times the sum of its periods' prices, and a district whose works never
    reach the limit saves nothing. With 8 periods the even-waits stage moves a priced column a
    hair off its limit (a code review's case): the first stage's price still holds."""
    names = [d["id"] for d in full_config()["districts"]]
    _, free = _objective_with_limits(dict.fromkeys(names), periods)
    caps: dict[str, float | None] = dict.fromkeys(
        names, share * float(free.capital["works_completed"].max())
    )
    base, result = _objective_with_limits(caps, periods)
    assert result.tie_break == "even_waits"
    prices = result.shadow_prices[result.shadow_prices["constraint"] == "works_limit"]
    assert len(prices) == len(names) * (result.periods or 0)
    per_district = prices.groupby(prices["index"].str.split("/").str[0])["value"].sum()
    assert (prices["value"] >= 0).all() and per_district.max() > 0
    assert prices["ds"].notna().all()
    step = 1e-3
    for name in names:
        cap = caps[name]
        assert cap is not None
        raised, _ = _objective_with_limits({**caps, name: cap + step}, periods)
        assert base - raised == pytest.approx(per_district[name] * step, rel=0.02, abs=1e-7)
    priced = prices[prices["value"] > 0].iloc[0]
    assert priced["statement"].startswith(f"Period {priced['index'].split('/')[1]}: allowing")
    assert "one more DFG works completion for" in priced["statement"]


def test_a_works_price_quoted_per_more_than_its_range_says_how_far_it_holds() -> None:
    """A works-limit price is quoted per completion, as a revenue price is per GBP 1,000:
    where its range above the limit is narrower than one completion (rugby's limit of 4.63
    holds to 5.35) it says so, as the other prices do; where the range covers the completion
    (nuneaton-and-bedworth's, to 7.14) nothing is added. Before, every works price was quoted
    per completion without a word, on the demo for ranges 0.1 works wide."""
    names = [d["id"] for d in full_config()["districts"]]
    _, free = _objective_with_limits(dict.fromkeys(names), 6)
    cap = 0.5 * float(free.capital["works_completed"].max())
    _, result = _objective_with_limits(dict.fromkeys(names, cap), 6)
    prices = result.shadow_prices
    works = prices[(prices["constraint"] == "works_limit") & (prices["value"] > 0)]
    narrow = works["range_high"] - cap < 1.0
    assert narrow.any() and not narrow.all()
    assert (
        works["statement"][narrow]
        .str.endswith(", for the first 0.7 works only; beyond that the price falls")
        .all()
    )
    assert not works["statement"][~narrow].str.contains("for the first").any()
    statements = works.set_index("index")["statement"]
    assert statements["rugby/1"] == (
        "Period 1: allowing one more DFG works completion for Rugby lowers the plan's objective "
        "(weighted waiting days plus the worst-district term) by 14 days (holds for a bound "
        "from 0.7 to 5.4 works), for the first 0.7 works only; beyond that the price falls"
    )


def test_a_limit_of_zero_is_ranged_from_zero_up() -> None:
    """HiGHS ranges a column's bound past its lower bound (a limit of 0 'held from -0.3'):
    no limit below zero is an LP, so the range starts at 0."""
    names = [d["id"] for d in full_config()["districts"]]
    _, result = _objective_with_limits(dict.fromkeys(names, 0.0), 6)
    prices = result.shadow_prices[result.shadow_prices["constraint"] == "works_limit"]
    ranged = prices[prices["range_low"].notna()]
    assert len(ranged) and (ranged["range_low"] >= 0).all()
    assert not prices["statement"].str.contains("from -").any()


def test_a_solver_without_reduced_costs_says_it_has_no_works_price() -> None:
    """CBC (through PuLP) gives row duals but no reduced costs: the works-limit rows say there
    is no price rather than 'saves nan weighted waiting days'."""
    free, _ = _works(None)
    inputs = inputs_of(_capped(0.6 * float(free.max())), rich_demand())
    result = optimise.plan(inputs, solver="cbc", simulation_runs=0)
    works = result.shadow_prices[result.shadow_prices["constraint"] == "works_limit"]
    assert len(works) and works["value"].isna().all()
    assert works["statement"].str.contains("no price for the works limit").all()
    assert not works["statement"].str.contains("nan").any()
