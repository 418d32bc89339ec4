"""CBC's model and solution files (about 1.5 MB for the demo) live in a private temp folder
per solve, removed whether the solve succeeds or fails; PuLP wrote them straight into the
temp dir and a failure or a stop mid-solve left them there."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pulp
import pytest

import optimise
from optimise.pulp_backend import SOLVER_DIR_PREFIX, solve_pulp
from tests.optimise.factory import hand_config, hand_demand, inputs_of


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The system temp dir, for Python and for PuLP (which reads TMPDIR or TMP itself)."""
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    monkeypatch.delenv("TMP", raising=False)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    return tmp_path


def _model() -> optimise.LpModel:
    return optimise.build_model(inputs_of(hand_config(), hand_demand()))


def test_a_cbc_solve_writes_in_a_folder_of_its_own_and_leaves_nothing(
    temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folders: list[Path] = []
    read = pulp.PULP_CBC_CMD.readsol_MPS

    def reading(self: pulp.PULP_CBC_CMD, filename: str, *args: object) -> object:
        folders.append(Path(filename).parent)
        return read(self, filename, *args)

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "readsol_MPS", reading)
    assert solve_pulp(_model(), "cbc", None).status is optimise.SolveStatus.OPTIMAL
    assert [f.parent for f in folders] == [temp_dir]
    assert folders[0].name.startswith(SOLVER_DIR_PREFIX)
    assert list(temp_dir.iterdir()) == []


def test_a_cbc_solve_that_fails_midway_leaves_nothing(
    temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(*_args: object) -> object:
        raise pulp.PulpSolverError("the solution file could not be read")

    monkeypatch.setattr(pulp.PULP_CBC_CMD, "readsol_MPS", failing)
    with pytest.raises(pulp.PulpSolverError):
        solve_pulp(_model(), "cbc", None)
    assert list(temp_dir.iterdir()) == []
