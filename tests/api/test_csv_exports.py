"""CSV downloads: a plan's tables and the newest forecasts hold the same figures as the JSON
routes, in a file a spreadsheet opens, over a real HTTP server with a viewer's key."""

from __future__ import annotations

import io
import typing

import httpx
import pandas as pd
import pytest
from pydantic import BaseModel

from api.plan_tables import STORED_TABLES, PlanTable
from api.schemas import PlanResultPublic
from tests.conftest import LiveServer

# `homeward forecast`'s columns, then the run that made each row
FORECAST_COLUMNS = [
    "unique_id",
    "ds",
    "model",
    "mean",
    "lo-80",
    "hi-80",
    "lo-95",
    "hi-95",
    "run_id",
]


def _read(response: httpx.Response) -> pd.DataFrame:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    return pd.read_csv(io.StringIO(response.text))


def test_every_table_of_a_plan_result_can_be_downloaded() -> None:
    """The stored tables offered are exactly the plan result's lists of rows (none missed, no
    typo); the pack's summary and warnings besides (tests/api/test_plan_tables.py)."""
    tables = {
        name
        for name, field in PlanResultPublic.model_fields.items()
        if typing.get_origin(field.annotation) is list
        and issubclass(typing.get_args(field.annotation)[0], BaseModel)
    }
    assert {t.value for t in STORED_TABLES} == tables
    assert {t.value for t in PlanTable} == tables | {"summary", "warnings"}


def test_the_latest_plans_hours_are_the_json_plans_hours(viewer: httpx.Client) -> None:
    plan = viewer.get("/v1/plans/latest").json()
    response = viewer.get("/v1/plans/latest/hours.csv")
    csv = _read(response)
    assert response.headers["content-disposition"] == (
        f'attachment; filename="homeward-plan-{plan["id"]}-hours.csv"'
    )
    rows = pd.DataFrame(plan["result"]["hours"])
    assert list(csv.columns) == list(rows.columns)
    assert len(csv) == len(rows) > 0
    assert csv["hours"].to_numpy() == pytest.approx(rows["hours"].to_numpy(), rel=1e-9)
    assert list(csv["ds"]) == list(rows["ds"])  # dates as the JSON gives them, YYYY-MM-DD
    by_id = _read(viewer.get(f"/v1/plans/{plan['id']}/hours.csv"))
    pd.testing.assert_frame_equal(by_id, csv)


@pytest.mark.parametrize("table", STORED_TABLES, ids=[t.value for t in STORED_TABLES])
def test_each_table_is_a_csv_with_its_columns_even_when_empty(
    viewer: httpx.Client, table: PlanTable
) -> None:
    result = viewer.get("/v1/plans/latest").json()["result"]
    response = viewer.get(f"/v1/plans/latest/{table.value}.csv")
    assert response.status_code == 200, response.text
    header = response.text.splitlines()[0].split(",")
    rows = result.get(table.value, [])
    assert len(response.text.splitlines()) == 1 + len(rows)
    for key in {k for r in rows for k in r}:
        assert key in header  # nothing the JSON has is dropped
    if not rows:  # (e.g. relaxations) a header row all the same: every field of the row schema
        (row,) = typing.get_args(PlanResultPublic.model_fields[table.value].annotation)
        assert header == list(row.model_fields)


def test_a_wrong_table_or_plan_is_refused_with_what_was_expected(viewer: httpx.Client) -> None:
    wrong = viewer.get("/v1/plans/latest/hour.csv")
    assert wrong.status_code == 422
    body = wrong.json()
    assert body["problems"][0]["location"] == "path/table"
    assert "'hours'" in body["detail"] and "'hour'" in body["detail"]
    missing = viewer.get("/v1/plans/999999/hours.csv")
    assert missing.status_code == 404 and "no plan with id 999999" in missing.json()["detail"]


@pytest.mark.parametrize("path", ["/v1/plans/latest.csv", "/v1/plans/3.CSV"])
def test_a_whole_plan_as_csv_is_pointed_to_its_tables(viewer: httpx.Client, path: str) -> None:
    """A plan has no single CSV: the answer says where its tables' CSVs are, not only that
    `latest.csv` is not a whole number."""
    refused = viewer.get(path)
    assert refused.status_code == 422
    (problem,) = refused.json()["problems"]
    assert problem["location"] == "path/plan_id"
    assert "/v1/plans/latest/{table}.csv" in problem["expected"]
    assert problem["found"] == repr(path.rsplit("/", 1)[1])


def test_forecasts_csv_is_what_homeward_forecast_writes_with_the_json_figures(
    viewer: httpx.Client,
) -> None:
    response = viewer.get("/v1/forecasts.csv", params={"prefix": "referrals/ot/"})
    csv = _read(response)
    assert list(csv.columns) == FORECAST_COLUMNS
    assert (
        response.headers["content-disposition"] == 'attachment; filename="homeward-forecasts.csv"'
    )
    assert csv["unique_id"].str.startswith("referrals/ot/").all()
    rugby = csv[csv["unique_id"] == "referrals/ot/rugby"].reset_index(drop=True)
    points = pd.DataFrame(viewer.get("/v1/forecasts/referrals/ot/rugby").json()["points"])
    assert len(rugby) == len(points) > 0
    assert list(rugby["ds"]) == [p[:10] for p in points["ds"]]
    assert rugby["mean"].to_numpy() == pytest.approx(points["mean"].to_numpy(), rel=1e-9)
    assert rugby["hi-80"].to_numpy() == pytest.approx(points["hi-80"].to_numpy(), rel=1e-9)
    # the run that made it, as the JSON and metrics.csv name it
    run_id = viewer.get("/v1/forecasts/referrals/ot/rugby").json()["run_id"]
    assert rugby["run_id"].tolist() == [run_id] * len(rugby)
    metrics = _read(viewer.get("/v1/metrics.csv", params={"prefix": "referrals/ot/rugby"}))
    assert set(metrics["run_id"]) == {run_id}
    everything = _read(viewer.get("/v1/forecasts.csv"))
    assert set(csv["unique_id"]) < set(everything["unique_id"])
    none = viewer.get("/v1/forecasts.csv", params={"prefix": "nothing/"})
    assert none.status_code == 404 and "'nothing/'" in none.json()["detail"]


def test_downloads_need_a_key_and_revalidate_like_every_v1_get(
    demo_server: LiveServer, viewer: httpx.Client
) -> None:
    assert httpx.get(demo_server.url + "/v1/plans/latest/hours.csv").status_code == 401
    first = viewer.get("/v1/plans/latest/hours.csv")
    again = viewer.get(
        "/v1/plans/latest/hours.csv", headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status_code == 304 and again.content == b""


def test_metrics_csv_gives_every_series_backtest_at_once_as_the_json_has_it(
    viewer: httpx.Client,
) -> None:
    """A dashboard's accuracy table took one request per series (GET /v1/forecasts/{id})."""
    csv = _read(viewer.get("/v1/metrics.csv", params={"prefix": "referrals/ot/"}))
    assert list(csv.columns[:4]) == ["unique_id", "model", "run_id", "chosen"]
    assert csv["unique_id"].str.startswith("referrals/ot/").all()
    rugby = csv[csv["unique_id"] == "referrals/ot/rugby"]
    answer = viewer.get("/v1/forecasts/referrals/ot/rugby").json()
    backtest = {m["model"]: m for m in answer["backtest"]}
    assert set(rugby["model"]) == set(backtest)
    assert (rugby["run_id"] == answer["run_id"]).all()
    first = rugby.iloc[0]  # the chosen model first
    assert bool(first["chosen"]) and backtest[first["model"]]["chosen"]
    for row in rugby.itertuples(index=False):
        expected = backtest[row.model]["metrics"]
        assert row.mase == pytest.approx(expected["mase"], rel=1e-9)
        assert row.coverage_80 == pytest.approx(expected["coverage_80"], rel=1e-9)
    chosen = _read(viewer.get("/v1/metrics.csv", params={"chosen": "true"}))
    assert chosen["chosen"].all() and chosen["unique_id"].is_unique
    # false is the models not chosen, as scenario=false is the plans that are not what-ifs:
    # it was every model, the chosen included
    every = _read(viewer.get("/v1/metrics.csv"))
    others = _read(viewer.get("/v1/metrics.csv", params={"chosen": "false"}))
    assert not others["chosen"].any() and len(others) == len(every) - len(chosen)
    assert set(every["chosen"]) == {True, False}
    none = viewer.get("/v1/metrics.csv", params={"prefix": "nothing/"})
    assert none.status_code == 404


def test_a_combinations_members_are_named_in_the_csv_and_the_json(viewer: httpx.Client) -> None:
    """Which two models a series' mean_best2 averaged was in no answer."""
    response = viewer.get("/v1/metrics.csv", params={"prefix": "referrals/ot/rugby"})
    assert response.status_code == 200, response.text
    csv = pd.read_csv(io.StringIO(response.text), keep_default_na=False)
    assert csv.columns[-1] == "members"
    backtest = viewer.get("/v1/forecasts/referrals/ot/rugby").json()["backtest"]
    members = {m["model"]: m["members"] for m in backtest}
    assert dict(zip(csv["model"], csv["members"], strict=True)) == {
        model: ";".join(names) for model, names in members.items()
    }
    best2, best4 = members.pop("mean_best2"), members.pop("mean_best4")
    assert all(names == [] for names in members.values())  # fitted models combine nothing
    assert len(best2) == 2 and set(best2) <= set(members)
    assert len(best4) == 4 and best4[:2] == best2  # one ranking, at the forecast origin


def test_metrics_csv_writes_folds_whole_and_has_the_columns_its_example_has(
    viewer: httpx.Client, demo_server: LiveServer
) -> None:
    """`folds` is an integer in the JSON and the schema, but the CSV wrote 3.0; and the
    documented example lacked three of the file's columns."""
    response = viewer.get("/v1/metrics.csv", params={"chosen": "true"})
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    csv = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)
    json_folds = viewer.get("/v1/forecasts/referrals/ot/rugby").json()["backtest"][0]["metrics"]
    rugby = csv[csv["unique_id"] == "referrals/ot/rugby"].iloc[0]
    assert rugby["folds"] == str(json_folds["folds"]) and "." not in rugby["folds"]
    document = httpx.get(demo_server.url + "/openapi.json").json()
    example = document["paths"]["/v1/metrics.csv"]["get"]["responses"]["200"]["content"][
        "text/csv"
    ]["example"]
    assert example.splitlines()[0] == lines[0]


@pytest.mark.parametrize("table", ["shadow_prices", "binding"])
def test_a_period_column_with_gaps_is_written_whole_as_the_cli_writes_it(
    viewer: httpx.Client, table: str
) -> None:
    """Rows of a constraint over the whole plan (a district's capital) have no period: the
    column was written `1.0`, `2.0` where `homeward plan --csv` writes `1`, `2`."""
    plan = viewer.get("/v1/plans/latest").json()
    rows = plan["result"][table]
    assert any(r.get("period") is None for r in rows) and any(r.get("period") for r in rows)
    response = viewer.get(f"/v1/plans/latest/{table}.csv")
    assert response.status_code == 200, response.text
    frame = pd.read_csv(io.StringIO(response.text), dtype=str, keep_default_na=False)
    assert list(frame["period"]) == [
        "" if r.get("period") is None else str(r["period"]) for r in rows
    ]
