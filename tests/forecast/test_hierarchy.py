"""Bottom-up reconciliation adds up, level by level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError, reconcile_bottom_up
from forecast.hierarchy import reconcile_paths_bottom_up

COLS = ["mean", "lo-80", "hi-80", "lo-95", "hi-95"]


def _leaf(uid: str, base: float, periods: int = 3) -> pd.DataFrame:
    ds = pd.date_range("2025-01-01", periods=periods, freq="MS")
    mean = base + np.arange(periods, dtype=float)
    frame = pd.DataFrame({"unique_id": uid, "ds": ds, "model": "ets", "mean": mean})
    for i, col in enumerate(COLS[1:], start=1):
        frame[col] = mean + (-1) ** i * i
    return frame


HIERARCHY = {"team-north": ["a", "b"], "team-south": ["c"], "county": ["team-north", "team-south"]}


def test_parents_are_sums_of_children_at_every_level() -> None:
    leaves = pd.concat([_leaf("a", 10.0), _leaf("b", 20.0), _leaf("c", 5.0)])
    out = reconcile_bottom_up(leaves, HIERARCHY).set_index(["unique_id", "ds"])
    north = out.loc["team-north", COLS].to_numpy()
    assert np.allclose(north, out.loc["a", COLS].to_numpy() + out.loc["b", COLS].to_numpy())
    county = out.loc["county", COLS].to_numpy()
    assert np.allclose(county, north + out.loc["team-south", COLS].to_numpy())
    assert np.allclose(out.loc["county", "mean"].to_numpy(), [35.0, 38.0, 41.0])
    assert (out.loc["county", "model"] == "bottom_up").all()
    assert list(out.reset_index().columns) == list(leaves.columns)


def test_existing_parent_rows_are_replaced() -> None:
    stale = _leaf("team-north", 999.0)
    out = reconcile_bottom_up(
        pd.concat([_leaf("a", 1.0), _leaf("b", 2.0), stale]), {"team-north": ["a", "b"]}
    )
    assert out[out["unique_id"] == "team-north"]["mean"].tolist() == [3.0, 5.0, 7.0]


def test_unknown_child_and_cycle_are_rejected() -> None:
    with pytest.raises(ForecastInputError, match="'z'"):
        reconcile_bottom_up(_leaf("a", 1.0), {"p": ["a", "z"]})
    with pytest.raises(ForecastInputError, match="cycles"):
        reconcile_bottom_up(_leaf("a", 1.0), {"p": ["q"], "q": ["p"]})


def test_paths_reconcile_pathwise() -> None:
    paths = pd.DataFrame(
        {
            "unique_id": ["a", "a", "b", "b"],
            "ds": pd.Timestamp("2025-01-01"),
            "path": [0, 1, 0, 1],
            "y": [1.0, 2.0, 10.0, 20.0],
        }
    )
    out = reconcile_paths_bottom_up(paths, {"p": ["a", "b"]})
    assert out[out["unique_id"] == "p"]["y"].tolist() == [11.0, 22.0]


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0, 1e6, allow_nan=False), min_size=2, max_size=6))
def test_total_mean_equals_sum_of_leaf_means(bases: list[float]) -> None:
    leaves = pd.concat([_leaf(f"d{i}", b) for i, b in enumerate(bases)])
    out = reconcile_bottom_up(leaves, {"all": [f"d{i}" for i in range(len(bases))]})
    total = out[out["unique_id"] == "all"]["mean"].to_numpy()
    assert np.allclose(total, leaves.groupby("ds")["mean"].sum().to_numpy())
