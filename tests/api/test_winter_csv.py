"""GET /v1/winter.csv: every series' winter index in one file, the same figures GET
/v1/winter/{series_id} gives one series at a time, over a real HTTP server with a viewer's key."""

from __future__ import annotations

import io

import httpx
import pandas as pd
import pytest


def _read(response: httpx.Response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.headers["content-disposition"] == 'attachment; filename="homeward-winter.csv"'
    return pd.read_csv(io.StringIO(response.text), dtype={"unique_id": str, "ds": str})


def test_every_series_index_is_the_one_its_own_route_gives(viewer: httpx.Client) -> None:
    """Districts and the team and area totals summed from them alike."""
    csv = _read(viewer.get("/v1/winter.csv", params={"prefix": "referrals"}))
    assert list(csv.columns) == ["unique_id", "ds", "winter_index", "warning", "run_id"]
    forecast = pd.read_csv(io.StringIO(viewer.get("/v1/forecasts.csv").text))
    forecast_ids = set(forecast["unique_id"][forecast["unique_id"].str.startswith("referrals")])
    assert set(csv["unique_id"]) == forecast_ids
    assert {i.partition("/")[0] for i in forecast_ids} == {
        "referrals",
        "referrals_team",
        "referrals_area",
    }
    for series_id, rows in csv.groupby("unique_id"):
        points = viewer.get(f"/v1/winter/{series_id}").json()["points"]
        assert rows["ds"].tolist() == [p["ds"] for p in points], series_id
        served = [float("nan") if p["index"] is None else p["index"] for p in points]
        assert rows["winter_index"].tolist() == pytest.approx(served, rel=1e-9, nan_ok=True)
        served_one = viewer.get(f"/v1/winter/{series_id}").json()
        warning = served_one["warning"]
        assert rows["warning"].fillna("").tolist() == [warning or ""] * len(rows), series_id
        # the run each row is of, as the series' own routes name it
        made_by = viewer.get(f"/v1/forecasts/{series_id}").json()["run_id"]
        assert (
            rows["run_id"].tolist() == [served_one["run_id"]] * len(rows) == [made_by] * len(rows)
        ), series_id


def test_a_prefix_keeps_only_its_series(viewer: httpx.Client) -> None:
    csv = _read(viewer.get("/v1/winter.csv", params={"prefix": "referrals_team/ot/"}))
    assert len(csv) > 0 and csv["unique_id"].str.startswith("referrals_team/ot/").all()
    assert set(pd.to_datetime(csv["ds"]).dt.month) <= {11, 12, 1, 2, 3}


def test_a_prefix_of_no_series_is_a_404_that_says_so(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/winter.csv", params={"prefix": "nothing/"})
    assert response.status_code == 404
    assert "'nothing/'" in response.json()["detail"]
    assert viewer.get("/v1/winter.csv", params={"prefix": "Referrals"}).status_code == 422
