"""GET /v1/configs: every stored planning config, newest first, as summaries without their
bodies, paged and filtered as GET /v1/plans and /v1/runs are, each marked whether it is the
active one. Over a real HTTP server, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.api.conftest import key_header
from tests.conftest import LiveServer

NOON = datetime(2001, 1, 5, 12, 0, tzinfo=UTC)
SUMMARY = {"id", "name", "version", "body_hash", "created_at", "scenario", "created_by", "active"}


@dataclass(frozen=True)
class Stored:
    """A served database's configs (ids, oldest first: version 1, a what-if, version 2, a
    what-if; version 2 active) and a client holding a viewer key."""

    viewer: httpx.Client
    url: str
    first: int
    what_if: int
    second: int
    later_what_if: int

    @property
    def newest_first(self) -> list[int]:
        return [self.later_what_if, self.second, self.what_if, self.first]


def _body(version: str, fee_rate: float = 0.1) -> dict[str, Any]:
    body = demo_config.demo_planning_config(horizon_periods=13)
    body["version"] = version
    body["fees"]["dfg_fee_rate"] = fee_rate
    return body


@pytest.fixture
def stored(either_database_url: str, tmp_path: Path) -> Iterator[Stored]:
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    ids = []
    with transaction(factory) as session:
        for hour, (version, rate, scenario, by) in enumerate(
            [
                ("1", 0.1, False, "finance"),
                ("1", 0.2, True, "alice"),
                ("2", 0.1, False, None),
                ("2", 0.3, True, "bob"),
            ]
        ):
            body = _body(version, rate)
            row = repository.save_config(
                session, body, planning.config_hash(body), scenario=scenario, created_by=by
            )
            row.created_at = NOON + timedelta(hours=hour)
            ids.append(row.id)
        key = api_keys.create_key(session, "dashboard", Role.VIEWER).secret
    settings = Settings(
        data_dir=tmp_path, database_url=either_database_url, scheduler_enabled=False, auth="keys"
    )
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as viewer,
    ):
        yield Stored(viewer, server.url, *ids)
    engine.dispose()


def _ids(response: httpx.Response) -> list[int]:
    assert response.status_code == 200, response.text
    return [c["id"] for c in response.json()]


def test_newest_first_as_one_by_id_without_its_body_marking_the_active_one(
    stored: Stored,
) -> None:
    listed = stored.viewer.get("/v1/configs")
    assert _ids(listed) == stored.newest_first
    assert listed.headers["x-total-count"] == "4" and "link" not in listed.headers
    for item in listed.json():
        assert set(item) == SUMMARY  # no body: GET /v1/configs/{id} gives it
        one = stored.viewer.get(f"/v1/configs/{item['id']}").json()
        assert {k: one[k] for k in SUMMARY - {"active"}} == {
            k: v for k, v in item.items() if k != "active"
        }
    active = stored.viewer.get("/v1/configs/active").json()["id"]
    assert active == stored.second
    assert {c["id"]: c["active"] for c in listed.json()} == {
        stored.later_what_if: False,
        stored.second: True,
        stored.what_if: False,
        stored.first: False,
    }
    first = listed.json()[-1]
    assert (first["version"], first["scenario"], first["created_by"]) == ("1", False, "finance")
    assert first["created_at"] == "2001-01-05T12:00:00Z"


def test_scenario_keeps_what_ifs_or_the_configs_made_active(stored: Stored) -> None:
    what_ifs = stored.viewer.get("/v1/configs", params={"scenario": "true"})
    assert _ids(what_ifs) == [stored.later_what_if, stored.what_if]
    assert what_ifs.headers["x-total-count"] == "2"
    assert all(c["scenario"] and not c["active"] for c in what_ifs.json())
    made_active = stored.viewer.get("/v1/configs", params={"scenario": "false"})
    assert _ids(made_active) == [stored.second, stored.first]
    assert [c["active"] for c in made_active.json()] == [True, False]


@pytest.mark.parametrize("params", [{}, {"scenario": "false"}])
def test_pages_link_the_next_by_before_id_with_the_filters_kept(
    stored: Stored, params: dict[str, str]
) -> None:
    everything = _ids(stored.viewer.get("/v1/configs", params=params))
    followed: list[int] = []
    page = stored.viewer.get("/v1/configs", params=params | {"limit": 1, "offset": 0})
    while True:
        followed += _ids(page)
        assert page.headers["x-total-count"] == str(len(everything))
        if "link" not in page.headers:
            break
        target, rel = page.headers["link"].split(";")
        assert rel.strip() == 'rel="next"' and target.startswith("</v1/configs?")
        assert f"before_id={followed[-1]}" in target and "offset" not in target, target
        assert all(f"{k}={v}" in target for k, v in params.items()), target
        page = stored.viewer.get(target.strip("<> "))
    assert followed == everything and len(followed) == len(everything) > 1
    by_offset = stored.viewer.get("/v1/configs", params=params | {"limit": 1, "offset": 1})
    assert _ids(by_offset) == everything[1:2]


def test_created_from_inclusive_and_to_exclusive(stored: Stored) -> None:
    window = {"created_from": "2001-01-05T13:00:00Z", "created_to": "2001-01-05T15:00:00Z"}
    answer = stored.viewer.get("/v1/configs", params=window)
    assert _ids(answer) == [stored.second, stored.what_if]
    assert answer.headers["x-total-count"] == "2"
    both = window | {"scenario": "true"}
    assert _ids(stored.viewer.get("/v1/configs", params=both)) == [stored.what_if]
    empty = stored.viewer.get("/v1/configs", params={"created_from": "2001-01-06"})
    assert _ids(empty) == [] and empty.headers["x-total-count"] == "0"
    refused = stored.viewer.get("/v1/configs", params=window | {"created_to": "2001-01-05"})
    assert refused.status_code == 422
    locations = {p["location"] for p in refused.json()["problems"]}
    assert locations == {"query/created_from", "query/created_to"}


def test_whoever_may_read_a_config_may_list_them(stored: Stored) -> None:
    """A viewer reads a config by id, so it may list them; no key may do neither."""
    assert stored.viewer.get(f"/v1/configs/{stored.first}").status_code == 200
    assert stored.viewer.get("/v1/configs").status_code == 200
    for path in ("/v1/configs", f"/v1/configs/{stored.first}"):
        assert httpx.get(stored.url + path).status_code == 401


def test_a_limit_out_of_bounds_is_refused_naming_it(stored: Stored) -> None:
    answer = stored.viewer.get("/v1/configs", params={"limit": "101"})
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["location"] == "query/limit" and problem["found"] == "'101'"


def test_the_openapi_document_declares_it(stored: Stored) -> None:
    operation = stored.viewer.get("/openapi.json").json()["paths"]["/v1/configs"]["get"]
    assert operation["operationId"] == "list_configs"
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"limit", "offset", "scenario", "before_id", "created_from", "created_to"}
    assert "/v1/configs/{id}" in operation["description"]
    ok = operation["responses"]["200"]
    assert {"X-Total-Count", "Link"} <= set(ok["headers"])
    item = ok["content"]["application/json"]["schema"]["items"]["$ref"].rsplit("/", 1)[1]
    assert item == "ConfigSummaryPublic"
