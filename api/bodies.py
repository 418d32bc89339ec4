"""Request bodies read within a size limit, so that no body sits whole in memory past it."""

from __future__ import annotations

from typing import NoReturn

from fastapi import Request

from api.errors import BodyTooLarge
from homeward.errors import HeaderProblem


async def read_within(
    request: Request, limit_bytes: int, expected: str, location: str | None = None
) -> bytes:
    """The request body, refused (413, ``BodyTooLarge``) as soon as it is known to be over
    ``limit_bytes``: from a declared Content-Length before a byte is read, or part-way through
    a body sent without one (chunked), the rest unread. ``expected`` says what was allowed,
    e.g. `at most 1,048,576 bytes`. ``location``: where the problem is said to be, as a JSON
    body's problems are located (`body`); None for a file, located by row and column."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes:
        _too_large(expected, "Content-Length", f"{int(declared):,} bytes", location)
    chunks: list[bytes] = []
    received_bytes = 0
    async for chunk in request.stream():
        received_bytes += len(chunk)
        if received_bytes > limit_bytes:
            found = f"more than {limit_bytes:,} bytes (the rest was not read)"
            _too_large(expected, None, found, location)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(expected: str, header: str | None, found: str, location: str | None) -> NoReturn:
    problem = HeaderProblem(None, header, expected, found)
    raise BodyTooLarge((problem,), "request body", location)
