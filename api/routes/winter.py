"""Winter pressure: each series' forecast for November to March over its trailing annual mean."""

from __future__ import annotations

from fastapi import APIRouter

from api.deps import AuthFirstRoute, SessionDep, allowed
from api.errors import NotFound, error_responses
from api.schemas import WinterIndexPublic, WinterPointPublic
from forecast import winter_index
from homeward import repository
from homeward.roles import Action

router = APIRouter(prefix="/v1", tags=["winter"], route_class=AuthFirstRoute)


@router.get(
    "/winter/{series_id:path}",
    response_model=WinterIndexPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404),
)
def get_winter_index(series_id: str, session: SessionDep) -> WinterIndexPublic:
    """The winter index of one series from its newest forecast (1.0 = a normal period)."""
    forecast = repository.latest_forecast_frame(session, series_id)
    forecast = forecast[forecast["unique_id"] == series_id]
    if forecast.empty:
        raise NotFound(f"no forecast for series {series_id!r}; GET /v1/series lists the series")
    index = winter_index(forecast, repository.load_observations(session, [series_id]))
    points = [
        WinterPointPublic(
            ds=rec["ds"], index=None if rec["index"] != rec["index"] else rec["index"]
        )
        for rec in index[["ds", "index"]].to_dict("records")
    ]
    peak = max((p.index for p in points if p.index is not None), default=None)
    return WinterIndexPublic(series_id=series_id, points=points, peak=peak)
