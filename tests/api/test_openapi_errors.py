"""Every error a route sends is in the OpenAPI document, with the one problem body it has.

`ROUTES` says which error statuses each route sends, and how to make it send each one. It is not
taken on trust: every (route, status) pair is triggered through the real app over HTTP (a fresh
database with no config, forecasts or plans, whose pipeline lock another process holds, for the
refusals; the same app with its database gone for 503, and with a bug in its sessions for 500),
and the answer is checked against the ProblemPublic schema /openapi.json serves.
The document must then list exactly those statuses for each route.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from http import HTTPStatus
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import create_engine

from api.app import create_app
from api.host_check import PROBES
from api.plan_tables import PlanTable, table_filters
from api.routes import observations
from api.schemas import ProblemPublic
from homeward import api_keys, demo_config, repository
from homeward.pipeline import LOCK_NAME
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import session_factory, transaction
from tests.api.conftest import HORIZON_WEEKS, key_header, keyed_settings, migrated
from tests.conftest import LiveServer

PROBLEM_JSON = "application/problem+json"
CONFIG = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
CSV = b"unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,31\nreferrals/ot/rugby,2025-01-13,29\n"
RATES = [0.1, 0.2]
# a series the empty database holds from the synthetic demo's loader (see `servers`)
SYNTHETIC = "synthetic/s"
SYNTHETIC_CSV = f"unique_id,ds,y\n{SYNTHETIC},2025-01-20,3\n".encode()
# over HOMEWARD_MAX_JSON_BYTES (1 MiB, the servers' default): refused before it is parsed
OVER_JSON_LIMIT = b'{"name": "' + b"A" * 2**20 + b'"}'


@dataclass(frozen=True)
class Ask:
    """One request. Who sends it is decided by the status it should get: 401 no key, 403 a
    viewer key, 503 the server whose database is gone, 500 the one whose sessions fail,
    anything else an admin key."""

    method: str
    path: str
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    # a 503 from the server whose database is gone with keys on (GET /metrics answers
    # without the database when keys are off; with them on, a key it has not seen is a 503)
    keys_on: bool = False


def _upload(content: bytes) -> Ask:
    return Ask("POST", "/v1/observations", content=content, headers={"content-type": "text/csv"})


def _too_large(path: str) -> Ask:
    return Ask("POST", path, content=OVER_JSON_LIMIT, headers={"content-type": "application/json"})


SERIES = "/v1/series"
RUNS = "/v1/runs"
PLANS = "/v1/plans"

# route (as the document names it) -> every error status it sends -> a request that gets it
ROUTES: dict[tuple[str, str], dict[int, Ask]] = {
    ("GET", "/healthz"): {500: Ask("GET", "/healthz"), 503: Ask("GET", "/healthz")},
    ("GET", "/livez"): {},  # touches no database: it answers while the process serves
    ("GET", "/metrics"): {
        401: Ask("GET", "/metrics"),
        500: Ask("GET", "/metrics"),  # its read of the runs table
        503: Ask("GET", "/metrics", keys_on=True),
    },
    ("GET", "/readyz"): {500: Ask("GET", "/readyz"), 503: Ask("GET", "/readyz")},
    ("GET", "/v1/keys/me"): {
        401: Ask("GET", "/v1/keys/me"),
        422: Ask("GET", "/v1/keys/me", params={"role": "admin"}),  # takes no parameter
        500: Ask("GET", "/v1/keys/me"),
        503: Ask("GET", "/v1/keys/me"),  # keys off: the route's own read of the database
    },
    ("GET", SERIES): {
        401: Ask("GET", SERIES),
        422: Ask("GET", SERIES, params={"kind": "neither"}),
        500: Ask("GET", SERIES),
        503: Ask("GET", SERIES),
    },
    ("GET", "/v1/observations/{series_id}"): {
        401: Ask("GET", "/v1/observations/referrals/ot/rugby"),
        404: Ask("GET", "/v1/observations/referrals/ot/rugby"),
        422: Ask("GET", "/v1/observations/referrals/ot/rugby", params={"last": "0"}),
        500: Ask("GET", "/v1/observations/referrals/ot/rugby"),
        503: Ask("GET", "/v1/observations/referrals/ot/rugby"),
    },
    ("POST", "/v1/observations"): {
        401: _upload(CSV),
        403: _upload(CSV),
        409: _upload(SYNTHETIC_CSV),  # into the synthetic demo's series, without replace
        413: _upload(CSV),  # sent with the upload limit lowered below its size
        422: _upload(b"unique_id,ds\n"),
        500: _upload(CSV),
        503: _upload(CSV),
    },
    ("DELETE", SERIES): {
        401: Ask("DELETE", SERIES, params={"prefix": "referrals/"}),
        403: Ask("DELETE", SERIES, params={"prefix": "referrals/"}),
        404: Ask("DELETE", SERIES, params={"prefix": "referrals/"}),  # none stored
        409: Ask("DELETE", SERIES, params={"synthetic": "true"}),  # another's run holds the lock
        422: Ask("DELETE", SERIES),  # no prefix
        500: Ask("DELETE", SERIES, params={"prefix": "referrals/"}),
        503: Ask("DELETE", SERIES, params={"prefix": "referrals/"}),
    },
    ("DELETE", "/v1/series/{series_id}"): {
        401: Ask("DELETE", "/v1/series/referrals/ot/rugby"),
        403: Ask("DELETE", "/v1/series/referrals/ot/rugby"),
        404: Ask("DELETE", "/v1/series/referrals/ot/rugby"),  # none stored
        409: Ask("DELETE", f"/v1/series/{SYNTHETIC}"),  # another process's run holds the lock
        422: Ask("DELETE", "/v1/series/referrals/ot/rugby", params={"force": "true"}),
        500: Ask("DELETE", "/v1/series/referrals/ot/rugby"),
        503: Ask("DELETE", "/v1/series/referrals/ot/rugby"),
    },
    ("GET", "/v1/series/{series_id}"): {
        401: Ask("GET", "/v1/series/referrals/ot/rugby"),
        404: Ask("GET", "/v1/series/referrals/ot/rugby"),
        422: Ask("GET", "/v1/series/referrals/ot/rugby", params={"kind": "total"}),
        500: Ask("GET", "/v1/series/referrals/ot/rugby"),
        503: Ask("GET", "/v1/series/referrals/ot/rugby"),
    },
    ("GET", "/v1/forecasts/{series_id}"): {
        401: Ask("GET", "/v1/forecasts/referrals/ot/rugby"),
        404: Ask("GET", "/v1/forecasts/referrals/ot/rugby"),
        422: Ask("GET", "/v1/forecasts/referrals/ot/rugby", params={"horizon": "4"}),
        500: Ask("GET", "/v1/forecasts/referrals/ot/rugby"),
        503: Ask("GET", "/v1/forecasts/referrals/ot/rugby"),
    },
    ("GET", "/v1/winter/{series_id}"): {
        401: Ask("GET", "/v1/winter/referrals/ot/rugby"),
        404: Ask("GET", "/v1/winter/referrals/ot/rugby"),
        422: Ask("GET", "/v1/winter/referrals/ot/rugby", params={"year": "2026"}),
        500: Ask("GET", "/v1/winter/referrals/ot/rugby"),
        503: Ask("GET", "/v1/winter/referrals/ot/rugby"),
    },
    ("GET", "/v1/configs"): {
        401: Ask("GET", "/v1/configs"),
        422: Ask("GET", "/v1/configs", params={"scenario": "perhaps"}),
        500: Ask("GET", "/v1/configs"),
        503: Ask("GET", "/v1/configs"),
    },
    ("GET", "/v1/configs/active"): {
        401: Ask("GET", "/v1/configs/active"),
        404: Ask("GET", "/v1/configs/active"),
        422: Ask("GET", "/v1/configs/active", params={"version": "2"}),
        500: Ask("GET", "/v1/configs/active"),
        503: Ask("GET", "/v1/configs/active"),
    },
    ("GET", "/v1/configs/{config_id}"): {
        401: Ask("GET", "/v1/configs/1"),
        404: Ask("GET", "/v1/configs/1"),
        422: Ask("GET", "/v1/configs/0"),
        500: Ask("GET", "/v1/configs/1"),
        503: Ask("GET", "/v1/configs/1"),
    },
    ("POST", "/v1/configs"): {
        401: Ask("POST", "/v1/configs", json=CONFIG),
        403: Ask("POST", "/v1/configs", json=CONFIG),
        413: _too_large("/v1/configs"),
        422: Ask("POST", "/v1/configs", json={**CONFIG, "revenue_budget_gbp_per_period": -5}),
        500: Ask("POST", "/v1/configs", json=CONFIG),
        503: Ask("POST", "/v1/configs", json=CONFIG),
    },
    ("GET", PLANS): {
        401: Ask("GET", PLANS),
        422: Ask("GET", PLANS, params={"limit": "0"}),
        500: Ask("GET", PLANS),
        503: Ask("GET", PLANS),
    },
    ("GET", "/v1/plans/latest"): {
        401: Ask("GET", "/v1/plans/latest"),
        404: Ask("GET", "/v1/plans/latest"),
        422: Ask("GET", "/v1/plans/latest", params={"scenario": "true"}),
        500: Ask("GET", "/v1/plans/latest"),
        503: Ask("GET", "/v1/plans/latest"),
    },
    ("GET", "/v1/plans/latest/{table}.csv"): {
        401: Ask("GET", "/v1/plans/latest/hours.csv"),
        404: Ask("GET", "/v1/plans/latest/hours.csv"),
        422: Ask("GET", "/v1/plans/latest/nope.csv"),
        500: Ask("GET", "/v1/plans/latest/hours.csv"),
        503: Ask("GET", "/v1/plans/latest/hours.csv"),
    },
    ("GET", "/v1/plans/{plan_id}/{table}.csv"): {
        401: Ask("GET", "/v1/plans/1/hours.csv"),
        404: Ask("GET", "/v1/plans/1/hours.csv"),
        422: Ask("GET", "/v1/plans/0/hours.csv"),
        500: Ask("GET", "/v1/plans/1/hours.csv"),
        503: Ask("GET", "/v1/plans/1/hours.csv"),
    },
    **{
        route: {
            status: Ask("GET", path, params=params if status == 422 else {})
            for status in (401, 404, 422, 500, 503)
        }
        for table in PlanTable
        # a table without a `ds` takes no window: its 422 is a parameter it does not take
        for params in [
            {"from": "2026-02-02", "to": "2026-01-05"}
            if "from" in table_filters(table)
            else {"page": "2"}
        ]
        for route, path in (
            (("GET", f"/v1/plans/latest/{table}"), f"/v1/plans/latest/{table}"),
            (("GET", f"/v1/plans/{{plan_id}}/{table}"), f"/v1/plans/1/{table}"),
        )
    },
    ("GET", "/v1/plans/{plan_id}/compare/{other_id}"): {
        401: Ask("GET", "/v1/plans/1/compare/2"),
        404: Ask("GET", "/v1/plans/1/compare/2"),
        422: Ask("GET", "/v1/plans/1/compare/0"),
        500: Ask("GET", "/v1/plans/1/compare/2"),
        503: Ask("GET", "/v1/plans/1/compare/2"),
    },
    ("GET", "/v1/metrics.csv"): {
        401: Ask("GET", "/v1/metrics.csv"),
        404: Ask("GET", "/v1/metrics.csv", params={"prefix": "nothing/"}),
        422: Ask("GET", "/v1/metrics.csv", params={"chosen": "perhaps"}),
        500: Ask("GET", "/v1/metrics.csv"),
        503: Ask("GET", "/v1/metrics.csv"),
    },
    ("GET", "/v1/winter.csv"): {
        401: Ask("GET", "/v1/winter.csv"),
        404: Ask("GET", "/v1/winter.csv", params={"prefix": "nothing/"}),
        422: Ask("GET", "/v1/winter.csv", params={"prefix": "x" * 201}),
        500: Ask("GET", "/v1/winter.csv"),
        503: Ask("GET", "/v1/winter.csv"),
    },
    ("GET", "/v1/forecasts.csv"): {
        401: Ask("GET", "/v1/forecasts.csv"),
        404: Ask("GET", "/v1/forecasts.csv", params={"prefix": "nothing/"}),
        422: Ask("GET", "/v1/forecasts.csv", params={"prefix": "x" * 201}),
        500: Ask("GET", "/v1/forecasts.csv"),
        503: Ask("GET", "/v1/forecasts.csv"),
    },
    ("GET", "/v1/observations.csv"): {
        401: Ask("GET", "/v1/observations.csv"),
        404: Ask("GET", "/v1/observations.csv", params={"prefix": "nothing/"}),
        422: Ask("GET", "/v1/observations.csv", params={"prefix": "x" * 201}),
        500: Ask("GET", "/v1/observations.csv"),
        503: Ask("GET", "/v1/observations.csv"),
    },
    ("GET", "/v1/plans/{plan_id}"): {
        401: Ask("GET", "/v1/plans/1"),
        404: Ask("GET", "/v1/plans/1"),
        422: Ask("GET", "/v1/plans/0"),
        500: Ask("GET", "/v1/plans/1"),
        503: Ask("GET", "/v1/plans/1"),
    },
    ("POST", PLANS): {
        401: Ask("POST", PLANS, json={}),
        403: Ask("POST", PLANS, json={}),
        404: Ask("POST", PLANS, json={}),  # no config sent, none stored
        409: Ask("POST", PLANS, json={"config": CONFIG}),  # no forecasts stored
        413: _too_large(PLANS),
        422: Ask("POST", PLANS, json={"solver": "glpk"}),
        429: Ask("POST", PLANS, json={}, headers={"Prefer": "respond-async"}),
        500: Ask("POST", PLANS, json={}),
        503: Ask("POST", PLANS, json={}),
    },
    ("POST", "/v1/plans/sweeps"): {
        401: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
        403: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
        404: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
        409: Ask("POST", "/v1/plans/sweeps", json={"config": CONFIG, "dfg_fee_rates": RATES}),
        413: _too_large("/v1/plans/sweeps"),
        422: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": [0.1]}),
        429: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
        500: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
        503: Ask("POST", "/v1/plans/sweeps", json={"dfg_fee_rates": RATES}),
    },
    ("GET", RUNS): {
        401: Ask("GET", RUNS),
        422: Ask("GET", RUNS, params={"offset": "-1"}),
        500: Ask("GET", RUNS),
        503: Ask("GET", RUNS),
    },
    ("GET", "/v1/runs/{run_id}/sweep.csv"): {
        401: Ask("GET", "/v1/runs/1/sweep.csv"),
        404: Ask("GET", "/v1/runs/1/sweep.csv"),
        422: Ask("GET", "/v1/runs/0/sweep.csv"),
        500: Ask("GET", "/v1/runs/1/sweep.csv"),
        503: Ask("GET", "/v1/runs/1/sweep.csv"),
    },
    ("GET", "/v1/runs/{run_id}"): {
        401: Ask("GET", "/v1/runs/1"),
        404: Ask("GET", "/v1/runs/1"),
        422: Ask("GET", "/v1/runs/0"),
        500: Ask("GET", "/v1/runs/1"),
        503: Ask("GET", "/v1/runs/1"),
    },
    ("GET", "/v1/audit"): {
        401: Ask("GET", "/v1/audit"),
        403: Ask("GET", "/v1/audit"),  # an admin's alone
        422: Ask("GET", "/v1/audit", params={"action": "rename"}),
        500: Ask("GET", "/v1/audit"),
        503: Ask("GET", "/v1/audit"),
    },
    ("POST", RUNS): {
        401: Ask("POST", RUNS),
        403: Ask("POST", RUNS),
        409: Ask("POST", RUNS),  # another process's run holds the pipeline lock
        422: Ask("POST", RUNS, params={"series": "referrals/ot/rugby"}),
        500: Ask("POST", RUNS),
        503: Ask("POST", RUNS),
    },
}
PAIRS = [(route, status) for route, asks in ROUTES.items() for status in asks]
# the problem's `code` a client branches on: the status's own unless the situation has a finer
# one (the database is empty: no config, plan or forecast yet; another process's run holds
# the pipeline lock)
STATUS_CODES = {
    401: "not_authenticated",
    403: "role_too_weak",
    404: "not_found",
    413: "body_too_large",
    422: "validation_failed",
    429: "too_many_jobs",
    500: "internal_error",
    503: "database_unavailable",
}
CODES = {
    (("GET", "/v1/configs/active"), 404): "no_config_yet",
    (("GET", "/v1/plans/latest"), 404): "no_plan_yet",
    (("GET", "/v1/plans/latest/{table}.csv"), 404): "no_plan_yet",
    **{(("GET", f"/v1/plans/latest/{table}"), 404): "no_plan_yet" for table in PlanTable},
    (("POST", PLANS), 404): "no_config_yet",
    (("POST", "/v1/plans/sweeps"), 404): "no_config_yet",
    (("POST", PLANS), 409): "not_forecast_yet",
    (("POST", "/v1/plans/sweeps"), 409): "not_forecast_yet",
    (("POST", "/v1/observations"), 409): "demo_series",
    (("DELETE", SERIES), 409): "in_progress",
    (("DELETE", "/v1/series/{series_id}"), 409): "in_progress",
    (("POST", RUNS), 409): "in_progress",
}


@dataclass(frozen=True)
class Servers:
    """The app on an empty database (keys required), the same app with its database gone
    and with sessions that fail (keys off, so the route itself meets them), and one key per
    role."""

    empty: LiveServer
    gone: LiveServer
    broken: LiveServer
    keys: dict[Role, str]
    gone_keys_on: LiveServer


def _no_session() -> None:
    raise RuntimeError("a bug in opening sessions (the test's)")


def _server_with_its_database_gone(
    tmp: Path, broken: bool = False, keys_on: bool = False
) -> Iterator[LiveServer]:
    """Sessions on a missing file (OperationalError: 503), or, `broken`, sessions that cannot
    be made at all (any other error: 500); keys off unless `keys_on`."""
    name = "broken.db" if broken else "gone-keys-on.db" if keys_on else "gone.db"
    settings = Settings(
        data_dir=tmp, database_url=f"sqlite:///{tmp / name}", scheduler_enabled=False
    )
    app = create_app(settings.model_copy(update={"auth": "keys" if keys_on else "off"}))
    with LiveServer(app) as server:
        # started (and migrated) on a real file; from now on every session opens a missing one
        missing = create_engine(f"sqlite:///{tmp / 'no-such-folder' / name}")
        app.state.session_factory = _no_session if broken else session_factory(missing)
        yield server
        missing.dispose()


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    tmp = tmp_path_factory.mktemp("openapi-errors")
    settings = keyed_settings(tmp, "empty.db", forecast_horizon_weeks=HORIZON_WEEKS)
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        keys = {r: api_keys.create_key(session, f"errors-{r.value}", r).secret for r in Role}
        demo = pd.DataFrame(
            {"unique_id": SYNTHETIC, "ds": pd.to_datetime(["2025-01-06", "2025-01-13"]), "y": 1.0}
        )
        repository.store_observations(session, demo, repository.SYNTHETIC_DEMO_SOURCE, "demo")
    assert repository.acquire_lock(factory, LOCK_NAME, "1@elsewhere", timedelta(hours=1))
    with LiveServer(create_app(settings)) as empty:
        for gone in _server_with_its_database_gone(tmp):
            for broken in _server_with_its_database_gone(tmp, broken=True):
                for gone_keys_on in _server_with_its_database_gone(tmp, keys_on=True):
                    yield Servers(empty, gone, broken, keys, gone_keys_on)
    engine.dispose()


@pytest.fixture(scope="module")
def document(servers: Servers) -> dict[str, Any]:
    response = httpx.get(f"{servers.empty.url}/openapi.json", timeout=30)
    assert response.status_code == 200
    spec: dict[str, Any] = response.json()
    return spec


def _send(servers: Servers, ask: Ask, status: int) -> httpx.Response:
    gone = servers.gone_keys_on if ask.keys_on else servers.gone
    server = {500: servers.broken, 503: gone}.get(status, servers.empty)
    role = {401: None, 403: Role.VIEWER}.get(status, Role.ADMIN)
    headers = {**ask.headers, **(key_header(servers.keys[role]) if role is not None else {})}
    return httpx.request(
        ask.method,
        server.url + ask.path,
        params=ask.params,
        json=ask.json,
        content=ask.content,
        headers=headers,
        timeout=60,
    )


def _operation(document: dict[str, Any], route: tuple[str, str]) -> dict[str, Any]:
    method, path = route
    operation: dict[str, Any] = document["paths"][path][method.lower()]
    return operation


def _error_statuses(operation: dict[str, Any]) -> set[int]:
    return {int(s) for s in operation["responses"] if s[:1] in ("4", "5")}


def _fits(body: dict[str, Any], schema: dict[str, Any]) -> bool:
    """The body has every key the schema requires and none it does not name."""
    return set(schema.get("required", [])) <= set(body) <= set(schema["properties"])


def _assert_is_the_served_problem(body: dict[str, Any], document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert _fits(body, schemas["ProblemPublic"]), body
    problem_items = schemas["ProblemPublic"]["properties"]["problems"]["anyOf"][0]["items"]
    shapes = [schemas[ref["$ref"].rsplit("/", 1)[1]] for ref in problem_items["anyOf"]]
    for item in body.get("problems", []):
        assert any(_fits(item, shape) for shape in shapes), item
    ProblemPublic.model_validate(body)  # and the types too


def test_the_table_names_every_route_in_the_document(document: dict[str, Any]) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
    }
    assert documented == set(ROUTES)


@pytest.mark.parametrize(("route", "status"), PAIRS, ids=[f"{m} {p} {s}" for (m, p), s in PAIRS])
def test_each_error_a_route_sends_is_documented_with_the_body_it_has(
    servers: Servers,
    document: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    route: tuple[str, str],
    status: int,
) -> None:
    if status == 413:
        monkeypatch.setattr(observations, "MAX_UPLOAD_BYTES", len(CSV) - 1)
    if status == 429:  # the admin key has as many jobs in flight as it may
        state = servers.empty.server.config.app.state
        for held in range(-3, 0):
            monkeypatch.setitem(state.plan_jobs, held, Future())
            monkeypatch.setitem(state.plan_job_owners, held, f"errors-{Role.ADMIN.value}")
    response = _send(servers, ROUTES[route][status], status)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    assert body["status"] == status
    # one title per status, whoever raised it ('Internal server error', 'Not found', ...)
    phrase = "Invalid input" if status == 422 else HTTPStatus(status).phrase
    assert body["title"] == phrase[:1] + phrase[1:].lower()
    _assert_is_the_served_problem(body, document)
    assert body["code"] == CODES.get((route, status), STATUS_CODES.get(status)), body
    documented = _operation(document, route)["responses"][str(status)]
    assert documented["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}
    }
    for header in documented.get("headers", {}):  # a header it documents is one it sends
        assert header.lower() in response.headers, header


# Refused before any route runs (api/host_check.py), on every path but the probes: a Host not
# allowed, and with keys off a request a proxy passed on (sent to the keys-off server, whose
# database is gone: neither refusal reads it)
HOST_CHECKED = {
    421: ({"Host": "elsewhere.example"}, "host_not_allowed"),
    403: ({"X-Forwarded-For": "203.0.113.9"}, "proxied_with_auth_off"),
}
HOST_PAIRS = [
    (route, status) for route in ROUTES if route[1] not in PROBES for status in HOST_CHECKED
]


@pytest.mark.parametrize(
    ("route", "status"), HOST_PAIRS, ids=[f"{m} {p} {s}" for (m, p), s in HOST_PAIRS]
)
def test_a_refusal_before_the_route_is_documented_on_every_route_it_reaches(
    servers: Servers, document: dict[str, Any], route: tuple[str, str], status: int
) -> None:
    ask = next(iter(ROUTES[route].values()))  # the route's own path and method
    headers, code = HOST_CHECKED[status]
    response = httpx.request(
        ask.method,
        servers.gone.url + ask.path,
        params=ask.params,
        content=ask.content,
        headers={**ask.headers, **headers},
        timeout=60,
    )
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    body = response.json()
    _assert_is_the_served_problem(body, document)
    assert body["code"] == code, body
    documented = _operation(document, route)["responses"][str(status)]
    assert documented["content"] == {
        PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}
    }
    assert code in documented["description"]
    for header in documented.get("headers", {}):
        assert header.lower() in response.headers, header


@pytest.mark.parametrize("route", list(ROUTES), ids=[f"{m} {p}" for m, p in ROUTES])
def test_each_route_documents_exactly_the_errors_it_sends(
    document: dict[str, Any], route: tuple[str, str]
) -> None:
    refused_before = set() if route[1] in PROBES else set(HOST_CHECKED)
    assert _error_statuses(_operation(document, route)) == set(ROUTES[route]) | refused_before


def test_every_answer_of_every_route_documents_its_request_id(document: dict[str, Any]) -> None:
    """Every answer carries X-Request-ID (api/request_ids.py), a probe's, a 304 and an
    error's too, so a generated client may read it without checking it is there."""
    lacking = [
        f"{method.upper()} {path} {status}"
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for status, response in operation["responses"].items()
        if not response.get("headers", {}).get("X-Request-ID", {}).get("required")
    ]
    assert lacking == []


@pytest.mark.parametrize(
    ("path", "code", "said"),
    [
        ("/v1/nope", "no_such_route", "nothing at /v1/nope; /docs lists every endpoint"),
        ("/nope/v1/plans", "no_such_route", "nothing at /nope/v1/plans;"),  # a wrong base URL
        ("/v1/plans/", "no_such_route", "drop the trailing slash: /v1/plans"),
        ("/v1/runs/", "no_such_route", "drop the trailing slash: /v1/runs"),
        ("/v1/series/", "no_such_route", "no series id"),
        ("/v1/plans/999", "not_found", "no plan with id 999"),
        (f"/v1/forecasts/{SYNTHETIC}", "not_forecast_yet", "its history is stored, but no"),
    ],
)
def test_each_404_says_which_it_is_in_its_code(
    servers: Servers, path: str, code: str, said: str
) -> None:
    """A client tells a wrong URL from a missing id or a plan not made yet without reading
    `detail`; a trailing slash is no redirect (to an absolute http:// URL, unchecked)."""
    response = _send(servers, Ask("GET", path), 404)
    assert response.status_code == 404, response.text
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert "location" not in response.headers
    body = response.json()
    assert (body["code"], body["type"]) == (code, "about:blank")
    assert said in body["detail"], body


def test_fastapis_own_validation_error_body_is_documented_nowhere(
    document: dict[str, Any],
) -> None:
    assert "HTTPValidationError" not in document["components"]["schemas"]
    assert "HTTPValidationError" not in str(document["paths"])
