"""API keys over real HTTP: 401 without a valid key, 403 naming the roles, each role's rights."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from api.app import create_app
from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase, key_header
from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"


def _assert_401(response: httpx.Response, *words: str) -> None:
    """A 401 saying `words`; its challenge names a key that was sent and refused (unknown,
    revoked or expired) an invalid token, as RFC 6750 3.1 has it, where none was sent."""
    assert response.status_code == 401, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    detail = response.json()["detail"]
    refused = "not known" in detail or "revoked" in detail or "expired" in detail
    challenge = 'Bearer error="invalid_token"' if refused else "Bearer"
    assert response.headers["www-authenticate"] == challenge
    for word in words:
        assert word in response.json()["detail"]


def test_no_key_is_401_problem_json(demo_server: LiveServer) -> None:
    response = httpx.get(f"{demo_server.url}/v1/plans/latest")
    _assert_401(response, "Authorization: Bearer")


def test_unknown_key_is_401(demo_server: LiveServer) -> None:
    response = httpx.get(
        f"{demo_server.url}/v1/plans/latest", headers=key_header("hw_not-a-real-key")
    )
    _assert_401(response, "not known")


def test_other_authorization_schemes_are_not_keys(
    demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    # a key after Basic is no user:password pair (tests/api/test_basic_auth.py takes one)
    basic = {"Authorization": f"Basic {role_keys[Role.ADMIN]}"}
    _assert_401(httpx.get(f"{demo_server.url}/v1/series", headers=basic), "not base64")
    # said as sent, not 'this request needs an API key' as if none had been
    token = {"Authorization": f"Token {role_keys[Role.ADMIN]}"}
    refused = httpx.get(f"{demo_server.url}/v1/series", headers=token)
    assert refused.status_code == 401
    assert refused.json()["detail"] == (
        "expected `Authorization: Bearer <key>` (or the key in an `X-API-Key` header, or as the "
        "password of Basic credentials), found an Authorization header of scheme 'Token'"
    )
    # a key sent alone is not echoed back; an empty Bearer is said to be empty
    bare = httpx.get(f"{demo_server.url}/v1/series", headers={"Authorization": "hw_secret123"})
    assert bare.status_code == 401 and "hw_secret123" not in bare.text
    assert "no scheme before it" in bare.json()["detail"]
    empty = httpx.get(f"{demo_server.url}/v1/series", headers={"Authorization": "Bearer"})
    assert empty.status_code == 401 and "'Bearer' with no key after it" in empty.json()["detail"]


def test_x_api_key_header_is_accepted(demo_server: LiveServer, role_keys: dict[Role, str]) -> None:
    response = httpx.get(
        f"{demo_server.url}/v1/plans/latest", headers={"X-API-Key": role_keys[Role.VIEWER]}
    )
    assert response.status_code == 200 and response.json()["status"] == "optimal"


def test_revoked_key_is_401(demo_server: LiveServer, demo_db: DemoDatabase) -> None:
    with transaction(demo_db.factory) as session:
        secret = api_keys.create_key(session, "soon-revoked", Role.ADMIN).secret
    url = f"{demo_server.url}/v1/series"
    assert httpx.get(url, headers=key_header(secret)).status_code == 200
    with transaction(demo_db.factory) as session:
        api_keys.revoke_key(session, "soon-revoked")
    refused = httpx.get(url, headers=key_header(secret))
    _assert_401(refused, "'soon-revoked'", "revoked")
    # a code of its own, as a client cannot tell it from an unknown key by the status alone
    assert refused.json()["code"] == "key_revoked"
    assert "expires_at" not in refused.json()


def test_no_key_and_an_unknown_key_are_not_authenticated(demo_server: LiveServer) -> None:
    url = f"{demo_server.url}/v1/series"
    for sent in ({}, key_header("hw_not-a-real-key"), {"Authorization": "Token x"}):
        refused = httpx.get(url, headers=sent)
        assert (refused.status_code, refused.json()["code"]) == (401, "not_authenticated")


def test_viewer_posting_a_plan_is_403_naming_the_roles(viewer: httpx.Client) -> None:
    response = viewer.post("/v1/plans", json={})
    assert response.status_code == 403
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["role_needed"] == ["planner", "finance", "admin"]
    assert body["role_found"] == "viewer"
    assert "planner, finance or admin" in body["detail"] and "viewer" in body["detail"]
    assert "POST /v1/plans" in body["detail"]


def test_viewer_reads_everything(viewer: httpx.Client) -> None:
    latest = viewer.get("/v1/plans/latest").json()
    for path in (
        "/v1/series",
        "/v1/runs",
        f"/v1/runs/{latest['run_id']}",
        f"/v1/plans/{latest['id']}",
        "/v1/plans",
        "/v1/configs/active",
        f"/v1/configs/{latest['config_id']}",
        "/v1/forecasts/referrals/ot/rugby",
        "/v1/observations/referrals/ot/rugby",
        "/v1/winter/referrals/ot/rugby",
    ):
        assert viewer.get(path).status_code == 200, path


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/v1/runs"), ("POST", "/v1/configs"), ("POST", "/v1/observations")],
)
def test_viewer_may_not_write(viewer: httpx.Client, method: str, path: str) -> None:
    response = viewer.request(method, path, content=b"")
    assert response.status_code == 403 and response.json()["role_found"] == "viewer"


def test_planner_plans_but_may_not_store_configs_or_upload(planner: httpx.Client) -> None:
    plan = planner.post("/v1/plans", json={})
    assert plan.status_code == 201 and plan.json()["status"] == "optimal"
    config = planner.get("/v1/configs/active").json()["body"]
    refused = planner.post("/v1/configs", json=config)
    assert refused.status_code == 403
    assert refused.json()["role_needed"] == ["finance", "admin"]
    upload = planner.post("/v1/observations", content=b"", headers={"content-type": "text/csv"})
    assert upload.status_code == 403 and upload.json()["role_needed"] == ["admin"]


def test_finance_plans_what_ifs_and_stores_configs_but_may_not_run(
    finance: httpx.Client,
) -> None:
    config = finance.get("/v1/configs/active").json()
    # the shared database has no hospital-pressure series, which a config stored now may not
    # name (its plans were made without the winter uplift anyway)
    body = {**config["body"], "winter": None, "name": "finance's copy"}
    stored = finance.post("/v1/configs", json=body)
    assert stored.status_code == 201 and stored.json()["body"]["name"] == "finance's copy"
    what_if = finance.post("/v1/plans", json={"config": {**body, "name": "finance's what-if"}})
    assert what_if.status_code == 201 and what_if.json()["status"] == "optimal"
    refused = finance.post("/v1/runs")
    assert refused.status_code == 403
    assert refused.json()["role_needed"] == ["planner", "admin"]
    assert refused.json()["role_found"] == "finance"


def test_admin_does_everything(admin: httpx.Client) -> None:
    # no hospital-pressure series is stored here (see the finance test), so the copy drops winter
    config = {**admin.get("/v1/configs/active").json()["body"], "winter": None}
    config["name"] = "admin's copy"
    assert admin.post("/v1/configs", json=config).status_code == 201
    assert admin.post("/v1/configs", json=config).status_code == 200  # already active
    assert admin.post("/v1/plans", json={}).status_code == 201
    upload = admin.post(
        "/v1/observations",
        content="unique_id,ds,y\nreferrals/ot/admin-only,2025-01-06,3\n",
        headers={"content-type": "text/csv"},
    )
    assert upload.status_code == 201, upload.text


def test_every_v1_operation_needs_a_key_and_says_so_in_openapi(demo_server: LiveServer) -> None:
    spec = httpx.get(f"{demo_server.url}/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": "an API key: `Authorization: Bearer <key>`",
    }
    assert schemes["APIKeyHeader"]["name"] == "X-API-Key"
    operations = [
        (method, path, op) for path, item in spec["paths"].items() for method, op in item.items()
    ]
    assert len([o for o in operations if o[1].startswith("/v1/")]) >= 13
    for method, path, op in operations:
        if not path.startswith("/v1/"):
            # the probes and the dashboard take no key; /metrics takes one (with keys on and
            # HOMEWARD_METRICS_AUTH unset), checked inside the route so it answers while the
            # database is down
            assert ("security" in op) == (path == "/metrics"), path
            continue
        assert {"HTTPBearer": []} in op["security"], (method, path)
        concrete = re.sub(r"\{(\w+)(:path)?\}", "1", path)
        response = httpx.request(method.upper(), demo_server.url + concrete, content=b"")
        assert response.status_code == 401, (method, path, response.status_code)


def test_a_malformed_body_without_a_key_is_401_not_422(demo_server: LiveServer) -> None:
    """Who may ask is decided before the body is read: no key learns nothing about the body."""
    spec = httpx.get(f"{demo_server.url}/openapi.json").json()
    malformed = {"content-type": "application/json"}
    for path, item in spec["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method in item:
            concrete = re.sub(r"\{(\w+)(:path)?\}", "1", path)
            response = httpx.request(
                method.upper(), demo_server.url + concrete, content=b"{bad", headers=malformed
            )
            assert response.status_code == 401, (method, path, response.text)
            assert response.headers["content-type"].startswith(PROBLEM_JSON)


def test_a_malformed_body_with_too_weak_a_key_is_403(viewer: httpx.Client) -> None:
    for path in ("/v1/plans", "/v1/configs"):
        response = viewer.post(path, content=b"{bad", headers={"content-type": "application/json"})
        assert response.status_code == 403, (path, response.text)
        assert response.json()["role_found"] == "viewer"


def test_health_and_dashboard_stay_open(demo_server: LiveServer) -> None:
    assert httpx.get(f"{demo_server.url}/healthz").status_code == 200
    page = httpx.get(f"{demo_server.url}/")
    assert page.status_code == 200 and "api-key" in page.text
    assert httpx.get(f"{demo_server.url}/static/dashboard.js").status_code == 200


def test_keys_are_stored_as_sha256_only(demo_db: DemoDatabase, role_keys: dict[Role, str]) -> None:
    db_path = Path(demo_db.settings.resolved_database_url.removeprefix("sqlite:///"))
    with sqlite3.connect(db_path) as conn:
        rows = dict(conn.execute("SELECT name, key_hash FROM api_keys").fetchall())
    for role, secret in role_keys.items():
        assert rows[f"test-{role.value}"] == hashlib.sha256(secret.encode()).hexdigest()
    files = [db_path, *db_path.parent.glob(db_path.name + "-*")]  # with the WAL
    stored = b"".join(f.read_bytes() for f in files)
    for secret in role_keys.values():
        assert secret.startswith("hw_") and len(secret) > 40
        assert secret.encode() not in stored


def test_auth_off_serves_every_request_without_a_key(demo_db: DemoDatabase) -> None:
    settings = demo_db.settings.model_copy(update={"auth": "off"})
    with LiveServer(create_app(settings)) as server:
        assert httpx.get(f"{server.url}/v1/plans/latest").status_code == 200
        assert httpx.post(f"{server.url}/v1/plans", json={}, timeout=60).status_code == 201


def test_a_finance_keys_plan_of_the_active_config_is_a_what_if_never_the_latest(
    finance: httpx.Client, viewer: httpx.Client
) -> None:
    """Finance makes what-ifs and may not run the pipeline (README's role table): its `{}`
    (the active config unchanged) was stored as the active config's plan and became
    GET /v1/plans/latest, what every dashboard shows."""
    latest = viewer.get("/v1/plans/latest").json()["id"]
    made = finance.post("/v1/plans", json={})
    assert made.status_code == 201, made.text
    assert made.json()["scenario"] is True
    assert viewer.get("/v1/plans/latest").json()["id"] == latest
