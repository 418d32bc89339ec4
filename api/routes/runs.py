"""The run history: every pipeline pass and requested plan, with provenance."""

from __future__ import annotations

import json
from concurrent.futures import Future
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker
from starlette.datastructures import State

from api.created import CreatedWindowDep
from api.deps import (
    ActorDep,
    AuthFirstRoute,
    BeforeIdQuery,
    FactoryDep,
    IdPath,
    OffsetQuery,
    SessionDep,
    SettingsDep,
    allowed,
)
from api.errors import (
    InProgress,
    NotFound,
    error_responses,
    location_header,
    refused_unless_role,
)
from api.paging import PAGED_RESPONSES, send_next, send_total
from api.schemas import RunPublic
from homeward import repository
from homeward.clock import utcnow
from homeward.pipeline import LOCK_NAME, queue_run
from homeward.recovery import as_utc
from homeward.roles import Action
from homeward.scheduler import scheduled_run
from models import LockRow, RunRow
from models.tables import RunKind, RunStatus

router = APIRouter(prefix="/v1", tags=["runs"], route_class=AuthFirstRoute)


def public_runs(session: Session, runs: list[RunRow]) -> list[RunPublic]:
    """Runs as the API shows them, each with the plan it made (if any)."""
    plans = repository.plan_ids_by_run(session, [r.id for r in runs])
    return [
        RunPublic.model_validate(r).model_copy(update={"plan_id": plans.get(r.id)}) for r in runs
    ]


@router.get(
    "/runs",
    operation_id="list_runs",
    response_model=list[RunPublic],
    dependencies=[allowed(Action.READ)],
    responses=PAGED_RESPONSES | error_responses(422),
)
def list_runs(
    session: SessionDep,
    request: Request,
    response: Response,
    created: CreatedWindowDep,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50,
    offset: OffsetQuery = 0,
    kind: Annotated[RunKind | None, Query(description="only runs of this kind")] = None,
    status: Annotated[RunStatus | None, Query(description="only runs in this state")] = None,
    before_id: BeforeIdQuery = None,
) -> list[RunPublic]:
    """Runs, newest first; the `X-Total-Count` header says how many there are with the same
    filters (`before_id` aside). Page with `before_id` (the last id of the page before)
    rather than `offset` while runs are being made: a new run shifts every offset by one.
    The `Link` header gives the next page, by `before_id`, until the last. `created_from` and
    `created_to` keep those made in a window (`queued_at`, or `started_at` for a run stored
    before `queued_at` was recorded), for an incremental refresh."""
    kept = repository.RunFilter(kind, status, before_id, created)
    send_total(response, repository.count_runs(session, kept))
    found = repository.list_runs(session, limit + 1, offset, kept)  # one more: a next page?
    if len(found) > limit:
        send_next(response, request, {"before_id": found[limit - 1].id, "offset": None})
    return public_runs(session, found[:limit])


@router.get(
    "/runs/{run_id}",
    operation_id="get_run",
    response_model=RunPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422),
)
def get_run(run_id: IdPath, session: SessionDep) -> RunPublic:
    """One run: poll this after a 202 until its status is no longer queued or running."""
    run = session.get(RunRow, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return public_runs(session, [run])[0]


_TAKES_NO_BODY = (
    "no body: a run forecasts every stored series and plans with the active config "
    "(POST /v1/configs makes a config active; POST /v1/plans plans a config without storing it)"
)


async def _no_body(request: Request) -> None:
    """Refuse (422 at `body`) a body sent to a route that reads none: `{"config_id": 7}` would
    otherwise start a run of the active config, answered as if the body had been understood."""
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > 4096:  # enough to say what was sent; the rest is not read
            break
    body = body.strip()
    if not body:
        return
    try:
        sent: object = json.loads(body)
    except (ValueError, RecursionError):  # not JSON, cut short or nested past Python's
        # recursion limit (`[` x 1000 was a 500): said as text, quoted
        sent = body.decode("utf-8", "replace")
    if sent in ({}, None):  # `{}`, `{ }`, `null`: nothing asked
        return
    raise RequestValidationError(
        [{"type": "body_not_taken", "loc": ("body",), "msg": _TAKES_NO_BODY, "input": sent}]
    )


@router.post(
    "/runs",
    operation_id="start_run",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[allowed(Action.RUN), Depends(_no_body)],
    responses={
        202: {"headers": location_header("the run's URL: poll it until it has finished")},
        **error_responses(
            422,
            said={
                422: "Invalid input: a body (this endpoint reads none: a run uses the active "
                "config and every stored series), or a query parameter it does not take"
            },
        ),
        409: error_responses(409)[409]
        | {
            "description": "a pipeline run this service did not queue (the scheduler's, or "
            "another process's) is in progress: the detail names it and when it started",
            "headers": location_header("the run in progress, to poll"),
        },
        **refused_unless_role(Action.RUN),
    },
)
def start_run(
    request: Request,
    response: Response,
    factory: FactoryDep,
    settings: SettingsDep,
    actor: ActorDep,
) -> RunPublic:
    """Run the pipeline now, as a job: 202 with the run's URL to poll (one run at a time).

    A pipeline run that is already queued and not yet started will read the same data, so a
    second request is answered with that run instead of queueing another; one asked for while
    this service's previous one runs is queued behind it. While a run the service did not
    queue holds the pipeline (the scheduler's, or another process's), the answer is 409 with
    that run at `Location`, not a run that would only be skipped."""
    state = request.app.state
    with state.pipeline_lock:
        run_id = _queued_pipeline_run(state, factory)
        if run_id is None:
            if not _pipeline_worker_busy(state):
                refuse_while_a_run_holds_the_lock(factory)
            run_id = queue_run(factory, trigger="api", created_by=actor)
            future = state.pipeline_jobs.submit(scheduled_run, factory, settings, run_id)
            state.pipeline_waiting[run_id] = future
    response.headers["Location"] = f"/v1/runs/{run_id}"
    with factory() as session:
        return public_runs(session, [session.get_one(RunRow, run_id)])[0]


def _queued_pipeline_run(state: State, factory: sessionmaker[Session]) -> int | None:
    """A pipeline run this process has queued and not yet started, if any: waiting for the
    worker, or taken by it but still `queued` (it has read nothing yet, so two requests
    at once get one run). One left queued by a stopped process is never answered with:
    recovery closes it."""
    waiting: dict[int, Future[object]] = state.pipeline_waiting
    for run_id, future in list(waiting.items()):
        if future.done():
            del waiting[run_id]
        elif not future.running() or _still_queued(factory, run_id):
            return run_id
    return None


def _still_queued(factory: sessionmaker[Session], run_id: int) -> bool:
    with factory() as session:
        return session.scalar(select(RunRow.status).where(RunRow.id == run_id)) == "queued"


def _pipeline_worker_busy(state: State) -> bool:
    """Whether a pipeline run this process's API queued is running now (a new one queues
    behind it: the lock it holds is free by the time the next starts)."""
    waiting: dict[int, Future[object]] = state.pipeline_waiting
    return any(future.running() for future in waiting.values())


def refuse_while_a_run_holds_the_lock(factory: sessionmaker[Session]) -> None:
    """InProgress (409) if a live pipeline lock is held: the run queued now would start at
    once, find the lock taken and be skipped."""
    with factory() as session:
        lock = session.get(LockRow, LOCK_NAME)
        if lock is None or as_utc(lock.expires_at) <= utcnow():
            return
        running = session.scalars(
            select(RunRow)
            .where(RunRow.kind == "pipeline", RunRow.status == "running")
            .order_by(RunRow.started_at.desc())
            .limit(1)
        ).first()
        if running is None:  # taken a moment before its run is recorded as running
            raise InProgress(
                "expected no pipeline run in progress, found the pipeline lock held until "
                f"{as_utc(lock.expires_at):%Y-%m-%dT%H:%M:%SZ} by a run starting now; "
                "GET /v1/runs lists it, start another when it has finished",
                "/v1/runs",
            )
        url = f"/v1/runs/{running.id}"
        raise InProgress(
            f"expected no pipeline run in progress, found run {running.id} (trigger "
            f"{running.trigger}), running since {as_utc(running.started_at):%Y-%m-%dT%H:%M:%SZ}"
            f"; poll {url} and start another when it has finished",
            url,
        )
