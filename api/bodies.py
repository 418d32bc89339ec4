"""Request bodies read within a size limit, so that no body sits whole in memory past it."""

from __future__ import annotations

import json
import re
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NoReturn

from fastapi import Request

from api.errors import LONE_SURROGATE, BodyTooLarge, JsonBodyRefused, escaped, pointer
from homeward.errors import HeaderProblem, json_text
from homeward.ingest import MAX_PROBLEMS_PER_CHECK


async def read_within(request: Request, limit_bytes: int, expected: str) -> bytes:
    """The request body, refused (413, ``BodyTooLarge``, located at `body`) as soon as it is
    known to be over ``limit_bytes``: from a declared Content-Length before a byte is read, or
    part-way through a body sent without one (chunked), the rest unread. ``expected`` says what
    was allowed, e.g. `at most 1,048,576 bytes`."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit_bytes:
        _too_large(expected, "Content-Length", f"{int(declared):,} bytes")
    chunks: list[bytes] = []
    received_bytes = 0
    async for chunk in request.stream():
        received_bytes += len(chunk)
        if received_bytes > limit_bytes:
            found = f"more than {limit_bytes:,} bytes (the rest was not read)"
            _too_large(expected, None, found)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(expected: str, header: str | None, found: str) -> NoReturn:
    problem = HeaderProblem(None, header, expected, found)
    raise BodyTooLarge((problem,), "request body")


class JsonBodyRequest(Request):
    """A request whose JSON body FastAPI decodes with `decode_json`, not `json.loads`: it asks
    for `request.json()` only for a body whose Content-Type says JSON, and answers a failure
    as api/errors.py `_unparsed_body` says (its cause, `JsonBodyRefused`, located)."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json


# the JSON escape of a lone UTF-16 surrogate (`\ud800`, `\uDFFF`), which decodes to text that
# cannot be written as UTF-8, so neither stored nor echoed in an answer: a high one not
# followed by a low one, or a low one not after a high one (a pair, `\ud83d\ude00`, is one
# character, as Python's `json.dumps` writes an emoji); or an escaped backslash before `ud`,
# which may make what looks like a pair text and a lone low one (`\\ud83d\ude00`). A match
# may still be text (`\\ud800`): the decoded body is searched then.
_SURROGATE_ESCAPE = re.compile(  # each branch begins with a backslash, which is quick to scan
    r"\\(?:u[dD](?:[89abAB][0-9a-fA-F]{2}(?!\\u[dD][c-fC-F])"  # high, no low after it
    r"|[c-fC-F](?<!\\u[dD][89abAB][0-9a-fA-F]{2}\\u[dD][c-fC-F]))"  # low, no high before
    r"|\\u[dD])"  # an escaped backslash before `ud`
)
NO_LONE_SURROGATES = "text without lone surrogates (\\ud800-\\udfff)"
EACH_KEY_ONCE = "each key once"


class _KeysTwice(dict[str, Any]):
    """An object of a JSON body with a key more than once (last one kept, as `json` does):
    only made to be found and refused (`_keys_twice`)."""

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__(pairs)
        self.pairs = pairs  # every value, those a later one replaced too, to be walked
        self.counts = {key: n for key, n in Counter(k for k, _ in pairs).items() if n > 1}


@dataclass(frozen=True)
class _LongNumber:
    digits: int


def decode_json(body: bytes) -> Any:
    """A JSON body decoded as `json.loads` does (UTF-8, -16 or -32, by its first bytes),
    refused (`JsonBodyRefused`) where it holds a key twice in one object (`json` keeps the
    last silently: `{"solver": "cbc", "solver": "highs"}` solved with highs), a lone surrogate
    (`"\\ud800"`, which is no text: storing or echoing it failed), or an integer longer than
    Python reads (`sys.get_int_max_str_digits`, 4,300 digits). Text that is not UTF-8 and
    JSON that is not JSON raise as `json.loads` does. The cost on a body with none of these is
    its objects built by a hook, and the text searched for a surrogate's escape: about half as
    long again as `json.loads` (docs/benchmarks.md, request limits: ms for a 1 MiB body).
    """
    text = body.decode(json.detect_encoding(body), "surrogatepass")
    twice = False

    def pairs_hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        nonlocal twice
        made = dict(pairs)
        if len(made) == len(pairs):
            return made
        twice = True
        return _KeysTwice(pairs)

    try:
        value = json.loads(text, object_pairs_hook=pairs_hook)
    except json.JSONDecodeError as exc:  # where, as an editor counts: a character offset alone
        # ("at character 2278") sends a user counting through a config of 60 lines
        said = f"{exc.msg} at line {exc.lineno}, column {exc.colno}"
        raise json.JSONDecodeError(said, exc.doc, exc.pos) from None
    except ValueError as exc:  # an integer past int()'s limit, the one other ValueError
        raise JsonBodyRefused(_long_numbers(text)[:MAX_PROBLEMS_PER_CHECK]) from exc
    problems = _keys_twice(value) if twice else []
    # escaped (`\ud800`), or sent raw (UTF-8's bytes of one, which `json` reads as text)
    if _SURROGATE_ESCAPE.search(text) or (not text.isascii() and LONE_SURROGATE.search(text)):
        problems += _lone_surrogates(value)
    if problems:  # the first of a body holding thousands, as a file's are
        raise JsonBodyRefused(problems[:MAX_PROBLEMS_PER_CHECK])
    return value


def _walk(value: Any) -> Iterator[tuple[tuple[str | int, ...], Any]]:
    """Every value in a decoded JSON body with its path, in the body's order; not recursive,
    so a body nested as deep as `json` reads is walked too."""
    stack: list[tuple[tuple[str | int, ...], Any]] = [((), value)]
    while stack:
        path, item = stack.pop()
        yield path, item
        if isinstance(item, dict):
            pairs = item.pairs if isinstance(item, _KeysTwice) else list(item.items())
            stack.extend(((*path, k), v) for k, v in reversed(pairs))
        elif isinstance(item, list):
            stack.extend(((*path, i), v) for i, v in reversed(list(enumerate(item))))


def _location(path: tuple[str | int, ...]) -> str:
    return escaped(pointer(("body", *path)))


def _keys_twice(value: Any) -> list[dict[str, str]]:
    return [
        {
            "location": _location(path),
            "expected": EACH_KEY_ONCE,
            "found": escaped(f"{json_text(key)} {'twice' if n == 2 else f'{n} times'}"),
        }
        for path, item in _walk(value)
        if isinstance(item, _KeysTwice)
        for key, n in item.counts.items()
    ]


def _lone_surrogates(value: Any) -> list[dict[str, str]]:
    problems = []
    for path, item in _walk(value):
        if isinstance(item, str) and LONE_SURROGATE.search(item):
            problems.append(
                {
                    "location": _location(path),
                    "expected": NO_LONE_SURROGATES,
                    "found": escaped(json_text(item)),
                }
            )
        elif isinstance(item, dict):
            problems += [
                {
                    "location": _location((*path, key)),
                    "expected": NO_LONE_SURROGATES,
                    "found": f"the key {escaped(json_text(key))}",
                }
                for key in item
                if LONE_SURROGATE.search(key)
            ]
    return problems


def _long_numbers(text: str) -> list[dict[str, str]]:
    """Each integer of `text` longer than Python reads, located; read again only to find
    them, once the body has been found to hold one."""
    limit = sys.get_int_max_str_digits()

    def parse_int(written: str) -> int | _LongNumber:
        digits = len(written.lstrip("-"))
        return _LongNumber(digits) if limit and digits > limit else int(written)

    expected = f"a number of at most {limit:,} digits"
    long = [
        (path, item)
        for path, item in _walk(json.loads(text, parse_int=parse_int))
        if isinstance(item, _LongNumber)
    ]
    if not long:  # not where a walk finds it (under a key sent twice): said of the body
        return [{"location": "body", "expected": expected, "found": _TOO_LONG}]
    return [
        {
            "location": _location(path),
            "expected": expected,
            "found": f"{_TOO_LONG} ({item.digits:,} digits)",
        }
        for path, item in long
    ]


_TOO_LONG = "a number too long to read"
