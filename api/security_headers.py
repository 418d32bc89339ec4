"""Security headers on every answer: what a browser may do with a page or a body (load, sniff,
frame, refer), and that nothing under /v1 is kept in a browser's or a proxy's cache."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The dashboard (api/static/index.html): its script and styles are files of this origin, its
# charts inline SVG without style attributes, its only icon a data: URL, and it talks to this
# origin alone. A CSV download is a blob: URL handed to a link, which CSP does not govern.
# `form-action 'self'`: its forms are sent by script; with script off they go nowhere else.
DASHBOARD_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'"
)
# /docs (api/routes/docs.py): Swagger UI asks no more than the dashboard, its start being a file
# (api/static/docs.js), not an inline script; its icons are data: URLs.
SWAGGER_CSP = DASHBOARD_CSP
# /redoc: scripts from this origin only, but ReDoc writes its styles into <style> elements as it
# renders (styled-components, different each time: no hash fits) and runs its search in a worker
# made from a blob: URL. Its maker's logo, from a CDN, is refused.
REDOC_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; connect-src 'self'; worker-src blob:; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
# Everything else (JSON, CSV, problems, probes, static files) is no page: were one opened as a
# document it may load nothing and run nothing.
DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
_ALWAYS = {
    "X-Content-Type-Options": "nosniff",  # a CSV or JSON body is never run as a script or page
    "Referrer-Policy": "no-referrer",  # a URL's ids and filters stay on this site
    "X-Frame-Options": "DENY",  # as frame-ancestors 'none', for browsers without CSP 2
    "Content-Security-Policy": DEFAULT_CSP,
}
# Every /v1 answer is about one council's plans, forecasts and keys, fetched with a key: no
# browser keeps it on disk after the tab's key is gone, nor a proxy in its cache. An ETag and a
# 304 still spare a client that keeps its own copy (api/app.py: ConditionalGet).
V1_CACHE_CONTROL = "no-store"


class SecurityHeaders:
    """Adds the headers above to every HTTP answer: a page's own Content-Security-Policy (the
    dashboard's, the docs') is kept; under /v1, Cache-Control is always `no-store`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        under_v1 = scope["path"].startswith("/v1/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in _ALWAYS.items():
                    headers.setdefault(name, value)
                if under_v1:
                    headers["Cache-Control"] = V1_CACHE_CONTROL
            await send(message)

        await self.app(scope, receive, with_headers)
