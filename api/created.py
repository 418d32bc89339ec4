"""A history list's window by when each item was made: `created_from` (inclusive) up to
`created_to` (exclusive), as Power BI's incremental refresh asks with RangeStart and RangeEnd,
so a row on a boundary falls in exactly one of two windows that meet there."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated, NoReturn

from fastapi import Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import PlainValidator, WithJsonSchema

from homeward.repository import Window

# ISO 8601 as Power Query and most clients write it: a date, or a date and time (to the minute,
# second or any fraction of one) with an optional zone, `Z` or an offset.
_MOMENT = re.compile(
    r"\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.(?P<fraction>\d+))?)?(?:Z|[+-]\d{2}:\d{2})?)?",
    re.IGNORECASE,
)
MOMENT_EXPECTED = (
    "an ISO 8601 date or date-time, e.g. 2026-01-05, 2026-01-05T09:30:00Z or "
    "2026-01-05T09:30:00+01:00 (one without a zone is UTC)"
)
# A moment must be one in UTC too: Python's datetimes run from year 1 to year 9999.
_IN_RANGE = ", from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999Z once in UTC"
# A `+` left unencoded in a query string is read as a space (`+01:00` arrives as ` 01:00`).
_PLUS_AS_SPACE = "; a '+' of an offset must be sent as %2B, as a bare '+' in a query is a space"


def _moment(value: object) -> datetime:
    """A query's moment in UTC: a date is its midnight, one without a zone is UTC (as every
    time the API sends is, and as Power BI's RangeStart and RangeEnd, which have no zone, are
    written). A fraction finer than the microseconds stored is rounded up, which keeps the same
    rows as the exact moment would, whichever bound it is."""
    text = str(value)
    found = _MOMENT.fullmatch(text)
    try:
        if found is None:
            raise ValueError(text)
        moment = datetime.fromisoformat(text.upper())
    except ValueError:
        raise ValueError(MOMENT_EXPECTED + (_PLUS_AS_SPACE if " " in text else "")) from None
    try:
        if (found["fraction"] or "")[6:].strip("0"):
            moment += timedelta(microseconds=1)
        return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01T00:00+01:00 is in year 0 in UTC: a 500 before
        raise ValueError(MOMENT_EXPECTED + _IN_RANGE) from None


Moment = Annotated[datetime, PlainValidator(_moment), WithJsonSchema({"type": "string"})]
_EXAMPLES = ["2026-01-05", "2026-01-05T09:30:00Z"]


def created_window(
    request: Request,
    created_from: Annotated[
        Moment | None,
        Query(
            description="only those made at or after this moment (inclusive): an ISO 8601 "
            "date (its midnight, UTC) or date-time; one without a zone is UTC, and a `+` of an "
            "offset is sent as `%2B`. Power BI's RangeStart",
            examples=_EXAMPLES,
        ),
    ] = None,
    created_to: Annotated[
        Moment | None,
        Query(
            description="only those made before this moment (exclusive), written as "
            "`created_from`; after `created_from`, or the request is refused (422). "
            "Power BI's RangeEnd",
            examples=_EXAMPLES,
        ),
    ] = None,
) -> Window:
    """The window a list request asks for (a dependency); an empty one, `created_from` at or
    after `created_to`, is refused naming both, since no item could be in it."""
    if created_from is not None and created_to is not None and created_from >= created_to:
        sent = request.query_params
        _refuse(
            [
                _problem(
                    "created_from",
                    f"a moment before `created_to` ({sent['created_to']})",
                    sent["created_from"],
                ),
                _problem(
                    "created_to",
                    f"a moment after `created_from` ({sent['created_from']})",
                    sent["created_to"],
                ),
            ]
        )
    return Window(created_from, created_to)


CreatedWindowDep = Annotated[Window, Depends(created_window)]


def _problem(param: str, expected: str, found: str) -> dict[str, object]:
    """A query parameter's problem, as FastAPI reports one (api/errors.py locates it)."""
    return {"type": "value_error", "loc": ("query", param), "msg": expected, "input": found}


def _refuse(problems: list[dict[str, object]]) -> NoReturn:
    raise RequestValidationError(problems)
