"""plan() and write_mps(): build, solve and extract in one call, relaxing when infeasible."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from optimise.baselines import compare_baselines, dtoc_trade_warning, plan_hours
from optimise.build import build_model
from optimise.canonical import canonical_order
from optimise.decompose import BY_BLOCKS, Decomposition
from optimise.elastic import held, relax, with_held_prices
from optimise.extract import extract
from optimise.highs_backend import write_model
from optimise.horizon import end_of_horizon_warnings, unserved_demand_warning
from optimise.inputs import PlanInputs
from optimise.long_waits import long_wait_warnings
from optimise.model import LpModel
from optimise.part_years import part_year_capital_warnings
from optimise.result import PlanResult
from optimise.risk import (
    beyond_budget_warning,
    beyond_limits_warning,
    demand_risk_warning,
    evaluate_risk,
)
from optimise.scale import money_scale_warnings
from optimise.simulate import with_simulation
from optimise.solution import SolveResult, SolveStatus
from optimise.solve import solve
from optimise.tiebreak import TieBreak, even_waits


def plan(
    inputs: PlanInputs,
    solver: str = "highs",
    time_limit_s: float | None = None,
    simulation_runs: int = 20,
    seed: int = 0,
    decomposition: Decomposition = BY_BLOCKS,
) -> PlanResult:
    """Build, solve, extract; then compare with the two baselines, evaluate the plan's hours
    against low and high demand (optimise/risk.py) and, unless
    `simulation_runs` is 0, simulate the plan (seeded: the same inputs give the same result).

    An infeasible request is re-solved with penalised elastic slack and returned as
    `infeasible_relaxed`, naming what had to give; its shadow prices are those of its LP with
    the relaxations held at the plan's amounts (waiting days, not the penalty). Unless the
    config's `equity.even_waits` is false, a second solve then picks, among the plans with that
    weighted waiting, the one with the most even district waits (optimise/tiebreak.py). With
    HiGHS, a model that splits into independent blocks (teams with their own budgets) is
    solved block by block unless `decomposition` is `WHOLE`. The LP is built and solved in a
    canonical order, so the order the config lists its services, districts and teams in
    changes only the order of the plan's rows (optimise/canonical.py)."""
    order = canonical_order(inputs)
    solved, outcome, tie = _solve_stages(order.inputs, solver, time_limit_s, decomposition)
    model = solved if order.identity else _built_like(solved, inputs)
    result = extract(inputs, model, order.solution(outcome, solved, model))
    if tie is not None:
        result = tie.report(result)
    result = result.with_extras(baselines=compare_baselines(inputs, result))
    if result.ok:
        hours = plan_hours(inputs, result.hours)
        risk = evaluate_risk(inputs, result, hours)
        result = result.with_extras(demand_risk=risk.totals, risk_periods=risk.periods)
        ends = end_of_horizon_warnings(inputs, result)
        if outrun := unserved_demand_warning(inputs, result):
            ends.append(outrun)
        ends.extend(long_wait_warnings(inputs, result))
        ends.extend(part_year_capital_warnings(inputs, result))
        if trade := dtoc_trade_warning(inputs, result.baselines):
            ends.append(trade)
        if risky := demand_risk_warning(result.demand_risk):
            ends.append(risky)
        if short := beyond_limits_warning(result.risk_periods):
            ends.append(short)
        if unfunded := beyond_budget_warning(result.risk_periods):
            ends.append(unfunded)
        if ends:
            result = result.with_extras(warnings=(*result.warnings, *ends))
    if slips := money_scale_warnings(inputs):  # whatever the status: often its cause
        result = result.with_extras(warnings=(*result.warnings, *slips))
    return with_simulation(inputs, result, simulation_runs, seed) if simulation_runs else result


def _solve_stages(
    inputs: PlanInputs,
    solver: str,
    time_limit_s: float | None,
    decomposition: Decomposition,
) -> tuple[LpModel, SolveResult, TieBreak | None]:
    """The model solved (relaxed if the request is infeasible), its solution (the even-waits
    stage's plan, where it ran) and the even-waits stage (None where it did not run)."""
    model = build_model(inputs)
    outcome = solve(model, solver, time_limit_s, decomposition=decomposition)
    if outcome.status is SolveStatus.INFEASIBLE:
        model = relax(model, inputs)
        outcome = solve(model, solver, time_limit_s, decomposition=decomposition)
        if outcome.ok:  # price the plan in waiting days, not in the relaxation's penalty
            fixed = held(model, outcome.col_value)
            priced = solve(fixed, solver, time_limit_s, decomposition=decomposition)
            outcome = with_held_prices(outcome, priced)
    if not (inputs.even_waits and outcome.ok):
        return model, outcome, None
    second = even_waits(inputs, model, outcome, solver, time_limit_s, decomposition)
    return model, second.outcome, second


def _built_like(solved: LpModel, inputs: PlanInputs) -> LpModel:
    """The LP `solved` is, built from `inputs` in the config's order (relaxed if it is), with
    the solved model's build time (the build the plan reports)."""
    model = build_model(inputs)
    if solved.penalties:
        model = relax(model, inputs)
    return replace(model, build_seconds=solved.build_seconds)


def write_mps(inputs: PlanInputs, path: str | Path) -> None:
    """Write the plan's LP (with readable names) to an MPS file: the first stage (the
    even-waits stage is built from its solution, so it has no file of its own), in the
    canonical order `plan()` solves it in (optimise/canonical.py), so that a solver re-solving
    the file meets the rows and columns in the plan's order."""
    write_model(build_model(canonical_order(inputs).inputs), str(path))
