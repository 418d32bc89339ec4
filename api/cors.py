"""CORS as Starlette answers it, but a refused preflight is a problem+json naming what was
refused and what is allowed, like every other error, rather than Starlette's plain text."""

from __future__ import annotations

from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import Response

from api.errors import problem


class ProblemCORSMiddleware(CORSMiddleware):
    """Starlette's CORSMiddleware, whose refused preflight (400 `Disallowed CORS headers`,
    which a dashboard developer could not tell the header of) says which origin, method or
    headers it refused, and which it allows. Allowed preflights and every other request are
    Starlette's own."""

    def preflight_response(self, request_headers: Headers) -> Response:
        response = super().preflight_response(request_headers)
        if response.status_code != 400:
            return response
        kept = {  # its Access-Control-* and Vary; problem() sets the body's own
            k: v
            for k, v in response.headers.items()
            if k.lower() not in ("content-length", "content-type")
        }
        detail = "; ".join(self._refused(request_headers)) or "the preflight was refused"
        return problem(400, "Bad request", detail, headers=kept, code="cors_not_allowed")

    def _refused(self, request_headers: Headers) -> list[str]:
        """What the preflight asked for that is not allowed, each with what is."""
        refused: list[str] = []
        origin = request_headers["origin"]
        if not self.is_allowed_origin(origin=origin):
            refused.append(
                f"origin {origin!r} is not allowed (HOMEWARD_CORS_ORIGINS lists those that are)"
            )
        method = request_headers["access-control-request-method"]
        if method not in self.allow_methods:
            allowed = ", ".join(sorted(set(self.allow_methods)))
            refused.append(f"method {method} is not allowed; allowed: {allowed}")
        asked = request_headers.get("access-control-request-headers") or ""
        names = [h.strip().lower() for h in asked.split(",") if h.strip()]
        if not self.allow_all_headers and (
            bad := [h for h in names if h not in self.allow_headers]
        ):
            allowed = ", ".join(sorted(self.allow_headers))
            refused.append(f"request headers not allowed: {', '.join(bad)}; allowed: {allowed}")
        private = request_headers.get("access-control-request-private-network") is not None
        if private and not self.allow_private_network:
            refused.append("private network access is not allowed")
        return refused
