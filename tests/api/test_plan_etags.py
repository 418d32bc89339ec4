"""A plan's answers are tagged from what they are made of (api/etags.py): a dashboard
revalidating the latest plan gets its 304 without the server building the plan's 2 MB, a new
plan changes the tag, and the key check still comes first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import httpx
import pytest
from sqlalchemy import delete, text

from api import etags
from api.app import create_app
from api.etags import WHOLE_PLAN, Asked, plan_tag
from api.plan_tables import PlanTable, RowFilter
from api.routes import exports, plans
from homeward import api_keys
from homeward.repository import PlanStamp
from homeward.roles import Role
from homeward.storage import transaction
from models import PlanRow
from tests.api.conftest import key_header, keyed_settings, migrated, store_plan
from tests.conftest import LiveServer

DB = "plan-etags.db"
# every plan route whose answer is made from the plan alone, JSON and CSV
TAGGED = (
    "",
    "/hours",
    "/hours?district=rugby&service=ot",
    "/hours.csv",
    "/hours.csv?from=2022-01-01&to=2022-12-31",
    "/warnings",
    "/warnings.csv",
)


def _row(district: str) -> dict[str, Any]:
    return {
        "service": "ot",
        "district": district,
        "team": "south",
        "period": 1,
        "ds": "2022-01-03",
        "hours": 1.0,
        "cases_served": 0.1,
    }


RESULT = {"hours": [_row("rugby"), _row("warwick")], "warnings": ["a warning"]}


@pytest.fixture
def key(tmp_path: Path) -> str:
    engine, factory = migrated(keyed_settings(tmp_path, DB))
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "etag-viewer", Role.VIEWER).secret
    engine.dispose()
    return secret


@pytest.fixture
def server(tmp_path: Path, key: str) -> Iterator[LiveServer]:
    with LiveServer(create_app(keyed_settings(tmp_path, DB))) as live:
        yield live


@pytest.fixture
def viewer(server: LiveServer, key: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, headers=key_header(key)) as client:
        yield client


def _store_plan(tmp_path: Path, result: dict[str, Any] = RESULT) -> int:
    return store_plan(tmp_path, DB, result)


def _refuse_to_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every function that makes a plan's answer from its stored result fails from now on."""

    def built(*_args: object, **_kwargs: object) -> NoReturn:
        raise AssertionError("the plan's answer was built for a 304")

    monkeypatch.setattr(plans, "_public", built)
    monkeypatch.setattr(plans, "table_rows", built)
    monkeypatch.setattr(exports, "table_rows", built)


def test_a_revalidated_plan_is_a_304_without_its_answer_being_built(
    viewer: httpx.Client, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    plan_id = _store_plan(tmp_path)
    paths = [f"/v1/plans/{where}{path}" for where in ("latest", plan_id) for path in TAGGED]
    tags = {}
    for path in paths:
        first = viewer.get(path)
        assert first.status_code == 200, (path, first.text)
        tags[path] = first.headers["etag"]
        assert tags[path].startswith('W/"'), path
    _refuse_to_build(monkeypatch)
    for path in paths:
        for encoding in ("gzip", "identity"):
            again = viewer.get(
                path, headers={"If-None-Match": tags[path], "Accept-Encoding": encoding}
            )
            assert again.status_code == 304 and again.content == b"", (path, again.text)
            # the tag a 304 confirms is the 200's, so the client's next If-None-Match matches
            assert again.headers["etag"] == tags[path], path
            assert again.headers["x-plan-id"] == str(plan_id), path
            assert "accept-encoding" in again.headers["vary"].lower(), path
        head = viewer.head(path, headers={"If-None-Match": tags[path]})
        assert head.status_code == 304 and head.headers["etag"] == tags[path], path
    latest = viewer.get("/v1/plans/latest/hours", headers={"If-None-Match": tags[paths[1]]})
    assert latest.headers["content-location"] == f"/v1/plans/{plan_id}/hours"


def test_the_tag_is_the_200s_and_a_weak_match_revalidates(
    viewer: httpx.Client, tmp_path: Path
) -> None:
    _store_plan(tmp_path)
    plain = viewer.get("/v1/plans/latest", headers={"Accept-Encoding": "identity"})
    zipped = viewer.get("/v1/plans/latest", headers={"Accept-Encoding": "gzip"})
    assert plain.headers["etag"] == zipped.headers["etag"]
    tag = plain.headers["etag"]
    for wanted in (tag, tag[2:], f'"other", {tag}', "*"):
        again = viewer.get("/v1/plans/latest", headers={"If-None-Match": wanted})
        assert again.status_code == 304 and again.headers["etag"] == tag, wanted
    other = viewer.get("/v1/plans/latest", headers={"If-None-Match": '"other"'})
    assert other.status_code == 200 and other.headers["etag"] == tag
    assert other.content == plain.content


def test_a_newer_plan_changes_the_latest_tag(viewer: httpx.Client, tmp_path: Path) -> None:
    first = _store_plan(tmp_path)
    tags = {path: viewer.get(f"/v1/plans/latest{path}").headers["etag"] for path in TAGGED}
    second = _store_plan(tmp_path)  # the same rows
    for path in TAGGED:
        polled = viewer.get(f"/v1/plans/latest{path}", headers={"If-None-Match": tags[path]})
        assert polled.status_code == 200, path
        assert polled.headers["x-plan-id"] == str(second), path
        assert polled.headers["etag"] != tags[path], path
        by_id = viewer.get(f"/v1/plans/{first}{path}", headers={"If-None-Match": tags[path]})
        assert by_id.status_code == 304, path


def test_filters_and_media_types_have_their_own_tags(viewer: httpx.Client, tmp_path: Path) -> None:
    _store_plan(tmp_path)
    paths = (
        "/hours",
        "/hours?district=rugby",
        "/hours?district=warwick",
        "/hours?district=rugby&district=warwick",
        "/hours?service=ot",
        "/hours?from=2022-01-03",
        "/hours?to=2022-01-03",
        "/hours.csv",
        "/hours.csv?district=rugby",
        "/warnings",
        "",
    )
    tags = [viewer.get(f"/v1/plans/latest{path}").headers["etag"] for path in paths]
    assert len(set(tags)) == len(paths)
    # the same rows asked in another order, or with a cache buster: the same answer and tag
    both = tags[paths.index("/hours?district=rugby&district=warwick")]
    for same in ("district=warwick&district=rugby", "district=rugby&district=warwick&_=17"):
        again = viewer.get(f"/v1/plans/latest/hours?{same}", headers={"If-None-Match": both})
        assert again.status_code == 304, same
    narrower = viewer.get("/v1/plans/latest/hours?district=rugby", headers={"If-None-Match": both})
    assert narrower.status_code == 200 and [r["district"] for r in narrower.json()] == ["rugby"]


def test_no_key_is_a_401_and_a_removed_plan_a_404_never_a_304(
    server: LiveServer, viewer: httpx.Client, tmp_path: Path
) -> None:
    plan_id = _store_plan(tmp_path)
    tags = {path: viewer.get(f"/v1/plans/{plan_id}{path}").headers["etag"] for path in TAGGED}
    with httpx.Client(base_url=server.url) as stranger:
        for path in TAGGED:
            for where in ("latest", plan_id):
                for sent in ({}, key_header("hw_not-a-key")):
                    refused = stranger.get(
                        f"/v1/plans/{where}{path}", headers={"If-None-Match": tags[path], **sent}
                    )
                    assert refused.status_code == 401, (where, path, sent)
                    assert "etag" not in refused.headers
    engine, factory = migrated(keyed_settings(tmp_path, DB))
    with transaction(factory) as session:  # as a purge removes it, with its run
        session.execute(delete(PlanRow).where(PlanRow.id == plan_id))
    engine.dispose()
    for path in TAGGED:
        gone = viewer.get(f"/v1/plans/{plan_id}{path}", headers={"If-None-Match": tags[path]})
        assert gone.status_code == 404, path
        none = viewer.get(f"/v1/plans/latest{path}", headers={"If-None-Match": tags[path]})
        assert none.status_code == 404 and none.json()["code"] == "no_plan_yet", path


def test_a_filter_the_plan_cannot_answer_is_refused_even_for_any_tag(
    viewer: httpx.Client, tmp_path: Path
) -> None:
    _store_plan(tmp_path)
    refused = viewer.get("/v1/plans/latest/hours?district=rugbyy", headers={"If-None-Match": "*"})
    assert refused.status_code == 422 and "etag" not in refused.headers


def test_the_summary_is_tagged_by_its_body(viewer: httpx.Client, tmp_path: Path) -> None:
    """The summary reads the referral history as stored now, not the plan alone."""
    plan_id = _store_plan(tmp_path)
    asked = Asked(PlanTable.summary.value, "application/json")
    assert plan_tag(PlanStamp(plan_id, datetime(2026, 1, 1)), asked) is None
    first = viewer.get("/v1/plans/latest/summary")
    again = viewer.get("/v1/plans/latest/summary", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]


SEVEN = PlanStamp(7, datetime(2026, 11, 24, 9, 30, 0, 123456))


def test_another_release_gives_other_tags() -> None:
    asked = Asked(WHOLE_PLAN, "application/json")
    assert plan_tag(SEVEN, asked, "0.1.0+gaaaaaaa") != plan_tag(SEVEN, asked, "0.1.0+gbbbbbbb")
    # another plan, or one given a purged plan's id (made another microsecond), another tag
    later = PlanStamp(7, SEVEN.created_at.replace(microsecond=123457))
    others = {
        plan_tag(PlanStamp(8, SEVEN.created_at), asked, "0.1.0"),
        plan_tag(later, asked, "0.1.0"),
    }
    assert plan_tag(SEVEN, asked, "0.1.0") not in others and len(others) == 2
    assert plan_tag(SEVEN, asked) == plan_tag(SEVEN, asked, etags.release())
    twice = Asked("hours", "text/csv", RowFilter(("a", "b", "a")))
    assert plan_tag(SEVEN, twice, "1") == plan_tag(
        SEVEN, Asked("hours", "text/csv", RowFilter(("b", "a"))), "1"
    )


def test_the_release_includes_the_answering_code_not_only_the_version(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Outside a checkout (the Docker image has no .git) the version is the package's, which
    an upgrade need not change: the code's own digest still tells two releases apart."""
    etags.release.cache_clear()
    monkeypatch.setattr(etags, "code_version", lambda: "0.1.0")
    released = etags.release()
    assert released.startswith("0.1.0:") and len(released) == len("0.1.0:") + 16
    etags.release.cache_clear()


def test_a_new_plan_given_a_purged_plans_id_gets_its_own_tags(
    viewer: httpx.Client, tmp_path: Path
) -> None:
    """A database restored from a backup older than its newest plan gives that plan's id to
    the next (ids are never given out twice otherwise: migration 0018): the tag of the one
    before must not answer 304 for it."""
    plan_id = _store_plan(tmp_path)
    tags = {path: viewer.get(f"/v1/plans/{plan_id}{path}").headers["etag"] for path in TAGGED}
    engine, factory = migrated(keyed_settings(tmp_path, DB))
    with transaction(factory) as session:  # the database as the backup had it
        session.execute(delete(PlanRow).where(PlanRow.id == plan_id))
        session.execute(text("UPDATE sqlite_sequence SET seq = seq - 1 WHERE name = 'plans'"))
    engine.dispose()
    other = {**RESULT, "warnings": ["another plan's warning"]}
    assert _store_plan(tmp_path, other) == plan_id  # the id again
    for path in TAGGED:
        for where in ("latest", plan_id):
            fresh = viewer.get(f"/v1/plans/{where}{path}", headers={"If-None-Match": tags[path]})
            assert fresh.status_code == 200, (where, path)
            assert fresh.headers["etag"] != tags[path]
