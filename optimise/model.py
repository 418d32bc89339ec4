"""LpModel: the LP in matrix form, with labelled blocks of columns and rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
import scipy.sparse as sp

Array = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
_UNSAFE = str.maketrans({c: "_" for c in "-+[] ->/,.:*()"})


@dataclass(frozen=True)
class Block:
    """A family of columns or rows: `size` entries from `start`, labelled by axes.

    `positions` (flat indices into `shape`) is set when the family covers only part of the grid.
    """

    name: str
    start: int
    axes: tuple[str, ...]
    shape: tuple[int, ...]
    positions: IntArray | None = None

    @property
    def size(self) -> int:
        return int(np.prod(self.shape)) if self.positions is None else len(self.positions)

    @property
    def stop(self) -> int:
        return self.start + self.size

    def coords(self) -> tuple[IntArray, ...]:
        """Per axis, the integer coordinate of each entry (length `size`)."""
        flat = np.arange(self.size) if self.positions is None else self.positions
        return tuple(np.asarray(c, dtype=np.int64) for c in np.unravel_index(flat, self.shape))


@dataclass(frozen=True)
class LpModel:
    """min cost @ v  s.t.  row_lower <= matrix @ v <= row_upper,  col_lower <= v <= col_upper."""

    columns: dict[str, Block]
    rows: dict[str, Block]
    cost: Array
    col_lower: Array
    col_upper: Array
    matrix: sp.csr_matrix
    row_lower: Array
    row_upper: Array
    labels: dict[str, tuple[str, ...]]  # axis name -> labels along it
    penalties: dict[str, float] = field(default_factory=dict)  # slack column family -> penalty
    build_seconds: float = 0.0

    @property
    def num_cols(self) -> int:
        return len(self.cost)

    @property
    def num_rows(self) -> int:
        return len(self.row_lower)

    def col_values(self, values: Array, name: str) -> Array:
        """Values of one column family reshaped to its grid (nan where not present)."""
        return _grid(self.columns[name], values)

    def row_values(self, values: Array, name: str) -> Array:
        return _grid(self.rows[name], values)

    def names(self, kind: str) -> list[str]:
        """Sanitised names of every column ('cols') or row ('rows'), e.g. x_ot_rugby_3_urgent."""
        blocks = self.columns if kind == "cols" else self.rows
        out: list[str] = []
        for block in blocks.values():
            out.extend(entry_names(block, self.labels))
        return out


def _grid(block: Block, values: Array) -> Array:
    part = values[block.start : block.stop]
    if block.positions is None:
        return part.reshape(block.shape)
    out = np.full(int(np.prod(block.shape)), np.nan)
    out[block.positions] = part
    return out.reshape(block.shape)


def entry_names(block: Block, labels: dict[str, tuple[str, ...]]) -> list[str]:
    coords = block.coords()
    parts = [
        np.asarray(labels[axis], dtype=object)[c]
        for axis, c in zip(block.axes, coords, strict=True)
    ]
    return [safe_name(block.name, *p) for p in zip(*parts, strict=True)] if parts else [block.name]


def safe_name(family: str, *keys: object) -> str:
    """The name PuLP and MPS see: family and keys joined by '_', unsafe characters replaced."""
    return "_".join([family, *(str(k) for k in keys)]).translate(_UNSAFE)
