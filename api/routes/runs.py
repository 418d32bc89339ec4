"""The run history: every pipeline pass and requested plan, with provenance."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from api.deps import SessionDep
from api.schemas import RunPublic
from homeward import repository

router = APIRouter(prefix="/v1", tags=["runs"])


@router.get("/runs", response_model=list[RunPublic])
def list_runs(
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[RunPublic]:
    """Runs, newest first."""
    return [RunPublic.model_validate(r) for r in repository.list_runs(session, limit, offset)]
