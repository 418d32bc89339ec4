"""What the API document says of the stored backtest metrics is what they are: pinball and
coverage are scored out of sample (leave one fold out), never "near nominal by construction",
and GET /v1/metrics.csv takes `run_id` as the forecast routes do."""

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


def test_metrics_csv_says_its_interval_scores_are_out_of_sample(document: dict[str, Any]) -> None:
    said = " ".join(document["paths"]["/v1/metrics.csv"]["get"]["description"].split())
    assert "by construction" not in said
    assert "pinball and coverage score it with intervals calibrated on the run's other" in said


def test_a_models_metrics_say_pinball_is_out_of_sample_with_coverage(
    document: dict[str, Any],
) -> None:
    metrics = document["components"]["schemas"]["ModelMetricsPublic"]["properties"]["metrics"]
    said = metrics["description"]
    pinball, coverage, sample = (said.index(w) for w in ("pinball", "coverage_95", "out of sample"))
    assert pinball < coverage < sample and "these three out of sample" in said


def test_metrics_csv_takes_run_id_as_forecasts_csv_does(document: dict[str, Any]) -> None:
    def run_id(path: str) -> dict[str, Any]:
        operation = document["paths"][path]["get"]
        [param] = [p for p in operation["parameters"] if p["name"] == "run_id"]
        return {"param": param, "404": operation["responses"]["404"]["description"]}

    assert run_id("/v1/metrics.csv") == run_id("/v1/forecasts.csv")
