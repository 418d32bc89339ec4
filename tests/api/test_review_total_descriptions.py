"""What the API documents of a team's or area's total is what it serves: a `bottom_up`
forecast with backtest metrics of its own (not a model `sum`, nor no backtest)."""

from __future__ import annotations

from typing import Any

import httpx


def _descriptions(document: dict[str, Any], schema: str) -> str:
    found = document["components"]["schemas"][schema]
    parts = [found.get("description", "")]
    parts += [p.get("description", "") for p in found["properties"].values()]
    return " ".join(parts)


def test_a_totals_forecast_is_documented_as_it_is_served(viewer: httpx.Client) -> None:
    total = viewer.get("/v1/forecasts/referrals_area/ot").json()
    assert total["model"] == "bottom_up"
    assert [m["model"] for m in total["backtest"]] == ["bottom_up"]
    assert total["backtest"][0]["metrics"]["mase"] is not None
    document = viewer.get("/openapi.json").json()
    forecast = _descriptions(document, "ForecastPublic")
    series = _descriptions(document, "SeriesPublic")
    metrics = _descriptions(document, "ModelMetricsPublic")
    for text in (forecast, series, metrics):
        assert "`bottom_up`" in text
        assert "`sum`" not in text and "no backtest" not in text
    assert "sum of their histories" in forecast and "sum of their histories" in series
