"""Run the per-series job in-process, on a local process pool, or on a Dask cluster."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from contextlib import contextmanager
from multiprocessing import get_context

from forecast.job import run_series
from forecast.outcome import SeriesOutcome
from forecast.series import SeriesData
from forecast.settings import ForecastSettings

Progress = Callable[[int, int], None]

# Each worker runs one series at a time; BLAS threads on top oversubscribe the cores.
BLAS_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A spawned worker costs about 2.3 s of CPU before its first fit (a fresh interpreter
# importing the parent's main module and statsmodels): more than a monthly series takes to
# fit in-process (0.1-0.4 s). So each worker is given at least this many series, and a run
# that would get fewer than two workers runs in-process. Measured on `homeward demo` (2
# monthly series, n_jobs 2): 4.7 s of worker CPU against 0.2 s in-process (docs/benchmarks.md).
MIN_SERIES_PER_WORKER = 2

# The pools running now, so a stopping service can end their workers (`stop_pools`).
_live_pools: set[ProcessPoolExecutor] = set()
_live_pools_lock = threading.Lock()


class WorkersStopped(RuntimeError):
    """The forecast workers were ended under a run because the service is stopping."""


def map_series(
    series: Sequence[SeriesData], settings: ForecastSettings, progress: Progress | None
) -> list[SeriesOutcome]:
    """`run_series` on every series, in input order; `progress(done, total)` as each ends."""
    if settings.dask_address:
        return _on_dask(series, settings, progress)
    if pool_workers(len(series), settings.n_jobs) > 1:
        return _on_pool(series, settings, progress)
    out = []
    with blas_limited():
        for i, s in enumerate(series, start=1):
            out.append(run_series(s, settings))
            _report(progress, i, len(series))
    return out


def pool_workers(n_series: int, n_jobs: int) -> int:
    """How many pool workers `n_series` series get: at most `n_jobs`, each with at least
    MIN_SERIES_PER_WORKER series to pay for its start; fewer than two means in-process.
    Series are forecast independently, so the results are the same whichever is used."""
    return min(n_jobs, n_series // MIN_SERIES_PER_WORKER)


def _on_pool(
    series: Sequence[SeriesData], settings: ForecastSettings, progress: Progress | None
) -> list[SeriesOutcome]:
    results: list[SeriesOutcome | None] = [None] * len(series)
    workers = pool_workers(len(series), settings.n_jobs)
    with single_blas_threads(), _pool(workers) as pool:
        futures = {pool.submit(run_series, s, settings): i for i, s in enumerate(series)}
        for done, fut in enumerate(as_completed(futures), start=1):
            results[futures[fut]] = fut.result()
            _report(progress, done, len(series))
    return [r for r in results if r is not None]


@contextmanager
def _pool(workers: int) -> Iterator[ProcessPoolExecutor]:
    """A spawn pool whose workers die with this process (`worker_init`) and never outlive the
    block: leaving it early (an error, Ctrl-C, SIGTERM turned into an exception) ends them
    rather than waiting for the series they are fitting, which can take minutes."""
    pool = ProcessPoolExecutor(
        workers,
        mp_context=get_context("spawn"),
        initializer=worker_init,
        initargs=(os.getpid(),),
    )
    with _live_pools_lock:
        _live_pools.add(pool)
    try:
        yield pool
    except BaseException as exc:
        stopped = _end_workers(pool)
        if stopped and not isinstance(exc, WorkersStopped) and isinstance(exc, Exception):
            raise WorkersStopped(
                "the forecast workers were stopped because the service is stopping"
            ) from exc
        raise
    else:
        pool.shutdown(wait=True)
    finally:
        with _live_pools_lock:
            _live_pools.discard(pool)


def stop_pools() -> int:
    """End the workers of every pool running in this process (a service stopping: the runs
    using them fail at once instead of holding the process for minutes); how many pools."""
    with _live_pools_lock:
        pools = list(_live_pools)
    for pool in pools:
        pool._homeward_stopped = True  # type: ignore[attr-defined]
        _end_workers(pool)
    return len(pools)


def _end_workers(pool: ProcessPoolExecutor) -> bool:
    """Kill a pool's workers and drop its queued series; whether `stop_pools` asked for it."""
    processes = dict(getattr(pool, "_processes", None) or {})  # private, stable since 3.3
    for process in processes.values():
        if process.is_alive():
            process.kill()
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes.values():
        process.join(timeout=5)
    return bool(getattr(pool, "_homeward_stopped", False))


def worker_init(parent_pid: int) -> None:
    """A pool worker's set-up: die with the parent, one BLAS thread."""
    die_with_parent(parent_pid)
    limit_blas_threads()


def die_with_parent(parent_pid: int) -> None:
    """On Linux, have the kernel SIGKILL this process when its parent dies (kill -9 of the
    service included), so workers never linger as orphans; elsewhere, nothing."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):  # no usable libc (musl oddities): workers as before
        return
    if os.getppid() != parent_pid:  # the parent died before the signal was set
        os._exit(1)


def _on_dask(
    series: Sequence[SeriesData], settings: ForecastSettings, progress: Progress | None
) -> list[SeriesOutcome]:
    from distributed import Client
    from distributed import as_completed as dask_completed

    with Client(settings.dask_address, set_as_default=False) as client:  # type: ignore[no-untyped-call]
        client.run(limit_blas_threads)
        futures = client.map(run_series, list(series), settings=settings, pure=False)
        index = {f.key: i for i, f in enumerate(futures)}
        results: list[SeriesOutcome | None] = [None] * len(series)
        finished = dask_completed(futures, loop=client.loop)  # type: ignore[no-untyped-call]
        for done, fut in enumerate(finished, start=1):
            results[index[fut.key]] = fut.result()
            _report(progress, done, len(series))
    return [r for r in results if r is not None]


@contextmanager
def single_blas_threads() -> Iterator[None]:
    """Spawned workers inherit the environment: one BLAS thread each, restored afterwards."""
    saved = {k: os.environ.get(k) for k in BLAS_THREAD_VARS}
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARS, "1"))
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


@contextmanager
def blas_limited() -> Iterator[None]:
    """One BLAS thread in this process for the block: fits use tiny matrices, and BLAS thread
    pools spinning on a busy machine made statsmodels fits ten times slower in measurements."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional dependency; without it the caller's setting stands
        yield
        return
    with threadpool_limits(1):
        yield


def limit_blas_threads() -> None:
    """In a worker whose numpy is already loaded, cap BLAS pools at runtime if possible."""
    os.environ.update(dict.fromkeys(BLAS_THREAD_VARS, "1"))
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: the environment variables still cover fresh workers
        return
    threadpool_limits(1)


def _report(progress: Progress | None, done: int, total: int) -> None:
    if progress is not None:
        progress(done, total)
