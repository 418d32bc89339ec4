"""Every answer a client meets is typed right by a client generated from /openapi.json.

The live server's answers (every GET, the main POSTs, a conditional GET, an error or two) are
checked against the document it serves, as a generated client would read them: the status and
its content type are documented, the body fits its schema (types, nulls, enums, dates as
YYYY-MM-DD, times ending in Z), a key every answer carries is required (not `key?:`), and each
header the server sends (ETag, X-Total-Count, Location, ...) is documented, required where it
is always sent. The document itself names its operations as methods, gives each JSON request
body an example the route accepts, and says what every number in an answer counts.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, get_args

import httpx
import pytest
from pydantic import BaseModel

from api.plan_tables import PlanTable, row_model, table_filters
from api.schemas import PlanCreate, PlanShadowPriceRowPublic, SweepCreate
from forecast.series import SEASON_LENGTH, Freq
from homeward.recovery import RETRY_TRIGGER
from homeward.roles import Role
from models import RunRow
from models.tables import RunKind, RunStatus, RunTrigger
from optimise.config import PlanningConfig
from optimise.result import PlanStatus
from optimise.solve import SOLVERS
from tests.api.conftest import DemoDatabase, key_header
from tests.conftest import LiveServer

OBSERVED = "referrals/ot/rugby"
TOTAL = "referrals_team/ot/south"
CSV = b"unique_id,ds,y\nreferrals/ot/contract-test,2025-01-06,31\n"
# headers a client reads besides the body; each one sent must be documented for that status
READ_HEADERS = (
    "ETag",
    "Cache-Control",
    "X-Total-Count",
    "Location",
    "Retry-After",
    "Preference-Applied",
    "WWW-Authenticate",
    "Link",
    "X-Request-ID",
)
DATE = re.compile(r"\d{4}-\d\d-\d\d")
UTC_TIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")
ACTIVE_CONFIG = "the active config's body, sent back as it is"
# the model each JSON request body is read into, by the schema the document names
BODY_MODELS: dict[str, type[BaseModel]] = {
    "PlanCreate": PlanCreate,
    "SweepCreate": SweepCreate,
    "PlanningConfig": PlanningConfig,
}


@dataclass(frozen=True)
class Ask:
    """One request, sent with the key of `role` (None: no key)."""

    name: str
    method: str
    path: str
    role: Role | None = Role.ADMIN
    params: dict[str, str] = field(default_factory=dict)
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


ASKS = [
    Ask("health", "GET", "/healthz", role=None),
    Ask("liveness", "GET", "/livez", role=None),
    Ask("readiness", "GET", "/readyz", role=None),
    Ask("series", "GET", "/v1/series", role=Role.VIEWER),
    Ask("my key", "GET", "/v1/keys/me", role=Role.VIEWER),
    Ask("series page", "GET", "/v1/series", params={"kind": "total", "limit": "2"}),
    Ask("observations", "GET", f"/v1/observations/{OBSERVED}", params={"last": "5"}),
    Ask("forecast", "GET", f"/v1/forecasts/{OBSERVED}"),
    Ask("forecast of a total", "GET", f"/v1/forecasts/{TOTAL}"),
    Ask("winter", "GET", f"/v1/winter/{OBSERVED}"),
    Ask("active config", "GET", "/v1/configs/active"),
    Ask("config", "GET", "/v1/configs/1"),
    Ask("same config again", "POST", "/v1/configs", json=ACTIVE_CONFIG),
    Ask("plan now", "POST", "/v1/plans", role=Role.FINANCE, json={}),
    Ask(
        "plan as a job",
        "POST",
        "/v1/plans",
        json={},
        headers={"Prefer": "respond-async"},
    ),
    Ask("sweep", "POST", "/v1/plans/sweeps", json={"dfg_fee_rates": [0.05, 0.2]}),
    Ask("upload", "POST", "/v1/observations", content=CSV, headers={"content-type": "text/csv"}),
    Ask(
        "upload again",
        "POST",
        "/v1/observations",
        content=CSV,
        headers={"content-type": "text/csv"},
    ),
    Ask("plans", "GET", "/v1/plans"),
    Ask("latest plan", "GET", "/v1/plans/latest"),
    Ask("plan", "GET", "/v1/plans/1"),
    Ask("plan table as CSV", "GET", "/v1/plans/latest/hours.csv", role=Role.VIEWER),
    Ask("plan table", "GET", "/v1/plans/latest/hours", params={"district": "rugby"}),
    Ask("plan table by id", "GET", "/v1/plans/1/shadow_prices"),
    Ask("plan table refused", "GET", "/v1/plans/1/revenue", params={"service": "ot"}),
    Ask("forecasts as CSV", "GET", "/v1/forecasts.csv", params={"prefix": "referrals/ot/"}),
    Ask("winter as CSV", "GET", "/v1/winter.csv", params={"prefix": "referrals_team/"}),
    Ask(
        "observations as CSV",
        "GET",
        "/v1/observations.csv",
        role=Role.VIEWER,
        params={"prefix": "referrals/ot/"},
    ),
    Ask("runs", "GET", "/v1/runs"),
    Ask("run", "GET", "/v1/runs/1"),
    Ask("no key", "GET", "/v1/plans", role=None),
    Ask("role too weak", "POST", "/v1/runs", role=Role.VIEWER),
    Ask("no such plan", "GET", "/v1/plans/999"),
    Ask("bad limit", "GET", "/v1/runs", params={"limit": "0"}),
]


@dataclass(frozen=True)
class Answers:
    document: dict[str, Any]
    by_name: dict[str, httpx.Response]
    unchanged: httpx.Response  # the latest plan asked again with its ETag


def _send(server: LiveServer, keys: dict[Role, str], ask: Ask, config: Any) -> httpx.Response:
    headers = {**ask.headers, **(key_header(keys[ask.role]) if ask.role else {})}
    return httpx.request(
        ask.method,
        server.url + ask.path,
        params=ask.params,
        json=config if ask.json == ACTIVE_CONFIG else ask.json,
        content=ask.content,
        headers=headers,
        timeout=120,
    )


def _finished(server: LiveServer, key: str, location: str) -> None:
    """Wait for a job (at most a minute), so the runs listed include its finished table."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        run = httpx.get(server.url + location, headers=key_header(key), timeout=30).json()
        if run["status"] not in ("queued", "running"):
            return
        time.sleep(0.2)


@pytest.fixture(scope="module")
def answers(
    demo_server: LiveServer, role_keys: dict[Role, str], demo_db: DemoDatabase
) -> Iterator[Answers]:
    document = httpx.get(demo_server.url + "/openapi.json", timeout=30).json()
    admin = key_header(role_keys[Role.ADMIN])
    config = httpx.get(demo_server.url + "/v1/configs/active", headers=admin).json()["body"]
    by_name: dict[str, httpx.Response] = {}
    for ask in ASKS:
        by_name[ask.name] = _send(demo_server, role_keys, ask, config)
        if ask.name in ("plan as a job", "sweep"):  # done before the plans are read
            _finished(demo_server, role_keys[Role.ADMIN], by_name[ask.name].headers["Location"])
    tag = by_name["latest plan"].headers.get("ETag", "")
    unchanged = httpx.get(
        demo_server.url + "/v1/plans/latest", headers={**admin, "If-None-Match": tag}
    )
    yield Answers(document, by_name, unchanged)


# --- a small JSON Schema reader: the subset FastAPI writes, read as a generated client does


def _resolve(document: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list,),
}


def _is(kind: str, value: Any) -> bool:
    if isinstance(value, bool) and kind != "boolean":
        return False
    return isinstance(value, _TYPES[kind])


def mismatches(document: dict[str, Any], schema: dict[str, Any], value: Any, at: str) -> list[str]:
    """Where `value` does not fit `schema`, as a generated client would type it."""
    schema = _resolve(document, schema)
    if "allOf" in schema:
        return [m for s in schema["allOf"] for m in mismatches(document, s, value, at)]
    if "anyOf" in schema:
        tries = [mismatches(document, s, value, at) for s in schema["anyOf"]]
        return [] if any(not t for t in tries) else min(tries, key=len)
    if "const" in schema and value != schema["const"]:
        return [f"{at}: expected {schema['const']!r}, found {value!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{at}: expected one of {schema['enum']}, found {value!r}"]
    kind = schema.get("type")
    if kind is not None and not _is(kind, value):
        return [f"{at}: expected {kind}, found {type(value).__name__} {value!r:.60}"]
    if schema.get("format") == "date" and not DATE.fullmatch(value):
        return [f"{at}: expected a date YYYY-MM-DD, found {value!r}"]
    if schema.get("format") == "date-time" and not UTC_TIME.fullmatch(value):
        return [f"{at}: expected a UTC time ending in Z, found {value!r}"]
    if isinstance(value, list):
        items = schema.get("items", {})
        return [m for i, v in enumerate(value) for m in mismatches(document, items, v, f"{at}/{i}")]
    if isinstance(value, dict):
        return _object_mismatches(document, schema, value, at)
    return []


def _object_mismatches(
    document: dict[str, Any], schema: dict[str, Any], value: dict[str, Any], at: str
) -> list[str]:
    properties = schema.get("properties", {})
    extra = schema.get("additionalProperties", False)
    found = [f"{at}: lacks required {k!r}" for k in schema.get("required", []) if k not in value]
    for key, item in value.items():
        if key in properties:
            found += mismatches(document, properties[key], item, f"{at}/{key}")
        elif isinstance(extra, dict):
            found += mismatches(document, extra, item, f"{at}/{key}")
        elif extra is not True:
            found.append(f"{at}: {key!r} is not in the schema")
    return found


def _operation(document: dict[str, Any], method: str, path: str) -> dict[str, Any]:
    """The operation a request met: its own path, or else the template it fits."""
    paths = document["paths"]
    matching = [path] if method.lower() in paths.get(path, {}) else []
    matching += [
        template
        for template, operations in paths.items()
        if method.lower() in operations
        and re.fullmatch(re.sub(r"\\\{[^}]+\\\}", ".+", re.escape(template)), path)
    ]
    assert matching, f"{method} {path} is in no path of the document"
    # the most specific: `/v1/plans/{plan_id}/{table}` for /v1/plans/1/hours, which
    # `/v1/plans/{plan_id}` also fits (a series id's slashes need `.+`)
    matching.sort(key=lambda template: -len(re.sub(r"\{[^}]+\}", "", template)))
    operation: dict[str, Any] = paths[matching[0]][method.lower()]
    return operation


def _documented(document: dict[str, Any], response: httpx.Response) -> dict[str, Any]:
    operation = _operation(document, response.request.method, response.request.url.path)
    status = str(response.status_code)
    assert status in operation["responses"], (
        f"{response.request.method} {response.request.url.path} answered {status}, which its "
        f"operation does not document (it has {sorted(operation['responses'])})"
    )
    documented: dict[str, Any] = operation["responses"][status]
    return documented


@pytest.mark.parametrize("ask", ASKS, ids=[a.name for a in ASKS])
def test_each_answer_fits_the_schema_its_status_documents(answers: Answers, ask: Ask) -> None:
    response = answers.by_name[ask.name]
    documented = _documented(answers.document, response)
    media_type = response.headers["content-type"].split(";")[0]
    assert media_type in documented.get("content", {}), (media_type, documented)
    schema = documented["content"][media_type]["schema"]
    if media_type == "text/csv":  # a file: typed as a string, with a header row
        assert _resolve(answers.document, schema) == {"type": "string"}
        assert response.text.splitlines()[0].count(",") >= 1
        return
    assert mismatches(answers.document, schema, response.json(), "") == []


@pytest.mark.parametrize("ask", ASKS, ids=[a.name for a in ASKS])
def test_each_header_a_client_reads_is_documented_and_sent_where_required(
    answers: Answers, ask: Ask
) -> None:
    response = answers.by_name[ask.name]
    documented = _documented(answers.document, response).get("headers", {})
    sent = [h for h in READ_HEADERS if h.lower() in response.headers]
    assert [h for h in sent if h not in documented] == []
    required = [h for h, spec in documented.items() if spec.get("required")]
    assert [h for h in required if h.lower() not in response.headers] == []
    always = {
        "ETag",
        "Cache-Control",
        "X-Total-Count",
        "Location",
        "WWW-Authenticate",
        "X-Request-ID",
    }
    assert [h for h in sent if h in always and not documented[h].get("required")] == []


def test_a_key_every_answer_of_a_schema_carries_is_required(answers: Answers) -> None:
    """A key the server always sends, typed `key?:` by a generated client, makes every
    dashboard test for `undefined` as well as `null`."""
    seen: dict[str, list[dict[str, Any]]] = {}
    for response in answers.by_name.values():
        if response.headers["content-type"].startswith("text/csv"):
            continue  # a file, not an object a generated client types
        documented = _documented(answers.document, response)
        schema = next(iter(documented["content"].values()))["schema"]
        _collect(answers.document, schema, response.json(), seen)
    schemas = answers.document["components"]["schemas"]
    optional_but_always_sent = {
        name: sorted(
            set.intersection(*(set(o) for o in objects)) - set(schemas[name].get("required", []))
        )
        for name, objects in seen.items()
    }
    assert {n: keys for n, keys in optional_but_always_sent.items() if keys} == {}


def _collect(
    document: dict[str, Any], schema: dict[str, Any], value: Any, seen: dict[str, list[Any]]
) -> None:
    """Each object of the answer under the component schema it is typed as; schemas served
    as stored (`additionalProperties: true`, a plan's result) are left out on purpose."""
    name = schema["$ref"].rsplit("/", 1)[1] if "$ref" in schema else None
    schema = _resolve(document, schema)
    if isinstance(value, list):
        for item in value:
            _collect(document, schema.get("items", {}), item, seen)
        return
    if not isinstance(value, dict):
        return
    if name is not None and schema.get("additionalProperties") is not True:
        seen.setdefault(name, []).append(value)
    for key, item in value.items():
        sub = schema.get("properties", {}).get(key, {})
        for alternative in sub.get("anyOf", [sub]):
            if not mismatches(document, alternative, item, ""):
                _collect(document, alternative, item, seen)
                break


def test_an_unchanged_answer_is_a_documented_304_without_a_body(answers: Answers) -> None:
    assert answers.unchanged.status_code == 304
    assert answers.unchanged.content == b""
    documented = _documented(answers.document, answers.unchanged)
    assert "content" not in documented
    assert "ETag" in documented.get("headers", {})


def test_every_get_under_v1_documents_its_etag_and_304(answers: Answers) -> None:
    lacking = [
        path
        for path, operations in answers.document["paths"].items()
        if path.startswith("/v1/") and "get" in operations
        for responses in [operations["get"]["responses"]]
        if "304" not in responses or "ETag" not in responses["200"].get("headers", {})
    ]
    assert lacking == []


def test_operation_ids_are_short_unique_method_names(answers: Answers) -> None:
    """Generators name methods after operationId: `list_plans`, not
    `list_plans_v1_plans_get`; a plan table's are named by the table (`get_plan_hours`,
    `get_latest_plan_revenue_by_budget`)."""
    ids = [
        operation["operationId"]
        for operations in answers.document["paths"].values()
        for operation in operations.values()
    ]
    assert len(ids) == len(set(ids))
    tables = "|".join(t.value for t in PlanTable)
    short = [re.sub(rf"^(get_(latest_)?plan)_({tables})$", r"\1_table", i) for i in ids]
    assert [i for i in short if not re.fullmatch(r"[a-z]+(_[a-z]+){0,3}", i) or "v1" in i] == []


def test_every_json_request_body_has_an_example_its_route_accepts(answers: Answers) -> None:
    for path, operations in answers.document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" not in content:
                continue
            media = content["application/json"]
            name = media["schema"]["$ref"].rsplit("/", 1)[1]
            examples = [e["value"] for e in media.get("examples", {}).values()]
            examples += [media["example"]] if "example" in media else []
            examples += answers.document["components"]["schemas"][name].get("examples", [])
            assert examples, f"{method.upper()} {path}: no example of {name}"
            for example in examples:
                BODY_MODELS[name].model_validate(example)


def test_every_number_in_an_answer_says_what_it_counts(answers: Answers) -> None:
    """A generated type `solve_seconds: number` is only as good as its doc comment: every
    number an answer carries has a description (its unit, or what it counts)."""
    schemas = answers.document["components"]["schemas"]
    answered = {
        ref.rsplit("/", 1)[1]
        for ref in re.findall(r'"\$ref": "([^"]+)"', _responses_text(answers.document))
    }
    # the API's own answers; a config's body is optimise's PlanningConfig, whose fields are
    # held to the same in tests/api/test_config_field_descriptions.py
    answered = {name for name in _closure(schemas, answered) if name.endswith("Public")}
    silent = [
        f"{name}.{key}"
        for name in sorted(answered)
        for key, prop in schemas[name].get("properties", {}).items()
        if _numeric(prop) and not prop.get("description")
    ]
    assert silent == []


def _responses_text(document: dict[str, Any]) -> str:
    return json.dumps(
        [
            response
            for operations in document["paths"].values()
            for operation in operations.values()
            for response in operation["responses"].values()
        ]
    )


def _closure(schemas: dict[str, Any], names: set[str]) -> set[str]:
    found = set(names)
    while True:
        more = {
            ref.rsplit("/", 1)[1]
            for name in found
            for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schemas[name]))
        } - found
        if not more:
            return found
        found |= more


def _numeric(prop: dict[str, Any]) -> bool:
    kinds = {prop.get("type")} | {p.get("type") for p in prop.get("anyOf", [])}
    item = prop.get("additionalProperties")
    if isinstance(item, dict):
        kinds |= {item.get("type")} | {p.get("type") for p in item.get("anyOf", [])}
    return bool(kinds & {"number", "integer"})


def test_an_optional_parameter_is_left_out_never_offered_as_null(answers: Answers) -> None:
    """A query has no null: a client that sends `?scenario=null` gets a 422, `?prefix=null`
    a filter on 'null', so a generated client must not offer `scenario?: boolean | null`."""
    nullable = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in answers.document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if {"type": "null"} in parameter["schema"].get("anyOf", [])
    ]
    assert nullable == []


def test_a_configs_body_is_typed_as_the_planning_config_it_was_stored_as(
    answers: Answers,
) -> None:
    """A dashboard reads `body.fees.dfg_fee_rate`; typed `{[key: string]: unknown}` it could
    not without a cast."""
    schemas = answers.document["components"]["schemas"]
    body = schemas["ConfigPublic"]["properties"]["body"]
    assert [_resolve(answers.document, s) for s in body.get("allOf", [])] == [
        schemas["PlanningConfig"]
    ]
    stored = answers.by_name["active config"].json()["body"]
    assert mismatches(answers.document, body, stored, "body") == []


def test_each_403_names_the_roles_the_server_would_accept(
    answers: Answers, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    """Which key to ask for is known before a request is refused: a route's 403 names the
    roles its refusal lists in `role_needed` (keys are checked before the body is read); a
    route every role may use documents only the 403 a proxied request gets with keys off."""
    viewer = key_header(role_keys[Role.VIEWER])
    wrong = {}
    for path, operations in answers.document["paths"].items():
        for method, operation in operations.items():
            if "role_needed" not in operation["responses"].get("403", {}).get("description", ""):
                continue
            refused = httpx.request(method.upper(), demo_server.url + path, headers=viewer)
            assert refused.status_code == 403, (method, path, refused.text)
            described = operation["responses"]["403"]["description"]
            named = {r.value for r in Role if re.search(rf"\b{r.value}\b", described)}
            if named != set(refused.json()["role_needed"]):
                wrong[f"{method.upper()} {path}"] = (sorted(named), refused.json()["role_needed"])
    assert wrong == {}


def test_every_field_of_a_plan_tables_row_is_required(answers: Answers) -> None:
    """A row schema with no `required` typed every field `key?: T | null`, so `{}` fitted
    every table's row: a key is now always sent, null only where the figure can be."""
    schemas = answers.document["components"]["schemas"]
    rows = {n: s for n, s in schemas.items() if n.startswith("Plan") and n.endswith("RowPublic")}
    assert len(rows) == 22  # the stored tables' 20, and the pack's summary and warnings
    optional = {
        n: sorted(set(s["properties"]) - set(s.get("required", []))) for n, s in rows.items()
    }
    assert {n: keys for n, keys in optional.items() if keys} == {}
    plan = answers.by_name["latest plan"].json()["result"]
    schema = _resolve(answers.document, {"$ref": "#/components/schemas/PlanResultPublic"})
    for table in ("hours", "revenue", "revenue_by_budget", "shadow_prices", "demand"):
        assert plan[table], table
        assert mismatches(answers.document, schema["properties"][table], plan[table], table) == []


def test_a_nullable_column_an_older_plan_did_not_store_is_served_as_null() -> None:
    """A shadow price stored before rows carried their axes still fits its schema."""
    stored = {
        "constraint": "capital",
        "index": "rugby",
        "dual": -0.5,
        "value": 0.5,
        "unit": "waiting days saved per GBP 1,000",
        "statement": "...",
        "range_low": None,
        "range_high": None,
    }
    served = PlanShadowPriceRowPublic.model_validate(stored).model_dump(exclude_unset=True)
    assert served == stored | dict.fromkeys(
        ["ds", "service", "team", "district", "budget", "year", "period"]
    )


def _enum(document: dict[str, Any], schema: dict[str, Any]) -> set[Any]:
    """The values a (possibly nullable) property or parameter may take, null aside."""
    schema = _resolve(document, schema)
    values = set(schema.get("enum", []))
    for alternative in schema.get("anyOf", []):
        values |= _enum(document, alternative)
    return values


def test_values_from_a_fixed_set_are_enums_of_the_values_the_code_writes(
    answers: Answers,
) -> None:
    """`kind`, `trigger`, `status`, `freq` and `solver` were strings with their values in a
    description (which left out `recovery` and `forecast_only`): each is an enum now, of the
    one type the code writes them with (mypy checks each write to a run row against it)."""
    document = answers.document
    schemas = document["components"]["schemas"]

    def prop(name: str, field_name: str) -> set[Any]:
        return _enum(document, schemas[name]["properties"][field_name])

    assert prop("RunPublic", "kind") == set(get_args(RunKind))
    assert prop("RunPublic", "trigger") == set(get_args(RunTrigger))
    assert prop("RunPublic", "status") == set(get_args(RunStatus))
    assert {RETRY_TRIGGER, "scheduler", "api", "demo", "sweep"} <= set(get_args(RunTrigger))
    assert "forecast_only" in get_args(RunStatus)  # a pipeline run with no config planned
    hints = RunRow.__annotations__  # every write of a run's values is typed by these
    assert [hints[n] for n in ("kind", "trigger", "status")] == [
        "Mapped[RunKind]",
        "Mapped[RunTrigger]",
        "Mapped[RunStatus]",
    ]
    parameters = {
        p["name"]: _enum(document, p["schema"])
        for p in document["paths"]["/v1/runs"]["get"]["parameters"]
    }
    assert parameters["kind"] == set(get_args(RunKind))
    assert parameters["status"] == set(get_args(RunStatus))
    plan_statuses = {s.value for s in PlanStatus}
    for name in ("PlanSummaryPublic", "PlanPublic", "PlanResultPublic", "SweepRowPublic"):
        assert prop(name, "status") == plan_statuses, name
    assert prop("PlanResultPublic", "solver") == set(SOLVERS)
    assert prop("SeriesPublic", "freq") == set(get_args(Freq)) == set(SEASON_LENGTH)
    for run in answers.by_name["runs"].json():  # the demo's runs, of every kind
        assert run["trigger"] in get_args(RunTrigger) and run["status"] in get_args(RunStatus)


def _refs(schema: Any) -> set[str]:
    """The component schemas `schema` names, at any depth."""
    return {ref.rsplit("/", 1)[1] for ref in re.findall(r'"\$ref": "([^"]+)"', json.dumps(schema))}


def _rows_of(name: str) -> dict[str, Any]:
    return {"type": "array", "items": {"$ref": f"#/components/schemas/{name}"}}


@pytest.mark.parametrize("table", list(PlanTable), ids=[t.value for t in PlanTable])
def test_each_plan_table_is_typed_by_its_own_row_schema_alone(
    answers: Answers, demo_server: LiveServer, role_keys: dict[Role, str], table: PlanTable
) -> None:
    """A generic `{table}` operation typed its rows as any table's (`anyOf` of 21 row schemas,
    none forbidding extra keys): a `revenue_by_budget` row fits `PlanRevenueRowPublic`, listed
    first, and a `capital_by_year` row has every key `PlanCapitalTotalRowPublic` requires, so a
    generated client (first match) typed them as those. Each table is an operation of its own
    now, its answer typed by the table's row schema alone."""
    document = answers.document
    own = row_model(table)
    assert own is not None
    viewer = key_header(role_keys[Role.VIEWER])
    for path, operation_id in (
        (f"/v1/plans/latest/{table}", f"get_latest_plan_{table}"),
        (f"/v1/plans/{{plan_id}}/{table}", f"get_plan_{table}"),
    ):
        operation = document["paths"][path]["get"]
        assert operation["operationId"] == operation_id
        assert operation["tags"] == ["plan tables"]  # a group of its own in /docs
        schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert schema["type"] == "array" and "anyOf" not in json.dumps(schema)
        assert schema["items"] == {"$ref": f"#/components/schemas/{own.__name__}"}
        # the filters it can answer, no `district` of `revenue` (still refused if sent)
        query = [p["name"] for p in operation.get("parameters", []) if p["in"] == "query"]
        assert query == table_filters(table)
    response = httpx.get(f"{demo_server.url}/v1/plans/latest/{table}", headers=viewer, timeout=60)
    assert response.status_code == 200, response.text
    rows = response.json()
    documented = _documented(document, response)["content"]["application/json"]["schema"]
    assert _refs(documented) == {own.__name__}
    assert mismatches(document, documented, rows, table.value) == []
    # the review's two: a revenue_by_budget row fits the revenue row's schema (extra keys
    # allowed), and a capital_by_year row has every key the capital_total row's requires (its
    # figures null in the demo, where no capital by year is set); neither is in the answer's
    if table is PlanTable.revenue_by_budget:
        assert rows and mismatches(document, _rows_of("PlanRevenueRowPublic"), rows, "") == []
    if table is PlanTable.capital_by_year:
        required = set(document["components"]["schemas"]["PlanCapitalTotalRowPublic"]["required"])
        assert rows and all(required <= set(row) for row in rows)
