"""A plan the stored forecasts cannot feed (a district with no demand, a horizon past the
forecasts) is a 422 whose `problems` locate it under `body/config/`, as pydantic's own
problems with the config sent are, like every other 422."""

from __future__ import annotations

from typing import Any

import httpx

from api.schemas import RequestProblemPublic


def _config(planner: httpx.Client, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = planner.get("/v1/configs/active").json()["body"]
    return {**body, **changes}


def _only_problem(response: httpx.Response, named: str | None = None) -> dict[str, str]:
    """The one problem of a 422, whose detail names the field `named` (default: at the
    problem's own location) with what was expected and found."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    [problem] = body["problems"]
    RequestProblemPublic.model_validate(problem)
    field = named or problem["location"]
    assert body["detail"] == f"{field}: expected {problem['expected']}, found {problem['found']}"
    return dict(problem)


def test_a_district_with_no_demand_is_located_at_its_id_in_the_config(
    planner: httpx.Client,
) -> None:
    """A form can mark the district's field: the demand is not the user's to mend. The detail
    names it at that location too, not as pydantic's dotted `districts.2.id` beside it."""
    config = _config(planner)
    extra = {**config["districts"][0], "id": "kenilworth"}
    districts = [*config["districts"][:2], extra, *config["districts"][2:]]
    response = planner.post("/v1/plans", json={"config": {**config, "districts": districts}})
    problem = _only_problem(response)
    assert problem["location"] == "body/config/districts/2/id"
    assert problem["expected"].startswith(
        "a forecast of referrals for every service and district of the config"
    )
    assert problem["found"].startswith("none for referrals/ot/kenilworth")


def test_a_horizon_past_the_forecasts_is_located_in_the_config(planner: httpx.Client) -> None:
    """Said as the weeks the forecasts reach, with their dates, not the engine's frame."""
    response = planner.post("/v1/plans", json={"config": _config(planner, horizon_periods=104)})
    problem = _only_problem(response, named="horizon_periods")
    assert problem["location"] == "body/config/horizon_periods"
    assert problem["found"] == "104"
    forecast = planner.get("/v1/forecasts/referrals/ot/rugby").json()["points"]
    first, last = forecast[0]["ds"][:10], forecast[-1]["ds"][:10]
    assert problem["expected"] == (
        f"at most {len(forecast)}: the weeks of the newest forecasts from the plan's start "
        f"({first} to {last}); to plan further ahead, raise HOMEWARD_FORECAST_HORIZON_WEEKS "
        "(at most 104 weeks) and run the pipeline again (POST /v1/runs), so its forecasts "
        "reach further"
    )
    assert "frame" not in problem["expected"]
