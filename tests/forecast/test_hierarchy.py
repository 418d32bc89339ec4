"""Bottom-up reconciliation adds up, level by level."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from forecast import ForecastInputError, reconcile_bottom_up, reconcile_wls_struct
from forecast.hierarchy import hierarchy_from_frame, reconcile_paths_bottom_up

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


def _node(uid: str, means: list[float], half: float = 2.0) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "unique_id": uid,
            "ds": pd.date_range("2025-01-01", periods=len(means), freq="MS"),
            "model": "ses",
            "mean": means,
        }
    )
    frame["lo-80"], frame["hi-80"] = frame["mean"] - half, frame["mean"] + half
    return frame


def test_wls_struct_meets_halfway_for_one_parent_of_two() -> None:
    """Parent forecast 12, children 4 + 4: with weights 2, 1, 1 the coherent answer is 10 = 5 + 5
    (the parent's own forecast and its children's sum meet halfway)."""
    frame = pd.concat([_node("p", [12.0]), _node("a", [4.0]), _node("b", [4.0])])
    out = reconcile_wls_struct(frame, {"p": ["a", "b"]}).set_index("unique_id")
    assert out.loc[["p", "a", "b"], "mean"].tolist() == pytest.approx([10.0, 5.0, 5.0])
    widths = out["hi-80"] - out["lo-80"]
    assert widths.tolist() == pytest.approx([4.0, 4.0, 4.0])
    assert (out["model"] == "ses+wls_struct").all()


def test_wls_struct_is_coherent_at_every_level_and_keeps_coherent_input() -> None:
    rng = np.random.default_rng(3)
    ids = ["a", "b", "c", "team-north", "team-south", "county"]
    frame = pd.concat([_node(uid, list(rng.uniform(5, 50, 4))) for uid in ids])
    before = frame.copy()
    out = reconcile_wls_struct(frame, HIERARCHY).set_index(["unique_id", "ds"])["mean"]
    assert np.allclose(out["team-north"], out["a"] + out["b"])
    assert np.allclose(out["team-south"], out["c"])
    assert np.allclose(out["county"], out["team-north"] + out["team-south"])
    coherent = reconcile_wls_struct(out.reset_index().assign(model="x"), HIERARCHY)
    assert np.allclose(coherent.set_index(["unique_id", "ds"])["mean"], out)
    pd.testing.assert_frame_equal(frame, before)  # the caller's frame is not changed


def test_wls_struct_reconciles_separate_trees_separately() -> None:
    values = {"p": 12.0, "a": 4.0, "b": 4.0, "q": 3.0, "c": 1.0, "d": 2.0}
    frame = pd.concat([_node(uid, [v]) for uid, v in values.items()])
    out = reconcile_wls_struct(frame, {"p": ["a", "b"], "q": ["c", "d"]})
    means = out.set_index("unique_id")["mean"]
    assert means[["q", "c", "d"]].tolist() == pytest.approx([3.0, 1.0, 2.0])
    assert means["p"] == pytest.approx(10.0)


def test_wls_struct_names_what_is_missing() -> None:
    frame = pd.concat([_node("a", [4.0]), _node("b", [4.0])])
    with pytest.raises(ForecastInputError, match="parent 'p' expected in forecasts"):
        reconcile_wls_struct(frame, {"p": ["a", "b"]})
    frame = pd.concat([frame, _node("p", [9.0]), _node("q", [9.0])])
    with pytest.raises(ForecastInputError, match="found 'b' under two"):
        reconcile_wls_struct(frame, {"p": ["a", "b"], "q": ["b"]})
    short = pd.concat([_node("p", [9.0, 9.0]), _node("a", [4.0]), _node("b", [4.0, 4.0])])
    with pytest.raises(ForecastInputError, match="same periods at every node"):
        reconcile_wls_struct(short, {"p": ["a", "b"]})


def test_hierarchy_rows_become_a_mapping_and_bad_rows_are_named() -> None:
    rows = pd.DataFrame({"parent_id": ["p", "p", "q"], "child_id": ["a", " b", "p"]})
    assert hierarchy_from_frame(rows) == {"p": ["a", "b"], "q": ["p"]}
    bad = [
        ({"parent": ["p"], "child_id": ["a"]}, "expected column 'parent_id'"),
        ({"parent_id": ["p", None], "child_id": ["a", "b"]}, "row 3: expected a series id"),
        ({"parent_id": ["p", "a"], "child_id": ["a", "a"]}, "row 3: expected a child different"),
        ({"parent_id": ["p", "p"], "child_id": ["a", "a"]}, "row 3: expected each pair once"),
        ({"parent_id": [], "child_id": []}, "expected at least one row"),
    ]
    for columns, message in bad:
        with pytest.raises(ForecastInputError, match=message):
            hierarchy_from_frame(pd.DataFrame(columns))
