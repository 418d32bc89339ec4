"""Outlier cleaning: isolated spikes replaced by a running median before fitting."""

from __future__ import annotations

import numpy as np
import pandas as pd

from forecast.series import SeriesData

WINDOW = 5  # periods in the centred running median
THRESHOLD = 4.0  # robust z-score (MAD units) beyond which a value is a spike


def cleaned(series: SeriesData) -> SeriesData:
    """Values further than THRESHOLD robust sds from the centred running median are replaced by
    it. Reporting errors in single months otherwise drag smoothed levels for a year."""
    y = pd.Series(series.y)
    median = y.rolling(WINDOW, center=True, min_periods=1).median()
    resid = y - median
    mad = float(np.nanmedian(np.abs(resid - np.nanmedian(resid)))) * 1.4826
    if not np.isfinite(mad) or mad == 0:
        return series
    spikes = (resid.abs() > THRESHOLD * mad).to_numpy()
    if not spikes.any():
        return series
    values = np.where(spikes, median.to_numpy(), series.y)
    return series.with_values(values.astype(np.float64))
