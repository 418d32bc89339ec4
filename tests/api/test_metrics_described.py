"""What the API document says of the stored backtest metrics is what they are: pinball and
coverage are scored out of sample (leave one fold out), never "near nominal by construction"."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from api.app import create_app
from tests.api.conftest import keyed_settings


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp: Path = tmp_path_factory.mktemp("described")
    spec: dict[str, Any] = create_app(keyed_settings(tmp, "doc.db")).openapi()
    return spec


def test_a_models_metrics_say_pinball_is_out_of_sample_with_coverage(
    document: dict[str, Any],
) -> None:
    metrics = document["components"]["schemas"]["ModelMetricsPublic"]["properties"]["metrics"]
    said = metrics["description"]
    pinball, coverage, sample = (said.index(w) for w in ("pinball", "coverage_95", "out of sample"))
    assert pinball < coverage < sample and "these three out of sample" in said
