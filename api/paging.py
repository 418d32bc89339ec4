"""Paged lists: the total a page was cut from and where the next page is, sent as headers so
the body stays a bare list."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response

TOTAL_COUNT_HEADER = "X-Total-Count"
LINK_HEADER = "Link"

# The next page's `Link` (RFC 8288) in the OpenAPI document: sent while there is one.
NEXT_LINK: dict[str, Any] = {
    "description": 'where the next page is: `</v1/...?...>; rel="next"`, a URL relative to '
    "this one's, with the same filters and `limit`; not sent on the last page, so a client "
    "follows it until it is absent",
    "required": False,
    "schema": {"type": "string"},
}

# The 200 of a list paged newest first (runs, plans) in the OpenAPI document: its headers (the
# body is the route's model). The total leaves `before_id` aside, so it is the same on every
# page, and with `before_id` a page's offset into it is not known: the `Link` says whether
# there is a next page, whichever way the client pages.
PAGED_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "one page, newest first",
        "headers": {
            TOTAL_COUNT_HEADER: {
                "description": "how many there are in all with the same filters, whatever "
                "`before_id`, `limit` and `offset`: the same on every page. A page is the "
                'last when it has no `Link` rel="next" (paging by `offset` alone, also when '
                "`offset` + its length reaches this; paging by `before_id`, its length is no "
                "guide to how many are left)",
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
            LINK_HEADER: NEXT_LINK,
        },
    }
}


def send_total(response: Response, total: int) -> None:
    """Say on `response` how many items the page was cut from."""
    response.headers[TOTAL_COUNT_HEADER] = str(total)


def send_next(response: Response, request: Request, changed: dict[str, int | None]) -> None:
    """Say on `response` where the next page is: the request's path and query with the
    `changed` parameters set (None: left out). A relative reference (RFC 3986 4.2), so it
    holds behind a proxy that serves the API under https or another host name."""
    kept = [(k, v) for k, v in request.query_params.multi_items() if k not in changed]
    kept += [(k, str(v)) for k, v in changed.items() if v is not None]
    response.headers[LINK_HEADER] = f'<{request.url.path}?{urlencode(kept)}>; rel="next"'
