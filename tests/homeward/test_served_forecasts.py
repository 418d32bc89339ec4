"""A run's forecasts are served as the newest only once the run has ended: a dashboard never
mixes a running run's forecasts with the plan of the run before; the run's own plan step sees
them, and a run cut off by a crash (closed by recovery) keeps its whole forecasts served."""

from __future__ import annotations

import pandas as pd
from sqlalchemy.orm import Session, sessionmaker

from homeward import repository
from homeward.pipeline import LOCK_NAME
from homeward.recovery import INTERRUPTED, close_interrupted_runs
from homeward.storage import transaction
from models import RunRow

SERIES = "referrals/ot/rugby"


def _forecast(level: float) -> pd.DataFrame:
    weeks = pd.date_range("2026-01-05", periods=3, freq="W-MON")
    frame = pd.DataFrame({"unique_id": SERIES, "ds": weeks, "model": "flat", "mean": level})
    return frame.assign(**{c: level for c in ("lo-80", "hi-80", "lo-95", "hi-95")})


def _run_storing(factory: sessionmaker[Session], level: float, status: str) -> int:
    """A pipeline run that has stored a forecast of `level` and is now `status`."""
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, _forecast(level), pd.DataFrame())
        run.status = status
        return run.id


def _served(session: Session) -> tuple[int | None, list[float], dict[str, int]]:
    """The newest run every reader serves: one series', the frame's means, each series'."""
    found = repository.latest_forecast(session, SERIES)
    frame = repository.latest_forecast_frame(session, "referrals/")
    runs = repository.newest_forecast_runs(session, "referrals/")
    return (None if found is None else found[0].id), frame["mean"].tolist(), runs


def test_a_running_runs_forecasts_are_served_only_once_it_has_ended(
    factory: sessionmaker[Session],
) -> None:
    older = _run_storing(factory, 5.0, "succeeded")
    running = _run_storing(factory, 9.0, "running")
    with factory() as session:
        assert _served(session) == (older, [5.0] * 3, {SERIES: older})
        repository.see_own_forecasts(session, running)  # the run's own plan step
        assert _served(session) == (running, [9.0] * 3, {SERIES: running})
    with transaction(factory) as session:
        # its forecasting stored whole, its plan refused: the forecasts are still good
        session.get_one(RunRow, running).status = "failed"
    with factory() as session:
        assert _served(session) == (running, [9.0] * 3, {SERIES: running})


def test_a_run_cut_off_by_a_crash_is_served_once_recovery_closes_it(
    factory: sessionmaker[Session],
) -> None:
    older = _run_storing(factory, 5.0, "succeeded")
    cut_off = _run_storing(factory, 9.0, "running")  # no lock names it: its process is gone
    with factory() as session:
        assert _served(session)[0] == older
    assert close_interrupted_runs(factory, LOCK_NAME) == [cut_off]
    with factory() as session:
        assert session.get_one(RunRow, cut_off).status == INTERRUPTED
        assert _served(session) == (cut_off, [9.0] * 3, {SERIES: cut_off})
