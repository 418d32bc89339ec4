"""Winter pressure: each series' forecast for November to March over its trailing annual mean."""

from __future__ import annotations

from datetime import datetime

import pandas as pd
from fastapi import APIRouter
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from api.deps import AuthFirstRoute, SessionDep, allowed
from api.errors import NotFound, error_responses
from api.routes.series import SeriesIdPath, no_forecast
from api.schemas import WinterIndexPublic, WinterPointPublic
from forecast import winter_index
from forecast.series import SEASON_LENGTH
from homeward import planning, repository
from homeward.ingest import frequency_of
from homeward.roles import Action
from models import SeriesRow
from optimise.config import PlanningConfig

router = APIRouter(prefix="/v1", tags=["winter"], route_class=AuthFirstRoute)


@router.get(
    "/winter/{series_id:path}",
    operation_id="get_winter_index",
    response_model=WinterIndexPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404),
)
def get_winter_index(series_id: SeriesIdPath, session: SessionDep) -> WinterIndexPublic:
    """The winter index of one series from its newest forecast (1.0 = a normal period)."""
    forecast = repository.latest_forecast_frame(session, series_id)
    forecast = forecast[forecast["unique_id"] == series_id]
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
    notes = (planning.seasonless(session, series_id, history, forecast), _under_a_year(history))
    warning = "; ".join(n for n in notes if n) or None
    return WinterIndexPublic(series_id=series_id, points=points, peak=peak, warning=warning)


def _under_a_year(history: pd.DataFrame) -> str | None:
    """Why the index's base is not a year's mean, when the history is shorter than a year:
    the index then compares the forecast with those few periods, so growth over them reads
    as winter pressure in every period."""
    ds = pd.to_datetime(history["ds"])
    # a year is 12 months or 52 weeks, as the base of `forecast.winter_index` counts one
    if ds.empty or len(ds) >= SEASON_LENGTH[frequency_of(ds)]:
        return None
    return (
        f"the history is under a year ({len(ds)} periods, {ds.min():%Y-%m-%d} to "
        f"{ds.max():%Y-%m-%d}): the index is over their mean, not a year's, so a level that "
        "has moved since they began reads above (or below) 1 in every period, winter or not"
    )


def winter_frame(session: Session, forecast: pd.DataFrame) -> pd.DataFrame:
    """unique_id, ds, winter_index: GET /v1/winter/{series_id}'s points for every series in
    `forecast` (newest forecasts, as `repository.latest_forecast_frame` gives them), by series
    then period; NaN where a point's index is null.

    Team and area totals are in it: their districts' histories are summed as the per-series
    route sums them, but from one read of the config and one query for every total, not one
    of each per total. A
    series with neither a history nor districts under the active config (a total whose config
    has since changed) is left out: it has no base to divide by, and the per-series route
    gives a 404 that says why."""
    if forecast.empty:
        return pd.DataFrame(columns=["unique_id", "ds", "winter_index"])
    ids = list(forecast["unique_id"].unique())
    history = repository.load_observations(session, ids, after=_year_before_newest(session, ids))
    totals = _summed_histories(session, sorted(set(ids) - set(history["unique_id"])), recent=True)
    history = pd.concat([history, *totals.values()], ignore_index=True)
    known = forecast[forecast["unique_id"].isin(set(history["unique_id"]))]
    return winter_index(known, history).rename(columns={"index": "winter_index"})


def _summed_history(session: Session, total_id: str) -> pd.DataFrame:
    """A team or area total's history: its districts' observations added up, on the weeks
    every one of them has (a total has no history of its own; its forecast is theirs summed)."""
    summed = _summed_histories(session, [total_id])
    if total_id not in summed:
        raise NotFound(
            f"no history for series {total_id!r}, and the active config makes it no total of "
            "stored district series; GET /v1/series lists the series"
        )
    return summed[total_id]


def _summed_histories(
    session: Session, total_ids: list[str], recent: bool = False
) -> dict[str, pd.DataFrame]:
    """Each of `total_ids`' histories as `_summed_history` gives it, by id, from one read of
    the config and one of the districts' observations; an id the active config makes no total
    of stored districts is left out. `recent`: only the year the winter index's base needs
    (see `_year_before_newest`)."""
    if not total_ids:
        return {}
    row = repository.active_config(session)
    config = PlanningConfig.model_validate(row.body) if row is not None else None
    referrals = [s.id for s in repository.list_series(session, planning.REFERRALS_PREFIX)]
    tree = planning.referral_hierarchy(config, referrals) if config is not None else {}
    leaves = {t: sorted(planning.leaves_under(tree, t)) for t in total_ids}
    leaves = {t: under for t, under in leaves.items() if under}
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
