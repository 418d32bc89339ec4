"""Domain errors raised by the forecasting engine."""

from __future__ import annotations


class ForecastInputError(ValueError):
    """Bad input history or settings; the message names series, column, expected and found."""

    def __init__(self, message: str, *, series_id: str | None = None, column: str | None = None):
        super().__init__(message)
        self.series_id = series_id
        self.column = column


class ModelFitError(RuntimeError):
    """A model could not be fitted or predicted on one series (caught, recorded as a fallback)."""


class HistoryTooShort(ModelFitError):
    """A model needs a longer history than the series has: expected of a short series, so a
    run's summary tells it apart from a model that failed (fallback kind "too_short")."""
