"""Uploads sent at once are stored one after the other, on SQLite and on a real PostgreSQL
server: each is stored whole (201), none fails on another's rows, and what is stored at the end
is exactly one upload's figures, never a mixture."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, ingest, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ImportRow
from tests.api.conftest import key_header
from tests.conftest import LiveServer

UPLOADS = 8
SERIES = ("race/s0", "race/s1", "race/s2")
WEEKS = pd.date_range("2019-01-07", periods=100, freq="W-MON")  # 3 series x 100 = 300 rows


@dataclass(frozen=True)
class Service:
    url: str
    key: str
    factory: sessionmaker[Session]


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    url = either_database_url
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "uploader", Role.ADMIN).secret
    settings = Settings(data_dir=tmp_path, database_url=url, scheduler_enabled=False)
    with LiveServer(create_app(settings)) as server:
        yield Service(server.url, key, factory)
    engine.dispose()


def _csv(level: int) -> bytes:
    """Upload `level`: every value of every series is `level` + the week's number."""
    rows = [f"{s},{d:%Y-%m-%d},{level + i}" for s in SERIES for i, d in enumerate(WEEKS)]
    return ("unique_id,ds,y\n" + "\n".join(rows) + "\n").encode()


def _send_at_once(service: Service, bodies: list[bytes]) -> list[httpx.Response]:
    """POST every body on its own thread, released together."""
    start = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def send(i: int) -> None:
        headers = {**key_header(service.key), "content-type": "text/csv"}
        with httpx.Client(base_url=service.url, headers=headers, timeout=120) as client:
            start.wait()
            answers[i] = client.post("/v1/observations", content=bodies[i])

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(a is not None for a in answers)
    return [a for a in answers if a is not None]


def _stored_levels(factory: sessionmaker[Session]) -> set[float]:
    """Each stored value less its week's number: one level if one upload's figures are stored."""
    with factory() as session:
        stored = repository.load_observations(session, list(SERIES))
    assert len(stored) == len(SERIES) * len(WEEKS)
    week = stored["ds"].map({d: i for i, d in enumerate(WEEKS)})
    return set((stored["y"] - week).tolist())


def test_uploads_sent_at_once_are_each_stored_whole(service: Service) -> None:
    # new series: every upload once raced to create them (pk_series on PostgreSQL)
    first = _send_at_once(service, [_csv(10 * k) for k in range(UPLOADS)])
    assert [r.status_code for r in first] == [201] * UPLOADS, [r.text for r in first]
    assert len({r.json()["import_id"] for r in first}) == UPLOADS
    [level] = _stored_levels(service.factory)
    assert level in {10 * k for k in range(UPLOADS)}
    # the series exist now: every upload once raced to replace the same rows (pk_observations)
    again = _send_at_once(service, [_csv(1000 + 10 * k) for k in range(UPLOADS)])
    assert [r.status_code for r in again] == [201] * UPLOADS, [r.text for r in again]
    assert sum(r.json()["revised"] for r in again) >= len(SERIES) * len(WEEKS) * (UPLOADS - 1)
    [level] = _stored_levels(service.factory)
    assert level in {1000 + 10 * k for k in range(UPLOADS)}


def test_the_same_file_sent_at_once_is_stored_once(service: Service) -> None:
    answers = _send_at_once(service, [_csv(7)] * 4)
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 201], [r.text for r in answers]
    stored_by = {r.json()["import_id"] for r in answers}
    assert len(stored_by) == 1
    assert [r.json()["duplicate_of"] for r in answers if r.status_code == 200] == [*stored_by] * 3
    with service.factory() as session:
        assert session.scalar(select(func.count()).select_from(ImportRow)) == 1
    assert _stored_levels(service.factory) == {7.0}


def test_an_upload_is_judged_by_what_is_stored_when_it_is_written(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another upload stores the series' first history just after this one has read the stored
    # frequencies, before it takes the lock: this file's gap (two weeks, eleven apart) is then
    # the merge's to judge, and the stored weeks fill it. Judged by what was stored when it
    # read, it was once refused as the file's own gap, though storing it would have merged.
    weeks = WEEKS[:12]
    history = pd.DataFrame({"unique_id": "race/gap", "ds": weeks, "y": 5.0})
    read_stored = repository.stored_frequencies
    injected: list[bool] = []

    def read_then_another_upload(session: Session) -> dict[str, str]:
        found = read_stored(session)
        if not injected:
            injected.append(True)
            with transaction(service.factory) as other:
                repository.store_observations(other, history, "another upload", "first")
        return found

    monkeypatch.setattr(repository, "stored_frequencies", read_then_another_upload)
    parse = ingest.read_csv_as_text
    parsed: list[str] = []

    def noted(data: Any, source: str, *args: Any, **kwargs: Any) -> ingest.TextTable:
        parsed.append(source)
        return parse(data, source, *args, **kwargs)

    monkeypatch.setattr(ingest, "read_csv_as_text", noted)
    body = f"unique_id,ds,y\nrace/gap,{weeks[0]:%Y-%m-%d},7\nrace/gap,{weeks[-1]:%Y-%m-%d},8\n"
    headers = {**key_header(service.key), "content-type": "text/csv"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        answer = client.post("/v1/observations", content=body.encode())
    assert injected
    assert answer.status_code == 201, answer.text
    # judged again under the lock, not parsed again (it once was: a large file's parsing twice)
    assert parsed == ["POST /v1/observations"]
    with service.factory() as session:
        stored = repository.load_observations(session, ["race/gap"])
    assert stored["y"].tolist() == [7.0, *[5.0] * 10, 8.0]


def test_a_file_refused_on_its_own_is_answered_without_waiting_for_the_lock(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Nothing stored changed while it was read, so no upload could change its refusal: it
    # once waited for the lock anyway, behind another's whole upload (minutes, for a council's
    # year of series), to be told `abc` is not a count.
    taken: list[bool] = []
    take = repository.lock_observations

    def noted(session: Session) -> None:
        taken.append(True)
        take(session)

    monkeypatch.setattr(repository, "lock_observations", noted)
    body = f"unique_id,ds,y\nrace/bad,{WEEKS[0]:%Y-%m-%d},abc\n"
    headers = {**key_header(service.key), "content-type": "text/csv"}
    with httpx.Client(base_url=service.url, headers=headers, timeout=60) as client:
        answer = client.post("/v1/observations", content=body.encode())
    assert answer.status_code == 422, answer.text
    assert "abc" in answer.text
    assert taken == []
