"""`homeward forecast --models` with a typo names every model it accepts, as --help does."""

from __future__ import annotations

from pathlib import Path

import pytest

from forecast import RECOMMENDED_MODELS
from forecast.models import FACTORIES
from homeward.cli import main


def test_a_misspelt_model_is_refused_with_every_accepted_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["forecast", "--input", str(tmp_path / "missing.csv"), "--horizon", "3"]
    with pytest.raises(SystemExit) as exited:
        main([*args, "--output", str(tmp_path / "out.csv"), "--models", "ets,arma"])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "argument --models: expected names from " in err
    assert "found 'arma' (did you mean 'arima'?)" in err
    for name in (*RECOMMENDED_MODELS, *FACTORIES):  # the defaults --help lists, and the zoo
        assert name in err, name
    assert "mean_best<k> or median_best<k>" in err and "<model>@<periods>" in err


def test_accepted_models_still_pass(tmp_path: Path) -> None:
    months = "".join(f"a,2016-{m:02d},{100 + m}\n" for m in range(1, 13))
    (tmp_path / "in.csv").write_text("unique_id,ds,y\n" + months)
    args = ["forecast", "--input", str(tmp_path / "in.csv"), "--horizon", "2", "--jobs", "1"]
    args += ["--output", str(tmp_path / "out.csv"), "--models", "naive,ses,pooled_ses,mean_best2"]
    assert main(args) == 0
