"""The API over a real HTTP server: plans, forecasts, series, runs, uploads, problem+json.

Each test holds the weakest key that may do what it does (see homeward/roles.py).
"""

from __future__ import annotations

import gzip
import json
import time
from typing import Any

import httpx
import pytest

from homeward import repository
from homeward.plan_years import with_year_periods
from tests.api.conftest import DemoDatabase
from tests.conftest import LiveServer

SERVICES = {"ot", "hao", "reablement", "domcare"}
DISTRICTS = {"north-warwickshire", "nuneaton-and-bedworth", "rugby", "warwick", "stratford-on-avon"}


def test_health_needs_no_key(demo_server: LiveServer) -> None:
    body = httpx.get(f"{demo_server.url}/healthz").json()
    assert body["status"] == "ok" and body["database"] == "sqlite" and body["scheduler"] == "off"


def test_latest_plan_has_hours_capital_waits_money_and_shadow_prices(
    viewer: httpx.Client,
) -> None:
    response = viewer.get("/v1/plans/latest")
    assert response.status_code == 200
    plan = response.json()
    result = plan["result"]
    assert plan["status"] == "optimal" and plan["objective_weighted_wait_days"] > 0
    hours = result["hours"]
    assert {h["service"] for h in hours} == SERVICES
    assert {h["district"] for h in hours} == DISTRICTS
    assert len({h["period"] for h in hours}) == 13
    assert {c["district"] for c in result["capital"]} == DISTRICTS
    assert all("avg_wait_days" in b and "backlog_cases" in b for b in result["backlog"])
    assert all({"staff_cost_gbp", "fee_income_gbp"} <= set(r) for r in result["revenue"])
    constraints = {p["constraint"] for p in result["shadow_prices"]}
    assert any("revenue" in c for c in constraints) and any(
        "team" in c or "hours" in c for c in constraints
    )
    assert result["solver"] and result["solve_seconds"] >= 0


def test_plan_by_id_and_missing_plan_is_problem_json(viewer: httpx.Client) -> None:
    latest = viewer.get("/v1/plans/latest").json()
    same = viewer.get(f"/v1/plans/{latest['id']}").json()
    assert same["id"] == latest["id"]
    missing = viewer.get("/v1/plans/999999")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("application/problem+json")
    assert "999999" in missing.json()["detail"]


@pytest.mark.parametrize(
    "path",
    [
        "/v1/plans/99999999999999999999",
        "/v1/runs/2147483648",
        "/v1/runs?offset=" + "9" * 30,
        # an id filter: SQLite could not bind it (OverflowError, a 500)
        "/v1/plans?config_id=99999999999999999999",
        "/v1/plans?run_id=2147483648",
    ],
)
def test_an_id_or_offset_out_of_range_is_422_naming_it(viewer: httpx.Client, path: str) -> None:
    response = viewer.get(path)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    [problem] = response.json()["problems"]
    assert problem["location"].split("/")[1] in {"plan_id", "run_id", "offset", "config_id"}
    assert "2147483647" in problem["expected"]


def test_every_whole_number_a_path_or_query_takes_has_a_most(viewer: httpx.Client) -> None:
    """Ids are 32-bit columns: an id filter without a bound (`/v1/plans?config_id=`) reached
    SQLite, which could not bind it (a 500), where the path's ids were a 422 naming the most."""
    unbounded = [
        f"{method.upper()} {path} {parameter['name']}"
        for path, operations in viewer.get("/openapi.json").json()["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        for schema in parameter["schema"].get("anyOf", [parameter["schema"]])
        if schema.get("type") == "integer" and "maximum" not in schema
    ]
    assert unbounded == []


def test_series_and_forecast_with_intervals_and_backtest(viewer: httpx.Client) -> None:
    series = viewer.get("/v1/series", params={"prefix": "referrals/ot/"}).json()
    assert {s["id"] for s in series} == {f"referrals/ot/{d}" for d in DISTRICTS}
    fc = viewer.get("/v1/forecasts/referrals/ot/rugby").json()
    assert len(fc["points"]) == 13
    for p in fc["points"]:
        assert p["lo-95"] <= p["lo-80"] <= p["mean"] <= p["hi-80"] <= p["hi-95"]
    assert sum(m["chosen"] for m in fc["backtest"]) == 1
    assert all(m["metrics"].get("mase") is not None for m in fc["backtest"] if m["chosen"])
    assert fc["level_shifts"] == []  # the synthetic referrals have none (tests/forecast shifts)


def test_runs_record_provenance(viewer: httpx.Client) -> None:
    runs = viewer.get("/v1/runs").json()
    pipeline = next(r for r in runs if r["kind"] == "pipeline")
    assert pipeline["status"] == "succeeded" and len(pipeline["data_hash"]) == 64
    assert pipeline["solver_status"] == "optimal" and pipeline["config_version"]
    assert set(pipeline["models_chosen"]) >= {f"referrals/ot/{d}" for d in DISTRICTS}
    assert {"forecast_s", "plan_s"} <= set(pipeline["timings_s"])
    # the stored config it planned, by id, as its plan names it
    plan = viewer.get("/v1/plans", params={"run_id": pipeline["id"]}).json()[0]
    assert pipeline["config_id"] == plan["config_id"] is not None
    # started at once, not queued: asked for and begun at the same moment; no sweep made it
    assert pipeline["queued_at"] == pipeline["started_at"]
    assert pipeline["parent_run_id"] is None


def test_runs_are_paged_with_their_total_in_a_header(viewer: httpx.Client) -> None:
    everything = viewer.get("/v1/runs", params={"limit": 500})
    total = len(everything.json())
    assert total >= 1 and everything.headers["x-total-count"] == str(total)
    for offset in (0, total - 1, total + 3):  # the first page, the last row, past the end
        page = viewer.get("/v1/runs", params={"limit": 1, "offset": offset})
        expected = [r["id"] for r in everything.json()[offset : offset + 1]]
        assert [r["id"] for r in page.json()] == expected
        assert page.headers["x-total-count"] == str(total)


def test_post_plan_with_a_changed_fee_rate(finance: httpx.Client) -> None:
    latest = finance.get("/v1/plans/latest").json()
    config = finance.get("/v1/configs/active").json()["body"]
    config["fees"]["dfg_fee_rate"] = 0.15
    response = finance.post("/v1/plans", json={"config": config}, timeout=60)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["id"] > latest["id"] and new["status"] == "optimal"
    assert response.headers["Location"] == f"/v1/plans/{new['id']}"
    assert finance.get(response.headers["Location"]).json()["id"] == new["id"]
    assert new["objective_weighted_wait_days"] <= latest["objective_weighted_wait_days"] + 1e-6
    active = finance.get("/v1/configs/active").json()["body"]
    assert active["fees"]["dfg_fee_rate"] == 0.10  # a what-if never replaces the active config
    active_version = active["version"]
    run = finance.get(f"/v1/runs/{new['run_id']}").json()
    assert run["kind"] == "plan" and run["config_version"].startswith(f"{active_version}#")
    assert run["config_id"] == new["config_id"] and run["parent_run_id"] is None


def _wait_for(client: httpx.Client, location: str) -> dict[str, Any]:
    deadline = time.monotonic() + 300
    run: dict[str, Any] = client.get(location).json()
    while run["status"] in {"queued", "running"} and time.monotonic() < deadline:
        time.sleep(0.5)
        run = client.get(location).json()
    return run


def test_plan_as_a_job_with_prefer_respond_async(planner: httpx.Client) -> None:
    accepted = planner.post("/v1/plans", json={}, headers={"Prefer": "respond-async"})
    assert accepted.status_code == 202, accepted.text
    job = accepted.json()
    assert accepted.headers["location"] == f"/v1/runs/{job['id']}"
    assert accepted.headers["preference-applied"] == "respond-async"
    assert job["kind"] == "plan" and job["status"] in {"queued", "running", "succeeded"}
    run = _wait_for(planner, accepted.headers["location"])
    assert run["status"] == "succeeded" and run["solver_status"] == "optimal", run
    plan = planner.get(f"/v1/plans/{run['plan_id']}").json()
    assert plan["run_id"] == job["id"] and plan["status"] == "optimal"


def test_plan_job_with_a_bad_config_is_refused_before_it_is_queued(
    finance: httpx.Client,
) -> None:
    runs_before = len(finance.get("/v1/runs").json())
    config = finance.get("/v1/configs/active").json()["body"]
    config["revenue_budget_gbp_per_period"] = -5
    response = finance.post(
        "/v1/plans", json={"config": config}, headers={"Prefer": "wait=5, respond-async"}
    )
    assert response.status_code == 422 and "revenue_budget_gbp_per_period" in response.text
    assert len(finance.get("/v1/runs").json()) == runs_before


def test_bad_plan_request_names_the_field(finance: httpx.Client) -> None:
    config = finance.get("/v1/configs/active").json()["body"]
    config["revenue_budget_gbp_per_period"] = -5
    response = finance.post("/v1/plans", json={"config": config})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert "revenue_budget_gbp_per_period" in body["detail"]
    assert "\n" not in body["detail"] and "errors.pydantic.dev" not in body["detail"]
    [problem] = body["problems"]
    assert problem["location"] == "body/config/revenue_budget_gbp_per_period"
    assert problem["found"] == "-5" and "greater than" in problem["expected"]


def test_upload_rejected_whole_then_accepted(admin: httpx.Client) -> None:
    before = len(admin.get("/v1/series").json())
    bad = (
        "unique_id,ds,y\n"
        "referrals/ot/new-place,2025-01-06,3\n"
        "referrals/ot/new-place,2025-01-13,lots\n"
    )
    rejected = admin.post("/v1/observations", content=bad, headers={"content-type": "text/csv"})
    assert rejected.status_code == 422
    problems = rejected.json()["problems"]
    assert (
        problems[0]["row"] == 3 and problems[0]["column"] == "y" and "lots" in problems[0]["found"]
    )
    assert problems[0]["series_id"] == "referrals/ot/new-place"
    assert len(admin.get("/v1/series").json()) == before
    good = bad.replace("lots", "4")
    accepted = admin.post("/v1/observations", content=good, headers={"content-type": "text/csv"})
    assert accepted.status_code == 201 and accepted.json()["rows"] == 2
    assert len(admin.get("/v1/series").json()) == before + 1


def test_an_upload_with_other_digits_than_0_9_is_rejected_whole(admin: httpx.Client) -> None:
    """float() reads '１２' (full-width) and '١٢' (Arabic-Indic) as 12: an upload of them was
    stored as 12 while a date in the same digits was refused; both are refused, nothing kept."""
    before = len(admin.get("/v1/series").json())
    upload = (
        "unique_id,ds,y\n"
        "referrals/ot/other-digits,2025-01-06,１２\n"
        "referrals/ot/other-digits,２０２５-01-13,١٢\n"
    )
    rejected = admin.post("/v1/observations", content=upload.encode(), headers=_CSV_UTF8)
    assert rejected.status_code == 422, rejected.text
    found = [(p["row"], p["column"], p["found"]) for p in rejected.json()["problems"]]
    assert found == [
        (2, "y", "'１２' (digits other than 0-9: write 12)"),
        (3, "ds", "'２０２５-01-13' (digits other than 0-9: write 2025-01-13)"),
        (3, "y", "'١٢' (digits other than 0-9: write 12)"),
    ]
    assert len(admin.get("/v1/series").json()) == before


_CSV_UTF8 = {"content-type": "text/csv; charset=utf-8"}


def test_an_excel_upload_semicolons_named_once_trailing_empty_columns_ignored(
    admin: httpx.Client,
) -> None:
    before = len(admin.get("/v1/series").json())
    rows = [
        "unique_id,ds,y",
        "referrals/hao/new-place,2025-01-06,3",
        "referrals/hao/new-place,2025-01-13,4",
    ]
    csv = {"content-type": "text/csv"}
    semicolons = "".join(row.replace(",", ";") + "\n" for row in rows)
    rejected = admin.post("/v1/observations", content=semicolons, headers=csv)
    assert rejected.status_code == 422, rejected.text
    [problem] = rejected.json()["problems"]
    assert problem["row"] == 1 and "semicolon-separated" in problem["found"]
    assert "'unique_id;ds;y'" in problem["found"]
    assert len(admin.get("/v1/series").json()) == before
    trailing = "".join(row + ",,\n" for row in rows)
    accepted = admin.post("/v1/observations", content=trailing, headers=csv)
    assert accepted.status_code == 201 and accepted.json()["rows"] == 2, accepted.text
    assert len(admin.get("/v1/series").json()) == before + 1


def test_a_row_refused_against_stored_history_is_named_by_its_row(admin: httpx.Client) -> None:
    """2026-03-01 is fine alone (a 1st of a month) but a Sunday in the weekly stored series."""
    before = admin.get("/v1/observations/referrals/ot/rugby").json()
    upload = "unique_id,ds,y\nreferrals/ot/rugby,2026-03-01,100\n"
    rejected = admin.post("/v1/observations", content=upload, headers={"content-type": "text/csv"})
    assert rejected.status_code == 422, rejected.text
    problems = rejected.json()["problems"]
    assert problems and all(p["row"] == 2 for p in problems), problems
    assert admin.get("/v1/observations/referrals/ot/rugby").json() == before


def test_bad_query_parameter_is_problem_json(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/runs", params={"limit": "0"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "limit" in response.json()["detail"]


def test_every_422_has_the_one_title_invalid_input(
    viewer: httpx.Client, finance: httpx.Client, admin: httpx.Client
) -> None:
    responses = {
        "query parameter": viewer.get("/v1/runs", params={"limit": "0"}),
        "JSON body": finance.post(
            "/v1/configs", content=b"{", headers={"content-type": "application/json"}
        ),
        "uploaded file": admin.post(
            "/v1/observations", content=b"unique_id,ds\n", headers={"content-type": "text/csv"}
        ),
    }
    titles = {kind: (r.status_code, r.json()["title"]) for kind, r in responses.items()}
    assert titles == dict.fromkeys(responses, (422, "Invalid input"))


def test_openapi_published_without_a_key(demo_server: LiveServer) -> None:
    spec = httpx.get(f"{demo_server.url}/openapi.json").json()
    assert {"/v1/plans/latest", "/v1/plans", "/v1/runs", "/v1/series", "/healthz"} <= set(
        spec["paths"]
    )
    assert httpx.get(f"{demo_server.url}/docs").status_code == 200


def test_every_paged_list_documents_its_total_header(demo_server: LiveServer) -> None:
    spec = httpx.get(f"{demo_server.url}/openapi.json").json()
    paged = {
        path: operation["responses"]["200"]
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if {"limit", "offset"} <= {p["name"] for p in operation.get("parameters", [])}
    }
    # found from their parameters, not listed
    assert set(paged) == {"/v1/plans", "/v1/runs", "/v1/series", "/v1/audit", "/v1/configs"}
    for path, ok in paged.items():
        header = ok["headers"]["X-Total-Count"]
        assert header["schema"]["type"] == "integer", path
        assert ok["content"]["application/json"]["schema"]["type"] == "array", path


def test_history_of_a_series_for_charts(viewer: httpx.Client) -> None:
    points = viewer.get("/v1/observations/referrals/ot/rugby", params={"last": 10}).json()
    assert len(points) == 10
    days = [p["ds"][:10] for p in points]
    assert days == sorted(days) and all(p["y"] >= 0 for p in points)
    missing = viewer.get("/v1/observations/referrals/ot/atlantis")
    assert missing.status_code == 404 and "atlantis" in missing.json()["detail"]


def test_zz_pipeline_run_as_a_job(planner: httpx.Client) -> None:
    """Last in the module: it adds a run and a plan that the other tests do not expect."""
    before = planner.get("/v1/plans/latest").json()["id"]
    accepted = planner.post("/v1/runs")
    assert accepted.status_code == 202
    location = accepted.headers["location"]
    assert location == f"/v1/runs/{accepted.json()['id']}"
    assert accepted.json()["status"] in {"queued", "running"}
    queued_at = accepted.json()["queued_at"]
    run = _wait_for(planner, location)
    assert run["status"] == "succeeded", run
    # when it was asked for is kept; `started_at` is when the worker took it
    assert run["queued_at"] == queued_at is not None and run["started_at"] >= queued_at
    assert run["trigger"] == "api" and run["finished_at"] and run["solver_status"] == "optimal"
    latest = planner.get("/v1/plans/latest").json()
    assert latest["id"] > before and run["plan_id"] == latest["id"]


def test_winter_index_of_a_referral_series(viewer: httpx.Client) -> None:
    body = viewer.get("/v1/winter/referrals/reablement/warwick").json()
    months = {int(p["ds"][5:7]) for p in body["points"]}
    assert months and months <= {11, 12, 1, 2, 3}
    assert all(p["index"] is None or 0.3 < p["index"] < 3.0 for p in body["points"])
    missing = viewer.get("/v1/winter/referrals/ot/atlantis")
    assert missing.status_code == 404


def test_winter_index_of_a_total_is_against_its_districts_summed_history(
    viewer: httpx.Client,
) -> None:
    """A team or area total has a forecast but no history of its own: its base is its
    districts' observations added up."""
    import pandas as pd

    from forecast import winter_index

    body = viewer.get("/v1/winter/referrals_area/ot")
    assert body.status_code == 200, body.text
    config = viewer.get("/v1/configs/active").json()["body"]  # the total's districts
    districts = [f"referrals/ot/{d['id']}" for d in config["districts"]]
    frames = [
        pd.DataFrame(viewer.get(f"/v1/observations/{d}").json()).assign(unique_id=d)
        for d in districts
    ]
    rows = pd.concat(frames).groupby("ds", as_index=False)["y"].agg(["sum", "count"])
    summed = rows[rows["count"] == len(districts)].rename(columns={"sum": "y"})  # weeks all have
    forecast = pd.DataFrame(viewer.get("/v1/forecasts/referrals_area/ot").json()["points"])
    expected = winter_index(
        forecast.assign(unique_id="t", ds=pd.to_datetime(forecast["ds"])),
        summed.assign(unique_id="t", ds=pd.to_datetime(summed["ds"])),
    )
    served = [p["index"] for p in body.json()["points"]]
    assert served and served == pytest.approx(expected["index"].tolist())
    assert viewer.get("/v1/winter/referrals_team/ot/atlantis").status_code == 404


def test_times_carry_their_zone_and_history_downloaded_uploads_again(admin: httpx.Client) -> None:
    """A dashboard's new Date() must read a run's time as UTC; an analyst's download of a
    series' history must be a valid upload."""
    from datetime import UTC, datetime

    run = admin.get("/v1/runs").json()[0]
    assert run["started_at"].endswith("Z")
    assert datetime.fromisoformat(run["started_at"]).tzinfo == UTC
    assert admin.get("/v1/plans/latest").json()["created_at"].endswith("Z")
    points = admin.get("/v1/observations/referrals/ot/warwick?last=3").json()
    assert all(len(p["ds"]) == 10 for p in points)  # YYYY-MM-DD, as plans and uploads write it
    csv = "unique_id,ds,y\n" + "".join(f"referrals/ot/warwick,{p['ds']},{p['y']}\n" for p in points)
    back = admin.post("/v1/observations", content=csv, headers={"content-type": "text/csv"})
    assert back.status_code in (200, 201), back.text
    assert back.json()["revised"] == 0  # the same values again change no history


def test_a_large_answer_comes_compressed_to_a_client_that_asks(viewer: httpx.Client) -> None:
    plain = viewer.get("/v1/plans/latest", headers={"Accept-Encoding": "identity"})
    with viewer.stream("GET", "/v1/plans/latest", headers={"Accept-Encoding": "gzip"}) as zipped:
        wire = b"".join(zipped.iter_raw())
        assert zipped.headers["content-encoding"] == "gzip"
    assert "content-encoding" not in plain.headers
    assert len(wire) < len(plain.content) / 4
    assert gzip.decompress(wire) == plain.content
    # level 6, not 9: the gzip header's XFL byte is 2 for level 9 only (RFC 1952)
    assert wire[8] == 0, "compressed at the slowest level"


def test_a_malformed_or_incomplete_body_says_what_was_found(finance: httpx.Client) -> None:
    malformed = finance.post(
        "/v1/configs", content=b'{"name": ', headers={"content-type": "application/json"}
    )
    assert malformed.status_code == 422
    [problem] = malformed.json()["problems"]
    assert problem == {
        "location": "body",
        "expected": "a JSON body",
        "found": "Expecting value at line 1, column 10 (character 9)",
    }
    # where an editor would put it: a stray comma on a config's third line
    stray = finance.post(
        "/v1/configs",
        content=b'{\n  "name": "x",\n  "version": "1",,\n}',
        headers={"content-type": "application/json"},
    )
    [problem] = stray.json()["problems"]
    assert problem["found"] == (
        "Expecting property name enclosed in double quotes at line 3, column 18 (character 34)"
    )
    config = finance.get("/v1/configs/active").json()["body"]
    del config["fees"]
    incomplete = finance.post("/v1/configs", json=config)
    assert incomplete.status_code == 422
    [problem] = incomplete.json()["problems"]
    assert problem["location"] == "body/fees" and problem["found"] == "nothing"


def test_a_district_floor_the_team_cannot_give_is_refused_at_its_field(
    finance: httpx.Client,
) -> None:
    """districts[].hours and .max_avg_wait_days are config fields (they were refused as extra);
    a floor above the team's OT ceiling is refused naming the district's field."""
    config = finance.get("/v1/configs/active").json()["body"]
    team = next(t for t in config["teams"] if t["id"] == config["districts"][2]["team"])
    ceiling = team["hours"]["ot"]["max_per_period"] + team["hours"]["ot"].get(
        "agency_max_per_period", 0.0
    )
    config["districts"][2]["hours"] = {"ot": {"min_per_period": ceiling + 1}}
    config["districts"][2]["max_avg_wait_days"] = {"ot": 28}
    refused = finance.post("/v1/configs", json=config)
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/districts/2/hours/ot/min_per_period"
    assert problem["expected"].startswith(f"<= {ceiling:g}: team {team['id']}'s ot ceiling")


PLAN_FRAMES = {
    "hours": "PlanHoursRowPublic",
    "staffing": "PlanStaffingRowPublic",
    "capital": "PlanCapitalRowPublic",
    "capital_total": "PlanCapitalTotalRowPublic",
    "backlog": "PlanBacklogRowPublic",
    "revenue": "PlanRevenueRowPublic",
    "revenue_by_budget": "PlanRevenueBudgetRowPublic",
    "capital_by_year": "PlanCapitalYearRowPublic",
    "revenue_by_year": "PlanRevenueYearRowPublic",
    "revenue_by_service": "PlanRevenueServiceRowPublic",
    "dtoc_days": "PlanDtocRowPublic",
    "shadow_prices": "PlanShadowPriceRowPublic",
    "binding": "PlanBindingRowPublic",
    "relaxations": "PlanRelaxationRowPublic",
    "district_waits": "PlanDistrictWaitRowPublic",
    "baselines": "PlanBaselineRowPublic",
    "simulation": "PlanSimulationRowPublic",
    "demand_risk": "PlanDemandRiskRowPublic",
    "risk_periods": "PlanRiskPeriodRowPublic",
    "demand": "PlanDemandRowPublic",
}


def _first_difference(served: Any, stored: Any, at: str = "result") -> str | None:
    """Where two JSON values first differ (a key, its order, a value or a number's type), or
    None: a short message where pytest's diff of a whole plan would take minutes."""
    if type(served) is not type(stored):
        return f"{at}: served {served!r:.60}, stored {stored!r:.60}"
    if isinstance(stored, dict):
        if list(served) != list(stored):
            return f"{at}: keys served {list(served)}, stored {list(stored)}"
        for key, value in stored.items():
            if found := _first_difference(served[key], value, f"{at}.{key}"):
                return found
    elif isinstance(stored, list):
        if len(served) != len(stored):
            return f"{at}: {len(served)} served, {len(stored)} stored"
        for i, (one, other) in enumerate(zip(served, stored, strict=True)):
            if found := _first_difference(one, other, f"{at}[{i}]"):
                return found
    elif served != stored:
        return f"{at}: served {served!r:.60}, stored {stored!r:.60}"
    return None


def test_a_plan_result_is_served_exactly_as_stored_and_documented_frame_by_frame(
    demo_db: DemoDatabase, viewer: httpx.Client
) -> None:
    with demo_db.factory() as session:
        row = repository.latest_plan(session)
        assert row is not None
        # as stored, but for revenue_by_year's year_periods, worked out on read (and added
        # after each row's stored keys): the one column no plan stores
        assert all("year_periods" not in r for r in row.result["revenue_by_year"])
        stored = json.loads(json.dumps(with_year_periods(row.result)))
    for path in ("/v1/plans/latest", f"/v1/plans/{row.id}"):
        served = viewer.get(path).json()
        assert served["id"] == row.id
        # the same keys, values and number types (1.0 is not 1), in the same order
        assert _first_difference(served["result"], stored) is None
    assert set(PLAN_FRAMES) | {"warnings"} <= set(stored)

    schemas = httpx.get(f"{viewer.base_url}/openapi.json").json()["components"]["schemas"]
    assert schemas["PlanPublic"]["properties"]["result"]["$ref"].endswith("/PlanResultPublic")
    result = schemas["PlanResultPublic"]
    assert result["additionalProperties"] is True
    for frame, row_schema in PLAN_FRAMES.items():
        field = result["properties"][frame]
        assert field["type"] == "array", frame
        assert field["items"] == {"$ref": f"#/components/schemas/{row_schema}"}, frame
        assert schemas[row_schema]["additionalProperties"] is True
        columns = set(schemas[row_schema]["properties"])
        assert all(set(r) <= columns for r in stored[frame]), (frame, stored[frame][:1])
    assert result["properties"]["warnings"]["items"] == {"type": "string"}


def test_an_older_or_newer_plan_result_is_served_with_no_key_added_or_dropped(
    demo_db: DemoDatabase, viewer: httpx.Client
) -> None:
    """A plan stored before some fields existed is served without them, but for a row's
    column added since (a shadow price's axes), which is null, as the row's schema requires;
    keys the schema does not name (a newer plan's) are kept, at the top and in a row."""
    with demo_db.factory() as session:
        latest = repository.latest_plan(session)
        assert latest is not None
        result = json.loads(json.dumps(latest.result))
        for newer in (
            "tie_break",
            "simulation",
            "demand",
            "demand_risk",
            "risk_periods",
            "revenue_by_budget",
            "capital_by_year",
            "revenue_by_year",
            "revenue_by_service",
            "total_dtoc_days",
        ):
            del result[newer]
        axes = ("service", "team", "district", "budget", "year", "period")
        for price in result["shadow_prices"]:
            for axis in axes:
                del price[axis]
        result["capital"][0]["added_later"] = 7
        result["added_later"] = {"a": [1, 2.0]}
        older = repository.store_plan(
            session, latest.run_id, latest.config_id, "optimal", 1.0, 0.5, result
        )
        session.commit()
        try:
            served = viewer.get(f"/v1/plans/{older.id}").json()
            result["shadow_prices"] = [
                r | dict.fromkeys(axes) for r in latest.result["shadow_prices"]
            ]
            assert _first_difference(served["result"], result) is None
        finally:
            session.delete(older)
            session.commit()


def test_the_plan_shows_its_waits_if_referrals_come_in_low_or_high(viewer: httpx.Client) -> None:
    """The pipeline's demand carries each forecast's 80% bounds, so the served plan has its
    hours evaluated against a low and a high year beside its own demand."""
    risk = viewer.get("/v1/plans/latest").json()["result"]["demand_risk"]
    waited: dict[str, float] = {}
    for row in risk:
        waited[row["scenario"]] = waited.get(row["scenario"], 0.0) + row["person_days"]
    assert set(waited) == {"low", "planned", "high"}
    assert waited["low"] < waited["planned"] < waited["high"]
    planned = {
        (r["service"], r["district"]): r["person_days"] for r in risk if r["scenario"] == "planned"
    }
    district_waits = viewer.get("/v1/plans/latest").json()["result"]["district_waits"]
    assert len(planned) == len(district_waits)
    for row in district_waits:
        assert planned[(row["service"], row["district"])] == pytest.approx(
            row["person_days"], rel=1e-6, abs=1e-6
        )


def test_the_demo_plan_warns_of_reablement_waits_past_six_weeks(viewer: httpx.Client) -> None:
    """The demo's standard reablement cases wait far past the service's six weeks in its
    winter weeks while its average looks near them; the plan's warnings say so, naming the
    longest wait of its backlog table (GET /v1/plans/latest, as a BI tool reads it)."""
    result = viewer.get("/v1/plans/latest").json()["result"]
    waits = [b for b in result["backlog"] if b["service"] == "reablement" and b["avg_wait_days"]]
    worst = max(waits, key=lambda b: b["avg_wait_days"])
    assert worst["avg_wait_days"] > 42
    [text] = [w for w in result["warnings"] if w.startswith("reablement waits pass its 42-day")]
    assert (
        f"the longest is {worst['avg_wait_days']:,.0f} days for {worst['priority']} cases in "
    ) in text
    assert f"in the week of {worst['ds'][:10]}" in text
    assert f"its {worst['priority']} cases' average wait over the plan is " in text
    assert "a wait without end" not in text  # each district's standard cases are served later


def test_a_correction_skipping_a_stored_month_is_accepted(admin: httpx.Client) -> None:
    """July and September sent again around a stored August: the merged history has no gap."""
    csv = {"content-type": "text/csv"}
    series = "referrals/ot/redcar"
    months = "".join(f"{series},2026-{m:02d}-01,{100 + m}\n" for m in range(1, 10))
    assert admin.post(
        "/v1/observations", content="unique_id,ds,y\n" + months, headers=csv
    ).is_success
    correction = f"unique_id,ds,y\n{series},2026-07-01,200\n{series},2026-09-01,210\n"
    accepted = admin.post("/v1/observations", content=correction, headers=csv)
    assert accepted.status_code == 201, accepted.text
    assert accepted.json()["revised"] == 2
    stored = {p["ds"]: p["y"] for p in admin.get(f"/v1/observations/{series}").json()}
    assert len(stored) == 9
    assert [stored[f"2026-0{m}-01"] for m in (7, 8, 9)] == [200.0, 108.0, 210.0]


@pytest.mark.parametrize("path", ["/v1/runs", "/v1/plans"])
def test_a_paged_list_links_its_next_page_until_the_last(
    viewer: httpx.Client, finance: httpx.Client, path: str
) -> None:
    """RFC 8288 `Link: <...>; rel="next"`, by `before_id` with the filters kept, whichever way
    the client pages: `X-Total-Count` stays the total with the filters, `before_id` aside, so
    paging by `before_id` a page's length cannot tell the last (5 left, 2 shown, total 9)."""
    # at least three pages of one, whichever of the module's tests ran before this one
    while len(viewer.get(path, params={"limit": 3}).json()) < 3:
        assert finance.post("/v1/plans", json={}, timeout=60).status_code == 201
    everything = [r["id"] for r in viewer.get(path, params={"limit": 100}).json()]
    assert "link" not in viewer.get(path, params={"limit": 100}).headers
    followed: list[int] = []
    page = viewer.get(path, params={"limit": 1, "offset": 0})
    while True:
        followed += [r["id"] for r in page.json()]
        assert page.headers["x-total-count"] == str(len(everything))
        if "link" not in page.headers:
            break
        target, rel = page.headers["link"].split(";")
        assert rel.strip() == 'rel="next"' and target.startswith(f"<{path}?")
        assert f"before_id={followed[-1]}" in target and "offset" not in target, target
        page = viewer.get(target.strip("<> "))
    assert followed == everything
    older = viewer.get(path, params={"limit": 1, "before_id": everything[-1] + 1})
    assert [r["id"] for r in older.json()] == everything[-1:] and "link" not in older.headers
