"""The planner's winter index in a plan's last half year, as the pipeline and `homeward plan`
compute it: the pressure series was forecast only to the plan's last month, so the months
within half a year of it had no centred year around them and took the last whole one's mean,
and a series growing 10% a year with no season read 1.015 in November rising to 1.045 in
March of a 12-month plan from April (growth read as winter)."""

from __future__ import annotations

from typing import Any
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import commands, demo_config, planning, repository
from homeward.demo_series import ADMISSIONS_SERIES
from homeward.pipeline import forecast_by_frequency, run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction

# weekly referrals to the week of 2025-03-31, so a 52-week plan runs from 2025-04-07 to March
WEEKS = pd.date_range("2023-04-03", "2025-03-31", freq="W-MON")
WINTER = (11, 12, 1, 2, 3)
# emergency admissions a month, a normal month 1.0
SEASON = {11: 1.08, 12: 1.15, 1: 1.12, 2: 1.05, 3: 1.02, 4: 0.97, 5: 0.95, 6: 0.93}
SEASON |= {7: 0.92, 8: 0.93, 9: 0.95}
SEASON[10] = 12.0 - sum(SEASON.values())


def _admissions(last: str, seasonal: bool) -> pd.DataFrame:
    """Monthly admissions from 2019 to `last`: 5,000 a normal month growing 10% a year, with
    SEASON or none, counted in each month's days (a flat month per day is a normal one)."""
    months = pd.date_range("2019-01-01", last, freq="MS")
    per_day = 5000.0 / (365.25 / 12) * 1.1 ** (np.arange(len(months)) / 12)
    if seasonal:
        per_day = per_day * np.array([SEASON[m] for m in months.month])
    return pd.DataFrame(
        {"unique_id": ADMISSIONS_SERIES, "ds": months, "y": per_day * months.days_in_month}
    )


def _observations(weeks: pd.DatetimeIndex, admissions: pd.DataFrame) -> pd.DataFrame:
    body = demo_config.demo_planning_config()
    referrals = [
        pd.DataFrame({"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": weeks, "y": 20.0 + i})
        for i, d in enumerate(body["districts"])
        for s in body["services"]
    ]
    return pd.concat([*referrals, admissions], ignore_index=True)


def _config(level: str = "mean") -> dict[str, Any]:
    """The demo's config, a 52-week plan whose winter index is of the pressure forecast at
    `level` (the mean here: q90 adds the interval's top, which no trend should be read as)."""
    body = demo_config.demo_planning_config(horizon_periods=52)
    body["winter"]["pressure_level"] = level
    return body


def _yearly(settings: Settings, model: str) -> Settings:
    return settings.model_copy(update={"forecast_models": (model,), "forecast_horizon_weeks": 52})


def _pipeline_plan(
    factory: sessionmaker[Session],
    settings: Settings,
    observations: pd.DataFrame,
    level: str = "mean",
) -> tuple[pd.Series, int]:
    """The stored plan's winter index by month (the pipeline's, on each demand row), and the
    run's id."""
    body = _config(level)
    with transaction(factory) as session:
        repository.store_observations(session, observations, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    outcome = run_pipeline(factory, settings, trigger="demo")
    assert outcome.plan_id is not None
    with factory() as session:
        stored = repository.latest_plan(session)
        assert stored is not None
        demand = pd.DataFrame(stored.result["demand"])
    return _by_month(demand), outcome.run_id


def _by_month(demand: pd.DataFrame) -> pd.Series:
    """Each winter month's index, one per month (every row of a month holds the same)."""
    months = pd.DatetimeIndex(pd.to_datetime(demand["ds"])).to_period("M")
    winter = demand.assign(month=months)[months.month.isin(WINTER)]
    per_month = winter.groupby("month")["winter_index"].agg(["min", "max"])
    assert (per_month["min"] == per_month["max"]).all()
    return per_month["min"]


def test_the_pipelines_last_half_year_reads_a_seasonless_trend_as_no_winter(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A 12-month plan from April: November read 1.015, rising to 1.045 in March."""
    observations = _observations(WEEKS, _admissions("2025-03-01", seasonal=False))
    index, _run = _pipeline_plan(factory, _yearly(sqlite_settings, "holt"), observations)
    assert list(index.index.month) == [11, 12, 1, 2, 3]
    assert index.to_numpy() == pytest.approx(1.0, abs=0.005)
    # the pressure series alone is stored half a year past the plan; the referrals end with it
    with factory() as session:
        stored = repository.latest_forecast_frame(session, "")
    ends = stored.groupby("unique_id")["ds"].max()
    assert ends.pop(ADMISSIONS_SERIES) == pd.Timestamp("2026-09-01")
    assert (ends == pd.Timestamp("2026-03-30")).all()


def test_homeward_plans_demo_reads_a_seasonless_trend_as_no_winter(
    sqlite_settings: Settings,
) -> None:
    """`homeward plan` forecasts the demo's pressure series as far as the pipeline does, and
    read the same growth in its last half year."""
    observations = _observations(WEEKS, _admissions("2025-03-01", seasonal=False))
    config = planning.PlanningConfig.model_validate(_config())
    with (
        mock.patch.object(commands, "demo_observations", return_value=observations),
        mock.patch.object(commands, "get_settings", return_value=_yearly(sqlite_settings, "holt")),
    ):
        demand, _warnings = commands._demo_demand(config)
    index = _by_month(demand)
    assert list(index.index.month) == [11, 12, 1, 2, 3]
    assert index.to_numpy() == pytest.approx(1.0, abs=0.005)


@pytest.mark.parametrize("level", ["mean", "q90"])
def test_a_seasonal_index_whose_year_was_already_centred_is_unchanged(
    factory: sessionmaker[Session], sqlite_settings: Settings, level: str
) -> None:
    """A 12-month plan from October has a whole centred year around each of its winter
    months within the plan: forecasting the pressure series further changes none of them."""
    weeks = pd.date_range("2023-04-03", "2025-09-29", freq="W-MON")  # plan from 2025-10-06
    observations = _observations(weeks, _admissions("2025-09-01", seasonal=True))
    settings = _yearly(sqlite_settings, "seasonal_naive")
    index, run_id = _pipeline_plan(factory, settings, observations, level)
    with factory() as session:
        forecast = repository.latest_forecast_frame(session, ADMISSIONS_SERIES)
    assert int(forecast["run_id"].iloc[0]) == run_id
    plan_end = pd.Timestamp("2026-09-01")  # the pressure forecast's end before (its 12th month)
    within = forecast[pd.to_datetime(forecast["ds"]) <= plan_end]
    history = observations[observations["unique_id"] == ADMISSIONS_SERIES]
    before = planning.pressure_index(within, history, level)
    expected = pd.Series(
        before["index"].to_numpy(), index=pd.DatetimeIndex(before["ds"]).to_period("M")
    ).reindex(index.index)
    assert list(index.index.month) == [11, 12, 1, 2, 3]
    assert index.to_numpy() == pytest.approx(expected.to_numpy(), rel=1e-9)
    assert index.min() > 1.0  # a winter all the same (seasonal naive forecasts no growth)


def test_a_weekly_pressure_series_is_forecast_26_weeks_past_the_plan(
    sqlite_settings: Settings,
) -> None:
    """A weekly pressure series' centred year is 26 weeks either side: it alone reaches 26
    weeks past the referrals' forecasts, which are unchanged."""
    weeks = pd.date_range("2023-01-02", "2025-09-29", freq="W-MON")
    history = pd.DataFrame(
        {
            "unique_id": np.repeat(["referrals/ot/a", "winter/admissions"], len(weeks)),
            "ds": np.tile(weeks, 2),
            "y": 20.0 + np.tile(np.arange(len(weeks)) % 7, 2),
        }
    )
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    horizon = pd.Timedelta(weeks=fast.forecast_horizon_weeks)
    anchors = {"referrals/ot/a", "winter/admissions"}

    def ends(pressure: str | None) -> pd.Series:
        [run] = forecast_by_frequency(
            history, fast, lambda _m: None, anchors=anchors, pressure=pressure
        ).runs
        return run.forecasts.groupby("unique_id")["ds"].max()

    assert list(ends(None)) == [weeks[-1] + horizon] * 2
    further = ends("winter/admissions")
    assert further["referrals/ot/a"] == weeks[-1] + horizon
    assert further["winter/admissions"] == weeks[-1] + horizon + pd.Timedelta(weeks=26)


def test_homeward_plans_demo_with_a_weekly_pressure_series_is_the_pipelines(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A config whose pressure series is one of the weekly referrals: `homeward plan`'s demo
    forecast it monthly, 18 periods, so it ended months before the plan did (November 2026
    planned at 1.0 with a warning) and read another index than the pipeline's everywhere else,
    which forecasts it 26 weeks past the plan in the referrals' own run (a winter reviewer)."""
    observations = _observations(WEEKS, _admissions("2025-03-01", seasonal=False))
    rugby = observations["unique_id"] == "referrals/ot/rugby"
    season = np.array([SEASON[m] for m in pd.DatetimeIndex(observations["ds"]).month])
    observations.loc[rugby, "y"] = (100.0 * season)[rugby.to_numpy()]
    body = _config()
    body["winter"]["pressure_series"] = "referrals/ot/rugby"
    settings = _yearly(sqlite_settings, "seasonal_naive")
    with transaction(factory) as session:
        repository.store_observations(session, observations, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    outcome = run_pipeline(factory, settings, trigger="demo")
    with factory() as session:
        stored = repository.latest_plan(session)
        assert stored is not None and outcome.plan_id is not None
        piped = pd.DataFrame(stored.result["demand"])
    config = planning.PlanningConfig.model_validate(body)
    with (
        mock.patch.object(commands, "demo_observations", return_value=observations),
        mock.patch.object(commands, "get_settings", return_value=settings),
    ):
        demand, warnings = commands._demo_demand(config)
    assert not [w for w in warnings if "does not reach" in w]
    assert _by_month(demand).to_numpy() == pytest.approx(_by_month(piped).to_numpy(), rel=1e-9)
    assert _by_month(demand).max() > 1.05  # the season raises winter
    assert len(demand) == len(piped)  # the referrals' demand is the plan's 52 weeks
