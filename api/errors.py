"""The one place domain errors become HTTP responses, all as application/problem+json (RFC 9457)."""

from __future__ import annotations

import logging
from dataclasses import asdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from homeward.api_keys import (
    KeyAlreadyRevoked,
    KeyNameTaken,
    NotAuthenticated,
    RoleTooWeak,
    UnknownKeyName,
)
from homeward.errors import HomewardError, ValidationFailed
from homeward.pipeline import PipelineBusy
from homeward.planning import NoConfig, NoForecasts

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class NotFound(HomewardError):
    """The requested resource does not exist."""


def problem(
    status: int,
    title: str,
    detail: str,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    """A problem+json response."""
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _status_for(exc: HomewardError) -> tuple[int, str]:
    if isinstance(exc, NotAuthenticated):
        return 401, "Unauthorized"
    if isinstance(exc, RoleTooWeak):
        return 403, "Forbidden"
    if isinstance(exc, NotFound | NoConfig | UnknownKeyName):
        return 404, "Not found"
    if isinstance(exc, PipelineBusy | NoForecasts | KeyNameTaken | KeyAlreadyRevoked):
        return 409, "Conflict"
    return 422, "Invalid input"


async def _homeward_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, HomewardError)
    status, title = _status_for(exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, ValidationFailed):
        extra["problems"] = [asdict(p) for p in exc.problems]
    if isinstance(exc, RoleTooWeak):
        extra["role_needed"] = [r.value for r in exc.needed]
        extra["role_found"] = exc.found.value
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return problem(status, title, str(exc), headers=headers, **extra)


async def _value_error(_request: Request, exc: Exception) -> JSONResponse:
    """Engine input errors (ForecastInputError, PlanInputError, pydantic) are ValueErrors."""
    return problem(422, "Invalid input", str(exc))


async def _request_validation(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [_located(err) for err in exc.errors()]
    detail = "; ".join(
        f"{p['location']}: {p['expected']}, found {p['found']}" for p in problems[:10]
    )
    return problem(422, "Invalid request", detail, problems=problems)


def _located(err: Any) -> dict[str, str]:
    """One request error as location, expected, found; said plainly where pydantic is not."""
    location = "/".join(str(p) for p in err.get("loc", ()))
    if err.get("type") == "json_invalid":  # FastAPI reports the input as {}: say what broke
        where = f"at character {err['loc'][-1]}" if len(err.get("loc", ())) > 1 else ""
        found = f"{err.get('ctx', {}).get('error', 'invalid JSON')} {where}".strip()
        return {"location": "body", "expected": "a JSON body", "found": found}
    if err.get("type") == "missing":  # the input is the parent object, not the missing value
        return {"location": location, "expected": "a value (it is required)", "found": "nothing"}
    return {
        "location": location,
        "expected": err.get("msg", ""),
        "found": repr(err.get("input"))[:200],
    }


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    return problem(exc.status_code, str(exc.detail), str(exc.detail))


async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "an unexpected error occurred; it has been logged")


def install(app: FastAPI) -> None:
    """Register every handler on the app."""
    app.add_exception_handler(HomewardError, _homeward_error)
    app.add_exception_handler(ValueError, _value_error)
    app.add_exception_handler(RequestValidationError, _request_validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
