"""Plans from stored forecasts: the winter index of a hospital pressure series raises winter
demand (issue 3), and a requested plan records what it planned from."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from forecast import winter_index
from homeward import demo_config, planning, repository
from homeward.demo_series import ADMISSIONS_SERIES
from homeward.pipeline import run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from models import ForecastRow, PlanRow, RunRow

WEEKS = pd.date_range("2023-06-05", periods=120, freq="W-MON")  # ends 2025-09-15
# emergency admissions a month: 10% above a normal month in November, 20% in December
ADMISSION_SEASON = {11: 1.10, 12: 1.20}


def test_each_period_takes_its_months_index_and_each_district_its_centred_yearly_level() -> None:
    weeks = pd.date_range("2025-10-06", periods=60, freq="W-MON")
    demand = pd.DataFrame(
        {"service": "ot", "district": "rugby", "ds": weeks, "cases": np.arange(60.0)}
    )
    index = pd.DataFrame(
        {
            "ds": pd.to_datetime(["2025-11-01", "2025-12-01", "2026-01-01"]),
            "index": [1.1, 1.2, np.nan],
        }
    )
    out = planning.with_winter_pressure(demand, index)
    months = pd.DatetimeIndex(out["ds"]).to_period("M").astype(str)
    assert (out.loc[months == "2025-11", "winter_index"] == 1.1).all()
    assert (out.loc[months == "2025-12", "winter_index"] == 1.2).all()
    rest = ~months.isin(["2025-11", "2025-12"])  # no index (2025-10, 2026-02 on) or NaN (2026-01)
    assert rest.sum() > 0 and (out.loc[rest, "winter_index"] == 1.0).all()
    # the centred year's mean at each week (a linear trend's own value), from the first full
    # centred year (week 26) to the last (week 33) of the 60 forecast
    assert out["normal_cases"].to_numpy() == pytest.approx(np.clip(np.arange(60.0), 26, 33))


def _store(
    factory: sessionmaker[Session], with_admissions: bool, admissions_from: str = "2019-01-01"
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=13)
    rows = [
        pd.DataFrame({"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": WEEKS, "y": 20.0 + i})
        for i, d in enumerate(body["districts"])
        for s in body["services"]
    ]
    if with_admissions:
        months = pd.date_range(admissions_from, "2025-08-01", freq="MS")
        level = [5000.0 * ADMISSION_SEASON.get(m.month, 0.95) for m in months]
        rows.append(pd.DataFrame({"unique_id": ADMISSIONS_SERIES, "ds": months, "y": level}))
    with transaction(factory) as session:
        repository.store_observations(session, pd.concat(rows), "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))


def _plan(
    factory: sessionmaker[Session],
    settings: Settings,
    models: tuple[str, ...] = ("seasonal_naive", "ses"),
) -> dict[str, Any]:
    fast = settings.model_copy(update={"forecast_models": models})
    outcome = run_pipeline(factory, fast, trigger="demo")
    assert outcome.plan_id is not None
    with factory() as session:
        stored = repository.latest_plan(session)
        assert stored is not None
        return dict(stored.result)


def test_the_pipeline_raises_winter_weeks_by_the_admissions_index(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _store(factory, with_admissions=True)
    result = _plan(factory, sqlite_settings)
    demand = pd.DataFrame(result["demand"])
    month = pd.DatetimeIndex(demand["ds"]).month
    raised = demand["planned_cases"] / demand["forecast_cases"]
    # flat referrals of 20-24 a week: December is planned for the index's rise times the
    # service's elasticity (reablement 3.0: about 1 + 3 x 0.26); October for the forecast
    assert raised[month == 10].to_numpy() == pytest.approx(1.0)
    december = demand[month == 12]
    rise = (december["planned_cases"] / december["forecast_cases"]).groupby(december["service"])
    assert rise.min()["reablement"] > rise.max()["ot"] > 1.1
    assert not any("pressure" in w for w in result["warnings"])
    # the index that raised it is on each row, so a dashboard shows the figure the plan used
    # (GET /v1/winter's is over the trailing history: a different base); blank in October
    assert demand.loc[month == 10, "winter_index"].isna().all()
    index = december["winter_index"]
    assert index.nunique() == 1 and 1.15 < index.iloc[0] < 1.3
    # flat referrals (the normal level is about the forecast): each service is raised by
    # its elasticity times the index's rise
    elasticity = demo_config.demo_planning_config()["winter"]["pressure_elasticity"]
    for service, rows in december.groupby("service"):
        rise = 1 + elasticity.get(service, 1.0) * (rows["winter_index"] - 1)
        assert (rows["planned_cases"] / rows["forecast_cases"]).to_numpy() == pytest.approx(
            rise.to_numpy(), rel=0.03
        ), service


def test_a_missing_pressure_series_is_a_warning_on_the_plan_not_a_lost_plan(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _store(factory, with_admissions=False)
    result = _plan(factory, sqlite_settings)
    warnings = result["warnings"]
    assert any(ADMISSIONS_SERIES in w and "without hospital pressure" in w for w in warnings)


def test_the_runs_message_says_the_plan_has_warnings_and_where(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A run's message is where a dashboard or an operator looks first: a plan made without its
    pressure series says so there too, by count and where to read it (analyst review)."""
    _store(factory, with_admissions=False)
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive", "ses")})
    outcome = run_pipeline(factory, fast, trigger="demo")
    with factory() as session:
        stored = repository.latest_plan(session)
        assert stored is not None
        count = len(stored.result["warnings"])
    assert count >= 1
    said = "warning" if count == 1 else "warnings"
    assert f"The plan has {count} {said}: GET /v1/plans/{outcome.plan_id} lists them." in (
        outcome.message
    )


def test_a_pressure_series_too_short_for_a_season_is_named_on_the_plan(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """30 months of admissions with a December 20% above a normal month: ses and theta fit no
    season to so little, and two winters cannot say how bad a winter gets (the config's q90),
    so winter is not raised by the season, and the plan says why."""
    _store(factory, with_admissions=True, admissions_from="2023-03-01")
    result = _plan(factory, sqlite_settings, models=("ses", "theta"))
    [warning] = [w for w in result["warnings"] if "under three years" in w]
    assert warning.startswith(
        f"winter.pressure_series {ADMISSIONS_SERIES!r}: 30 months of history is under three "
        "years, too short for the chosen model to fit a seasonal pattern"
    )
    assert warning.endswith(
        "raised by no seasonal rise: only by the series' change over its last year, if any"
    )
    [average] = [w for w in result["warnings"] if w.startswith("winter.pressure_level 'q90'")]
    assert f"found 1 in the history of {ADMISSIONS_SERIES!r}" in average
    assert average.endswith(
        "winter periods were planned for an average winter (the forecast mean's index)"
    )
    # October, outside the winter months, is planned for the forecast; November and December
    # are raised alike (with three years and more December's 20% shows)
    demand = pd.DataFrame(result["demand"])
    month = pd.DatetimeIndex(demand["ds"]).month
    raised = demand["planned_cases"] / demand["forecast_cases"]
    assert raised[month == 10].to_numpy() == pytest.approx(1.0)
    by_month = raised[demand["service"] == "ot"].groupby(month[demand["service"] == "ot"]).max()
    assert by_month[12] == pytest.approx(by_month[11], rel=0.01)


def test_a_requested_plan_records_the_demand_and_models_it_planned_from(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    _store(factory, with_admissions=True)
    _plan(factory, sqlite_settings)

    def requested() -> RunRow:
        stored = planning.plan_scenario(factory, None, "highs")
        with transaction(factory) as session:
            run_id = session.get_one(PlanRow, stored.plan_id).run_id
        with factory() as session:
            return session.get_one(RunRow, run_id)

    first, again = requested(), requested()
    assert first.kind == "plan" and first.data_hash is not None and len(first.data_hash) == 64
    assert again.data_hash == first.data_hash  # the same forecasts: the same demand
    body = demo_config.demo_planning_config(horizon_periods=13)
    referrals = {
        f"referrals/{s['id']}/{d['id']}" for s in body["services"] for d in body["districts"]
    }
    assert set(first.models_chosen) == referrals | {ADMISSIONS_SERIES}
    with transaction(factory) as session:  # one forecast changes: the demand hash follows
        row = session.scalars(
            select(ForecastRow).where(ForecastRow.series_id == "referrals/ot/rugby").limit(1)
        ).one()
        row.mean += 5.0
    assert requested().data_hash != first.data_hash


def test_a_plan_records_the_run_of_its_pressure_series_forecast_too(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A run that reforecast the admissions series alone: a plan raises winter by that run's
    forecast and its referrals' come from the pipeline run, so it names both runs (the newest
    referral run is still `forecast_run_id`)."""
    _store(factory, with_admissions=True)
    _plan(factory, sqlite_settings)
    with transaction(factory) as session:
        frame = repository.latest_forecast_frame(session, ADMISSIONS_SERIES)
        pipeline_run = int(frame["run_id"].max())
        again = repository.start_run(session, "pipeline", "api", "test")
        repository.store_forecasts(session, again.id, frame.drop(columns="run_id"), pd.DataFrame())
        again.status = "succeeded"
        pressure_run = again.id
    stored = planning.plan_scenario(factory, None, "highs")
    with transaction(factory) as session:
        result = session.get_one(PlanRow, stored.plan_id).result
    assert result["forecast_run_id"] == pipeline_run
    assert result["forecast_run_ids"] == [pipeline_run, pressure_run]


def test_a_weekly_pressure_index_is_averaged_per_month() -> None:
    weeks = pd.date_range("2025-11-03", periods=8, freq="W-MON")  # Nov 3 .. Dec 22
    index = pd.DataFrame({"ds": weeks, "index": [1.1] * 4 + [1.3] * 4})
    demand = pd.DataFrame({"service": "ot", "district": "a", "ds": weeks, "cases": 5.0})
    out = planning.with_winter_pressure(demand, index)
    assert out["winter_index"].tolist() == pytest.approx([1.1] * 4 + [1.3] * 4)


def test_monthly_demand_is_raised_per_day() -> None:
    # 10 cases a day: February's normal level is 280, not the 304 of an average month
    months = pd.date_range("2026-01-01", periods=12, freq="MS")
    demand = pd.DataFrame(
        {"service": "ot", "district": "a", "ds": months, "cases": 10.0 * months.days_in_month}
    )
    index = pd.DataFrame({"ds": months[:3], "index": [1.0, 1.1, 1.0]})
    out = planning.with_winter_pressure(demand, index)
    assert out["normal_cases"].to_numpy() == pytest.approx(10.0 * months.days_in_month)


def test_the_pressure_series_growth_is_not_counted_as_winter() -> None:
    # admissions growing 10% a year with no season: the planner's index stays near 1
    months = pd.date_range("2020-01-01", periods=84, freq="MS")
    level = 1000.0 * 1.1 ** (np.arange(84) / 12) * months.days_in_month / 30.44
    history = pd.DataFrame({"unique_id": "p", "ds": months[:72], "y": level[:72]})
    forecast = pd.DataFrame({"unique_id": "p", "ds": months[72:], "mean": level[72:]})
    forecast = forecast.assign(**{"hi-80": forecast["mean"], "hi-95": forecast["mean"]})
    planner = planning.pressure_index(forecast, history, "mean")
    assert planner["index"].to_numpy() == pytest.approx(1.0, abs=0.05)
    served = winter_index(forecast, history)  # GET /v1/winter: over the trailing year
    assert served["index"].min() > 1.05


def test_winter_months_the_pressure_forecast_does_not_reach_are_named() -> None:
    weeks = pd.date_range("2025-10-06", periods=30, freq="W-MON")  # to 2026-04-27
    demand = pd.DataFrame({"service": "ot", "district": "a", "ds": weeks, "cases": 5.0})
    index = pd.DataFrame({"ds": pd.to_datetime(["2025-11-01", "2025-12-01"]), "index": 1.1})
    missing = planning.uncovered_winter(demand, index, (11, 12, 1, 2, 3))
    assert missing == ["2026-01", "2026-02", "2026-03"]


def test_a_district_outside_the_config_does_not_warn_of_winter_months_the_plan_lacks(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """A neighbour's series forecast past the pressure forecast's end is not this plan's
    demand, so its winter months are not the plan's either."""
    _store(factory, with_admissions=True)
    _plan(factory, sqlite_settings)
    weeks = pd.date_range("2025-09-22", periods=70, freq="W-MON")  # to 2027-01
    newdist = pd.DataFrame({"unique_id": "referrals/ot/newdist", "ds": weeks, "model": "ses"})
    newdist = newdist.assign(**{c: 20.0 for c in ("mean", "lo-80", "hi-80", "lo-95", "hi-95")})
    with transaction(factory) as session:
        run = repository.start_run(session, "forecast", "test", "test")
        session.flush()
        repository.store_forecasts(session, run.id, newdist, pd.DataFrame())
        run.status = "succeeded"  # a running run's forecasts are not served yet
    body = demo_config.demo_planning_config(horizon_periods=13)
    with factory() as session:
        result = planning.solve_config(session, body, "highs").result
    assert result.demand["ds"].max() < pd.Timestamp("2026-01-01")
    assert not [w for w in result.warnings if "does not reach" in w], result.warnings


def test_a_requested_plans_run_starts_before_its_solve_and_finishes_after(
    factory: sessionmaker[Session], sqlite_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(factory, with_admissions=False)
    _plan(factory, sqlite_settings)
    ticks = iter(pd.date_range("2030-01-01", periods=100, freq="s", tz="UTC"))
    for module in (planning, repository):  # one fake clock, a second a tick
        monkeypatch.setattr(module, "utcnow", lambda: next(ticks).to_pydatetime())
    solve = planning.solve_prepared
    solving: list[pd.Timestamp] = []

    def timed(*args: Any, **kwargs: Any) -> Any:
        solving.append(pd.Timestamp(planning.utcnow()))
        out = solve(*args, **kwargs)
        solving.append(pd.Timestamp(planning.utcnow()))
        return out

    monkeypatch.setattr(planning, "solve_prepared", timed)
    stored = planning.plan_scenario(factory, None, "highs")
    with transaction(factory) as session:
        run_id = session.get_one(PlanRow, stored.plan_id).run_id
    with factory() as session:
        run = session.get_one(RunRow, run_id)
    assert run.finished_at is not None
    began, ended = (_naive(t) for t in solving)  # a fake clock: no timing is asserted
    assert _naive(run.started_at) < began < ended < _naive(run.finished_at)


def _naive(ts: Any) -> pd.Timestamp:
    """A UTC time without its zone (SQLite gives times back without one)."""
    stamp = pd.Timestamp(ts)
    return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
