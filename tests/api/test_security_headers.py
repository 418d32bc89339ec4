"""Security headers on every answer (pages, /v1 JSON and CSV, 304s, problems), /v1 never stored
by a browser or proxy, the documentation off with HOMEWARD_DOCS=false, and what /healthz tells
a caller without a key of the build serving (api/security_headers.py, api/routes/docs.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from homeward.clock import code_version
from homeward.roles import Role
from homeward.settings import Settings
from tests.api.conftest import key_header, keyed_settings, migrated
from tests.conftest import LiveServer

ALWAYS = {
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


def csp(answer: httpx.Response) -> dict[str, set[str]]:
    """An answer's Content-Security-Policy as directive -> sources."""
    policy = answer.headers["content-security-policy"]
    directives = [d.split() for d in policy.split(";") if d.strip()]
    return {name: set(sources) for name, *sources in directives}


def _assert_secured(answer: httpx.Response) -> None:
    for name, value in ALWAYS.items():
        assert answer.headers.get(name) == value, (answer.request.url, name)
    policy = csp(answer)
    assert policy["frame-ancestors"] == {"'none'"} and policy["base-uri"] == {"'none'"}


def _assert_not_a_page(answer: httpx.Response) -> None:
    """JSON, CSV, problems, files: opened as a document, they may load and run nothing."""
    _assert_secured(answer)
    assert csp(answer)["default-src"] == {"'none'"}, answer.request.url


def test_the_dashboard_page_loads_only_from_its_own_origin(demo_server: LiveServer) -> None:
    page = httpx.get(demo_server.url + "/", timeout=30)
    assert page.status_code == 200
    _assert_secured(page)
    policy = csp(page)
    for directive in ("default-src", "script-src", "style-src", "connect-src"):
        assert policy[directive] == {"'self'"}, directive  # no inline script or style
    assert policy["img-src"] == {"'self'", "data:"}  # its icon is a data: URL
    assert policy["object-src"] == {"'none'"} and policy["form-action"] == {"'self'"}
    head = httpx.head(demo_server.url + "/", timeout=30)
    assert head.headers["content-security-policy"] == page.headers["content-security-policy"]
    for asset in ("/static/dashboard.js", "/static/dashboard.css", "/static/docs.js"):
        served = httpx.get(demo_server.url + asset, timeout=30)
        assert served.status_code == 200, asset
        _assert_not_a_page(served)


def test_v1_answers_json_csv_and_304_are_secured_and_never_stored(
    demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    with httpx.Client(
        base_url=demo_server.url, headers=key_header(role_keys[Role.VIEWER]), timeout=60
    ) as client:
        plan = client.get("/v1/plans/latest")
        csv = client.get("/v1/plans/latest/hours.csv")
        tag = plan.headers["etag"]
        not_modified = client.get("/v1/plans/latest", headers={"If-None-Match": tag})
        me = client.get("/v1/keys/me")
    statuses = (plan.status_code, csv.status_code, not_modified.status_code, me.status_code)
    assert statuses == (200, 200, 304, 200)
    assert csv.headers["content-type"].startswith("text/csv")
    for answer in (plan, csv, not_modified, me):
        _assert_not_a_page(answer)
        assert answer.headers["cache-control"] == "no-store", answer.request.url
    assert not_modified.headers["etag"] == tag  # conditional GET still works


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/plans/latest", 401),  # no key
        ("GET", "/v1/plans/999999", 404),
        ("GET", "/v1/nothing-here", 404),
        ("GET", "/nothing-here", 404),
        ("GET", "/v1/plans?limit=0", 422),
        ("DELETE", "/healthz", 405),
    ],
)
def test_problems_are_secured_too(
    demo_server: LiveServer, role_keys: dict[Role, str], method: str, path: str, status: int
) -> None:
    headers = {} if status == 401 else key_header(role_keys[Role.VIEWER])
    answer = httpx.request(method, demo_server.url + path, headers=headers, timeout=30)
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    _assert_not_a_page(answer)
    if path.startswith("/v1/"):
        assert answer.headers["cache-control"] == "no-store"


@pytest.mark.parametrize("path", ["/livez", "/readyz", "/healthz", "/openapi.json"])
def test_probes_and_the_openapi_document_are_secured(demo_server: LiveServer, path: str) -> None:
    answer = httpx.get(demo_server.url + path, timeout=30)
    assert answer.status_code == 200
    _assert_not_a_page(answer)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_documentation_runs_no_inline_script(demo_server: LiveServer, page: str) -> None:
    answer = httpx.get(demo_server.url + page, timeout=30)
    assert answer.status_code == 200
    _assert_secured(answer)
    policy = csp(answer)
    assert policy["script-src"] == {"'self'"}
    assert "<script>" not in answer.text  # every script is a file: src=...
    assert "<style" not in answer.text
    # Swagger UI needs no inline style; ReDoc writes its own as it renders
    assert policy["style-src"] == ({"'self'"} if page == "/docs" else {"'self'", "'unsafe-inline'"})


@pytest.fixture(scope="module")
def docs_off(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    settings = keyed_settings(Path(tmp_path_factory.mktemp("docs-off")), "off.db", docs=False)
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as live:
        yield live
    engine.dispose()


@pytest.mark.parametrize("path", ["/docs", "/redoc", "/openapi.json", "/docs/oauth2-redirect"])
def test_homeward_docs_false_serves_no_map_of_the_api(docs_off: LiveServer, path: str) -> None:
    answer = httpx.get(docs_off.url + path, timeout=30)
    assert answer.status_code == 404
    _assert_not_a_page(answer)
    assert "lists every endpoint" not in answer.json()["detail"]  # not pointing at a 404


def test_homeward_docs_false_keeps_the_dashboard(docs_off: LiveServer) -> None:
    assert httpx.get(docs_off.url + "/", timeout=30).status_code == 200
    assert httpx.get(docs_off.url + "/healthz", timeout=30).status_code == 200


def test_docs_default_on_and_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings.model_fields["docs"].default is True
    monkeypatch.setenv("HOMEWARD_DOCS", "false")
    assert Settings().docs is False


def test_with_keys_required_no_caller_without_one_learns_the_commit(
    demo_server: LiveServer,
) -> None:
    release = code_version().partition("+")[0]
    health = httpx.get(demo_server.url + "/healthz", timeout=30).json()
    document = httpx.get(demo_server.url + "/openapi.json", timeout=30).json()
    assert health["version"] == release and document["info"]["version"] == release
    assert "+" not in health["version"]


def test_with_keys_off_healthz_gives_the_full_version(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'open.db'}",
        scheduler_enabled=False,
        auth="off",
    )
    engine, _factory = migrated(settings)
    with LiveServer(create_app(settings)) as live:
        health = httpx.get(live.url + "/healthz", timeout=30).json()
    engine.dispose()
    assert health["version"] == code_version()


def test_a_key_holder_reads_the_commit_from_metrics(
    demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """A monitor that checks a deploy went out reads the full version with its key."""
    scrape = httpx.get(
        demo_server.url + "/metrics", headers=key_header(role_keys[Role.VIEWER]), timeout=30
    )
    assert scrape.status_code == 200
    assert f'homeward_build_info{{version="{code_version()}"}} 1.0' in scrape.text
