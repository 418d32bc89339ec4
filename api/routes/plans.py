"""Plans: the newest real plan, the history, one by id, and new ones on request (a planner's
or finance scenario, or a finance officer's sweep of fee rates)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response, status
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from api.created import CreatedWindowDep
from api.deps import (
    MAX_ID,
    ActorDep,
    AuthFirstRoute,
    BeforeIdQuery,
    FactoryDep,
    IdPath,
    OffsetQuery,
    SessionDep,
    allowed,
    get_settings,
)
from api.errors import (
    NotFound,
    TooManyJobs,
    error_responses,
    located_in,
    location_header,
    meaning,
    refused_unless_role,
)
from api.etags import WHOLE_PLAN, Asked, not_modified, plan_tag
from api.paging import PAGED_RESPONSES, send_next, send_total
from api.plan_cache import AnswerCache
from api.plan_tables import (
    PlanTable,
    RowFilter,
    RowFilterDep,
    TableName,
    public_rows,
    row_filter_of,
    row_model,
    table_filters,
    table_refusals,
    table_rows,
    table_source,
)
from api.routes.configs import refuse_unstored_pressure_series
from api.routes.runs import public_runs
from api.schemas import (
    PlanComparisonPublic,
    PlanCreate,
    PlanPublic,
    PlanResultPublic,
    PlanSummaryPublic,
    RunPublic,
    SweepCreate,
    WhatIfPublic,
)
from homeward import planning, repository
from homeward.api_keys import Caller
from homeward.plan_years import with_year_periods
from homeward.planning import ConfigUnreadable
from homeward.roles import Action, allows
from homeward.storage import transaction
from models import PlanRow, RunRow
from optimise.config import PlanningConfig
from optimise.errors import PlanInputError

router = APIRouter(prefix="/v1/plans", tags=["plans"], route_class=AuthFirstRoute)
# why a plan or a sweep is refused before anything is solved or queued
_PLAN_REFUSALS = {
    404: "no `config` sent and no planning config stored",
    409: "no referral forecasts stored yet: run the pipeline first",
}
# A plan solved at once whose solver ended without one (status error, infeasible or
# time_limit: homeward.planning.PlanNotSolved): the request was read and its config passed
# every check, but this config cannot be planned as it stands, and sending it again fails the
# same way; so not a 5xx (nothing to retry, no fault of the service's to alert on).
_PLAN_NOT_SOLVED = (
    meaning(422)
    + "; or, `code` `plan_not_solved` (no `problems`), the solver ended without a plan "
    "(status error, infeasible or time_limit): the detail gives its words, and `run_id` the "
    "plan run recorded as failed (`GET /v1/runs/{run_id}`); no plan is stored, and "
    "`GET /v1/plans/latest` is the plan it was"
)
_POLL_THE_RUN = location_header("the job's run, `/v1/runs/{id}`: poll it until it has finished")


# Which plan an answer is of. A `latest` answer also gives the plan's own URL: a table is a
# bare list, and a dashboard polling GET /v1/plans/latest/hours could not tell one plan from
# the next. The plan's id is in the ETag too (api/etags.py), so plans with equal rows differ in
# tag.
PLAN_ID_HEADER = "X-Plan-Id"
PLAN_HEADERS: dict[str, Any] = {
    PLAN_ID_HEADER: {
        "description": "the id of the plan this answer is of (`id` of GET /v1/plans/{id})",
        "required": True,
        "schema": {"type": "integer"},
    }
}
LATEST_HEADERS: dict[str, Any] = PLAN_HEADERS | {
    "Content-Location": {
        "description": "the same answer at the plan's own URL, `/v1/plans/{id}...` with the "
        "query, which stays that plan's when a newer plan becomes the latest",
        "required": True,
        "schema": {"type": "string"},
    }
}


def with_headers(
    responses: dict[int | str, dict[str, Any]], headers: dict[str, Any]
) -> dict[int | str, dict[str, Any]]:
    """`responses` with `headers` added to its 200's (a copy)."""
    ok = responses.get(200, {})
    return responses | {200: ok | {"headers": ok.get("headers", {}) | headers}}


def plan_headers(plan_id: int, request: Request | None = None) -> dict[str, str]:
    """The headers naming plan `plan_id`; with the `latest` request it answers, also the
    plan's own URL for the same answer (`latest` in the path replaced by the plan's id)."""
    headers = {PLAN_ID_HEADER: str(plan_id)}
    if request is not None:
        own = request.url.path.replace("/v1/plans/latest", f"/v1/plans/{plan_id}", 1)
        query = request.url.query
        headers["Content-Location"] = f"{own}?{query}" if query else own
    return headers


JSON_TYPE = "application/json"


@dataclass(frozen=True)
class PlanLookup:
    """Which plan a request is of, the headers its 200 carries (which plan, and the ETag of
    what it asks: api/etags.py), and the 304 that answers it when its If-None-Match holds
    that ETag (None: build the answer)."""

    plan_id: int
    headers: dict[str, str]
    not_modified: Response | None


def look_up(session: Session, request: Request, plan_id: int | None, asked: Asked) -> PlanLookup:
    """Plan `plan_id` (None: the latest) by its id alone, 404 if there is none, and the tag of
    what is `asked` of it; the key and role are checked before (AuthFirstRoute), so a caller
    who may not read plans gets a 401 or 403, never a 304."""
    found = latest_or_404(session) if plan_id is None else existing_or_404(session, plan_id)
    headers = plan_headers(found.id, request if plan_id is None else None)
    tag = plan_tag(found, asked)
    if tag is None:
        return PlanLookup(found.id, headers, None)
    headers["ETag"] = tag
    return PlanLookup(found.id, headers, not_modified(request.headers.raw, headers))


# A plan's result is served as stored: what an older plan did not store is left out, not
# filled in with its schema's default (every other field of PlanPublic is always set).
_AS_STORED = True


def _public(session: Session, row: PlanRow) -> PlanPublic:
    return _as_public(row, repository.plan_is_scenario(session, row))


def _as_public(row: PlanRow, scenario: bool) -> PlanPublic:
    """A stored plan as served (reads nothing more from the database: validating a large
    result need not hold a transaction open), its revenue_by_year rows with each year's
    `year_periods` (worked out on read, so an older plan's have it too)."""
    return PlanPublic(
        id=row.id,
        run_id=row.run_id,
        config_id=row.config_id,
        scenario=scenario,
        created_at=row.created_at,
        status=row.status,
        objective_weighted_wait_days=row.objective_weighted_wait_days,
        solve_seconds=row.solve_seconds,
        result=PlanResultPublic.model_validate(with_year_periods(row.result)),
        created_by=row.created_by,
    )


@router.get(
    "",
    operation_id="list_plans",
    response_model=list[PlanSummaryPublic],
    dependencies=[allowed(Action.READ)],
    responses=PAGED_RESPONSES | error_responses(422),
)
def list_plans(
    session: SessionDep,
    request: Request,
    response: Response,
    created: CreatedWindowDep,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many")] = 20,
    offset: OffsetQuery = 0,
    scenario: Annotated[
        bool | None,
        Query(description="only what-ifs (true) or only plans that are not (false)"),
    ] = None,
    config_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only plans of this config version")
    ] = None,
    run_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="only the plan this run made"),
    ] = None,
    before_id: BeforeIdQuery = None,
) -> list[PlanSummaryPublic]:
    """Plans, newest first, as summaries (GET /v1/plans/{id} for a plan's result); the
    `X-Total-Count` header says how many there are with the same filters (`before_id` aside).
    Page with `before_id` (the last id of the page before) rather than `offset` while plans
    are being made: a new plan shifts every offset by one, so a row would come twice. The
    `Link` header gives the next page, by `before_id`, until the last. `created_from` and
    `created_to` keep those made (`created_at`) in a window, for an incremental refresh."""
    kept = repository.PlanFilter(scenario, config_id, run_id, before_id, created)
    found = repository.list_plans(session, limit + 1, offset, kept)  # one more: a next page?
    send_total(response, repository.count_plans(session, kept))
    if len(found) > limit:
        send_next(response, request, {"before_id": found[limit - 1].id, "offset": None})
    return [PlanSummaryPublic.model_validate(p) for p in found[:limit]]


@router.get(
    "/latest",
    operation_id="get_latest_plan",
    response_model=PlanPublic,
    response_model_exclude_unset=_AS_STORED,
    dependencies=[allowed(Action.READ)],
    responses=with_headers({}, LATEST_HEADERS)
    | error_responses(404, said={404: "no plan yet that is not a what-if"}),
)
def latest_plan(session: SessionDep, request: Request) -> PlanPublic | Response:
    """The newest plan of a config that is not a what-if: the pipeline's, or one requested
    without a changed config. What-ifs (`scenario: true`) are listed by GET /v1/plans.
    `X-Plan-Id` and `Content-Location` name the plan, as on its tables."""
    return _plan_answer(session, request, None)


def latest_or_404(session: Session) -> repository.PlanStamp:
    """The latest plan's id and making time (`repository.latest_plan_stamp`), or NotFound
    saying how one is made."""
    found = repository.latest_plan_stamp(session)
    if found is None:
        raise NotFound(
            "no plan yet: the pipeline has not run, or POST /v1/plans to make one", "no_plan_yet"
        )
    return found


def existing_or_404(session: Session, plan_id: int) -> repository.PlanStamp:
    """Plan `plan_id`'s id and making time, if it is stored (read without its result), else
    NotFound naming it."""
    found = repository.plan_stamp(session, plan_id)
    if found is None:
        raise NotFound(f"no plan with id {plan_id}")
    return found


def plan_or_404(session: Session, plan_id: int) -> PlanRow:
    """The plan with `plan_id`, or NotFound naming it."""
    row = session.get(PlanRow, plan_id)
    if row is None:
        raise NotFound(f"no plan with id {plan_id}")
    return row


@router.get(
    "/{plan_id}",
    operation_id="get_plan",
    response_model=PlanPublic,
    response_model_exclude_unset=_AS_STORED,
    dependencies=[allowed(Action.READ)],
    responses=with_headers({}, PLAN_HEADERS) | error_responses(404, 422),
)
def get_plan(plan_id: IdPath, session: SessionDep, request: Request) -> PlanPublic | Response:
    """One plan by id."""
    return _plan_answer(session, request, plan_id)


def _plan_answer(session: Session, request: Request, plan_id: int | None) -> Response:
    """Plan `plan_id` (None: the latest) whole, or the 304 of `look_up`. The body is the one
    kept under its tag, if any (api/plan_cache.py), else made as FastAPI would make it from
    `PlanPublic` (`plan_json`), with the headers in the order FastAPI gives them."""
    found = look_up(session, request, plan_id, Asked(WHOLE_PLAN, JSON_TYPE))
    if found.not_modified is not None:
        return found.not_modified

    def build() -> bytes:
        # by the id found and tagged: a plan stored meanwhile is not served under this one's tag
        return plan_json(_public(session, plan_or_404(session, found.plan_id)))

    answer = Response(answer_body(request, found, build), media_type=JSON_TYPE)
    answer.headers.update(found.headers)
    return answer


_PLAN_ADAPTER: TypeAdapter[PlanPublic] = TypeAdapter(PlanPublic)


def plan_json(plan: PlanPublic) -> bytes:
    """`plan` as GET /v1/plans/{id} sends it: what FastAPI makes of a route's `PlanPublic`
    with `response_model_exclude_unset` (pydantic's JSON, by alias, only the fields set)."""
    return _PLAN_ADAPTER.dump_json(plan, by_alias=True, exclude_unset=_AS_STORED)


def answer_body(request: Request, found: PlanLookup, build: Callable[[], bytes]) -> bytes:
    """The body of the 200 `found` is of: kept under its ETag in this process's
    `AnswerCache` (api/plan_cache.py), else made by `build` and kept. `look_up` has just read
    from the database that the plan is stored, so a purged plan is a 404, never kept bytes."""
    cache: AnswerCache = request.app.state.plan_answers
    return cache.body(found.headers.get("ETag"), build)


# One table of a plan as JSON: an operation of its own per table (GET /v1/plans/{plan_id}/hours,
# operationId get_plan_hours), so /openapi.json types each answer by that table's row schema
# alone (one generic `{table}` route could only offer a union of every table's row, and a
# `revenue_by_budget` row also fits the `revenue` one a generated client tries first). Each
# `latest` route comes before its `{plan_id}` one, which `/latest/hours` also fits.
# `/v1/plans/{plan_id}/hours.csv` is the CSV route's: the exports router is included before
# this one (api/app.py).
def _table_responses(table: PlanTable, by_id: bool) -> dict[int | str, dict[str, Any]]:
    model = getattr(row_model(table), "__name__", "")
    ok: dict[int | str, dict[str, Any]] = {
        200: {
            "description": f"the plan's `{table.value}` rows, each a `{model}` "
            "as in the plan's `result` (GET /v1/plans/{id}); `[]` when the plan has none, or "
            "none that the filters keep"
        }
    }
    refusals = {422: table_refusals(table, by_id)}
    if by_id:
        return with_headers(ok, PLAN_HEADERS) | error_responses(404, 422, said=refusals)
    said = {404: "no plan yet that is not a what-if", **refusals}
    return with_headers(ok, LATEST_HEADERS) | error_responses(404, 422, said=said)


def _filtered(table: PlanTable) -> str:
    """How a table's rows may be filtered, for its operations' descriptions."""
    kept = {"district": "districts'", "service": "services'", "from": "dates'"}
    some = [kept[f] for f in table_filters(table) if f in kept]
    if not some:
        return ""
    which = ", ".join(some[:-1]) + (" or " if len(some) > 1 else "") + some[-1]
    dates = (
        " (`from` and `to` inclusive, on each row's `ds`)" if "from" in table_filters(table) else ""
    )
    return f", optionally only some {which} rows{dates}"


# The tables' 44 operations have a group of their own in /docs, so the plans' dozen others
# are not lost among them
TABLES_TAG = "plan tables"


def _add_table_routes(table: PlanTable) -> None:
    """GET /v1/plans/latest/<table> and /v1/plans/{plan_id}/<table>, each typed by the
    table's row model, with the filters it can answer (`row_filter_of`)."""
    wanted_of_table = Depends(row_filter_of(table))

    def latest(
        session: SessionDep, request: Request, wanted: RowFilter = wanted_of_table
    ) -> Response:
        return _table_json(session, request, None, table, wanted)

    def by_id(
        plan_id: IdPath, session: SessionDep, request: Request, wanted: RowFilter = wanted_of_table
    ) -> Response:
        return _table_json(session, request, plan_id, table, wanted)

    rows: Any = list[row_model(table)]  # type: ignore[misc]
    router.add_api_route(
        f"/latest/{table.value}",
        latest,
        methods=["GET"],
        operation_id=f"get_latest_plan_{table.value}",
        name=f"get_latest_plan_{table.value}",
        response_model=rows,
        dependencies=[allowed(Action.READ)],
        responses=_table_responses(table, by_id=False),
        description=f"The latest plan's `{table.value}` table (GET /v1/plans/latest)"
        f"{_filtered(table)}, without the rest of the plan (about 2 MB). `X-Plan-Id` says "
        "which plan it is, and `Content-Location` the same table at that plan's own URL.",
    )
    router.add_api_route(
        f"/{{plan_id}}/{table.value}",
        by_id,
        methods=["GET"],
        operation_id=f"get_plan_{table.value}",
        name=f"get_plan_{table.value}",
        response_model=rows,
        dependencies=[allowed(Action.READ)],
        responses=_table_responses(table, by_id=True),
        description=f"Plan `plan_id`'s `{table.value}` table (GET /v1/plans/{{id}})"
        f"{_filtered(table)}.",
    )


for _table in PlanTable:
    _add_table_routes(_table)
for _route in router.routes:  # the router's own tag, "plans", would be added to any given
    if isinstance(_route, APIRoute) and _route.name.startswith(("get_plan_", "get_latest_plan_")):
        _route.tags = [TABLES_TAG]


# Any other name after a plan: refused (422 at `path/table`, naming the tables) as a table no
# plan has, not a 404, as the generic `{table}` route refused it; not in the document, where
# each table is an operation of its own.
@router.get("/latest/{table}", dependencies=[allowed(Action.READ)], include_in_schema=False)
def latest_plan_table(
    table: TableName, wanted: RowFilterDep, session: SessionDep, request: Request
) -> Response:
    """A table of the latest plan by its name (only a name no table has reaches it)."""
    return _table_json(session, request, None, table, wanted)


@router.get("/{plan_id}/{table}", dependencies=[allowed(Action.READ)], include_in_schema=False)
def get_plan_table(
    plan_id: IdPath, table: TableName, wanted: RowFilterDep, session: SessionDep, request: Request
) -> Response:
    """A table of plan `plan_id` by its name (only a name no table has reaches it)."""
    return _table_json(session, request, plan_id, table, wanted)


@router.get(
    "/{plan_id}/compare/{other_id}",
    operation_id="compare_plans",
    response_model=PlanComparisonPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422),
)
def compare_plans(
    plan_id: IdPath,
    other_id: Annotated[
        int, Path(ge=1, le=MAX_ID, description="the plan it is compared with (GET /v1/plans/{id})")
    ],
    session: SessionDep,
) -> PlanComparisonPublic:
    """Plan `plan_id` set against plan `other_id`, any two stored plans, as POST /v1/plans
    sets a what-if against the active config's latest plan: the first plan's figures, each
    one's change from the second's (none where they cover other periods, `not_comparable`
    saying why) and the config fields that differ, from the second's value to the first's.
    For a what-if and the plan in its `comparison.compared_with_plan_id`, the same answer."""
    plan, other = plan_or_404(session, plan_id), plan_or_404(session, other_id)
    return PlanComparisonPublic.model_validate(planning.compare_plans(session, plan, other))


def _table_json(
    session: Session,
    request: Request,
    plan_id: int | None,
    table: PlanTable,
    wanted: RowFilter,
) -> Response:
    found = look_up(session, request, plan_id, Asked(table.value, JSON_TYPE, wanted))
    if found.not_modified is not None:
        return found.not_modified

    def build() -> bytes:
        row = plan_or_404(session, found.plan_id)
        # rows made JSON here, through the table's own model, as GET /v1/plans/{id} serves
        # them (only the keys each row stored: the response model would fill in the rest)
        kept = table_rows(table_source(session, row, table), table, wanted).rows
        return bytes(JSONResponse(public_rows(table, kept)).body)

    return Response(answer_body(request, found, build), media_type=JSON_TYPE, headers=found.headers)


@router.post(
    "",
    operation_id="create_plan",
    response_model=WhatIfPublic,
    response_model_exclude_unset=_AS_STORED,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.PLAN)],
    responses={
        201: {"headers": location_header("the new plan: `/v1/plans/{id}`")},
        202: {
            "model": RunPublic,
            "description": "with `Prefer: respond-async`: the plan runs as a job; poll the "
            "run at `Location` until it is no longer queued or running, then GET its plan_id",
            "headers": _POLL_THE_RUN
            | {
                "Preference-Applied": {
                    "description": "always `respond-async`",
                    "required": True,
                    "schema": {"type": "string"},
                }
            },
        },
        **error_responses(404, 409, 422, 429, said=_PLAN_REFUSALS | {422: _PLAN_NOT_SOLVED}),
        **refused_unless_role(Action.PLAN),
    },
)
def create_plan(
    plan_request: PlanCreate,
    request: Request,
    response: Response,
    factory: FactoryDep,
    actor: ActorDep,
    prefer: Annotated[
        str | None, Header(description="`respond-async`: solve as a job and answer 202 at once")
    ] = None,
) -> WhatIfPublic | Response:
    """Solve a plan from the newest forecasts with the given (or active) config, and store it.

    A config sent here is kept as a scenario: it does not replace the active config; a
    `winter.pressure_series` other than the active config's must be stored, as POST
    /v1/configs requires (422). The answer's `comparison` sets the plan against the active
    config's latest plan (a sweep row's figures and changes) and names the config fields
    that differ. With
    `Prefer: respond-async` the config, that forecasts are stored and that they fit the
    config's periods and horizon are checked now (the same problems as without it) and the
    plan is solved as a job (its plan has no comparison).
    """
    # first: a client over its limit costs no checks; a plan solved at once holds its slot
    # while it solves, as a job does while queued or running
    # no request session: each read and write is a short transaction of its own, none held
    # (nor its pooled connection) while the plan solves
    with _job_slot(request):
        if _wants_async(prefer):
            return _queue_plan(plan_request, request, factory, actor)
        with transaction(factory) as session:
            refuse_unstored_pressure_series(session, plan_request.config)
        with _located_in(factory, plan_request.config):
            stored, compared = planning.plan_what_if(
                factory,
                plan_request.config_body(),
                plan_request.solver,
                actor,
                what_if_only=_what_ifs_only(request),
            )
    response.headers["Location"] = f"/v1/plans/{stored.plan_id}"
    with transaction(factory) as session:
        row = session.get_one(PlanRow, stored.plan_id)
        scenario = repository.plan_is_scenario(session, row)
    plan = _as_public(row, scenario)
    comparison = PlanComparisonPublic.model_validate(compared)
    return WhatIfPublic(**dict(plan), comparison=comparison)


@router.post(
    "/sweeps",
    operation_id="create_sweep",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[allowed(Action.PLAN)],
    responses={
        202: {"headers": _POLL_THE_RUN},
        **error_responses(404, 409, 422, 429, said=_PLAN_REFUSALS),
        **refused_unless_role(Action.PLAN),
    },
)
def create_sweep(
    sweep_request: SweepCreate, request: Request, factory: FactoryDep, actor: ActorDep
) -> JSONResponse:
    """Plan each DFG fee rate as a what-if of the given (or active) config, as a job.

    The config (a sent one's `winter.pressure_series`, if not the active config's, must be
    stored, as POST /v1/configs requires), that forecasts are stored and that they fit the
    config's periods and horizon are checked now (404, 409, 422); then 202 with the sweep run
    at `Location`. Poll it: its message counts the rates planned, and its `sweep`
    table gives each rate's plan, weighted waiting days, fee income, staff cost, staff hours
    and DTOC days, and their changes from the active config's latest plan (from the sent
    config at its own fee rate, when it changes more than the fee). The sweep's plans are
    what-ifs (`scenario: true`), never GET /v1/plans/latest.
    """
    rates = list(sweep_request.dfg_fee_rates)
    with _job_slot(request):  # first: a client over its limit costs no checks
        # a bad config, no forecasts or demand that does not fit: refused now, not in a job;
        # the checks' transaction ends before the job is queued (it may start at once)
        with _located_in(factory, sweep_request.config), transaction(factory) as session:
            refuse_unstored_pressure_series(session, sweep_request.config)
            body = planning.checked_sweep(session, sweep_request.config_body(), rates)
        run_id = planning.queue_sweep(factory, actor, rates)
        _submit(request, run_id, planning.run_sweep_job, factory, body, rates, sweep_request.solver)
    return _accepted(factory, run_id)


def _accepted(factory: FactoryDep, run_id: int, preferred: bool = False) -> JSONResponse:
    """202 with a queued run, at its URL, for a client to poll (`preferred`: the client asked
    for it with `Prefer: respond-async`)."""
    with factory() as job_session:
        run = public_runs(job_session, [job_session.get_one(RunRow, run_id)])[0]
    headers = {"Location": f"/v1/runs/{run_id}"}
    if preferred:
        headers["Preference-Applied"] = "respond-async"
    return JSONResponse(
        run.model_dump(mode="json"), status_code=status.HTTP_202_ACCEPTED, headers=headers
    )


def _wants_async(prefer: str | None) -> bool:
    """Whether a Prefer header (RFC 7240) asks for respond-async."""
    tokens = (p.split(";")[0].strip().lower() for p in (prefer or "").split(","))
    return "respond-async" in tokens


def _queue_plan(
    plan_request: PlanCreate, request: Request, factory: FactoryDep, actor: str
) -> JSONResponse:
    # every check a plan solved at once makes before solving, so the same 404, 409 or 422;
    # their transaction ends before the job is queued (it may start solving at once)
    with _located_in(factory, plan_request.config), transaction(factory) as session:
        refuse_unstored_pressure_series(session, plan_request.config)
        body = planning.checked_body(session, plan_request.config_body())
    run_id = planning.queue_plan(factory, actor)
    job = partial(planning.run_plan_job, what_if_only=_what_ifs_only(request))
    _submit(request, run_id, job, factory, body, plan_request.solver)
    return _accepted(factory, run_id, preferred=True)


def _what_ifs_only(request: Request) -> bool:
    """Whether the caller's plans are all what-ifs: a key that may plan but not run the
    pipeline (finance, README's role table) makes what-ifs, so even its plan of the active
    config unchanged (`{}`) is one, never GET /v1/plans/latest, which the pipeline's (and a
    planner's or admin's) plans make."""
    caller: Caller = request.state.caller
    return not allows(caller.role, Action.RUN)


@contextmanager
def _located_in(factory: FactoryDep, config: PlanningConfig | None) -> Iterator[None]:
    """A plan's refusal (PlanInputError) of `config` (None: the active config) raised as
    PlanInputAt (each of several problems so, together: `located_in`): located at its field's
    index path in that config, as the JSON sent has it (`body/config/services/0/...` for
    `services[ot].cost_per_hour_gbp_by_year`, whose message names the id), so a form can mark
    the field; the config's own order, not the plan's (which sorts districts and teams by
    id)."""
    try:
        yield
    except PlanInputError as exc:
        planned = config if config is not None else _active_config(factory)
        raise located_in(exc, planned) from None


def _active_config(factory: FactoryDep) -> PlanningConfig | None:
    """The active config as planned (None: none stored, or one that cannot be read)."""
    with factory() as session:
        row = repository.active_config(session)
        try:
            return None if row is None else planning.read_active(row)
        except ConfigUnreadable:
            return None


def _key_name(request: Request) -> str:
    caller = getattr(request.state, "caller", None)
    return str(getattr(caller, "name", ""))


@contextmanager
def _job_slot(request: Request) -> Iterator[None]:
    """A slot for a plan or sweep: 429 when the request's key, or every key together, has as
    many plans solving at once and jobs queued or running in this process as
    HOMEWARD_MAX_JOBS_PER_KEY (HOMEWARD_MAX_JOBS) allows (jobs run one at a time, so ten
    sweeps from one client held up everyone's what-if behind some 120 solves). The slot is
    taken under the lock as it is counted, so requests arriving together cannot all pass,
    and given back when the request ends; a job it queued holds its own place meanwhile."""
    settings = get_settings(request)
    state, name = request.app.state, _key_name(request)
    token = object()
    with state.plan_jobs_lock:
        owners = [state.plan_job_owners.get(run_id) for run_id in state.plan_jobs]
        owners += list(state.job_slots.values())
        mine = sum(owner == name for owner in owners)
        if mine >= settings.max_jobs_per_key:
            raise TooManyJobs(
                f"this key ({name}) has {mine} plans or plan and sweep jobs under way, as "
                f"many as HOMEWARD_MAX_JOBS_PER_KEY ({settings.max_jobs_per_key}) allows: wait "
                "for one to end (GET /v1/runs?status=queued lists the jobs) and try again"
            )
        if len(owners) >= settings.max_jobs:
            raise TooManyJobs(
                f"{len(owners)} plans or plan and sweep jobs are under way, as many as "
                f"HOMEWARD_MAX_JOBS ({settings.max_jobs}) allows: try again once one has ended"
            )
        state.job_slots[token] = name
    try:
        yield
    finally:
        with state.plan_jobs_lock:
            state.job_slots.pop(token, None)


def _submit(request: Request, run_id: int, job: Callable[..., object], *args: object) -> None:
    """Run `job(*args, run_id)` on the plan worker, kept in `plan_jobs` (with the key that
    asked, in `plan_job_owners`) until it is done, so a clean stop knows which runs this
    process queued or is working on (api/app.py) and the job limits can count them."""
    state = request.app.state
    with state.plan_jobs_lock:
        future = state.jobs.submit(job, *args, run_id)
        state.plan_jobs[run_id] = future
        state.plan_job_owners[run_id] = _key_name(request)

    def forget(_done: Future[object]) -> None:
        with state.plan_jobs_lock:
            state.plan_jobs.pop(run_id, None)
            state.plan_job_owners.pop(run_id, None)

    future.add_done_callback(forget)
