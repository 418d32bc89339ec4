"""A key as the password of Basic credentials (Power BI's gateway holds a key only as a user
name and password): taken, refused and recorded exactly as the same key sent as Bearer."""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

ME = "/v1/keys/me"
PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class Served:
    server: LiveServer
    factory: sessionmaker[Session]
    viewer: str
    revoked: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = keyed_settings(tmp_path, "basic.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        viewer = api_keys.create_key(session, "bi-gateway", Role.VIEWER).secret
        revoked = api_keys.create_key(session, "gone", Role.ADMIN).secret
        api_keys.revoke_key(session, "gone")
    with LiveServer(create_app(settings)) as server:
        yield Served(server, factory, viewer, revoked)
    engine.dispose()


def basic(user: str, password: str) -> dict[str, str]:
    """Basic credentials as Power BI, curl -u and every browser send them."""
    pair = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


def _get(served: Served, path: str, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(served.server.url + path, headers=headers, timeout=30)


# RFC 7617: the user name ends at the first ':', so the password may hold one (a key does not)
@pytest.mark.parametrize("user", ["apikey", "", "power-bi@council.example", "DOMAIN\\svc-bi"])
def test_a_key_as_the_basic_password_is_that_key_whatever_the_user_name(
    served: Served, user: str
) -> None:
    me = _get(served, ME, basic(user, served.viewer))
    assert me.status_code == 200, me.text
    assert me.json()["name"] == "bi-gateway" and me.json()["role"] == "viewer"
    # as curl -u and httpx's auth= send them
    taken = httpx.get(served.server.url + ME, auth=(user, served.viewer), timeout=30)
    assert taken.status_code == 200 and taken.json()["name"] == "bi-gateway"


def test_a_basic_key_is_refused_as_the_same_bearer_key_is(served: Served) -> None:
    for user_name in ("apikey", "x"):
        for key in ("hw_not-a-real-key-0123456789", served.revoked):
            as_basic = _get(served, "/v1/series", basic(user_name, key))
            as_bearer = _get(served, "/v1/series", key_header(key))
            assert as_basic.status_code == as_bearer.status_code == 401
            assert as_basic.headers["content-type"].startswith(PROBLEM_JSON)
            assert as_basic.headers["www-authenticate"] == 'Bearer error="invalid_token"'
            assert as_basic.json() == as_bearer.json()
            assert key not in as_basic.text
    # the role's rights are the key's: a viewer may not store a config, however it is sent
    weak = httpx.post(
        served.server.url + "/v1/configs", json={}, headers=basic("apikey", served.viewer)
    )
    assert weak.status_code == 403, weak.text
    assert weak.json()["role_found"] == "viewer" and weak.json()["code"] == "role_too_weak"


def test_a_basic_key_use_is_recorded_and_logged_by_its_name(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    with served.factory() as session:
        row = repository.api_key_by_name(session, "bi-gateway")
        assert row is not None and row.last_used_at is None
    headers = {**basic("apikey", served.viewer), "X-Request-ID": "basic-1"}
    assert _get(served, "/v1/series", headers).status_code == 200
    with served.factory() as session:
        row = repository.api_key_by_name(session, "bi-gateway")
        assert row is not None and row.last_used_at is not None
    deadline = time.monotonic() + 10
    while not any("request=basic-1" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [line] = [r.getMessage() for r in caplog.records if "request=basic-1" in r.getMessage()]
    assert " 200 " in line and "key=bi-gateway" in line and served.viewer not in line


@pytest.mark.parametrize(
    ("authorization", "found", "reason"),
    [
        ("Basic", "found 'Basic' with nothing after it", "bad_basic"),
        ("Basic %%not-base64%%", "found Basic credentials that are not base64", "bad_basic"),
        (
            "Basic " + base64.b64encode(b"no-colon-here").decode(),
            "found Basic credentials with no ':' between a user name and a password",
            "bad_basic",
        ),
        (
            "Basic " + base64.b64encode(b"apikey:").decode(),
            "found Basic credentials with an empty password",
            "no_key",
        ),
    ],
)
def test_basic_credentials_that_hold_no_key_are_told_what_is_wrong(
    served: Served,
    caplog: pytest.LogCaptureFixture,
    authorization: str,
    found: str,
    reason: str,
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    sent = {"Authorization": authorization, "X-Request-ID": f"bad-{reason}-{len(authorization)}"}
    refused = _get(served, "/v1/series", sent)
    assert refused.status_code == 401, refused.text
    detail = refused.json()["detail"]
    assert detail.startswith("expected `Authorization: Basic base64(user:key)` with the API key")
    assert detail.endswith(found), detail
    deadline = time.monotonic() + 10
    while not any(sent["X-Request-ID"] in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [line] = [r.getMessage() for r in caplog.records if sent["X-Request-ID"] in r.getMessage()]
    assert f"reason={reason}" in line, line


def test_a_key_as_the_basic_user_name_is_refused_saying_so(served: Served) -> None:
    """A proxy's access log writes the user name (nginx's $remote_user): a key there is not
    taken, and the answer says where it goes, without echoing it."""
    refused = _get(served, "/v1/series", basic(served.viewer, ""))
    assert refused.status_code == 401
    assert refused.json()["detail"].endswith(
        "found Basic credentials with an empty password and the key as the user name"
    )
    assert served.viewer not in refused.text


def test_a_basic_header_beside_an_x_api_key_is_not_read(served: Served) -> None:
    """nginx's own auth_basic in front passes its Authorization on: the X-API-Key behind it
    is still the key."""
    sent = {**basic("alice", "her-intranet-password"), "X-API-Key": served.viewer}
    assert _get(served, ME, sent).json()["name"] == "bi-gateway"
    bad = {"Authorization": "Basic %%", "X-API-Key": served.viewer}
    assert _get(served, ME, bad).status_code == 200


def test_openapi_declares_the_basic_scheme(served: Served) -> None:
    spec = httpx.get(served.server.url + "/openapi.json").json()
    scheme = spec["components"]["securitySchemes"]["HTTPBasic"]
    assert scheme["type"] == "http" and scheme["scheme"] == "basic"
    assert {"HTTPBasic": []} in spec["paths"][ME]["get"]["security"]


def test_a_scraper_may_send_its_key_as_basic_credentials(served: Served) -> None:
    """Prometheus' basic_auth (password_file) as its authorization: the same key either way."""
    scraped = _get(served, "/metrics", basic("prometheus", served.viewer))
    assert scraped.status_code == 200 and "homeward_" in scraped.text
    refused = _get(served, "/metrics", basic("prometheus", served.revoked))
    assert refused.status_code == 401 and "'gone' has been revoked" in refused.json()["detail"]
