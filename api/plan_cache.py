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
gone, and SQLite's reuse of a purged newest plan's id for the next gives a new making time, so a
new tag. An answer with no tag (the `summary` table, made from more than the plan) is never kept.

Each process keeps its own, bounded by the bytes of the bodies (`MAX_BYTES`), least recently
used first out; what it holds costs memory only, never a stale answer.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Final

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
        with self._lock:
            kept = self._bodies.get(tag)
            if kept is not None:
                self._bodies.move_to_end(tag)
                self.hits += 1
                return kept
            self.misses += 1
        made = build()  # outside the lock: a 2 MB plan does not hold up the others' hits
        self._keep(tag, made)
        return made

    def _keep(self, tag: str, body: bytes) -> None:
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
