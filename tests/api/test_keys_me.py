"""GET /v1/keys/me: who a key is (its name and role) and what it may do, as the key check the
other routes run decides it, so a client can offer only what the key may do."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

ME = "/v1/keys/me"
# README "API keys": what each role may do
MAY = {
    Role.VIEWER: ["read"],
    Role.PLANNER: ["read", "plan", "run"],
    Role.FINANCE: ["read", "plan", "configure"],
    Role.ADMIN: ["read", "plan", "run", "configure", "upload", "audit"],
}
WHO_MAY = {
    "read": ["viewer", "planner", "finance", "admin"],
    "plan": ["planner", "finance", "admin"],
    "run": ["planner", "admin"],
    "configure": ["finance", "admin"],
    "upload": ["admin"],
    "audit": ["admin"],
}


@dataclass(frozen=True)
class Keyed:
    """A served database holding the demo config (no history, no plan) and one key per role,
    plus a key that has been revoked."""

    server: LiveServer
    keys: dict[Role, str]
    revoked: str


@pytest.fixture(scope="module")
def keyed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keyed]:
    settings = keyed_settings(tmp_path_factory.mktemp("keys-me"), "keys-me.db")
    engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
        keys = {r: api_keys.create_key(session, f"me-{r.value}", r).secret for r in Role}
        revoked = api_keys.create_key(session, "me-gone", Role.ADMIN).secret
        api_keys.revoke_key(session, "me-gone")
    with LiveServer(create_app(settings)) as server:
        yield Keyed(server, keys, revoked)
    engine.dispose()


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_each_key_is_told_its_name_its_role_and_what_it_may_do(keyed: Keyed, role: Role) -> None:
    answer = httpx.get(keyed.server.url + ME, headers=key_header(keyed.keys[role]), timeout=30)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body.pop("last_used_at").endswith("Z")  # this request is a use (tested below)
    assert body == {
        "auth": "keys",
        "name": f"me-{role.value}",
        "role": role.value,
        "expires_at": None,
        "may": MAY[role],
        "roles_allowing": WHO_MAY,
    }


def test_the_key_may_be_sent_as_an_x_api_key_header_too(keyed: Keyed) -> None:
    answer = httpx.get(
        keyed.server.url + ME, headers={"X-API-Key": keyed.keys[Role.FINANCE]}, timeout=30
    )
    assert answer.status_code == 200
    assert (answer.json()["name"], answer.json()["role"]) == ("me-finance", "finance")


@pytest.mark.parametrize("role", list(Role), ids=[r.value for r in Role])
def test_what_a_key_is_told_it_may_plan_is_what_the_server_lets_it_plan(
    keyed: Keyed, role: Role
) -> None:
    """The dashboard disables the what-if for a key without `plan`: the same key's POST
    /v1/plans is refused exactly then (a malformed body, so nothing is solved: 422 once the
    key is let through, 403 when it is not)."""
    headers = key_header(keyed.keys[role])
    me = httpx.get(keyed.server.url + ME, headers=headers, timeout=30).json()
    tried = httpx.post(
        keyed.server.url + "/v1/plans", headers=headers, json={"solver": "nope"}, timeout=30
    )
    assert tried.status_code == (422 if "plan" in me["may"] else 403), tried.text
    if tried.status_code == 403:
        assert tried.json()["role_needed"] == me["roles_allowing"]["plan"]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer hw_not-a-key"}, "revoked"],
    ids=["no key", "unknown key", "revoked key"],
)
def test_no_key_or_an_unknown_or_revoked_one_is_told_nothing(
    keyed: Keyed, headers: dict[str, str] | str
) -> None:
    sent = key_header(keyed.revoked) if headers == "revoked" else headers
    assert isinstance(sent, dict)
    answer = httpx.get(keyed.server.url + ME, headers=sent, timeout=30)
    assert answer.status_code == 401
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert "name" not in answer.json() and "may" not in answer.json()


def test_with_keys_off_every_request_is_told_it_acts_as_admin(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'off.db'}",
        scheduler_enabled=False,
        auth="off",
    )
    with LiveServer(create_app(settings)) as server:
        answer = httpx.get(server.url + ME, timeout=30)
        # a key sent anyway is not read: the answer is the same
        with_key = httpx.get(server.url + ME, headers=key_header("hw_anything"), timeout=30)
    assert answer.status_code == 200
    assert answer.json() == {
        "auth": "off",
        "name": None,
        "role": "admin",
        "expires_at": None,
        "last_used_at": None,
        "may": MAY[Role.ADMIN],
        "roles_allowing": WHO_MAY,
    }
    assert with_key.json() == answer.json()


def test_an_unchanged_answer_is_a_304(keyed: Keyed) -> None:
    headers = key_header(keyed.keys[Role.VIEWER])
    first = httpx.get(keyed.server.url + ME, headers=headers, timeout=30)
    again = httpx.get(
        keyed.server.url + ME, headers={**headers, "If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""
