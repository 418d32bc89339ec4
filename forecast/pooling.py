"""Sibling totals: each weekly series carries the sum of the series that share its id prefix."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pandas as pd

from forecast.series import SeriesData

# Weekly district series are too noisy to show their own annual season and bank-holiday dips;
# their service total shows both. Monthly series keep their own seasonality (DTOC unchanged).
POOLED_FREQS = ("W-MON",)
CORE_SHARE = 0.5  # a sibling with less of the longest sibling's history is not in the total


def group_key(unique_id: str) -> str:
    """Ids 'referrals/ot/rugby' and 'referrals/ot/warwick' share the group 'referrals/ot/'."""
    head, sep, _ = unique_id.rpartition("/")
    return head + sep


def with_sibling_totals(series: Sequence[SeriesData]) -> list[SeriesData]:
    """Each series of a pooled frequency gets `pooled`: the total over its group (itself
    included) on its own grid; a period where any sibling is missing is NaN in the total.

    A sibling with less than CORE_SHARE of the longest sibling's history (a district just
    added) is left out of the total, since it would cut the total short for every sibling and
    every pooled model would fail; it still gets the others' total as its pooled season."""
    groups: dict[tuple[str, str], list[SeriesData]] = {}
    for s in series:
        if s.freq in POOLED_FREQS:
            groups.setdefault((group_key(s.unique_id), s.freq), []).append(s)
    totals = {key: _total(members) for key, members in groups.items()}
    out = []
    for s in series:
        total = totals.get((group_key(s.unique_id), s.freq))
        if total is None:
            out.append(s)
        else:
            values = total.reindex(s.ds).to_numpy(dtype="float64")
            out.append(replace(s, pooled=values))
    return out


def _total(members: list[SeriesData]) -> pd.Series:
    observed = [int(np.isfinite(m.y).sum()) for m in members]
    core = [m for m, n in zip(members, observed, strict=True) if n >= CORE_SHARE * max(observed)]
    frame = pd.concat([pd.Series(m.y, index=m.ds) for m in core], axis=1)
    return frame.sum(axis=1, min_count=len(core))
