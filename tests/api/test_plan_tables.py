"""One table of a plan as JSON, and any table (JSON or CSV) filtered by district, service and
dates: the rows are the full plan's, a filter the table or plan cannot answer is refused, and
the plan list heads each plan with its horizon and warnings (over a real HTTP server)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session

from api.plan_tables import STORED_TABLES, PlanTable, row_model
from api.schemas import PlanRevenueServiceRowPublic, PlanRiskPeriodRowPublic
from homeward import demo_config, planning, repository
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import PlanRow
from tests.api.conftest import DemoDatabase


@pytest.fixture(scope="module")
def plan(viewer: httpx.Client) -> dict[str, Any]:
    """The latest plan, whole, as GET /v1/plans/latest answers it."""
    answer = viewer.get("/v1/plans/latest")
    assert answer.status_code == 200, answer.text
    whole: dict[str, Any] = answer.json()
    return whole


def _rows(answer: httpx.Response) -> list[dict[str, Any]]:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "application/json"
    rows: list[dict[str, Any]] = answer.json()
    return rows


def _csv(answer: httpx.Response) -> pd.DataFrame:
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    return pd.read_csv(io.StringIO(answer.text))


def _problems(answer: httpx.Response) -> dict[str, dict[str, Any]]:
    assert answer.status_code == 422, answer.text
    return {p["location"]: p for p in answer.json()["problems"]}


def test_every_table_has_its_row_model() -> None:
    """Each table's rows are served through the model PlanResultPublic types them with."""
    assert all(row_model(t) is not None for t in PlanTable)


@pytest.mark.parametrize("table", STORED_TABLES, ids=[t.value for t in STORED_TABLES])
def test_each_table_is_the_full_plans_table(
    viewer: httpx.Client, plan: dict[str, Any], table: PlanTable
) -> None:
    expected = plan["result"].get(table.value, [])
    assert _rows(viewer.get(f"/v1/plans/latest/{table.value}")) == expected
    assert _rows(viewer.get(f"/v1/plans/{plan['id']}/{table.value}")) == expected


def test_json_and_csv_tables_resolve_to_their_own_routes(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """`/3/hours.csv` is the CSV route (not table "hours.csv" of the JSON one); `/latest/hours`
    is the latest plan's, not a plan whose id is "latest"."""
    hours = plan["result"]["hours"]
    assert len(hours) > 0
    for base in ("/v1/plans/latest", f"/v1/plans/{plan['id']}"):
        assert _rows(viewer.get(f"{base}/hours")) == hours
        assert len(_csv(viewer.get(f"{base}/hours.csv"))) == len(hours)
    for base in ("/v1/plans/latest", f"/v1/plans/{plan['id']}"):
        # no table of that name: refused at `path/table` naming the tables, not a 404
        wrong = viewer.get(f"{base}/hour")
        assert set(_problems(wrong)) == {"path/table"}
        assert "'hours'" in wrong.json()["detail"]
    missing = viewer.get("/v1/plans/999999/hours")
    assert missing.status_code == 404 and "no plan with id 999999" in missing.json()["detail"]


def test_a_district_service_and_window_keep_only_their_rows(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    hours = plan["result"]["hours"]
    days = sorted({r["ds"] for r in hours})
    start, end = days[1], days[3]
    wanted = [
        r
        for r in hours
        if r["district"] == "rugby" and r["service"] == "ot" and start <= r["ds"] <= end
    ]
    assert len(wanted) == 3  # one row a period, the window's ends included
    params = {"district": "rugby", "service": "ot", "from": start, "to": end}
    assert _rows(viewer.get("/v1/plans/latest/hours", params=params)) == wanted
    csv = _csv(viewer.get(f"/v1/plans/{plan['id']}/hours.csv", params=params))
    assert list(csv.columns) == list(pd.DataFrame(hours).columns)
    assert list(csv["ds"]) == [r["ds"] for r in wanted]
    assert csv["hours"].to_numpy() == pytest.approx([r["hours"] for r in wanted], rel=1e-9)


def test_a_filter_given_twice_keeps_the_rows_of_either(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    demand = plan["result"]["demand"]
    both = [r for r in demand if r["district"] in ("rugby", "warwick")]
    assert 0 < len(both) < len(demand)
    params = [("district", "rugby"), ("district", "warwick")]
    assert _rows(viewer.get("/v1/plans/latest/demand", params=params)) == both
    assert len(_csv(viewer.get("/v1/plans/latest/demand.csv", params=params))) == len(both)


def test_a_window_alone_filters_a_table_without_districts(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    revenue = plan["result"]["revenue"]
    last = max(r["ds"] for r in revenue)
    tail = [r for r in revenue if r["ds"] >= last]
    assert 0 < len(tail) < len(revenue)
    assert _rows(viewer.get("/v1/plans/latest/revenue", params={"from": last})) == tail


def test_no_rows_kept_is_an_empty_list_or_a_header(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """A window between two period starts holds none: an empty answer, not an error."""
    first = pd.Timestamp(min(r["ds"] for r in plan["result"]["hours"]))
    day = (first + pd.Timedelta(days=1)).strftime("%Y-%m-%d")
    params = {"district": "rugby", "from": day, "to": day}
    assert _rows(viewer.get("/v1/plans/latest/hours", params=params)) == []
    header = viewer.get("/v1/plans/latest/hours.csv", params=params)
    assert header.status_code == 200
    assert header.text == ",".join(pd.DataFrame(plan["result"]["hours"]).columns) + "\n"


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_a_filter_on_a_column_the_table_lacks_is_refused_naming_its_columns(
    viewer: httpx.Client, suffix: str
) -> None:
    """`district` of revenue (no district column) and `from` of capital_total (no ds) would
    otherwise answer every row as if filtered."""
    revenue = _problems(
        viewer.get(f"/v1/plans/latest/revenue{suffix}", params={"district": "rugby"})
    )
    assert set(revenue) == {"query/district"}
    expected = revenue["query/district"]["expected"]
    assert "table 'revenue', which has no district column" in expected
    assert "its columns: period, ds, staff_cost_gbp" in expected
    assert revenue["query/district"]["found"] == "'rugby'"
    totals = _problems(
        viewer.get(
            f"/v1/plans/latest/capital_total{suffix}",
            params={"from": "2026-01-05", "to": "2026-03-02"},
        )
    )
    assert set(totals) == {"query/from", "query/to"}
    assert "table 'capital_total', which has no ds column" in totals["query/from"]["expected"]
    staffing = _problems(
        viewer.get(f"/v1/plans/latest/staffing{suffix}", params={"district": "rugby"})
    )
    assert "service, team, period, ds" in staffing["query/district"]["expected"]


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_an_id_the_plan_does_not_have_is_refused_naming_the_ones_it_has(
    viewer: httpx.Client, suffix: str
) -> None:
    """A misspelt district must not read as a district with no rows."""
    answer = viewer.get(
        f"/v1/plans/latest/hours{suffix}",
        params=[("district", "rugby"), ("district", "rugbby"), ("service", "OT")],
    )
    problems = _problems(answer)
    assert set(problems) == {"query/district", "query/service"}
    district = problems["query/district"]
    assert district["found"] == "'rugbby'"
    assert district["expected"].startswith("one of the plan's district ids: ")
    assert "north-warwickshire, nuneaton-and-bedworth, rugby" in district["expected"]
    assert district["expected"].endswith("(did you mean 'rugby'?)")
    assert "hao, ot" in problems["query/service"]["expected"]


def test_ids_written_as_one_comma_separated_value_are_told_to_repeat_the_parameter(
    viewer: httpx.Client,
) -> None:
    """`?district=rugby,warwick` was answered "did you mean 'warwick'?"."""
    answer = viewer.get("/v1/plans/latest/hours", params={"district": "rugby,warwick"})
    district = _problems(answer)["query/district"]
    assert district["found"] == "'rugby,warwick'"
    assert district["expected"].endswith(
        "(for several, repeat the parameter: ?district=rugby&district=warwick)"
    )


@pytest.mark.parametrize("suffix", ["", ".csv"])
@pytest.mark.parametrize("table", ["staffing", "hours"])
def test_a_team_keeps_only_its_rows_where_the_table_has_a_team_column(
    viewer: httpx.Client, plan: dict[str, Any], suffix: str, table: str
) -> None:
    """`?team=` was refused as a parameter no table route takes, though staffing is a team's
    hours and hours names each district's team: a dashboard fetched every team's rows."""
    rows = plan["result"][table]
    teams = sorted({r["team"] for r in rows})
    assert len(teams) > 1
    wanted = [r for r in rows if r["team"] == teams[0]]
    answer = viewer.get(f"/v1/plans/latest/{table}{suffix}", params={"team": teams[0]})
    if suffix:
        kept = _csv(answer)
        assert len(kept) == len(wanted) and set(kept["team"]) == {teams[0]}
    else:
        assert _rows(answer) == wanted
    both = viewer.get(f"/v1/plans/latest/{table}", params=[("team", t) for t in teams[:2]])
    assert _rows(both) == [r for r in rows if r["team"] in teams[:2]]
    # the tag is the filter's too: a client's copy of every team's rows is not this answer
    whole = viewer.get(f"/v1/plans/latest/{table}{suffix}")
    assert whole.headers["etag"] != answer.headers["etag"]


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_a_team_the_plan_lacks_or_a_table_without_teams_is_refused(
    viewer: httpx.Client, plan: dict[str, Any], suffix: str
) -> None:
    teams = sorted({r["team"] for r in plan["result"]["staffing"]})
    typo = teams[0] + "x"
    unknown = _problems(viewer.get(f"/v1/plans/latest/staffing{suffix}", params={"team": typo}))
    assert unknown["query/team"]["found"] == repr(typo)
    assert unknown["query/team"]["expected"].startswith(
        f"one of the plan's team ids: {', '.join(teams)}"
    )
    assert unknown["query/team"]["expected"].endswith(f"(did you mean {teams[0]!r}?)")
    capital = _problems(viewer.get(f"/v1/plans/latest/capital{suffix}", params={"team": teams[0]}))
    assert "table 'capital', which has no team column" in capital["query/team"]["expected"]


def test_the_team_filter_is_documented_where_the_table_has_teams(viewer: httpx.Client) -> None:
    paths = viewer.get("/openapi.json").json()["paths"]
    for table in ("staffing", "hours"):
        operation = paths[f"/v1/plans/latest/{table}"]["get"]
        [team] = [p for p in operation["parameters"] if p["name"] == "team"]
        assert team["description"].startswith("only rows of this team id")
        assert "team id the plan does not have" in operation["responses"]["422"]["description"]
    capital = paths["/v1/plans/latest/capital"]["get"]
    assert "team" not in [p["name"] for p in capital["parameters"]]
    assert "a filter on `service` or `team`" in capital["responses"]["422"]["description"]


@pytest.mark.parametrize("suffix", ["", ".csv"])
def test_a_window_ending_before_it_starts_or_not_a_date_is_refused(
    viewer: httpx.Client, suffix: str
) -> None:
    backwards = _problems(
        viewer.get(
            f"/v1/plans/latest/hours{suffix}", params={"from": "2026-03-02", "to": "2026-01-05"}
        )
    )
    assert backwards == {
        "query/from": {
            "location": "query/from",
            "expected": "a date no later than `to` (2026-01-05)",
            "found": "'2026-03-02'",
        }
    }
    for sent in ("2026-1-5", "05/01/2026", "2026-01-05T00:00", "2026-02-30"):
        problems = _problems(viewer.get(f"/v1/plans/latest/hours{suffix}", params={"to": sent}))
        assert problems["query/to"]["expected"] == "a date as YYYY-MM-DD, e.g. 2026-01-05"


@pytest.mark.parametrize(
    "path", ["/v1/plans/latest/hours", "/v1/plans/1/hours", "/v1/plans/latest/hours.csv"]
)
def test_an_unknown_query_parameter_is_refused_naming_the_filters(
    viewer: httpx.Client, path: str
) -> None:
    problems = _problems(viewer.get(path, params={"districts": "rugby"}))
    assert problems["query/districts"]["expected"] == (
        "one of this endpoint's query parameters: district, from, service, team, to "
        "(did you mean 'district'?)"
    )


def test_the_plan_list_heads_each_plan_with_its_horizon_and_warnings(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    listed = viewer.get("/v1/plans", params={"scenario": "false", "limit": 1})
    assert listed.status_code == 200, listed.text
    (summary,) = listed.json()
    result = plan["result"]
    assert summary["id"] == plan["id"]
    assert (summary["first_ds"], summary["last_ds"], summary["periods"]) == (
        result["first_ds"],
        result["last_ds"],
        result["periods"],
    )
    assert result["periods"] > 1 and result["first_ds"] < result["last_ds"]
    assert summary["warnings"] == result["warnings"]
    assert len(summary["warnings"]) > 0  # the demo's plan starts in the past, and says so


def _pack_csv(answer: httpx.Response) -> list[dict[str, str]]:
    """A pack table's CSV rows as text, cell by cell (pandas would guess one type a column)."""
    assert answer.status_code == 200, answer.text
    return list(csv.DictReader(io.StringIO(answer.text)))


def _as_csv(value: Any) -> str:
    """How a JSON value is written in a CSV cell: null empty, booleans as JSON writes them."""
    if value is None:
        return ""
    return json.dumps(value) if isinstance(value, bool) else str(value)


@pytest.mark.parametrize("base", ["/v1/plans/latest", "/v1/plans/{id}"])
def test_the_warnings_table_is_the_plans_warnings_one_a_row(
    viewer: httpx.Client, plan: dict[str, Any], base: str
) -> None:
    """GET /v1/plans/latest/warnings.csv was a 422 (no such table): a pack had no warnings."""
    path = base.format(id=plan["id"]) + "/warnings"
    stated = plan["result"]["warnings"]
    assert len(stated) > 0  # the demo's plan starts in the past, and says so
    rows = _rows(viewer.get(path))
    assert rows == [{"index": i, "warning": w} for i, w in enumerate(stated, 1)]
    assert _pack_csv(viewer.get(f"{path}.csv")) == [
        {"index": str(i), "warning": w} for i, w in enumerate(stated, 1)
    ]
    refused = _problems(viewer.get(path, params={"district": "rugby"}))
    assert "its columns: index, warning" in refused["query/district"]["expected"]


def test_the_summary_gives_the_plans_own_figures_dates_config_and_run(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """Each figure as the plan's JSON, its config, its run and its comparison give it: the
    summary must never disagree with the plan it summarises."""
    rows = _rows(viewer.get(f"/v1/plans/{plan['id']}/summary"))
    assert all(set(r) == {"figure", "value", "unit", "note"} and r["note"] for r in rows)
    got = {r["figure"]: r["value"] for r in rows}
    assert len(got) == len(rows)  # one row a figure
    result = plan["result"]
    config = viewer.get(f"/v1/configs/{plan['config_id']}").json()
    run = viewer.get(f"/v1/runs/{plan['run_id']}").json()
    compared = viewer.get(f"/v1/plans/{plan['id']}/compare/{plan['id']}").json()

    def total(table: str, column: str) -> float:
        return float(sum(r[column] for r in result[table]))

    staff, agency = total("revenue", "staff_cost_gbp"), total("revenue", "agency_cost_gbp")
    expected = {
        "plan_id": plan["id"],
        "status": plan["status"],
        "created_at": plan["created_at"],
        "first_ds": result["first_ds"],
        "last_ds": result["last_ds"],
        "periods": result["periods"],
        "period_days": result["period_days"],
        "config_id": plan["config_id"],
        "config_name": config["name"],
        "config_version": config["version"],
        "scenario": plan["scenario"],
        "run_id": plan["run_id"],
        "run_trigger": run["trigger"],
        "weighted_wait_days": plan["objective_weighted_wait_days"],
        "dtoc_days": result["total_dtoc_days"],
        "simulated_dtoc_days": result["simulated_dtoc_days"],
        "revenue_cost_gbp": staff + agency,
        "fee_income_gbp": total("revenue", "fee_income_gbp"),
        "charge_income_gbp": total("revenue", "charge_income_gbp"),
        "net_revenue_cost_gbp": total("revenue", "net_cost_gbp"),
        "unspent_budget_gbp": total("revenue", "headroom_gbp"),
        "capital_spent_gbp": total("capital_total", "capital_spent_gbp"),
        "capital_available_gbp": total("capital_total", "capital_available_gbp"),
        # a pipeline's plan reads the forecasts its own run made, from history to the week
        # before its first period
        "forecast_run_id": plan["run_id"],
        "forecast_run_ids": str(plan["run_id"]),  # its winter pressure series' too
        "forecast_run_at": run["started_at"],
        "referral_history_last_ds": str(
            (pd.Timestamp(result["first_ds"]) - pd.Timedelta(days=7)).date()
        ),
    }
    for figure, value in expected.items():
        assert got[figure] == pytest.approx(value, rel=1e-9), figure
    assert result["forecast_run_ids"] == [plan["run_id"]]
    for figure in planning.SWEEP_FIGURES:  # as the plan's comparison gives each
        assert got[figure] == pytest.approx(compared[figure], rel=1e-12), figure
    cells = _pack_csv(viewer.get("/v1/plans/latest/summary.csv"))
    assert [c["figure"] for c in cells] == [r["figure"] for r in rows]
    for cell, row in zip(cells, rows, strict=True):
        assert (cell["unit"], cell["note"]) == (row["unit"], row["note"])
        if isinstance(row["value"], float):
            assert float(cell["value"]) == pytest.approx(row["value"], rel=1e-9), row["figure"]
        else:
            assert cell["value"] == _as_csv(row["value"]), row["figure"]


def test_a_plan_compared_with_itself_changes_nothing_and_an_unknown_plan_is_a_404(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """Any two stored plans can be compared (the what-if's own comparison:
    tests/api/test_whatif_comparison.py); there was no route for it."""
    same = viewer.get(f"/v1/plans/{plan['id']}/compare/{plan['id']}")
    assert same.status_code == 200, same.text
    compared = same.json()
    assert (compared["plan_id"], compared["compared_with_plan_id"]) == (plan["id"], plan["id"])
    assert compared["config_changes"] == [] and compared["not_comparable"] is None
    for name in planning.SWEEP_FIGURES:
        assert compared[f"{name}_change"] == 0.0, name
    for path in (f"{plan['id']}/compare/999999", f"999999/compare/{plan['id']}"):
        missing = viewer.get(f"/v1/plans/{path}")
        assert missing.status_code == 404, missing.text
        assert missing.json()["detail"] == "no plan with id 999999"
    zero = _problems(viewer.get(f"/v1/plans/{plan['id']}/compare/0"))
    assert set(zero) == {"path/other_id"}


def _config(session: Session) -> int:
    body = demo_config.demo_planning_config()
    return repository.save_config(session, body, planning.config_hash(body)).id


def test_a_summary_of_a_plan_stored_without_a_horizon_says_none(either_database_url: str) -> None:
    """A plan stored before results gave their horizon (or any warnings) is listed with nulls
    and no warnings, on SQLite and PostgreSQL alike (each reads the result's keys itself)."""
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    stated = {
        "warnings": ["3 of the plan's 13 periods are already over"],
        "periods": 13,
        "first_ds": "2025-10-06",
        "last_ds": "2025-12-29",
        "hours": [{"service": "ot", "district": "rugby", "hours": 1.0}],
    }
    with transaction(factory) as session:
        config_id = _config(session)
        for result in ({}, {"warnings": []}, stated):
            run = repository.start_run(session, "plan", "test", "test")
            repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, result)
    with factory() as session:
        newest, empty, older = repository.list_plans(session, limit=10)
    engine.dispose()
    horizon = (newest.first_ds, newest.last_ds, newest.periods, newest.warnings)
    assert horizon == (
        "2025-10-06",
        "2025-12-29",
        13,
        ("3 of the plan's 13 periods are already over",),
    )
    assert (empty.first_ds, empty.last_ds, empty.periods, empty.warnings) == (None, None, None, ())
    assert (older.first_ds, older.last_ds, older.periods, older.warnings) == (None, None, None, ())


def test_staffing_gives_each_team_its_fte_a_week(viewer: httpx.Client) -> None:
    """The demo config counts a full-time week as 37 hours for every service."""
    rows = _rows(viewer.get("/v1/plans/latest/staffing"))
    table = _csv(viewer.get("/v1/plans/latest/staffing.csv", params={"service": "reablement"}))
    assert list(table.columns)[-1] == "fte"
    assert table["fte"].to_numpy() == pytest.approx(table["staff_hours"].to_numpy() / 37.0)
    assert all(r["fte"] == pytest.approx(r["staff_hours"] / 37.0) for r in rows)


def test_risk_periods_give_each_weeks_contingency_for_a_high_year(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """The table's `at_risk` flag said 50 of the demo's 52 weeks, and the last was always the
    worst: a plan that uses every hour it buys never absorbs a high year. Now each service's
    weeks, which still add up to `demand_risk`'s totals, give the hours (at the config's
    hours_per_case) that would serve a high year's extra arrivals, split into idle paid hours,
    hours within the teams' limits and the budget left, beyond the budget and beyond the
    limits, the cost of those within and beyond the budget (at its cost_per_hour_gbp: the
    demo allows no agency), no week's within-limits cost above the revenue the plan leaves
    that week (the demo's budget is one pool, per week, without charges), the DFG works'
    capital, and the summary their totals (beyond-limit and beyond-budget hours and capital
    included) and the peak week."""
    rows = _rows(viewer.get(f"/v1/plans/{plan['id']}/risk_periods"))
    columns = list(PlanRiskPeriodRowPublic.model_fields)
    assert len(rows) > 0 and all(list(r) == columns for r in rows)
    assert list(_csv(viewer.get("/v1/plans/latest/risk_periods.csv")).columns) == columns
    result = plan["result"]
    for scenario in ("planned", "high"):
        for service in {r["service"] for r in result["demand_risk"]}:
            risk = [
                r
                for r in result["demand_risk"]
                if (r["scenario"], r["service"]) == (scenario, service)
            ]
            weeks = [r for r in rows if r["service"] == service]
            assert len(weeks) == result["periods"]
            assert sum(w[f"{scenario}_dtoc_days"] for w in weeks) == pytest.approx(
                sum(r["dtoc_days"] for r in risk), rel=1e-9, abs=1e-9
            )
            assert weeks[-1][f"{scenario}_waiting_cases"] == pytest.approx(
                sum(r["end_backlog_cases"] for r in risk), rel=1e-9, abs=1e-9
            )
    new_cases: dict[tuple[str, str], float] = {}  # the evaluations' arrivals, every district's
    for r in result["demand_risk"]:
        key = (r["scenario"], r["service"])
        new_cases[key] = new_cases.get(key, 0.0) + r["new_cases"]
    config = viewer.get(f"/v1/configs/{plan['config_id']}").json()["body"]
    limits = [h for team in config["teams"] for h in team["hours"].values()]
    assert all(not h.get("agency_max_per_period") for h in limits)
    for service in config["services"]:
        weeks = [r for r in rows if r["service"] == service["id"]]
        for r in weeks:
            hours = r["extra_cases_arriving"] * service["hours_per_case"]
            assert r["contingency_hours"] == pytest.approx(hours, rel=1e-9), r
            split = (
                "idle_paid_hours_used",
                "extra_hours_within_limits",
                "hours_beyond_limits",
                "hours_beyond_budget",
            )
            assert sum(r[c] for c in split) == pytest.approx(hours, rel=1e-9, abs=1e-9), r
            rate = service["cost_per_hour_gbp"]  # no agency
            cost = r["extra_hours_within_limits"] * rate
            assert r["contingency_cost_gbp"] == pytest.approx(cost, rel=1e-9, abs=1e-9), r
            beyond = r["hours_beyond_budget"] * rate
            assert r["cost_beyond_budget_gbp"] == pytest.approx(beyond, rel=1e-9, abs=1e-9), r
            assert r["contingency_capital_gbp"] is None
        if service["id"] != "domcare":  # domcare's add reablement's knock-on
            extra = new_cases[("high", service["id"])] - new_cases[("planned", service["id"])]
            assert sum(r["extra_cases_arriving"] for r in weeks) == pytest.approx(extra, rel=1e-9)
    works = [r for r in rows if r["service"] == "dfg_works"]
    assert works and all(r["contingency_hours"] is None for r in works)
    assert all(r["hours_beyond_limits"] is None for r in works)
    assert all(r["hours_beyond_budget"] is None for r in works)
    assert not any(s.get("charge_gbp_per_hour") for s in config["services"])
    headroom = {r["ds"]: r["headroom_gbp"] for r in result["revenue"]}
    for ds, left in headroom.items():
        bought = sum(r["contingency_cost_gbp"] or 0.0 for r in rows if r["ds"] == ds)
        assert bought <= max(left, 0.0) + 1e-6, ds
    adaptation = {d["id"]: d["cost_per_adaptation_gbp"] for d in config["districts"]}
    assert len(set(adaptation.values())) == 1  # the demo's: one price, so per period
    capital = sum(r["extra_cases_arriving"] for r in works) * next(iter(adaptation.values()))
    by_week: dict[str, float] = {}
    for r in rows:
        by_week[r["ds"]] = by_week.get(r["ds"], 0.0) + (r["contingency_hours"] or 0.0)
    summary = {r["figure"]: r for r in _rows(viewer.get(f"/v1/plans/{plan['id']}/summary"))}
    assert summary["high_year_contingency_hours"]["value"] == pytest.approx(
        sum(by_week.values()), rel=1e-9
    )
    assert summary["high_year_contingency_cost_gbp"]["value"] == pytest.approx(
        sum(r["contingency_cost_gbp"] or 0.0 for r in rows), rel=1e-9, abs=0.005
    )  # money to the penny
    for figure, column in (
        ("high_year_hours_beyond_limits", "hours_beyond_limits"),
        ("high_year_hours_beyond_budget", "hours_beyond_budget"),
        ("high_year_cost_beyond_budget_gbp", "cost_beyond_budget_gbp"),
    ):
        total = sum(r[column] or 0.0 for r in rows)
        penny = 0.005 if column.endswith("_gbp") else 1e-9  # money to the penny
        assert summary[figure]["value"] == pytest.approx(total, rel=1e-9, abs=penny), figure
    # the demo's budget funds 92% of the hours demand wants: the plan spends it every week
    assert summary["high_year_hours_beyond_budget"]["value"] > 0
    assert any("would overspend the revenue budget" in w for w in result["warnings"])
    assert summary["high_year_capital_gbp"]["value"] == pytest.approx(capital, rel=1e-9, abs=0.005)
    assert capital > 0
    peak = max(by_week, key=by_week.__getitem__)
    assert summary["peak_contingency_period"]["value"] == peak
    assert summary["peak_contingency_hours"]["value"] == pytest.approx(by_week[peak], rel=1e-9)
    assert summary["peak_contingency_hours"]["value"] > 0


def test_revenue_by_service_splits_the_cost_and_labels_commissioned_hours_truly(
    viewer: httpx.Client, plan: dict[str, Any]
) -> None:
    """Home care is bought from providers at the commissioned rate, yet the summary called
    all staff cost and hours in-house, and no table split cost by service (on the demo,
    domcare's 101,068 hours at GBP 23 were GBP 2.32m of GBP 6.10m "in-house staff cost").
    Now each service's hours, their cost at its rates and its care charges, per team and
    period, add up to the revenue rows, in JSON and CSV alike."""
    rows = _rows(viewer.get(f"/v1/plans/{plan['id']}/revenue_by_service"))
    columns = list(PlanRevenueServiceRowPublic.model_fields)
    assert len(rows) > 0 and all(list(r) == columns for r in rows)
    assert rows == plan["result"]["revenue_by_service"]
    table = _csv(viewer.get("/v1/plans/latest/revenue_by_service.csv"))
    assert list(table.columns) == columns and len(table) == len(rows)
    config = viewer.get(f"/v1/configs/{plan['config_id']}").json()["body"]
    rate = {s["id"]: s["cost_per_hour_gbp"] for s in config["services"]}
    premium = {s["id"]: s.get("agency_premium", 1.5) for s in config["services"]}
    staffing = {(r["service"], r["team"], r["ds"]): r for r in plan["result"]["staffing"]}
    assert len(staffing) == len(rows)
    for r in rows:
        hours = staffing[(r["service"], r["team"], r["ds"])]
        assert (r["staff_hours"], r["agency_hours"]) == (
            hours["staff_hours"],
            hours["agency_hours"],
        )
        assert r["staff_cost_gbp"] == pytest.approx(r["staff_hours"] * rate[r["service"]])
        agency = r["agency_hours"] * rate[r["service"]] * premium[r["service"]]
        assert r["agency_cost_gbp"] == pytest.approx(agency, abs=1e-9)
    for week in plan["result"]["revenue"]:
        mine = [r for r in rows if r["ds"] == week["ds"]]
        for column in ("staff_cost_gbp", "agency_cost_gbp", "charge_income_gbp"):
            total = sum(r[column] for r in mine)
            assert total == pytest.approx(week[column], rel=1e-9, abs=1e-6), column
    domcare = sum(r["staff_cost_gbp"] for r in rows if r["service"] == "domcare")
    assert 0 < domcare < sum(r["staff_cost_gbp"] for r in rows)
    summary = {r["figure"]: r for r in _rows(viewer.get(f"/v1/plans/{plan['id']}/summary"))}
    for figure in ("staff_cost_gbp", "staff_hours"):
        assert "in-house" not in summary[figure]["note"].split(":")[0], summary[figure]
        assert "commissioned" in summary[figure]["note"], summary[figure]
    schemas = httpx.get(f"{viewer.base_url}/openapi.json").json()["components"]["schemas"]
    for schema in ("SweepRowPublic", "PlanStaffingRowPublic"):
        said = schemas[schema]["properties"]["staff_hours"]["description"]
        assert "commissioned" in said, (schema, said)


def test_a_plan_stored_before_revenue_by_service_has_none(
    demo_db: DemoDatabase, viewer: httpx.Client
) -> None:
    """As for any table an older plan lacks: `[]`, its CSV the schema's columns alone."""
    with transaction(demo_db.factory) as session:
        latest = repository.latest_plan(session)
        assert latest is not None
        result = {k: v for k, v in latest.result.items() if k != "revenue_by_service"}
        older = repository.store_plan(
            session, latest.run_id, latest.config_id, "optimal", 1.0, 0.5, result
        ).id
    try:
        assert _rows(viewer.get(f"/v1/plans/{older}/revenue_by_service")) == []
        answer = viewer.get(f"/v1/plans/{older}/revenue_by_service.csv")
        assert answer.status_code == 200, answer.text
        assert answer.text.strip() == ",".join(PlanRevenueServiceRowPublic.model_fields)
    finally:
        with transaction(demo_db.factory) as session:
            session.delete(session.get_one(PlanRow, older))


def test_a_plan_stored_before_risk_periods_has_none(
    demo_db: DemoDatabase, viewer: httpx.Client
) -> None:
    """As for any table an older plan lacks: `[]`, and its summary's figures null."""
    with transaction(demo_db.factory) as session:
        latest = repository.latest_plan(session)
        assert latest is not None
        result = {k: v for k, v in latest.result.items() if k != "risk_periods"}
        older = repository.store_plan(
            session, latest.run_id, latest.config_id, "optimal", 1.0, 0.5, result
        ).id
    try:
        assert _rows(viewer.get(f"/v1/plans/{older}/risk_periods")) == []
        summary = _rows(viewer.get(f"/v1/plans/{older}/summary"))
        got = {r["figure"]: r["value"] for r in summary}
        figures = (
            "high_year_contingency_hours",
            "high_year_hours_beyond_limits",
            "high_year_hours_beyond_budget",
            "high_year_cost_beyond_budget_gbp",
            "high_year_contingency_cost_gbp",
            "high_year_capital_gbp",
            "peak_contingency_period",
            "peak_contingency_hours",
        )
        assert [got[f] for f in figures] == [None] * 8
    finally:
        with transaction(demo_db.factory) as session:
            session.delete(session.get_one(PlanRow, older))
