"""With keys off every request is admin, so only this machine's own clients are answered: a
request a proxy passed on is 403, one naming another Host (DNS rebinding: a web page whose name
resolves to 127.0.0.1) 421. HOMEWARD_ALLOWED_HOSTS names the hosts with keys on too."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.app import create_app
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"


def _serve(tmp_path: Path, **settings: Any) -> Iterator[tuple[LiveServer, str]]:
    """A server on its own database with `settings`, and an admin key for it."""
    config = keyed_settings(tmp_path, "host.db").model_copy(update=settings)
    engine, factory = migrated(config)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "admin", Role.ADMIN).secret
    with LiveServer(create_app(config)) as server:
        yield server, key
    engine.dispose()


@pytest.fixture
def keys_off(tmp_path: Path) -> Iterator[LiveServer]:
    for server, _key in _serve(tmp_path, auth="off"):
        yield server


@pytest.fixture
def named(tmp_path: Path) -> Iterator[tuple[LiveServer, str]]:
    hosts = ("homeward.council.example", "*.svc.example", "10.0.2.15")
    yield from _serve(tmp_path, allowed_hosts=hosts)


def _problem(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.json()["code"] == code
    detail: str = response.json()["detail"]
    return detail


@pytest.mark.parametrize(
    "header",
    [
        {"X-Forwarded-For": "203.0.113.5"},
        {"Forwarded": "for=203.0.113.5;proto=https"},
        {"X-Real-IP": "203.0.113.5"},
        # what other proxies, load balancers and CDNs add, each alone (Apache's mod_proxy adds
        # X-Forwarded-Host and -Server, IIS's ARR and Cloudflare their own client address)
        {"Via": "1.1 proxy.council.example"},
        {"X-Forwarded-Host": "homeward.council.example"},
        {"X-Forwarded-Proto": "https"},
        {"X-Forwarded-Port": "443"},
        {"X-Forwarded-Server": "proxy.council.example"},
        {"X-Original-Forwarded-For": "203.0.113.5"},
        {"Client-IP": "203.0.113.5"},
        {"True-Client-IP": "203.0.113.5"},
        {"X-Client-IP": "203.0.113.5"},
        {"X-Cluster-Client-IP": "203.0.113.5"},
        {"CF-Connecting-IP": "203.0.113.5"},
        {"Fastly-Client-IP": "203.0.113.5"},
    ],
)
def test_with_keys_off_a_request_through_a_proxy_is_refused(
    keys_off: LiveServer, header: dict[str, str]
) -> None:
    """The README's nginx on the same host passes everyone's requests on from 127.0.0.1: each
    was admin. A probe is answered still (it is, keys or not, to anyone)."""
    for method, path in (("GET", "/v1/keys/me"), ("DELETE", "/v1/series"), ("GET", "/")):
        refused = httpx.request(method, keys_off.url + path, headers=header)
        detail = _problem(refused, 403, "proxied_with_auth_off")
        assert f"came through a proxy (it carries {next(iter(header))})" in detail
        assert "HOMEWARD_AUTH=keys" in detail
    assert httpx.get(keys_off.url + "/livez", headers=header).status_code == 200
    me = httpx.get(keys_off.url + "/v1/keys/me")  # this machine's own client, as before
    assert me.status_code == 200 and me.json()["role"] == "admin"


@pytest.mark.parametrize("host", ["attacker.example", "attacker.example:8000", "10.0.2.15"])
def test_with_keys_off_another_host_is_refused(
    keys_off: LiveServer, host: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    sent = {"Host": host, "X-Request-ID": "rebound-1"}
    refused = httpx.delete(keys_off.url + "/v1/series", headers=sent)
    detail = _problem(refused, 421, "host_not_allowed")
    assert detail == (
        "expected a request to localhost, 127.0.0.1 or [::1] (any port), found Host "
        f"{host!r}; HOMEWARD_ALLOWED_HOSTS lists the names this service answers to"
    )
    assert refused.headers["X-Request-ID"] == "rebound-1"
    deadline = time.monotonic() + 10
    while not any("request=rebound-1" in r.getMessage() for r in caplog.records):
        assert time.monotonic() < deadline
        time.sleep(0.02)
    [line] = [r.getMessage() for r in caplog.records if "request=rebound-1" in r.getMessage()]
    assert " 421 " in line and "reason=host_not_allowed" in line, line


@pytest.mark.parametrize("host", ["localhost", "LOCALHOST:8000", "127.0.0.1:1", "[::1]:8000"])
def test_with_keys_off_this_machines_names_are_answered(keys_off: LiveServer, host: str) -> None:
    me = httpx.get(keys_off.url + "/v1/keys/me", headers={"Host": host})
    assert me.status_code == 200 and me.json()["role"] == "admin"


def test_with_keys_on_any_host_is_answered_unless_hosts_are_named(
    tmp_path: Path, named: tuple[LiveServer, str]
) -> None:
    for server, key in _serve(tmp_path / "any", auth="keys"):
        sent = {"Host": "anything.example", **key_header(key)}
        assert httpx.get(server.url + "/v1/keys/me", headers=sent).status_code == 200
        # a proxy's request is a keyed request as any other
        proxied = {"X-Forwarded-For": "203.0.113.5", **key_header(key)}
        assert httpx.get(server.url + "/v1/keys/me", headers=proxied).status_code == 200
    server, key = named
    for host in ("homeward.council.example", "Homeward.Council.Example:443", "a.svc.example",
                 "10.0.2.15:8000"):  # fmt: skip
        sent = {"Host": host, **key_header(key)}
        assert httpx.get(server.url + "/v1/keys/me", headers=sent).status_code == 200, host
    for host in ("127.0.0.1", "svc.example", "council.example"):
        sent = {"Host": host, **key_header(key)}
        refused = httpx.get(server.url + "/v1/keys/me", headers=sent)
        detail = _problem(refused, 421, "host_not_allowed")
        assert "homeward.council.example, *.svc.example or 10.0.2.15" in detail
    # an orchestrator probing by address is answered
    assert httpx.get(server.url + "/readyz", headers={"Host": "172.17.0.2"}).status_code == 200
