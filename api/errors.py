"""The one place domain errors become HTTP responses, all as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
import re
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import asdict
from datetime import datetime
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, ResponseValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, TypeAdapter
from pydantic import ValidationError as SchemaValidationError
from sqlalchemy import URL
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import schemas
from api.access_log import note_client_gone, note_refusal
from api.probe import ProbeTimedOut
from api.readiness import ReadinessLog, Unlogged, duration_text, unlogged_text
from api.request_ids import REQUEST_ID_HEADER, request_id_of
from api.schemas import ProblemCode, ProblemPublic
from forecast.errors import ForecastInputError
from homeward.api_keys import (
    KeyAlreadyRevoked,
    KeyNameTaken,
    NotAuthenticated,
    RoleTooWeak,
    UnknownKeyName,
    mask_keys,
)
from homeward.errors import (
    HomewardError,
    Problem,
    ValidationFailed,
    json_text,
    unknown_field_expected,
)
from homeward.pipeline import PipelineBusy
from homeward.planning import ConfigUnreadable, NoConfig, NoForecasts, PlanNotSolved
from homeward.roles import Action, roles_allowing
from optimise.config import ConfigValueError, FeesConfig, PlanningConfig, refused_value
from optimise.errors import PlanInputError, PlanInputProblems, listed

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"
# a moment in a problem, written as every answer's (2026-11-22T15:54:28.652417Z)
_MOMENT: TypeAdapter[datetime] = TypeAdapter(schemas.UtcDatetime)


class NotFound(HomewardError):
    """The requested resource does not exist; `code` says why where a client may act on it
    (`no_plan_yet`, `not_forecast_yet`), else `not_found`."""

    def __init__(self, message: str, code: ProblemCode = "not_found") -> None:
        super().__init__(message)
        self.code: ProblemCode = code


class RequestRefused(ValidationFailed):
    """A request refused for itself, not for what its file or JSON says: a header (a CSV
    upload's Content-Type) or the body as a whole (its size). Its problems are answered located
    by `location` (`header/Content-Type`, `body`), as a parameter's are on every route; `row`,
    `column` and `series_id` locate problems in a file's content."""

    def __init__(self, problems: tuple[Problem, ...], source: str, location: str) -> None:
        super().__init__(problems, source)
        self.location = location


class BodyTooLarge(RequestRefused):
    """A request body over its limit, refused before (or as soon as) it passes it; located at
    `body`, a JSON body and a CSV upload alike."""

    def __init__(self, problems: tuple[Problem, ...], source: str) -> None:
        super().__init__(problems, source, "body")


class JsonBodyRefused(Exception):
    """A JSON body that decodes but is refused as it is written (`decode_json`): each problem
    a location in it (`body/config/name`), what was expected there and what was found."""

    def __init__(self, problems: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{p['location']}: {p['found']}" for p in problems))
        self.problems = problems


class Conflicts(HomewardError):
    """The request clashes with what is stored (409): the message says what, and what to do;
    `code` says which clash (`series_in_use`, `config_unreadable`), else `conflict`."""

    def __init__(self, message: str, code: ProblemCode = "conflict") -> None:
        super().__init__(message)
        self.code: ProblemCode = code


class TooManyJobs(HomewardError):
    """A plan or sweep job refused because its key (or everyone) has as many queued or running
    as HOMEWARD_MAX_JOBS_PER_KEY (HOMEWARD_MAX_JOBS) allows (429, with Retry-After)."""


class InProgress(HomewardError):
    """The request would clash with a job already under way (409); `location` is that job's
    URL, sent as the `Location` header so a client can poll it instead."""

    def __init__(self, message: str, location: str) -> None:
        super().__init__(message)
        self.location = location


def pointer(steps: Iterable[str | int]) -> str:
    """A problem's `location` from its steps (`("body", "config", "services", 3)`), each
    escaped as a JSON Pointer's are (RFC 6901: `~` as `~0`, then `/` as `~1`), so a key
    holding a slash is one step: `.../cost_per_hour_gbp_by_year/2026~127` for "2026/27",
    which unescaped read as a year 2026 holding a 27."""
    return "/".join(str(step).replace("~", "~0").replace("/", "~1") for step in steps)


def location_header(description: str) -> dict[str, dict[str, Any]]:
    """An OpenAPI `headers` entry for a response's `Location` (always sent with it)."""
    return {
        "Location": {"description": description, "required": True, "schema": {"type": "string"}}
    }


# 401 says how to authenticate; 413 closes the connection, so a client still sending the body
# it was refused stops instead of waiting for a server that will not read it (RFC 9110 15.5.14).
# A 503 says when to try again: a database restart or failover takes seconds.
_HEADERS_FOR_STATUS = {
    401: {"WWW-Authenticate": "Bearer"},
    413: {"Connection": "close"},
    429: {"Retry-After": "30"},
    503: {"Retry-After": "10"},
}


# the refusals of a key sent (unknown, revoked or expired), told apart from none sent
_INVALID_TOKEN = frozenset({"unknown_key", "revoked_key", "expired_key"})
_HEADER_SAID = {
    "WWW-Authenticate": '`Bearer`, or `Bearer error="invalid_token"` where a key was sent and '
    "refused (unknown, revoked or expired: RFC 6750 3.1)"
}


# What each error status means wherever it is sent; a route may say more (`error_responses`).
_MEANING = {
    401: "no API key, or an unknown, revoked or expired one: `code` `key_revoked` for a "
    "revoked key, `key_expired` (with `expires_at`) for an expired one, else "
    "`not_authenticated`",
    403: "the key's role may not do this: `role_needed` lists the roles that may, "
    "`role_found` is the key's",
    404: "nothing found: the detail says what was looked for and where to find what there is",
    409: "the request cannot be met in the service's present state: the detail says why",
    413: "the request body is too large: refused unread, and the connection is closed",
    429: "too many plan or sweep jobs queued or running, for this key or for everyone: "
    "try again after `Retry-After` seconds, or poll the jobs you have "
    "(`GET /v1/runs?status=queued`)",
    422: "Invalid input: `problems` locates each one (a parameter, header or JSON body by "
    "`location`; a problem in a file's or config's content by `row`, `column` and "
    "`series_id`) with what was expected and found",
    500: "an unexpected error; it has been logged on the server with the `error_id` the body "
    "gives (quote it when reporting the error)",
    503: "the database is unavailable (down, unreachable or refusing connections): the "
    "detail names its backend only (the server log says which database and what failed, "
    "with the body's `error_id`; a failing /readyz logs an outage's first probe so, then "
    "counts the rest, naming the latest unlogged `error_id` at most every 5 minutes); "
    "try again after `Retry-After` seconds",
}


def meaning(status: int) -> str:
    """What an error status means wherever it is sent (a route's own description adds to it)."""
    return _MEANING[status]


def error_responses(
    *statuses: int, said: Mapping[int, str] | None = None
) -> dict[int | str, dict[str, Any]]:
    """The OpenAPI `responses=` entries for error statuses a route sends, each a ProblemPublic
    body (and the headers `problem` adds to it); `said` gives a route's own description."""
    said = said or {}
    return {status: _documented(status, said.get(status, _MEANING[status])) for status in statuses}


def refused_unless_role(action: Action) -> dict[int | str, dict[str, Any]]:
    """The 403 entry of a route doing `action`: it names the roles that may (homeward/roles.py),
    so a client knows which key to ask for before it is refused."""
    *others, last = [role.value for role in roles_allowing(action)]
    roles = f"{', '.join(others)} or {last}" if others else last
    said = (
        f"the key's role may not {action.value}: only {roles} may (`role_needed` lists them, "
        "`role_found` is the key's)"
    )
    return error_responses(403, said={403: said})


def _documented(status: int, description: str) -> dict[str, Any]:
    headers = {
        name: {
            "description": _HEADER_SAID.get(name)
            or f"always `{value}`" + (" (seconds)" if name == "Retry-After" else ""),
            "required": True,
            "schema": {"type": "integer"} if value.isdigit() else {"type": "string"},
        }
        for name, value in _HEADERS_FOR_STATUS.get(status, {}).items()
    }
    return {"model": ProblemPublic, "description": description} | (
        {"headers": headers} if headers else {}
    )


# The `code` of a problem whose sender says none finer: one per status.
_CODE_FOR_STATUS: dict[int, ProblemCode] = {
    400: "bad_request",
    401: "not_authenticated",
    403: "role_too_weak",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "body_too_large",
    429: "too_many_jobs",
    422: "validation_failed",
    500: "internal_error",
    503: "database_unavailable",
}


def problem(
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    code: ProblemCode | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response; `code` (default: the status's own) is what a client tests.
    An API key anywhere in its `detail` or `problems` (a 422 quoting `?api_key=hw_...`, a 404
    quoting the path) is masked: the body may reach a browser's cache, a proxy's log or a
    ticket pasted from it. A lone surrogate in them (`"\\ud800"` in a JSON body, echoed) is
    written as its escape: it cannot be written as UTF-8, and the answer failed to encode."""
    code = code or _CODE_FOR_STATUS.get(status, "http_error")
    body = {
        "type": "about:blank",
        "title": title,
        "status": status,
        "detail": escaped(mask_keys(detail)),
        "code": code,
        **{name: _keys_masked(value) for name, value in extra.items()},
    }
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


# a lone UTF-16 surrogate, which no UTF-8 text holds
LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def escaped(text: str) -> str:
    """`text` with each lone surrogate written as its JSON escape (`\\ud800`), so that it can
    be written as UTF-8: an answer echoing one failed to encode."""
    return LONE_SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def _keys_masked(value: Any) -> Any:
    """`value` (a problem's extra member: text, or lists and objects of it) with every API key
    in its text masked, and every lone surrogate escaped (`escaped`)."""
    if isinstance(value, str):
        return escaped(mask_keys(value))
    if isinstance(value, list | tuple):
        return [_keys_masked(item) for item in value]
    if isinstance(value, dict):
        return {escaped(str(name)): _keys_masked(item) for name, item in value.items()}
    return value


def _status_for(exc: HomewardError) -> int:
    if isinstance(exc, BodyTooLarge):
        return 413
    if isinstance(exc, TooManyJobs):
        return 429
    if isinstance(exc, NotAuthenticated):
        return 401
    if isinstance(exc, RoleTooWeak):
        return 403
    if isinstance(exc, NotFound | NoConfig | UnknownKeyName):
        return 404
    if isinstance(
        exc,
        Conflicts
        | InProgress
        | PipelineBusy
        | NoForecasts
        | ConfigUnreadable
        | KeyNameTaken
        | KeyAlreadyRevoked,
    ):
        return 409
    return 422


# The code of each domain error that has one of its own, by class (NotFound and Conflicts
# carry theirs); any other is its status's code.
_CODE_FOR_ERROR: tuple[tuple[type[HomewardError], ProblemCode], ...] = (
    (BodyTooLarge, "body_too_large"),
    (TooManyJobs, "too_many_jobs"),
    (NoConfig, "no_config_yet"),
    (NoForecasts, "not_forecast_yet"),
    (ConfigUnreadable, "config_unreadable"),
    (PipelineBusy, "pipeline_busy"),
    (InProgress, "in_progress"),
    (KeyNameTaken, "key_name_taken"),
    (KeyAlreadyRevoked, "key_revoked"),
    (PlanNotSolved, "plan_not_solved"),
)


# A key refused for a reason its holder can act on has its own code (a revoked key is for
# good: another key is needed; an expired one an admin renews with `homeward keys rotate`);
# no key, an unknown one or unreadable credentials are `not_authenticated`. The reason itself
# goes to the access log.
_CODE_FOR_REFUSAL: dict[str, ProblemCode] = {
    "revoked_key": "key_revoked",
    "expired_key": "key_expired",
}


def _code_for(exc: HomewardError, status: int) -> ProblemCode:
    if isinstance(exc, NotFound | Conflicts):
        return exc.code
    if isinstance(exc, NotAuthenticated):
        return _CODE_FOR_REFUSAL.get(exc.reason, "not_authenticated")
    found = next((code for kind, code in _CODE_FOR_ERROR if isinstance(exc, kind)), None)
    return found or _CODE_FOR_STATUS[status]


def _title(status: int) -> str:
    """The one title for a status, whoever raised it: the HTTP phrase in sentence case
    ('Not found', 'Method not allowed'), except 422, which Homeward calls 'Invalid input'."""
    if status == 422:
        return "Invalid input"
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        return "Error"
    return phrase[:1] + phrase[1:].lower()


async def _homeward_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HomewardError)
    if isinstance(exc, NotAuthenticated):
        note_refusal(request, exc.reason, exc.key_name)
    if isinstance(exc, RoleTooWeak):
        note_refusal(request, "role_too_weak")
    status = _status_for(exc)
    title = _title(status)
    extra: dict[str, Any] = {}
    if isinstance(exc, RequestRefused):
        extra["problems"] = [
            {"location": exc.location, "expected": p.expected, "found": p.found}
            for p in exc.problems
        ]
    elif isinstance(exc, ValidationFailed):
        extra["problems"] = [asdict(p) for p in exc.problems]
    if isinstance(exc, RoleTooWeak):
        extra["role_needed"] = [r.value for r in exc.needed]
        extra["role_found"] = exc.found.value
    if isinstance(exc, PlanNotSolved) and exc.run_id is not None:
        extra["run_id"] = exc.run_id  # typed, so a client need not read it from the detail
    if isinstance(exc, NotAuthenticated) and exc.expires_at is not None:
        extra["expires_at"] = _MOMENT.dump_python(exc.expires_at, mode="json")
    headers = dict(_HEADERS_FOR_STATUS.get(status, {}))
    if isinstance(exc, NotAuthenticated) and exc.reason in _INVALID_TOKEN:
        # a key sent but refused: RFC 6750 3.1, so a client knows to get a new key rather
        # than to send one
        headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
    if isinstance(exc, InProgress):
        headers["Location"] = exc.location
    code = _code_for(exc, status)
    return problem(status, title, str(exc), headers=headers or None, code=code, **extra)


# The API's answers (`...Public` in api/schemas.py, used only to answer): a route builds one
# from what is stored, so one that does not validate is the server's fault, never the request's.
_ANSWER_SCHEMAS = frozenset(
    name
    for name, kind in vars(schemas).items()
    if isinstance(kind, type) and issubclass(kind, BaseModel) and name.endswith("Public")
)


def _answer_invalid(exc: Exception) -> bool:
    """Whether `exc` is pydantic's refusal of an answer the server built (a stored plan's row
    that no longer fits its schema), not of anything the client sent. A plan table's rows are
    validated as a list (api/plan_tables.py `public_rows`), titled `list[PlanHoursRowPublic]`."""
    if not isinstance(exc, SchemaValidationError):
        return False
    title = exc.title.removeprefix("list[").removesuffix("]")
    return title in _ANSWER_SCHEMAS


# The ValueErrors that are the request's fault: an engine's input error (the plan or forecast
# asked for cannot be made from the config and data sent), and pydantic's refusal of a value
# a route validates itself (a config validator's ConfigValueError within it). Any other
# ValueError reaching a handler is a bug.
_INPUT_ERRORS = (PlanInputError, ForecastInputError, SchemaValidationError, ConfigValueError)


async def _value_error(request: Request, exc: Exception) -> JSONResponse:
    """Engine input errors (ForecastInputError, PlanInputError) and pydantic's are ValueErrors,
    answered as invalid input: 422; a PlanInputError names its field, expected and found, so
    it is located like the rest. Any other ValueError is a bug, a 500 (`_unexpected`, logged
    with an error id): it was a 422 "Invalid input" quoting Python's message (an answer that
    failed to encode a lone surrogate: "'utf-8' codec can't encode character"). So is an
    answer of the server's own that fails its schema: it was a 422 to a request with nothing
    wrong in it, whose detail quoted the stored values pydantic refused."""
    if _answer_invalid(exc) or not isinstance(exc, _INPUT_ERRORS):
        return await _unexpected(request, exc)
    if isinstance(exc, PlanInputError):
        located = [
            {"location": _plan_input(each), "expected": each.expected, "found": each.found}
            for each in exc.each
        ]
        detail = listed(exc.each, lambda each: _plan_input_detail(each, _plan_input(each)))
        return problem(422, _title(422), detail, problems=located)
    return problem(422, _title(422), str(exc))


def _plan_input_detail(exc: PlanInputError, location: str) -> str:
    """A plan input error's message, naming a field a plan gives by index as pydantic does
    (`districts.2.id`, a district with no forecast) at its problem's location instead
    (`body/config/districts/2/id`): one place written two ways in one answer. A field named
    by id (`services[ot].cost_per_hour_gbp_by_year`) or as the config names it
    (`fees.by_year`, as `config_changes` does) is kept, as a person reads the config."""
    if _INDEXED_FIELD.fullmatch(exc.field) is None:
        return str(exc)
    return f"{location}: expected {exc.expected}, found {exc.found}"


class PlanInputAt(PlanInputError):
    """A PlanInputError with where its field is in the config planned (`path`, `field_path`'s:
    `("services", 0, "cost_per_hour_gbp_by_year")`, () where it names no field of it); its
    message is the error's own, naming the field by id (`services[ot]...`) for a person."""

    def __init__(self, exc: PlanInputError, path: tuple[str | int, ...]) -> None:
        super().__init__(exc.field, exc.expected, exc.found)
        self.path = path


def located_in(exc: PlanInputError, config: PlanningConfig | None) -> PlanInputError:
    """`exc` with each of its problems located at its field's index path in `config` (None:
    none to locate in), as PlanInputAt; several together as PlanInputProblems of them."""
    at = [
        PlanInputAt(each, () if config is None else field_path(config, each.field))
        for each in exc.each
    ]
    return at[0] if len(at) == 1 else PlanInputProblems(at)


def _plan_input(exc: PlanInputError) -> str:
    """Where a plan's input error is: the demand read from the stored forecasts
    (`demand...`), or the planning config's field by its index path
    (`body/config/services/0/cost_per_hour_gbp_by_year`, `body/config/horizon_periods`),
    where pydantic locates its own problems with the config sent, so a form finds both in the
    JSON it sent one way (a route that knows the config raises PlanInputAt). With no config
    sent it is the active config's field, located as if sent."""
    if isinstance(exc, PlanInputAt) and exc.path:
        return pointer(("body", "config", *exc.path))
    field = exc.field
    return field if field.startswith("demand") else pointer(("body", "config", *field.split(".")))


# a list item's field named by its id (`districts[rugby].capital_by_year_gbp`), or by its index
# (`districts.2.id`, as a plan names a district with no forecast)
_LISTED_FIELD = re.compile(r"(districts|teams|services)\[(.+)\]\.(\w+)")
_INDEXED_FIELD = re.compile(r"(districts|teams|services)\.(\d+)\.(\w+)")


def field_path(config: PlanningConfig, field: str) -> tuple[str | int, ...]:
    """Where a plan's refusal (a PlanInputError's `field`) is in `config` as sent, as a path
    of its JSON: a top-level field (`horizon_periods`), a district's, team's or service's
    field named by id at that item's position in `config`'s list (`districts[rugby].
    capital_by_year_gbp` at districts/2/..., `teams[north].revenue_budget_gbp_by_year` at
    teams/0/..., `services[domcare].cost_per_hour_gbp_by_year` at services/3/...) or by index
    (`districts.2.id`), or a section's field (`fees.by_year` at fees/by_year); () where
    `config` has no such field (an id it does not list). POST /v1/configs locates them so
    under `body/`, POST /v1/plans and sweeps under `body/config/`."""
    if field in PlanningConfig.model_fields:
        return (field,)
    section, _, inner = field.partition(".")
    if section == "fees" and inner in FeesConfig.model_fields:
        return (section, inner)
    listed: dict[str, list[str]] = {
        "districts": [d.id for d in config.districts],
        "teams": [t.id for t in config.teams],
        "services": [s.id for s in config.services],
    }
    indexed = _INDEXED_FIELD.fullmatch(field)
    if indexed is not None:
        index = int(indexed[2])
        return (indexed[1], index, indexed[3]) if index < len(listed[indexed[1]]) else ()
    match = _LISTED_FIELD.fullmatch(field)
    if match is None:
        return ()
    ids = listed[match[1]]
    return (match[1], ids.index(match[2]), match[3]) if match[2] in ids else ()


async def _request_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    body_field = getattr(request.scope.get("route"), "body_field", None)
    body_model = getattr(getattr(body_field, "field_info", None), "annotation", None)
    problems = [_located(err, body_model) for err in exc.errors()]
    sent_as = _not_json(request) if body_field is not None else None
    unread = [e for e in exc.errors() if tuple(e.get("loc", ())) == ("body",)]
    if sent_as is not None and any(e.get("type") != "missing" for e in unread):
        # the body was not read as JSON at all: its own "found" would be Python's b'{...}';
        # a query or path problem of the same request is still said
        problems = [
            {
                "location": "header/Content-Type",
                "expected": "application/json: the body is a JSON object",
                "found": sent_as,
            },
            *(p for p in problems if p["location"] != "body"),
        ]
    detail = "; ".join(
        f"{p['location']}: {p['expected']}, found {p['found']}" for p in problems[:10]
    )
    return problem(422, _title(422), detail, problems=problems)


def _not_json(request: Request) -> str | None:
    """How the request's Content-Type was sent when FastAPI does not read the body as JSON
    (a form, text/plain, no header at all); None for JSON (`application/json`, `...+json`)."""
    sent = request.headers.get("content-type", "")
    media = sent.split(";")[0].strip().lower()
    if media == "application/json" or media.endswith("+json"):
        return None
    return repr(sent) if sent else "no Content-Type header"


# FastAPI's 400 for a JSON body it could not decode, with what broke as its cause
_UNPARSED_BODY = "There was an error parsing the body"


def _unparsed_body(exc: StarletteHTTPException) -> JSONResponse:
    """A JSON body FastAPI could not decode (bytes that are not UTF-8, JSON nested past
    Python's recursion limit), answered as every other unreadable body: 422 at `body`; one
    api/bodies.py `decode_json` refused (a key twice, a lone surrogate, a number too long to
    read), 422 at each place in it."""
    cause = exc.__cause__
    if isinstance(cause, JsonBodyRefused):  # api/bodies.py `decode_json`: located in the body
        detail = "; ".join(
            f"{p['location']}: {p['expected']}, found {p['found']}" for p in cause.problems[:10]
        )
        return problem(422, _title(422), detail, problems=cause.problems)
    if isinstance(cause, UnicodeDecodeError):
        found = f"bytes that are not UTF-8 text (byte {cause.start})"
    elif isinstance(cause, RecursionError):
        found = "JSON nested too deep to read"
    else:
        found = f"a body that could not be read ({type(cause).__name__ if cause else 'unknown'})"
    problems = [{"location": "body", "expected": "a JSON body (UTF-8 text)", "found": found}]
    detail = f"body: a JSON body (UTF-8 text), found {found}"
    return problem(422, _title(422), detail, problems=problems)


# `/v1/plans/latest.csv` and `/v1/plans/3.csv`: a whole plan is JSON, its tables are CSV
_PLAN_CSV = (
    "a plan's id, a whole number (a plan is JSON; each of its tables is a CSV download at "
    "/v1/plans/{plan_id}/{table}.csv or /v1/plans/latest/{table}.csv, e.g. "
    "/v1/plans/latest/hours.csv; /docs lists the tables)"
)


def _located(err: Any, body_model: Any = None) -> dict[str, str]:
    """One request error as location, expected, found; said plainly where pydantic is not.
    ``body_model``: the route's body model, whose fields name what an unknown field meant."""
    location = pointer(err.get("loc", ()))
    if err.get("type") == "json_invalid":  # FastAPI reports the input as {}: say what broke
        where = f"(character {err['loc'][-1]})" if len(err.get("loc", ())) > 1 else ""
        found = f"{err.get('ctx', {}).get('error', 'invalid JSON')} {where}".strip()
        return {"location": "body", "expected": "a JSON body", "found": found}
    if err.get("type") == "missing":  # the input is the parent object, not the missing value
        return {"location": location, "expected": "a value (it is required)", "found": "nothing"}
    refused = refused_value(err)
    if refused is not None:  # a config validator's: the field it names, and that field's value
        where = pointer(refused.loc)
        return {"location": where, "expected": refused.expected, "found": refused.found}
    loc = tuple(err.get("loc", ()))
    if err.get("type") == "extra_forbidden" and loc[:1] == ("body",):
        model = body_model if isinstance(body_model, type) else None
        expected = unknown_field_expected(model, loc[1:])
        return {"location": location, "expected": expected, "found": json_text(err.get("input"))}
    # a JSON body's value as JSON (null, true); a query or path value is text, quoted as
    # pydantic quotes the values it expects
    value = err.get("input")
    if loc == ("path", "plan_id") and str(value).lower().endswith(".csv"):
        return {"location": location, "expected": _PLAN_CSV, "found": repr(value)[:200]}
    if loc[:1] == ("body",):
        found = json_text(value)
    elif isinstance(value, list):  # a query parameter given more than once: each value
        found = ", ".join(repr(v) for v in value)[:200]
    else:
        found = repr(value)[:200]
    return {
        "location": location,
        "expected": str(err.get("msg", "")).removeprefix("Value error, "),
        "found": found,
    }


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    """Starlette's own errors (no such route, a method the route lacks), titled as ours are."""
    assert isinstance(exc, StarletteHTTPException)
    detail = str(exc.detail)
    if exc.status_code == 400 and detail == _UNPARSED_BODY:
        if isinstance(exc.__cause__, ClientDisconnect):
            raise exc.__cause__  # no one to answer: UnhandledErrors notes it for the access log
        return _unparsed_body(exc)
    code: ProblemCode | None = None
    if exc.status_code == 404 and detail == HTTPStatus.NOT_FOUND.phrase:
        code = "no_such_route"
        detail = no_route(request)
    headers = dict(exc.headers) if exc.headers else None
    if exc.status_code == 405:
        # RFC 9110 requires Allow: every method the path answers, not only the first route's
        allowed = _methods_on(request)
        headers = (headers or {}) | {"Allow": allowed}
        detail = f"{request.method} is not allowed on {request.url.path}; allowed: {allowed}"
    return problem(exc.status_code, _title(exc.status_code), detail, headers=headers, code=code)


def no_route(request: Request) -> str:
    """No route has the path: said so, and where a trailing slash is all that is wrong (the
    app redirects none: a redirect's Location would be absolute, and plain http behind a TLS
    proxy), the path without it. A route whose path ends in a `{...:path}` parameter matches
    a trailing slash too, and refuses it with this (api/routes/series.py `series_id_path`)."""
    path = request.url.path
    bare = path.rstrip("/")
    if bare != path and bare and _methods_on(request, bare):
        return f"nothing at {path}; drop the trailing slash: {bare}"
    listed = "; /docs lists every endpoint" if request.app.openapi_url else ""  # HOMEWARD_DOCS
    return f"nothing at {path}{listed}"


_METHODS = ("DELETE", "GET", "PATCH", "POST", "PUT")


def _methods_on(request: Request, path: str | None = None) -> str:
    """The methods some route answers on the request's path, or `path` (each route has its own;
    Starlette names only the first's): those a route fully matches the path with, and HEAD
    wherever GET is (every GET also answers HEAD: api/app.py HeadAsGet)."""
    scope = request.scope if path is None else {**request.scope, "path": path}
    allowed = {
        method
        for method in _METHODS
        if any(
            route.matches({**scope, "method": method})[0] is Match.FULL
            for route in request.app.router.routes
        )
    }
    if "GET" in allowed:
        allowed.add("HEAD")
    return ", ".join(sorted(allowed))


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The database is down or unreachable: 503, not a 500 that reads like a bug. The answer
    names the backend only: it goes to callers without a key too (/readyz, /healthz, a key
    check that could not read the keys), who should not learn the database's host, port or
    file. The log line, read by whoever runs the service, says which database and what
    failed."""
    url = _database_url(request)
    error_id = new_error_id()
    _log_unavailable(request, exc, url, error_id)
    backend = f"the {url.get_backend_name()} database" if url is not None else "the database"
    failed = _POOL_EXHAUSTED if isinstance(exc, PoolTimeoutError) else "did not answer"
    detail = (
        f"database unavailable: {backend} {failed} (the server log says more); try again shortly"
    )
    headers = dict(_HEADERS_FOR_STATUS[503])
    return problem(503, _title(503), detail, headers=headers, error_id=error_id)


# /readyz's and /healthz's operations: probed every few seconds, so their failures are logged
# as one outage of the database (api/readiness.py), not one ERROR a probe
PROBE_OPERATIONS = frozenset({"get_readiness", "get_health"})


def _log_unavailable(request: Request, exc: Exception, url: URL | None, error_id: str) -> None:
    """The log line of a 503, naming the database and what failed. A failing /readyz logs
    its first failure so, then at most a line every few minutes saying how many it did not (and
    a failing /healthz with it: both probe the one database)."""
    said = _readiness_failed(request, error_id)
    if said is False:
        return
    where = (error_id, request.method, mask_keys(request.url.path), request_id_of(request))
    what = (_which(url), _what_failed(exc, url))
    if said is True:
        log.error("database unavailable, error %s in %s %s (request %s): %s %s", *where, *what)
        return
    log.error(
        "database still unavailable after %s, error %s in %s %s (request %s): %s %s (%s)",
        duration_text(said.outage_s),
        *where,
        *what,
        unlogged_text(said.probes, said.latest_error_id),
    )


def _readiness_failed(request: Request, error_id: str) -> Unlogged | bool:
    """For a failed /readyz or /healthz, what its app's ReadinessLog says to log; True for any
    other request."""
    route = request.scope.get("route")
    readiness = getattr(request.app.state, "readiness", None)
    if getattr(route, "operation_id", None) not in PROBE_OPERATIONS or readiness is None:
        return True
    assert isinstance(readiness, ReadinessLog)
    return readiness.failed(error_id)


def _database_url(request: Request) -> URL | None:
    factory = getattr(request.app.state, "session_factory", None)
    bind = getattr(factory, "kw", {}).get("bind")
    url = getattr(bind, "url", None)
    return url if isinstance(url, URL) else None


def _which(url: URL | None) -> str:
    """The database by backend, host, port and name; never its user or password."""
    if url is None:
        return "the database"
    backend = url.get_backend_name()
    if backend == "sqlite":
        name = (url.database or "").rsplit("/", 1)[-1] or "in memory"
        return f"the sqlite database {name!r}"
    where = f"{url.host or 'localhost'}" + (f":{url.port}" if url.port else "")
    return f"the {backend} database {url.database or ''!r} at {where}"


_POOL_EXHAUSTED = "gave no connection in time (every pooled connection is busy)"


def _what_failed(exc: Exception, url: URL | None) -> str:
    """The driver's own first line (e.g. 'Connection refused'), with any password blanked."""
    if isinstance(exc, PoolTimeoutError):
        return _POOL_EXHAUSTED
    orig = getattr(exc, "orig", None) or exc
    reason = (str(orig).strip().splitlines() or [type(orig).__name__])[0][:300]
    if url is not None and url.password:
        reason = reason.replace(str(url.password), "***")
    return f"did not answer: {reason}"


def new_error_id() -> str:
    """A short id for one error, sent to the client and written in the log line about it."""
    return secrets.token_hex(6)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    """A bug: 500 with an `error_id` the user can quote, logged with the traceback. Sent by
    UnhandledErrors, or by Starlette outside every middleware for an exception raised in one,
    so the request's X-Request-ID is added here too."""
    error_id = new_error_id()
    request_id = request_id_of(request)
    log.error(
        "unhandled error %s in %s %s (request %s)",
        error_id,
        request.method,
        mask_keys(request.url.path),
        request_id,
        exc_info=exc,
    )
    detail = f"an unexpected error occurred; it has been logged as error {error_id}"
    headers = {REQUEST_ID_HEADER: request_id} if request_id is not None else None
    return problem(500, _title(500), detail, headers=headers, error_id=error_id)


class UnhandledErrors:
    """Answers an exception no handler took as the 500 of `_unexpected`, logged once (with its
    traceback, error id and request id), and raises it no further. It sits inside the access
    log, RequestId and CORS (api/app.py), so a 500 gets its X-Request-ID, CORS headers and an
    access line written after it, like any other answer. Starlette's own 500 was sent outside
    them all, then the exception went on to uvicorn, which logged the traceback again without
    the ids. An exception after the answer began is logged the same way; the client then sees
    the connection close before the body ends. A client that closed the connection while its
    body was read (an aborted upload) is no error and has no one to answer: it is noted for
    the access line only."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def noting_start(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, noting_start)
        except ClientDisconnect:
            note_client_gone(scope)
        except Exception as exc:
            response = await _unexpected(Request(scope, receive), exc)
            if not started:
                await response(scope, receive, send)


# What a database that refuses, fails or hangs raises: each a 503 `database_unavailable`
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError, PoolTimeoutError, ProbeTimedOut)


def install(app: FastAPI) -> None:
    """Register every handler on the app, and have its OpenAPI document say what they send."""
    app.add_exception_handler(HomewardError, _homeward_error)
    app.add_exception_handler(ValueError, _value_error)
    # a route's return value that fails its response_model: the server's fault, as above
    app.add_exception_handler(ResponseValidationError, _unexpected)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    for unavailable in DATABASE_UNAVAILABLE:
        app.add_exception_handler(unavailable, _database_unavailable)
    # an exception raised outside UnhandledErrors (in a middleware around it) still gets a
    # problem+json 500 from Starlette, which then hands it on to uvicorn as well
    app.add_exception_handler(Exception, _unexpected)
    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            document = build()  # build() keeps the document it makes on the app
            _as_problems(document)
            _host_checked(document)
            _conditional_gets(document)
            _never_stored(document)
            _omitted_not_null(document)
            _database_free(document)
            _request_ids(document)
        assert app.openapi_schema is not None
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way


# api/app.py's ConditionalGet tags every 200 to a GET under /v1 (a plan route tags its own:
# api/etags.py) and answers 304 to a matching If-None-Match; middleware is invisible to
# FastAPI's document, so it is said here.
_TAGGED = {
    "ETag": {
        "description": 'a weak tag of this answer (W/"..."): send it back as If-None-Match',
        "required": True,
        "schema": {"type": "string"},
    },
}
# api/security_headers.py's: on every answer under /v1, errors and 304s too
_NO_STORE = {
    "Cache-Control": {
        "description": "always `no-store`: neither a browser nor a proxy keeps the answer; a "
        "client keeping its own copy of a GET's sends its ETag back as If-None-Match",
        "required": True,
        "schema": {"type": "string"},
    },
}
_NOT_MODIFIED = {
    "description": "Not modified: the request's If-None-Match holds this answer's ETag, so "
    "the copy the client has is current; no body",
    "headers": {"ETag": _TAGGED["ETag"]},
}


# Answered without the database, a key or a body to read (GET /livez): the 500 and 503 the app
# documents on every route are not this route's to send.
DATABASE_FREE_OPERATIONS = frozenset({"get_liveness"})
# Answered whatever the Host or proxy (api/host_check.py), as they are without a key: an
# orchestrator or load balancer probes by IP address, and these say nothing a caller may act on.
PROBES = frozenset({"/livez", "/readyz", "/healthz"})
# api/host_check.py's refusals, sent before any route runs, so on every path but the probes
_MISDIRECTED = (
    "Misdirected request, code `host_not_allowed`: the request's Host is not a name "
    "HOMEWARD_ALLOWED_HOSTS lists (unset, with keys off: localhost, 127.0.0.1 or [::1])"
)
_PROXIED = (
    "with HOMEWARD_AUTH=off (no keys: every request acts as admin), a request that came "
    "through a proxy (it carries a header a proxy adds: X-Forwarded-For, Forwarded, Via, "
    "X-Real-IP and the like), code "
    "`proxied_with_auth_off`: only this machine's own clients are answered then"
)
# api/request_ids.py's: on every answer, errors, 304s and the probes too
_REQUEST_ID = {
    REQUEST_ID_HEADER: {
        "description": "the request's own X-Request-ID when it is at most 64 characters of "
        "`A-Za-z0-9._-`, else a new one; the server's log lines about the request name it",
        "required": True,
        "schema": {"type": "string"},
    },
}


def _host_checked(document: dict[str, Any]) -> None:
    """Every path but the probes: the 421 a Host not allowed gets, and the 403 a proxied
    request gets with keys off (a route's own 403, a role too weak, then says both)."""
    problem_body = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemPublic"}}}
    for path, operations in document.get("paths", {}).items():
        if path in PROBES:
            continue
        for operation in operations.values():
            responses = operation["responses"]
            role = responses.get("403", {}).get("description")
            said = f"{role}; or, {_PROXIED}" if role else _PROXIED[:1].upper() + _PROXIED[1:]
            responses["403"] = responses.get("403", {}) | {
                "description": said,
                "content": problem_body,
            }
            responses["421"] = {"description": _MISDIRECTED, "content": problem_body}
            operation["responses"] = dict(sorted(responses.items()))


def _request_ids(document: dict[str, Any]) -> None:
    """Every answer of every operation carries X-Request-ID (api/request_ids.py)."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation["responses"]
            for status, response in responses.items():  # copied: a response may be shared
                responses[status] = response | {
                    "headers": response.get("headers", {}) | _REQUEST_ID
                }


def _database_free(document: dict[str, Any]) -> None:
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            if operation.get("operationId") in DATABASE_FREE_OPERATIONS:
                for status in ("500", "503"):
                    operation["responses"].pop(status, None)


def _omitted_not_null(document: dict[str, Any]) -> None:
    """An optional query or header parameter is left out, never sent as null (a query has no
    null: `?scenario=null` is a 422, `?prefix=null` a filter on 'null'), so its schema is the
    value's alone and a generated client does not offer `null` for it."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []):
                schema = parameter["schema"]
                kept = [s for s in schema.get("anyOf", []) if s != {"type": "null"}]
                if not parameter.get("required") and len(kept) == 1:
                    rest = {k: v for k, v in schema.items() if k != "anyOf"}
                    parameter["schema"] = kept[0] | rest


def _never_stored(document: dict[str, Any]) -> None:
    """Every answer under /v1, whatever its status, says `Cache-Control: no-store`."""
    for path, operations in document.get("paths", {}).items():
        if not path.startswith("/v1/"):
            continue
        for operation in operations.values():
            responses = operation["responses"]
            for status, response in responses.items():  # copied: a response may be shared
                responses[status] = response | {"headers": response.get("headers", {}) | _NO_STORE}


def _conditional_gets(document: dict[str, Any]) -> None:
    """Every GET under /v1: its 200's ETag, and the 304 a request whose
    If-None-Match holds that ETag gets (If-None-Match is not listed as a parameter: it is an
    HTTP cache header, which a client's HTTP library may send for it)."""
    for path, operations in document.get("paths", {}).items():
        operation = operations.get("get")
        if not path.startswith("/v1/") or operation is None:
            continue
        responses = operation["responses"]
        ok = responses["200"]
        ok["headers"] = ok.get("headers", {}) | _TAGGED
        responses["304"] = _NOT_MODIFIED
        operation["responses"] = dict(sorted(responses.items()))


def _as_problems(document: dict[str, Any]) -> None:
    """Error responses as they are sent: application/problem+json, never FastAPI's default
    422 body (which the handlers above replace); routes declare their 422 with the rest."""
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.get("responses", {})
            if _is_fastapi_default_422(responses.get("422")):
                del responses["422"]
            for status, response in responses.items():
                content = response.get("content", {})
                if str(status)[:1] in ("4", "5") and "application/json" in content:
                    content[PROBLEM_JSON] = content.pop("application/json")
            operation["responses"] = dict(sorted(responses.items()))
    schemas = document.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)


def _is_fastapi_default_422(response: dict[str, Any] | None) -> bool:
    schema = (response or {}).get("content", {}).get("application/json", {}).get("schema", {})
    return bool(schema.get("$ref", "").endswith("/HTTPValidationError"))
