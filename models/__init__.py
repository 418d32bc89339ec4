"""Persistent data model: SQLAlchemy 2 tables for observations, runs, forecasts, plans, keys."""

from models.base import Base
from models.tables import (
    ApiKeyRow,
    AuditEventRow,
    ForecastMetricRow,
    ForecastRow,
    ImportRow,
    LevelShiftRow,
    LockRow,
    ObservationRow,
    PlanningConfigRow,
    PlanRow,
    RunRow,
    SeriesRow,
)

__all__ = [
    "ApiKeyRow",
    "AuditEventRow",
    "Base",
    "ForecastMetricRow",
    "ForecastRow",
    "ImportRow",
    "LevelShiftRow",
    "LockRow",
    "ObservationRow",
    "PlanRow",
    "PlanningConfigRow",
    "RunRow",
    "SeriesRow",
]
