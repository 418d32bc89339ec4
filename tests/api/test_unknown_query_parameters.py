"""A query parameter an endpoint does not take is refused (422) naming it, not ignored: a
dashboard's `?page=2` would otherwise get every row as if it had been understood."""

from __future__ import annotations

import httpx

from tests.conftest import LiveServer


def test_an_unknown_query_parameter_is_refused_naming_the_real_ones(viewer: httpx.Client) -> None:
    paged = viewer.get("/v1/series", params={"page": 2, "per_page": 5})
    assert paged.status_code == 422, paged.text
    problems = {p["location"]: p for p in paged.json()["problems"]}
    assert set(problems) == {"query/page", "query/per_page"}
    assert problems["query/page"]["found"] == "'2'"
    assert problems["query/page"]["expected"].startswith(
        "one of this endpoint's query parameters: kind, limit, offset, prefix"
    )
    near = viewer.get("/v1/series", params={"limits": 5})
    assert near.status_code == 422
    assert "(did you mean 'limit'?)" in near.json()["problems"][0]["expected"]
    none = viewer.get("/v1/plans/latest", params={"sort": "-id"})
    assert none.status_code == 422
    assert none.json()["problems"][0]["expected"] == (
        "no query parameters (this endpoint takes none)"
    )
    # jQuery's cache-buster asks nothing of a route: not refused
    assert viewer.get("/v1/series", params={"_": "1700000000000"}).status_code == 200
    # the real names still work, and a route's dependencies' parameters count as its own
    assert viewer.get("/v1/series", params={"limit": 1, "prefix": "referrals/"}).status_code == 200
    assert viewer.get("/v1/forecasts.csv", params={"prefix": "referrals/ot/"}).status_code == 200


def test_an_unknown_parameter_without_a_key_is_still_a_401(demo_server: LiveServer) -> None:
    """Whether a caller may ask at all comes first, as for every other request error."""
    answer = httpx.get(f"{demo_server.url}/v1/series", params={"page": 2})
    assert answer.status_code == 401


def test_a_forecast_without_a_series_id_says_where_forecasts_are(viewer: httpx.Client) -> None:
    answer = viewer.get("/v1/forecasts/")
    assert answer.status_code == 404
    assert "no series id: GET /v1/forecasts/{series_id}" in answer.json()["detail"]
    assert "GET /v1/forecasts.csv every forecast" in answer.json()["detail"]


def test_a_parameter_given_twice_is_refused_unless_it_takes_a_list(viewer: httpx.Client) -> None:
    """`?scenario=true&scenario=false` was answered for false alone, as if true had not been
    sent; a filter that takes a list (a plan table's `district`) still takes both."""
    twice = viewer.get("/v1/plans", params=[("scenario", "true"), ("scenario", "false")])
    assert twice.status_code == 422, twice.text
    [problem] = twice.json()["problems"]
    assert problem["location"] == "query/scenario"
    assert problem["expected"] == "one value (this parameter is given once)"
    assert problem["found"] == "'true', 'false'"  # each value quoted once, not the list again
    districts = [("district", "rugby"), ("district", "warwick")]
    assert viewer.get("/v1/plans/latest/hours", params=districts).status_code == 200


def test_one_series_is_got_by_its_id_not_told_only_delete_is_allowed(
    viewer: httpx.Client,
) -> None:
    """A dashboard's GET /v1/series/{id} (and /v1/series/ with a slash) answered 405
    'allowed: DELETE': the delete route was the only one of that path."""
    listed = viewer.get("/v1/series", params={"prefix": "referrals/ot/rugby"}).json()
    one = viewer.get("/v1/series/referrals/ot/rugby")
    assert one.status_code == 200, one.text
    assert one.json() == listed[0]
    total = viewer.get("/v1/series", params={"kind": "total", "limit": 1}).json()[0]
    assert viewer.get(f"/v1/series/{total['id']}").json() == total
    slash = viewer.get("/v1/series/")
    assert slash.status_code == 404 and "GET /v1/series lists the series" in slash.text
    assert viewer.get("/v1/series/referrals/ot/nowhere").status_code == 404


def test_runs_and_plans_page_by_a_cursor_and_filter_by_kind_status_and_config(
    viewer: httpx.Client,
) -> None:
    """Paging by offset gave a row twice when a plan was made between two pages; runs could
    not be filtered by kind or status, nor plans by config or run."""
    runs = viewer.get("/v1/runs").json()
    newest = runs[0]["id"]
    older = viewer.get("/v1/runs", params={"before_id": newest})
    assert [r["id"] for r in older.json()] == [r["id"] for r in runs[1:]]
    assert older.headers["x-total-count"] == str(len(runs))  # the filter's count, not the page's
    pipeline = viewer.get("/v1/runs", params={"kind": "pipeline", "status": "succeeded"})
    assert pipeline.json() and all(
        (r["kind"], r["status"]) == ("pipeline", "succeeded") for r in pipeline.json()
    )
    wrong = viewer.get("/v1/runs", params={"kind": "forecast"})
    assert wrong.status_code == 422 and wrong.json()["problems"][0]["location"] == "query/kind"
    plan = viewer.get("/v1/plans/latest").json()
    by_config = viewer.get("/v1/plans", params={"config_id": plan["config_id"]}).json()
    assert plan["id"] in [p["id"] for p in by_config]
    assert all(p["config_id"] == plan["config_id"] for p in by_config)
    [by_run] = viewer.get("/v1/plans", params={"run_id": plan["run_id"]}).json()
    assert by_run["id"] == plan["id"]
    assert viewer.get("/v1/plans", params={"before_id": plan["id"]}).json() == [
        p for p in viewer.get("/v1/plans").json() if p["id"] < plan["id"]
    ]


def test_a_plan_tables_unknown_parameter_names_only_the_filters_it_takes(
    viewer: httpx.Client,
) -> None:
    """GET /v1/plans/latest/revenue_by_year?page=2 named district, from, service, team and to
    as its parameters, none of which that table (no district, service, team or date column)
    can filter by; revenue (by period) takes from and to alone, hours all five."""
    for table, named in [
        ("revenue_by_year", None),
        ("revenue", "from, to"),
        ("hours", "district, from, service, team, to"),
    ]:
        answer = viewer.get(f"/v1/plans/latest/{table}", params={"page": 2})
        assert answer.status_code == 422, answer.text
        [problem] = answer.json()["problems"]
        expected = (
            "no query parameters (this endpoint takes none)"
            if named is None
            else f"one of this endpoint's query parameters: {named}"
        )
        assert problem["expected"] == expected, table
