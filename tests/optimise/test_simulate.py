"""Stochastic simulation of a plan against the LP's fluid waits."""

from __future__ import annotations

import pandas as pd
import pytest

import optimise
from optimise.inputs import PlanInputs
from optimise.simulate import simulate, simulated_delayed_days, with_simulation
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def _setup() -> tuple[optimise.PlanResult, PlanInputs]:
    inputs = inputs_of(rich_config(), rich_demand())
    return optimise.plan(inputs, simulation_runs=0), inputs


def test_one_row_per_service_and_district_and_reproducible() -> None:
    result, inputs = _setup()
    first = simulate(inputs, result, runs=10, seed=1)
    again = simulate(inputs, result, runs=10, seed=1)
    assert len(first) == 5 * 3
    assert set(first["service"]) == {"ot", "hao", "reablement", "domcare", "dfg_works"}
    pd.testing.assert_frame_equal(first, again)


def test_lp_person_days_are_the_plans() -> None:
    result, inputs = _setup()
    frame = simulate(inputs, result, runs=5)
    backlog = result.backlog.groupby("service")["backlog_cases"].sum() * 7
    lp = frame.groupby("service")["lp_person_days"].sum()
    assert lp.to_dict() == pytest.approx(backlog.to_dict())


def test_full_utilisation_is_flagged() -> None:
    # Where the LP serves exactly the week's arrivals its fluid wait is 0, but Poisson
    # arrivals at 100% utilisation queue: the simulation must say so.
    result, inputs = _setup()
    frame = simulate(inputs, result, runs=20)
    zero = frame[frame["lp_person_days"] == 0]
    assert len(zero) and (zero["sim_person_days"] > 0).all() and zero["flagged"].all()
    flagged = with_simulation(inputs, result, runs=20)
    assert any("more than 15%" in w for w in flagged.warnings)


def test_plan_attaches_simulation_by_default() -> None:
    result = optimise.plan(inputs_of(rich_config(), rich_demand()))
    assert len(result.simulation) == 15 and "flagged" in result.simulation


def test_the_warning_gives_the_simulated_delayed_days_beside_the_lps() -> None:
    """The headline delayed days are the fluid LP's; full queues wait longer, so where the
    simulation's differ by over 15% the warning says how many it makes."""
    result, inputs = _setup()
    frame = simulate(inputs, result, runs=20)
    lp, sim = simulated_delayed_days(inputs, frame)
    assert lp == pytest.approx(result.total_dtoc_days)  # reckoned as the plan's own
    assert sim > 1.15 * lp
    [warning] = [w for w in with_simulation(inputs, result, runs=20).warnings if "15%" in w]
    assert warning.endswith(
        f"; the simulated queues mean {sim:,.0f} delayed days in hospital against the LP's "
        f"{lp:,.0f}"
    )


def test_the_plan_reports_its_simulated_delayed_days_beside_the_lps() -> None:
    """Not only in a warning's words: a field a dashboard and the CLI's summary can show."""
    result, inputs = _setup()
    simulated = with_simulation(inputs, result, runs=20)
    _lp, sim = simulated_delayed_days(inputs, simulated.simulation)
    assert simulated.simulated_dtoc_days == pytest.approx(sim)
    stored = simulated.to_dict()
    keys = list(stored)
    assert keys.index("simulated_dtoc_days") + 1 == keys.index("total_dtoc_days")
    assert stored["simulated_dtoc_days"] == pytest.approx(sim)
    assert (
        f"delayed days in hospital: {result.total_dtoc_days:,.0f} as planned (the LP), "
        f"{sim:,.0f} in the plan's queue simulation (the figure to quote as the delayed days "
        "to expect)"
    ) in simulated.summary_table()
    # the headline gives the LP's figure only, so it says whose it is (the README says to
    # quote the simulated one)
    assert (
        f"{result.total_dtoc_days:,.0f} delayed days in hospital as the LP reckons them"
        in simulated.summary_table()
    )
