"""The access log: one line per request with its status, how long it took, the name of the
API key that sent it and, for a 401 or 403, why it was refused (a code, never the key or
header sent, but the name of a revoked or expired key; a key sent in the URL is masked)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from homeward.api_keys import AUTH_OFF, Caller, mask_keys

log = logging.getLogger("homeward.access")


# nginx's status for a request whose client closed the connection before it was answered
# (nothing was sent: the status is the log's alone)
CLIENT_CLOSED = 499


def note_refusal(request: Request, reason: str, key_name: str | None = None) -> None:
    """Record why a request was refused (401, 403) for its access log line (api/host_check.py
    records its 403 and 421 in the scope's state itself, having no Request), and the name of
    the key refused, for a revoked or expired one: its `key=`, as an accepted key's."""
    request.state.refusal = reason
    if key_name is not None:
        request.state.refused_key = key_name


async def answered(
    app: ASGIApp, scope: Scope, receive: Receive, send: Send, noted: Callable[[int, float], None]
) -> None:
    """Run `app` on the request, then tell `noted` its status and the seconds it took, even
    when it raised: no status sent is the client gone (499) or an error answered outside (500).
    The access log and the request metrics (api/metrics.py) both read a request so."""
    started = time.perf_counter()
    status: int | None = None  # until the answer starts

    async def noting_status(message: Message) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = int(message["status"])
        await send(message)

    try:
        await app(scope, receive, noting_status)
    finally:
        if status is None:
            status = CLIENT_CLOSED if scope.get("state", {}).get("client_gone") else 500
        noted(status, time.perf_counter() - started)


def note_client_gone(scope: Scope) -> None:
    """Record that the client closed the connection before its request was read whole (an
    aborted upload), for its access log line: 499, `reason=client_disconnected`."""
    scope.setdefault("state", {})["client_gone"] = True


class AccessLog:
    """`127.0.0.1:50312 "GET /v1/series HTTP/1.1" 401 3.1 ms reason=unknown_key request=ab12`
    or `... 200 12.0 ms key=bi-tool request=cd34` (the key's name, as `homeward keys list`
    shows it, never the key, also for a revoked or expired key, `401 ... reason=revoked_key
    key=old-tool`; none when no known key was checked or keys are off) at INFO on
    `homeward.access`, once the answer has been sent (uvicorn's own access log is off:
    `homeward serve` would otherwise log each request twice, once without the time). An
    unhandled error is answered (500) inside it (api/errors.py UnhandledErrors), so its line
    comes after the error's and its time includes the answer; one raised in a middleware
    around that is answered outside, and logged as 500 here. A client that closed the
    connection before its request was read is logged as 499 (`reason=client_disconnected`).
    An answered GET /metrics is logged at DEBUG (`_routine_scrape`)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})  # shared with the request's handlers

        def logged(status: int, seconds: float) -> None:
            elapsed_ms = seconds * 1000
            fields = _fields(scope, status, elapsed_ms, state)
            level = logging.DEBUG if _routine_scrape(scope, status) else logging.INFO
            log.log(level, "%s", _line(scope, status, elapsed_ms, state), extra=fields)

        await answered(self.app, scope, receive, send, logged)


# Prometheus scrapes GET /metrics every 15 to 60 s, from every server it watches: at INFO, one
# line each would be most of a quiet day's access log. An answered scrape is logged at DEBUG;
# one refused or failed is logged at INFO as any request is.
METRICS_PATH = "/metrics"


def _routine_scrape(scope: Scope, status: int) -> bool:
    return scope["path"] == METRICS_PATH and status < 400


def _line(scope: Scope, status: int, elapsed_ms: float, state: dict[str, object]) -> str:
    client = scope.get("client")
    # a proxy's X-Forwarded-For names the client: written so it cannot pass for more fields
    where = _escaped(f"{client[0]}:{client[1]}").replace(" ", "\\x20") if client else "-"
    target = _target(scope)
    request_line = f"{scope['method']} {_escaped(target)} HTTP/{scope.get('http_version', '1.1')}"
    parts = [where, f'"{request_line}"', str(status), f"{elapsed_ms:.1f} ms"]
    if status in (401, 403, 421):
        parts.append(f"reason={state.get('refusal', 'unknown')}")
    if state.get("client_gone"):
        parts.append("reason=client_disconnected")
    name = _key_name(state)
    if name is not None:
        parts.append(f"key={_escaped(name)}")
    if "request_id" in state:
        parts.append(f"request={state['request_id']}")
    return " ".join(parts)


def _key_name(state: dict[str, object]) -> str | None:
    """The name of the key that sent the request: the caller's, once a route's key check has
    accepted it (api/deps.py), or a revoked or expired key's, refused (note_refusal); None
    when no key was read, it was not known, or keys are off."""
    caller = state.get("caller")
    if isinstance(caller, Caller) and caller is not AUTH_OFF:
        return caller.name
    refused = state.get("refused_key")
    return refused if isinstance(refused, str) else None


def _target(scope: Scope) -> str:
    """The path as sent, still percent-encoded (decoded, `a%3Fb%20HTTP/1.1` would read as a
    query and a protocol never sent, and a space would split the line for log tools), with
    its query; an API key in either (`?api_key=hw_...`, sent by a client that put it in the
    URL) as `hw_****`."""
    raw = scope.get("raw_path")
    target = scope.get("root_path", "") + (raw.decode("latin-1") if raw else scope["path"])
    if scope.get("query_string"):
        target += "?" + scope["query_string"].decode("latin-1")
    return mask_keys(str(target))


def _fields(
    scope: Scope, status: int, elapsed_ms: float, state: dict[str, object]
) -> dict[str, object]:
    """The line's fields as values, for HOMEWARD_LOG_FORMAT=json (homeward.cli.JsonFormatter
    writes a record's `extra`): `client`, `method`, `path` (as sent, query included), `status`,
    `duration_ms`, and `reason`, `key` and `request_id` where the line has them. Each is a JSON
    string there, so nothing in them can forge another field or line."""
    client = scope.get("client")
    fields: dict[str, object] = {
        "client": f"{client[0]}:{client[1]}" if client else None,
        "method": scope["method"],
        "path": _target(scope),
        "status": status,
        "duration_ms": round(elapsed_ms, 1),
    }
    if status in (401, 403, 421):
        fields["reason"] = state.get("refusal", "unknown")
    elif state.get("client_gone"):
        fields["reason"] = "client_disconnected"
    name = _key_name(state)
    if name is not None:
        fields["key"] = name
    if "request_id" in state:
        fields["request_id"] = state["request_id"]
    return fields


def _escaped(text: str) -> str:
    """`text` with what could forge or break a log line written as Python would: a line break
    or other unprintable character as `\\r`,
    `\\x1b`, `\\u2028`, and `"` (which would end the quoted request line) as `\\x22`; `\\`
    doubled, so an escape in the log always means one made here."""
    return "".join(_ESCAPES.get(c, c) if c.isprintable() else repr(c)[1:-1] for c in text)


_ESCAPES = {'"': "\\x22", "\\": "\\\\"}
