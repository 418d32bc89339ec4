"""The web dashboard: one static page that reads the public API, like any council BI tool would."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from api.security_headers import DASHBOARD_CSP

STATIC_DIR = Path(__file__).resolve().parents[1] / "static"
router = APIRouter(tags=["dashboard"], include_in_schema=False)


@router.get("/")
def dashboard() -> FileResponse:
    """The dashboard page, with its own Content-Security-Policy (api/security_headers.py)."""
    return FileResponse(
        STATIC_DIR / "index.html",
        media_type="text/html",
        headers={"Content-Security-Policy": DASHBOARD_CSP},
    )
