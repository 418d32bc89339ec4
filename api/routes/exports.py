"""CSV downloads for spreadsheets: a plan's tables one at a time, a fee sweep's table, the
newest forecasts, their metrics and winter indices, and the stored history.

Councils plan in spreadsheets; these give the same figures as the JSON routes, as a file a
spreadsheet opens (UTF-8 without a byte order mark, comma-separated, a header row of the same
columns whatever the data, dates as YYYY-MM-DD, money to the penny and other numbers to 10
significant digits: homeward/exports.py). The dashboard saves them with the mark, for Excel.
"""

from __future__ import annotations

from typing import Annotated, Any

import pandas as pd
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from api.deps import AuthFirstRoute, IdPath, SessionDep, allowed
from api.errors import NotFound, error_responses
from api.etags import Asked
from api.plan_tables import (
    TABLE_REFUSALS,
    PlanTable,
    RowFilter,
    RowFilterDep,
    TableName,
    table_rows,
    table_source,
)
from api.routes.plans import (
    LATEST_HEADERS,
    PLAN_HEADERS,
    answer_body,
    look_up,
    plan_or_404,
    with_headers,
)
from api.routes.series import RUN_NOT_FORECAST, RunIdQuery, no_forecast_in_run
from api.routes.winter import winter_frame
from api.schemas import COUNT_METRICS, SweepRowPublic
from homeward import repository
from homeward.exports import csv_text, rows_frame
from homeward.roles import Action
from models import RunRow

router = APIRouter(prefix="/v1", tags=["exports"], route_class=AuthFirstRoute)

CSV_TYPE = "text/csv"
# What a series id may hold, as GET /v1/series checks its `prefix` (api/routes/series.py)
SERIES_PREFIX_PATTERN = r"^[a-z0-9_./-]*$"


def _csv_answer(description: str, example: str) -> dict[int | str, dict[str, Any]]:
    return {
        200: {
            "description": description,
            "content": {CSV_TYPE: {"schema": {"type": "string"}, "example": example}},
            "headers": {
                "Content-Disposition": {
                    "description": "`attachment` with the file name a browser saves it as",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        }
    }


_PLAN_CSV = _csv_answer(
    "the table's rows, with a header row of every field of its row schema, in order, whatever "
    "the plan holds (a cell empty where the JSON has null, e.g. staffing's fte without "
    "hours_per_fte; a header alone when the plan has no rows in it, e.g. relaxations of a "
    "plan that relaxed nothing, or none that the filters keep)",
    "service,district,team,period,ds,hours,cases_served\not,rugby,north,1,2026-01-05,142.5,23.75\n",
)


@router.get(
    "/plans/latest/{table}.csv",
    operation_id="get_latest_plan_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=with_headers(_PLAN_CSV, LATEST_HEADERS)
    | error_responses(
        404, 422, said={404: "no plan yet that is not a what-if", 422: TABLE_REFUSALS}
    ),
)
def latest_plan_table_csv(
    table: TableName, wanted: RowFilterDep, session: SessionDep, request: Request
) -> Response:
    """One table of the latest plan (GET /v1/plans/latest) as CSV, optionally only some
    districts', services' or dates' rows; the file is named after the plan's id, and
    `X-Plan-Id` and `Content-Location` name the plan, so a download says which plan it came
    from."""
    return _table_csv(session, request, None, table, wanted)


@router.get(
    "/plans/{plan_id}/{table}.csv",
    operation_id="get_plan_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=with_headers(_PLAN_CSV, PLAN_HEADERS)
    | error_responses(404, 422, said={422: TABLE_REFUSALS}),
)
def plan_table_csv(
    plan_id: IdPath, table: TableName, wanted: RowFilterDep, session: SessionDep, request: Request
) -> Response:
    """One table of a plan (GET /v1/plans/{id}) as CSV, optionally filtered as GET
    /v1/plans/{id}/{table} is."""
    return _table_csv(session, request, plan_id, table, wanted)


def _table_csv(
    session: Session, request: Request, plan_id: int | None, table: PlanTable, wanted: RowFilter
) -> Response:
    found = look_up(session, request, plan_id, Asked(table.value, CSV_TYPE, wanted))
    if found.not_modified is not None:
        return found.not_modified

    def build() -> bytes:
        row = plan_or_404(session, found.plan_id)
        kept = table_rows(table_source(session, row, table), table, wanted)
        frame = rows_frame(kept.rows, kept.columns)  # a period column with gaps stays whole
        return csv_text(frame).encode()

    body = answer_body(request, found, build)  # kept by its ETag (api/plan_cache.py)
    return _csv(body, f"homeward-plan-{found.plan_id}-{table.value}.csv", found.headers)


@router.get(
    "/runs/{run_id}/sweep.csv",
    operation_id="get_sweep_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=_csv_answer(
        "a fee sweep's table (the `sweep` of GET /v1/runs/{id}), one row per rate planned so "
        "far, in the columns of its JSON rows (`SweepRowPublic`: dfg_fee_rate, plan_id, "
        "status, each figure, each figure's `_change`, compared_with_plan_id); a cell is empty "
        "where the JSON has null, or a figure the sweep was stored before it was reported",
        "dfg_fee_rate,plan_id,status,weighted_wait_days,...,compared_with_plan_id\n"
        "0.2,17,optimal,299337.2463,...,16\n",
    )
    | error_responses(404, 422, said={404: "no run with that id, or a run that is no sweep"}),
)
def sweep_csv(run_id: IdPath, session: SessionDep) -> Response:
    """A fee sweep's table as CSV, for the spreadsheet a finance officer compares rates in;
    a sweep still running gives the rates planned so far. The file is named after the run."""
    run = session.get(RunRow, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    if run.kind != "sweep":
        raise NotFound(
            f"run {run_id} is a {run.kind} run, not a sweep: only a sweep's run "
            "(POST /v1/plans/sweeps) has a sweep table"
        )
    frame = rows_frame(run.sweep or [], list(SweepRowPublic.model_fields))
    return _csv(frame, f"homeward-sweep-{run_id}.csv")


PrefixQuery = Annotated[
    str,
    Query(
        max_length=200,
        pattern=SERIES_PREFIX_PATTERN,
        description="only series whose id starts with this (matched case-sensitively), "
        "e.g. referrals/ or referrals/ot/ (default: every series)",
    ),
]


def _no_forecast_under(prefix: str) -> NotFound:
    return NotFound(
        f"no forecast of a series whose id starts with {prefix!r}; GET /v1/series lists the series"
        if prefix
        else "no forecasts yet: the pipeline has not run",
        "not_found" if prefix else "not_forecast_yet",
    )


@router.get(
    "/forecasts.csv",
    operation_id="get_forecasts_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=_csv_answer(
        "the newest forecast of every series whose id starts with `prefix`, in the columns "
        "`homeward forecast` writes: unique_id, ds, model, mean, lo-80, hi-80, lo-95, hi-95, "
        "then run_id (the run that made it, as metrics.csv names it)",
        "unique_id,ds,model,mean,lo-80,hi-80,lo-95,hi-95,run_id\n"
        "referrals/ot/rugby,2026-01-05,mean_best2,31.2,24.0,38.4,20.1,42.3,7\n",
    )
    | error_responses(404, 422, said={404: RUN_NOT_FORECAST}),
)
def forecasts_csv(
    session: SessionDep,
    prefix: PrefixQuery = "",
    run_id: RunIdQuery = None,
) -> Response:
    """Every series' newest forecast in one CSV (the long format `homeward forecast` writes,
    then the run that made each row, so a spreadsheet can tell forecasts of different runs
    apart), for a spreadsheet or a script; GET /v1/forecasts/{series_id} has one series' backtest
    metrics and level shifts too. Series stored but not yet forecast give the header row
    alone; a prefix that matches no stored series or forecast is a 404. `run_id`: that run's
    forecasts instead, whether or not it has ended (a run with none under the prefix is a
    404)."""
    return _csv(_forecasts(session, prefix, run_id), "homeward-forecasts.csv")


def _forecasts(session: Session, prefix: str, run_id: int | None) -> pd.DataFrame:
    """The newest forecast of every series under `prefix` (`run_id`: that run's); NotFound if
    it matches no stored series or forecast, or the run has none under it. Series stored but
    not yet forecast (uploaded since the last run) give no rows, not an error, so a scheduled
    spreadsheet refresh does not fail until the next run."""
    frame = repository.latest_forecast_frame(session, prefix, run_id)
    if frame.empty and run_id is not None:
        raise no_forecast_in_run(session, run_id, prefix, exact=False)
    if frame.empty and not repository.list_series(session, prefix):
        raise _no_forecast_under(prefix)
    return frame


@router.get(
    "/observations.csv",
    operation_id="get_observations_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=_csv_answer(
        "the stored history of every series whose id starts with `prefix`, in the long "
        "format `homeward import` and POST /v1/observations read: unique_id, ds, y, by series "
        "then date (team and area totals, which have no history of their own, are not in it)",
        "unique_id,ds,y\nreferrals/ot/rugby,2025-12-29,28.0\nreferrals/ot/rugby,2026-01-05,31.0\n",
    )
    | error_responses(
        404,
        422,
        said={
            404: "no stored series whose id starts with `prefix` (or none at all); where the "
            "prefix holds only team or area totals (`kind: total` in GET /v1/series), the "
            "detail says they are forecast only, with no history of their own"
        },
    ),
)
def observations_csv(session: SessionDep, prefix: PrefixQuery = "") -> Response:
    """Every series' history in one CSV, where GET /v1/observations/{series_id} took a
    request per series and named no series in its rows: a spreadsheet sets forecasts against
    what happened from this and GET /v1/forecasts.csv, and the file imports back as it is."""
    if not repository.list_series(session, prefix):
        raise NotFound(_no_observations_under(session, prefix))
    frame = repository.load_observations(session, prefix=prefix or None)
    # by series then date in Python's order, whatever the database's collation sorts ids by
    frame = frame.sort_values(["unique_id", "ds"], kind="stable", ignore_index=True)
    return _csv(frame, "homeward-observations.csv")


def _no_observations_under(session: Session, prefix: str) -> str:
    """Why no stored series is under `prefix`: nothing uploaded, none of that name, or only
    team and area totals (`referrals_team/`), which GET /v1/series lists but which are
    forecast only: a 404 saying "no stored series" of eight listed ones read as a fault."""
    if not prefix:
        return "no observations yet: nothing has been uploaded"
    totals = repository.list_forecast_only_series(session, prefix)
    if not totals:
        return f"no stored series whose id starts with {prefix!r}; GET /v1/series lists the series"
    return (
        f"no stored series whose id starts with {prefix!r}: the {len(totals)} series under it "
        f"that GET /v1/series lists (e.g. {totals[0].id!r}) are team or area totals (`kind: "
        "total`), forecast only, with no history of their own: each is the sum of its "
        "districts' series, whose history is here under their own ids; the totals' forecasts "
        f"are at GET /v1/forecasts.csv?prefix={prefix}"
    )


@router.get(
    "/winter.csv",
    operation_id="get_winter_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=_csv_answer(
        "the winter index of every series whose id starts with `prefix`, one row per series "
        "and November-March forecast period, as GET /v1/winter/{series_id} gives it in "
        "`points`: unique_id, ds, winter_index (empty where that gives null), warning (the "
        "series' `warning` there, on each of its rows; empty when none), run_id (the run "
        "whose forecast it is of); team and area totals included",
        "unique_id,ds,winter_index,warning,run_id\nreferrals/ot/rugby,2026-01-05,1.18,,7\n",
    )
    | error_responses(404, 422, said={404: RUN_NOT_FORECAST}),
)
def winter_csv(
    session: SessionDep, prefix: PrefixQuery = "", run_id: RunIdQuery = None
) -> Response:
    """Every series' winter index in one CSV, where GET /v1/winter/{series_id} took a request
    per series. Each row carries its series' `warning` as that route gives it (a history too
    short to show a season, or under a year), so a spreadsheet of indices does not present a
    flat one as a calm winter. Series stored but not yet forecast, or forecast for no November
    to March period, give no rows; a prefix that matches no stored series or forecast is a 404.
    `run_id`: from that run's forecasts instead, as GET /v1/forecasts.csv takes it."""
    frame = winter_frame(session, _forecasts(session, prefix, run_id))
    return _csv(frame, "homeward-winter.csv")


# A row of GET /v1/metrics.csv by column; the example's header is the route's own column list
# (`repository.metrics_columns`), so a metric added to the file is added to the example too
_METRICS_EXAMPLE = {
    "unique_id": "referrals/ot/rugby",
    "model": "mean_best2",
    "run_id": "7",
    "chosen": "true",
    "mase": "0.81",
    "smape": "0.22",
    "rmsse": "0.79",
    "pinball": "1.9",
    "coverage_80": "0.8",
    "coverage_95": "0.95",
    "folds": "3",
    "selection_mase": "0.83",
    "total_error_q10": "-0.09",
    "total_error_q90": "0.21",
    "members": "ets;theta",
}


def _metrics_example() -> str:
    columns = repository.metrics_columns()
    row = [_METRICS_EXAMPLE.get(name, "") for name in columns]
    return f"{','.join(columns)}\n{','.join(row)}\n"


@router.get(
    "/metrics.csv",
    operation_id="get_metrics_csv",
    response_class=Response,
    dependencies=[allowed(Action.READ)],
    responses=_csv_answer(
        "every model's backtest metrics of the newest forecast (`run_id`: that run's) of every "
        "series whose id starts with `prefix`, one row per series and model, the chosen model "
        "first: unique_id, model, run_id, chosen, then the metrics (as GET "
        "/v1/forecasts/{series_id} gives them in `backtest`; a count such as folds a whole "
        "number, as there), then members (the models a combination combined, ';' between "
        "them, empty for a fitted model)",
        _metrics_example(),
    )
    | error_responses(404, 422, said={404: RUN_NOT_FORECAST}),
)
def metrics_csv(
    session: SessionDep,
    prefix: PrefixQuery = "",
    chosen: Annotated[
        bool | None,
        Query(
            description="`true`: only each series' chosen model; `false`: only the models "
            "not chosen (as `scenario=false` on GET /v1/plans keeps only the plans that are "
            "not what-ifs); left out: every model"
        ),
    ] = None,
    run_id: RunIdQuery = None,
) -> Response:
    """How good each forecast has been, for every series at once (a dashboard's accuracy
    table read one series at a time took a request per series). Each backtest window is
    forecast from the history before it; pinball and coverage score it with intervals
    calibrated on the run's other windows, not on its own errors (empty where those leave too
    few to calibrate on), and `selection_mase` is the in-sample score the choice used.
    `run_id`: that run's metrics instead, whether or not it has ended, as GET
    /v1/forecasts.csv takes it (a run with no forecast under the prefix is a 404)."""
    frame = repository.latest_metrics(session, prefix, chosen=chosen, run_id=run_id)
    if frame.empty and run_id is not None:
        if not repository.forecast_in_run(session, run_id, prefix):
            raise no_forecast_in_run(session, run_id, prefix, exact=False)
    elif frame.empty and not repository.list_series(session, prefix):
        raise _no_forecast_under(prefix)
    return _csv(_whole_counts(frame), "homeward-metrics.csv")


def _whole_counts(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` in every column of `_every_metric`, with each count metric (folds), stored as
    a float with the other metrics, written as the whole number GET /v1/forecasts/{series_id}
    serves (`3`, not `3.0`); a count a run did not store stays empty."""
    out = _every_metric(frame)
    for name in COUNT_METRICS:
        if name not in out:
            continue
        values = pd.to_numeric(out[name], errors="coerce")
        known = values.dropna()
        if len(known) == values.notna().sum() and (known % 1 == 0).all():
            out[name] = values.astype("Int64")
    return out


def _every_metric(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` (`repository.latest_metrics`) with every column of this release's metrics.csv
    in its place, empty where the runs read stored no such metric (runs stored before it was
    recorded), so a spreadsheet's query of the file does not depend on which runs it reads;
    a metric the release does not name (a newer release's) after them, before `members`."""
    known = repository.metrics_columns()
    stored = [c for c in frame.columns if c not in known]
    return frame.reindex(columns=[*known[:-1], *stored, known[-1]])


def _csv(
    frame: pd.DataFrame | bytes, filename: str, headers: dict[str, str] | None = None
) -> Response:
    """`frame` as a CSV download (`csv_text`; bytes: the CSV it made already)."""
    return Response(
        frame if isinstance(frame, bytes) else csv_text(frame),
        media_type=f"{CSV_TYPE}; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"', **(headers or {})},
    )
