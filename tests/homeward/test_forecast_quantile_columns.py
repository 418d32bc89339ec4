"""A forecast's interval columns reach the plan's demand under the names winter planning uses:
q10/q90 from the 80% interval, q025/q975 from the 95% one."""

from __future__ import annotations

import pandas as pd

from homeward import planning


def test_demand_quantile_columns_map_to_the_forecast_intervals() -> None:
    forecasts = pd.DataFrame(
        [
            {"unique_id": "referrals/ot/rugby", "ds": pd.Timestamp("2026-01-05")}
            | {"model": "ses", "mean": 10.0, "lo-80": 8.0, "hi-80": 12.0}
            | {"lo-95": 6.0, "hi-95": 14.0}
        ]
    )
    demand = planning.demand_from_forecasts(forecasts)
    assert len(demand) == 1
    row = demand.iloc[0]
    assert (row["service"], row["district"]) == ("ot", "rugby")
    got = tuple(float(row[c]) for c in ("cases", "q10", "q90", "q025", "q975"))
    assert got == (10.0, 8.0, 12.0, 6.0, 14.0)
