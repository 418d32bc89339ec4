"""`homeward import` never merges a council's figures into the synthetic demo's series: it is
refused whole with one message naming each series and `--replace`; `--replace` replaces each
file series' history whole, in one transaction (all or nothing, on SQLite and PostgreSQL), and
says how many stored values it replaced and removed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from homeward import repository
from homeward.cli import main
from homeward.ingest import observations_hash
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ImportRow, SeriesRow

DEMO_WEEKS = pd.date_range("2021-01-04", periods=40, freq="W-MON")
OWN_WEEKS = pd.date_range("2021-06-07", periods=30, freq="W-MON")  # overlaps the demo's end


def _weekly(series_id: str, weeks: pd.DatetimeIndex, level: float) -> pd.DataFrame:
    return pd.DataFrame(
        {"unique_id": series_id, "ds": weeks, "y": [level + i for i in range(len(weeks))]}
    )


def _store_demo(factory: sessionmaker[Session]) -> None:
    demo = pd.concat(
        [_weekly("dtoc_days/warwickshire", DEMO_WEEKS, 300.0), _weekly("a/b", DEMO_WEEKS, 5.0)],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(
            session, demo, repository.SYNTHETIC_DEMO_SOURCE, observations_hash(demo)
        )


def _write(path: Path, frame: pd.DataFrame) -> Path:
    frame.assign(ds=frame["ds"].dt.strftime("%Y-%m-%d")).to_csv(path, index=False)
    return path


def _stored(factory: sessionmaker[Session]) -> pd.DataFrame:
    with factory() as session:
        return repository.load_observations(session)


@pytest.fixture
def cli_factory(db_env: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_env)
    upgrade(engine)
    factory = session_factory(engine)
    _store_demo(factory)
    yield factory
    engine.dispose()


def test_import_into_synthetic_series_is_refused_naming_them_and_replace(
    cli_factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = _stored(cli_factory)
    own = pd.concat(
        [_weekly("new/series", OWN_WEEKS, 1.0), _weekly("dtoc_days/warwickshire", OWN_WEEKS, 9.0)]
    )
    path = _write(tmp_path / "own.csv", own)
    assert main(["import", str(path)]) == 2
    [err] = [line for line in capsys.readouterr().err.splitlines() if "homeward import" in line]
    assert err.startswith(f"homeward import: '{path}' was refused, nothing stored"), err
    assert "'dtoc_days/warwickshire'" in err and "'new/series'" not in err
    assert "synthetic" in err and f"homeward import --replace {path}" in err
    pd.testing.assert_frame_equal(_stored(cli_factory), before)
    with cli_factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportRow)) == 1
        assert session.get(SeriesRow, "new/series") is None


def test_import_replace_swaps_the_history_and_says_what_it_replaced(
    cli_factory: sessionmaker[Session], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _write(tmp_path / "own.csv", _weekly("dtoc_days/warwickshire", OWN_WEEKS, 9.0))
    assert main(["import", "--replace", str(path)]) == 0
    out = capsys.readouterr().out
    # 40 synthetic weeks stored; the file's first 18 weeks were among them, 22 were not
    assert "40 stored values replaced, 22 of them at periods the file does not have" in out
    stored = _stored(cli_factory)
    dtoc = stored[stored["unique_id"] == "dtoc_days/warwickshire"]
    assert dtoc["ds"].tolist() == list(OWN_WEEKS)
    assert dtoc["y"].tolist() == [9.0 + i for i in range(len(OWN_WEEKS))]
    assert stored[stored["unique_id"] == "a/b"]["y"].tolist() == [5.0 + i for i in range(40)]
    with cli_factory() as session:
        row = session.get_one(SeriesRow, "dtoc_days/warwickshire")
        assert (row.first_ds, row.n_obs) == (OWN_WEEKS[0].to_pydatetime(), len(OWN_WEEKS))
        assert repository.newest_import_sources(session)["dtoc_days/warwickshire"] == str(path)
    assert main(["import", "--replace", str(path)]) == 0  # a retry: stored already
    assert "already imported" in capsys.readouterr().out
    assert main(["import", str(path)]) == 0  # the series is the council's now
    assert "already imported" in capsys.readouterr().out


@pytest.fixture
def factory_on(either_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    _store_demo(factory)
    yield factory
    engine.dispose()


def test_a_refused_upload_changes_nothing(factory_on: sessionmaker[Session]) -> None:
    before = _stored(factory_on)
    own = pd.concat([_weekly("b/c", OWN_WEEKS, 1.0), _weekly("a/b", OWN_WEEKS, 2.0)])
    with (
        pytest.raises(repository.MixesWithSynthetic) as refused,
        transaction(factory_on) as session,
    ):
        repository.store_observations_once(session, own, "own.csv", observations_hash(own))
    assert [p.series_id for p in refused.value.problems] == ["a/b"]
    pd.testing.assert_frame_equal(_stored(factory_on), before)
    with factory_on() as session:
        assert session.scalar(select(func.count()).select_from(ImportRow)) == 1
        assert session.get(SeriesRow, "b/c") is None


def test_a_replace_that_fails_part_way_changes_nothing(
    factory_on: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The history deleted and the file's rows inserted, then a failure: all rolled back."""
    before = _stored(factory_on)

    def fail(*_args: object) -> None:
        raise RuntimeError("the server went away")

    monkeypatch.setattr(repository, "_refresh_series", fail)
    own = _weekly("a/b", OWN_WEEKS, 2.0)
    with pytest.raises(RuntimeError), transaction(factory_on) as session:
        repository.store_observations_once(
            session, own, "own.csv", observations_hash(own), replace=True
        )
    pd.testing.assert_frame_equal(_stored(factory_on), before)
    with factory_on() as session:
        assert session.scalar(select(func.count()).select_from(ImportRow)) == 1


def test_the_demo_is_stored_over_itself_and_not_refused(
    factory_on: sessionmaker[Session],
) -> None:
    """Only an upload that is not the synthetic demo is refused: the demo's own loader is not."""
    more = _weekly("a/b", pd.date_range(DEMO_WEEKS[-1], periods=3, freq="W-MON")[1:], 50.0)
    with transaction(factory_on) as session:
        summary = repository.store_observations(
            session, more, repository.SYNTHETIC_DEMO_SOURCE, observations_hash(more)
        )
    assert (summary.rows, summary.replace) == (2, False)
