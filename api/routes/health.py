"""Liveness and readiness: the database answers and the scheduler state."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

from api.deps import SessionDep
from api.schemas import HealthPublic
from homeward.clock import code_version

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthPublic, operation_id="get_health")
def healthz(request: Request, session: SessionDep) -> HealthPublic:
    """200 when the database answers a query."""
    session.execute(text("SELECT 1"))
    scheduler = request.app.state.scheduler
    return HealthPublic(
        status="ok",
        database=session.get_bind().dialect.name,
        scheduler="running" if scheduler is not None and scheduler.running else "off",
        version=code_version(),
    )
