"""Funded hours: the most staff and agency hours a request's revenue can pay for.

Budget, DFG fees and care charges, with every other constraint of the plan kept: a finance
officer's 'how many hours does this fee structure fund?', whatever the plan then does with them.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from optimise.build import build_model
from optimise.inputs import PlanInputs
from optimise.solve import solve


def funded_hours(inputs: PlanInputs, solver: str = "highs") -> float:
    """Maximum total paid hours (staff + agency) over the horizon; nan if the request is
    infeasible. Same feasible set as the plan, objective replaced by -hours."""
    model = build_model(inputs)
    cost = np.zeros(model.num_cols)
    for name in ("e", "a"):
        block = model.columns[name]
        cost[block.start : block.stop] = -1.0
    outcome = solve(replace(model, cost=cost), solver, ranging=False)
    return -outcome.objective if outcome.ok else float("nan")
