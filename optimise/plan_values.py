"""PlanValues: a solution vector read into named grids with units (no frames yet)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from optimise.frames import team_sum
from optimise.inputs import PlanInputs
from optimise.model import Array, LpModel


@dataclass(frozen=True)
class PlanValues:
    served: Array  # (S, D, T, K) cases served
    backlog: Array  # (S, D, T, K) cases waiting at period end
    staff_hours: Array  # (S, G, T)
    agency_hours: Array  # (S, G, T)
    team_hours_used: Array  # (S, G, T)
    works_completed: Array  # (D, T) DFG works cases
    works_backlog: Array  # (D, T) DFG works cases waiting
    capital_spent_gbp: Array  # (D, T)
    fee_income_gbp: Array  # (D, T)
    charge_income_gbp: Array  # (D, T)
    dtoc_days: Array  # (S, D, T) delayed days in hospital


def plan_values(inputs: PlanInputs, model: LpModel, col_value: Array) -> PlanValues:
    """Read each column family of the solution into its grid (tiny negatives clipped to 0)."""

    def grid(name: str) -> Array:
        return np.maximum(model.col_values(col_value, name), 0.0)

    served, backlog, works = grid("x"), grid("b"), grid("y")
    return PlanValues(
        served=served,
        backlog=backlog,
        staff_hours=grid("e"),
        agency_hours=grid("a"),
        team_hours_used=team_hours(inputs, served),
        works_completed=works,
        works_backlog=grid("bw"),
        capital_spent_gbp=works * inputs.cost_per_adaptation_gbp,
        fee_income_gbp=works * inputs.fee_per_case_gbp,
        charge_income_gbp=np.einsum(
            "sdtk,st->dt",
            served,
            inputs.charge_income_gbp_per_hour * inputs.hours_per_case[:, None],
        ),
        dtoc_days=dtoc_days(inputs, backlog),
    )


def team_hours(inputs: PlanInputs, served: Array) -> Array:
    """Hours used per service, team and period, (S, G, T), from cases served (S, D, T, K)."""
    hours = served.sum(axis=3) * inputs.hours_per_case[:, None, None]
    return team_sum(inputs, hours)


def dtoc_days(inputs: PlanInputs, backlog: Array) -> Array:
    """Delayed days in hospital: waiting cases x hospital share x period days, (S, D, T)."""
    share = inputs.hospital_share[:, None, None] * inputs.period_days
    return np.asarray(backlog.sum(axis=3) * share, dtype=np.float64)
