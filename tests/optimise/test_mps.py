"""write_mps: the file, re-solved by highspy alone, gives the plan's objective."""

from __future__ import annotations

from pathlib import Path

import pytest

import optimise
from optimise.highs_backend import objective_of_file
from tests.optimise.factory import inputs_of, rich_config, rich_demand


def test_mps_resolved_by_highspy_matches(tmp_path: Path) -> None:
    inputs = inputs_of(rich_config(), rich_demand())
    path = tmp_path / "plan.mps"
    optimise.write_mps(inputs, path)
    text = path.read_text()
    assert "revenue_1" in text and "x_ot_nuneaton_and_bedworth_1_standard" in text
    expected = optimise.solve(optimise.build_model(inputs)).objective
    assert objective_of_file(str(path)) == pytest.approx(expected, rel=1e-6)
