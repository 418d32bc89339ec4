"""Winter pressure: each series' forecast for November to March over its trailing annual mean."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import pandas as pd
from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import AuthFirstRoute, SessionDep, allowed
from api.errors import NotFound, error_responses
from api.routes.series import (
    RUN_NOT_FORECAST,
    SERIES_ID_REFUSED,
    RunIdQuery,
    SeriesIdPath,
    no_forecast,
    no_forecast_in_run,
)
from api.schemas import WinterIndexPublic, WinterPointPublic
from forecast import winter_index
from forecast.notes import lacks_season, seasonless_note, under_three_seasons
from forecast.series import SEASON_LENGTH, SeriesData
from homeward import planning, repository
from homeward.ingest import frequency_of
from homeward.roles import Action
from models import ForecastMetricRow, SeriesRow

router = APIRouter(prefix="/v1", tags=["winter"], route_class=AuthFirstRoute)


@router.get(
    "/winter/{series_id:path}",
    operation_id="get_winter_index",
    response_model=WinterIndexPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422, said={404: RUN_NOT_FORECAST, 422: SERIES_ID_REFUSED}),
)
def get_winter_index(
    series_id: SeriesIdPath, session: SessionDep, run_id: RunIdQuery = None
) -> WinterIndexPublic:
    """The winter index of one series from its newest forecast (1.0 = a normal period);
    `run_id`: from that run's forecast instead, whether or not it has ended (over the
    history as stored now)."""
    if not series_id.strip("/"):
        raise NotFound(
            "no series id: GET /v1/winter/{series_id} serves one series' winter index "
            "(GET /v1/series lists them), GET /v1/winter.csv every series' at once",
            "no_such_route",
        )
    forecast = repository.latest_forecast_frame(session, series_id, run_id)
    forecast = forecast[forecast["unique_id"] == series_id]
    if forecast.empty and run_id is not None:
        raise no_forecast_in_run(session, run_id, series_id, exact=True)
    if forecast.empty:
        raise no_forecast(series_id, session.get(SeriesRow, series_id))
    history = repository.load_observations(session, [series_id])
    if history.empty:
        history = _summed_history(session, series_id)
    index = winter_index(forecast, history)
    points = [
        WinterPointPublic(
            ds=rec["ds"], index=None if rec["index"] != rec["index"] else rec["index"]
        )
        for rec in index[["ds", "index"]].to_dict("records")
    ]
    peak = max((p.index for p in points if p.index is not None), default=None)
    run_id = int(forecast["run_id"].iloc[0])
    notes = (
        planning.seasonless(session, series_id, history, forecast, run_id),
        _under_a_year(history),
    )
    warning = "; ".join(n for n in notes if n) or None
    return WinterIndexPublic(
        series_id=series_id, points=points, peak=peak, warning=warning, run_id=run_id
    )


@dataclass(frozen=True)
class _Extent:
    """What a winter index's warning reads of a history: how many periods it has, its first
    and last period's start, and its frequency (W-MON or MS), not its values."""

    periods: int
    first: pd.Timestamp
    last: pd.Timestamp
    freq: str

    def shape(self, series_id: str) -> SeriesData:
        """A stand-in SeriesData of this length and frequency for forecast.notes, whose
        season notes read only those (its values are NaN: never read)."""
        ds = pd.date_range(self.first, periods=self.periods, freq=self.freq)
        return SeriesData(series_id, ds, np.full(self.periods, np.nan), self.freq)


def _under_a_year(history: pd.DataFrame) -> str | None:
    """Why the index's base is not a year's mean, when the history is shorter than a year:
    the index then compares the forecast with those few periods, so growth over them reads
    as winter pressure in every period."""
    ds = pd.to_datetime(history["ds"])
    if ds.empty:
        return None
    return _under_a_year_of(_Extent(len(ds), ds.min(), ds.max(), frequency_of(ds)))


def _under_a_year_of(extent: _Extent) -> str | None:
    """`_under_a_year` from a history's extent alone."""
    # a year is 12 months or 52 weeks, as the base of `forecast.winter_index` counts one
    if extent.periods >= SEASON_LENGTH[extent.freq]:
        return None
    return (
        f"the history is under a year ({extent.periods} periods, {extent.first:%Y-%m-%d} to "
        f"{extent.last:%Y-%m-%d}): the index is over their mean, not a year's, so a level that "
        "has moved since they began reads above (or below) 1 in every period, winter or not"
    )


def winter_frame(session: Session, forecast: pd.DataFrame) -> pd.DataFrame:
    """unique_id, ds, winter_index, warning, run_id: GET /v1/winter/{series_id}'s points for
    every series in `forecast` (the newest forecasts, or one run's, as
    `repository.latest_forecast_frame` gives them), by series then period; NaN where a point's
    index is null; each row's `warning` its series' `warning` there, empty when none; `run_id`
    the run whose forecast it is of.

    Team and area totals are in it: their districts' histories are summed as the per-series
    route sums them, but from one read of the config and one query for every total, not one
    of each per total. A
    series with neither a history nor districts under the active config (a total whose config
    has since changed) is left out: it has no base to divide by, and the per-series route
    gives a 404 that says why."""
    if forecast.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "winter_index", "warning", "run_id"])
    ids = list(forecast["unique_id"].unique())
    history = repository.load_observations(session, ids, after=_year_before_newest(session, ids))
    total_ids = sorted(set(ids) - set(history["unique_id"]))
    leaves = _total_leaves(session, total_ids)
    totals = _summed_histories(session, leaves, recent=True)
    history = pd.concat([history, *totals.values()], ignore_index=True)
    known = forecast[forecast["unique_id"].isin(set(history["unique_id"]))]
    index = winter_index(known, history).rename(columns={"index": "winter_index"})
    warnings = _warnings(session, known, _extents(session, ids, leaves))
    runs = known.drop_duplicates("unique_id").set_index("unique_id")["run_id"]
    return index.assign(
        warning=index["unique_id"].map(warnings), run_id=index["unique_id"].map(runs)
    )


def _extents(session: Session, ids: list[str], leaves: dict[str, list[str]]) -> dict[str, _Extent]:
    """Each of `ids`' history extents, from the series table alone (one query, no
    observations): a stored series' own; a total's (`leaves`: its districts) the periods
    every one of its districts has, from the latest first period to the earliest last, as
    imports refuse gaps (what `_sum_of` keeps). A total whose districts share no period has
    none."""
    own = set(ids)
    wanted = own | {x for under in leaves.values() for x in under}
    rows = {r.id: r for r in session.scalars(select(SeriesRow).where(SeriesRow.id.in_(wanted)))}
    extents = {
        r.id: _Extent(r.n_obs, pd.Timestamp(r.first_ds), pd.Timestamp(r.last_ds), r.freq)
        for r in rows.values()
        if r.id in own
    }
    for total_id, under in leaves.items():
        found = [rows[x] for x in under if x in rows]
        if not found:
            continue
        first = max(pd.Timestamp(r.first_ds) for r in found)
        last = min(pd.Timestamp(r.last_ds) for r in found)
        periods = len(pd.date_range(first, last, freq=found[0].freq))
        if periods:
            extents[total_id] = _Extent(periods, first, last, found[0].freq)
    return extents


def _warnings(
    session: Session, forecast: pd.DataFrame, extents: dict[str, _Extent]
) -> dict[str, str]:
    """GET /v1/winter/{series_id}'s `warning` of each series of `forecast` that has one
    (`planning.seasonless`, then `_under_a_year`), from `extents`; the models each short
    series' forecast run backtested are read for every short series in one query."""
    chosen = forecast.groupby("unique_id")["model"].first()
    shapes = {uid: extents[uid].shape(uid) for uid in chosen.index if uid in extents}
    short = [uid for uid, shape in shapes.items() if under_three_seasons(shape)]
    runs = forecast.groupby("unique_id")["run_id"].first()
    candidates = _backtested_models(session, {uid: int(runs[uid]) for uid in short})
    warnings = {}
    for uid, shape in shapes.items():
        seasonless = lacks_season(shape, str(chosen[uid]), candidates.get(uid, ()))
        notes = (seasonless_note(shape) if seasonless else None, _under_a_year_of(extents[uid]))
        warning = "; ".join(n for n in notes if n)
        if warning:
            warnings[uid] = warning
    return warnings


def _backtested_models(session: Session, runs: dict[str, int]) -> dict[str, Sequence[str]]:
    """The models each series of `runs` was backtested on in its run there (the run whose
    forecast its index is of), by id, in one query."""
    if not runs:
        return {}
    stmt = select(
        ForecastMetricRow.series_id, ForecastMetricRow.run_id, ForecastMetricRow.model
    ).where(
        ForecastMetricRow.series_id.in_(list(runs)),
        ForecastMetricRow.run_id.in_(set(runs.values())),
    )
    models: dict[str, list[str]] = {}
    for series_id, run_id, model in session.execute(stmt.order_by(ForecastMetricRow.model)):
        if runs[series_id] == run_id:
            models.setdefault(series_id, []).append(model)
    return dict(models)


def _summed_history(session: Session, total_id: str) -> pd.DataFrame:
    """A team or area total's history: its districts' observations added up, on the weeks
    every one of them has (a total has no history of its own; its forecast is theirs summed)."""
    summed = _summed_histories(session, _total_leaves(session, [total_id]))
    if total_id not in summed:
        raise NotFound(
            f"no history for series {total_id!r}, and the active config makes it no total of "
            "stored district series; GET /v1/series lists the series"
        )
    return summed[total_id]


def _total_leaves(session: Session, total_ids: list[str]) -> dict[str, list[str]]:
    """The stored district series each of `total_ids` adds up under the active config, by id,
    from one read of the config; an id it makes no total of stored districts is left out."""
    if not total_ids:
        return {}
    row = repository.active_config(session)
    config = planning.read_active(row) if row is not None else None
    referrals = [s.id for s in repository.list_series(session, planning.REFERRALS_PREFIX)]
    tree = planning.referral_hierarchy(config, referrals) if config is not None else {}
    leaves = {t: sorted(planning.leaves_under(tree, t)) for t in total_ids}
    return {t: under for t, under in leaves.items() if under}


def _summed_histories(
    session: Session, leaves: dict[str, list[str]], recent: bool = False
) -> dict[str, pd.DataFrame]:
    """Each total's history as `_summed_history` gives it, by id, from one read of the
    districts' observations (`leaves`: each total's districts, `_total_leaves`). `recent`:
    only the year the winter index's base needs (see `_year_before_newest`)."""
    if not leaves:
        return {}
    districts = sorted({x for u in leaves.values() for x in u})
    after = _year_before_newest(session, districts) if recent else None
    frame = repository.load_observations(session, districts, after=after)
    wide = frame.pivot(index="ds", columns="unique_id", values="y")
    return {t: _sum_of(wide, t, under) for t, under in leaves.items()}


def _year_before_newest(session: Session, ids: list[str]) -> datetime | None:
    """A year before the oldest of `ids`' newest observations: the winter index's base is the
    year up to each series' newest, so nothing older is read (a CSV of thousands of series
    read every history whole). A total's newest is its districts' oldest newest, as imports
    refuse gaps, so its base lies after this too. None when no id is a stored series."""
    newest = session.scalars(select(func.min(SeriesRow.last_ds)).where(SeriesRow.id.in_(ids)))
    oldest_newest = newest.one_or_none()
    if oldest_newest is None:
        return None
    return (pd.Timestamp(oldest_newest) - pd.DateOffset(years=1)).to_pydatetime()


def _sum_of(wide: pd.DataFrame, total_id: str, leaves: list[str]) -> pd.DataFrame:
    """unique_id, ds, y: the `leaves` columns of `wide` added up where every one has a value."""
    summed = wide.reindex(columns=leaves).sum(axis=1, min_count=len(leaves)).dropna()
    return pd.DataFrame({"unique_id": total_id, "ds": summed.index, "y": summed.to_numpy()})
