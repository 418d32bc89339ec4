"""Training-window variants: 'ses@36' is SES fitted on the last 36 periods only."""

from __future__ import annotations

from collections.abc import Sequence

from forecast.models.base import Forecaster, Prediction
from forecast.series import SeriesData


class Windowed:
    """Wraps a model so it sees only the most recent `periods` of history (older regimes dropped).

    Listing 'ses' and 'ses@36' side by side lets the backtest choose the training window.
    """

    def __init__(self, inner: Forecaster, periods: int) -> None:
        self.name = f"{inner.name}@{periods}"
        self.accepts_missing = bool(getattr(inner, "accepts_missing", False))
        self._inner = inner
        self._periods = periods

    def fit(self, series: SeriesData) -> Windowed:
        self._inner = self._inner.fit(series.tail(self._periods))
        return self

    def predict(self, horizon: int, levels: Sequence[int]) -> Prediction:
        return self._inner.predict(horizon, levels)
