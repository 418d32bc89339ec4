"""Domain exceptions: what went wrong with the user's input, said in the user's terms."""

from __future__ import annotations

import difflib
import json
import re
import types
from collections import Counter, abc
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Union, get_args, get_origin

from pydantic import BaseModel

# Enough to fix a file in one pass without flooding a log line or an HTTP problem detail.
MAX_PROBLEMS_IN_MESSAGE = 20
# problems of one kind listed in a message: what they share is said once above the listing
EXAMPLES_PER_KIND = 3


class HomewardError(Exception):
    """Base class of every error Homeward raises on purpose (mapped to HTTP in one place)."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input, located as precisely as the input allows.

    ``row`` is the line number the user sees in the file: the header is line 1 and the
    first data row is line 2. ``None`` means the problem concerns the whole file (or the
    whole series named by ``series_id``); ``column`` is ``None`` when no single column is
    at fault (e.g. a ragged row).
    """

    row: int | None
    column: str | None
    expected: str
    found: str
    series_id: str | None = None

    def __str__(self) -> str:
        where = self._where()
        prefix = f"{where}: " if where else ""
        return f"{prefix}expected {self.expected}, found {self.found}"

    def _where(self) -> str:
        parts: list[str] = []
        if self.series_id is not None:
            parts.append(f"series '{self.series_id}'")
        if self.row is not None:
            parts.append(f"row {self.row}")
        if self.column is not None:
            parts.append(f"column '{self.column}'")
        return ", ".join(parts)


@dataclass(frozen=True)
class HeaderProblem(Problem):
    """A problem with a request header (Content-Type, Content-Length), which `column` names
    (as the API's `problems` always have): the message calls it a header, not a column."""

    def _where(self) -> str:
        return f"header '{self.column}'" if self.column is not None else ""


class ValidationFailed(HomewardError):
    """Input rejected whole; ``problems`` lists every problem found, not just the first.

    Row numbers in each ``Problem`` count lines as the user sees them in the file
    (header = line 1, first data row = line 2).
    """

    def __init__(self, problems: tuple[Problem, ...] | list[Problem], source: str) -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        self.source = source
        super().__init__(self._message())

    def _message(self) -> str:
        total = len(self.problems)
        shown = _shown(self.problems, MAX_PROBLEMS_IN_MESSAGE)
        noun = "problem" if total == 1 else "problems"
        lines = [f"{source_label(self.source)} was rejected: {total:,} {noun} found"]
        if total > len(shown):
            lines += [f"  {line}" for line in _common_problems(self.problems)]
        lines += [f"  - {problem}" for problem in shown]
        if total > len(shown):
            lines.append(
                f"  ... and {total - len(shown)} more ({len(shown)} shown: the first of each "
                f"kind, at most {EXAMPLES_PER_KIND} of any)"
            )
        return "\n".join(lines)


def _shown(problems: tuple[Problem, ...], most: int) -> tuple[Problem, ...]:
    """Every problem when there are `most` or fewer; else up to `most`, in their order: the
    first of each kind, then more of each kind from the top, at most EXAMPLES_PER_KIND of
    any. A file whose 480 dates are all refused may also have a negative count and a
    duplicated row; the first 20 alone would list only dates, hiding what else to mend. And
    36 counts written `1,201` are one mistake, which the line of what they share says once
    (`_common_problems`): 20 lines of it were noise."""
    if len(problems) <= most:  # all listed: nothing is cut short
        return problems
    kinds = [_kind(problem) for problem in problems]
    firsts: dict[tuple[str | None, str, str], int] = {}
    for at, kind in enumerate(kinds):
        firsts.setdefault(kind, at)
    picked = set(sorted(firsts.values())[:most])
    taken = Counter(kinds[at] for at in picked)
    for at, kind in enumerate(kinds):
        if len(picked) >= most:
            break
        if at not in picked and taken[kind] < EXAMPLES_PER_KIND:
            picked.add(at)
            taken[kind] += 1
    return tuple(problems[at] for at in sorted(picked))


# What varies between problems of one kind: the values quoted and the numbers (rows, dates).
_PARTICULARS = re.compile(r"'[^']*'|\"[^\"]*\"|\d+")


def _kind(problem: Problem) -> tuple[str | None, str, str]:
    """A problem without its particulars: `'-5' (negative)` and `'-7' (negative)` are one kind,
    `'twelve'` and a blank value two others."""
    return (
        problem.column,
        _PARTICULARS.sub("_", problem.expected),
        _PARTICULARS.sub("_", problem.found),
    )


def _common_problems(problems: tuple[Problem, ...], least: int = 10) -> list[str]:
    """One line for each problem shared by `least` or more rows (the same column, the same
    expectation), most rows first: what to mend across a file whose listing is cut short."""
    rows: dict[tuple[str | None, str], list[int]] = {}
    for p in problems:
        if p.row is not None:
            rows.setdefault((p.column, p.expected), []).append(p.row)
    shared = sorted(
        ((k, v) for k, v in rows.items() if len(v) >= least), key=lambda kv: -len(kv[1])
    )
    return [
        f"{len(at):,} rows ({min(at)} to {max(at)}){f', column {col!r}' if col else ''}: "
        f"expected {expected}"
        for (col, expected), at in shared
    ]


def in_reading_order(problems: tuple[Problem, ...] | list[Problem]) -> tuple[Problem, ...]:
    """Problems top to bottom of the file; whole-file and whole-series ones (no row) last."""
    return tuple(sorted(problems, key=lambda p: (p.row is None, p.row or 0)))


def source_label(source: str) -> str:
    """Name an input for a message, e.g. ``'referrals.csv'``."""
    return repr(source) if source else "input"


# --- pydantic errors, said plainly ----------------------------------------------------------


def json_text(value: Any, limit: int = 200) -> str:
    """A refused value as it reads in JSON (``null``, ``true``, ``"ten"``), cut to ``limit``."""
    try:
        text = json.dumps(value, ensure_ascii=False, default=repr)
    except (TypeError, ValueError):  # a circular or otherwise unwritable value
        text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def unknown_field_expected(model: type[BaseModel] | None, loc: Sequence[str | int]) -> str:
    """What a field the model does not have (pydantic's ``extra_forbidden`` at ``loc``, the
    field's name last) should have been: the nearest field's name, or the fields there are."""
    names = field_names_at(model, loc[:-1]) if model is not None else None
    if not names:
        return "no field of this name"
    sent = str(loc[-1])
    # a name cut short ('revenue_budget_gbp') means the fields it begins ('..._per_period' or
    # '..._by_year'), not the nearest by letters ('revenue_budget_basis', an enum)
    begun = sorted(name for name in names if name.startswith(sent)) if len(sent) >= 4 else []
    close = begun if len(begun) in (1, 2) else difflib.get_close_matches(sent, names, 1, 0.6)
    if close:
        return f"a field of this object (did you mean {' or '.join(repr(c) for c in close)}?)"
    return "one of the fields " + ", ".join(sorted(names))


def field_names_at(model: type[BaseModel], path: Sequence[str | int]) -> list[str] | None:
    """The field names (aliases where set) of the object at ``path`` inside ``model``, following
    pydantic error locations through lists, dicts and optional fields; None if not a model."""
    types: list[Any] = [model]
    for part in path:
        types = [t for tp in types for t in _inside(tp, part)]
    models = {m for tp in types for m in _models(tp)}
    if len(models) != 1:
        return None
    [found] = models
    return [field.alias or name for name, field in found.model_fields.items()]


def _inside(tp: Any, part: str | int) -> list[Any]:
    """The types a location step ``part`` leads to from ``tp``."""
    out: list[Any] = []
    for t in _unwrapped(tp):
        origin = get_origin(t)
        args = get_args(t)
        if isinstance(t, type) and issubclass(t, BaseModel) and isinstance(part, str):
            field = t.model_fields.get(part) or next(
                (f for f in t.model_fields.values() if f.alias == part), None
            )
            if field is not None:
                out.append(field.annotation)
        elif origin in (list, tuple, set, frozenset, abc.Sequence) and isinstance(part, int):
            out.extend(args[:1])
        elif origin in (dict, abc.Mapping) and len(args) == 2:
            out.append(args[1])
    return out


def _unwrapped(tp: Any) -> list[Any]:
    """``tp`` without Annotated and with each member of a union (None left out)."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _unwrapped(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [u for a in get_args(tp) if a is not type(None) for u in _unwrapped(a)]
    return [tp]


def _models(tp: Any) -> list[type[BaseModel]]:
    return [t for t in _unwrapped(tp) if isinstance(t, type) and issubclass(t, BaseModel)]
