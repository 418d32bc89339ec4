"""Every 202 documents the `Location` it sends: the run to poll."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from api.app import create_app
from tests.api.conftest import keyed_settings

ACCEPTING = [("post", "/v1/runs"), ("post", "/v1/plans"), ("post", "/v1/plans/sweeps")]


@pytest.fixture(scope="module")
def document(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("location")
    spec: dict[str, Any] = create_app(keyed_settings(tmp, "doc.db")).openapi()
    return spec


@pytest.mark.parametrize(("method", "path"), ACCEPTING, ids=[p for _m, p in ACCEPTING])
def test_each_202_documents_its_location(document: dict[str, Any], method: str, path: str) -> None:
    accepted = document["paths"][path][method]["responses"]["202"]
    assert accepted["headers"]["Location"]["schema"] == {"type": "string"}
    schema = accepted["content"]["application/json"]["schema"]
    assert schema == {"$ref": "#/components/schemas/RunPublic"}  # the body is still there


def test_the_202s_send_the_location_they_document(planner: httpx.Client) -> None:
    rates = {"dfg_fee_rates": [0.1, 0.2]}
    for response in (
        planner.post("/v1/plans", json={}, headers={"Prefer": "respond-async"}),
        planner.post("/v1/plans/sweeps", json=rates),
    ):
        assert response.status_code == 202, response.text
        assert response.headers["location"] == f"/v1/runs/{response.json()['id']}"
    assert response.headers.get("preference-applied") is None  # a sweep is always a job


def test_async_plans_say_the_preference_was_applied(planner: httpx.Client) -> None:
    response = planner.post("/v1/plans", json={}, headers={"Prefer": "respond-async"})
    assert response.headers["preference-applied"] == "respond-async"
