"""ETag and If-None-Match: a dashboard polling an answer downloads it only when it changed, and
a `latest` plan's answer names its plan, in its headers and its tag."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from api.app import create_app
from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated, store_plan
from tests.conftest import LiveServer

WEEKS = "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\nreferrals/ot/rugby,2025-01-13,5\n"
ONE_MORE = "unique_id,ds,y\nreferrals/ot/rugby,2025-01-20,6\n"


@pytest.fixture
def admin(tmp_path: Path) -> Iterator[httpx.Client]:
    settings = keyed_settings(tmp_path, "etag.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "etag-admin", Role.ADMIN).secret
    with (
        LiveServer(create_app(settings)) as live,
        httpx.Client(base_url=live.url, headers=key_header(key)) as client,
    ):
        yield client
    engine.dispose()


def _upload(client: httpx.Client, body: str) -> None:
    stored = client.post("/v1/observations", content=body, headers={"Content-Type": "text/csv"})
    assert stored.status_code == 201, stored.text


def test_an_unchanged_answer_is_a_304_without_a_body(admin: httpx.Client) -> None:
    _upload(admin, WEEKS)
    first = admin.get("/v1/observations/referrals/ot/rugby")
    tag = first.headers["etag"]
    assert first.status_code == 200 and tag.startswith('W/"')
    # no browser or proxy keeps the body (api/security_headers.py); the client that does keep
    # it, by its tag, still gets a 304
    assert first.headers["cache-control"] == "no-store"
    again = admin.get("/v1/observations/referrals/ot/rugby", headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    assert again.headers["etag"] == tag and again.headers["cache-control"] == "no-store"
    # a list of tags, the strong form of the same tag, and * all match
    for wanted in (f'"other", {tag}', tag[2:], "*"):
        hit = admin.get("/v1/observations/referrals/ot/rugby", headers={"If-None-Match": wanted})
        assert hit.status_code == 304, wanted
    head = admin.head("/v1/observations/referrals/ot/rugby", headers={"If-None-Match": tag})
    assert head.status_code == 304


def test_a_changed_answer_comes_whole_with_a_new_tag(admin: httpx.Client) -> None:
    _upload(admin, WEEKS)
    tag = admin.get("/v1/observations/referrals/ot/rugby").headers["etag"]
    _upload(admin, ONE_MORE)
    changed = admin.get("/v1/observations/referrals/ot/rugby", headers={"If-None-Match": tag})
    assert changed.status_code == 200 and changed.headers["etag"] != tag
    assert [row["y"] for row in changed.json()][-1] == 6.0
    other = admin.get("/v1/observations/referrals/ot/rugby", headers={"If-None-Match": '"x"'})
    assert other.status_code == 200 and other.content == changed.content


def test_a_pages_tag_changes_when_its_total_or_links_do(admin: httpx.Client) -> None:
    """The last page of series, the same rows after another series was stored, was a 304 with
    the old tag, so a client taking headers from 200s never learnt of the new total and the
    next page its Link now names (a BI reviewer)."""
    _upload(admin, WEEKS)
    _upload(admin, WEEKS.replace("referrals/ot/rugby", "referrals/ot/warwick"))
    first = admin.get("/v1/series", params={"limit": 1, "offset": 1})
    assert first.headers["x-total-count"] == "2" and "next" not in first.headers.get("link", "")
    _upload(admin, WEEKS.replace("referrals/ot/rugby", "referrals/ot/zz-last"))
    again = admin.get(
        "/v1/series",
        params={"limit": 1, "offset": 1},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 200 and again.headers["etag"] != first.headers["etag"]
    assert again.json() == first.json()  # the same row: only the total and links changed
    assert again.headers["x-total-count"] == "3" and 'rel="next"' in again.headers["link"]


def test_errors_and_pages_outside_v1_carry_no_tag(admin: httpx.Client) -> None:
    missing = admin.get("/v1/observations/referrals/ot/nowhere", headers={"If-None-Match": "*"})
    assert missing.status_code == 404 and "etag" not in missing.headers
    assert "etag" not in admin.get("/healthz").headers


def test_the_tag_is_the_same_whether_or_not_the_answer_is_compressed(
    admin: httpx.Client,
) -> None:
    """Weak tags name the content, so a gzip client and a plain one can share a cache."""
    rows = "".join(f"referrals/ot/rugby,{d.date()},{i}\n" for i, d in enumerate(_mondays(120)))
    _upload(admin, "unique_id,ds,y\n" + rows)
    plain = admin.get(
        "/v1/observations/referrals/ot/rugby", headers={"Accept-Encoding": "identity"}
    )
    zipped = admin.get("/v1/observations/referrals/ot/rugby", headers={"Accept-Encoding": "gzip"})
    assert zipped.headers["content-encoding"] == "gzip"
    assert zipped.headers["etag"] == plain.headers["etag"]
    revalidated = admin.get(
        "/v1/observations/referrals/ot/rugby",
        headers={"Accept-Encoding": "gzip", "If-None-Match": plain.headers["etag"]},
    )
    assert revalidated.status_code == 304


def _mondays(n: int) -> pd.DatetimeIndex:
    return pd.date_range("2022-01-03", periods=n, freq="W-MON")


def _store_plan(tmp_path: Path, result: dict[str, object]) -> int:
    return store_plan(tmp_path, "etag.db", result)  # the `admin` fixture's database


def test_a_latest_plans_answers_name_the_plan_and_its_tag_does_too(
    admin: httpx.Client, tmp_path: Path
) -> None:
    """Plans 1 and 2 have the same rows: `latest` says which one it is, and a dashboard
    polling it with the tag it got of plan 1 gets plan 2 (not a 304) once 2 is the latest."""
    row = {"service": "ot", "district": "rugby", "team": "south", "period": 1}
    row |= {"ds": "2022-01-03", "hours": 1.0, "cases_served": 0.1}
    same = {"hours": [row]}
    first = _store_plan(tmp_path, same)
    polled = admin.get("/v1/plans/latest/hours")
    assert (polled.headers["x-plan-id"], polled.headers["content-location"]) == (
        str(first),
        f"/v1/plans/{first}/hours",
    )
    second = _store_plan(tmp_path, same)
    again = admin.get("/v1/plans/latest/hours", headers={"If-None-Match": polled.headers["etag"]})
    assert again.status_code == 200 and again.content == polled.content
    assert again.headers["x-plan-id"] == str(second)
    unchanged = admin.get(
        "/v1/plans/latest/hours", headers={"If-None-Match": again.headers["etag"]}
    )
    assert unchanged.status_code == 304 and unchanged.headers["x-plan-id"] == str(second)
    by_id = [admin.get(f"/v1/plans/{i}/hours") for i in (first, second)]
    assert by_id[0].content == by_id[1].content
    assert by_id[0].headers["etag"] != by_id[1].headers["etag"]
    assert [r.headers["x-plan-id"] for r in by_id] == [str(first), str(second)]
    for path in ("", "/hours?district=rugby&service=ot", "/hours.csv?district=rugby"):
        named = admin.get(f"/v1/plans/latest{path}")
        assert named.status_code == 200, named.text
        assert named.headers["x-plan-id"] == str(second)
        assert named.headers["content-location"] == f"/v1/plans/{second}{path}"


def test_a_run_an_earlier_benchmark_stored_is_still_served(
    admin: httpx.Client, tmp_path: Path
) -> None:
    """bench/pipeline_demo.py wrote trigger `bench` into the database DATABASE_URL named until
    session 19; such a run must not make every page of GET /v1/runs fail."""
    engine, factory = migrated(keyed_settings(tmp_path, "etag.db"))  # the `admin` fixture's
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "bench", "test")
        run.status = "succeeded"
    engine.dispose()
    runs = admin.get("/v1/runs")
    assert runs.status_code == 200, runs.text
    assert [r["trigger"] for r in runs.json()] == ["bench"]
