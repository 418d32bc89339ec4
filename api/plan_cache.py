"""The bodies of plans' answers, kept in memory by their ETag, so a dashboard polling a plan
without If-None-Match (or the many fetching a new latest plan at once) costs one build, not one
each: building GET /v1/plans/{id} validates about 2 MB of stored result through the plan's
schema (about 56 ms of the 85 ms of CPU a 200 took on the demo plan, docs/benchmarks.md), and a
table decodes the whole plan's JSON to read one of its lists.

A body is kept under its plan ETag (api/etags.py), which names everything it is made of: the
release, the plan's id and making time, the table, the media type and the filters. A stored
plan is never changed (nor is its config's `scenario`, which the whole plan gives), so a tag's
body never changes either. A plan deleted by a purge, in this
process or another sharing the database, is never served from here: every request first reads
which plan it is of from the database (`look_up`, the query a 304 answers from), a 404 when it is
gone, and a plan that takes a gone plan's id (only after a database is restored from an older
backup: ids are never given out twice, migration 0018) has a new making time, so a new tag.
An answer with no tag (the `summary` table, made from more than the plan) is never kept.

Each process keeps its own, bounded by the bytes of the bodies (`MAX_BYTES`), least recently
used first out; what it holds costs memory only, never a stale answer. `KeptGzip` keeps their
gzipped bytes the same way, by the same tags, so a browser's dashboard (which always asks for
gzip) does not pay for compressing 2 MB at every 200 either.
"""

from __future__ import annotations

import gzip
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

import anyio.to_thread
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

# About 16 whole demo plans (1.9 MB of JSON each), or several hundred of their tables
MAX_BYTES: Final = 32 * 1024 * 1024


class AnswerCache:
    """Bodies by ETag, at most `max_bytes` of them together, the least recently used dropped
    first; a body larger than that is built each time, never kept. Safe across threads (the
    plan routes run in FastAPI's thread pool)."""

    def __init__(self, max_bytes: int = MAX_BYTES) -> None:
        self.max_bytes = max_bytes
        self._bodies: OrderedDict[str, bytes] = OrderedDict()
        self._size = 0
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def body(self, tag: str | None, build: Callable[[], bytes]) -> bytes:
        """The body tagged `tag`: kept, or made by `build` (and kept). With no tag, `build`'s,
        not kept. Two requests missing at once both build it (the same bytes), rather than one
        waiting on the other under a lock."""
        if tag is None:
            return build()
        kept = self.get(tag)
        if kept is not None:
            return kept
        made = build()  # outside the lock: a 2 MB plan does not hold up the others' hits
        self.keep(tag, made)
        return made

    def get(self, tag: str) -> bytes | None:
        """The body kept under `tag`, if any (now the most recently used)."""
        with self._lock:
            kept = self._bodies.get(tag)
            if kept is None:
                self.misses += 1
                return None
            self._bodies.move_to_end(tag)
            self.hits += 1
            return kept

    def keep(self, tag: str, body: bytes) -> None:
        """Keep `body` under `tag`, dropping the least recently used to make room (a body
        larger than `max_bytes` is not kept)."""
        if len(body) > self.max_bytes:
            return
        with self._lock:
            if tag in self._bodies:
                return
            self._bodies[tag] = body
            self._size += len(body)
            while self._size > self.max_bytes:
                _, dropped = self._bodies.popitem(last=False)
                self._size -= len(dropped)

    def __len__(self) -> int:
        return len(self._bodies)

    def size(self) -> int:
        """The bytes of the bodies kept."""
        return self._size

    def clear(self) -> None:
        with self._lock:
            self._bodies.clear()
            self._size = 0


class KeptGzip:
    """A plan answer compressed once per process, not at every 200: just inside Starlette's
    GZipMiddleware, a 200 carrying `X-Plan-Id` and an ETag (the summary's too: its tag is a hash
    of its body, so it names the body as well), to a request that accepts gzip,
    of one body of `minimum_size` bytes or more, is compressed as GZipMiddleware compresses it
    (the same level, headers and `Vary`) and kept by that ETag in `cache`; GZipMiddleware then
    passes it on as it is (it has a Content-Encoding; a HEAD reaches both as a GET, and
    HeadAsGet, outside them, then drops the body). Anything else (a 304; an error; a streamed
    body) passes through untouched, for
    GZipMiddleware to treat as before. Compressing the demo's 2 MB plan at level 6 costs about
    15 ms of CPU (docs/benchmarks.md)."""

    def __init__(self, app: ASGIApp, cache: AnswerCache, minimum_size: int, level: int) -> None:
        self.app = app
        self.cache = cache
        self.minimum_size = minimum_size
        self.level = level

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        # GZipMiddleware's own test of the request, so both compress the same requests
        if scope["type"] != "http" or "gzip" not in Headers(scope=scope).get("Accept-Encoding", ""):
            await self.app(scope, receive, send)
            return
        start: Message | None = None

        async def compressing(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                headers = Headers(raw=message.get("headers", []))
                if (
                    message["status"] == 200
                    and "x-plan-id" in headers
                    and "etag" in headers
                    and "content-encoding" not in headers
                    and not message.get("trailers", False)
                ):
                    start = message  # held until the body says whether it is compressed
                    return
                await send(message)
                return
            if start is None or message["type"] != "http.response.body":
                await send(message)
                return
            held, start = start, None
            body = message.get("body", b"")
            if message.get("more_body", False) or len(body) < self.minimum_size:
                await send(held)
                await send(message)
                return
            key = f"gzip {self.level} " + Headers(raw=held["headers"])["etag"]
            zipped = self.cache.get(key)
            if zipped is None:  # in a worker thread, as GZipMiddleware compresses a large body
                zipped = await anyio.to_thread.run_sync(self._compress, body)
                self.cache.keep(key, zipped)
            headers = MutableHeaders(raw=held["headers"])  # as GZipResponder changes them
            headers.add_vary_header("Accept-Encoding")
            headers["Content-Encoding"] = "gzip"
            headers["Content-Length"] = str(len(zipped))
            await send(held)
            await send({**message, "body": zipped})

        await self.app(scope, receive, compressing)

    def _compress(self, body: bytes) -> bytes:
        return gzip.compress(body, compresslevel=self.level)


class GzipRefusals:
    """A request's Accept-Encoding passed on in lower case, and with gzip taken out where it
    refuses gzip (`gzip;q=0`, or `*;q=0` with gzip not named: RFC 9110 12.5.3). GZipMiddleware
    and KeptGzip look only for the word "gzip" in it, so they compressed an answer the client
    had said it cannot read, and left `GZIP` uncompressed (content-codings are
    case-insensitive, RFC 9110 8.4.1)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            sent = Headers(scope=scope).get("Accept-Encoding", "")
            lowered = sent.lower()
            if "gzip" in lowered and gzip_refused(lowered):
                kept = [t.strip() for t in lowered.split(",") if "gzip" not in t and t.strip()]
                lowered = ", ".join(kept) or "identity"
            if lowered != sent:
                MutableHeaders(scope=scope)["Accept-Encoding"] = lowered
        await self.app(scope, receive, send)


def gzip_refused(accept_encoding: str) -> bool:
    """Whether an Accept-Encoding header refuses gzip: gzip (or x-gzip) with q=0, or `*` with
    q=0 and gzip not named."""
    weights: dict[str, float] = {}
    for token in accept_encoding.split(","):
        coding, *params = (part.strip() for part in token.split(";"))
        weight = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    weight = float(value)
                except ValueError:
                    weight = 1.0
        if coding:
            weights[coding.lower()] = weight
    named = [weights[c] for c in ("gzip", "x-gzip") if c in weights]
    if named:
        return max(named) <= 0
    return weights.get("*", 1.0) <= 0
