"""The API's documentation pages, /docs (Swagger UI) and /redoc, served only with
HOMEWARD_DOCS on. Their assets come from fastapi-offline's package (/static-offline-docs), not
a CDN; Swagger UI's start is a file of this app (api/static/docs.js), not an inline script, so
each page's Content-Security-Policy runs scripts from this origin only (api/security_headers.py)."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from api.security_headers import REDOC_CSP, SWAGGER_CSP

router = APIRouter(tags=["docs"], include_in_schema=False)
ASSETS = "/static-offline-docs"  # where FastAPIOffline mounts Swagger UI's and ReDoc's files

SWAGGER_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="{root}{assets}/swagger-ui.css">
<link rel="icon" href="{root}{assets}/favicon.png">
<title>{title} - Swagger UI</title>
</head>
<body>
<div id="swagger-ui"></div>
<script src="{root}{assets}/swagger-ui-bundle.js"></script>
<script src="{root}/static/docs.js" data-openapi-url="{root}{openapi}"></script>
</body>
</html>
"""

REDOC_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{root}{assets}/favicon.png">
<title>{title} - ReDoc</title>
</head>
<body>
<noscript>ReDoc needs JavaScript to show the documentation; /openapi.json is it.</noscript>
<redoc spec-url="{root}{openapi}"></redoc>
<script src="{root}{assets}/redoc.standalone.js"></script>
</body>
</html>
"""


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    """Swagger UI on the app's OpenAPI document."""
    return _page(SWAGGER_PAGE, request, SWAGGER_CSP)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    """ReDoc on the app's OpenAPI document."""
    return _page(REDOC_PAGE, request, REDOC_CSP)


def _page(template: str, request: Request, policy: str) -> HTMLResponse:
    # root_path: the prefix a proxy serves the app under (uvicorn --root-path), as FastAPI's own
    # pages use it
    text = template.format(
        root=escape(request.scope.get("root_path", "")),
        assets=ASSETS,
        openapi=escape(request.app.openapi_url or ""),
        title=escape(request.app.title),
    )
    return HTMLResponse(text, headers={"Content-Security-Policy": policy})
