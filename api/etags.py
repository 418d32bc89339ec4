"""Entity tags: reading If-None-Match, and the tags of a stored plan's answers, known before
the answer is built.

A stored plan is never changed (a purge deletes whole plans), so GET /v1/plans/{id}, the
latest plan and their tables, JSON or CSV, are each determined by the plan (its id and when it
was made: an id is never given out twice, but a database restored from an older backup gives
later plans' ids out again), which table, the filters, the
media type and the code that builds them. A plan route tags its 200 from
those, and answers a request whose If-None-Match holds that tag with a 304 from one cheap query
(which plan, or whether it still exists) instead of building about 2 MB, hashing it and
throwing it away (docs/benchmarks.md). Every other answer is tagged by a hash of its body, as
it is sent (api/app.py's ConditionalGet).
"""

from __future__ import annotations

import functools
import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from starlette.responses import Response

from api.plan_tables import STORED_TABLES, PlanTable, RowFilter
from homeward.clock import code_version
from homeward.repository import PlanStamp

# the answer's whole plan (GET /v1/plans/{id}), where the others name a table
WHOLE_PLAN = "plan"
# What is made from the stored plan alone: the whole plan, its stored tables and its warnings.
# Not the summary, which reads the referral history as stored now (`referral_history_last_ds`)
# and, for a plan stored before its forecast run was recorded, works that run out from the
# runs stored now: its tag stays a hash of its body, as will a new pack table's until it is
# listed here.
FROM_THE_PLAN_ALONE = frozenset(
    {WHOLE_PLAN, PlanTable.warnings.value, *(t.value for t in STORED_TABLES)}
)


# the packages whose code makes a plan's answers
_ANSWERING_PACKAGES = ("api", "homeward", "models", "optimise")


@functools.cache
def release() -> str:
    """The running code: its version (commit included from a checkout) and a digest of the
    packages' source that make plans' answers, read once. The version alone would not do:
    outside a checkout (the Docker image has no .git) it is the package's, which an upgrade
    need not change, so an answer whose shape the upgrade changed would keep its tag."""
    root = Path(__file__).resolve().parents[1]
    digest = hashlib.sha256()
    for package in _ANSWERING_PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            digest.update(path.relative_to(root).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return f"{code_version()}:{digest.hexdigest()[:16]}"


EVERY_ROW: Final = RowFilter()


@dataclass(frozen=True)
class Asked:
    """What a plan route's 200 gives of a plan: `what` (`WHOLE_PLAN` or a table's name), in
    which media type, and the rows' filters."""

    what: str
    media_type: str
    wanted: RowFilter = EVERY_ROW


def plan_tag(plan: PlanStamp, asked: Asked, version: str | None = None) -> str | None:
    """The weak ETag of what is `asked` of `plan` by the code of `version` (default:
    the running release, so an upgrade that changes an answer's shape changes its tags); None
    for an answer not made from the plan alone (`FROM_THE_PLAN_ALONE`). Filters are taken
    as sets, as they keep rows: `district=a&district=b` is `district=b&district=a`, and the
    same tag; each filter's values are written as a JSON list, so a value holding a comma
    (`district=rugby,warwick`, an id no plan has: a 422) is not the tag of two values
    (`district=rugby&district=warwick`), whose answer a cache would then serve for it. The
    query's other parameters change nothing in the answer (`_`, a cache buster)
    or are refused (422) before the tag is asked for."""
    if asked.what not in FROM_THE_PLAN_ALONE:
        return None
    wanted = asked.wanted
    parts = (
        version if version is not None else release(),
        str(plan.id),
        plan.created_at.isoformat(),
        asked.what,
        asked.media_type,
        json.dumps(sorted(set(wanted.districts))),
        json.dumps(sorted(set(wanted.services))),
        "" if wanted.first_day is None else wanted.first_day.isoformat(),
        "" if wanted.last_day is None else wanted.last_day.isoformat(),
        json.dumps(sorted(set(wanted.teams))),
    )
    return weak_tag("\n".join(parts).encode())


def weak_tag(data: bytes) -> str:
    """A weak tag (RFC 9110 8.8.3) naming `data`: equal content, whatever its encoding."""
    return 'W/"' + hashlib.sha256(data).hexdigest()[:32] + '"'


def if_none_match(headers: Iterable[tuple[bytes, bytes]]) -> set[str]:
    """The entity tags of If-None-Match in raw `headers`, compared weakly (W/ dropped), as
    RFC 9110 asks."""
    raw = b",".join(v for k, v in headers if k.lower() == b"if-none-match")
    return {opaque(t.strip()) for t in raw.decode("latin-1").split(",") if t.strip()}


def opaque(tag: str) -> str:
    """`tag` without its weak mark, for weak comparison."""
    return tag[2:] if tag.startswith("W/") else tag


def not_modified(raw: Iterable[tuple[bytes, bytes]], headers: Mapping[str, str]) -> Response | None:
    """A 304 with `headers` (their ETag included) when If-None-Match in the request's `raw`
    headers holds that ETag, else None. `*` is left to ConditionalGet, which answers it once the
    route has an answer to give: until the rows are read, a filter the plan cannot answer (a
    422) is not known. A 304 of a plan carries `Vary: Accept-Encoding`, as its 200 does from
    1 KiB (every whole plan; a table filtered down to a few rows may be smaller, and go
    without): a 304 must carry the Vary its 200 would (RFC 9110 15.4.5), and one it need not
    misleads nobody, as nothing stores these answers."""
    tag = headers.get("ETag")
    if tag is None or opaque(tag) not in if_none_match(raw):
        return None
    return Response(status_code=304, headers={**headers, "Vary": "Accept-Encoding"})
