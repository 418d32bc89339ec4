"""A stand-in for `run_series` that spawned pool workers can import: it records the worker's
pid in $HOMEWARD_TEST_PID_DIR, then blocks for ten minutes (a fit that is still going)."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any


def block_and_record(_series: Any, _settings: Any) -> None:
    Path(os.environ["HOMEWARD_TEST_PID_DIR"], str(os.getpid())).touch()
    time.sleep(600)


def run_blocked_pool(n_jobs: int) -> None:
    """map_series on a pool whose every job blocks (the process to kill)."""
    from forecast import parallel
    from forecast.settings import ForecastSettings

    parallel.run_series = block_and_record  # type: ignore[assignment]
    parallel.MIN_SERIES_PER_WORKER = 1  # a pool even for two series
    parallel.map_series([0, 1], ForecastSettings(horizon=1, n_jobs=n_jobs), None)  # type: ignore[list-item]


if __name__ == "__main__":
    run_blocked_pool(2)
