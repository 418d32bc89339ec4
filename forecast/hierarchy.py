"""Reconciliation: every parent series is the sum of its children.

Bottom-up sums the leaves' forecasts. `reconcile_wls_struct` uses every level's own forecast
(Athanasopoulos, Hyndman, Kourentzes and Petropoulos 2017, structural scaling): a parent
forecast directly and the sum of its children's forecasts carry different errors, and the
weighted projection onto the coherent forecasts combines them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from forecast.errors import ForecastInputError
from forecast.validate import require_rows

VALUE_PREFIXES = ("mean", "lo-", "hi-")
HIERARCHY_COLUMNS = ("parent_id", "child_id")


def hierarchy_from_frame(frame: pd.DataFrame) -> dict[str, list[str]]:
    """{parent: [children]} from rows (parent_id, child_id), checked row by row: both present,
    not equal, no pair twice. Row numbers in messages are the CSV's lines (the header is row 1,
    the first pair row 2), as every other file message counts them."""
    require_rows(frame, HIERARCHY_COLUMNS, "hierarchy")
    out: dict[str, list[str]] = {}
    seen: set[tuple[str, str]] = set()
    for row, (parent, child) in enumerate(frame.loc[:, list(HIERARCHY_COLUMNS)].itertuples(False)):
        where = f"hierarchy row {row + 2}"
        for col, value in zip(HIERARCHY_COLUMNS, (parent, child), strict=True):
            if pd.isna(value) or not str(value).strip():
                raise ForecastInputError(
                    f"{where}: expected a series id in {col}, found {value!r}", column=col
                )
        p, c = str(parent).strip(), str(child).strip()
        if p == c:
            raise ForecastInputError(
                f"{where}: expected a child different from its parent, found {p!r} twice",
                series_id=p,
            )
        if (p, c) in seen:
            raise ForecastInputError(
                f"{where}: expected each pair once, found {p!r} -> {c!r} again", series_id=c
            )
        seen.add((p, c))
        out.setdefault(p, []).append(c)
    return out


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


RECONCILED_SUFFIX = "+wls_struct"


def reconcile_wls_struct(
    forecasts: pd.DataFrame, hierarchy: Mapping[str, Sequence[str]]
) -> pd.DataFrame:
    """Coherent forecasts from every node's own forecast, weighted by structural scaling.

    `forecasts` holds rows (unique_id, ds, model, mean, lo-L, hi-L) for every node, parents
    included, on the same dates within each tree. With S the summing matrix (nodes by leaves)
    and W the diagonal of each node's number of leaves, the reconciled means are
    S (S' W^-1 S)^-1 S' W^-1 y: a parent's own forecast and its children's sum are combined,
    and the difference is shared among the children. Each node's quantiles move with its
    mean (interval widths are kept); a node whose forecast was non-negative stays so, which can
    leave a parent slightly above the sum of its children where a child is floored at zero.
    Reconciled rows keep their model name with the suffix '+wls_struct'.
    """
    _check_nodes(forecasts, hierarchy)
    values = [c for c in forecasts.columns if c.startswith(VALUE_PREFIXES)]
    out = forecasts.copy()
    for tree in trees(hierarchy):
        rows = out["unique_id"].isin(tree.nodes)
        means = out.loc[rows].pivot(index="unique_id", columns="ds", values="mean")
        if means.isna().any().any():
            raise ForecastInputError(
                "hierarchy: expected forecasts for the same periods at every node of a tree, "
                f"found gaps under {tree.nodes[0]!r}",
                series_id=tree.nodes[0],
            )
        means = means.reindex(tree.nodes)
        shift = tree.projection() @ means.to_numpy() - means.to_numpy()
        delta = pd.DataFrame(shift, index=means.index, columns=means.columns).stack()
        keys = pd.MultiIndex.from_frame(out.loc[rows, ["unique_id", "ds"]])
        move = delta.reindex(keys).to_numpy()
        for col in values:
            moved = out.loc[rows, col].to_numpy(dtype=float) + move
            floor = out.loc[rows, col].to_numpy(dtype=float) >= 0
            out.loc[rows, col] = np.where(floor, np.maximum(moved, 0.0), moved)
        out.loc[rows, "model"] = out.loc[rows, "model"].astype(str) + RECONCILED_SUFFIX
    return out


class Tree:
    """One connected hierarchy: its nodes (roots first) and their leaves."""

    def __init__(self, nodes: list[str], leaves_of: Mapping[str, list[str]]) -> None:
        self.nodes = nodes
        self.leaves = [n for n in nodes if n not in leaves_of]
        self._leaves_of = leaves_of

    def leaves_of(self, node: str) -> list[str]:
        """The leaves under `node` (a leaf is its own)."""
        return list(self._leaves_of.get(node, [node]))

    def summing(self) -> np.ndarray:
        """S: row i adds up the leaves under node i."""
        column = {leaf: j for j, leaf in enumerate(self.leaves)}
        s = np.zeros((len(self.nodes), len(self.leaves)))
        for i, node in enumerate(self.nodes):
            for leaf in self._leaves_of.get(node, [node]):
                s[i, column[leaf]] = 1.0
        return s

    def projection(self, variance: np.ndarray | None = None) -> np.ndarray:
        """S (S' W^-1 S)^-1 S' W^-1 with W the nodes' leaf counts (structural scaling) unless
        `variance` gives W's diagonal: node forecasts in, coherent forecasts out."""
        s = self.summing()
        w = s.sum(axis=1) if variance is None else variance
        weighted = s.T * (1.0 / w)
        return np.asarray(s @ np.linalg.solve(weighted @ s, weighted))

    def bottom_up(self) -> np.ndarray:
        """S G with G picking the leaves' rows: every node becomes the sum of its leaves."""
        pick = np.zeros((len(self.leaves), len(self.nodes)))
        for j, leaf in enumerate(self.leaves):
            pick[j, self.nodes.index(leaf)] = 1.0
        return np.asarray(self.summing() @ pick)


def trees(hierarchy: Mapping[str, Sequence[str]]) -> list[Tree]:
    """The connected trees of `hierarchy`, each with its nodes (roots first) and leaves;
    ForecastInputError on a cycle."""
    bottom_up_order(hierarchy, {c for kids in hierarchy.values() for c in kids})
    leaves_of: dict[str, list[str]] = {}

    def leaves(node: str) -> list[str]:
        if node not in hierarchy:
            return [node]
        if node not in leaves_of:
            leaves_of[node] = [leaf for child in hierarchy[node] for leaf in leaves(child)]
        return leaves_of[node]

    children = {c for kids in hierarchy.values() for c in kids}
    found = []
    for root in [p for p in hierarchy if p not in children]:
        nodes: list[str] = []
        stack = [root]
        while stack:
            node = stack.pop(0)
            if node in nodes:  # a cycle: callers reject them first (check_tree_shape)
                continue
            nodes.append(node)
            stack.extend(hierarchy.get(node, ()))
        for node in nodes:
            leaves(node)
        found.append(Tree(nodes, {n: leaves_of[n] for n in nodes if n in hierarchy}))
    return found


def _check_nodes(forecasts: pd.DataFrame, hierarchy: Mapping[str, Sequence[str]]) -> None:
    known = set(forecasts["unique_id"])
    check_tree_shape(hierarchy, known)
    missing = sorted(p for p in hierarchy if p not in known)
    if missing:
        raise ForecastInputError(
            f"hierarchy: parent {missing[0]!r} expected in forecasts (wls_struct reconciles "
            f"every level's own forecast), found none",
            series_id=missing[0],
        )


def check_tree_shape(hierarchy: Mapping[str, Sequence[str]], known: set[str]) -> None:
    """Cycles, unknown leaves, childless parents and children under two parents."""
    empty = next((p for p, kids in hierarchy.items() if not kids), None)
    if empty is not None:
        raise ForecastInputError(
            f"hierarchy: expected children for {empty!r}, found none", series_id=empty
        )
    bottom_up_order(hierarchy, known)  # cycles and unknown leaves
    counts = Counter(c for kids in hierarchy.values() for c in kids)
    twice = sorted(c for c, n in counts.items() if n > 1)
    if twice:
        raise ForecastInputError(
            f"hierarchy: expected each child under one parent, found {twice[0]!r} under two",
            series_id=twice[0],
        )


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
    for parent in bottom_up_order(hierarchy, known):
        children = pd.concat(parts, ignore_index=True)
        kids = children[children["unique_id"].isin(list(hierarchy[parent]))]
        summed = kids.groupby(keys, as_index=False)[values].sum()
        summed.insert(0, "unique_id", parent)
        parts.append(summed.assign(**constants))
    out = pd.concat(parts, ignore_index=True)
    return out[list(frame.columns)].sort_values(["unique_id", *keys], ignore_index=True)


def bottom_up_order(hierarchy: Mapping[str, Sequence[str]], leaves: set[str]) -> list[str]:
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
