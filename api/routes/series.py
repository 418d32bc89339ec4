"""Series and their forecasts, for dashboards."""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session, sessionmaker

from api.deps import MAX_ID, ActorDep, AuthFirstRoute, FactoryDep, SessionDep, allowed
from api.errors import (
    Conflicts,
    InProgress,
    NotFound,
    error_responses,
    no_route,
    refused_unless_role,
)
from api.paging import LINK_HEADER, NEXT_LINK, TOTAL_COUNT_HEADER, send_next, send_total
from api.routes.runs import refuse_while_a_run_holds_the_lock
from api.schemas import (
    ForecastPointPublic,
    ForecastPublic,
    LevelShiftPublic,
    ModelMetricsPublic,
    SeriesDeletedPublic,
    SeriesKind,
    SeriesManyDeletedPublic,
    SeriesOneDeletedPublic,
    SeriesPublic,
)
from homeward import planning, repository
from homeward.ingest import EXPECTED_ID, MAX_SERIES_ID, SERIES_ID_PATTERN, found_id
from homeward.pipeline import LOCK_NAME, lease_kept
from homeward.recovery import as_utc, lock_holder
from homeward.roles import Action
from homeward.storage import transaction
from models import RunRow, SeriesRow
from optimise.config import ConfigValueError

router = APIRouter(prefix="/v1", tags=["series"], route_class=AuthFirstRoute)


MAX_SERIES_PAGE = 10_000
# What a series id in a path must be: what an upload stores (homeward.ingest), so an id no
# series can have (capitals, a control character, 300 characters) is told how ids are written
SERIES_ID_EXPECTED = f"{EXPECTED_ID}: the pattern {SERIES_ID_PATTERN.pattern}"


def series_id_path(
    request: Request,
    series_id: Annotated[
        str,
        Path(
            description="a series id from GET /v1/series, e.g. referrals/ot/rugby; its slashes "
            "may be sent as they are or as %2F. One that no series can have (capitals, other "
            "characters, over 200 characters) is a 422 naming the pattern; a trailing slash "
            "is a 404 `no_such_route` naming the path without it",
            examples=["referrals/ot/rugby"],
            json_schema_extra={"pattern": SERIES_ID_PATTERN.pattern, "maxLength": MAX_SERIES_ID},
        ),
    ],
) -> str:
    """The series id of a path (a dependency). `{series_id:path}` matches a trailing slash,
    which was looked up as part of the id (`no series 'referrals/ot/rugby/'`): it is a 404
    `no_such_route` naming the path without it, as on every other route. An id that cannot
    be a series id is a 422 at path/series_id, as `?prefix=` is. No id at all is left to the
    route, which says where its series are."""
    if not series_id.strip("/"):
        return series_id
    if series_id.endswith("/"):
        raise NotFound(no_route(request), "no_such_route")
    if len(series_id) > MAX_SERIES_ID or not SERIES_ID_PATTERN.fullmatch(series_id):
        refused = ConfigValueError("series_id", (), SERIES_ID_EXPECTED, found_id(series_id))
        problem = {
            "type": "value_error",
            "loc": ("path", "series_id"),
            "msg": str(refused),
            "input": series_id,
            "ctx": {"error": refused},
        }
        raise RequestValidationError([problem])
    return series_id


# A series id holds slashes; a client may send them as they are or encoded (%2F).
SeriesIdPath = Annotated[str, Depends(series_id_path)]
# the 422 of a route taking a series id in its path
SERIES_ID_REFUSED = (
    "Invalid input: a series id no series can have (`problems` names the pattern: lower-case "
    "parts of a-z 0-9 _ . - joined by '/', at most 200 characters), or a query parameter the "
    "endpoint does not take (`problems` names it, with the nearest one it does take)"
)

# Which run's forecasts a forecast route serves: the newest by default; a dashboard pins a
# chart to the run behind a plan, or sets last week's forecast beside this week's.
RunIdQuery = Annotated[
    int | None,
    Query(
        ge=1,
        le=MAX_ID,
        description="serve this run's forecasts (an id from GET /v1/runs, a forecast's "
        "`run_id`, or one of a plan's `result.forecast_run_ids`: the newest of them that "
        "forecast the series made the forecast the plan read) instead of the newest served "
        "run's; "
        "a run still queued or running is served as asked, its forecasts as far as it has "
        "stored them; a run with no forecast of the series is a 404 `no_forecast_in_run` "
        "naming the runs that have one",
    ),
]

# The 404 of a forecast route asked for a run's forecasts
RUN_NOT_FORECAST = (
    "nothing found: the detail says what was looked for and where to find what there is; "
    "with `run_id`, no such run, or one with no forecast of the series (or of any under the "
    "prefix): `no_forecast_in_run`, naming the newest runs that have one"
)


def no_forecast_in_run(session: Session, run_id: int, prefix: str, exact: bool) -> NotFound:
    """Why run `run_id` has no forecast of series `prefix` (`exact`) or of any under it: there
    is no such run, or it forecast none; the detail names the newest runs that did."""
    what = f"series {prefix!r}" if exact else f"a series whose id starts with {prefix!r}"
    run = session.get(RunRow, run_id)
    found = (
        f"no run {run_id}"
        if run is None
        else f"run {run_id} ({run.kind}, {run.status}), which made none"
        + (" yet" if run.status in ("queued", "running") else "")
    )
    others = repository.runs_forecasting(session, prefix, exact)
    instead = (
        f"the runs that did, newest first: {', '.join(map(str, others))}"
        if others
        else "no run has (GET /v1/series lists the series)"
    )
    return NotFound(
        f"expected a run with a forecast of {what}, found {found}; {instead}",
        "no_forecast_in_run",
    )


# The 200 of GET /v1/series: ordered by id, not newest first like the other paged lists.
SERIES_PAGE_RESPONSES: dict[int | str, dict[str, object]] = {
    200: {
        "description": "the series by id, all of them or the page asked for",
        "headers": {
            TOTAL_COUNT_HEADER: {
                "description": "how many series match `prefix` and `kind`, whatever `limit` "
                "and `offset` (a page is the last when `offset` + its length reaches it, and "
                'then has no `Link` rel="next")',
                "required": True,
                "schema": {"type": "integer", "minimum": 0},
            },
            LINK_HEADER: NEXT_LINK,
        },
    }
}


@router.get(
    "/series",
    operation_id="list_series",
    response_model=list[SeriesPublic],
    dependencies=[allowed(Action.READ)],
    responses=SERIES_PAGE_RESPONSES | error_responses(422),
)
def list_series(
    session: SessionDep,
    request: Request,
    response: Response,
    prefix: Annotated[
        str | None,
        Query(
            max_length=200, pattern=r"^[a-z0-9_./-]*$", description="only ids starting with this"
        ),
    ] = None,
    kind: Annotated[
        SeriesKind | None,
        Query(description="only observed series (with history) or only totals; default both"),
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=MAX_SERIES_PAGE, description="at most this many; default every match"),
    ] = None,
    offset: Annotated[
        int, Query(ge=0, le=MAX_SERIES_PAGE * 100, description="skip this many, in id order")
    ] = 0,
) -> list[SeriesPublic]:
    """Every series with a stored history or forecast, by id: its kind, frequency and extent.

    Totals (`kind: total`) have a forecast (GET /v1/forecasts) but no history, so their
    `first_ds` and `last_ds` are null and `n_obs` is 0; `members` names the series each
    one's forecast sums (recorded by the run that made it), whose histories add up to its.
    The `X-Total-Count` header says how many match; `limit` and `offset` page through them
    in id order (a county's every authority and service can run to thousands); the `Link`
    header gives the next page until the last."""
    found: list[SeriesPublic] = []
    runs = repository.newest_forecast_runs(session, prefix)
    if kind != "total":
        sources = repository.newest_import_sources(session, prefix)
        found += [_observed(row, sources, runs) for row in repository.list_series(session, prefix)]
    if kind != "observed":
        totals = repository.list_forecast_only_series(session, prefix)
        districts = (
            repository.newest_import_sources(session, planning.REFERRALS_PREFIX) if totals else {}
        )
        served = {t.id: runs[t.id] for t in totals if t.id in runs}
        members = repository.total_members(session, served)
        found += [_total(s, runs, districts, members) for s in totals]
    send_total(response, len(found))
    ordered = sorted(found, key=lambda s: s.id)
    end = None if limit is None else offset + limit
    if end is not None and end < len(ordered):
        send_next(response, request, {"offset": end})
    return ordered[offset:end]


def _observed(row: SeriesRow, sources: dict[str, str], runs: dict[str, int]) -> SeriesPublic:
    return SeriesPublic(
        id=row.id,
        kind="observed",
        freq=row.freq,
        first_ds=row.first_ds,
        last_ds=row.last_ds,
        n_obs=row.n_obs,
        source=sources.get(row.id),
        forecast_run_id=runs.get(row.id),
        members=None,
    )


def _total(
    series: repository.ForecastOnlySeries,
    runs: dict[str, int],
    sources: dict[str, str],
    members: dict[str, list[str]],
) -> SeriesPublic:
    return SeriesPublic(
        id=series.id,
        kind="total",
        freq=series.freq,
        first_ds=None,
        last_ds=None,
        n_obs=0,
        source=_total_source(series.id, sources),
        forecast_run_id=runs.get(series.id),
        members=members.get(series.id),
    )


def _total_source(total_id: str, sources: dict[str, str]) -> str | None:
    """`synthetic demo` for a team or area total of a service (`referrals_team/ot/north`,
    `referrals_area/ot`) when every stored district series of that service
    (`referrals/ot/...`), and so every one it can add up, holds the synthetic demo's history,
    so a total of invented figures is labelled as they are; None otherwise. `sources` is
    `newest_import_sources` of the district series."""
    prefix, _, rest = total_id.partition("/")
    if f"{prefix}/" not in (planning.TEAM_PREFIX, planning.AREA_PREFIX):
        return None
    service = rest.split("/")[0]
    members = [
        v for k, v in sources.items() if k.startswith(f"{planning.REFERRALS_PREFIX}{service}/")
    ]
    synthetic = members and all(v == repository.SYNTHETIC_DEMO_SOURCE for v in members)
    return repository.SYNTHETIC_DEMO_SOURCE if synthetic else None


@router.get(
    "/series/{series_id:path}",
    operation_id="get_series",
    response_model=SeriesPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422, said={422: SERIES_ID_REFUSED}),
)
def get_series(series_id: SeriesIdPath, session: SessionDep) -> SeriesPublic:
    """One series, as GET /v1/series lists it (a dashboard's link to a series answered 405
    'allowed: DELETE' before, and `/v1/series/` with a slash the same)."""
    if not series_id.strip("/"):
        raise NotFound(
            "no series id: GET /v1/series lists the series, /v1/series/{id} one", "no_such_route"
        )
    row = session.get(SeriesRow, series_id)
    runs = repository.newest_forecast_runs(session, series_id)  # ids under it
    if row is not None:
        return _observed(row, repository.newest_import_sources(session, series_id), runs)
    totals = repository.list_forecast_only_series(session, series_id)  # ids under it
    if (total := next((t for t in totals if t.id == series_id), None)) is not None:
        sources = repository.newest_import_sources(session, planning.REFERRALS_PREFIX)
        members = repository.total_members(session, {series_id: runs.get(series_id, 0)})
        return _total(total, runs, sources, members)
    raise NotFound(f"no series {series_id!r}; GET /v1/series lists the series")


def no_forecast(series_id: str, stored: SeriesRow | None) -> NotFound:
    """Why a series has no forecast: stored but not forecast since it arrived, or unknown."""
    if stored is not None:
        return NotFound(
            f"no forecast for series {series_id!r} yet: its history is stored, but no pipeline "
            "run has forecast it since it arrived (or the newest run left it out: GET /v1/runs "
            "says why); POST /v1/runs forecasts it now, or the weekly schedule will",
            "not_forecast_yet",
        )
    return NotFound(f"no forecast for series {series_id!r}; GET /v1/series lists the series")


@router.get(
    "/forecasts/{series_id:path}",
    operation_id="get_forecast",
    response_model=ForecastPublic,
    response_model_by_alias=True,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422, said={404: RUN_NOT_FORECAST, 422: SERIES_ID_REFUSED}),
)
def get_forecast(
    series_id: SeriesIdPath, session: SessionDep, run_id: RunIdQuery = None
) -> ForecastPublic:
    """The newest forecast of one series: mean, 80%/95% intervals, every model's backtest, and
    the level shifts found in its history. A run's forecasts are served once it is no longer
    queued or running, so they match the latest plan while the run is still working.
    `run_id` serves that run's forecast instead (an earlier week's beside this week's, or
    the run a plan read), whether or not it has ended."""
    if not series_id.strip("/"):
        raise NotFound(
            "no series id: GET /v1/forecasts/{series_id} serves one series' forecast "
            "(GET /v1/series lists them), GET /v1/forecasts.csv every forecast at once",
            "no_such_route",
        )
    found = repository.latest_forecast(session, series_id, run_id)
    stored = session.get(SeriesRow, series_id)
    if found is None and run_id is not None:
        raise no_forecast_in_run(session, run_id, series_id, exact=True)
    if found is None:
        raise no_forecast(series_id, stored)
    run, rows, metrics = found
    changed = None if stored is None else as_utc(stored.updated_at) > as_utc(run.started_at)
    return ForecastPublic(
        series_id=series_id,
        run_id=run.id,
        model=rows[0].model if rows else "",
        points=[
            ForecastPointPublic(
                ds=r.ds, mean=r.mean, lo_80=r.lo_80, hi_80=r.hi_80, lo_95=r.lo_95, hi_95=r.hi_95
            )
            for r in rows
        ],
        backtest=[
            ModelMetricsPublic(model=m.model, chosen=m.chosen, metrics=m.metrics, members=m.members)
            for m in metrics
        ],
        level_shifts=[
            LevelShiftPublic.model_validate(s)
            for s in repository.level_shifts(session, run.id, series_id)
        ],
        history_changed=changed,
    )


@router.delete(
    "/series/{series_id:path}",
    operation_id="delete_series",
    response_model=SeriesOneDeletedPublic,
    dependencies=[allowed(Action.UPLOAD)],
    responses={
        **error_responses(
            404,
            409,
            422,
            said={
                422: SERIES_ID_REFUSED,
                404: "no series with this id, stored or forecast (GET /v1/series lists both)",
                409: "the active config plans from this series (a district's referrals, or its "
                "winter pressure series): store a config without it first; or a pipeline run "
                "is in progress (it would store the series' forecasts again): the detail names "
                "it, delete when it has finished; or the active config cannot be read, so "
                "which series it plans from is unknown: the detail says why",
            },
        ),
        **refused_unless_role(Action.UPLOAD),
    },
)
def delete_series(
    series_id: SeriesIdPath, session: SessionDep, factory: FactoryDep, actor: ActorDep
) -> SeriesOneDeletedPublic:
    """Delete a series uploaded by mistake (a misspelt district, a service and district
    swapped): its history and every run's forecasts, metrics and level shifts of it, in one
    transaction. Otherwise such a series is forecast in every run and listed for good. The
    next pipeline run leaves it out. The totals listing it as a member go with it
    (`dependent_totals`). A series the active config plans from is refused (409),
    since deleting it would stop the plan; correct one with an upload (`?replace=true`); so
    is a delete while a pipeline run is in progress, which would forecast the series again."""
    if series_id in planned_or_refuse(session):
        active = repository.active_config(session)
        name = "" if active is None else f" {active.name!r}"
        raise Conflicts(
            f"expected a series the active config{name} does not plan from, found "
            f"{series_id!r}, which it does: store a config without it first (POST /v1/configs), "
            "or correct its history with POST /v1/observations?replace=true",
            "series_in_use",
        )
    if session.get(SeriesRow, series_id) is None and not _forecast_only(session, series_id):
        raise NotFound(f"no stored series {series_id!r}; GET /v1/series lists the series")
    with _deleting(factory) as locked:
        dependents = planning.totals_listing(locked, [series_id])
        deleted = repository.delete_series(locked, series_id)
        totals = repository.delete_many_series(locked, list(dependents)) if deleted else []
        if deleted is not None:  # in the delete's transaction: recorded if, and only if, done
            _record_deleted(locked, actor, None, False, [deleted, *totals], dependents)
    if deleted is None:  # deleted by another request meanwhile
        raise NotFound(f"no stored series {series_id!r}; GET /v1/series lists the series")
    return SeriesOneDeletedPublic(
        **_one_deleted(deleted).model_dump(), dependent_totals=[t.series_id for t in totals]
    )


_NO_PREFIX = (
    "a prefix of the ids of the series to delete, e.g. referrals/ot/rugby or winter/ (GET "
    "/v1/series?prefix= lists what it matches), or synthetic=true for the synthetic demo's "
    "series: every stored series is never deleted at once"
)
_PLANNED = (
    "series the active config does not plan from: store a config without them first (POST "
    "/v1/configs), or correct their history with POST /v1/observations?replace=true"
)


@router.delete(
    "/series",
    operation_id="delete_series_by_prefix",
    response_model=SeriesManyDeletedPublic,
    dependencies=[allowed(Action.UPLOAD)],
    responses={
        **error_responses(
            404,
            409,
            422,
            said={
                404: "no stored series matches the prefix (and, with synthetic=true, holds the "
                "synthetic demo's history)",
                409: "the active config plans from some of them (a district's referrals, or "
                "its winter pressure series): the detail names them, and nothing is deleted; "
                "or a pipeline run is in progress: delete when it has finished; or the active "
                "config cannot be read, so which series it plans from is unknown",
                422: "no prefix (or an empty one) without synthetic=true, or a prefix that is "
                "not lower case a-z 0-9 _ . / -",
            },
        ),
        **refused_unless_role(Action.UPLOAD),
    },
)
def delete_series_by_prefix(
    session: SessionDep,
    factory: FactoryDep,
    actor: ActorDep,
    prefix: Annotated[
        str | None,
        Query(
            max_length=200,
            pattern=r"^[a-z0-9_./-]*$",
            description="delete the stored series whose id starts with this (required unless "
            "synthetic=true)",
        ),
    ] = None,
    synthetic: Annotated[
        bool,
        Query(
            description="only the series holding the synthetic demo's history (GET /v1/series "
            "lists them with source 'synthetic demo')"
        ),
    ] = False,
) -> SeriesManyDeletedPublic:
    """Delete every stored series under a prefix whole, as DELETE /v1/series/{series_id}
    deletes one, in one transaction: all of them or none. `synthetic=true` deletes only the
    synthetic demo's series (with no prefix, all of them), so a council that has stored its
    own config and data drops the demo's, which every run would otherwise forecast and warn
    of. The totals listing one of them as a member go with them (`dependent_totals`). A
    series the active config plans from is refused (409, naming them), as is a delete while
    a pipeline run is in progress."""
    _refuse_without_prefix(prefix, synthetic)
    prefix = prefix or None  # with synthetic=true, an empty prefix is none
    _refuse_unless_deletable(
        session, planning.series_to_delete(session, prefix, synthetic), prefix, synthetic
    )
    with _deleting(factory) as locked:
        repository.lock_observations(locked)  # matched again: an upload may have come since
        ids = planning.series_to_delete(locked, prefix, synthetic)
        _refuse_unless_deletable(locked, ids, prefix, synthetic)
        dependents = planning.totals_listing(locked, ids)
        deleted = repository.delete_many_series(locked, sorted([*ids, *dependents]))
        _record_deleted(locked, actor, prefix, synthetic, deleted, dependents)
    return _many_deleted(prefix, synthetic, deleted, dependents)


def _record_deleted(
    session: Session,
    actor: str,
    prefix: str | None,
    synthetic: bool,
    deleted: list[repository.DeletedSeries],
    dependents: Collection[str],
) -> None:
    """The audit trail's entry for a delete, in its transaction: who, the prefix asked for
    (null for one series by id), and each series deleted with its counts (the totals listing
    them among them, `dependent_totals`), as a prefix's delete answers."""
    answered = _many_deleted(prefix, synthetic, deleted, dependents).model_dump(mode="json")
    repository.record_audit(session, actor, "delete_series", **answered)


def _refuse_without_prefix(prefix: str | None, synthetic: bool) -> None:
    """No prefix (or an empty one) without synthetic=true is a 422 at query/prefix: deleting
    every stored series is not one request's slip away."""
    if prefix or synthetic:
        return
    found = "none" if prefix is None else "an empty prefix"
    error = ConfigValueError("prefix", (), _NO_PREFIX, found)
    raise RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": ("query", "prefix"),
                "msg": str(error),
                "input": None,
                "ctx": {"error": error},
            }
        ]
    )


def _many_deleted(
    prefix: str | None,
    synthetic: bool,
    deleted: list[repository.DeletedSeries],
    dependents: Collection[str],
) -> SeriesManyDeletedPublic:
    return SeriesManyDeletedPublic(
        prefix=prefix,
        synthetic=synthetic,
        series_deleted=len(deleted),
        observations_deleted=sum(d.observations for d in deleted),
        forecast_rows_deleted=sum(d.forecast_rows for d in deleted),
        series=[_one_deleted(d) for d in deleted],
        dependent_totals=[d.series_id for d in deleted if d.series_id in dependents],
    )


def _one_deleted(deleted: repository.DeletedSeries) -> SeriesDeletedPublic:
    return SeriesDeletedPublic(
        series_id=deleted.series_id,
        observations_deleted=deleted.observations,
        forecast_rows_deleted=deleted.forecast_rows,
    )


def _refuse_unless_deletable(
    session: Session, ids: list[str], prefix: str | None, synthetic: bool
) -> None:
    """404 when nothing matches, 409 naming the matches the active config plans from."""
    if not ids:
        under = f" under {prefix!r}" if prefix else ""
        what = "synthetic demo series" if synthetic else "stored series"
        raise NotFound(f"no {what}{under} to delete; GET /v1/series lists the series")
    planned = sorted(set(ids) & planned_or_refuse(session))
    if planned:
        active = repository.active_config(session)
        name = "" if active is None else f" {active.name!r}"
        raise Conflicts(
            f"expected {_PLANNED}, found {len(planned)} the active config{name} plans from: "
            + ", ".join(planned[:5])
            + (f" and {len(planned) - 5} more" if len(planned) > 5 else "")
            + "; nothing was deleted",
            "series_in_use",
        )


def planned_or_refuse(session: Session) -> frozenset[str]:
    """The series the active config plans from, which no delete may take (none with no config
    active); 409 when a config is active but cannot be read: which series it plans from is
    then unknown, and a delete could take them (it took them all, as if none were planned)."""
    active = repository.active_config(session)
    if active is None:
        return frozenset()
    try:
        return planning.series_planned_by(planning.read_active(active))
    except planning.ConfigUnreadable as exc:
        raise Conflicts(
            f"expected an active config that can be read, to know which series it plans from, "
            f"found config {active.id} that cannot: {exc}; store a valid config first (POST "
            "/v1/configs), then delete; nothing was deleted",
            "config_unreadable",
        ) from None


def _forecast_only(session: Session, series_id: str) -> bool:
    """Whether `series_id` is a forecast-only total (no history, a stored forecast)."""
    return any(t.id == series_id for t in repository.list_forecast_only_series(session, series_id))


# a delete's hold on the pipeline lock, renewed while it works; a process killed mid-delete
# leaves a lock that lapses this soon
DELETE_LEASE = timedelta(seconds=60)


@contextmanager
def _deleting(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction to delete series in, holding the pipeline's lock: a run starting meanwhile
    would have read their histories, and store their forecasts again after the delete. A run
    in progress is a 409."""
    holder = f"delete-series:{lock_holder()}"
    if not repository.acquire_lock(factory, LOCK_NAME, holder, DELETE_LEASE):
        refuse_while_a_run_holds_the_lock(factory)
        raise InProgress("expected no pipeline run in progress, found one starting", "/v1/runs")
    try:
        # renewed while it deletes (a prefix of a whole country's series may outlast a lease)
        with lease_kept(factory, holder, DELETE_LEASE), transaction(factory) as locked:
            yield locked
    finally:
        repository.release_lock(factory, LOCK_NAME, holder)
