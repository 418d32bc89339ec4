"""A restart does not make the same plan again: `up_to_date` finds the newest pipeline run
whose plan a new run would repeat, and `homeward demo` serves it instead of re-forecasting."""

from __future__ import annotations

import threading
import time
from typing import Any

import httpx
import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import commands, demo_config, planning, repository
from homeward.cli import main
from homeward.pipeline import UpToDate, freshness, record_skipped, run_pipeline, up_to_date
from homeward.settings import Settings, get_settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ObservationRow, RunRow
from tests.conftest import LiveServer


def _store(factory: sessionmaker[Session], weeks: int = 110) -> None:
    """Every demo district and service, `weeks` weeks of seasonal referrals, and the demo config."""
    body = demo_config.demo_planning_config(horizon_periods=4)
    ds = pd.date_range("2023-01-02", periods=weeks, freq="W-MON")
    season = (np.arange(len(ds)) % 52) / 4
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": ds, "y": 20.0 + i + season}
            )
            for i, d in enumerate(body["districts"])
            for s in body["services"]
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        if repository.active_config(session) is None:
            repository.save_config(session, body, planning.config_hash(body))


def _fast(settings: Settings) -> Settings:
    return settings.model_copy(update={"forecast_models": ("seasonal_naive", "ses")})


def test_a_run_is_up_to_date_until_data_config_settings_or_release_change(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _fast(sqlite_settings)
    _store(factory)
    assert up_to_date(factory, settings) is None  # no run yet
    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "succeeded" and outcome.plan_id is not None
    current = up_to_date(factory, settings)
    assert current is not None
    assert (current.run_id, current.plan_id) == (outcome.run_id, outcome.plan_id)

    # other forecast settings or solver would store other forecasts or another plan
    assert up_to_date(factory, sqlite_settings) is None
    assert up_to_date(factory, settings.model_copy(update={"forecast_backtest_folds": 3})) is None
    assert up_to_date(factory, settings.model_copy(update={"solver": "cbc"})) is None
    # workers do not change a forecast
    assert up_to_date(factory, settings.model_copy(update={"forecast_n_jobs": 2})) is not None

    # another release
    monkeypatch.setattr("homeward.pipeline.code_version", lambda: "9.9.9+other")
    assert up_to_date(factory, settings) is None
    monkeypatch.undo()
    assert up_to_date(factory, settings) is not None

    # a new config version
    body = {**demo_config.demo_planning_config(horizon_periods=4), "version": "next"}
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    assert up_to_date(factory, settings) is None
    assert "is not the one run" in str(freshness(factory, settings))  # says why


def test_an_upload_or_a_newer_failed_run_means_running_again(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    settings = _fast(sqlite_settings)
    _store(factory)
    outcome_before = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert up_to_date(factory, settings) is not None
    _store(factory, weeks=111)  # a new week arrives
    assert up_to_date(factory, settings) is None
    assert freshness(factory, settings) == (
        f"the stored observations changed since run {outcome_before.run_id}"
    )

    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    assert up_to_date(factory, settings) is not None
    with transaction(factory) as session:  # a newer run that failed, or one still going
        run = repository.start_run(session, "pipeline", "test", "x")
        newer = run.id
    assert up_to_date(factory, settings) is None
    with transaction(factory) as session:
        session.get_one(RunRow, newer).status = "failed"
    assert up_to_date(factory, settings) is None
    assert outcome.plan_id is not None


def test_a_scheduled_run_skipped_for_the_lock_does_not_make_a_run_due(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A skipped firing stored nothing: the plan before it is still what a run would make."""
    settings = _fast(sqlite_settings)
    _store(factory)
    outcome = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    skipped = record_skipped(factory, "scheduler")
    assert skipped > outcome.run_id
    current = up_to_date(factory, settings)
    assert current is not None and current.run_id == outcome.run_id


def test_demo_serves_the_stored_plan_instead_of_making_it_again(
    db_env: str,
    demo_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ran = demo_runs
    upgrade(make_engine(db_env))
    factory = session_factory(make_engine(db_env))
    assert main(["demo"]) == 0 and ran == ["run"]  # nothing stored yet: it runs

    assert "demo: running the pipeline (no pipeline run yet)" in capsys.readouterr().out
    monkeypatch.setattr(commands, "freshness", lambda *_a: UpToDate(7, 3, "t"))
    capsys.readouterr()
    assert main(["demo"]) == 0 and ran == ["run"]  # up to date: not run again
    out = capsys.readouterr().out
    assert "plan 3 (run 7, t) is up to date" in out and "--rerun" in out
    assert main(["demo", "--rerun"]) == 0 and ran == ["run", "run"]
    assert "demo: running the pipeline (--rerun)" in capsys.readouterr().out
    with factory() as session:  # the demo's data and config were still stored once
        assert repository.count_observations(session) > 0
        assert repository.active_config(session) is not None


def test_demo_with_a_stored_plan_serves_it_and_runs_in_the_background(
    db_env: str,
    demo_runs: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    served: list[str | None] = []

    def serve(_settings: Settings, _args: object, run_on_start: str | None = None) -> int:
        served.append(run_on_start)
        return 0

    monkeypatch.setattr(commands, "_serve", serve)
    monkeypatch.setattr(commands, "refuse_port_in_use", lambda *_a: None)  # 8000 may be taken
    assert main(["demo", "--serve"]) == 0  # nothing stored: it runs first, then serves
    assert demo_runs == ["run"] and served == [None]
    monkeypatch.setattr(commands, "_stored_plan_id", lambda _f: 4)
    capsys.readouterr()
    assert main(["demo", "--serve", "--rerun"]) == 0
    assert demo_runs == ["run"] and served == [None, "demo"]  # not run before serving
    out = capsys.readouterr().out
    assert "demo: serving plan 4 while the pipeline runs in the background (--rerun)" in out
    assert main(["demo", "--rerun"]) == 0 and demo_runs == ["run", "run"]  # not serving: runs


def test_an_app_started_with_a_run_serves_the_stored_plan_until_the_run_replaces_it(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.app
    from homeward.scheduler import scheduled_run

    settings = _fast(sqlite_settings).model_copy(update={"auth": "off"})
    _store(factory)
    first = run_pipeline(factory, settings, trigger="demo", report=lambda _m: None)
    go = threading.Event()

    def held_run(*args: Any) -> None:  # the run waits until the old plan has been read
        assert go.wait(60)
        scheduled_run(*args)

    monkeypatch.setattr(api.app, "scheduled_run", held_run)
    with (
        LiveServer(api.app.create_app(settings, run_on_start="demo")) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        [newest, _] = client.get("/v1/runs", params={"limit": 2}).json()
        assert (newest["trigger"], newest["status"]) == ("demo", "queued")
        assert client.get("/v1/plans/latest").json()["id"] == first.plan_id  # served meanwhile
        go.set()
        for _ in range(600):
            run = client.get(f"/v1/runs/{newest['id']}").json()
            if run["status"] not in ("queued", "running"):
                break
            time.sleep(0.1)
        assert run["status"] == "succeeded", run
        assert client.get("/v1/plans/latest").json()["id"] == run["plan_id"] != first.plan_id


def test_a_demo_kept_from_an_earlier_year_is_replaced_by_the_current_one(
    db_env: str, demo_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A `var/homeward.db` (or Docker volume) loaded with the demo to 2023 and started again
    when the demo's year is 2024: its history is replaced by the demo to 2024, so the run
    plans the year under way; a database holding any council upload keeps what it has."""

    def demo_to(year: int) -> int:
        monkeypatch.setenv("HOMEWARD_DEMO_LAST_YEAR", str(year))
        get_settings.cache_clear()
        return main(["demo"])

    def newest() -> pd.Timestamp:
        with factory() as session:
            return pd.Timestamp(max(row.last_ds for row in repository.list_series(session)))

    upgrade(make_engine(db_env))
    factory = session_factory(make_engine(db_env))
    assert demo_to(2023) == 0 and newest() == pd.Timestamp("2023-12-25")
    assert demo_to(2024) == 0 and demo_runs == ["run", "run"]
    assert newest() == pd.Timestamp("2024-12-30")
    with factory() as session:
        assert set(repository.newest_import_sources(session).values()) == {"synthetic demo"}
        counts = dict(
            session.execute(
                select(ObservationRow.series_id, func.count()).group_by(ObservationRow.series_id)
            ).all()
        )
    assert counts["referrals/ot/rugby"] == 470  # 2016-01-04..2024-12-30 once, not merged twice
    ours = pd.DataFrame(
        {"unique_id": "referrals/ot/ours", "ds": [pd.Timestamp("2025-01-06")], "y": 3.0}
    )
    with transaction(factory) as session:
        repository.store_observations(session, ours, "council.csv", "council")
    assert demo_to(2025) == 0
    assert newest() == pd.Timestamp("2025-01-06")  # only the council's week is newer
    with factory() as session:
        rugby = [r for r in repository.list_series(session) if r.id == "referrals/ot/rugby"]
    assert pd.Timestamp(rugby[0].last_ds) == pd.Timestamp("2024-12-30")  # not replaced


def test_a_demo_to_the_last_week_is_replaced_a_week_later_not_the_same_week(
    db_env: str, demo_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """By default the demo runs to the last complete week: a restart the same week keeps it
    (and the run finds it up to date), one the next week replaces it by the demo to the new
    last week, so the plan still starts this week; a council's upload is never replaced."""

    def demo_on(day: str) -> dict[str, pd.Timestamp]:
        monkeypatch.setattr(commands, "utcnow", lambda: pd.Timestamp(day, tz="UTC").to_pydatetime())
        assert main(["demo"]) == 0
        with factory() as session:
            return {r.id: pd.Timestamp(r.last_ds) for r in repository.list_series(session)}

    monkeypatch.delenv("HOMEWARD_DEMO_LAST_YEAR")
    get_settings.cache_clear()
    stored: list[str] = []  # the source of each import
    store = repository.store_observations

    def counted(session: Session, frame: pd.DataFrame, source: str, *a: Any, **k: Any) -> Any:
        stored.append(source)
        return store(session, frame, source, *a, **k)

    monkeypatch.setattr(repository, "store_observations", counted)
    upgrade(make_engine(db_env))
    factory = session_factory(make_engine(db_env))
    first = demo_on("2025-11-25")  # a Tuesday: to the week of 17 November, and October
    assert first["referrals/ot/rugby"] == pd.Timestamp("2025-11-17")
    assert first["dtoc_days/warwickshire"] == pd.Timestamp("2025-10-01")
    assert demo_on("2025-11-30") == first and stored == ["synthetic demo"]  # a Sunday: kept
    later = demo_on("2025-12-01")  # the Monday after: replaced, a week and November more
    assert later["referrals/ot/rugby"] == pd.Timestamp("2025-11-24")
    assert later["dtoc_days/warwickshire"] == pd.Timestamp("2025-11-01")
    assert stored == ["synthetic demo"] * 2
    ours = pd.DataFrame(
        {"unique_id": "referrals/ot/ours", "ds": [pd.Timestamp("2025-12-01")], "y": 3.0}
    )
    with transaction(factory) as session:
        store(session, ours, "council.csv", "council")
    assert demo_on("2025-12-15")["referrals/ot/rugby"] == pd.Timestamp("2025-11-24")
    assert stored == ["synthetic demo"] * 2
