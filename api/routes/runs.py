"""The run history: every pipeline pass and requested plan, with provenance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status

from api.deps import FactoryDep, SessionDep, SettingsDep, allowed
from api.errors import NotFound
from api.schemas import RunPublic
from homeward import repository
from homeward.pipeline import queue_run
from homeward.roles import Action
from homeward.scheduler import scheduled_run
from models import RunRow

router = APIRouter(prefix="/v1", tags=["runs"])


@router.get("/runs", response_model=list[RunPublic], dependencies=[allowed(Action.READ)])
def list_runs(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RunPublic]:
    """Runs, newest first."""
    return [RunPublic.model_validate(r) for r in repository.list_runs(session, limit, offset)]


@router.get("/runs/{run_id}", response_model=RunPublic, dependencies=[allowed(Action.READ)])
def get_run(run_id: int, session: SessionDep) -> RunPublic:
    """One run: poll this after POST /v1/runs until its status is no longer queued or running."""
    run = session.get(RunRow, run_id)
    if run is None:
        raise NotFound(f"no run with id {run_id}")
    return RunPublic.model_validate(run)


@router.post(
    "/runs",
    response_model=RunPublic,
    status_code=status.HTTP_202_ACCEPTED,
    dependencies=[allowed(Action.RUN)],
)
def start_run(
    request: Request, response: Response, factory: FactoryDep, settings: SettingsDep
) -> RunPublic:
    """Run the pipeline now, as a job: 202 with the run's URL to poll (one run at a time)."""
    run_id = queue_run(factory, trigger="api")
    request.app.state.jobs.submit(scheduled_run, factory, settings, run_id)
    response.headers["Location"] = f"/v1/runs/{run_id}"
    with factory() as session:
        return RunPublic.model_validate(session.get_one(RunRow, run_id))
