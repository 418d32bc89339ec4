"""The normal level a winter index raises (`normal_cases`) at a plan's start, as the pipeline
and `homeward plan` compute it: it was the centred annual mean of the referral forecast alone,
and a 52-week forecast has no whole centred year (53 weeks) at all, so every week took the
forecast's mean, centred on the plan's middle: referrals growing 10% a year planned from
November had November's normal level half a year's growth (about 5%) too high. It is the
centred mean over the series' history followed by its forecast, as the pressure index is."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import commands, demo_config, planning, repository
from homeward.demo_series import ADMISSIONS_SERIES
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction

# weekly referrals to the week of 2025-10-27, so a 52-week plan runs from 2025-11-03
WEEKS = pd.date_range("2022-10-31", "2025-10-27", freq="W-MON")
ELASTICITY = 4.0  # every service: its raised November level is well above its forecast
SEASON = {11: 1.08, 12: 1.15, 1: 1.12, 2: 1.05, 3: 1.02, 4: 0.97, 5: 0.95, 6: 0.93}
SEASON |= {7: 0.92, 8: 0.93, 9: 0.95}
SEASON[10] = 12.0 - sum(SEASON.values())


def _observations() -> pd.DataFrame:
    """Each demo service and district's weekly referrals growing 10% a year with no season,
    and monthly admissions with a winter season to 2025-10."""
    body = demo_config.demo_planning_config()
    growth = 1.1 ** (np.arange(len(WEEKS)) / 52)
    referrals = [
        pd.DataFrame(
            {"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": WEEKS, "y": (20 + i) * growth}
        )
        for i, d in enumerate(body["districts"])
        for s in body["services"]
    ]
    months = pd.date_range("2019-01-01", "2025-10-01", freq="MS")
    per_day = 5000.0 / (365.25 / 12) * np.array([SEASON[m] for m in months.month])
    admissions = pd.DataFrame(
        {"unique_id": ADMISSIONS_SERIES, "ds": months, "y": per_day * months.days_in_month}
    )
    return pd.concat([*referrals, admissions], ignore_index=True)


def _config() -> dict[str, Any]:
    body = demo_config.demo_planning_config(horizon_periods=52)
    body["winter"]["pressure_level"] = "mean"
    body["winter"]["pressure_elasticity"] = {s["id"]: ELASTICITY for s in body["services"]}
    return body


def _settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"forecast_models": ("holt",), "forecast_horizon_weeks": 52})


def _centred_year(history: pd.DataFrame, series_id: str, forecast: pd.Series) -> pd.Series:
    """The 2x52 moving average of the series' history followed by `forecast` (by ds), at
    each forecast week with 26 weeks either side of it."""
    past = history.loc[history["unique_id"] == series_id, "y"].to_numpy(dtype=float)
    values = np.r_[past, forecast.sort_index().to_numpy(dtype=float)]
    centred = np.convolve(values, np.r_[0.5, np.ones(51), 0.5] / 52, mode="valid")
    at = pd.Series(centred, index=np.arange(26, len(values) - 26) - len(past))
    return pd.Series(
        at.reindex(np.arange(len(forecast))).to_numpy(), index=forecast.sort_index().index
    )


def _november(frame: pd.DataFrame) -> pd.DataFrame:
    ds = pd.DatetimeIndex(pd.to_datetime(frame["ds"]))
    return frame[(ds.year == 2025) & (ds.month == 11)]


def test_the_pipelines_normal_november_is_the_centred_year_of_history_and_forecast(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    observations = _observations()
    body = _config()
    with transaction(factory) as session:
        repository.store_observations(session, observations, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    outcome = run_pipeline(factory, _settings(sqlite_settings), trigger="demo")
    assert outcome.plan_id is not None
    with factory() as session:
        stored = repository.latest_plan(session)
        assert stored is not None
        forecasts = repository.latest_forecast_frame(session, planning.REFERRALS_PREFIX)
    demand = _november(pd.DataFrame(stored.result["demand"]))
    assert len(demand) > 0 and (demand["winter_index"] > 1.05).all()
    # raised above the forecast in November: planned = normal x (1 + elasticity (index - 1))
    normal = demand["planned_cases"] / (1 + ELASTICITY * (demand["winter_index"] - 1))
    assert (demand["planned_cases"] > demand["forecast_cases"] * 1.1).all()
    for (service, district), rows in demand.groupby(["service", "district"]):
        series_id = f"referrals/{service}/{district}"
        forecast = forecasts[forecasts["unique_id"] == series_id]
        mean = pd.Series(
            forecast["mean"].to_numpy(), index=pd.to_datetime(forecast["ds"]).to_numpy()
        )
        expected = _centred_year(observations, series_id, mean)
        at = expected.reindex(pd.to_datetime(rows["ds"]).to_numpy()).to_numpy()
        assert normal[rows.index].to_numpy() == pytest.approx(at, rel=0.005), series_id


def test_homeward_plans_demo_normal_november_is_the_centred_year_of_history_and_forecast(
    sqlite_settings: Settings,
) -> None:
    observations = _observations()
    config = planning.PlanningConfig.model_validate(_config())
    with (
        mock.patch.object(commands, "demo_observations", return_value=observations),
        mock.patch.object(commands, "get_settings", return_value=_settings(sqlite_settings)),
    ):
        demand, _warnings = commands._demo_demand(config)
    checked = 0
    for (service, district), rows in demand.groupby(["service", "district"]):
        series_id = f"referrals/{service}/{district}"
        cases = pd.Series(rows["cases"].to_numpy(), index=pd.to_datetime(rows["ds"]).to_numpy())
        expected = _centred_year(observations, series_id, cases)
        november = _november(rows)
        at = expected.reindex(pd.to_datetime(november["ds"]).to_numpy()).to_numpy()
        assert november["normal_cases"].to_numpy() == pytest.approx(at, rel=0.005), series_id
        checked += len(november)
    assert checked > 0


def _weekly(cases: np.ndarray, start: str) -> pd.DataFrame:
    weeks = pd.date_range(start, periods=len(cases), freq="W-MON")
    return pd.DataFrame({"service": "ot", "district": "rugby", "ds": weeks, "cases": cases})


NO_INDEX = pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "index": []})


def test_a_linear_trends_normal_level_is_itself_from_the_forecasts_first_week() -> None:
    """History 0..99 a week, forecast 100..151: each week whose centred year the two cover
    reads its own value (a linear trend is its own centred mean), the last 26 the last whole
    year's; the forecast alone read its mean, 125.5, in every week."""
    forecast = _weekly(np.arange(100.0, 152.0), "2024-01-01")
    history = pd.DataFrame(
        {
            "unique_id": "referrals/ot/rugby",
            "ds": pd.date_range(end="2023-12-25", periods=100, freq="W-MON"),
            "y": np.arange(100.0),
        }
    )
    out = planning.with_winter_pressure(forecast, NO_INDEX, history)
    assert out["normal_cases"].to_numpy() == pytest.approx(np.minimum(np.arange(100, 152), 125))


def test_a_monthly_normal_level_reads_its_history_per_day() -> None:
    """History 10 a day for two years, forecast 20 a day: the first forecast month's centred
    year is 5.5 months of 10 and 6.5 of 20 (the ends half-weighted), per day, in its days."""
    months = pd.date_range("2025-01-01", periods=12, freq="MS")
    forecast = pd.DataFrame(
        {"service": "ot", "district": "rugby", "ds": months, "cases": 20.0 * months.days_in_month}
    )
    before = pd.date_range("2023-01-01", periods=24, freq="MS")
    history = pd.DataFrame(
        {"unique_id": "referrals/ot/rugby", "ds": before, "y": 10.0 * before.days_in_month}
    )
    out = planning.with_winter_pressure(forecast, NO_INDEX, history)
    assert out["normal_cases"].iloc[0] == pytest.approx(185.0 / 12 * 31)


def test_a_series_without_history_keeps_its_forecasts_centred_year() -> None:
    """A demand file, or a series whose history is not given: as before, the forecast's."""
    forecast = _weekly(np.arange(100.0, 152.0), "2024-01-01")
    other = pd.DataFrame(
        {
            "unique_id": "referrals/hao/rugby",
            "ds": pd.date_range(end="2023-12-25", periods=100, freq="W-MON"),
            "y": np.arange(100.0),
        }
    )
    out = planning.with_winter_pressure(forecast, NO_INDEX, other)
    assert out["normal_cases"].to_numpy() == pytest.approx(np.full(52, 125.5))
    alone = planning.with_winter_pressure(forecast, NO_INDEX)
    assert alone["normal_cases"].to_numpy() == pytest.approx(np.full(52, 125.5))
