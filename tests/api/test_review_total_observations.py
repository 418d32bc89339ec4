"""A team's or area's total (`kind: total` in GET /v1/series) has no observations of its
own: asking for them is a 404 that says so and where its forecasts are, not that no such
series exists."""

from __future__ import annotations

import httpx


def test_observations_of_a_total_say_it_is_a_total_and_where_its_forecasts_are(
    viewer: httpx.Client,
) -> None:
    totals = viewer.get("/v1/series", params={"kind": "total"}).json()
    assert "referrals_area/ot" in {s["id"] for s in totals}
    response = viewer.get("/v1/observations/referrals_area/ot")
    assert response.status_code == 404
    detail = response.json()["detail"]
    assert "is a total with no observations of its own" in detail
    assert "sum of its members, referrals_team/ot/north, " in detail
    # its members are team totals with no history either: the way down is their members
    assert "each a total whose own `members` GET /v1/observations/{id} serves" in detail
    assert "serves each one's history" not in detail
    team = viewer.get("/v1/observations/referrals_team/ot/north")
    assert team.status_code == 404
    assert "GET /v1/observations/{id} serves each one's history" in team.json()["detail"]
    assert "/v1/forecasts/referrals_area/ot" in detail
    assert "no series" not in detail
    assert viewer.get("/v1/forecasts/referrals_area/ot").status_code == 200


def test_observations_of_an_unknown_series_still_say_there_is_none(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/observations/referrals_area/nothing")
    assert response.status_code == 404
    assert "no series 'referrals_area/nothing'" in response.json()["detail"]
    observed = viewer.get("/v1/observations/referrals/ot/rugby", params={"last": 2})
    assert observed.status_code == 200 and len(observed.json()) == 2
