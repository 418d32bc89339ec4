"""Probes for an orchestrator or uptime monitor: liveness, readiness, and the older /healthz."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request

from api.schemas import HealthPublic, LivePublic, ReadyPublic
from homeward.clock import code_version
from homeward.settings import Settings

router = APIRouter(tags=["health"])


@router.get("/livez", response_model=LivePublic, operation_id="get_liveness")
async def livez() -> LivePublic:
    """200 while the process serves requests. It touches no database, so an orchestrator
    does not restart a healthy process because the database is down (that is /readyz). It is
    `async` and does no blocking work, so it runs on the event loop itself: a hung database can
    hold every thread of the pool the sync routes run in, and /livez still answers."""
    return LivePublic(status="ok")


@router.get("/readyz", response_model=ReadyPublic, operation_id="get_readiness")
async def readyz(request: Request) -> ReadyPublic:
    """200 when the database answers a query; 503 when it does not, or not within
    HOMEWARD_READYZ_TIMEOUT_S (api/probe.py), so a load balancer sends requests elsewhere
    until it does. A failure is logged by api/errors.py, once per outage and then as a count
    (api/readiness.py); the first success after says so."""
    backend = await request.app.state.database_probe.backend(request.app.state.session_factory)
    request.app.state.readiness.succeeded()
    return ReadyPublic(status="ok", database=backend)


@router.get("/healthz", response_model=HealthPublic, operation_id="get_health")
async def healthz(request: Request) -> HealthPublic:
    """200 when the database answers a query (kept for monitors already set up on it); 503
    when it does not, or not in time, as /readyz, and its failures are logged as /readyz's
    are: one outage, not one ERROR a probe."""
    backend = await request.app.state.database_probe.backend(request.app.state.session_factory)
    request.app.state.readiness.succeeded()
    scheduler = request.app.state.scheduler
    return HealthPublic(
        status="ok",
        database=backend,
        scheduler="running" if scheduler is not None and scheduler.running else "off",
        # code_version may ask git: not on the loop
        version=await asyncio.to_thread(public_version, request.app.state.settings),
    )


def public_version(settings: Settings) -> str:
    """The version told to callers without a key (/healthz, /openapi.json): with keys required,
    the release alone (`0.1.0`), as the commit would tell anyone which fixes the service lacks;
    with keys off (loopback only), the full version (`0.1.0+g20c1c42`). The full version is
    logged at start-up and recorded on every run (GET /v1/runs)."""
    full = code_version()
    return full if settings.auth == "off" else full.partition("+")[0]
