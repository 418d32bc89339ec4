"""A district dropped from a config while its referral series stay stored: POST /v1/configs
says so in its warnings, and so does a plan of it (what the dashboard shows), not only a
pipeline run's message (analyst review: the config was stored with no warning at all)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeward import demo_config
from tests.api.conftest import serve_config
from tests.api.test_config_plannable import HORIZON, Service, _store_forecasts, _store_histories

DROPPED = "stratford-on-avon"


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    body = demo_config.demo_planning_config(horizon_periods=HORIZON)
    for base in serve_config(either_database_url, tmp_path, body, forecast_horizon_weeks=13):
        yield Service(base.client, base.factory)


def _without_district() -> dict[str, Any]:
    config = demo_config.demo_planning_config(horizon_periods=HORIZON)
    kept = [d for d in config["districts"] if d["id"] != DROPPED]
    return {**config, "name": "four districts", "districts": kept}


def _unplanned(warnings: list[str]) -> str:
    [warning] = [w for w in warnings if "does not plan" in w]
    return warning


def test_a_config_dropping_a_stored_district_is_stored_and_planned_with_a_warning(
    service: Service,
) -> None:
    _store_histories(service)
    _store_forecasts(service, weeks=HORIZON)
    stored = service.client.post("/v1/configs", json=_without_district())
    assert stored.status_code == 201, stored.text
    warning = _unplanned(stored.json()["warnings"])
    assert warning.startswith(
        "the config 'four districts' does not plan 4 of the stored referral series: "
        f"referrals/domcare/{DROPPED} (district '{DROPPED}', not the config's"
    )
    assert "or add the district to the config" in warning
    planned = service.client.post("/v1/plans", json={"config": _without_district()})
    assert planned.status_code == 201, planned.text
    assert _unplanned(planned.json()["result"]["warnings"]) == warning


def test_a_config_planning_every_stored_series_has_no_such_warning(
    service: Service,
) -> None:
    _store_histories(service)
    _store_forecasts(service, weeks=HORIZON)
    body = {**demo_config.demo_planning_config(horizon_periods=HORIZON), "name": "all five"}
    stored = service.client.post("/v1/configs", json=body)
    assert stored.status_code == 201, stored.text
    assert not [w for w in stored.json()["warnings"] if "does not plan" in w]
