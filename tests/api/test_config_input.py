"""A config or plan request is refused whole, naming the field at fault, on SQLite and PostgreSQL:
nothing it carries reaches storage."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from homeward import demo_config
from models import PlanningConfigRow, RunRow
from tests.api.conftest import ConfigService, serve_config

HORIZON = 4


Service = ConfigService


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    body = demo_config.demo_planning_config(horizon_periods=HORIZON)
    yield from serve_config(either_database_url, tmp_path, body)


def _demo() -> dict[str, Any]:
    return demo_config.demo_planning_config(horizon_periods=HORIZON)


def _post_text(client: httpx.Client, path: str, text: str) -> httpx.Response:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("number", ["1e400", "Infinity", "-Infinity", "NaN"])
def test_a_non_finite_budget_is_422_and_never_stored(service: Service, number: str) -> None:
    config = _demo()
    config["revenue_budget_gbp_per_period"] = 123456.0
    text = json.dumps(config).replace("123456.0", number)
    before = service.client.get("/v1/configs/active").json()
    response = _post_text(service.client, "/v1/configs", text)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/revenue_budget_gbp_per_period"
    assert "finite" in problem["expected"]
    assert service.client.get("/v1/configs/active").json() == before
    assert service.count(PlanningConfigRow) == 1


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("capital_gbp", "districts/0/capital_gbp"),
        ("cost_per_hour_gbp", "services/0/cost_per_hour_gbp"),
        ("max_per_period", "teams/0/hours/ot/max_per_period"),
    ],
)
def test_infinity_in_a_plan_request_is_422_before_any_run(
    service: Service, field: str, where: str
) -> None:
    config = _demo()
    owner = {
        "capital_gbp": config["districts"][0],
        "cost_per_hour_gbp": config["services"][0],
        "max_per_period": config["teams"][0]["hours"]["ot"],
    }[field]
    owner[field] = 987654.0
    text = json.dumps({"config": config}).replace("987654.0", "Infinity")
    response = _post_text(service.client, "/v1/plans", text)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == f"body/config/{where}"
    assert problem["found"] == "inf"
    assert service.count(RunRow) == 0 and service.count(PlanningConfigRow) == 1


def _with_unknown_team() -> dict[str, Any]:
    config = _demo()
    config["districts"][3]["team"] = "east"
    return config


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/v1/configs", _with_unknown_team(), "body/districts/3/team"),
        ("/v1/plans", {"config": _with_unknown_team()}, "body/config/districts/3/team"),
    ],
)
def test_a_cross_field_error_names_the_field_and_its_value(
    service: Service, path: str, body: dict[str, Any], where: str
) -> None:
    response = service.client.post(path, json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    teams = [t["id"] for t in body.get("config", body)["teams"]]
    assert problem == {"location": where, "expected": f"one of {teams}", "found": "'east'"}
    assert "Value error" not in response.text
    assert response.json()["detail"] == f"{where}: one of {teams}, found 'east'"
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0
