"""Each financial year's whole-year periods (`year_periods`) on a plan's revenue_by_year rows,
as GET /v1/plans/{id}, its revenue_by_year table (JSON and CSV) and the summary's
`part_year[..]` serve them (the dashboard's part or whole reads them): worked out from the
plan's horizon when it is read, so a plan stored before the field has it too, and the stored
plan is not changed (over a real HTTP server)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from api.schemas import PlanRevenueYearRowPublic
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from models import PlanRow
from tests.api.conftest import keyed_client, keyed_settings, migrated
from tests.conftest import LiveServer

Store = Callable[[dict[str, Any]], int]


@pytest.fixture(scope="module")
def served(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[httpx.Client, Store, sessionmaker[Session]]]:
    """A viewer's client, `store(result)` (a plan with that result, as the latest; its id)
    and the database's sessions."""
    settings = keyed_settings(tmp_path_factory.mktemp("year-periods"), "years.db")
    engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=3)
    with transaction(factory) as session:
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
        key = api_keys.create_key(session, "years-viewer", Role.VIEWER).secret

    def store(result: dict[str, Any]) -> int:
        with transaction(factory) as session:
            run = repository.start_run(session, "plan", "api", "test")
            plan = repository.store_plan(session, run.id, config_id, "optimal", 1.0, 0.1, result)
            return plan.id

    with LiveServer(create_app(settings)) as server:
        for client in keyed_client(server, key):
            yield client, store, factory
    engine.dispose()


MONEY = ("staff_cost_gbp", "agency_cost_gbp", "fee_income_gbp", "charge_income_gbp")
MONEY += ("budget_gbp", "net_cost_gbp", "headroom_gbp")


def _year_row(year: str, periods: int) -> dict[str, Any]:
    """A revenue_by_year row as a plan stored it before `year_periods` was served."""
    row = {"budget": "pooled", "year": year, "periods": periods, "year_budget_gbp": None}
    return row | dict.fromkeys(MONEY, 0.0)


def _result(starts: list[str], years: dict[str, int], **horizon: Any) -> dict[str, Any]:
    """A stored result: a revenue row per period starting on `starts`, revenue_by_year rows
    covering `years` (year -> the plan's periods in it), and the `horizon` scalars given
    (period_days, first_ds: a plan stored before them has neither)."""
    revenue = [
        {"period": i + 1, "ds": ds} | dict.fromkeys(MONEY, 0.0) for i, ds in enumerate(starts)
    ]
    by_year = [_year_row(year, periods) for year, periods in years.items()]
    return {"status": "optimal", "revenue": revenue, "revenue_by_year": by_year, **horizon}


def _served(client: httpx.Client, plan_id: int) -> dict[str, Any]:
    """Each year's year_periods as GET /v1/plans/{id}, its revenue_by_year table as JSON and
    as CSV, and the summary's part_year[..] give them, checked to agree; year -> (periods,
    year_periods, part_year)."""
    whole = client.get(f"/v1/plans/{plan_id}")
    assert whole.status_code == 200, whole.text
    rows = whole.json()["result"]["revenue_by_year"]
    table = client.get(f"/v1/plans/{plan_id}/revenue_by_year")
    assert table.status_code == 200, table.text
    assert table.json() == rows
    text = client.get(f"/v1/plans/{plan_id}/revenue_by_year.csv").text
    cells = {r["year"]: r["year_periods"] for r in csv.DictReader(io.StringIO(text))}
    assert cells == {
        r["year"]: "" if r["year_periods"] is None else str(r["year_periods"]) for r in rows
    }
    summary = client.get(f"/v1/plans/{plan_id}/summary").json()
    figures = {r["figure"]: r["value"] for r in summary}
    return {
        r["year"]: (r["periods"], r["year_periods"], figures[f"part_year[{r['year']}]"])
        for r in rows
    }


def test_a_plan_stored_before_year_periods_is_served_them(served: Any) -> None:
    """Three fortnights from Tuesday 17 March 2026, stored before year_periods: the grid
    (every 14 days from 2026-03-17, both ways) starts 27 fortnights in 2025-26 (1 April 2025,
    a Tuesday, to 31 March 2026, 364 days later) and 26 in 2026-27 (14 April 2026 to 30 March
    2027); the plan covers two of the one and one of the other."""
    client, store, _ = served
    starts = ["2026-03-17", "2026-03-31", "2026-04-14"]
    plan_id = store(
        _result(starts, {"2025-26": 2, "2026-27": 1}, period_days=14, first_ds=starts[0])
    )
    assert _served(client, plan_id) == {"2025-26": (2, 27, True), "2026-27": (1, 26, True)}


def test_the_stored_plan_is_not_changed(served: Any) -> None:
    client, store, factory = served
    starts = ["2026-03-30", "2026-04-06"]
    plan_id = store(
        _result(starts, {"2025-26": 1, "2026-27": 1}, period_days=7, first_ds=starts[0])
    )
    assert _served(client, plan_id) == {"2025-26": (1, 52, True), "2026-27": (1, 52, True)}
    with factory() as session:
        stored = session.get_one(PlanRow, plan_id).result["revenue_by_year"]
    assert all("year_periods" not in r for r in stored)


def test_a_plan_stored_before_its_horizon_reads_it_from_its_revenue_rows(served: Any) -> None:
    """No period_days nor first_ds (a plan stored before they were reported): calendar months
    from the revenue rows' dates, 12 to a year, as the summary has always counted them."""
    client, store, _ = served
    starts = ["2026-02-01", "2026-03-01", "2026-04-01"]
    plan_id = store(_result(starts, {"2025-26": 2, "2026-27": 1}))
    assert _served(client, plan_id) == {"2025-26": (2, 12, True), "2026-27": (1, 12, True)}


def test_a_plan_that_does_not_say_its_grid_serves_null(served: Any) -> None:
    """No revenue rows and no horizon: the whole year is not known, nor whether the plan's
    periods are part of it; null, as the schema says, never a guess."""
    client, store, _ = served
    plan_id = store(_result([], {"2026-27": 3}))
    assert _served(client, plan_id) == {"2026-27": (3, None, None)}


def test_the_schema_documents_year_periods_after_the_other_columns(served: Any) -> None:
    """Additive: a nullable field after the table's others (a CSV read by column position
    keeps its columns), documented in /openapi.json."""
    client, _, _ = served
    assert list(PlanRevenueYearRowPublic.model_fields)[-1] == "year_periods"
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    field = schemas["PlanRevenueYearRowPublic"]["properties"]["year_periods"]
    assert {"type": "null"} in field["anyOf"] and "whole year" in field["description"]
