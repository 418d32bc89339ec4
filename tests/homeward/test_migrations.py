"""Alembic migrations on real SQLite and PostgreSQL: from empty and from every older revision
(with rows in it), down to empty and back, no drift from models/tables.py (types and server
defaults included), and processes starting at once on an empty database take turns."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pandas as pd
import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, inspect, text

from homeward.storage import SchemaTooNew, alembic_config, all_revisions, make_engine, upgrade
from models import Base

ROOT = Path(__file__).resolve().parents[2]
REVISIONS = [
    script.revision
    for script in ScriptDirectory.from_config(alembic_config("sqlite://")).walk_revisions()
][::-1]


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'db.sqlite'}"
    return str(request.getfixturevalue("fresh_postgres_url"))


@pytest.fixture
def engine(url: str) -> Iterator[Engine]:
    engine = make_engine(url)
    yield engine
    engine.dispose()


def _migrate(engine: Engine, how: str, revision: str) -> None:
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        getattr(command, how)(cfg, revision)


def _drift(engine: Engine) -> list[object]:
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "compare_server_default": True}
        )
        return list(compare_metadata(context, Base.metadata))


def _revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _seed_0001(engine: Engine) -> None:
    """A config, a run, an import and an observation, as the first schema stored them."""
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO planning_configs (id, name, version, body, body_hash, created_at) "
                "VALUES (1, 'c', '1', '{}', 'h', CURRENT_TIMESTAMP)"
            )
        )
        c.execute(
            text(
                "INSERT INTO runs (id, kind, trigger, status, started_at, code_version, "
                "models_chosen, timings_s) VALUES (1, 'pipeline', 'test', 'succeeded', "
                "CURRENT_TIMESTAMP, 'v', '{}', '{}')"
            )
        )
        c.execute(
            text(
                "INSERT INTO imports (id, source, rows, series_count, data_hash, created_at) "
                "VALUES (1, 'a.csv', 1, 1, 'h', CURRENT_TIMESTAMP)"
            )
        )


def test_every_revision_upgrades_to_head_with_its_rows_kept(engine: Engine) -> None:
    for older in REVISIONS[:-1]:
        if _revision(engine):
            _migrate(engine, "downgrade", "base")
        _migrate(engine, "upgrade", "0001")
        _seed_0001(engine)
        _migrate(engine, "upgrade", older)
        upgrade(engine)  # what the service does at start
        assert _revision(engine) == REVISIONS[-1]
        with engine.connect() as c:
            assert c.execute(text("SELECT scenario FROM planning_configs")).scalar_one() in (
                False,
                0,
            )
            assert c.execute(text("SELECT sweep FROM runs")).scalar_one() is None
            assert c.execute(text("SELECT revised FROM imports")).scalar_one() is None
            # 0012: a run's queue time and sweep were not kept before it, so they are not known
            provenance = c.execute(text("SELECT queued_at, parent_run_id FROM runs")).one()
            assert tuple(provenance) == (None, None)
    assert _drift(engine) == []


def test_head_downgrades_to_empty_and_back(engine: Engine) -> None:
    upgrade(engine)
    for older in [*REVISIONS[-2::-1], "base"]:
        _migrate(engine, "downgrade", older)
        assert _revision(engine) == (None if older == "base" else older)
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(engine)
    assert _drift(engine) == []


def test_processes_starting_at_once_on_an_empty_database_take_turns(
    url: str, tmp_path: Path
) -> None:
    """Replicas, or the service and a `homeward keys create`, each migrate at start: without
    taking turns all but one fail ('table imports already exists', a duplicate key)."""
    go = tmp_path / "go"
    script = (
        "import sys, time, pathlib\n"
        "from homeward.storage import make_engine, upgrade\n"
        "engine = make_engine(sys.argv[1])\n"
        "engine.connect().close()\n"
        "pathlib.Path(sys.argv[3]).touch()\n"
        "while not pathlib.Path(sys.argv[2]).exists(): time.sleep(0.01)\n"
        "upgrade(engine)\n"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, url, str(go), str(tmp_path / f"ready-{i}")],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(4)
    ]
    deadline = time.monotonic() + 120
    while len(list(tmp_path.glob("ready-*"))) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)  # every process imported and connected: start them together
    go.touch()
    outcomes = [(p.wait(timeout=120), p.communicate()[1][-300:]) for p in procs]
    assert [code for code, _ in outcomes] == [0] * 4, outcomes
    engine = make_engine(url)
    try:
        assert _revision(engine) == REVISIONS[-1] and _drift(engine) == []
    finally:
        engine.dispose()


def test_a_schema_a_newer_release_migrated_is_refused_in_words(engine: Engine, url: str) -> None:
    """An image rolled back to an older release meets a database its successor migrated."""
    upgrade(engine)
    with engine.begin() as c:
        c.execute(text("UPDATE alembic_version SET version_num = '0099'"))
    with pytest.raises(SchemaTooNew, match="revision '0099', which this Homeward"):
        upgrade(engine)
    cli = subprocess.run(  # as an operator meets it: a command, its exit status, one line
        [sys.executable, "-m", "homeward.cli", "-q", "keys", "list"],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 2 and "Traceback" not in cli.stderr
    [line] = cli.stderr.strip().splitlines()
    assert "a newer release migrated it" in line


def test_migrating_logs_what_it_runs_and_not_alembics_chatter(
    engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="alembic")
    upgrade(engine)
    upgrade(engine)  # nothing to run: nothing logged
    said = [r.getMessage() for r in caplog.records if r.name.startswith("alembic")]
    assert [line.split(",")[0] for line in said] == [
        f"Running upgrade {older} -> {newer}"
        for older, newer in zip(["", *REVISIONS[:-1]], REVISIONS, strict=True)
    ]
    assert logging.getLogger("alembic.runtime.migration").filters == []


def test_postgresql_sessions_are_in_utc_whatever_the_servers_time_zone(
    fresh_postgres_url: str,
) -> None:
    """`homeward keys list` prints created and revoked times under '(UTC)', and the API's runs
    are compared and shown as UTC: a server in +05:30 (never UTC in any season) hands times
    back in its own zone unless the session says otherwise."""
    engine = make_engine(f"{fresh_postgres_url}?options=-c%20timezone%3DAsia/Kolkata")
    try:
        upgrade(engine)
        with engine.begin() as c:
            c.execute(
                text(
                    "INSERT INTO api_keys (name, role, key_hash, created_at) "
                    "VALUES ('a', 'viewer', 'h', '2026-07-01 06:00:00+00')"
                )
            )
        with engine.connect() as c:
            created = c.execute(text("SELECT created_at FROM api_keys")).scalar_one()
            zone = c.execute(text("SHOW TIME ZONE")).scalar_one()
    finally:
        engine.dispose()
    assert zone == "UTC" and f"{created:%Y-%m-%d %H:%M%z}" == "2026-07-01 06:00+0000"


def test_downgrades_keep_the_rows_that_refer_to_runs(engine: Engine) -> None:
    """Downgrading 0009 (and 0007) rebuilt `runs` in SQLite's batch mode, whose DROP TABLE,
    with foreign keys on, deleted every forecast, metric, level shift and plan of every run."""
    from homeward import planning, repository
    from homeward.storage import session_factory, transaction

    upgrade(engine)
    with transaction(session_factory(engine)) as session:
        run = repository.start_run(session, "pipeline", "test", "v")
        body = {"name": "c"}
        config = repository.save_config(session, body, planning.config_hash(body))
        repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, {})
        metrics = pd.DataFrame({"unique_id": ["s"], "model": ["mean_best2"], "mase": [0.9]})
        metrics = metrics.assign(chosen=True, members="ets;theta")
        repository.store_forecasts(session, run.id, pd.DataFrame(), metrics)
    _migrate(engine, "downgrade", "0006")
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM plans")).scalar_one() == 1
        assert c.execute(text("SELECT count(*) FROM forecast_metrics")).scalar_one() == 1
        assert c.execute(text("SELECT count(*) FROM runs")).scalar_one() == 1
    upgrade(engine)
    assert _drift(engine) == []


def test_key_names_are_unique_among_active_keys_and_a_downgrade_keeps_the_newest(
    engine: Engine,
) -> None:
    """0011 lets a rotated name hold its old, revoked key beside its new one, but never two
    active keys; going back below it keeps each name's newest key, as the older schema
    holds one key per name."""
    from sqlalchemy.exc import IntegrityError

    upgrade(engine)
    insert = text(
        "INSERT INTO api_keys (name, role, key_hash, created_at, revoked_at) "
        "VALUES ('bi-tool', 'viewer', :hash, CURRENT_TIMESTAMP, :revoked)"
    )
    with engine.begin() as c:
        c.execute(insert, {"hash": "old", "revoked": "2026-11-24 08:00:00"})
        c.execute(insert, {"hash": "new", "revoked": None})
    with pytest.raises(IntegrityError), engine.begin() as c:
        c.execute(insert, {"hash": "another", "revoked": None})
    _migrate(engine, "downgrade", "0010")
    with engine.connect() as c:
        assert c.execute(text("SELECT key_hash FROM api_keys")).scalars().all() == ["new"]
    upgrade(engine)
    assert _drift(engine) == []


def test_keys_made_before_0013_never_expire_and_a_downgrade_revokes_expiring_ones(
    engine: Engine,
) -> None:
    """0013 leaves older keys with no expiry and no recorded use (neither was known); going
    back below it revokes every active key that would expire, as the older schema would let
    it work for ever, and leaves the rest as they were."""
    _migrate(engine, "upgrade", "0012")
    insert = text(
        "INSERT INTO api_keys (name, role, key_hash, created_at) "
        "VALUES (:name, 'viewer', :name, CURRENT_TIMESTAMP)"
    )
    with engine.begin() as c:
        c.execute(insert, {"name": "older"})
    upgrade(engine)
    with engine.begin() as c:
        older = c.execute(text("SELECT last_used_at, expires_at, revoked_at FROM api_keys"))
        assert tuple(older.one()) == (None, None, None)
        c.execute(insert, {"name": "contractor"})
        c.execute(
            text("UPDATE api_keys SET expires_at = :at WHERE name = 'contractor'"),
            {"at": "2099-01-01 00:00:00"},
        )
    _migrate(engine, "downgrade", "0012")
    with engine.connect() as c:
        rows = c.execute(text("SELECT name, revoked_at FROM api_keys ORDER BY id")).all()
    assert [(name, revoked is not None) for name, revoked in rows] == [
        ("older", False),
        ("contractor", True),
    ]
    upgrade(engine)
    assert _drift(engine) == []


def test_rows_stored_before_0015_were_made_by_no_one_known(engine: Engine) -> None:
    """0015 records who stored each import, config, run and plan, and starts an audit trail:
    the rows stored before it keep null (who made them was never recorded) and the trail
    starts empty; going back below it keeps every row."""
    _migrate(engine, "upgrade", "0014")
    _seed_0001(engine)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO plans (id, run_id, config_id, created_at, status, solve_seconds, "
                "result) VALUES (1, 1, 1, CURRENT_TIMESTAMP, 'optimal', 0.1, '{}')"
            )
        )
    upgrade(engine)
    tables = ("imports", "planning_configs", "runs", "plans")
    with engine.connect() as c:
        for table in tables:
            assert c.execute(text(f"SELECT created_by FROM {table}")).all() == [(None,)], table
        assert c.execute(text("SELECT count(*) FROM audit_events")).scalar_one() == 0
    _migrate(engine, "downgrade", "0014")
    assert "audit_events" not in inspect(engine).get_table_names()
    with engine.connect() as c:
        for table in tables:
            assert c.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 1, table
    upgrade(engine)
    assert _drift(engine) == []


def test_sweeps_stored_before_0012_get_their_plan_runs_back_and_a_purge_keeps_them_whole(
    engine: Engine,
) -> None:
    """0012 left `parent_run_id` null in older rows, and a purge keeps a sweep with its plan
    runs through it alone: `purge --keep-runs 2` on a database upgraded from 0008 deleted a
    sweep and one rate's plan and left the other rates' plans without their sweep. 0017 links
    each sweep plan run its sweep's rows name (a rate's `plan_id`, or `compared_with_plan_id`
    where the sweep planned its own rate as its baseline), and nothing else: not the active
    config's plan a sweep is compared with, nor a run whose link is recorded."""
    from homeward.retention import Retention, purge
    from homeward.storage import session_factory

    _migrate(engine, "upgrade", "0016")
    run = text(
        "INSERT INTO runs (id, kind, trigger, status, started_at, code_version, models_chosen, "
        "timings_s, sweep, parent_run_id) VALUES (:id, :kind, :trigger, :status, "
        "CURRENT_TIMESTAMP, 'v', '{}', '{}', :sweep, :parent)"
    )
    plan = text(
        "INSERT INTO plans (id, run_id, config_id, created_at, status, solve_seconds, result) "
        "VALUES (:id, :run, :config, CURRENT_TIMESTAMP, 'optimal', 0.1, :result)"
    )

    def rows(*named: tuple[float, int, int | None]) -> str:
        return json.dumps(
            [{"dfg_fee_rate": r, "plan_id": p, "compared_with_plan_id": c} for r, p, c in named]
        )

    runs = [  # id, kind, trigger, sweep rows, parent_run_id, plan id (config 1 active)
        (1, "pipeline", "scheduler", None, None, 1),
        (2, "plan", "api", None, None, 2),  # an older what-if: the one run a purge lets go
        # a sweep by a release before 0012 with its own rate's baseline (plan 3) and two more
        # rates; its last row names a plan another sweep's run records as its own
        (3, "sweep", "api", rows((0.05, 4, 3), (0.1, 5, 3), (0.15, 8, None)), None, None),
        (4, "plan", "sweep", None, None, 3),
        (5, "plan", "sweep", None, None, 4),
        (6, "plan", "sweep", None, None, 5),
        # a sweep by a release before 0012 compared with the active config's plan, which the
        # pipeline (run 8) made while the sweep was queued
        (7, "sweep", "api", rows((0.2, 6, 7)), None, None),
        (8, "pipeline", "scheduler", None, None, 7),
        (9, "plan", "sweep", None, None, 6),
        # a sweep by a release since 0012, stopped before it stored its one rate's row
        (10, "sweep", "api", rows(), None, None),
        (11, "plan", "sweep", None, 10, 8),
    ]
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO planning_configs (id, name, version, body, body_hash, created_at, "
                "scenario) VALUES (1, 'c', '1', '{}', 'c', CURRENT_TIMESTAMP, :no), "
                "(2, 'w', '1', '{}', 'w', CURRENT_TIMESTAMP, :yes)"
            ),
            {"no": False, "yes": True},
        )
        for run_id, kind, trigger, sweep, parent, _ in runs:
            status = "interrupted" if run_id == 10 else "succeeded"
            values = {"id": run_id, "kind": kind, "trigger": trigger, "status": status}
            c.execute(run, {**values, "sweep": sweep, "parent": parent})
        for run_id, kind, _, _, _, plan_id in runs:
            if plan_id is not None:
                config = 1 if kind == "pipeline" else 2
                result = json.dumps({"forecast_run_id": 1})  # every plan read run 1
                c.execute(plan, {"id": plan_id, "run": run_id, "config": config, "result": result})
    upgrade(engine)
    with engine.connect() as c:
        parents = dict(c.execute(text("SELECT id, parent_run_id FROM runs")).all())
    linked = {4: 3, 5: 3, 6: 3, 9: 7, 11: 10}
    assert parents == {run_id: linked.get(run_id) for run_id in range(1, 12)}

    done = purge(session_factory(engine), Retention(keep_runs=4), False, timedelta(minutes=10))
    assert done.choice.deleted == (2,)  # each sweep with its plan runs counted as one
    newest = [r for r, why in done.choice.kept.items() if why.startswith("the 4 newest")]
    assert sorted(newest) == [3, 7, 8, 10]
    _migrate(engine, "downgrade", "0016")  # the column stays, and so do the links
    with engine.connect() as c:
        kept = dict(c.execute(text("SELECT id, parent_run_id FROM runs")).all())
    assert kept == {run_id: linked.get(run_id) for run_id in range(1, 12) if run_id != 2}
    upgrade(engine)
    assert _drift(engine) == []


def test_0018_keeps_every_row_and_id_and_ids_of_deleted_newest_rows_stay_used(
    engine: Engine,
) -> None:
    """Rebuilding `runs` for AUTOINCREMENT (SQLite) drops the old table, which with foreign
    keys on deletes every forecast and plan of every run: the migration runs with them off.
    After it, a deleted newest run's or plan's id is never given to the next one."""
    from homeward import repository
    from homeward.storage import session_factory, transaction

    _migrate(engine, "upgrade", "0017")
    _seed_0001(engine)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO runs (id, kind, trigger, status, started_at, code_version, "
                "models_chosen, timings_s) VALUES (2, 'plan', 'api', 'succeeded', "
                "CURRENT_TIMESTAMP, 'v', '{}', '{}')"
            )
        )
        for plan_id, run_id in ((1, 1), (2, 2)):
            c.execute(
                text(
                    "INSERT INTO plans (id, run_id, config_id, created_at, status, "
                    "solve_seconds, result) VALUES (:id, :run, 1, CURRENT_TIMESTAMP, "
                    "'optimal', 0.1, '{}')"
                ),
                {"id": plan_id, "run": run_id},
            )
        c.execute(
            text(
                "INSERT INTO forecasts (run_id, series_id, ds, model, mean, lo_80, hi_80, "
                "lo_95, hi_95) VALUES (1, 's', '2026-01-05 00:00:00', 'm', 1, 1, 1, 1, 1)"
            )
        )
    upgrade(engine)
    with engine.connect() as c:
        assert c.execute(text("SELECT id FROM runs ORDER BY id")).scalars().all() == [1, 2]
        plans = c.execute(text("SELECT id, run_id FROM plans ORDER BY id")).all()
        assert [tuple(p) for p in plans] == [(1, 1), (2, 2)]
        assert c.execute(text("SELECT count(*) FROM forecasts")).scalar_one() == 1
        if engine.dialect.name == "sqlite":  # and on again after it, as on every connection
            assert c.execute(text("PRAGMA foreign_keys")).scalar_one() == 1
    with engine.begin() as c:  # a purge of the newest
        if engine.dialect.name == "postgresql":  # ids inserted as the app would have had them
            for table in ("runs", "plans"):
                c.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), 2)"))
        c.execute(text("DELETE FROM plans WHERE id = 2"))
        c.execute(text("DELETE FROM runs WHERE id = 2"))
    with transaction(session_factory(engine)) as session:
        run = repository.start_run(session, "plan", "api", "v")
        plan = repository.store_plan(session, run.id, 1, "optimal", 1.0, 0.1, {})
        assert (run.id, plan.id) == (3, 3)
    assert _drift(engine) == []


def test_a_0018_that_failed_part_way_is_migrated_again(
    engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite commits a CREATE TABLE outside any transaction: a rebuild refused after it (the
    broken-references check, or a crash while copying) rolled back the copy but left the
    empty `_alembic_tmp_runs`, and every later migrate failed on "table _alembic_tmp_runs
    already exists" (a diff reviewer)."""
    from homeward import storage

    _migrate(engine, "upgrade", "0017")
    _seed_0001(engine)

    def refused(_connection: object, _before: object) -> None:
        raise RuntimeError("refused after migrating")

    monkeypatch.setattr(storage, "_refuse_more_broken_references", refused)
    with pytest.raises(RuntimeError, match="refused after migrating"):
        upgrade(engine)
    assert _revision(engine) == "0017"
    monkeypatch.undo()
    upgrade(engine)
    assert _revision(engine) == all_revisions()[-1]
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM runs")).scalar_one() == 1
        names = inspect(c).get_table_names()
    assert not [n for n in names if n.startswith("_alembic_tmp")]
    assert _drift(engine) == []
