"""bench/readme_figures.py's parsing: each README phrase whose figures it recomputes is found
exactly once, so a README edit that drops or rewords a quoted figure fails here, in the suite,
rather than only when the slow check (bench/, not run by the suite) is next run."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "bench" / "readme_figures.py"


def _script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("readme_figures", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


figures = _script()


@pytest.mark.parametrize("figure", figures.FIGURES, ids=lambda f: f.name)
def test_each_quoted_figure_is_in_the_readme_once(figure: object) -> None:
    quoted = figures.find_quoted(figure, figures.readme_text())
    checked = set(quoted) - set(figure.inputs)  # type: ignore[attr-defined]
    assert checked, "a phrase with no figure to check"
    assert all(quoted[g] for g in checked)


def test_a_readme_without_a_figure_fails_and_one_with_it_twice_too() -> None:
    text = figures.readme_text()
    figure = figures.FIGURES[0]
    match = re.search(figure.pattern, text)
    assert match is not None
    dropped = text.replace(match.group(0), "")
    with pytest.raises(ValueError, match="found 0"):
        figures.find_quoted(figure, dropped)
    with pytest.raises(ValueError, match="found 2"):
        figures.find_quoted(figure, text + " " + match.group(0))


def test_a_quoted_figure_matches_the_computed_one_rounded() -> None:
    value = figures.Value(5104.55)
    assert value.matches("5,105")
    assert not value.matches("5,104")
    assert not value.matches("five")
    assert figures.Value(159.3, 1.0).matches("160")  # "about 160"
    assert figures.Value("2027-03-22").matches("2027-03-22")
    assert not figures.Value("2027-03-22").matches("2027-03-29")
