"""A revenue budget below what the teams' minimum hours cost is named when the config is stored
(POST /v1/configs), and in its plan, which is relaxed for it: both were silent unless the
budget was under 1% of that cost (analyst review)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from homeward import demo_config
from tests.api.conftest import serve_config
from tests.api.test_config_plannable import HORIZON, Service, _store_forecasts, _store_histories


@pytest.fixture
def service(tmp_path: Path) -> Iterator[Service]:
    body = demo_config.demo_planning_config(horizon_periods=HORIZON)
    url = f"sqlite:///{tmp_path / 'floors.db'}"
    for base in serve_config(url, tmp_path, body, forecast_horizon_weeks=13):
        yield Service(base.client, base.factory)


def _short_budget() -> dict[str, Any]:
    """The demo with GBP 30,000 a week, well under its floors' cost and over 1% of it."""
    config = demo_config.demo_planning_config(horizon_periods=HORIZON)
    return {**config, "name": "short", "revenue_budget_gbp_per_period": 30000.0}


def test_a_budget_below_the_floors_is_named_when_stored_and_in_the_plan(service: Service) -> None:
    _store_histories(service)
    _store_forecasts(service, weeks=HORIZON)
    stored = service.client.post("/v1/configs", json=_short_budget())
    assert stored.status_code == 201, stored.text
    [warning] = [w for w in stored.json()["warnings"] if w.startswith("a revenue budget below")]
    assert "the pooled revenue_budget_gbp_per_period is GBP 30,000 in the week of" in warning
    assert "before DFG fee income" in warning
    assert "lower the teams' minimum hours" in warning and "or raise the budget" in warning
    planned = service.client.post("/v1/plans", json={"config": _short_budget()})
    assert planned.status_code == 201, planned.text
    result = planned.json()["result"]
    assert result["status"] == "infeasible_relaxed"
    assert warning in result["warnings"]
