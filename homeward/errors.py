"""Domain exceptions: what went wrong with the user's input, said in the user's terms."""

from __future__ import annotations

from dataclasses import dataclass

# Enough to fix a file in one pass without flooding a log line or an HTTP problem detail.
MAX_PROBLEMS_IN_MESSAGE = 20


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
        shown = self.problems[:MAX_PROBLEMS_IN_MESSAGE]
        noun = "problem" if total == 1 else "problems"
        lines = [f"{source_label(self.source)} was rejected: {total} {noun} found"]
        lines += [f"  - {problem}" for problem in shown]
        if total > len(shown):
            lines.append(f"  ... and {total - len(shown)} more (first {len(shown)} shown)")
        return "\n".join(lines)


def in_reading_order(problems: tuple[Problem, ...] | list[Problem]) -> tuple[Problem, ...]:
    """Problems top to bottom of the file; whole-file and whole-series ones (no row) last."""
    return tuple(sorted(problems, key=lambda p: (p.row is None, p.row or 0)))


def source_label(source: str) -> str:
    """Name an input for a message, e.g. ``'referrals.csv'``."""
    return repr(source) if source else "input"
