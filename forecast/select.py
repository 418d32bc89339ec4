"""Per-series model choice: the lowest mean backtest MASE wins; ties go to the earlier model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def choose(mase: Mapping[str, float], preference: Sequence[str]) -> str:
    """Name with the lowest finite MASE; if none is finite, the first available by preference."""
    order = [n for n in preference if n in mase] + [n for n in mase if n not in preference]
    scored = [(mase[n], i, n) for i, n in enumerate(order) if math.isfinite(mase[n])]
    if scored:
        return min(scored)[2]
    return order[0]
