"""A plan's CSV downloads hold what its JSON rows hold: the same columns (no empty column
the JSON lacks), booleans written true/false as JSON writes them, and periods from 1 in the
documented example too."""

from __future__ import annotations

import io
import typing

import httpx
import numpy as np
import pandas as pd
import pytest

from api.plan_tables import STORED_TABLES, PlanTable
from api.schemas import PlanResultPublic
from homeward.exports import csv_text


def row_fields(table: PlanTable) -> list[str]:
    """Every field of one row of `table`, in order, as `PlanResultPublic` types its list (read
    from the schema here, not through the route's own `row_model`)."""
    (row,) = typing.get_args(PlanResultPublic.model_fields[table.value].annotation)
    return list(row.model_fields)


@pytest.mark.parametrize("table", STORED_TABLES, ids=[t.value for t in STORED_TABLES])
def test_a_plan_csv_has_exactly_the_columns_of_its_json_rows(
    viewer: httpx.Client, table: PlanTable
) -> None:
    rows = viewer.get("/v1/plans/latest").json()["result"].get(table.value, [])
    response = viewer.get(f"/v1/plans/latest/{table.value}.csv")
    assert response.status_code == 200, response.text
    header = response.text.splitlines()[0].split(",")
    if rows:
        assert set(header) == {k for r in rows for k in r}
    else:  # (the demo plan's relaxations) no rows to compare: the schema's columns, all of them
        assert header == row_fields(table)


def test_revenue_csv_has_no_budget_column_the_json_rows_lack(viewer: httpx.Client) -> None:
    result = viewer.get("/v1/plans/latest").json()["result"]
    assert result["revenue"] and all("budget" not in r for r in result["revenue"])
    csv = viewer.get("/v1/plans/latest/revenue.csv").text
    assert "budget" not in csv.splitlines()[0].split(",")
    frame = pd.read_csv(io.StringIO(csv))
    assert not any(frame[c].isna().all() for c in frame.columns)


def test_booleans_are_written_true_or_false_as_the_json_has_them() -> None:
    frame = pd.DataFrame(
        {
            "chosen": [True, False, True],
            "flagged": [True, None, False],
            "scale": np.array([True, False, False], dtype=np.bool_),
            "name": ["True", "a", "b"],
        }
    )
    assert csv_text(frame).splitlines() == [
        "chosen,flagged,scale,name",
        "true,true,true,True",
        "false,,false,a",
        "true,false,false,b",
    ]
    assert frame["chosen"].tolist() == [True, False, True]  # the caller's frame is unchanged


def test_the_documented_plan_csv_example_starts_at_period_1(viewer: httpx.Client) -> None:
    document = viewer.get("/openapi.json").json()
    for path in ("/v1/plans/latest/{table}.csv", "/v1/plans/{plan_id}/{table}.csv"):
        content = document["paths"][path]["get"]["responses"]["200"]["content"]
        example = pd.read_csv(io.StringIO(content["text/csv"]["example"]))
        assert example["period"].min() >= 1
