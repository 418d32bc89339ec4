"""GET /metrics: the process's metrics in Prometheus' text format (api/metrics.py), for a
council's monitoring. It answers whatever the database does: the runs table is read within
HOMEWARD_READYZ_TIMEOUT_S or left out, with `homeward_database_readable 0` saying so."""

from __future__ import annotations

import logging
from collections import OrderedDict

from fastapi import APIRouter, Request, Response
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.exc import SQLAlchemyError

from api.deps import CHECKS, sent_credentials, sent_key
from api.errors import DATABASE_UNAVAILABLE, error_responses
from api.metrics import CONTENT_TYPE
from api.probe import ProbeTimedOut
from homeward.api_keys import Caller, NotAuthenticated, key_hash, when_expired
from homeward.clock import utcnow
from homeward.repository import RunsNow
from homeward.roles import Action

log = logging.getLogger(__name__)
router = APIRouter(tags=["health"])

DESCRIPTION = (
    "The process's metrics in Prometheus' text format: requests by method, route template and "
    "status, and their durations; runs ended in this process by kind and status; from the runs "
    "table, when the newest pipeline run succeeded and ended, and the runs queued or running; "
    "the code's version. With HOMEWARD_AUTH=keys it needs a key of any role (Authorization: "
    "Bearer), unless HOMEWARD_METRICS_AUTH=off. The runs table is read within "
    "HOMEWARD_READYZ_TIMEOUT_S: if it is not, the rest is answered all the same, with "
    "`homeward_database_readable 0`."
)


@router.get(
    "/metrics",
    operation_id="get_metrics",
    response_class=Response,
    description=DESCRIPTION,
    # the key check runs inside the route (it must answer while the database is down), so the
    # schemes the /v1 routes declare by dependency are declared here by hand: a generated
    # client or Swagger's "Try it out" then sends the key (HOMEWARD_METRICS_AUTH=off needs none)
    openapi_extra={"security": [{"HTTPBearer": []}, {"APIKeyHeader": []}, {"HTTPBasic": []}]},
    responses={
        200: {"description": "the metrics", "content": {CONTENT_TYPE: {}}},
        **error_responses(401),
    },
)
async def metrics(request: Request) -> Response:
    database_answered = await _admitted(request)
    runs = await _runs_now(request) if database_answered else None
    return Response(request.app.state.metrics.exposition(runs), media_type=CONTENT_TYPE)


async def _admitted(request: Request) -> bool:
    """Nothing to check (keys off, or HOMEWARD_METRICS_AUTH=off): True. Else the key is
    checked as any read's is, once the database has answered /readyz's probe within its
    bound: True. When it has not, a key accepted by an earlier scrape is accepted again
    (ScraperKeys) and the answer is False (the database is not asked again); any other is
    the probe's 503."""
    settings = request.app.state.settings
    if settings.auth == "off" or settings.metrics_auth == "off":
        return True
    bearer, header, basic = await sent_credentials(request)
    secret = sent_key(bearer, header, basic)
    keys: ScraperKeys = request.app.state.scraper_keys
    try:
        await request.app.state.database_probe.backend(request.app.state.session_factory)
        caller = await run_in_threadpool(CHECKS[Action.READ], request, bearer, header, basic)
    except NotAuthenticated:
        keys.forget(secret)
        raise
    except DATABASE_UNAVAILABLE:
        known = keys.known(secret)
        if known is None:
            raise
        request.state.caller = known  # the access log names it
        return False
    keys.accepted(secret, caller)
    return True


async def _runs_now(request: Request) -> RunsNow | None:
    """The runs table's gauges, or None when it could not be read within the bound (the
    database refuses, fails or hangs: /readyz's log says which)."""
    try:
        runs: RunsNow = await request.app.state.runs_query.answer(request.app.state.session_factory)
    except (SQLAlchemyError, ProbeTimedOut) as exc:
        log.debug("GET /metrics: the runs table was not read: %s", exc)
        return None
    return runs


class ScraperKeys:
    """The keys GET /metrics accepted, by hash, so that a scraper keeps its metrics while the
    database cannot check its key: a key is remembered when accepted and forgotten when
    refused (revoked, say), so only a key whose last check, with the database answering,
    accepted it is taken on trust, and only while the database does not answer. At most
    `keep` keys, the least recently accepted let go first."""

    def __init__(self, keep: int = 16) -> None:
        self._keep = keep
        self._callers: OrderedDict[str, Caller] = OrderedDict()

    def accepted(self, secret: str | None, caller: Caller) -> None:
        if secret is None:
            return
        digest = key_hash(secret)
        self._callers[digest] = caller
        self._callers.move_to_end(digest)
        while len(self._callers) > self._keep:
            self._callers.popitem(last=False)

    def forget(self, secret: str | None) -> None:
        if secret is not None:
            self._callers.pop(key_hash(secret), None)

    def known(self, secret: str | None) -> Caller | None:
        """The remembered caller of `secret`, unless its key has expired since (its expiry is
        known without the database)."""
        caller = None if secret is None else self._callers.get(key_hash(secret))
        if caller is not None and when_expired(caller, utcnow()) is not None:
            self.forget(secret)
            return None
        return caller
