"""A key sent where no key belongs (a URL's `?api_key=`, a path, X-Request-ID) is never kept:
masked as `hw_****` in the access log's text and JSON, in every problem+json that quotes the
request, and in the error log lines that name its path."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from api.app import create_app
from homeward import api_keys
from homeward.cli import LOG_FORMAT, JsonFormatter, UtcFormatter
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer


@dataclass(frozen=True)
class Served:
    server: LiveServer
    app: FastAPI
    key: str


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    settings = keyed_settings(tmp_path, "masked.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "bi-gateway", Role.VIEWER).secret
    app = create_app(settings)
    with LiveServer(app) as server:
        yield Served(server, app, key)
    engine.dispose()


def _records(caplog: pytest.LogCaptureFixture, words: str) -> list[logging.LogRecord]:
    """The records whose message holds `words`, waiting for the access line (written once the
    answer is sent, so a moment after the client has it)."""
    deadline = time.monotonic() + 10
    while True:
        found = [r for r in caplog.records if words in r.getMessage()]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.02)


def test_a_key_in_the_query_is_masked_in_the_access_line_and_its_json(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    url = f"{served.server.url}/v1/plans/latest/hours.csv?api_key={served.key}"
    assert httpx.get(url, headers={"X-Request-ID": "in-url-1"}).status_code == 401
    [record] = _records(caplog, "request=in-url-1")
    line = record.getMessage()
    assert '"GET /v1/plans/latest/hours.csv?api_key=hw_**** HTTP/1.1" 401' in line, line
    assert "reason=no_key" in line
    # the answer says a URL's key is never read, and to replace it, not only that none came
    detail = httpx.get(url).json()["detail"]
    assert "found one in the URL, where a key is never read" in detail
    assert "`homeward keys rotate NAME`" in detail and served.key not in detail
    entry = JsonFormatter().format(record)  # HOMEWARD_LOG_FORMAT=json
    assert json.loads(entry)["path"] == "/v1/plans/latest/hours.csv?api_key=hw_****"
    assert served.key not in entry and served.key[3:20] not in entry


def test_a_percent_encoded_key_in_the_query_or_path_is_masked_too(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    """The line keeps the path as sent, still percent-encoded; a key with some or all of its
    characters encoded (`hw%5F...%2D...`, as a client's URL encoder may write it) was logged
    whole, unmasked, though the 422 quoting it decoded was masked."""
    caplog.set_level(logging.INFO, logger="homeward.access")
    some = served.key.replace("_", "%5F").replace("-", "%2d")
    every = "".join(f"%{ord(c):02X}" for c in served.key)
    for request_id, target in (
        ("encoded-1", f"/v1/series?api_key={some}&district=Ynys%20M%C3%B4n"),
        ("encoded-2", f"/v1/series?api_key={every}"),
        ("encoded-3", f"/v1/keys/{every}"),
    ):
        sent = {"X-Request-ID": request_id, **key_header(served.key)}
        assert httpx.get(f"{served.server.url}{target}", headers=sent).status_code in (404, 422)
        [record] = _records(caplog, f"request={request_id}")
        path = target.replace(some, "hw_****").replace(every, "hw_****")
        assert f'"GET {path} HTTP/1.1"' in record.getMessage(), record.getMessage()
        entry = JsonFormatter().format(record)  # HOMEWARD_LOG_FORMAT=json
        assert json.loads(entry)["path"] == path
        for shown in (record.getMessage(), entry):
            assert some not in shown and every not in shown and served.key[3:20] not in shown
    # the rest of the line is still as sent: an encoded space or letter that is no key's
    kept = "/v1/series?district=Ynys%20M%C3%B4n&note=hw%5Fshort"
    assert api_keys.mask_keys(kept) == kept


def test_a_key_in_the_path_is_masked_in_the_access_line_and_the_404(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    sent = {"X-Request-ID": "in-path-1", **key_header(served.key)}
    response = httpx.get(f"{served.server.url}/v1/keys/{served.key}", headers=sent)
    assert response.status_code == 404
    assert response.json()["detail"].startswith("nothing at /v1/keys/hw_****;")
    assert served.key not in response.text
    [record] = _records(caplog, "request=in-path-1")
    assert '"GET /v1/keys/hw_**** HTTP/1.1" 404' in record.getMessage()


def test_a_422_for_an_api_key_parameter_does_not_echo_the_key(served: Served) -> None:
    """Keys are taken from headers only; `?api_key=` is an unknown parameter (422), whose
    problem quotes what was sent: the key, masked."""
    url = f"{served.server.url}/v1/series?api_key={served.key}"
    refused = httpx.get(url, headers=key_header(served.key))
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["location"] == "query/api_key" and problem["found"] == "'hw_****'"
    assert "found 'hw_****'" in refused.json()["detail"]
    assert served.key not in refused.text and served.key[3:20] not in refused.text


def test_a_500_logs_its_path_with_the_key_masked(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)

    def no_session() -> None:
        raise RuntimeError("a bug in opening sessions (the test's)")

    served.app.state.session_factory = no_session
    sent = {"X-Request-ID": "bug-1", **key_header(served.key)}
    # in lower case, as a series id is (one with capitals is refused, 422, before any 500)
    in_path = served.key.lower()
    assert httpx.get(f"{served.server.url}/v1/series/{in_path}", headers=sent).status_code == 500
    [error] = _records(caplog, "unhandled error")
    assert "in GET /v1/series/hw_**** (request bug-1)" in error.getMessage()
    assert all(in_path not in r.getMessage() for r in _records(caplog, "bug-1"))


def test_a_key_sent_as_the_request_id_is_not_kept_as_one(
    served: Served, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="homeward.access")
    response = httpx.get(f"{served.server.url}/livez", headers={"X-Request-ID": served.key})
    assert response.status_code == 200
    replaced = response.headers["X-Request-ID"]
    assert replaced != served.key and len(replaced) == 16
    assert len(_records(caplog, f"request={replaced}")) == 1
    assert not any(served.key in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("formatter", [UtcFormatter(LOG_FORMAT), JsonFormatter()])
def test_a_500_traceback_quoting_the_key_is_logged_masked(
    served: Served, caplog: pytest.LogCaptureFixture, formatter: logging.Formatter
) -> None:
    """An exception's message can quote what the request sent (here the path's series id);
    the traceback is logged whole, so its text is masked as the messages are."""
    caplog.set_level(logging.INFO)

    def no_session() -> None:
        raise RuntimeError(f"no series called {served.key}")

    served.app.state.session_factory = no_session
    sent = {"X-Request-ID": "bug-2", **key_header(served.key)}
    series = served.key.lower()  # a series id is lower case (capitals: a 422)
    assert httpx.get(f"{served.server.url}/v1/series/{series}", headers=sent).status_code == 500
    [error] = _records(caplog, "unhandled error")
    assert error.exc_info is not None
    error.exc_text = None  # as the service's own handler meets it: not yet formatted
    logged = formatter.format(error)
    assert "RuntimeError: no series called hw_****" in logged, logged
    assert served.key not in logged and served.key[3:20] not in logged
