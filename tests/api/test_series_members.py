"""A team or area total names the series its forecast sums (`members`), as the pipeline run
that made it recorded them, so a dashboard can chart the total's history (its members'
histories added up) beside its forecast without rebuilding teams from the config. Over a real
HTTP server on the short demo (one pipeline run)."""

from __future__ import annotations

import httpx
import numpy as np

from homeward import demo_config, planning
from optimise.config import PlanningConfig

TEAM, AREA = "referrals_team/ot/north", "referrals_area/ot"


def _expected() -> dict[str, tuple[str, ...]]:
    """The demo config's teams: every district is in step, so the run summed all of them."""
    config = PlanningConfig.model_validate(demo_config.demo_planning_config(horizon_periods=13))
    ids = [f"referrals/{s.id}/{d.id}" for s in config.services for d in config.districts]
    return planning.referral_hierarchy(config, ids)


def _means(viewer: httpx.Client, series_id: str) -> np.ndarray:
    response = viewer.get(f"/v1/forecasts/{series_id}")
    assert response.status_code == 200, response.text
    return np.array([p["mean"] for p in response.json()["points"]])


def test_every_total_names_the_series_it_sums_and_an_observed_series_none(
    viewer: httpx.Client,
) -> None:
    listed = viewer.get("/v1/series").json()
    members = {s["id"]: s["members"] for s in listed if s["kind"] == "total"}
    assert members == {total: list(under) for total, under in _expected().items()}
    assert members[AREA] == [t for t in members if t.startswith(planning.TEAM_PREFIX + "ot/")]
    assert all(s["members"] is None for s in listed if s["kind"] == "observed")
    only = viewer.get("/v1/series", params={"kind": "total", "prefix": TEAM}).json()
    assert [(s["id"], s["members"]) for s in only] == [(TEAM, members[TEAM])]


def test_one_totals_members_are_what_its_forecast_adds_up(viewer: httpx.Client) -> None:
    for total in (TEAM, AREA):
        response = viewer.get(f"/v1/series/{total}")
        assert response.status_code == 200, response.text
        members = response.json()["members"]
        assert members, total
        summed = sum(_means(viewer, m) for m in members)
        assert np.allclose(_means(viewer, total), summed)
    assert viewer.get("/v1/series/referrals/ot/rugby").json()["members"] is None


def test_a_totals_observations_404_names_its_members(viewer: httpx.Client) -> None:
    response = viewer.get(f"/v1/observations/{TEAM}")
    assert response.status_code == 404
    detail = response.json()["detail"]
    for member in _expected()[TEAM]:
        assert member in detail
    assert f"`members` in GET /v1/series/{TEAM}" in detail
    assert f"/v1/forecasts/{TEAM}" in detail


def test_members_is_in_the_openapi_schema(viewer: httpx.Client) -> None:
    schema = viewer.get("/openapi.json").json()["components"]["schemas"]["SeriesPublic"]
    members = schema["properties"]["members"]
    assert {"type": "array", "items": {"type": "string"}} in members["anyOf"]
    assert "recorded" in members["description"]
