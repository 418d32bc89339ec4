"""Domain errors raised by the allocation engine (mapped to HTTP by api/)."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Sequence

# problems of one kind (one field of several districts, teams or services) a message lists;
# the rest are counted, as homeward.errors.EXAMPLES_PER_KIND does for a file's problems
PROBLEMS_PER_KIND = 3


class PlanInputError(ValueError):
    """A planning request cannot be built: the message names the field, expected and found."""

    def __init__(self, field: str, expected: str, found: str) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        super().__init__(f"{field}: expected {expected}, found {found}")

    @property
    def each(self) -> tuple[PlanInputError, ...]:
        """Every problem this error reports: itself alone."""
        return (self,)


class PlanInputProblems(PlanInputError):
    """Several problems found together in one planning request (each field by financial year
    lacking a year the plan reaches), so all are mended at once; its own field, expected and
    found are the first's, for a caller that reads one."""

    def __init__(self, problems: Sequence[PlanInputError]) -> None:
        self.problems = tuple(problems)
        first = self.problems[0]
        super().__init__(first.field, first.expected, first.found)
        self.args = (listed(self.problems),)

    @property
    def each(self) -> tuple[PlanInputError, ...]:
        return self.problems


def raise_together(problems: Sequence[PlanInputError]) -> None:
    """Raise `problems`, if any: one as itself, several as PlanInputProblems."""
    if len(problems) == 1:
        raise problems[0]
    if problems:
        raise PlanInputProblems(problems)


def problem_kind(field: str) -> str:
    """A field without the id or index of its list item: `districts[rugby].capital_by_year_gbp`
    and `districts[warwick].capital_by_year_gbp` are one kind,
    `districts[].capital_by_year_gbp`."""
    return re.sub(r"\[[^\]]*\]|\.\d+(?=\.)", "[]", field)


def listed(problems: Sequence[PlanInputError], line: Callable[[PlanInputError], str] = str) -> str:
    """`problems` on one line, each as `line` writes it, at most PROBLEMS_PER_KIND of a kind
    (`problem_kind`), the rest of it counted: a config of 40 districts each lacking a year says
    three of them, not 40."""
    kinds = Counter(problem_kind(p.field) for p in problems)
    shown: Counter[str] = Counter()
    parts = []
    for problem in problems:
        kind = problem_kind(problem.field)
        shown[kind] += 1
        if shown[kind] <= PROBLEMS_PER_KIND:
            parts.append(line(problem))
        if shown[kind] == kinds[kind] > PROBLEMS_PER_KIND:
            parts.append(f"and {kinds[kind] - PROBLEMS_PER_KIND} more of {kind}")
    return "; ".join(parts)
