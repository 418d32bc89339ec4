"""A JSON body over HOMEWARD_MAX_JSON_BYTES is refused (413) without being read: a 300 MB
`{"name": "AAAA..."}` sent to POST /v1/configs was read whole and took the server from 270 MB
to a gigabyte before its 422."""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, demo_config
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import transaction
from tests.api.conftest import HORIZON_WEEKS, keyed_client, keyed_settings, migrated
from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"
LIMIT = 8_192  # the demo config is about 3 KB of JSON
EXPECTED = f"at most {LIMIT:,} bytes (HOMEWARD_MAX_JSON_BYTES)"
JSON_ROUTES = ["/v1/configs", "/v1/plans", "/v1/plans/sweeps"]
CONFIG = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("json-limit")
    return keyed_settings(tmp, "limit.db", max_json_bytes=LIMIT)


@pytest.fixture(scope="module")
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    engine, factory = migrated(settings)
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def server(settings: Settings, factory: sessionmaker[Session]) -> Iterator[LiveServer]:
    from api.app import create_app

    with LiveServer(create_app(settings)) as live:
        yield live


@pytest.fixture(scope="module")
def admin(server: LiveServer, factory: sessionmaker[Session]) -> Iterator[httpx.Client]:
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "limit-admin", Role.ADMIN).secret
    yield from keyed_client(server, secret)


def _padded(body: dict[str, Any], size: int) -> bytes:
    """`body` as JSON, with spaces after it (JSON allows them) to make it `size` bytes."""
    text = json.dumps(body).encode()
    assert len(text) <= size
    return text + b" " * (size - len(text))


def _raw_post(
    server: LiveServer, path: str, headers: dict[str, str], body: bytes
) -> tuple[int, dict[str, str], dict[str, Any]]:
    """POST a head and the start of a body over a bare socket, then read the answer. The body
    is never finished: a server that waited for the whole of it would time out here."""
    head = [
        f"POST {path} HTTP/1.1",
        f"Host: 127.0.0.1:{server.port}",
        "Content-Type: application/json",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = {name.lower(): value for name, value in response.getheaders()}
        assert answer["content-type"].startswith(PROBLEM_JSON)
        return response.status, answer, json.loads(response.read())


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_body_declaring_more_than_the_limit_is_413_before_it_is_read(
    server: LiveServer, admin: httpx.Client, path: str
) -> None:
    headers = {
        "Authorization": admin.headers["authorization"],
        "Content-Length": str(300 * 2**20),
    }
    status, answer, problem = _raw_post(server, path, headers, b'{"name": "AAAA')
    assert (status, answer["connection"]) == (413, "close")
    assert (problem["title"], problem["code"]) == ("Request entity too large", "body_too_large")
    [located] = problem["problems"]  # located as a JSON body's problems are (README)
    assert located == {"location": "body", "expected": EXPECTED, "found": f"{300 * 2**20:,} bytes"}


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_chunked_body_far_over_the_limit_is_413_without_being_read_to_its_end(
    admin: httpx.Client, path: str
) -> None:
    """64 MiB offered in 64 KiB chunks (8,192 times the limit): the answer comes while most of
    it is still unsent, as the server stopped reading just past the limit."""
    chunks_offered = 1_024
    sent: list[int] = []

    def body() -> Iterator[bytes]:
        yield b'{"name": "'
        for _ in range(chunks_offered):
            sent.append(1)
            yield b"A" * 65_536

    response = admin.post(path, content=body(), headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    [located] = response.json()["problems"]
    found = f"more than {LIMIT:,} bytes (the rest was not read)"
    assert located == {"location": "body", "expected": EXPECTED, "found": found}
    assert len(sent) < chunks_offered / 2  # the rest was never asked for


def test_a_body_of_exactly_the_limit_is_read_whether_declared_or_chunked(
    admin: httpx.Client,
) -> None:
    body = _padded(CONFIG, LIMIT)
    headers = {"content-type": "application/json"}
    declared = admin.post("/v1/configs", content=body, headers=headers)
    assert declared.status_code == 201, declared.text
    halves = [body[: LIMIT // 2], body[LIMIT // 2 :]]
    chunked = admin.post("/v1/configs", content=iter(halves), headers=headers)
    assert chunked.status_code == 200, chunked.text  # the same config again: nothing stored
    assert chunked.json()["id"] == declared.json()["id"]


def test_one_byte_over_the_limit_is_refused(admin: httpx.Client) -> None:
    body = _padded(CONFIG, LIMIT + 1)
    response = admin.post("/v1/configs", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 413, response.text
    [located] = response.json()["problems"]
    assert located["found"] == f"{LIMIT + 1:,} bytes"


@pytest.mark.parametrize("path", JSON_ROUTES)
def test_a_request_without_a_key_is_told_so_before_its_size(server: LiveServer, path: str) -> None:
    """The key is checked before the body is looked at, however large it says it is."""
    status, _, problem = _raw_post(server, path, {"Content-Length": str(300 * 2**20)}, b"{")
    assert (status, problem["code"]) == (401, "not_authenticated")
