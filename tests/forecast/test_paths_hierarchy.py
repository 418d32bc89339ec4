"""Sample paths in a hierarchical run: every parent's path is the sum of its leaves' paths."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
import pytest

from forecast import ForecastSettings, run_forecasts
from forecast.paths import leaf_correlation, leaf_shocks
from tests.forecast.conftest import seasonal_series

MODELS = ("seasonal_naive", "ses")
# county > team > district, with the teams of different sizes
NESTED = {"county": ("north", "south"), "north": ("a", "b", "c"), "south": ("d", "e")}
BASES = {"a": 120.0, "b": 80.0, "c": 60.0, "d": 90.0, "e": 40.0}


def _history(with_parents: bool, periods: int = 60, seed: int = 11) -> pd.DataFrame:
    """Five districts with independent noise and, when asked, every team's and the county's own
    records (their districts' sum plus recording noise)."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2019-01-01", periods=periods, freq="MS")
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(periods) / 12)
    series = {k: b * season + rng.normal(0, 8, periods) for k, b in BASES.items()}
    if with_parents:
        for parent in ("north", "south", "county"):
            total = sum(series[leaf] for leaf in _leaves(parent, NESTED))
            series[parent] = total + rng.normal(0, 4, periods)
    return pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": v}) for k, v in series.items()],
        ignore_index=True,
    )


def _leaves(node: str, tree: Mapping[str, Sequence[str]]) -> list[str]:
    if node not in tree:
        return [node]
    return [leaf for child in tree[node] for leaf in _leaves(child, tree)]


def _grid(paths: pd.DataFrame, uid: str) -> np.ndarray:
    """One series' paths as an array (path, period)."""
    rows = paths[paths["unique_id"] == uid]
    return rows.pivot(index="path", columns="ds", values="y").to_numpy()


def _assert_coherent(paths: pd.DataFrame, tree: Mapping[str, Sequence[str]]) -> None:
    for parent in tree:
        leaves = sum(_grid(paths, leaf) for leaf in _leaves(parent, tree))
        own = _grid(paths, parent)
        assert own.shape == leaves.shape
        np.testing.assert_allclose(own, leaves, rtol=0.0, atol=1e-9, err_msg=parent)


def _run(how: str, n: int = 40, seed: int = 0, history: pd.DataFrame | None = None) -> pd.DataFrame:
    if history is None:
        history = _history(with_parents=how == "wls_struct")
    settings = ForecastSettings(
        horizon=4,
        models=MODELS,
        backtest_folds=2,
        hierarchy=NESTED,
        reconcile=how,
        sample_paths=n,
        seed=seed,
    )
    paths = run_forecasts(history, settings).sample_paths
    assert paths is not None
    return paths


@pytest.mark.parametrize("how", ["bottom_up", "wls_struct"])
def test_every_parent_path_is_the_sum_of_its_leaves_paths(how: str) -> None:
    paths = _run(how)
    assert list(paths.columns) == ["unique_id", "ds", "path", "y"]
    assert set(paths["unique_id"]) == {*BASES, "north", "south", "county"}
    assert (paths.groupby("unique_id").size() == 40 * 4).all()
    _assert_coherent(paths, NESTED)
    # and the teams' paths add up to the county's, level by level
    teams = _grid(paths, "north") + _grid(paths, "south")
    np.testing.assert_allclose(_grid(paths, "county"), teams, rtol=0.0, atol=1e-9)


def test_coherent_paths_are_reproducible_from_the_seed() -> None:
    first, again, other = _run("bottom_up", seed=7), _run("bottom_up", seed=7), _run("bottom_up")
    pd.testing.assert_frame_equal(first, again)
    assert not np.allclose(first["y"], other["y"])
    _assert_coherent(first, NESTED)


def test_paths_do_not_depend_on_the_order_of_the_hierarchy_rows() -> None:
    """Correlated leaves' shocks are drawn in id order: the same seed gives the same paths when
    the hierarchy file lists its rows (so each parent's children) in another order."""
    history = _eight_districts(shared=True, seed=5)

    def paths(children: tuple[str, ...]) -> pd.DataFrame:
        settings = ForecastSettings(
            horizon=4, models=MODELS, hierarchy={"county": children}, sample_paths=30, seed=3
        )
        run = run_forecasts(history, settings)
        assert run.sample_paths is not None
        return run.sample_paths

    ids = tuple(f"d{i}" for i in range(8))
    pd.testing.assert_frame_equal(paths(ids), paths(ids[::-1]))
    pd.testing.assert_frame_equal(paths(ids), paths((*ids[3:], *ids[:3])))


def test_count_series_give_non_negative_paths_that_still_add_up() -> None:
    """Districts near zero: leaf paths are floored at zero (some are), and parents are sums of
    the floored paths, so they are non-negative too."""
    rng = np.random.default_rng(3)
    ds = pd.date_range("2019-01-01", periods=48, freq="MS")
    history = pd.concat(
        [pd.DataFrame({"unique_id": k, "ds": ds, "y": rng.poisson(1.0, 48)}) for k in BASES],
        ignore_index=True,
    )
    paths = _run("bottom_up", n=200, history=history)
    leaves = paths[paths["unique_id"].isin(list(BASES))]
    assert (leaves["y"] >= 0).all() and (leaves["y"] == 0).any()
    assert (paths["y"] >= 0).all()
    _assert_coherent(paths, NESTED)


def test_a_run_without_a_hierarchy_draws_the_same_paths_as_before() -> None:
    """Pinned from the engine before hierarchical paths existed (same seed, same frame)."""
    history = pd.concat(
        [seasonal_series("a"), seasonal_series("b", seed=1, level=30)], ignore_index=True
    )
    settings = ForecastSettings(horizon=3, models=("seasonal_naive",), sample_paths=2, seed=5)
    paths = run_forecasts(history, settings).sample_paths
    assert paths is not None
    expected = pd.DataFrame(
        {
            "unique_id": ["a"] * 6 + ["b"] * 6,
            "ds": pd.to_datetime(["2020-01-01", "2020-02-01", "2020-03-01"] * 4),
            "path": [0, 0, 0, 1, 1, 1] * 2,
            "y": [
                101.5181138287,
                123.1472580512,
                118.7434908660,
                104.5984395516,
                116.7180623109,
                121.8457676036,
                30.4363421253,
                45.4295150467,
                46.9715081589,
                32.4449817055,
                46.1718154475,
                46.7196192535,
            ],
        }
    )
    pd.testing.assert_frame_equal(paths, expected, check_exact=False, rtol=1e-9, atol=1e-8)


def _eight_districts(shared: bool, seed: int) -> pd.DataFrame:
    """Eight like districts whose noise is their own or (shared) one shock they all feel."""
    rng = np.random.default_rng(seed)
    ds = pd.date_range("2019-01-01", periods=72, freq="MS")
    season = 1 + 0.15 * np.sin(2 * np.pi * np.arange(72) / 12)
    common = rng.normal(0, 8, 72)
    frames = []
    for i in range(8):
        noise = common if shared else rng.normal(0, 8, 72)
        y = 80 * season + noise + rng.normal(0, 2, 72)
        frames.append(pd.DataFrame({"unique_id": f"d{i}", "ds": ds, "y": y}))
    return pd.concat(frames, ignore_index=True)


def _county_spreads(shared: bool) -> tuple[float, float]:
    """The county's mean 10-90% path spread over its own 80% interval, and over its districts'
    path spreads added in quadrature."""
    tree = {"county": tuple(f"d{i}" for i in range(8))}
    settings = ForecastSettings(
        horizon=6, models=(*MODELS, "theta"), hierarchy=tree, sample_paths=1000
    )
    run = run_forecasts(_eight_districts(shared, seed=5), settings)
    assert run.sample_paths is not None
    q = run.sample_paths.groupby(["unique_id", "ds"])["y"].quantile([0.1, 0.9]).unstack()
    spread = (q[0.9] - q[0.1]).unstack(0)
    fc = run.forecasts.set_index(["ds", "unique_id"])
    own = (fc["hi-80"] - fc["lo-80"]).unstack(1)["county"]
    quadrature = np.sqrt((spread.drop(columns="county") ** 2).sum(axis=1))
    county = spread["county"]
    return float((county / own).mean()), float((county / quadrature).mean())


def test_a_shock_the_districts_share_widens_the_countys_paths_to_its_own_interval() -> None:
    """Districts' shocks are drawn with the correlation of their backtest errors. With a shock
    they all feel, the county's paths spread about as its own calibrated interval (measured 1.15
    here; 0.46 when districts were drawn independently) and far wider than independent districts
    would give (2.5 times); with independent noise they stay near the quadrature sum (0.70 on
    this draw: 18 backtest errors per district estimate a mean correlation of -0.07 from noise;
    over 30 draws the county's 10-90% paths covered 91% of outcomes, against 92% independent)."""
    alone_vs_own, alone_vs_quadrature = _county_spreads(shared=False)
    shared_vs_own, shared_vs_quadrature = _county_spreads(shared=True)
    assert shared_vs_quadrature > 2.0
    assert 0.8 < shared_vs_own < 1.5
    assert 0.6 < alone_vs_quadrature < 1.3
    assert alone_vs_own < shared_vs_own


def test_leaf_correlation_recovers_a_shared_factor_and_shrinks_to_its_mean() -> None:
    rng = np.random.default_rng(3)
    common = rng.standard_normal(400)
    errors = [0.8 * common + 0.6 * rng.standard_normal(400) for _ in range(4)]
    corr = leaf_correlation(errors)
    off = corr[~np.eye(4, dtype=bool)]
    assert np.allclose(np.diag(corr), 1.0)
    assert off == pytest.approx(0.64, abs=0.06)
    # few observations: pulled towards the mean off-diagonal value by k / (k + m)
    few = [e[:12] for e in errors]
    raw = np.corrcoef(np.column_stack(few), rowvar=False)
    shrunk = leaf_correlation(few)
    mean_off = (raw.sum() - 4) / 12
    expected = (12 / 16) * raw + (4 / 16) * np.where(np.eye(4, dtype=bool), 1.0, mean_off)
    assert shrunk == pytest.approx(expected, abs=1e-5)


def test_leaf_correlation_is_the_identity_without_enough_shared_folds() -> None:
    rng = np.random.default_rng(4)
    short = [rng.standard_normal(9) for _ in range(3)]
    assert np.array_equal(leaf_correlation(short), np.eye(3))
    gappy = [rng.standard_normal(30) for _ in range(3)]
    gappy[0][::2] = np.nan
    gappy[1][1::2] = np.nan  # no row is complete in all three
    assert np.array_equal(leaf_correlation(gappy), np.eye(3))
    flat = [np.ones(30), rng.standard_normal(30)]
    assert np.array_equal(leaf_correlation(flat), np.eye(2))


def test_leaf_correlation_of_more_leaves_than_folds_can_still_be_drawn_from() -> None:
    """Eight leaves, ten observations: a rank-deficient sample matrix, made positive definite."""
    rng = np.random.default_rng(5)
    errors = [rng.standard_normal(10) for _ in range(8)]
    corr = leaf_correlation(errors)
    assert np.linalg.eigvalsh(corr).min() > 0
    np.linalg.cholesky(corr)


def test_leaf_shocks_have_the_asked_correlations_across_leaves_and_steps() -> None:
    corr = np.array([[1.0, 0.7, 0.2], [0.7, 1.0, 0.4], [0.2, 0.4, 1.0]])
    rhos = [0.0, 0.5, 0.8]
    shocks = leaf_shocks("county", (20000, 1, 6), rhos, corr)
    assert [s.shape for s in shocks] == [(20000, 6)] * 3
    first = np.corrcoef(np.column_stack([s[:, 0] for s in shocks]), rowvar=False)
    assert first == pytest.approx(corr, abs=0.03)
    for s, rho in zip(shocks, rhos, strict=True):
        assert s.std() == pytest.approx(1.0, abs=0.02)
        assert np.corrcoef(s[:, 2], s[:, 3])[0, 1] == pytest.approx(rho, abs=0.03)
    again = leaf_shocks("county", (20000, 1, 6), rhos, corr)
    assert all(np.array_equal(a, b) for a, b in zip(shocks, again, strict=True))
