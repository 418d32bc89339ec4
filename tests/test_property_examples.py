"""A property test meets the same examples whatever modules the tests before it imported, so a
test that passes alone passes in the suite (tests/conftest.py)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st


def _examples() -> list[tuple[int, float]]:
    seen: list[tuple[int, float]] = []

    @settings(max_examples=60, deadline=None, database=None, derandomize=True)
    @given(st.integers(0, 10**6), st.floats(0.0, 1e6))
    def record(whole: int, real: float) -> None:
        seen.append((whole, real))

    record()
    return seen


def test_examples_do_not_depend_on_the_modules_imported_before(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _examples()
    # a project module full of literals in the examples' range, imported as a test may
    literals = ", ".join(f"{n * 7919}, {n * 104.729}" for n in range(1, 120))
    (tmp_path / "homeward_literals_probe.py").write_text(f"VALUES = ({literals})\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("homeward_literals_probe")
        assert _examples() == before
    finally:
        sys.modules.pop("homeward_literals_probe", None)
