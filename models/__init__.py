"""Persistent data model: SQLAlchemy 2 tables for observations, runs, forecasts and plans."""

from models.base import Base
from models.tables import (
    ForecastMetricRow,
    ForecastRow,
    ImportRow,
    LockRow,
    ObservationRow,
    PlanningConfigRow,
    PlanRow,
    RunRow,
    SeriesRow,
)

__all__ = [
    "Base",
    "ForecastMetricRow",
    "ForecastRow",
    "ImportRow",
    "LockRow",
    "ObservationRow",
    "PlanRow",
    "PlanningConfigRow",
    "RunRow",
    "SeriesRow",
]
