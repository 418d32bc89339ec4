"""GET /v1/winter/{id}'s `peak` is documented as what it is: the highest index over every
November-to-March period of the forecast (any winter, periods over included), not only the
winter ahead."""

from __future__ import annotations

import httpx


def test_the_winter_peak_is_the_highest_index_of_every_winter_point(
    viewer: httpx.Client,
) -> None:
    winter = viewer.get("/v1/winter/referrals/ot/rugby").json()
    indexes = [p["index"] for p in winter["points"] if p["index"] is not None]
    assert winter["peak"] == (max(indexes) if indexes else None)
    assert all(int(p["ds"][5:7]) in (11, 12, 1, 2, 3) for p in winter["points"])


def test_the_winter_peak_is_described_as_over_every_winter_month_of_the_forecast(
    viewer: httpx.Client,
) -> None:
    document = viewer.get("/openapi.json").json()
    described = document["components"]["schemas"]["WinterIndexPublic"]["properties"]
    peak = described["peak"]["description"]
    assert "winter ahead" not in peak
    assert "every November-to-March period in the forecast" in peak
    assert "already over" in peak and "of the next" in peak
