"""A CSV's columns do not depend on its data: a Power BI or Excel query written against one
plan's (or run's) CSV names its columns once (Power Query's `Csv.Document(..., [Columns=N])`
and `TransformColumnTypes`), and refreshing it on another plan must find the same ones. Over
a real HTTP server with a viewer's key."""

from __future__ import annotations

import io
import typing
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import select

from api.plan_tables import STORED_TABLES, PlanTable, row_model
from api.schemas import PlanResultPublic
from homeward import repository
from homeward.storage import transaction
from models import ForecastMetricRow, PlanRow
from tests.api.conftest import DemoDatabase


def _header(answer: httpx.Response) -> list[str]:
    assert answer.status_code == 200, answer.text
    return answer.text.splitlines()[0].split(",")


def _schema_fields(table: PlanTable) -> list[str]:
    """Every field of one row of `table`, in order (read from the schema here, not through
    the route's own `row_model`)."""
    (row,) = typing.get_args(PlanResultPublic.model_fields[table.value].annotation)
    return list(row.model_fields)


def _nullable(table: PlanTable) -> set[str]:
    model = row_model(table)
    assert model is not None
    return {
        name
        for name, info in model.model_fields.items()
        if type(None) in typing.get_args(info.annotation)
    }


@pytest.fixture(scope="module")
def older_plan(demo_db: DemoDatabase) -> Any:
    """The latest plan stored again as a plan whose rows lack every nullable field: as a
    config without `hours_per_fte` stores staffing (no `fte`), and as an older release stored
    the columns added since (a shadow price's `service`, risk_periods' newer figures)."""
    with transaction(demo_db.factory) as session:
        latest = repository.latest_plan(session)
        assert latest is not None
        result = dict(latest.result)
        for table in STORED_TABLES:
            gone = _nullable(table)
            result[table.value] = [
                {k: v for k, v in r.items() if k not in gone} for r in result.get(table.value, [])
            ]
        assert result["staffing"] and all("fte" not in r for r in result["staffing"])
        older = repository.store_plan(
            session, latest.run_id, latest.config_id, "optimal", 1.0, 0.5, result
        )
        ids = (latest.id, older.id)
    yield ids
    with transaction(demo_db.factory) as session:
        session.delete(session.get_one(PlanRow, ids[1]))


@pytest.mark.parametrize("table", list(PlanTable), ids=[t.value for t in PlanTable])
def test_a_plan_tables_csv_has_its_schemas_columns_whatever_the_plan_stored(
    viewer: httpx.Client, older_plan: tuple[int, int], table: PlanTable
) -> None:
    """staffing.csv had 11 columns for a plan with `fte` and 10 for one without (a config
    without hours_per_fte), so a query authored on one failed on the other ("The column
    'fte' of the table wasn't found") or silently dropped it; the JSON serves `fte: null`."""
    latest, older = older_plan
    expected = _schema_fields(table) if table in STORED_TABLES else list(_pack_fields(table))
    assert _header(viewer.get(f"/v1/plans/{latest}/{table.value}.csv")) == expected
    assert _header(viewer.get(f"/v1/plans/{older}/{table.value}.csv")) == expected
    if table in STORED_TABLES and (rows := viewer.get(f"/v1/plans/{older}/{table.value}").json()):
        assert list(rows[0]) == expected  # the JSON's keys, nulls and all


def _pack_fields(table: PlanTable) -> list[str]:
    model = row_model(table)
    assert model is not None
    return list(model.model_fields)


def test_a_column_the_plan_did_not_store_is_empty_as_the_json_has_null(
    viewer: httpx.Client, older_plan: tuple[int, int]
) -> None:
    _latest, older = older_plan
    answer = viewer.get(f"/v1/plans/{older}/staffing.csv", params={"service": "ot"})
    frame = pd.read_csv(io.StringIO(answer.text), dtype=str, keep_default_na=False)
    assert len(frame) > 0 and (frame["fte"] == "").all()
    rows = viewer.get(f"/v1/plans/{older}/staffing", params={"service": "ot"}).json()
    assert all(r["fte"] is None for r in rows)


def test_metrics_csv_has_every_metric_even_of_runs_stored_before_it(
    viewer: httpx.Client, demo_db: DemoDatabase
) -> None:
    """Runs stored before total_error_q10 and total_error_q90 were recorded gave a metrics.csv
    without those columns; now they are there, empty."""
    current = _header(viewer.get("/v1/metrics.csv"))
    assert current == repository.metrics_columns()
    kept: dict[tuple[int, str, str], dict[str, Any]] = {}
    with transaction(demo_db.factory) as session:
        for row in session.scalars(select(ForecastMetricRow)):
            kept[(row.run_id, row.series_id, row.model)] = dict(row.metrics)
            row.metrics = {
                k: v for k, v in row.metrics.items() if k not in {"total_error_q10", "folds"}
            }
    try:
        answer = viewer.get("/v1/metrics.csv", params={"prefix": "referrals/ot/"})
        assert _header(answer) == current
        frame = pd.read_csv(io.StringIO(answer.text), dtype=str, keep_default_na=False)
        assert (frame["total_error_q10"] == "").all() and (frame["folds"] == "").all()
        assert (frame["mase"] != "").any()
    finally:
        with transaction(demo_db.factory) as session:
            for row in session.scalars(select(ForecastMetricRow)):
                row.metrics = kept[(row.run_id, row.series_id, row.model)]
