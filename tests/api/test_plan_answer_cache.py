"""A plan's answers are kept by their ETag (api/plan_cache.py): a second 200 of the same plan,
table, filters and media type is sent without reading or validating the plan again, byte for
byte what FastAPI makes of the plan's schema, under the same tag; and a plan deleted (as a
purge deletes it) is never served from any process's cache, on SQLite or PostgreSQL."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import delete
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from api.app import GZIP_LEVEL, GZIP_MINIMUM_SIZE, create_app
from api.etags import WHOLE_PLAN, Asked, plan_tag
from api.plan_cache import AnswerCache, KeptGzip
from api.plan_tables import STORED_TABLES, RowFilter
from api.routes import exports, plans
from api.schemas import PlanPublic, PlanResultPublic
from homeward import api_keys, demo_config, planning, repository
from homeward.plan_years import with_year_periods
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import PlanRow, RunRow
from tests.api.conftest import DemoDatabase, key_header
from tests.conftest import LiveServer

# headers that differ between any two answers, whatever their body
_PER_REQUEST = {"date", "x-request-id"}


def _refused(*_args: object, **_kwargs: object) -> NoReturn:
    raise AssertionError("an answer already made was made again")


def _refuse_to_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function that reads a stored plan's result or makes an answer of it fails."""
    built = _refused
    for module, name in (
        (plans, "plan_or_404"),
        (plans, "_public"),
        (plans, "table_rows"),
        (exports, "plan_or_404"),
        (exports, "table_rows"),
    ):
        monkeypatch.setattr(module, name, built)


def _fastapi_answer(factory: sessionmaker[Session], plan_id: int) -> bytes:
    """What FastAPI sends for plan `plan_id` from a route typed `PlanPublic` with
    `response_model_exclude_unset`, as GET /v1/plans/{id} was served before its answers were
    kept (its revenue_by_year rows with their `year_periods`, worked out on read): an app of
    its own, not the route under test."""
    with factory() as session:
        row = session.get_one(PlanRow, plan_id)
        plan = PlanPublic(
            id=row.id,
            run_id=row.run_id,
            config_id=row.config_id,
            scenario=repository.plan_is_scenario(session, row),
            created_at=row.created_at,
            status=row.status,
            objective_weighted_wait_days=row.objective_weighted_wait_days,
            solve_seconds=row.solve_seconds,
            result=PlanResultPublic.model_validate(with_year_periods(row.result)),
            created_by=row.created_by,
        )
    app = FastAPI()

    @app.get("/plan", response_model=PlanPublic, response_model_exclude_unset=True)
    def one_plan() -> PlanPublic:
        return plan

    with LiveServer(app) as server:
        return httpx.get(f"{server.url}/plan", timeout=60).content


def _starlette_json(content: Any) -> bytes:
    """JSON as Starlette's JSONResponse writes it."""
    text = json.dumps(content, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
    return text.encode()


@pytest.fixture(scope="module")
def kept(demo_db: DemoDatabase) -> Iterator[tuple[httpx.Client, AnswerCache]]:
    """A viewer's client on a server of its own over the demo plan, and that server's cache."""
    with transaction(demo_db.factory) as session:
        secret = api_keys.create_key(session, "cache-viewer", Role.VIEWER).secret
    app = create_app(demo_db.settings)
    with (
        LiveServer(app) as server,
        httpx.Client(base_url=server.url, headers=key_header(secret), timeout=60) as client,
    ):
        yield client, app.state.plan_answers


def test_a_kept_answer_is_sent_again_byte_for_byte_without_reading_the_plan(
    kept: tuple[httpx.Client, AnswerCache],
    demo_db: DemoDatabase,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client, cache = kept
    whole = client.get("/v1/plans/latest", headers={"Accept-Encoding": "identity"})
    assert whole.status_code == 200
    plan_id = int(whole.headers["x-plan-id"])
    result = whole.json()["result"]
    some = result["hours"][0]
    narrow = f"district={some['district']}&service={some['service']}"
    paths = [
        "",
        *(f"/{t.value}" for t in STORED_TABLES),
        f"/hours?{narrow}",
        "/warnings",
        "/hours.csv",
        f"/hours.csv?{narrow}",
        "/staffing.csv",
    ]
    urls = [f"/v1/plans/{where}{path}" for where in ("latest", plan_id) for path in paths]
    first = {url: client.get(url, headers={"Accept-Encoding": "identity"}) for url in urls}
    assert all(a.status_code == 200 for a in first.values()), [
        (u, a.status_code) for u, a in first.items() if a.status_code != 200
    ]
    hits = cache.hits
    _refuse_to_build(monkeypatch)
    for url in urls:
        for encoding in ("identity", "gzip"):
            again = client.get(url, headers={"Accept-Encoding": encoding})
            assert again.status_code == 200, (url, again.text)
            assert again.content == first[url].content, url
            zipped = encoding == "gzip" and len(again.content) >= GZIP_MINIMUM_SIZE
            assert again.headers.get("content-encoding") == ("gzip" if zipped else None), url
            if encoding == "identity":  # the same headers, in the same order
                assert [h for h in again.headers.multi_items() if h[0] not in _PER_REQUEST] == [
                    h for h in first[url].headers.multi_items() if h[0] not in _PER_REQUEST
                ], url
    assert cache.hits == hits + 2 * len(urls)
    # and compressed once: the second gzipped 200 is the kept one, the same bytes when inflated
    zipped = {url: client.get(url, headers={"Accept-Encoding": "gzip"}) for url in urls}
    monkeypatch.setattr(KeptGzip, "_compress", _refused)
    for url in urls:
        again = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert again.status_code == 200 and again.content == first[url].content, url
        assert again.headers.get("content-encoding") == zipped[url].headers.get(
            "content-encoding"
        ), url
    monkeypatch.undo()

    # each body as made without the cache: the whole plan by FastAPI from its schema, and a
    # table as the rows of that plan's `result` (the answer's contract), filtered here
    expected = _fastapi_answer(demo_db.factory, plan_id)
    assert first["/v1/plans/latest"].content == expected
    assert first[f"/v1/plans/{plan_id}"].content == expected
    for table in STORED_TABLES:
        rows = result.get(table.value) or []
        assert first[f"/v1/plans/latest/{table.value}"].content == _starlette_json(rows), table
    kept_rows = [
        r
        for r in result["hours"]
        if r["district"] == some["district"] and r["service"] == some["service"]
    ]
    assert 0 < len(kept_rows) < len(result["hours"])
    assert first[f"/v1/plans/latest/hours?{narrow}"].content == _starlette_json(kept_rows)
    assert first["/v1/plans/latest/hours.csv"].text.count("\n") == len(result["hours"]) + 1


FAR = date(2099, 1, 1)


def test_a_kept_answer_keeps_its_tag(
    kept: tuple[httpx.Client, AnswerCache], demo_db: DemoDatabase
) -> None:
    """The tag of a kept answer is the one made from the plan's id and making time, as
    before: a dashboard's stored tag still revalidates."""
    client, _cache = kept
    with demo_db.factory() as session:
        stamp = repository.latest_plan_stamp(session)
    assert stamp is not None
    asked = {
        "": Asked(WHOLE_PLAN, "application/json"),
        "/hours": Asked("hours", "application/json"),
        "/hours.csv?to=2099-01-01": Asked("hours", "text/csv", RowFilter(last_day=FAR)),
    }
    for path, what in asked.items():
        tags = {client.get(f"/v1/plans/latest{path}").headers["etag"] for _ in range(3)}
        assert tags == {plan_tag(stamp, what)}, path


@pytest.mark.parametrize(
    ("table", "column"), [("hours", "district"), ("revenue_by_service.csv", "service")]
)
def test_a_value_holding_a_comma_is_not_served_the_answer_of_two_values(
    kept: tuple[httpx.Client, AnswerCache], table: str, column: str
) -> None:
    """`district=rugby,warwick` names no district (a 422), though filters joined with commas
    gave it the tag of `district=rugby&district=warwick`, so a process that had kept that
    answer served it with a 200 (final review)."""
    client, _cache = kept
    ids = sorted({r[column] for r in client.get("/v1/plans/latest/hours").json()})
    first, second = ids[:2]
    url = f"/v1/plans/latest/{table}"
    both = client.get(f"{url}?{column}={first}&{column}={second}")
    assert both.status_code == 200, both.text
    joined = client.get(f"{url}?{column}={first},{second}")
    assert joined.status_code == 422, joined.text


def test_the_cache_keeps_at_most_its_bytes_and_drops_the_least_recently_used() -> None:
    cache = AnswerCache(max_bytes=10)
    made: list[str] = []

    def maker(tag: str, body: bytes) -> bytes:
        made.append(tag)
        return body

    assert cache.body("a", lambda: maker("a", b"aaaa")) == b"aaaa"
    assert cache.body("b", lambda: maker("b", b"bbbb")) == b"bbbb"
    assert cache.body("a", lambda: maker("a", b"other")) == b"aaaa"  # kept, not made again
    assert cache.body("c", lambda: maker("c", b"cccc")) == b"cccc"  # 12 bytes: b goes
    assert len(cache) == 2 and cache.size() == 8
    assert cache.body("b", lambda: maker("b", b"bbbb")) == b"bbbb"  # made again
    assert cache.body("big", lambda: maker("big", b"x" * 11)) == b"x" * 11  # never kept
    assert cache.body(None, lambda: maker("untagged", b"u")) == b"u"
    assert cache.body(None, lambda: maker("untagged", b"u")) == b"u"
    assert made == ["a", "b", "c", "b", "big", "untagged", "untagged"]
    assert "big" not in cache._bodies and cache.size() <= 10


# every route whose answer is kept, JSON and CSV, on a small plan of two rows
KEPT = ("", "/hours", "/hours?district=rugby", "/hours.csv", "/warnings", "/warnings.csv")


def _rows(hours: float) -> dict[str, Any]:
    return {
        "hours": [
            {
                "service": "ot",
                "district": district,
                "team": "south",
                "period": 1,
                "ds": "2022-01-03",
                "hours": hours,
                "cases_served": 0.1,
            }
            for district in ("rugby", "warwick")
        ],
        "warnings": [f"plan of {hours} hours"],
    }


def _store(factory: sessionmaker[Session], result: dict[str, Any]) -> tuple[int, int]:
    """A plan of the demo's config with `result`, made by a run that succeeded: its id and the
    run's."""
    body = demo_config.demo_planning_config(horizon_periods=13)
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        run = repository.start_run(session, "pipeline", "demo", "test")
        run.status = "succeeded"
        plan = repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, result)
        return plan.id, run.id


def test_a_deleted_plan_is_never_served_from_any_processs_cache(
    either_database_url: str, tmp_path: Path
) -> None:
    """Two servers (two processes' caches) on one database; the plan and its run deleted from
    a third connection, as `homeward purge` deletes them: 404 from both, and the next plan's
    own rows (before migration 0018, SQLite gave it the purged plan's id)."""
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "purge-viewer", Role.VIEWER).secret
    plan_id, run_id = _store(factory, _rows(1.0))
    settings = Settings(
        data_dir=tmp_path,
        database_url=either_database_url,
        scheduler_enabled=False,
        auth="keys",
    )
    with LiveServer(create_app(settings)) as one, LiveServer(create_app(settings)) as two:
        clients = [
            httpx.Client(base_url=s.url, headers=key_header(secret), timeout=60) for s in (one, two)
        ]
        try:
            urls = [f"/v1/plans/{where}{path}" for where in ("latest", plan_id) for path in KEPT]
            before = {}
            for client in clients:
                for url in urls:
                    for _ in range(2):  # the second from the cache
                        answer = client.get(url)
                        assert answer.status_code == 200, (url, answer.text)
                        assert before.setdefault(url, answer.content) == answer.content, url
            assert b"plan of 1.0 hours" in before["/v1/plans/latest/warnings"]
            with transaction(factory) as session:
                session.execute(delete(PlanRow).where(PlanRow.id == plan_id))
                session.execute(delete(RunRow).where(RunRow.id == run_id))
            for client in clients:
                for url in urls:
                    gone = client.get(url)
                    assert gone.status_code == 404, (url, gone.text)
            new_id, _ = _store(factory, _rows(2.0))
            for client in clients:
                for where in ("latest", new_id):
                    for path in KEPT:
                        answer = client.get(f"/v1/plans/{where}{path}")
                        assert answer.status_code == 200, (where, path, answer.text)
                        assert answer.headers["x-plan-id"] == str(new_id)
                        # not the deleted plan's answer, though it may have had the same id
                        assert answer.content != before[f"/v1/plans/latest{path}"], path
                    assert b"plan of 2.0 hours" in client.get(f"/v1/plans/{where}/warnings").content
        finally:
            for client in clients:
                client.close()
    engine.dispose()


def _app(kept: bool) -> Starlette:
    """An app answering a plan route's way (X-Plan-Id, an ETag, 5 kB of JSON), and `/small`
    and `/untagged` that KeptGzip leaves alone, behind GZipMiddleware as api/app.py has it,
    with KeptGzip inside it or not."""
    body = json.dumps([{"hours": i / 7} for i in range(300)]).encode()
    tagged = {"X-Plan-Id": "7", "ETag": 'W/"abc"'}

    def route(request: Request) -> Response:
        if request.url.path == "/small":
            return Response(b"[]", media_type="application/json", headers=tagged)
        named = tagged if request.url.path == "/plan" else {}
        return Response(body, media_type="application/json", headers=named)

    app = Starlette(routes=[Route(p, route) for p in ("/plan", "/small", "/untagged")])
    if kept:
        app.add_middleware(
            KeptGzip, cache=AnswerCache(), minimum_size=GZIP_MINIMUM_SIZE, level=GZIP_LEVEL
        )
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    return app


def test_a_kept_compressed_answer_is_what_gzipmiddleware_sends() -> None:
    """The same headers, in the same order, and the same body once inflated, as Starlette's
    GZipMiddleware alone gives, whether compressed now or kept; and the same answers where
    KeptGzip does nothing (a small body, an untagged one, a client not asking for gzip)."""
    with LiveServer(_app(kept=False)) as plain, LiveServer(_app(kept=True)) as kept:
        for path in ("/plan", "/small", "/untagged"):
            for encoding in ("gzip", "identity", "deflate, gzip;q=0.5"):
                sent = {"Accept-Encoding": encoding}
                expected = httpx.get(plain.url + path, headers=sent)
                for _ in range(2):  # compressed, then kept
                    answer = httpx.get(kept.url + path, headers=sent)
                    assert answer.content == expected.content, (path, encoding)
                    assert [h for h in answer.headers.multi_items() if h[0] != "date"] == [
                        h for h in expected.headers.multi_items() if h[0] != "date"
                    ], (path, encoding)
        with httpx.stream("GET", kept.url + "/plan", headers={"Accept-Encoding": "gzip"}) as raw:
            wire = b"".join(raw.iter_raw())
        assert raw.headers["content-encoding"] == "gzip" and len(wire) < 5000
        assert gzip.decompress(wire) == httpx.get(plain.url + "/plan").content


@pytest.mark.parametrize(
    ("asked", "zipped"),
    [
        ("gzip", True),
        ("gzip;q=0.5, identity", True),
        ("gzip;q=0", False),
        ("br, gzip; q=0.0", False),
        ("x-gzip;q=0, gzip;q=0", False),
        ("*;q=0, gzip", True),
    ],
)
def test_gzip_refused_in_accept_encoding_is_not_sent(
    kept: tuple[httpx.Client, AnswerCache], asked: str, zipped: bool
) -> None:
    """`gzip;q=0` says gzip is not acceptable (RFC 9110 12.5.3), but a plan, or any large
    answer, came gzipped all the same: the middlewares looked only for the word."""
    client, _cache = kept
    for path in ("/v1/plans/latest", "/openapi.json"):  # KeptGzip's, and GZipMiddleware's
        with client.stream("GET", path, headers={"Accept-Encoding": asked}) as answer:
            assert answer.status_code == 200
            said = answer.headers.get("content-encoding")
            assert (said == "gzip") is zipped, (path, asked, said)
            raw = b"".join(answer.iter_raw())
        assert raw[:2] == b"\x1f\x8b" if zipped else json.loads(raw)
