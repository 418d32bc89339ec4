"""The run history: every pipeline pass and requested plan, with provenance."""

from __future__ import annotations

from concurrent.futures import Future
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from sqlalchemy.orm import Session
from starlette.datastructures import State

from api.deps import (
    AuthFirstRoute,
    FactoryDep,
    IdPath,
    OffsetQuery,
    SessionDep,
    SettingsDep,
    allowed,
)
from api.errors import NotFound, error_responses
from api.paging import PAGED_RESPONSES, send_total
from api.schemas import RunPublic
from homeward import repository
from homeward.pipeline import queue_run
from homeward.roles import Action
from homeward.scheduler import scheduled_run
from models import RunRow

router = APIRouter(prefix="/v1", tags=["runs"], route_class=AuthFirstRoute)


def public_runs(session: Session, runs: list[RunRow]) -> list[RunPublic]:
    """Runs as the API shows them, each with the plan it made (if any)."""
    plans = repository.plan_ids_by_run(session, [r.id for r in runs])
    return [
        RunPublic.model_validate(r).model_copy(update={"plan_id": plans.get(r.id)}) for r in runs
    ]


@router.get(
    "/runs",
    response_model=list[RunPublic],
    dependencies=[allowed(Action.READ)],
    responses=PAGED_RESPONSES | error_responses(422),
)
def list_runs(
    session: SessionDep,
    response: Response,
    limit: Annotated[int, Query(ge=1, le=500, description="at most this many")] = 50,
    offset: OffsetQuery = 0,
) -> list[RunPublic]:
    """Runs, newest first; the `X-Total-Count` header says how many there are."""
    send_total(response, repository.count_runs(session))
    return public_runs(session, repository.list_runs(session, limit, offset))


@router.get(
    "/runs/{run_id}",
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


@router.post(
    "/runs",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[allowed(Action.RUN)],
)
def start_run(
    request: Request, response: Response, factory: FactoryDep, settings: SettingsDep
) -> RunPublic:
    """Run the pipeline now, as a job: 202 with the run's URL to poll (one run at a time).

    A pipeline run that is already queued and not yet started will read the same data, so a
    second request is answered with that run instead of queueing another."""
    state = request.app.state
    with state.pipeline_lock:
        run_id = _queued_pipeline_run(state)
        if run_id is None:
            run_id = queue_run(factory, trigger="api")
            future = state.pipeline_jobs.submit(scheduled_run, factory, settings, run_id)
            state.pipeline_waiting[run_id] = future
    response.headers["Location"] = f"/v1/runs/{run_id}"
    with factory() as session:
        return public_runs(session, [session.get_one(RunRow, run_id)])[0]


def _queued_pipeline_run(state: State) -> int | None:
    """A pipeline run this process has queued and not yet started, if any (one left queued
    by a stopped process is never answered with: recovery closes it)."""
    waiting: dict[int, Future[object]] = state.pipeline_waiting
    for run_id, future in list(waiting.items()):
        if future.done() or future.running():
            del waiting[run_id]
        else:
            return run_id
    return None
