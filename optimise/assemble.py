"""Assembler: collects column and row families as sparse triplets, then freezes an LpModel."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

from optimise.model import Array, Block, IntArray, LpModel


class Assembler:
    """Mutable scratchpad used only while building; `finish` returns the immutable model."""

    def __init__(self, labels: dict[str, tuple[str, ...]]) -> None:
        self.labels = labels
        self.columns: dict[str, Block] = {}
        self.rows: dict[str, Block] = {}
        self._cost: list[Array] = []
        self._col_lower: list[Array] = []
        self._col_upper: list[Array] = []
        self._row_lower: list[Array] = []
        self._row_upper: list[Array] = []
        self._triplets: list[tuple[IntArray, IntArray, Array]] = []
        self._ncols = 0
        self._nrows = 0

    @classmethod
    def extend(cls, model: LpModel, labels: dict[str, tuple[str, ...]]) -> Assembler:
        """A scratchpad holding `model`'s columns and rows (same indices), to add more to;
        `labels` may add axes for the new families."""
        asm = cls({**model.labels, **labels})
        asm.columns, asm.rows = dict(model.columns), dict(model.rows)
        asm._cost, asm._col_lower, asm._col_upper = (
            [model.cost],
            [model.col_lower],
            [model.col_upper],
        )
        asm._row_lower, asm._row_upper = [model.row_lower], [model.row_upper]
        coo = model.matrix.tocoo()
        asm._triplets = [(coo.row.astype(np.int64), coo.col.astype(np.int64), coo.data)]
        asm._ncols, asm._nrows = model.num_cols, model.num_rows
        return asm

    def shape(self, axes: tuple[str, ...]) -> tuple[int, ...]:
        return tuple(len(self.labels[a]) for a in axes)

    def add_columns(
        self,
        name: str,
        axes: tuple[str, ...],
        cost: npt.ArrayLike = 0.0,
        lower: npt.ArrayLike = 0.0,
        upper: npt.ArrayLike = np.inf,
    ) -> IntArray:
        """Add a full grid of columns; return their indices shaped like the grid."""
        shape = self.shape(axes)
        block = Block(name, self._ncols, axes, shape)
        self.columns[name] = block
        self._cost.append(np.broadcast_to(np.asarray(cost, float), shape).ravel())
        self._col_lower.append(np.broadcast_to(np.asarray(lower, float), shape).ravel())
        self._col_upper.append(np.broadcast_to(np.asarray(upper, float), shape).ravel())
        self._ncols += block.size
        return np.arange(block.start, block.stop).reshape(shape)

    def add_rows(
        self,
        name: str,
        axes: tuple[str, ...],
        lower: npt.ArrayLike,
        upper: npt.ArrayLike,
        mask: npt.NDArray[np.bool_] | None = None,
    ) -> IntArray:
        """Add rows on a grid (or the masked part of it); return row indices shaped like the grid.

        Entries outside the mask get index -1, and `coef` drops terms on them.
        """
        shape = self.shape(axes)
        keep = np.ones(shape, bool) if mask is None else np.broadcast_to(mask, shape)
        positions = None if keep.all() else np.flatnonzero(keep).astype(np.int64)
        block = Block(name, self._nrows, axes, shape, positions)
        self.rows[name] = block
        index = np.full(shape, -1, dtype=np.int64)
        index[keep] = np.arange(block.start, block.stop)
        self._row_lower.append(np.broadcast_to(np.asarray(lower, float), shape)[keep])
        self._row_upper.append(np.broadcast_to(np.asarray(upper, float), shape)[keep])
        self._nrows += block.size
        return index

    def coef(self, rows: npt.ArrayLike, cols: npt.ArrayLike, values: npt.ArrayLike) -> None:
        """Add matrix coefficients, broadcasting rows, cols and values together."""
        r, c, v = np.broadcast_arrays(np.asarray(rows), np.asarray(cols), np.asarray(values, float))
        keep = (r >= 0) & (v != 0)
        self._triplets.append((r[keep].astype(np.int64), c[keep].astype(np.int64), v[keep]))

    def finish(self, penalties: dict[str, float] | None = None) -> LpModel:
        rows, cols, vals = (
            np.concatenate(part) if part else np.zeros(0)
            for part in zip(*self._triplets, strict=True)
        )
        matrix = sp.csr_matrix((vals, (rows, cols)), shape=(self._nrows, self._ncols))
        matrix.sum_duplicates()
        return LpModel(
            columns=self.columns,
            rows=self.rows,
            cost=np.concatenate(self._cost),
            col_lower=np.concatenate(self._col_lower),
            col_upper=np.concatenate(self._col_upper),
            matrix=matrix,
            row_lower=np.concatenate(self._row_lower),
            row_upper=np.concatenate(self._row_upper),
            labels=self.labels,
            penalties=dict(penalties or {}),
        )
