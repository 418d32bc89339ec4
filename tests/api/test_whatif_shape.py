"""The three ways a finance officer commonly sends a what-if's config wrong each get one problem
saying what to send, not the 8 to 14 'required' and 'one of the fields' problems pydantic would
give, none of which says it: the config's fields without `{"config": ...}` around them, the
whole GET /v1/configs/active answer as the config, and a part of a config."""

from __future__ import annotations

from typing import Any

import httpx
import pytest


def _only_problem(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/config"
    return dict(problem)


@pytest.mark.parametrize("route", ["/v1/plans", "/v1/plans/sweeps"])
def test_each_common_shape_gets_one_problem_saying_what_to_send(
    planner: httpx.Client, route: str
) -> None:
    active: dict[str, Any] = planner.get("/v1/configs/active").json()
    body = active["body"]
    rates = {"dfg_fee_rates": [0.1, 0.2]} if route.endswith("sweeps") else {}

    unwrapped = _only_problem(planner.post(route, json={**body, **rates}))
    assert unwrapped["expected"].startswith('the config inside `{"config": {...}}`')
    assert unwrapped["found"].startswith("config fields at the top of the body: districts, fees")

    answer = _only_problem(planner.post(route, json={"config": active, **rates}))
    assert answer["expected"] == "the config itself: the `body` of GET /v1/configs/active"
    assert answer["found"].startswith("the whole answer of GET /v1/configs/{id} (")

    part = _only_problem(
        planner.post(route, json={"config": {"fees": {"dfg_fee_rate": 0.2}}, **rates})
    )
    assert part["expected"].startswith("a whole planning config: a what-if is not merged")
    assert part["found"] == "a part of one: fees without services, teams, districts"


def test_a_whole_config_with_a_key_misspelt_is_told_the_key_not_called_a_part(
    planner: httpx.Client,
) -> None:
    body = planner.get("/v1/configs/active").json()["body"]
    body["district"] = body.pop("districts")
    refused = planner.post("/v1/plans", json={"config": body})
    problems = {p["location"]: p for p in refused.json()["problems"]}
    assert "did you mean 'districts'" in problems["body/config/district"]["expected"]
    assert "body/config" not in problems


def test_a_whole_config_with_one_field_wrong_is_still_located_at_that_field(
    planner: httpx.Client,
) -> None:
    body = planner.get("/v1/configs/active").json()["body"]
    refused = planner.post("/v1/plans", json={"config": {**body, "horizon_periods": 0}})
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/config/horizon_periods"
