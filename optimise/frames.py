"""Helpers that turn labelled grids of numbers into long frames (one row per entry)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimise.inputs import PlanInputs

AXIS_LABELS = {
    "service": "services",
    "district": "districts",
    "team": "teams",
    "priority": "classes",
    "budget": "budgets",
    "year": "financial_years",
}


def axis_values(inputs: PlanInputs, axis: str) -> list[object]:
    if axis == "period":
        return list(range(1, len(inputs.period_start) + 1))
    return list(getattr(inputs, AXIS_LABELS[axis]))


def long_frame(
    inputs: PlanInputs, axes: tuple[str, ...], **values: npt.NDArray[np.float64]
) -> pd.DataFrame:
    """A frame with one column per axis (plus ds after period) and one per named grid."""
    index = pd.MultiIndex.from_product([axis_values(inputs, a) for a in axes], names=list(axes))
    frame = index.to_frame(index=False)
    if "period" in axes:
        starts = pd.Series(inputs.period_start, index=range(1, len(inputs.period_start) + 1))
        frame.insert(axes.index("period") + 1, "ds", frame["period"].map(starts).to_numpy())
    for name, grid in values.items():
        frame[name] = np.asarray(grid, dtype=float).ravel()
    return frame


def team_sum(inputs: PlanInputs, per_district: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Sum a (S, D, T) grid over each team's districts: (S, G, T)."""
    member = np.zeros((len(inputs.districts), len(inputs.teams)))
    member[np.arange(len(inputs.districts)), inputs.team_of_district] = 1.0
    return np.asarray(np.einsum("sdt,dg->sgt", per_district, member), dtype=np.float64)


def ratio(
    numerator: npt.NDArray[np.float64], denominator: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """numerator / denominator, nan where the denominator is (near) zero."""
    safe = np.abs(denominator) > 1e-9
    return np.where(safe, numerator / np.where(safe, denominator, 1.0), np.nan)


def budget_sum(
    inputs: PlanInputs, per_owner: npt.NDArray[np.float64], by: str
) -> npt.NDArray[np.float64]:
    """Sum a (G, T) grid (by='team') or (D, T) grid (by='district') over each budget: (B, T)."""
    owner = inputs.budget_of_team if by == "team" else inputs.budget_of_district
    out = np.zeros((len(inputs.budgets), per_owner.shape[1]))
    np.add.at(out, owner, per_owner)
    return out
