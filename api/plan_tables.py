"""One table of a stored plan's result, whole or filtered by district, service, team and
dates: what GET /v1/plans/{id}/{table} answers as JSON (one operation per table, e.g. GET
/v1/plans/{id}/hours, typed by that table's row schema) and GET /v1/plans/{id}/{table}.csv as
CSV.

A dashboard showing one district's hours should not have to fetch the whole plan (about
2 MB) to keep a few hundred rows. A filter is refused (422) rather than ignored wherever
ignoring it would answer a question the client did not ask: a column the table lacks, an id
the plan does not have (a typo would read as "no rows"), or a window that ends before it
starts.
"""

from __future__ import annotations

import copy
import difflib
import inspect
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from enum import StrEnum
from typing import Annotated, Any, NoReturn, get_args

from fastapi import Depends, Path, Query, params
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, PlainValidator, TypeAdapter, WithJsonSchema
from sqlalchemy.orm import Session

from api.schemas import PlanResultPublic, PlanSummaryRowPublic, PlanWarningRowPublic
from homeward import plan_summary, plan_years
from models import PlanRow


class PlanTable(StrEnum):
    """A plan's tables: those `PlanResultPublic` names its lists of rows, then the pack's
    (`PACK_TABLES`), made from the plan and its run and config rows."""

    hours = "hours"
    staffing = "staffing"
    capital = "capital"
    capital_total = "capital_total"
    backlog = "backlog"
    revenue = "revenue"
    revenue_by_budget = "revenue_by_budget"
    capital_by_year = "capital_by_year"
    revenue_by_year = "revenue_by_year"
    revenue_by_service = "revenue_by_service"
    dtoc_days = "dtoc_days"
    district_waits = "district_waits"
    demand = "demand"
    demand_risk = "demand_risk"
    risk_periods = "risk_periods"
    shadow_prices = "shadow_prices"
    binding = "binding"
    relaxations = "relaxations"
    baselines = "baselines"
    simulation = "simulation"
    summary = "summary"
    warnings = "warnings"


# The tables not stored as lists of rows: a plan's summary and warnings, one row per figure
# or warning, so a pack for a head of service downloads as CSV like any other table. Their
# columns have no district, service or ds, so every filter on them is refused (422).
PACK_TABLES: dict[PlanTable, type[BaseModel]] = {
    PlanTable.summary: PlanSummaryRowPublic,
    PlanTable.warnings: PlanWarningRowPublic,
}
STORED_TABLES = tuple(t for t in PlanTable if t not in PACK_TABLES)


TableName = Annotated[
    PlanTable, Path(description="which table of the plan's result, e.g. hours", examples=["hours"])
]


def row_model(table: PlanTable) -> type[BaseModel] | None:
    """The schema of one row of `table`, as `PlanResultPublic` types its list (a pack
    table's, as `PACK_TABLES` names it)."""
    if table in PACK_TABLES:
        return PACK_TABLES[table]
    annotation = PlanResultPublic.model_fields[table.value].annotation
    args = getattr(annotation, "__args__", ())
    model = args[0] if args else None
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def table_columns(table: PlanTable, rows: list[dict[str, Any]]) -> list[str]:
    """Every field of the table's row schema, in its order, whatever the rows hold (a column
    no row has, such as `fte` of a plan whose config gives no `hours_per_fte`, or one a plan
    stored by an older release lacks, is there all the same, as the JSON serves it as null),
    then any key the rows stored that the schema does not name (a newer release's), as the
    JSON serves it too. So a spreadsheet or Power BI query written against one plan's CSV
    reads any other plan's: the schema's columns never depend on the data."""
    model = row_model(table)
    named = list(model.model_fields) if model is not None else []
    extra = [k for r in rows for k in r if k not in named]
    return named + list(dict.fromkeys(extra))


def _day(value: object) -> date:
    """A query's date, YYYY-MM-DD exactly (pydantic's own date would also take a datetime at
    midnight, and says "Datetimes provided to dates" of a plain typo)."""
    text = str(value)
    try:
        if len(text) != 10:
            raise ValueError(text)
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError("a date as YYYY-MM-DD, e.g. 2026-01-05") from None


Day = Annotated[date, PlainValidator(_day), WithJsonSchema({"type": "string", "format": "date"})]
_IDS = (
    "only rows of this {0} id (repeat the parameter for several: rows of any of them); "
    "an id the plan does not have is refused (422), naming the plan's {0} ids"
)


# The 422 of a table route: its own refusals, and those every route makes
TABLE_REFUSALS = (
    "Invalid input: `problems` locates each at its parameter: a plan id that is not a whole "
    "number from 1, or a table name no plan has; "
    "a filter on a column the table lacks (`district` of `revenue`), naming the table's "
    "columns; a district, service or team id the plan does not have, naming the ones it has; "
    "`from` "
    "after `to`, or a date not YYYY-MM-DD; or a query parameter the endpoint does not take"
)


@dataclass(frozen=True)
class RowFilter:
    """Which rows of a table to keep: any of `districts` (none: every district), any of
    `services`, any of `teams`, and `ds` from `first_day` to `last_day`, both inclusive
    (None: open)."""

    districts: tuple[str, ...] = ()
    services: tuple[str, ...] = ()
    first_day: date | None = None
    last_day: date | None = None
    teams: tuple[str, ...] = ()

    def keeps(self, row: dict[str, Any]) -> bool:
        """Whether `row` passes every filter given (a row without a `ds`, such as a shadow
        price of DFG capital, is in no window)."""
        if self.districts and row.get("district") not in self.districts:
            return False
        if self.services and row.get("service") not in self.services:
            return False
        if self.teams and row.get("team") not in self.teams:
            return False
        if self.first_day is None and self.last_day is None:
            return True
        ds = row.get("ds")
        if not isinstance(ds, str):
            return False
        day = ds[:10]
        return (self.first_day is None or self.first_day.isoformat() <= day) and (
            self.last_day is None or day <= self.last_day.isoformat()
        )


def row_filter(
    district: Annotated[
        list[str] | None, Query(description=_IDS.format("district"), examples=[["rugby"]])
    ] = None,
    service: Annotated[
        list[str] | None, Query(description=_IDS.format("service"), examples=[["ot"]])
    ] = None,
    team: Annotated[
        list[str] | None, Query(description=_IDS.format("team"), examples=[["north"]])
    ] = None,
    first_day: Annotated[
        Day | None,
        Query(
            alias="from",
            description="only rows whose period starts (`ds`) on or after this date, YYYY-MM-DD",
        ),
    ] = None,
    last_day: Annotated[
        Day | None,
        Query(
            alias="to",
            description="only rows whose period starts (`ds`) on or before this date, YYYY-MM-DD",
        ),
    ] = None,
) -> RowFilter:
    """The filters of a request for one table (a dependency); `from` after `to` is refused
    here, before the plan is read, since no plan could have rows in that window."""
    if first_day is not None and last_day is not None and first_day > last_day:
        _refuse(
            [
                _problem(
                    "from",
                    f"a date no later than `to` ({last_day.isoformat()})",
                    first_day.isoformat(),
                )
            ]
        )
    return RowFilter(
        tuple(district or ()), tuple(service or ()), first_day, last_day, tuple(team or ())
    )


RowFilterDep = Annotated[RowFilter, Depends(row_filter)]

# The column each filter of `row_filter` reads (by its query parameter's name)
FILTER_COLUMNS = {
    "district": "district",
    "service": "service",
    "team": "team",
    "from": "ds",
    "to": "ds",
}


def table_filters(table: PlanTable) -> list[str]:
    """The filters `table` can answer: those whose column its row schema has (`from` and `to`
    of a table with a `ds`, none of `summary`)."""
    columns = table_columns(table, [])
    return [param for param, column in FILTER_COLUMNS.items() if column in columns]


def row_filter_of(table: PlanTable) -> Callable[..., RowFilter]:
    """`row_filter` for `table`'s own JSON route: the OpenAPI document lists only the filters
    the table can answer (`table_filters`), so a generated client offers no `district` of
    `revenue`; the others are still taken, and refused (422) naming the table's columns,
    as the CSV route refuses them (`table_rows`)."""
    shown = table_filters(table)

    def of_table(**given: Any) -> RowFilter:
        return row_filter(**given)

    parameters = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=_in_schema(p, shown))
        for p in inspect.signature(row_filter, eval_str=True).parameters.values()
    ]
    of_table.__name__ = f"{table.value}_filter"
    # FastAPI reads a dependency's parameters from its signature
    setattr(of_table, "__signature__", inspect.Signature(parameters, return_annotation=RowFilter))  # noqa: B010
    return of_table


def _in_schema(parameter: inspect.Parameter, shown: list[str]) -> Any:
    """A filter's `Annotated[type, Query(...)]`, left out of the OpenAPI document unless its
    query parameter is `shown` (a copy: `row_filter`'s own is not changed)."""
    kind, *metadata = get_args(parameter.annotation)
    marked = []
    for item in metadata:
        if isinstance(item, params.Query) and (item.alias or parameter.name) not in shown:
            item = copy.copy(item)
            item.include_in_schema = False
        marked.append(item)
    return Annotated[(kind, *marked)]


def table_refusals(table: PlanTable, by_id: bool) -> str:
    """The 422 of `table`'s own JSON route (`by_id`: of a plan by id, else the latest's)."""
    shown = table_filters(table)
    lacking = [f"`{p}`" for p in FILTER_COLUMNS if p not in shown]
    refusals = ["a plan id that is not a whole number from 1"] if by_id else []
    named = [p for p in ("district", "service", "team") if p in shown]
    ids = " or ".join([", ".join(named[:-1]), named[-1]] if len(named) > 2 else named)
    if ids:
        refusals.append(f"a {ids} id the plan does not have, naming the ones it has")
    if "from" in shown:
        refusals.append("`from` after `to`, or a date not YYYY-MM-DD")
    if lacking:  # taken (not in the document) and refused, as the table's CSV route does
        refusals.append(
            f"a filter on {' or '.join(lacking)}, which the table has no column for, naming "
            "its columns"
        )
    refusals.append("or a query parameter the endpoint does not take")
    return "Invalid input: `problems` locates each at its parameter: " + "; ".join(refusals)


@dataclass(frozen=True)
class TableRows:
    """A table's rows kept by a filter, and the columns of the whole table (in order), so a
    filtered answer has the same columns as the unfiltered one, even with no rows."""

    columns: list[str]
    rows: list[dict[str, Any]]


def table_source(session: Session, plan: PlanRow, table: PlanTable) -> dict[str, Any]:
    """The result to read `table` of `plan` from (`table_rows`): as stored, or for a pack
    table, with that table made in its place, or for revenue_by_year, with each row's
    `year_periods` (as GET /v1/plans/{id} serves them; a copy: the stored result is not
    changed)."""
    if table is PlanTable.revenue_by_year:
        return plan_years.with_year_periods(plan.result)
    if table is PlanTable.summary:
        return {**plan.result, table.value: plan_summary.summary_rows(session, plan)}
    if table is PlanTable.warnings:
        return {**plan.result, table.value: plan_summary.warning_rows(plan.result)}
    return plan.result


def table_rows(result: dict[str, Any], table: PlanTable, wanted: RowFilter) -> TableRows:
    """The rows of `table` in a stored plan's `result` that `wanted` keeps; a filter the table
    or the plan cannot answer is refused (RequestValidationError, a 422 at the parameter)."""
    rows: list[dict[str, Any]] = result.get(table.value) or []
    columns = table_columns(table, rows)
    problems = _unanswerable(result, table, columns, wanted)
    if problems:
        _refuse(problems)
    return TableRows(columns, [r for r in rows if wanted.keeps(r)])


def _unanswerable(
    result: dict[str, Any], table: PlanTable, columns: list[str], wanted: RowFilter
) -> list[dict[str, Any]]:
    """Every filter of `wanted` that `table` has no column for, and every id the plan lacks."""
    problems: list[dict[str, Any]] = []
    for param, column, ids in (
        ("district", "district", wanted.districts),
        ("service", "service", wanted.services),
        ("team", "team", wanted.teams),
    ):
        if not ids:
            continue
        if column not in columns:
            problems.append(_no_column(param, column, table, columns, ", ".join(ids)))
            continue
        known = _plan_ids(result, column)
        problems += [_unknown_id(param, i, known) for i in ids if i not in known]
    for param, day in (("from", wanted.first_day), ("to", wanted.last_day)):
        if day is not None and "ds" not in columns:
            problems.append(_no_column(param, "ds", table, columns, day.isoformat()))
    return problems


def _plan_ids(result: dict[str, Any], column: str) -> list[str]:
    """Every value of `column` in any table of the plan: its districts, services or teams."""
    tables = (result.get(t.value) or [] for t in STORED_TABLES)
    return sorted({v for rows in tables for r in rows if isinstance(v := r.get(column), str)})


def _no_column(
    param: str, column: str, table: PlanTable, columns: list[str], found: str
) -> dict[str, Any]:
    return _problem(
        param,
        f"a filter on a column of table '{table.value}', which has no {column} column "
        f"(its columns: {', '.join(columns)})",
        found,
    )


def _unknown_id(param: str, found: str, known: Iterable[str]) -> dict[str, Any]:
    ids = list(known)
    parts = [p.strip() for p in found.split(",")]
    if len(parts) > 1 and all(p in ids for p in parts):  # a list written as one value
        repeated = "&".join(f"{param}={p}" for p in parts)
        hint = f" (for several, repeat the parameter: ?{repeated})"
    else:
        near = difflib.get_close_matches(found, ids, n=1)
        hint = f" (did you mean {near[0]!r}?)" if near else ""
    listed = ", ".join(ids) if ids else "none"
    return _problem(param, f"one of the plan's {param} ids: {listed}{hint}", found)


def _problem(param: str, expected: str, found: str) -> dict[str, Any]:
    """A query parameter's problem, as FastAPI reports one (api/errors.py locates it)."""
    return {"type": "value_error", "loc": ("query", param), "msg": expected, "input": found}


def _refuse(problems: list[dict[str, Any]]) -> NoReturn:
    raise RequestValidationError(problems)


def public_rows(table: PlanTable, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`rows` as GET /v1/plans/{id} serves them in its `result`: through the table's row
    model, JSON-ready, with only the keys each row stored (a number stored as 5 is 5.0 there
    too, since the model reads it as a float)."""
    model = row_model(table)
    if model is None:  # every table has a row model (tests/api/test_plan_tables.py)
        return rows
    adapter: TypeAdapter[list[BaseModel]] = TypeAdapter(list[model])  # type: ignore[valid-type]
    served: list[dict[str, Any]] = adapter.dump_python(
        adapter.validate_python(rows), mode="json", exclude_unset=True
    )
    return served
