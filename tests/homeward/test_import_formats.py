"""`homeward import --format`: a refusal names the user's file whichever reader refused it."""

from __future__ import annotations

from pathlib import Path

import pytest

from homeward.cli import main


@pytest.mark.parametrize(
    ("fmt", "content"),
    [
        ("nhs-dtoc", "unique_id,ds,y\nae/att-total/england,2019-01,2100000\n"),
        ("long", "month,att_total\n2019-01,2100000\n"),
    ],
)
def test_a_file_in_the_wrong_format_is_named_by_its_path(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], fmt: str, content: str
) -> None:
    path = tmp_path / "ae_england.csv"
    path.write_text(content)
    assert main(["import", "--format", fmt, str(path)]) == 2
    assert f"homeward import: {str(path)!r} was rejected" in capsys.readouterr().err
