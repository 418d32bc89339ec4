"""A council's own figures never silently join the synthetic demo: an upload to series holding
the demo's invented history is refused whole (409, each series located), and `?replace=true`
replaces the stored history of each series in the file whole, in one transaction, safe to
retry. On SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, repository
from homeward.ingest import observations_hash
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import ImportRow
from tests.api.conftest import key_header
from tests.conftest import LiveServer

DEMO_SERIES = ("referrals/ot/rugby", "referrals/ot/warwick")
OWN_SERIES = "referrals/ot/nuneaton"  # not in the stored demo
DEMO_WEEKS = pd.date_range("2021-01-04", periods=60, freq="W-MON")
SYNTHETIC_LEVEL = 500.0
CSV = {"content-type": "text/csv"}


@dataclass(frozen=True)
class Service:
    client: httpx.Client
    factory: sessionmaker[Session]


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    """A server over a database holding a synthetic demo history, stored as `homeward demo`
    stores it; an admin key."""
    url = either_database_url
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    demo = pd.DataFrame(
        [
            {"unique_id": s, "ds": d, "y": SYNTHETIC_LEVEL + i}
            for s in DEMO_SERIES
            for i, d in enumerate(DEMO_WEEKS)
        ]
    )
    with transaction(factory) as session:
        repository.store_observations(
            session, demo, repository.SYNTHETIC_DEMO_SOURCE, observations_hash(demo)
        )
        key = api_keys.create_key(session, "uploader", Role.ADMIN).secret
    settings = Settings(data_dir=tmp_path, database_url=url, scheduler_enabled=False)
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=120) as client,
    ):
        yield Service(client, factory)
    engine.dispose()


def _csv(rows: dict[str, tuple[pd.DatetimeIndex, float]]) -> bytes:
    """Each series' weeks, valued `level` + the week's number in the file."""
    lines = [
        f"{series_id},{d:%Y-%m-%d},{level + i}"
        for series_id, (weeks, level) in rows.items()
        for i, d in enumerate(weeks)
    ]
    return ("unique_id,ds,y\n" + "\n".join(lines) + "\n").encode()


def _stored(factory: sessionmaker[Session]) -> pd.DataFrame:
    with factory() as session:
        return repository.load_observations(session)


def _imports(factory: sessionmaker[Session]) -> int:
    with factory() as session:
        return int(session.scalar(select(func.count()).select_from(ImportRow)) or 0)


# the council's own rugby history: overlaps the demo's last 20 weeks and runs 10 weeks on
OWN_RUGBY = pd.date_range(DEMO_WEEKS[40], periods=30, freq="W-MON")


def test_an_upload_to_synthetic_series_is_refused_whole_naming_each(service: Service) -> None:
    before = _stored(service.factory)
    body = _csv(
        {
            OWN_SERIES: (OWN_RUGBY, 10.0),  # a new series: fine alone, refused with the rest
            "referrals/ot/rugby": (OWN_RUGBY, 20.0),
            "referrals/ot/warwick": (OWN_RUGBY, 30.0),
        }
    )
    refused = service.client.post("/v1/observations", content=body, headers=CSV)
    assert refused.status_code == 409, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    problem = refused.json()
    assert problem["title"] == "Conflict" and problem["status"] == 409
    assert "replace=true" in problem["detail"]
    assert all(s in problem["detail"] for s in DEMO_SERIES)
    # each series at its first row of the file: the header is line 1, nuneaton's 30 rows next
    assert [(p["series_id"], p["row"], p["column"]) for p in problem["problems"]] == [
        ("referrals/ot/rugby", 32, "unique_id"),
        ("referrals/ot/warwick", 62, "unique_id"),
    ]
    assert all("60 synthetic values" in p["found"] for p in problem["problems"])
    pd.testing.assert_frame_equal(_stored(service.factory), before)
    assert _imports(service.factory) == 1
    assert service.client.get(f"/v1/observations/{OWN_SERIES}").status_code == 404


def test_replace_puts_the_councils_history_in_place_of_the_synthetic(service: Service) -> None:
    body = _csv({"referrals/ot/rugby": (OWN_RUGBY, 20.0), OWN_SERIES: (OWN_RUGBY, 10.0)})
    stored = service.client.post("/v1/observations?replace=true", content=body, headers=CSV)
    assert stored.status_code == 201, stored.text
    answer = stored.json()
    assert answer["replace"] is True and answer["duplicate_of"] is None
    # rugby's 60 synthetic weeks are gone: 20 had a week of the file (each with another
    # value), 40 had none
    assert (answer["replaced"], answer["removed"], answer["revised"]) == (60, 40, 20)
    after = _stored(service.factory)
    rugby = after[after["unique_id"] == "referrals/ot/rugby"]
    assert rugby["ds"].tolist() == list(OWN_RUGBY)
    assert rugby["y"].tolist() == [20.0 + i for i in range(len(OWN_RUGBY))]
    warwick = after[after["unique_id"] == "referrals/ot/warwick"]  # not in the file: untouched
    assert warwick["y"].tolist() == [SYNTHETIC_LEVEL + i for i in range(len(DEMO_WEEKS))]
    with service.factory() as session:
        row = session.get_one(ImportRow, answer["import_id"])
        assert (row.replaced, row.removed, row.revised) == (60, 40, 20)
    series = {s["id"]: s for s in service.client.get("/v1/series").json()}
    assert series["referrals/ot/rugby"]["source"] == "POST /v1/observations"
    assert series["referrals/ot/rugby"]["first_ds"] == f"{OWN_RUGBY[0]:%Y-%m-%d}"
    assert series["referrals/ot/rugby"]["n_obs"] == len(OWN_RUGBY)
    assert series["referrals/ot/warwick"]["source"] == repository.SYNTHETIC_DEMO_SOURCE
    # the series are the council's now: a later merged upload is welcome
    later = pd.date_range(OWN_RUGBY[-1], periods=3, freq="W-MON")[1:]
    merged = service.client.post(
        "/v1/observations", content=_csv({"referrals/ot/rugby": (later, 90.0)}), headers=CSV
    )
    assert merged.status_code == 201, merged.text
    assert merged.json()["replace"] is False
    assert (merged.json()["replaced"], merged.json()["removed"]) == (0, 0)


def test_a_retried_replace_stores_nothing_again_until_the_series_change(
    service: Service,
) -> None:
    body = _csv({"referrals/ot/rugby": (OWN_RUGBY, 20.0)})
    first = service.client.post("/v1/observations?replace=true", content=body, headers=CSV)
    assert first.status_code == 201, first.text
    retry = service.client.post("/v1/observations?replace=true", content=body, headers=CSV)
    assert retry.status_code == 200, retry.text
    assert retry.json() == first.json() | {"duplicate_of": first.json()["import_id"]}
    assert _imports(service.factory) == 2
    # a week added since: the same replace is no longer what is stored, so it is stored again
    later = pd.date_range(OWN_RUGBY[-1], periods=2, freq="W-MON")[1:]
    added = service.client.post(
        "/v1/observations", content=_csv({"referrals/ot/rugby": (later, 90.0)}), headers=CSV
    )
    assert added.status_code == 201, added.text
    again = service.client.post("/v1/observations?replace=true", content=body, headers=CSV)
    assert again.status_code == 201, again.text
    assert (again.json()["replaced"], again.json()["removed"]) == (len(OWN_RUGBY) + 1, 1)
    rugby = _stored(service.factory).query("unique_id == 'referrals/ot/rugby'")
    assert rugby["ds"].tolist() == list(OWN_RUGBY)


def test_a_replace_value_that_is_no_boolean_is_refused_naming_it(service: Service) -> None:
    body = _csv({"referrals/ot/rugby": (OWN_RUGBY, 20.0)})
    refused = service.client.post("/v1/observations?replace=perhaps", content=body, headers=CSV)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["location"] == "query/replace"
    assert "'perhaps'" in problem["found"]
    assert _imports(service.factory) == 1


def test_merges_sent_with_a_replace_never_mix_with_the_synthetic(service: Service) -> None:
    """Four merged uploads and a replace of the same weeks, at once: each merge is refused if
    it comes before the replace, stored after it; never mixed into the synthetic history, and
    what is stored at the end is one upload's figures whole."""
    weeks = pd.date_range(DEMO_WEEKS[30], periods=30, freq="W-MON")
    bodies = [_csv({"referrals/ot/rugby": (weeks, 1000.0 * (k + 1))}) for k in range(4)]
    paths = ["/v1/observations"] * 4 + ["/v1/observations?replace=true"]
    bodies.append(_csv({"referrals/ot/rugby": (weeks, 7.0)}))
    start = threading.Barrier(len(bodies))
    answers: list[httpx.Response | None] = [None] * len(bodies)

    def send(i: int) -> None:
        start.wait()
        answers[i] = service.client.post(paths[i], content=bodies[i], headers=CSV)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(len(bodies))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    codes = [a.status_code if a is not None else None for a in answers]
    assert codes[-1] == 201 and set(codes[:-1]) <= {201, 409}, [a and a.text for a in answers]
    replace_id = answers[-1].json()["import_id"] if answers[-1] is not None else None
    stored_after = [
        a.json()["import_id"] for a in answers[:-1] if a is not None and a.status_code == 201
    ]
    assert all(i > replace_id for i in stored_after)  # stored only once the replace was
    assert _imports(service.factory) == 1 + 1 + len(stored_after)
    rugby = _stored(service.factory).query("unique_id == 'referrals/ot/rugby'")
    assert rugby["ds"].tolist() == list(weeks)
    [level] = set((rugby["y"] - range(len(weeks))).tolist())
    assert level in {7.0, 1000.0, 2000.0, 3000.0, 4000.0}
