"""Dependency aliases used by every route: a database session, the settings, and the key check."""

from __future__ import annotations

import base64
import binascii
import difflib
from collections import abc
from collections.abc import Callable, Coroutine, Iterator
from typing import Annotated, Any, get_args, get_origin

from fastapi import Depends, Path, Query, Request, Response, Security
from fastapi.concurrency import run_in_threadpool
from fastapi.dependencies.models import Dependant
from fastapi.dependencies.utils import get_dependant
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.models import HTTPBase as HTTPBaseModel
from fastapi.routing import APIRoute
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.base import SecurityBase
from sqlalchemy.orm import Session, sessionmaker
from starlette.types import Message, Receive

from api.bodies import JsonBodyRequest, read_within
from api.errors import error_responses
from homeward import api_keys
from homeward.api_keys import Caller, NotAuthenticated
from homeward.clock import utcnow
from homeward.roles import Action, Role, roles_allowing
from homeward.settings import Settings


def get_factory(request: Request) -> sessionmaker[Session]:
    """The session factory made at start-up."""
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def get_session(request: Request) -> Iterator[Session]:
    """A session for one request; commits on success, rolls back on error."""
    factory = get_factory(request)
    with factory() as session, session.begin():
        yield session


def get_settings(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


# Ids are 32-bit integer columns; a bound here turns an absurd id or offset into a 422 naming
# it, where SQLite would otherwise fail to bind it (OverflowError, a 500).
MAX_ID = 2**31 - 1
IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_ID, description="skip this many, newest first")]
# a page's cursor: unlike `offset`, a row made meanwhile shifts nothing
BeforeIdQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_ID,
        description="only those older than this id: the last id of the page before, to page "
        "while new ones are being made (a new one shifts every offset by one)",
    ),
]

# scope="function": the commit happens before the response is sent, so a 201 means stored
# (the default scope would commit after the client already has its answer).
SessionDep = Annotated[Session, Depends(get_session, scope="function")]
FactoryDep = Annotated[sessionmaker[Session], Depends(get_factory)]
SettingsDep = Annotated[Settings, Depends(get_settings)]


class KeyAsBasicPassword(SecurityBase):
    """HTTP Basic credentials whose password is an API key, for clients that can hold a secret
    only as a user name and password: Power BI's gateway and Power Query keep a Basic
    credential encrypted, where a header written into the query is readable by everyone who can
    edit the report. The user name is not read (nothing about the caller is in it: the key's
    name is; Power BI insists on one). Declared in the OpenAPI document as its `basic` scheme;
    it gives the key check the credentials as sent, decoded (`key_from_basic`) only when no
    Bearer or X-API-Key key came, so a Basic header that is no key (nginx's own `auth_basic` in
    front, passing its header on) beside an X-API-Key refuses nothing."""

    def __init__(self, description: str) -> None:
        self.model = HTTPBaseModel(scheme="basic", description=description)
        self.scheme_name = "HTTPBasic"

    async def __call__(self, request: Request) -> str | None:
        sent = request.headers.get("authorization", "").strip()
        scheme, _, credentials = sent.partition(" ")
        return credentials.strip() if scheme.lower() == "basic" else None


# The three schemes appear in the OpenAPI document; none raises by itself, so a missing key
# becomes the same problem+json 401 as an unknown one.
_bearer = HTTPBearer(auto_error=False, description="an API key: `Authorization: Bearer <key>`")
_api_key_header = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="the same API key in an `X-API-Key` header"
)
_basic = KeyAsBasicPassword(
    "the same API key as the password of Basic credentials, any user name (`apikey`): "
    "for clients such as Power BI that store a user name and password"
)
BearerDep = Annotated[HTTPAuthorizationCredentials | None, Security(_bearer)]
ApiKeyHeaderDep = Annotated[str | None, Security(_api_key_header)]
BasicDep = Annotated[str | None, Security(_basic)]

_BASIC_EXPECTED = (
    "expected `Authorization: Basic base64(user:key)` with the API key as the password and any "
    "user name, e.g. `apikey` (`curl -u apikey:KEY`)"
)


def key_from_basic(credentials: str) -> str:
    """The key sent as the password of Basic credentials; NotAuthenticated saying what is
    wrong with them, never what they hold."""
    try:
        decoded: str | None = base64.b64decode(credentials, validate=True).decode("utf-8")
    except (binascii.Error, ValueError):  # not base64, or not UTF-8 once decoded
        decoded = None
    if not credentials:
        found = "'Basic' with nothing after it"
    elif decoded is None:
        found = "Basic credentials that are not base64"
    elif ":" not in decoded:
        found = "Basic credentials with no ':' between a user name and a password"
    else:
        user, _, password = decoded.partition(":")
        if password:
            return password
        # refused, not taken: a proxy's access log writes the user name (nginx's $remote_user)
        said = " and the key as the user name" if api_keys.KEY_LIKE.fullmatch(user) else ""
        raise NotAuthenticated(
            f"{_BASIC_EXPECTED}, found Basic credentials with an empty password{said}", "no_key"
        )
    raise NotAuthenticated(f"{_BASIC_EXPECTED}, found {found}", "bad_basic")


async def sent_credentials(
    request: Request,
) -> tuple[HTTPAuthorizationCredentials | None, str | None, str | None]:
    """The key a request sent, as each scheme reads it (`Authorization: Bearer`, X-API-Key,
    Basic credentials as sent): what a check in CHECKS is given."""
    return await _bearer(request), await _api_key_header(request), await _basic(request)


def sent_key(
    bearer: HTTPAuthorizationCredentials | None, header: str | None, basic: str | None
) -> str | None:
    """The key of `sent_credentials`: Bearer's, else X-API-Key's, else the Basic password
    (NotAuthenticated for Basic credentials that hold none); None if none was sent."""
    if bearer is not None:
        return bearer.credentials
    if header is not None:
        return header
    return key_from_basic(basic) if basic is not None else None  # a key as any other


def _caller(request: Request, secret: str | None) -> Caller:
    """Who sent the request, decided once per request (NotAuthenticated if nobody valid)."""
    cached: Caller | None = getattr(request.state, "caller", None)
    if cached is not None:
        return cached
    if get_settings(request).auth == "off":
        caller = api_keys.AUTH_OFF
    else:
        factory, now = get_factory(request), utcnow()
        with factory() as session:
            caller = api_keys.authenticate(session, secret, now)
        caller = api_keys.record_use(factory, caller, now)  # in its own, brief transaction
    request.state.caller = caller
    return caller


def _checker(action: Action) -> Callable[..., Caller]:
    def check(
        request: Request, bearer: BearerDep, header: ApiKeyHeaderDep, basic: BasicDep
    ) -> Caller:
        secret = None
        if get_settings(request).auth != "off":
            secret = sent_key(bearer, header, basic)
            if secret is None:
                _refuse_other_schemes(request)
                _refuse_key_in_url(request)
        caller = _caller(request, secret)
        api_keys.authorise(caller, action, f"{request.method} {request.url.path}")
        return caller

    check.__name__ = f"require_{action.name.lower()}"
    return check


def _refuse_other_schemes(request: Request) -> None:
    """An Authorization header of another scheme (`Token <key>`, `Digest ...`) was told 'this
    request needs an API key', as if none had been sent: say what was sent instead."""
    sent = request.headers.get("authorization", "").strip()
    if not sent:
        return
    parts = sent.split(maxsplit=1)
    # never the header's value itself: a key sent without its scheme would be echoed
    if len(parts) == 1 and parts[0].lower() == "bearer":
        found = "'Bearer' with no key after it (an unset variable in the command?)"
    elif len(parts) == 1:
        found = "a value with no scheme before it (write 'Bearer ' before the key)"
    elif len(parts[0]) <= 20 and parts[0].isalnum():
        found = f"of scheme {parts[0]!r}"
    else:
        found = "of a scheme other than Bearer"
    raise NotAuthenticated(
        "expected `Authorization: Bearer <key>` (or the key in an `X-API-Key` header, or as "
        f"the password of Basic credentials), found an Authorization header {found}",
        "not_bearer",
    )


def _refuse_key_in_url(request: Request) -> None:
    """A key sent in the URL alone (`?api_key=hw_...`, as a tool's "Web API" credential may
    put it) was told 'this request needs an API key' as if none had been sent: say that a URL's
    key is never read, and that it is now in logs and history, so it should be replaced."""
    sent = str(request.url)
    if api_keys.mask_keys(sent) == sent:
        return
    raise NotAuthenticated(
        f"this request needs an API key: send {api_keys.HOW_TO_SEND}; found one in the URL, "
        "where a key is never read (a URL is kept in logs, proxies and browser history: "
        "replace that key, `homeward keys rotate NAME`)",
        "no_key",
    )


def get_actor(request: Request) -> str:
    """Who a request's writes are recorded under (`created_by`, the audit trail:
    homeward.audit): its key's name, never the secret, or `(auth off)` with keys off. The key
    check has run by then (AuthFirstRoute)."""
    caller: Caller = request.state.caller
    return caller.name


ActorDep = Annotated[str, Depends(get_actor)]


CHECKS: dict[Action, Callable[..., Caller]] = {action: _checker(action) for action in Action}
_ACTION_OF = {check: action for action, check in CHECKS.items()}


def allowed(action: Action) -> Any:
    """A route dependency: 401 without a valid key, 403 if its role may not do `action`."""
    return Security(CHECKS[action])


RouteHandler = Callable[[Request], Coroutine[Any, Any, Response]]


def _auth_responses(actions: list[Action]) -> dict[int | str, dict[str, Any]]:
    """The errors the key check of a route doing `actions` can send, for its OpenAPI entry."""
    if not actions:
        return {}
    some_role_may_not = any(len(roles_allowing(a)) < len(Role) for a in actions)
    return error_responses(401, 403) if some_role_may_not else error_responses(401)


# a route's own 422 (a body, a path or a query value refused) says more, and is kept
_UNKNOWN_QUERY = error_responses(
    422,
    said={
        422: "Invalid input: a query parameter the endpoint does not take (`problems` names "
        "it, with the nearest one it does take)"
    },
)


# a route reading a JSON body reads it within HOMEWARD_MAX_JSON_BYTES
_JSON_TOO_LARGE = error_responses(
    413,
    said={
        413: "a JSON body over the server's limit (`HOMEWARD_MAX_JSON_BYTES`, 1 MiB unless "
        "set), refused unread (from its Content-Length, or as soon as a chunked body passes "
        "it); the connection is closed. Its one problem is located at `body`, as a JSON "
        "body's are, with the limit `expected` and the size `found`"
    },
)


class AuthFirstRoute(APIRoute):
    """A route that checks the caller's key and role before its body is read or parsed, and
    documents the 401 (and, unless every role may, the 403) that check can send. A JSON body
    is then read within `HOMEWARD_MAX_JSON_BYTES` (413 past it), also documented.

    FastAPI decodes a JSON body before it solves any dependency, so without this a request
    with no key and a malformed body would get 422 and learn about the body before being
    told it may not ask at all. The dependency still runs (and reuses the caller found here)
    so the OpenAPI document keeps declaring both key schemes.
    """

    def __init__(self, path: str, endpoint: Callable[..., Any], **kwargs: Any) -> None:
        actions = [
            _ACTION_OF[dep.dependency]
            for dep in kwargs.get("dependencies") or ()
            if dep.dependency in _ACTION_OF
        ]
        reads_json = bool(get_dependant(path=path, call=endpoint).body_params)
        kwargs["responses"] = {
            **_auth_responses(actions),
            **_UNKNOWN_QUERY,  # every such route refuses them (`_refusing_unknown_query`)
            **(_JSON_TOO_LARGE if reads_json else {}),
            **(kwargs.get("responses") or {}),
        }
        super().__init__(path, endpoint, **kwargs)

    def get_route_handler(self) -> RouteHandler:
        handler = super().get_route_handler()
        if self.body_field is not None:  # a JSON body, which FastAPI reads whole
            handler = _json_body_within_limit(handler)
        handler = _refusing_unknown_query(handler, self.dependant)
        actions = [
            _ACTION_OF[dep.call] for dep in self.dependant.dependencies if dep.call in _ACTION_OF
        ]
        if not actions:
            return handler

        async def auth_first(request: Request) -> Response:
            bearer, header, basic = await sent_credentials(request)
            for action in actions:
                await run_in_threadpool(CHECKS[action], request, bearer, header, basic)
            return await handler(request)

        return auth_first


def _json_body_within_limit(handler: RouteHandler) -> RouteHandler:
    """The route's handler, given its JSON body read within `HOMEWARD_MAX_JSON_BYTES` (413
    past it, the rest unread): FastAPI reads a body whole before decoding it, so a 300 MB
    body took a gigabyte of memory to be refused. Runs after the key check. The body is then
    decoded by api/bodies.py `decode_json` (a key twice, a lone surrogate or a number too long
    to read is a located 422)."""

    async def within_limit(request: Request) -> Response:
        limit = get_settings(request).max_json_bytes
        expected = f"at most {limit:,} bytes (HOMEWARD_MAX_JSON_BYTES)"
        body = await read_within(request, limit, expected)
        return await handler(JsonBodyRequest(request.scope, _replaying(body, request.receive)))

    return within_limit


def _replaying(body: bytes, receive: Receive) -> Receive:
    """A receive channel that gives `body`, already read, whole, then waits on `receive`
    (for the client's disconnect)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if given:
            return await receive()
        given = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


# `_=1700000000000`: what jQuery's `cache: false` (and tools built on it) append so that a
# browser cache cannot answer; it asks nothing of the route, so it is not refused
CACHE_BUSTER = "_"


def _refusing_unknown_query(handler: RouteHandler, dependant: Dependant) -> RouteHandler:
    """The route's handler, first refusing (422) a query parameter the route does not take:
    a dashboard's `?page=2` or `?sort=-id` would otherwise be ignored and every row answered
    as if it had been understood. Each unknown name is one problem, with the nearest real
    name where one is close, among those the route's OpenAPI document lists (a plan table's
    JSON route takes every filter, but lists, and names here, only those its columns can
    answer: `revenue_by_year` none of district, service, team, from and to)."""
    known = sorted(_query_names(dependant))
    offered = sorted(_query_names(dependant, listed_only=True))
    repeatable = _list_query_names(dependant)

    async def checked(request: Request) -> Response:
        unknown = [
            name
            for name in dict.fromkeys(request.query_params)
            if name not in known and name != CACHE_BUSTER
        ]
        # `?scenario=true&scenario=false` was answered for the last alone, as if the first had
        # not been sent; a parameter that takes one value is refused twice, naming both
        repeated = [
            name
            for name in dict.fromkeys(request.query_params)
            if name in known
            and name not in repeatable
            and len(request.query_params.getlist(name)) > 1
        ]
        problems = [
            {
                "type": "extra_forbidden",
                "loc": ("query", name),
                "msg": _query_expected(name, offered),
                "input": request.query_params.get(name),
            }
            for name in unknown
        ] + [
            {
                "type": "value_error",
                "loc": ("query", name),
                "msg": "one value (this parameter is given once)",
                "input": request.query_params.getlist(name),
            }
            for name in repeated
        ]
        if problems:
            raise RequestValidationError(problems)
        return await handler(request)

    return checked


def _query_names(dependant: Dependant, listed_only: bool = False) -> set[str]:
    """The query parameters a route takes, its dependencies' included (`Dependant` is
    FastAPI's public record of a route's parameters); `listed_only`: only those its OpenAPI
    document lists."""
    names = {
        param.alias
        for param in dependant.query_params
        if not listed_only or getattr(param.field_info, "include_in_schema", True)
    }
    for sub in dependant.dependencies:
        names |= _query_names(sub, listed_only)
    return names


def _list_query_names(dependant: Dependant) -> set[str]:
    """The query parameters that take a list (`?district=a&district=b`), its dependencies'
    included."""
    names = {p.alias for p in dependant.query_params if _is_list(p.field_info.annotation)}
    for sub in dependant.dependencies:
        names |= _list_query_names(sub)
    return names


def _is_list(annotation: Any) -> bool:
    origin = get_origin(annotation)
    if origin in (list, tuple, set, frozenset, abc.Sequence):
        return True
    return any(_is_list(arg) for arg in get_args(annotation)) if origin is not None else False


def _query_expected(name: str, known: list[str]) -> str:
    if not known:
        return "no query parameters (this endpoint takes none)"
    near = difflib.get_close_matches(name, known, n=1)
    hint = f" (did you mean {near[0]!r}?)" if near else ""
    return f"one of this endpoint's query parameters: {', '.join(known)}{hint}"
