"""The FastAPI application: composition root for the HTTP service and its scheduler."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import AsyncIterator, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api import errors, etags
from api.access_log import AccessLog
from api.cors import ProblemCORSMiddleware
from api.host_check import HostCheck
from api.metrics import Metrics, RequestMetrics
from api.plan_cache import AnswerCache, GzipRefusals, KeptGzip
from api.probe import BoundedQuery, DatabaseProbe
from api.readiness import ReadinessLog
from api.request_ids import RequestId
from api.routes import (
    audit,
    configs,
    dashboard,
    docs,
    exports,
    health,
    keys,
    metrics,
    observations,
    plans,
    runs,
    series,
    winter,
)
from api.security_headers import SecurityHeaders
from forecast.parallel import stop_pools
from homeward.clock import code_version
from homeward.pipeline import LOCK_NAME, queue_run
from homeward.recovery import (
    close_interrupted_runs,
    close_stopped_runs,
    lock_holder,
    remove_stale_solver_dirs,
    runs_held_by,
    wait_until_finished,
)
from homeward.repository import runs_now
from homeward.run_events import ENDED, notify_ended
from homeward.scheduler import scheduled_run, start_scheduler
from homeward.settings import Settings, get_settings
from homeward.storage import make_engine, session_factory, upgrade
from models.tables import RunTrigger

log = logging.getLogger("homeward")
# At a stop, how long a pipeline run cut off by it may take to record that (its forecast
# workers are ended at once) before it is closed anyway: well inside `docker stop`'s 10 s.
STOP_GRACE_S = 5.0
# What a dashboard on another origin may read of an answer besides the body: the paging
# total and the next page (`Link`), where to poll a job, when to retry, whether a job was
# made, the tag to poll with, a CSV download's file name (which says which plan it is;
# `latest` does not), which plan a plan's answer is and, for `latest`, the plan's own URL
# (api/routes/plans.py), and the request's id (api/request_ids.py) to quote when reporting a
# problem.
CORS_EXPOSED_HEADERS = [
    "X-Total-Count",
    "Location",
    "Retry-After",
    "Preference-Applied",
    "ETag",
    "Content-Disposition",
    "X-Plan-Id",
    "Content-Location",
    "X-Request-ID",
    "Link",
]
# What a dashboard on another origin may send: its key, a JSON body, `Prefer: respond-async`,
# If-None-Match to poll with the ETag it was given (a 304 when nothing has changed), and its
# own X-Request-ID to find its requests in the server's log.
# Bodies from this size on are compressed for a client that asks; the answer then varies on
# Accept-Encoding (GZipMiddleware says so), and its 304 says so too (ConditionalGet).
GZIP_MINIMUM_SIZE = 1024
# Level 6 (zlib's default) rather than Starlette's 9: on a 2.0 MB plan, 14 ms of CPU and
# 200 kB against 32 ms and 192 kB (measured 2026-11-25): under half the CPU for 4% more bytes.
GZIP_LEVEL = 6
# the compressed plan answers a process keeps (about a tenth of their JSON's size)
GZIPPED_PLANS_BYTES = 8 * 1024 * 1024
CORS_ALLOWED_HEADERS = [
    "Authorization",
    "X-API-Key",
    "Content-Type",
    "Prefer",
    "If-None-Match",
    "X-Request-ID",
]
# Every method a route answers: DELETE /v1/series/{id} included, so an admin page on a listed
# origin can remove a series uploaded by mistake, as it can upload one.
CORS_ALLOWED_METHODS = ["GET", "HEAD", "POST", "DELETE"]


def create_app(settings: Settings | None = None, run_on_start: RunTrigger | None = None) -> FastAPI:
    """An app bound to `settings` (default: from the environment). `run_on_start`: queue a
    pipeline run with this trigger as the app starts (`homeward demo` with a plan to serve
    meanwhile), on the worker the API's own runs use, so a stop closes it as it closes theirs.
    """
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = make_engine(settings.resolved_database_url, settings.db_statement_timeout_s)
        upgrade(engine)
        app.state.session_factory = session_factory(engine)
        app.state.settings = settings
        # runs ended through this factory (the API's jobs, the scheduler's, recovery's)
        notify_ended(app.state.session_factory, app.state.metrics.run_finished)
        closed = close_interrupted_runs(app.state.session_factory, LOCK_NAME)
        if closed:
            log.warning("runs %s were cut off by a stop; marked interrupted", closed)
        for leftover in remove_stale_solver_dirs():
            log.warning("removed %s: a CBC solve's files that a stopped process left", leftover)
        log.info("Homeward %s", code_version())  # the commit: /healthz names it only with keys off
        _log_auth(settings)
        # Plans and sweeps take seconds; a pipeline run takes minutes. Each kind has its own
        # worker, so a finance officer's what-if does not queue behind a forecast run.
        app.state.jobs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="homeward-plan")
        app.state.pipeline_jobs = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="homeward-pipeline"
        )
        app.state.pipeline_waiting = {}  # run id -> future, while queued (api/routes/runs.py)
        app.state.plan_jobs = {}  # run id -> future, until done (api/routes/plans.py)
        app.state.plan_job_owners = {}  # run id -> the name of the key that asked for it
        app.state.job_slots = {}  # a plan request under way -> its key's name (plans.py)
        app.state.plan_jobs_lock = threading.Lock()
        app.state.pipeline_lock = threading.Lock()
        app.state.scheduler = None
        try:  # a start-up that fails after the run is queued still stops it (finally)
            if run_on_start is not None:  # queued before the scheduler's recovery pass looks
                _start_run(app, settings, run_on_start)
            app.state.scheduler = (
                start_scheduler(app.state.session_factory, settings)
                if settings.scheduler_enabled
                else None
            )
            yield
        finally:
            await asyncio.to_thread(_stop_jobs, app)
            engine.dispose()

    # FastAPIOffline: FastAPI with Swagger UI's and ReDoc's files served from the package, not a
    # CDN, so the documentation opens on a network that blocks them; its pages are ours
    # (api/routes/docs.py), and with HOMEWARD_DOCS=false there are none, nor /openapi.json
    make: Callable[..., FastAPI] = FastAPIOffline if settings.docs else FastAPI
    app = make(
        docs_url=None,
        redoc_url=None,
        openapi_url="/openapi.json" if settings.docs else None,
        title="Homeward",
        version=health.public_version(settings),
        lifespan=lifespan,
        # `/v1/plans/` is a 404 saying to drop the slash (api/errors.py), as `/v1/series/` is,
        # not a 307 to an absolute http:// URL that skips the key check and a TLS proxy
        redirect_slashes=False,
        responses=errors.error_responses(500, 503),
        description="Capacity forecasting and optimisation for adult social care and "
        "home adaptations. Errors are application/problem+json. Every /v1 request needs an "
        "API key (`Authorization: Bearer <key>` or `X-API-Key`) whose role allows it: viewer "
        "reads; planner also runs the pipeline and plans; finance also plans what-ifs and "
        "stores configs; admin does everything, including uploads. Every GET also answers HEAD "
        "(the same status and headers, no body), as uptime monitors ask /healthz. A 200 to a "
        "GET under /v1 carries an ETag: send it back as If-None-Match and an unchanged answer "
        "is a 304 with no body (a dashboard polling the latest plan, about 2 MB, then "
        "downloads it only when it has changed). Every answer carries `X-Request-ID`: the "
        "request's own when it is at most 64 characters of `A-Za-z0-9._-`, else a new one; "
        "the server's log lines about the request name it, and a 500 or 503 body gives an "
        "`error_id` that its log line names.",
    )
    app.add_middleware(ConditionalGet)  # innermost: tags the body before gzip changes it
    # a plan's answer compressed once per process, kept by its ETag (api/plan_cache.py)
    app.state.plan_answers_gzipped = AnswerCache(GZIPPED_PLANS_BYTES)
    app.add_middleware(
        KeptGzip,
        cache=app.state.plan_answers_gzipped,
        minimum_size=GZIP_MINIMUM_SIZE,
        level=GZIP_LEVEL,
    )
    # A plan is about 2 MB of JSON, mostly repeated keys: dashboards that pull it over a
    # council network get it compressed about tenfold when they ask for gzip.
    app.add_middleware(GZipMiddleware, minimum_size=GZIP_MINIMUM_SIZE, compresslevel=GZIP_LEVEL)
    app.add_middleware(GzipRefusals)  # outside both: `gzip;q=0` is no gzip to either
    # outside gzip, so a HEAD's headers are its GET's, compressed body's (RFC 9110 9.3.2):
    # inside, gzip saw the emptied body and sent no Vary nor Content-Encoding
    app.add_middleware(HeadAsGet)
    # inside CORS, RequestId and the access log, so a 500 has their headers and its line
    app.add_middleware(errors.UnhandledErrors)
    if settings.cors_origins:  # outside the rest, so preflights and errors get its headers
        app.add_middleware(
            ProblemCORSMiddleware,
            allow_origins=list(settings.cors_origins),
            allow_methods=CORS_ALLOWED_METHODS,
            allow_headers=CORS_ALLOWED_HEADERS,
            expose_headers=CORS_EXPOSED_HEADERS,
            max_age=600,
        )
    app.add_middleware(HostCheck, settings=settings)  # a Host not allowed; keys off: proxies
    app.add_middleware(SecurityHeaders)  # every answer, errors and preflights too
    app.add_middleware(RequestId)  # every answer, a CORS preflight's too, says its id
    # one per process: GET /metrics answers it, with the commit when it asks for a key
    app.state.metrics = Metrics(code_version() if settings.metrics_auth == "keys" else app.version)
    # beside the access log, timing the same answer, and counting the status it logs
    app.add_middleware(RequestMetrics, metrics=app.state.metrics, routes=app.router.routes)
    app.add_middleware(AccessLog)  # outermost: times the whole answer, and sees its id
    errors.install(app)
    app.state.readiness = ReadinessLog()  # one per process: what a failing /readyz logs
    app.state.database_probe = DatabaseProbe(settings.readyz_timeout_s)  # /readyz's query
    # /metrics' read of the runs table, bounded as /readyz's query is
    app.state.runs_query = BoundedQuery(
        settings.readyz_timeout_s,
        partial(runs_now, ended=ENDED),
        "the runs table's metrics query",
        "homeward-metrics-read",
    )
    app.state.scraper_keys = metrics.ScraperKeys()
    app.state.plan_answers = AnswerCache()  # plans' bodies by ETag (api/plan_cache.py)
    # exports before plans: /v1/plans/{id}/{table}.csv must meet its CSV route before plans'
    # /v1/plans/{id}/{table} takes `hours.csv` for a table's name
    routers = (
        health,
        metrics,
        keys,
        series,
        exports,
        runs,
        observations,
        configs,
        plans,
        winter,
        audit,
        dashboard,
    )
    for module in (*routers, docs) if settings.docs else routers:
        app.include_router(module.router)
    app.mount("/static", StaticFiles(directory=dashboard.STATIC_DIR), name="static")
    return app


class ConditionalGet:
    """ETag on every 200 to a GET under /v1 (weak), and 304 Not Modified, with no body, when
    the request's If-None-Match already holds it (RFC 9110 13.1.2). A plan route tags its
    answer itself, from what it is made of, and answers a matching If-None-Match before
    building anything (api/etags.py); its tag is kept as the route sent it. Every other 200
    is tagged by a hash of its body before compression: the route still runs, keys and roles
    included, and only the transfer is saved. Either way it is for a client that keeps its own
    copy: browsers and proxies keep none, as every /v1 answer is `Cache-Control: no-store`
    (api/security_headers.py)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or scope["method"] != "GET"
            or not scope["path"].startswith("/v1/")
        ):
            await self.app(scope, receive, send)
            return
        wanted = etags.if_none_match(scope["headers"])
        start: Message | None = None
        way = _PASS
        chunks: list[bytes] = []

        async def tagged(message: Message) -> None:
            nonlocal start, way
            if message["type"] == "http.response.start":
                start, way = message, _way(message, wanted)
                if way == _PASS:  # errors, redirects, and a route's tag that is not wanted
                    await send(message)
                elif way == _NOT_MODIFIED:  # a route's tag, and `*`: the body is not sent
                    await _send_not_modified(message["headers"], True, send)
                return
            if way == _PASS or start is None:
                await send(message)
                return
            if way == _NOT_MODIFIED:
                return
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                await _send_tagged(start, b"".join(chunks), wanted, send)

        await self.app(scope, receive, tagged)


# What ConditionalGet does with an answer: sends it as it comes, sends a 304 in its place, or
# keeps its body to hash into a tag first
_PASS, _NOT_MODIFIED, _HASH = "pass", "not modified", "hash"


def _way(start: Message, wanted: set[str]) -> str:
    if start["status"] != 200:
        return _PASS
    tag = next((v.decode("latin-1") for k, v in start["headers"] if k.lower() == b"etag"), None)
    if tag is None:
        return _HASH
    return _NOT_MODIFIED if "*" in wanted or etags.opaque(tag) in wanted else _PASS


# Headers that say which resource an answer is (a `latest` plan's table names its plan: api/
# routes/plans.py), or where a page stands in its list, hashed with the body: two plans with
# the same rows then differ in tag, so a dashboard polling GET /v1/plans/latest/summary with
# plan 7's tag gets a 200 naming plan 8, not a 304, once plan 8 is the latest; and a page whose
# rows are unchanged but whose list grew gets a 200 with the new total and next link.
_NAMING_HEADERS = (b"content-location", b"x-plan-id", b"x-total-count", b"link")


async def _send_tagged(start: Message, body: bytes, wanted: set[str], send: Send) -> None:
    named = [k + b": " + v for k, v in start["headers"] if k.lower() in _NAMING_HEADERS]
    tagged = body if not named else b"\n".join([*named, body])  # no names: as before
    tag = etags.weak_tag(tagged)
    headers = [(k, v) for k, v in start["headers"] if k.lower() != b"etag"]
    headers.append((b"etag", tag.encode()))
    if "*" in wanted or etags.opaque(tag) in wanted:
        await _send_not_modified(headers, len(body) >= GZIP_MINIMUM_SIZE, send)
        return
    await send({**start, "headers": headers})
    await send({"type": "http.response.body", "body": body, "more_body": False})


async def _send_not_modified(headers: list[tuple[bytes, bytes]], varies: bool, send: Send) -> None:
    """A 304 with the 200's `headers` but its body's length and type; `varies`: the 200 varies
    on Accept-Encoding (gzip adds it there, not to an empty 304), and a 304 must carry the Vary
    its 200 would have carried (RFC 9110 15.4.5)."""
    kept = [(k, v) for k, v in headers if k.lower() not in (b"content-length", b"content-type")]
    if varies and b"accept-encoding" not in b",".join(
        v.lower() for k, v in kept if k.lower() == b"vary"
    ):
        MutableHeaders(raw=kept).add_vary_header("Accept-Encoding")
    await send({"type": "http.response.start", "status": 304, "headers": kept})
    await send({"type": "http.response.body", "body": b"", "more_body": False})


class HeadAsGet:
    """HEAD answered as GET without the body (RFC 9110 9.3.2), on every route: FastAPI routes
    answer only the methods they declare, so `curl -I /healthz` would get 405."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "HEAD":
            await self.app(scope, receive, send)
            return

        async def headers_only(message: Message) -> None:
            if message["type"] == "http.response.body":
                if message.get("more_body", False):
                    return  # the rest of a streamed body: dropped as it comes
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        as_get = {**scope, "method": "GET"}
        try:
            await self.app(as_get, receive, headers_only)
        finally:
            if "route" in as_get:  # the route chosen, for the request metrics (api/metrics.py)
                scope["route"] = as_get["route"]


def _start_run(app: FastAPI, settings: Settings, trigger: RunTrigger) -> None:
    """Queue a pipeline run and start it in the background, as POST /v1/runs does."""
    state = app.state
    with state.pipeline_lock:
        run_id = queue_run(state.session_factory, trigger=trigger)
        state.pipeline_waiting[run_id] = state.pipeline_jobs.submit(
            scheduled_run, state.session_factory, settings, run_id, trigger
        )
    log.info(
        "%s pipeline run %d started; GET /v1/runs/%d shows its progress", trigger, run_id, run_id
    )


def _stop_jobs(app: FastAPI) -> None:
    """A clean stop (SIGTERM, Ctrl-C): no new jobs; the pipeline run this process is working
    on and the ones it queued are closed as 'interrupted' and the lock given back, so the
    next start runs the pipeline at once instead of waiting out the lock's lease. So are its
    plan and sweep jobs still queued, or still running after the grace period (one that
    finishes later records its outcome over that); before, they waited for the 6-hour rule."""
    state = app.state
    if state.scheduler is not None:
        state.scheduler.shutdown(wait=False)
    with state.plan_jobs_lock:  # plans and sweeps: queued ones never start, running ones may end
        jobs = dict(state.plan_jobs)
    # outside the lock: cancelling a queued job runs its done-callback, which takes the lock
    state.jobs.shutdown(wait=False, cancel_futures=True)
    working = [run_id for run_id, future in jobs.items() if future.running()]
    with state.pipeline_lock:
        queued = list(state.pipeline_waiting)
        state.pipeline_jobs.shutdown(wait=False, cancel_futures=True)
    factory, holder = state.session_factory, lock_holder()
    try:
        running = runs_held_by(factory, LOCK_NAME, holder)
        stop_pools()  # the run's forecast workers: it fails now rather than in minutes
        wait_until_finished(factory, [*running, *working], STOP_GRACE_S)
        closed = close_stopped_runs(factory, [*running, *queued, *jobs], LOCK_NAME, holder)
    except Exception:  # the database is gone too: the next start's recovery closes them
        log.exception("could not close this process's runs at the stop")
        return
    if closed:
        log.warning("stopping: runs %s marked interrupted, pipeline lock released", closed)


def _log_auth(settings: Settings) -> None:
    if settings.auth == "off":
        log.warning(
            "API keys are OFF: every /v1 request to %s acts as admin",
            settings.host,
        )
    else:
        log.info("API keys required for /v1 (create one with `homeward keys create`)")
