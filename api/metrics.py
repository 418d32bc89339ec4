"""Prometheus metrics of one process: requests by route template, runs that ended in it, what
the runs table says (read at each scrape, bounded), and the build.

One registry per app, so the counters and the request histogram count this process's work
since it started (a restart starts them at 0 again, as Prometheus' `rate` and `increase`
expect); the runs table's gauges are the database's, the same from every process sharing it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Histogram,
    Info,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import ASGIApp, Receive, Scope, Send

from api.access_log import answered
from homeward.recovery import UNFINISHED, as_utc
from homeward.repository import RunsNow
from homeward.run_events import ENDED, KINDS

# A `_created` series beside each counter and histogram doubles the answer for what a restart
# already says (process_start_time_seconds); Prometheus does not need them
disable_created_metrics()  # type: ignore[no-untyped-call]
# The classic text format (0.0.4), which every Prometheus reads; 1.0.0 only adds UTF-8 names
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# A method label takes one of these, else `other`: a client cannot add label values at will
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
# The route label of a request no route matched (a 404 for a path nobody serves): one value,
# whatever was asked, so a scan of made-up paths adds no series
UNMATCHED = "unmatched"
# From a probe's milliseconds to an upload's or a sweep's minute or two
DURATION_BUCKETS_S = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


class Metrics:
    """The process's registry and the metrics it keeps itself; `version`: the code's."""

    def __init__(self, version: str) -> None:
        self.registry = CollectorRegistry()
        self._requests = Counter(
            "homeward_http_requests",
            "HTTP requests answered by this process, by method, route template and status",
            ["method", "route", "status"],
            registry=self.registry,
        )
        self._duration = Histogram(
            "homeward_http_request_duration_seconds",
            "Time from a request's arrival to its answer's last byte, by method and route template",
            ["method", "route"],
            buckets=DURATION_BUCKETS_S,
            registry=self.registry,
        )
        self._runs_finished = Counter(
            "homeward_runs_finished",
            "Runs this process ended (or closed as interrupted), by kind and status",
            ["kind", "status"],
            registry=self.registry,
        )
        for kind in KINDS:  # every pair from 0, so the first of each is an increase
            for status in ENDED:
                self._runs_finished.labels(kind, status)
        Info("homeward_build", "The code's version", registry=self.registry).info(
            {"version": version}
        )
        ProcessCollector(registry=self.registry)  # memory, CPU, open files (Linux)
        PlatformCollector(registry=self.registry)  # python_info

    def run_finished(self, kind: str, status: str) -> None:
        """Count a run of `kind` that ended with `status` (homeward.run_events calls it)."""
        self._runs_finished.labels(kind, status).inc()

    def request_answered(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count a request and time it; `route` a template, never the path sent."""
        method = method if method in METHODS else OTHER_METHOD
        self._requests.labels(method, route, str(status)).inc()
        self._duration.labels(method, route).observe(seconds)

    def exposition(self, runs: RunsNow | None) -> bytes:
        """The text format of every metric; `runs` None: the runs table could not be read."""
        return generate_latest(self.registry) + generate_latest(_RunsTable(runs))


class _RunsTable:
    """The gauges read from the runs table at a scrape, and whether it could be read."""

    def __init__(self, runs: RunsNow | None) -> None:
        self._runs = runs

    def collect(self) -> Iterable[Metric]:
        yield _gauge(
            "homeward_database_readable",
            "1 if this scrape read the runs table within HOMEWARD_READYZ_TIMEOUT_S; 0 if not, "
            "and the homeward_pipeline_* and homeward_runs_in_progress gauges are left out",
            0 if self._runs is None else 1,
        )
        if self._runs is None:
            return
        ended = self._runs.pipeline_ended_at
        yield _gauge(
            "homeward_pipeline_last_success_timestamp_seconds",
            "Unix time the newest pipeline run that succeeded ended (0: none has)",
            _unix(ended.get("succeeded")),
        )
        yield _gauge(
            "homeward_pipeline_last_finished_timestamp_seconds",
            "Unix time the newest pipeline run to end (succeeded, forecast_only, failed, "
            "skipped or interrupted) ended (0: none has)",
            max((_unix(at) for at in ended.values()), default=0.0),
        )
        unfinished = GaugeMetricFamily(
            "homeward_runs_in_progress",
            "Runs queued or running now, in every process sharing the database, by kind and status",
            labels=["kind", "status"],
        )
        for kind in KINDS:
            for status in UNFINISHED:
                unfinished.add_metric([kind, status], self._runs.unfinished.get((kind, status), 0))
        yield unfinished


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


def _unix(moment: datetime | None) -> float:
    return 0.0 if moment is None else as_utc(moment).timestamp()


def route_template(scope: Scope, mounted: str | None) -> str:
    """The path template of the route the router chose for `scope` (`/v1/forecasts/
    {series_id}`), which it records in `scope["route"]`, the route that answered a 405
    included; else `mounted`, the prefix of the mount the path is under (`/static`: FastAPI's
    router does not record a mount); UNMATCHED if none (a 404 for a path no route has, a
    CORS preflight answered before routing)."""
    path = getattr(scope.get("route"), "path", None)
    if isinstance(path, str):
        return path
    return UNMATCHED if mounted is None else mounted


def mount_of(scope: Scope, routes: Iterable[BaseRoute]) -> str | None:
    """The prefix of the first mount whose path `scope` is under, asked before the mount
    handles it (which moves its prefix into the scope's root_path)."""
    mounts = (r for r in routes if isinstance(r, Mount))
    return next((m.path for m in mounts if m.matches(scope)[0] is not Match.NONE), None)


class RequestMetrics:
    """Counts and times every HTTP request into `metrics`, by its route's template. Timed
    from arrival to the answer's last byte, as the access log times it; a request that sent
    no answer is counted as the access log writes it (499 if its client left, else 500)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, routes: Sequence[BaseRoute]) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes  # the app's own list, filled as routes are added

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        mounted = mount_of(scope, self.routes)

        def counted(status: int, seconds: float) -> None:
            route = route_template(scope, mounted)
            self.metrics.request_answered(scope["method"], route, status, seconds)

        await answered(self.app, scope, receive, send, counted)
