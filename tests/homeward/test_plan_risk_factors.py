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


def test_a_series_without_bounds_takes_the_widest_of_the_others_and_is_named() -> None:
    """A short district no longer empties the whole risk table (it did, for every district,
    with one 'no demand risk' warning): it takes the lowest low and highest high year of the
    others, so its risk is not understated."""
    ids = ["referrals/ot/a", "referrals/ot/b", "referrals/hao/a", "referrals/ot/elsewhere"]
    metrics = _metrics({ids[0]: (-0.1, 0.2), ids[1]: (np.nan, np.nan), ids[2]: (-0.3, 0.1)})
    demand = planning.demand_from_forecasts(_forecasts(ids), metrics)
    assert demand.loc[demand["district"] == "elsewhere", "low_factor"].isna().all()
    ours = demand[demand["district"] != "elsewhere"]
    kept, warnings = planning.with_usable_factors(ours)
    factors = kept.groupby(["service", "district"])[["low_factor", "high_factor"]].first()
    assert factors.loc[("ot", "b")].tolist() == pytest.approx([0.7, 1.2])  # the widest
    assert factors.loc[("ot", "a")].tolist() == pytest.approx([0.9, 1.2])  # its own
    assert factors.loc[("hao", "a")].tolist() == pytest.approx([0.7, 1.1])
    assert warnings == (
        "demand risk: referrals/ot/b had too few backtest windows of their own to measure how "
        "far a year's total can miss; their low and high years take the widest of the other "
        "series' (-30% and +20% of the year's forecast)",
    )


def test_with_no_series_having_bounds_the_risk_table_goes_and_says_so() -> None:
    ids = ["referrals/ot/a", "referrals/ot/b"]
    metrics = _metrics({ids[0]: (np.nan, np.nan), ids[1]: (np.nan, np.nan)})
    dropped, warnings = planning.with_usable_factors(
        planning.demand_from_forecasts(_forecasts(ids), metrics)
    )
    assert "low_factor" not in dropped.columns and "high_factor" not in dropped.columns
    assert warnings == (
        "no demand risk: referrals/ot/a and every other series have too few backtest windows "
        "to measure how far a year's total can miss",
    )


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


def test_a_referral_id_of_other_parts_does_not_empty_the_others_demand() -> None:
    """Uploads accept referrals/ot/north/rugby; its forecast emptied every series' demand, so
    every plan was refused with 'no referral forecasts are stored yet'."""
    ids = ["referrals/ot/a", "referrals/ot/north/rugby", "referrals_team/ot/north"]
    demand = planning.demand_from_forecasts(_forecasts(ids))
    assert set(zip(demand["service"], demand["district"], strict=True)) == {("ot", "a")}


def test_an_empty_demand_has_no_factors_to_use_and_no_error() -> None:
    empty = planning.demand_from_forecasts(_forecasts(["referrals/ot/a"]), _metrics({}))
    kept, warnings = planning.with_usable_factors(empty.iloc[0:0])
    assert kept.empty and warnings == ()


def test_the_widest_years_a_short_series_takes_are_the_capped_ones() -> None:
    """Others whose totals ran above their forecasts (low factors 1.1 and 1.05): a short
    series' low year is the forecast itself, and its warning says 0%, not +5%."""
    ids = ["referrals/ot/a", "referrals/ot/b", "referrals/ot/short"]
    metrics = _metrics({ids[0]: (0.1, 0.3), ids[1]: (0.05, 0.2), ids[2]: (np.nan, np.nan)})
    kept, warnings = planning.with_usable_factors(
        planning.demand_from_forecasts(_forecasts(ids), metrics)
    )
    short = kept[kept["district"] == "short"]
    assert short["low_factor"].eq(1.0).all() and short["high_factor"].eq(1.3).all()
    assert "(+0% and +30% of the year's forecast)" in warnings[0]
