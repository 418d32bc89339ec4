"""A plan's low and high factors come from the chosen models' backtest total misses: a series
outside the plan lacking them does not matter, one inside it drops them all with a warning."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from homeward import planning


def _forecasts(ids: list[str]) -> pd.DataFrame:
    ds = pd.date_range("2026-01-05", periods=3, freq="W-MON")
    return pd.DataFrame(
        [
            {"unique_id": uid, "ds": d, "model": "ses", "mean": 10.0}
            | {"lo-80": 8.0, "hi-80": 12.0, "lo-95": 6.0, "hi-95": 14.0}
            for uid in ids
            for d in ds
        ]
    )


def _metrics(bounds: dict[str, tuple[float, float]]) -> pd.DataFrame:
    rows = [
        {
            "unique_id": uid,
            "model": "ses",
            "chosen": True,
            "total_error_q10": lo,
            "total_error_q90": hi,
        }
        for uid, (lo, hi) in bounds.items()
    ]
    rows.append(  # a model not chosen does not count
        {
            "unique_id": "referrals/ot/a",
            "model": "naive",
            "chosen": False,
            "total_error_q10": -0.9,
            "total_error_q90": 9.0,
        }
    )
    return pd.DataFrame(rows)


def test_each_series_gets_one_plus_its_chosen_models_bounds() -> None:
    ids = ["referrals/ot/a", "referrals/hao/a"]
    demand = planning.demand_from_forecasts(
        _forecasts(ids), _metrics({ids[0]: (-0.1, 0.2), ids[1]: (-0.05, 0.3)})
    )
    by_service = demand.groupby("service")[["low_factor", "high_factor"]].first()
    assert by_service.loc["ot"].tolist() == [0.9, 1.2]
    assert by_service.loc["hao"].tolist() == [0.95, 1.3]
    kept, warnings = planning.with_usable_factors(demand)
    assert warnings == () and "low_factor" in kept.columns


def test_a_plan_series_without_bounds_drops_them_all_and_says_which() -> None:
    ids = ["referrals/ot/a", "referrals/ot/b", "referrals/ot/elsewhere"]
    metrics = _metrics({ids[0]: (-0.1, 0.2), ids[1]: (np.nan, np.nan)})
    demand = planning.demand_from_forecasts(_forecasts(ids), metrics)
    assert demand.loc[demand["district"] == "elsewhere", "low_factor"].isna().all()
    dropped, warnings = planning.with_usable_factors(demand)
    assert "low_factor" not in dropped.columns and "high_factor" not in dropped.columns
    assert warnings == (
        "no demand risk: referrals/ot/b has too few backtest windows to measure how far a "
        "year's total can miss",
    )
    # the plan's own districts only: one outside it lacking bounds does not matter
    ours = demand[demand["district"] == "a"]
    kept, warnings = planning.with_usable_factors(ours)
    assert warnings == () and kept["high_factor"].eq(1.2).all()


def test_a_low_year_is_never_above_the_forecast_nor_a_high_one_below_and_the_plan_says_why() -> (
    None
):
    ids = ["referrals/ot/growing", "referrals/ot/shrinking", "referrals/ot/steady"]
    metrics = _metrics({ids[0]: (0.02, 0.3), ids[1]: (-0.4, -0.05), ids[2]: (-0.1, 0.1)})
    demand, warnings = planning.with_usable_factors(
        planning.demand_from_forecasts(_forecasts(ids), metrics)
    )
    factors = demand.groupby("district")[["low_factor", "high_factor"]].first()
    assert factors.loc["growing"].tolist() == pytest.approx([1.0, 1.3])
    assert factors.loc["shrinking"].tolist() == pytest.approx([0.6, 1.0])
    assert factors.loc["steady"].tolist() == pytest.approx([0.9, 1.1])
    assert len(warnings) == 2
    assert "referrals/ot/growing ran above their forecasts" in warnings[0]
    assert "low year is taken as the forecast itself" in warnings[0]
    assert "referrals/ot/shrinking ran below their forecasts" in warnings[1]
