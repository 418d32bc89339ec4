"""The process pool and the Dask path give exactly the in-process forecasts."""

from __future__ import annotations

import pandas as pd
import pytest
from distributed import LocalCluster

from forecast import ForecastRun, ForecastSettings, parallel, run_forecasts
from tests.forecast.conftest import seasonal_series

BASE = ForecastSettings(
    horizon=4, models=("seasonal_naive", "ets"), backtest_folds=2, sample_paths=3
)


@pytest.fixture(scope="module")
def history() -> pd.DataFrame:
    return pd.concat([seasonal_series(f"s{i}", periods=40, seed=i) for i in range(3)])


@pytest.fixture(scope="module")
def local(history: pd.DataFrame) -> ForecastRun:
    return run_forecasts(history, BASE)


def _same(a: ForecastRun, b: ForecastRun) -> None:
    pd.testing.assert_frame_equal(a.forecasts, b.forecasts)
    pd.testing.assert_frame_equal(a.metrics, b.metrics)
    assert a.sample_paths is not None and b.sample_paths is not None
    pd.testing.assert_frame_equal(a.sample_paths, b.sample_paths)
    assert dict(a.chosen) == dict(b.chosen)


def test_process_pool_matches_in_process(
    history: pd.DataFrame, local: ForecastRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(parallel, "MIN_SERIES_PER_WORKER", 1)  # a pool for three series
    calls: list[tuple[int, int]] = []
    pooled = run_forecasts(
        history,
        BASE.__class__(**{**BASE.__dict__, "n_jobs": 2}),
        progress=lambda d, t: calls.append((d, t)),
    )
    _same(local, pooled)
    assert calls == [(1, 3), (2, 3), (3, 3)]


def test_dask_matches_in_process(history: pd.DataFrame, local: ForecastRun) -> None:
    with LocalCluster(n_workers=1, processes=False, dashboard_address=None) as cluster:
        settings = BASE.__class__(**{**BASE.__dict__, "dask_address": cluster.scheduler_address})
        remote = run_forecasts(history, settings)
    _same(local, remote)


def test_a_run_too_small_to_pay_for_workers_starts_no_pool(
    history: pd.DataFrame, local: ForecastRun, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three series on two jobs give a worker fewer than two series: a spawned worker costs
    more CPU to start than such series take to fit, so they are fitted in-process."""

    def no_pool(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("a process pool was started for a run too small to pay for it")

    monkeypatch.setattr(parallel, "ProcessPoolExecutor", no_pool)
    small = run_forecasts(history, BASE.__class__(**{**BASE.__dict__, "n_jobs": 2}))
    _same(local, small)


@pytest.mark.parametrize(
    ("n_series", "n_jobs", "workers"),
    [(1, 4, 0), (2, 2, 1), (3, 2, 1), (4, 2, 2), (5, 2, 2), (15, 8, 7), (40, 8, 8), (9, 1, 1)],
)
def test_each_pool_worker_gets_at_least_two_series(
    n_series: int, n_jobs: int, workers: int
) -> None:
    assert parallel.pool_workers(n_series, n_jobs) == workers
