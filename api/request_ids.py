"""Request ids: every answer carries X-Request-ID, the client's own when it is safe to echo,
so a council's IT can match a user's complaint to the service's log lines."""

from __future__ import annotations

import re
import secrets

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from homeward.api_keys import mask_keys

REQUEST_ID_HEADER = "X-Request-ID"
# what a client's id may be to be echoed and logged: no spaces, quotes or line breaks that
# could forge a log line or a header, and short enough to read out over the phone
_SAFE_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


def accepted_id(sent: str | None) -> str:
    """The client's id when it is at most 64 of `A-Z a-z 0-9 . _ -` and no API key (one sent
    in the wrong header would be logged with every line about the request); otherwise a new
    one (16 hex digits), never the value sent."""
    if sent is not None and _SAFE_ID.fullmatch(sent) and mask_keys(sent) == sent:
        return sent
    return secrets.token_hex(8)


def request_id_of(request: Request) -> str | None:
    """The request's id, once RequestId has given it one (None outside it)."""
    found = request.scope.get("state", {}).get("request_id")
    return found if isinstance(found, str) else None


class RequestId:
    """Gives each HTTP request its id (in `request.state.request_id`, for the log lines about
    it) and sends it back as X-Request-ID on the answer, a 500 included (answered inside it by
    api.errors.UnhandledErrors). Only an error raised in a middleware outside that one reaches
    Starlette's ServerErrorMiddleware, whose handler adds the header itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next((v for k, v in scope["headers"] if k.lower() == b"x-request-id"), None)
        request_id = accepted_id(sent.decode("latin-1") if sent is not None else None)
        # the scope's own state, shared with the 500 handler, which is given this scope
        scope.setdefault("state", {})["request_id"] = request_id

        async def with_id(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(raw=list(message.get("headers", [])))
                headers[REQUEST_ID_HEADER] = request_id
                message = {**message, "headers": headers.raw}
            await send(message)

        await self.app(scope, receive, with_id)
