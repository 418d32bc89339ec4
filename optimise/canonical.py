"""Canonical order: the plan's LP is built and solved with districts and teams sorted by id,
services in the schema's order (ot, hao, reablement, domcare) and budgets as the sorted teams
hold them, whatever order the config lists them in.

The LP usually has many optimal plans (hours move freely between a team's districts, a
pooled budget between its teams, at the same weighted waiting), and which one a solver
returns depends on the order of its rows and columns; the even-waits stage
(optimise/tiebreak.py) then holds each team's first-stage share of a pooled budget, so the
plan published inherited that order: the demo's config with its districts listed in reverse
moved 225 of 520 district-week hours by more than an hour, at the same weighted waiting. A
client that re-serialises a config (sorting its lists) must not change a plan, so `plan()`
solves `CanonicalOrder.inputs`, the same inputs sorted, and reads the solution back into the
model built in the config's order (`solution`), from which the plan's tables are extracted
as before, rows in the config's order.

The key is the id, not the data: a what-if or sweep that changes a district's demand or a
fee keeps every row and column where it was, so it changes the plan only as much as its
numbers do. Renaming an id can move it in the canonical order and so change which of the
equally good plans is published (weighted waiting unchanged); a display name (`name`) never
does. Service ids are fixed, so the schema's order is the demo's and most configs'. Classes,
periods and years have a fixed order already. The config's LP and the sorted one can differ
in round-off (a district's referrals summed over services in another order), which is why
`solution` maps solutions between them rather than the config's LP being solved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from optimise.config import SERVICE_IDS
from optimise.inputs import POOLED, IntArray, PlanInputs
from optimise.model import Block, LpModel
from optimise.solution import Basis, Ranging, SolveResult

T = TypeVar("T", bound=np.generic)

# Each PlanInputs field along an ordered axis: per dimension, its axis (None: another axis).
# Every field is here or in UNORDERED (tests/optimise/test_canonical_order.py checks it).
FIELD_AXES: dict[str, tuple[str | None, ...]] = {
    "services": ("service",),
    "districts": ("district",),
    "district_names": ("district",),
    "teams": ("team",),
    "team_of_district": ("district",),  # its values index teams: renumbered too
    "demand_cases": ("service", "district", None),
    "forecast_cases": ("service", "district", None),
    "class_share": ("service", None),
    "wait_weight": ("service", None),
    "initial_backlog_cases": ("service", "district"),
    "hours_per_case": ("service",),
    "cost_per_hour_gbp": ("service", None),
    "agency_cost_per_hour_gbp": ("service", None),
    "charge_income_gbp_per_hour": ("service", None),
    "hospital_share": ("service",),
    "hospital_delay_weight": ("service",),
    "hours_min": ("service", "team"),
    "hours_max": ("service", "team"),
    "agency_max_hours": ("service", "team"),
    "max_change_hours": ("service", "team"),
    "current_hours": ("service", "team"),
    "budgets": ("budget",),
    "budget_of_team": ("team",),  # its values index budgets: renumbered too
    "revenue_budget_gbp": ("budget", None),
    "revenue_budget_by_year_gbp": ("budget", None),
    "capital_gbp": ("district",),
    "cost_per_adaptation_gbp": ("district", None),
    "fee_per_case_gbp": ("district", None),
    "initial_works_backlog_cases": ("district",),
    "max_works_per_period": ("district",),
    "hours_per_fte": ("service",),
    "wait_warning_days": ("service",),
    "demand_low_factor": ("service", "district"),
    "demand_high_factor": ("service", "district"),
    "works_cost_gbp": ("district",),
    "district_hours_min": ("service", "district"),
    "district_hours_max": ("service", "district"),
    "district_max_wait_days": ("service", "district"),
    "capital_by_year_gbp": ("district", None),
    "winter_index": ("service", "district", None),
}
UNORDERED = frozenset(
    {
        "name",
        "version",
        "classes",
        "period_days",
        "period_start",
        "budget_per_financial_year",
        "financial_years",
        "year_of_period",
        "p_ot_dfg",
        "p_reab_dom",
        "works_wait_weight",
        "equity_max_wait_days",
        "equity_from_period",
        "worst_district_weight",
        "even_waits",
        "even_waits_tolerance",
        "steady_hours_weight",
    }
)
RENUMBERED = {"team_of_district": "team", "budget_of_team": "budget"}  # field: axis it indexes


@dataclass(frozen=True)
class CanonicalOrder:
    """`inputs` sorted (see the module's docstring) and, per ordered axis, `position`: where
    each entry of the config's order is in the canonical one."""

    inputs: PlanInputs
    position: dict[str, IntArray]

    @property
    def identity(self) -> bool:
        """The config lists everything in canonical order already."""
        return all(np.array_equal(p, np.arange(len(p))) for p in self.position.values())

    def solution(self, outcome: SolveResult, solved: LpModel, model: LpModel) -> SolveResult:
        """`outcome`, a solve of `solved` (built from `inputs`), as a solve of `model` (the same
        LP built from the config's inputs): each value, dual, range and basis status moved to
        the column or row it belongs to there. A failed solve without values is unchanged."""
        if self.identity:
            return outcome
        cols = _entry_map(solved.columns, model.columns, self.position)
        rows = _entry_map(solved.rows, model.rows, self.position)
        if not (
            len(cols) == solved.num_cols == model.num_cols
            and np.allclose(model.cost, solved.cost[cols], rtol=1e-9, atol=0.0)
        ):
            raise ValueError("the canonical LP is not the config's LP in another order")
        ranging, basis = outcome.ranging, outcome.basis
        return replace(
            outcome,
            col_value=_moved(outcome.col_value, cols),
            row_activity=_moved(outcome.row_activity, rows),
            row_dual=_moved(outcome.row_dual, rows),
            col_dual=None if outcome.col_dual is None else _moved(outcome.col_dual, cols),
            ranging=None
            if ranging is None
            else Ranging(
                _moved(ranging.row_low, rows),
                _moved(ranging.row_high, rows),
                None if ranging.col_low is None else _moved(ranging.col_low, cols),
                None if ranging.col_high is None else _moved(ranging.col_high, cols),
            ),
            basis=None
            if basis is None
            else Basis(_moved(basis.col_status, cols), _moved(basis.row_status, rows)),
        )


def canonical_order(inputs: PlanInputs) -> CanonicalOrder:
    """`inputs` with districts and teams sorted by id, services in SERVICE_IDS's order, and
    budgets as the sorted teams hold them, the pooled budget last (as `build_inputs` lists
    them)."""
    budgets = inputs.budgets
    order = {
        "service": _sorted(inputs.services, _service_rank),
        "district": _sorted(inputs.districts, str),
        "team": _sorted(inputs.teams, str),
        # the pooled budget (last, where used) stays last; the others are their teams' ids
        "budget": _sorted(budgets, lambda b: (b == budgets[-1] == POOLED, b)),
    }
    position = {axis: np.argsort(o).astype(np.int64) for axis, o in order.items()}
    changes: dict[str, Any] = {}
    for name, axes in FIELD_AXES.items():
        value = getattr(inputs, name)
        if value is None:
            continue
        moved = np.asarray(value) if not isinstance(value, tuple) else np.array(value, object)
        for dim, axis in enumerate(axes):
            if axis is not None:
                moved = moved.take(order[axis], axis=dim)
        if name in RENUMBERED:
            moved = position[RENUMBERED[name]][moved]
        if isinstance(value, tuple):
            changes[name] = tuple(moved.tolist())
        else:
            moved = np.array(moved, dtype=value.dtype)
            moved.setflags(write=value.flags.writeable)
            changes[name] = moved
    return CanonicalOrder(replace(inputs, **changes), position)


def _sorted(ids: tuple[str, ...], key: Callable[[str], Any]) -> IntArray:
    """The indices of `ids` in the order of their keys."""
    return np.array(sorted(range(len(ids)), key=lambda i: key(ids[i])), dtype=np.int64)


def _service_rank(service: str) -> tuple[int, str]:
    rank = SERVICE_IDS.index(service) if service in SERVICE_IDS else len(SERVICE_IDS)
    return rank, service


def _entry_map(
    solved: dict[str, Block], model: dict[str, Block], position: dict[str, IntArray]
) -> IntArray:
    """For each column (or row) of `model`, in order, the index of the same entry in `solved`,
    whose ordered axes are permuted by `position` and which has the same families."""
    if list(solved) != list(model):
        raise ValueError(f"the canonical LP has families {list(solved)}, not {list(model)}")
    out = []
    for name, block in model.items():
        there = solved[name]
        if there.axes != block.axes or there.shape != block.shape or there.size != block.size:
            raise ValueError(f"the canonical LP's {name} is not the config's in another order")
        coords = [
            position[axis][c] if axis in position else c
            for axis, c in zip(block.axes, block.coords(), strict=True)
        ]
        flat = np.ravel_multi_index(coords, block.shape) if coords else np.zeros(block.size, int)
        if there.positions is not None:
            found = np.searchsorted(there.positions, flat)
            if np.any(found >= there.size) or np.any(
                there.positions[np.minimum(found, there.size - 1)] != flat
            ):
                raise ValueError(f"the canonical LP's {name} covers other entries")
            flat = found
        out.append(there.start + np.asarray(flat, dtype=np.int64))
    return np.concatenate(out) if out else np.zeros(0, dtype=np.int64)


def _moved(values: npt.NDArray[T], index: IntArray) -> npt.NDArray[T]:
    """`values` (one per column or row of the solved LP) in the order `index` gives; values
    of another length (a failed solve has none) as they are."""
    return values[index] if len(values) == len(index) else values
