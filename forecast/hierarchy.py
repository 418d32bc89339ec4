"""Bottom-up reconciliation: every parent series is the sum of its children."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from forecast.errors import ForecastInputError

VALUE_PREFIXES = ("mean", "lo-", "hi-")


def reconcile_bottom_up(
    forecasts: pd.DataFrame, hierarchy: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Forecast rows for the leaves, plus each parent as the per-period sum of its children.

    `hierarchy` maps a parent id to its child ids; children may be parents themselves. Means add
    exactly. Quantile columns (lo-L, hi-L) are summed too, which is exact only if the children's
    errors move together perfectly: parent intervals are therefore conservative (too wide) in v1.
    For coherent parent intervals, reconcile sample paths with `reconcile_paths_bottom_up`.
    Parent rows get model 'bottom_up'; any parent rows already in `forecasts` are replaced.
    """
    values = [c for c in forecasts.columns if c.startswith(VALUE_PREFIXES)]
    return _reconcile(forecasts, hierarchy, values, ["ds"], {"model": "bottom_up"})


def reconcile_paths_bottom_up(
    paths: pd.DataFrame, hierarchy: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Sample paths (unique_id, ds, path, y) with each parent's path the sum of its children's."""
    return _reconcile(paths, hierarchy, ["y"], ["ds", "path"], {})


def _reconcile(
    frame: pd.DataFrame,
    hierarchy: Mapping[str, Sequence[str]],
    values: list[str],
    keys: list[str],
    constants: Mapping[str, str],
) -> pd.DataFrame:
    leaves = frame[~frame["unique_id"].isin(list(hierarchy))]
    known = set(leaves["unique_id"])
    parts = [leaves]
    for parent in _bottom_up_order(hierarchy, known):
        children = pd.concat(parts, ignore_index=True)
        kids = children[children["unique_id"].isin(list(hierarchy[parent]))]
        summed = kids.groupby(keys, as_index=False)[values].sum()
        summed.insert(0, "unique_id", parent)
        parts.append(summed.assign(**constants))
    out = pd.concat(parts, ignore_index=True)
    return out[list(frame.columns)].sort_values(["unique_id", *keys], ignore_index=True)


def _bottom_up_order(hierarchy: Mapping[str, Sequence[str]], leaves: set[str]) -> list[str]:
    """Parents ordered so that each comes after all its children; rejects unknown ids and cycles."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(node: str, path: tuple[str, ...]) -> None:
        if state.get(node) == "done":
            return
        if node in path:
            raise ForecastInputError(f"hierarchy: expected no cycles, found {' -> '.join(path)}")
        for child in hierarchy[node]:
            if child in hierarchy:
                visit(child, (*path, node))
            elif child not in leaves:
                raise ForecastInputError(
                    f"hierarchy: child {child!r} of {node!r} expected in forecasts, found none",
                    series_id=child,
                )
        state[node] = "done"
        order.append(node)

    for parent in hierarchy:
        visit(parent, ())
    return order
