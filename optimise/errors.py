"""Domain errors raised by the allocation engine (mapped to HTTP by api/)."""


class PlanInputError(ValueError):
    """A planning request cannot be built: the message names the field, expected and found."""

    def __init__(self, field: str, expected: str, found: str) -> None:
        self.field = field
        self.expected = expected
        self.found = found
        super().__init__(f"{field}: expected {expected}, found {found}")
