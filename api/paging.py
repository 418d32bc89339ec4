"""Paged lists: the total a page was cut from, sent as a header so the body stays a bare list."""

from __future__ import annotations

from typing import Any

from fastapi import Response

TOTAL_COUNT_HEADER = "X-Total-Count"

# The 200 of a paged list in the OpenAPI document: its header (the body is the route's model).
PAGED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "one page, newest first",
        "headers": {
            TOTAL_COUNT_HEADER: {
                "description": "how many there are in all with the same filters, whatever "
                "`limit` and `offset` (a page is the last when `offset` + its length reaches it)",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            }
        },
    }
}


def send_total(response: Response, total: int) -> None:
    """Say on `response` how many items the page was cut from."""
    response.headers[TOTAL_COUNT_HEADER] = str(total)
