"""Storage on real SQLite and real PostgreSQL: migrations, whole-or-nothing imports, locks, keys,
configs and plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pandas as pd
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, demo_config, planning, repository
from homeward.errors import Problem, ValidationFailed
from homeward.ingest import observations_hash, read_upload
from homeward.roles import Role
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import Base
from optimise.config import PlanningConfig

TABLES = {
    "observations",
    "series",
    "imports",
    "runs",
    "forecasts",
    "forecast_metrics",
    "planning_configs",
    "plans",
    "locks",
    "api_keys",
}


def _weekly(series_id: str, start: str, n: int, level: float = 10.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "unique_id": series_id,
            "ds": pd.date_range(start, periods=n, freq="W-MON"),
            "y": [level + i for i in range(n)],
        }
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path):  # type: ignore[no-untyped-def]
    url = (
        f"sqlite:///{tmp_path / 'db.sqlite'}"
        if request.param == "sqlite"
        else request.getfixturevalue("fresh_postgres_url")
    )
    engine = make_engine(url)
    upgrade(engine)
    upgrade(engine)  # idempotent
    yield session_factory(engine)
    engine.dispose()


def test_migrations_create_every_table(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        names = set(inspect(session.get_bind()).get_table_names())
    assert names >= TABLES


def test_migrations_match_the_tables_in_models(factory) -> None:  # type: ignore[no-untyped-def]
    with factory() as session:
        differences = compare_metadata(
            MigrationContext.configure(session.connection()), Base.metadata
        )
    assert differences == []


def test_api_key_is_stored_as_its_hash_and_revoked(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        new = api_keys.create_key(session, "dashboard", Role.VIEWER)
    with factory() as session:
        stored = session.execute(text("SELECT name, role, key_hash FROM api_keys")).all()
        caller = api_keys.authenticate(session, new.secret)
    assert [tuple(r) for r in stored] == [("dashboard", "viewer", api_keys.key_hash(new.secret))]
    assert caller == api_keys.Caller("dashboard", Role.VIEWER)
    with transaction(factory) as session:
        api_keys.revoke_key(session, "dashboard")
    with factory() as session, pytest.raises(api_keys.NotAuthenticated, match="revoked"):
        api_keys.authenticate(session, new.secret)
    with factory() as session:
        assert repository.list_api_keys(session)[0].revoked_at is not None


def test_api_key_names_and_hashes_are_unique(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        api_keys.create_key(session, "planner-1", Role.PLANNER)
    with pytest.raises(api_keys.KeyNameTaken, match="planner-1"), transaction(factory) as session:
        api_keys.create_key(session, "planner-1", Role.ADMIN)
    with pytest.raises(IntegrityError), transaction(factory) as session:  # the table refuses too
        repository.add_api_key(session, "planner-1", "admin", "0" * 64)
    with transaction(factory) as session:
        repository.add_api_key(session, "a", "admin", "f" * 64)
    with pytest.raises(IntegrityError), transaction(factory) as session:
        repository.add_api_key(session, "b", "admin", "f" * 64)
    with factory() as session:
        assert [k.name for k in repository.list_api_keys(session)] == ["planner-1", "a"]


def test_accepted_upload_is_stored_whole_and_reads_back(factory) -> None:  # type: ignore[no-untyped-def]
    frame = pd.concat(
        [
            _weekly("referrals/ot/rugby", "2024-01-01", 30),
            _weekly("referrals/hao/rugby", "2024-01-01", 20, 5.0),
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        summary = repository.store_observations(session, frame, "test", observations_hash(frame))
    assert summary.rows == 50
    with factory() as session:
        back = repository.load_observations(session)
        series = {s.id: s for s in repository.list_series(session)}
    pd.testing.assert_frame_equal(
        back.sort_values(["unique_id", "ds"]).reset_index(drop=True),
        frame.sort_values(["unique_id", "ds"]).reset_index(drop=True),
        check_dtype=False,
    )
    assert series["referrals/ot/rugby"].n_obs == 30 and series["referrals/ot/rugby"].freq == "W-MON"


def test_overlapping_upload_replaces_those_dates_only(factory) -> None:  # type: ignore[no-untyped-def]
    first = _weekly("referrals/ot/rugby", "2024-01-01", 10)
    second = _weekly("referrals/ot/rugby", "2024-02-05", 6, level=100.0)  # overlaps weeks 6-10
    with transaction(factory) as session:
        repository.store_observations(session, first, "a", "h1")
    with transaction(factory) as session:
        repository.store_observations(session, second, "b", "h2")
    with factory() as session:
        back = repository.load_observations(session)
    assert len(back) == 5 + 6
    assert back["y"].tolist()[:5] == [10.0, 11.0, 12.0, 13.0, 14.0]
    assert back["y"].tolist()[5:] == [100.0 + i for i in range(6)]


def test_an_upload_says_how_many_stored_values_it_revised(factory) -> None:  # type: ignore[no-untyped-def]
    """Weeks 1-10 stored; an upload of weeks 9-12 keeps week 9, corrects week 10 and adds two
    new weeks: one stored value revised."""
    first = _weekly("referrals/ot/rugby", "2024-01-01", 10)
    second = _weekly("referrals/ot/rugby", "2024-02-26", 4, level=18.0)  # 18, 19, 20, 21
    second.loc[1, "y"] = 99.0  # week 10 was 19
    with transaction(factory) as session:
        assert repository.store_observations(session, first, "a", "h1").revised == 0
    with transaction(factory) as session:
        summary = repository.store_observations(session, second, "b", "h2")
    assert (summary.rows, summary.revised) == (4, 1)


def test_a_retried_revision_answers_with_what_the_first_upload_revised(factory) -> None:  # type: ignore[no-untyped-def]
    """The retry stores nothing, so it changes nothing itself, but it answers as the upload it
    repeats did: one stored value revised."""
    first = _weekly("referrals/ot/rugby", "2024-01-01", 10)
    second = _weekly("referrals/ot/rugby", "2024-02-26", 4, level=18.0)
    second.loc[1, "y"] = 99.0
    with transaction(factory) as session:
        repository.store_observations(session, first, "a", "h1")
    data_hash = observations_hash(second)
    with transaction(factory) as session:
        stored = repository.store_observations_once(session, second, "b", data_hash)
    with transaction(factory) as session:
        again = repository.store_observations_once(session, second, "b", data_hash)
    assert (stored.revised, again.revised, again.duplicate) == (1, 1, True)


def test_the_same_observations_again_are_not_stored_twice(factory) -> None:  # type: ignore[no-untyped-def]
    frame = _weekly("referrals/ot/rugby", "2024-01-01", 4)
    data_hash = observations_hash(frame)
    with transaction(factory) as session:
        first = repository.store_observations_once(session, frame, "a.csv", data_hash)
    with transaction(factory) as session:  # a retry, its rows in another order
        again = repository.store_observations_once(session, frame[::-1], "a.csv", data_hash)
    assert not first.duplicate
    assert again == replace(first, duplicate=True)
    with factory() as session:
        assert session.scalar(text("SELECT count(*) FROM imports")) == 1


def test_observations_sent_again_after_others_replaced_them_are_stored_again(factory) -> None:  # type: ignore[no-untyped-def]
    frame = _weekly("referrals/ot/rugby", "2024-01-01", 4)
    corrected = frame.assign(y=[10.0, 99.0, 12.0, 13.0])
    imports = []
    for sent in (frame, corrected, frame):  # the last puts back what the first stored
        with transaction(factory) as session:
            summary = repository.store_observations_once(
                session, sent, "a.csv", observations_hash(sent)
            )
        imports.append(summary)
    assert [s.duplicate for s in imports] == [False, False, False]
    assert len({s.import_id for s in imports}) == 3
    with factory() as session:
        assert repository.load_observations(session)["y"].tolist() == [10.0, 11.0, 12.0, 13.0]


def test_upload_leaving_a_gap_is_rejected_and_changes_nothing(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        repository.store_observations(
            session, _weekly("referrals/ot/rugby", "2024-01-01", 10), "a", "h1"
        )
    later = pd.concat(
        [
            _weekly("referrals/ot/rugby", "2024-06-03", 5),
            _weekly("referrals/hao/rugby", "2024-01-01", 5),
        ],
        ignore_index=True,
    )
    with (
        pytest.raises(ValidationFailed, match="referrals/ot/rugby"),
        transaction(factory) as session,
    ):
        repository.store_observations(session, later, "b", "h2")
    with factory() as session:
        assert repository.count_observations(session) == 10
        assert [s.id for s in repository.list_series(session)] == ["referrals/ot/rugby"]


def test_pipeline_lock_is_exclusive_until_released_or_expired(factory) -> None:  # type: ignore[no-untyped-def]
    hour = timedelta(hours=1)
    assert repository.acquire_lock(factory, "pipeline", "a", hour)
    assert not repository.acquire_lock(factory, "pipeline", "b", hour)
    repository.release_lock(factory, "pipeline", "a")
    assert repository.acquire_lock(
        factory, "pipeline", "b", timedelta(seconds=-1)
    )  # already expired
    assert repository.acquire_lock(factory, "pipeline", "c", hour)
    assert not repository.acquire_lock(factory, "pipeline", "a", hour)


def _config(fee_rate: float | None = None) -> tuple[dict[str, Any], str]:
    """The demo config as it is written (defaults left out), or its validated form (every
    default filled in, as a plan request stores it) with another fee rate."""
    body = demo_config.demo_planning_config(horizon_periods=4)
    if fee_rate is not None:
        body = PlanningConfig.model_validate(body).model_dump(mode="json")
        body["fees"]["dfg_fee_rate"] = fee_rate
    return body, planning.config_hash(body)


def test_a_what_if_is_the_active_config_or_a_scenario_never_an_older_config(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        old = repository.save_config(session, *_config(0.1))
        active = repository.save_config(session, *_config(0.2))
        back_to_old = repository.save_config(session, *_config(0.1), scenario=True)
        same_as_active = repository.save_config(session, *_config(0.2), scenario=True)
        what_if = repository.save_config(session, *_config(0.3), scenario=True)
        again = repository.save_config(session, *_config(0.3), scenario=True)
        ids = (old.id, active.id, back_to_old.id, same_as_active.id, what_if.id, again.id)
        flags = (back_to_old.scenario, same_as_active.scenario, what_if.scenario)
    assert len({old.id, active.id, back_to_old.id, what_if.id}) == 4
    assert ids[3] == active.id and ids[5] == what_if.id
    assert flags == (True, False, True)
    with factory() as session:
        assert repository.active_config(session).id == active.id  # type: ignore[union-attr]


def test_a_config_stored_as_written_is_the_active_config_of_its_validated_form(factory) -> None:  # type: ignore[no-untyped-def]
    written, written_hash = _config()
    validated = PlanningConfig.model_validate(written).model_dump(mode="json")
    assert planning.config_hash(validated) != written_hash
    with transaction(factory) as session:
        active = repository.save_config(session, written, written_hash)
        same = repository.save_config(
            session, validated, planning.config_hash(validated), scenario=True
        )
        assert (same.id, same.scenario) == (active.id, False)


def _plan(session: Session, config_id: int) -> int:
    run = repository.start_run(session, "plan", "test", "test")
    return repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, {}).id


def test_the_latest_plan_is_never_a_what_if_and_plans_list_newest_first(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        assert repository.latest_plan(session) is None
        active = repository.save_config(session, *_config(0.1)).id
        scenario = repository.save_config(session, *_config(0.3), scenario=True).id
        ids = [_plan(session, c) for c in (active, scenario, active, scenario)]
    with factory() as session:
        latest = repository.latest_plan(session)
        assert latest is not None and latest.id == ids[2]
        assert not repository.plan_is_scenario(session, latest)
        plans = repository.list_plans(session, limit=10)
        assert [(p.id, p.config_id, p.scenario) for p in plans] == [
            (ids[3], scenario, True),
            (ids[2], active, False),
            (ids[1], scenario, True),
            (ids[0], active, False),
        ]
        what_ifs = repository.PlanFilter(scenario=True)
        assert [p.id for p in repository.list_plans(session, 1, 1, what_ifs)] == [ids[1]]
        not_what_ifs = repository.PlanFilter(scenario=False)
        assert [p.id for p in repository.list_plans(session, 5, 0, not_what_ifs)] == [
            ids[2],
            ids[0],
        ]
        assert repository.list_plans(session, 2, 4) == []
        # a page's cursor: older than a plan id, so a plan made meanwhile shifts nothing; the
        # count is of the filter, not the page
        older = repository.PlanFilter(scenario=True, before_id=ids[3])
        assert [p.id for p in repository.list_plans(session, 5, 0, older)] == [ids[1]]
        assert repository.count_plans(session, older) == 2
        of_config = repository.PlanFilter(config_id=active)
        assert [p.id for p in repository.list_plans(session, 5, 0, of_config)] == [ids[2], ids[0]]
        first_run = repository.list_plans(
            session, 5, 0, repository.PlanFilter(run_id=plans[3].run_id)
        )
        assert [p.id for p in first_run] == [ids[0]]


def test_a_sweep_config_stays_a_scenario_even_with_the_active_content(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        active = repository.save_config(session, *_config(0.1))
        apart = repository.save_config(session, *_config(0.1), scenario=True, apart=True)
        again = repository.save_config(session, *_config(0.1), scenario=True, apart=True)
        plan_id = _plan(session, apart.id)
        ids, flag = (active.id, apart.id, again.id), apart.scenario
    assert ids[1] != ids[0] and ids[2] == ids[1] and flag is True
    with factory() as session:
        assert repository.active_config(session).id == active.id  # type: ignore[union-attr]
        assert repository.latest_plan(session) is None  # the sweep's plan is a what-if
        assert repository.plan_ids_by_run(session, [1]) == {1: plan_id}


def test_a_runs_sweep_table_is_stored_and_read_back(factory) -> None:  # type: ignore[no-untyped-def]
    table = [{"dfg_fee_rate": 0.25, "plan_id": 7, "fee_income_gbp": 1234.5, "dtoc_days": None}]
    with transaction(factory) as session:
        sweep = repository.start_run(session, "sweep", "api", "test")
        sweep.sweep = table
        other = repository.start_run(session, "plan", "api", "test")
        ids = (sweep.id, other.id)
    with factory() as session:
        stored = session.execute(text("SELECT id, sweep FROM runs ORDER BY id")).all()
        runs = repository.list_runs(session, 10)
    assert [r.sweep for r in reversed(runs)] == [table, None]
    assert [r[0] for r in stored] == list(ids) and stored[1][1] is None


def _refused_upload(factory: sessionmaker[Session], text: str) -> tuple[Problem, ...]:
    upload = read_upload(text, "upload.csv")
    with pytest.raises(ValidationFailed) as caught, transaction(factory) as session:
        repository.store_observations_once(
            session, upload.frame, "upload.csv", observations_hash(upload.frame), upload.lines
        )
    return caught.value.problems


def test_a_row_refused_only_against_stored_history_is_named_by_its_line(factory) -> None:  # type: ignore[no-untyped-def]
    """2026-03-01 is a 1st of a month, fine alone, but a Sunday in a weekly series."""
    with transaction(factory) as session:
        history = _weekly("referrals/ot/rugby", "2025-12-01", 13)  # to 2026-02-23
        repository.store_observations(session, history, "a", "h1")
    problems = _refused_upload(factory, "unique_id,ds,y\nreferrals/ot/rugby,2026-03-01,100\n")
    assert problems and all(p.row == 2 for p in problems), problems
    assert any("Sunday" in p.found for p in problems)
    with factory() as session:
        assert repository.count_observations(session) == 13


def test_a_gap_left_by_an_upload_names_its_row_beside_the_history(factory) -> None:  # type: ignore[no-untyped-def]
    with transaction(factory) as session:
        repository.store_observations(
            session, _weekly("referrals/ot/rugby", "2024-01-01", 10), "a", "h1"
        )
    later = (
        "unique_id,ds,y\n"
        "referrals/hao/rugby,2024-01-01,1\n"
        "referrals/ot/rugby,2024-06-10,6\n"  # line 3: the first week after the gap
        "referrals/ot/rugby,2024-06-03,5\n"  # line 4: the upload's first date, after the gap
        "referrals/ot/rugby,2024-06-17,7\n"
    )
    [gap] = _refused_upload(factory, later)
    assert gap.row == 4 and gap.series_id == "referrals/ot/rugby" and "missing" in gap.found
    earlier = "unique_id,ds,y\nreferrals/ot/rugby,2023-06-05,5\nreferrals/ot/rugby,2023-06-12,6\n"
    [gap] = _refused_upload(factory, earlier)
    assert gap.row == 3  # its last date, the one before the gap


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The database and its WAL were made -rw-r--r--, in a folder anyone could list: they hold
    the council's series and the API keys' hashes. A new one is now 0600 in a new 0700 folder
    (SQLite gives -wal and -shm the database's mode); one that exists keeps its mode."""
    path = tmp_path / "data" / "homeward.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as connection:  # the WAL and its index exist while one is open
        connection.execute(text("SELECT count(*) FROM series"))
        modes = {p.name: p.stat().st_mode & 0o777 for p in path.parent.iterdir()}
    engine.dispose()
    assert set(modes.values()) == {0o600}
    assert {"homeward.db", "homeward.db-wal", "homeward.db-shm", "homeward.db.migrate.lock"} == set(
        modes
    )
    assert path.parent.stat().st_mode & 0o777 == 0o700
    path.chmod(0o640)  # its operator's choice, kept by every later connection
    again = make_engine(f"sqlite:///{path}")
    with again.connect() as connection:
        connection.execute(text("SELECT count(*) FROM series"))
    again.dispose()
    assert path.stat().st_mode & 0o777 == 0o640
