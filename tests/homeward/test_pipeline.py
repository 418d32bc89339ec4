"""The pipeline and its scheduler: one run at a time, every run recorded, failures recorded too."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from homeward import demo_config, planning, repository
from homeward.pipeline import LOCK_NAME, PipelineBusy, run_pipeline
from homeward.scheduler import JOB_ID, RECOVERY_JOB_ID, scheduled_run, start_scheduler
from homeward.settings import Settings
from homeward.storage import transaction
from models import PlanRow


def _store_two_series(factory) -> None:  # type: ignore[no-untyped-def]
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    frame = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"referrals/ot/{d}",
                    "ds": weeks,
                    "y": [20.0 + (i % 52) / 4 for i in range(len(weeks))],
                }
            )
            for d in ("rugby", "warwick")
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")


def test_forecast_only_run_is_recorded_without_a_config(factory, sqlite_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    _store_two_series(factory)
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "forecast_only" and outcome.plan_id is None
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
        frame = repository.latest_forecast_frame(session, "referrals/")
    assert run.status == "forecast_only" and run.finished_at is not None and run.data_hash
    assert set(run.models_chosen) == {"referrals/ot/rugby", "referrals/ot/warwick"}
    assert len(frame) == 2 * sqlite_settings.forecast_horizon_weeks


def test_with_a_config_and_no_referral_history_the_run_forecasts_and_says_why_no_plan(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A council that loaded DTOC days first: its series are forecast and stored, and the run
    says the config has no referrals to plan from, instead of failing with 'run the pipeline
    first' (NoForecasts) after minutes of forecasting."""
    months = pd.date_range("2015-01-01", periods=48, freq="MS")
    frame = pd.DataFrame({"unique_id": "dtoc_days/rugby", "ds": months, "y": 300.0})
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        body = demo_config.demo_planning_config()
        repository.save_config(session, body, planning.config_hash(body))
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "forecast_only" and outcome.plan_id is None
    assert outcome.message.startswith(
        f"forecasts stored; no plan: the active config {body['name']!r} plans from referral "
        "histories (referrals/<service>/<district>) and none are stored"
    )
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
        assert run.status == "forecast_only" and run.message == outcome.message
        assert len(repository.latest_forecast_frame(session, "dtoc_days/")) > 0


def test_a_running_run_shows_its_progress_as_its_message(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """A dashboard polling GET /v1/runs/{id} sees each progress line while the run works, and
    the final message once it is done."""
    _store_two_series(factory)
    seen: list[tuple[str, str | None, str]] = []

    def report(text: str) -> None:
        with factory() as session:
            run = repository.list_runs(session, 1)[0]
            seen.append((text, run.message, run.status))

    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=report)
    progress = [s for s in seen if "series forecast" in s[0]]
    assert progress, seen
    assert all(
        message == text.strip() and status == "running" for text, message, status in progress
    )
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
    assert run.status == "forecast_only" and run.message == outcome.message
    assert "series forecast" not in (run.message or "")
    # after the last series, the run says it is storing (16 s of a 161 s run on England's
    # series, under load, sat at "453/453 series forecast": a scale reviewer)
    texts = [text for text, _message, _status in seen]
    last = max(i for i, text in enumerate(texts) if "series forecast" in text)
    storing = [text for text in texts[last:] if text.startswith("storing ")]
    assert storing and storing[0].endswith(" forecast rows"), texts[last:]


def test_level_shifts_found_by_the_run_are_stored(factory, sqlite_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    months = pd.date_range("2011-04-01", periods=84, freq="MS")
    t = np.arange(len(months))
    level = np.where(t < 60, 2000.0, 1200.0)  # delayed days fall by 40% in the 61st month
    noise = np.random.default_rng(0).normal(0.0, 0.03, len(t))
    y = level * (1.0 + 0.1 * np.sin(2 * np.pi * t / 12) + noise)
    frame = pd.DataFrame({"unique_id": "dtoc_days/somewhere", "ds": months, "y": y})
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    with factory() as session:
        [shift] = repository.level_shifts(session, outcome.run_id, "dtoc_days/somewhere")
    assert abs((shift.ds - months[60].to_pydatetime()).days) <= 31
    assert shift.ratio == pytest.approx(0.6, abs=0.05) and shift.t_stat < -4.0


def test_a_run_with_nothing_stored_is_skipped_saying_how_to_store_some(  # type: ignore[no-untyped-def]
    factory, sqlite_settings: Settings
) -> None:
    """Said to an API user too (POST /v1/runs), who was told only of `homeward import`."""
    outcome = run_pipeline(factory, sqlite_settings, trigger="api", report=lambda _m: None)
    assert outcome.status == "skipped"
    assert outcome.message == (
        "no observations stored: import some with `homeward import`, or upload them with "
        "POST /v1/observations"
    )


def test_a_second_pipeline_waits_its_turn(factory, sqlite_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    assert repository.acquire_lock(factory, LOCK_NAME, "someone-else", timedelta(hours=1))
    with pytest.raises(PipelineBusy):
        run_pipeline(factory, sqlite_settings, trigger="demo")
    scheduled_run(factory, sqlite_settings)  # logs and returns: the scheduler must survive
    with factory() as session:  # and records the firing it skipped
        [skipped] = repository.list_runs(session, 10)
    assert (skipped.trigger, skipped.status) == ("scheduler", "skipped")


def test_scheduler_registers_one_coalescing_job(factory, sqlite_settings: Settings) -> None:  # type: ignore[no-untyped-def]
    scheduler = start_scheduler(
        factory, sqlite_settings.model_copy(update={"schedule_cron": "0 6 * * mon"})
    )
    try:
        jobs = {j.id: j for j in scheduler.get_jobs()}
        assert set(jobs) == {JOB_ID, RECOVERY_JOB_ID}
        job = jobs[JOB_ID]
        assert job.coalesce and job.max_instances == 1
        assert job.next_run_time.weekday() == 0 and job.next_run_time.hour == 6
    finally:
        scheduler.shutdown(wait=False)


def test_settings_refuse_a_bad_cron() -> None:
    with pytest.raises(ValueError, match="crontab"):
        Settings(schedule_cron="every monday")


def test_a_councils_other_uploads_do_not_move_its_referral_forecasts(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """Model choice and interval widths pool over series of one kind: weekly bulk series of
    another kind (jumping a level every year) leave the referrals' forecasts as they were."""
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    rng = np.random.default_rng(3)
    season = 20.0 + 5.0 * np.sin(2 * np.pi * np.arange(120) / 52)
    referrals = pd.concat(
        [
            pd.DataFrame({"unique_id": f"referrals/ot/{d}", "ds": weeks, "y": season + noise})
            for d, noise in (("rugby", rng.normal(0, 2, 120)), ("warwick", rng.normal(0, 3, 120)))
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, referrals, "test", "hash")
    run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    with factory() as session:
        before = repository.latest_forecast_frame(session, "referrals/")
    bulk = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"bulk/test/{i}",
                    "ds": weeks,
                    "y": 50.0 + 40.0 * (np.arange(120) // 52) + rng.normal(0, 5, 120),
                }
            )
            for i in range(4)
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, bulk, "test", "hash2")
    run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    with factory() as session:
        after = repository.latest_forecast_frame(session, "referrals/")
    columns = ["unique_id", "ds", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]
    pd.testing.assert_frame_equal(
        before[columns].reset_index(drop=True), after[columns].reset_index(drop=True)
    )


def test_series_ending_early_are_forecast_to_the_newest_end_plus_the_horizon_within_reason(
    sqlite_settings: Settings,
) -> None:
    """One a week behind reaches the same end as the rest; one stale for longer than a
    horizon is forecast a horizon further, no more."""
    from homeward.pipeline import forecast_by_frequency

    weeks = pd.date_range("2022-01-03", periods=160, freq="W-MON")
    ends = {"referrals/ot/a": 160, "referrals/ot/b": 159, "referrals/ot/stale": 120}
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": uid, "ds": weeks[:n], "y": 20.0 + np.arange(n) % 7})
            for uid, n in ends.items()
        ],
        ignore_index=True,
    )
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    [run] = forecast_by_frequency(history, fast, report=lambda _m: None).runs
    last = run.forecasts.groupby("unique_id")["ds"].max()
    horizon = pd.Timedelta(weeks=fast.forecast_horizon_weeks)
    assert last["referrals/ot/a"] == last["referrals/ot/b"] == weeks[-1] + horizon
    assert last["referrals/ot/stale"] == weeks[119] + 2 * horizon


def test_monthly_series_reach_the_month_the_weekly_forecasts_end_in(
    sqlite_settings: Settings,
) -> None:
    """A weekly plan reads a monthly pressure series for every month it covers."""
    from homeward.pipeline import forecast_by_frequency

    weeks = pd.date_range("2023-01-02", "2025-09-29", freq="W-MON")  # +13 weeks: 2025-12-29
    months = pd.date_range("2021-01-01", "2024-11-01", freq="MS")  # +12 months: 2025-11
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": "referrals/ot/a", "ds": weeks, "y": 20.0}),
            pd.DataFrame({"unique_id": "winter/admissions", "ds": months, "y": 500.0}),
        ],
        ignore_index=True,
    )
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    runs = forecast_by_frequency(history, fast, report=lambda _m: None).runs
    last = pd.concat(r.forecasts for r in runs).groupby("unique_id")["ds"].max()
    assert last["referrals/ot/a"] == pd.Timestamp("2025-12-29")
    assert last["winter/admissions"] == pd.Timestamp("2025-12-01")
    alone = forecast_by_frequency(history.iloc[len(weeks) :], fast, report=lambda _m: None)
    assert len(alone.runs[0].forecasts) == 12  # no weekly series: a year ahead
    longer = fast.model_copy(update={"forecast_horizon_months": 24})  # a two-year monthly plan
    further = forecast_by_frequency(history.iloc[len(weeks) :], longer, report=lambda _m: None)
    assert len(further.runs[0].forecasts) == 24
    stale = history.assign(
        ds=history["ds"].where(
            history["unique_id"] == "referrals/ot/a", history["ds"] - pd.DateOffset(years=3)
        )
    )
    [monthly, _weekly] = forecast_by_frequency(stale, fast, report=lambda _m: None).runs
    assert len(monthly.forecasts) == 2 * 12  # stale by years: a year further only


def test_a_lower_monthly_setting_keeps_the_reach_a_weekly_plan_needs(
    sqlite_settings: Settings,
) -> None:
    """HOMEWARD_FORECAST_HORIZON_MONTHS=6 capped a pressure series at 12 months, short of the
    weekly forecasts' end 14 months on, so weekly plans warned of months planned without
    hospital pressure; the setting is a monthly plan's horizon, not that reach."""
    from homeward.pipeline import forecast_by_frequency

    weeks = pd.date_range("2023-01-02", "2025-09-29", freq="W-MON")  # +13 weeks: 2025-12-29
    months = pd.date_range("2020-01-01", "2024-10-01", freq="MS")  # +14 months: 2025-12
    history = pd.concat(
        [
            pd.DataFrame({"unique_id": "referrals/ot/a", "ds": weeks, "y": 20.0}),
            pd.DataFrame({"unique_id": "winter/admissions", "ds": months, "y": 500.0}),
        ],
        ignore_index=True,
    )
    short = sqlite_settings.model_copy(
        update={"forecast_models": ("seasonal_naive",), "forecast_horizon_months": 6}
    )
    runs = forecast_by_frequency(history, short, report=lambda _m: None).runs
    last = pd.concat(r.forecasts for r in runs).groupby("unique_id")["ds"].max()
    assert last["winter/admissions"] == pd.Timestamp("2025-12-01")


def test_a_district_spelt_otherwise_than_its_uploads_is_named_with_the_uploaded_one(
    factory, sqlite_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:  # type: ignore[no-untyped-def]
    """A new council stores its config first, with `warwik` for the `warwick` its uploads
    use. The run kept its forecasts, and failed with 'found no cases for service ot, district
    warwik, ds ...' (one missing row, it read), with a traceback in the log and no config
    on the run; now it names the series with no forecast and the one uploaded instead."""
    from optimise.errors import PlanInputError
    from tests.optimise.factory import rich_config

    body = rich_config(horizon_periods=13)
    body["districts"][2]["id"] = "warwik"
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    frame = pd.concat(
        pd.DataFrame({"unique_id": f"referrals/{s['id']}/{d}", "ds": weeks, "y": 20.0})
        for s in body["services"]
        for d in ("rugby", "nuneaton-and-bedworth", "warwick")
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
    with pytest.raises(PlanInputError) as refused:
        run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert str(refused.value).startswith(  # at the district's id: a form can mark the field
        "districts.2.id: expected a forecast of referrals for every service and district of "
        "the config"
    )
    assert str(refused.value).endswith(
        "found none for referrals/ot/warwik (forecast but not planned: 'referrals/ot/warwick'); "
        "referrals/hao/warwik (forecast but not planned: 'referrals/hao/warwick'); "
        "referrals/reablement/warwik (forecast but not planned: 'referrals/reablement/warwick'); "
        "referrals/domcare/warwik (forecast but not planned: 'referrals/domcare/warwick')"
    )
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
        assert run.status == "failed" and run.message == f"PlanInputError: {refused.value}"
        assert run.config_id == config_id and run.config_version is not None
        assert len(repository.latest_forecast_frame(session, "referrals/")) > 0  # kept
    failed = [r for r in caplog.records if "failed" in r.getMessage()]
    assert failed and all(r.exc_info is None for r in failed)  # the config's fault: no traceback


def test_a_service_no_district_has_a_forecast_of_is_refused_at_its_id(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """Not at its first district's: every district lacks it, the service is what to mend."""
    from optimise.errors import PlanInputError
    from tests.optimise.factory import rich_config

    body = rich_config(horizon_periods=13)
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    frame = pd.concat(
        pd.DataFrame({"unique_id": f"referrals/{s['id']}/{d['id']}", "ds": weeks, "y": 20.0})
        for s in body["services"][:-1]
        for d in body["districts"]
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    with pytest.raises(PlanInputError) as refused:
        run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert refused.value.field == f"services.{len(body['services']) - 1}.id"


def test_a_run_names_stored_referral_series_its_config_does_not_plan(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """An upload warns of them once; the run's message says so again, each week, while they
    are forecast and planned by none; and the plan's warnings, which the dashboard shows."""
    from tests.optimise.factory import rich_config

    body = rich_config(horizon_periods=13)
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    ids = [f"referrals/{s['id']}/{d['id']}" for s in body["services"] for d in body["districts"]]
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": weeks, "y": 20.0})
        for i in [*ids, "referrals/ot/rugbby"]
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    outcome = run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert outcome.status == "succeeded"
    assert (
        "Warning: the active config 'rich' does not plan 1 of the stored referral series: "
        "referrals/ot/rugbby (district 'rugbby', not the config's; nearest 'rugby')"
    ) in outcome.message
    with transaction(factory) as session:
        warnings = session.get_one(PlanRow, outcome.plan_id).result["warnings"]
    [unplanned] = [w for w in warnings if "does not plan" in w]
    assert unplanned.startswith(
        "the config 'rich' does not plan 1 of the stored referral series: referrals/ot/rugbby"
    )


def test_a_district_stored_but_too_short_to_forecast_is_not_called_misspelt(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    from optimise.errors import PlanInputError
    from tests.optimise.factory import rich_config

    body = rich_config(horizon_periods=13)
    weeks = pd.date_range("2023-01-02", periods=120, freq="W-MON")
    ids = [f"referrals/{s['id']}/{d['id']}" for s in body["services"] for d in body["districts"]]
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": weeks[-1:] if i == ids[-1] else weeks, "y": 20.0})
        for i in ids
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
        repository.save_config(session, body, planning.config_hash(body))
    with pytest.raises(PlanInputError) as refused:
        run_pipeline(factory, sqlite_settings, trigger="demo", report=lambda _m: None)
    assert str(refused.value).endswith(
        f"found none for {ids[-1]} (stored, but the newest run has no forecast of it: too short "
        "to forecast, or stored since; GET /v1/runs says why)"
    )


def test_a_stored_config_that_cannot_be_read_fails_its_run_in_one_line(
    factory, sqlite_settings: Settings
) -> None:  # type: ignore[no-untyped-def]
    """The run's record held pydantic's several-line dump and its link to the docs."""
    _store_two_series(factory)
    body = {**demo_config.demo_planning_config(), "horizon_periods": 0}
    with transaction(factory) as session:
        config_id = repository.save_config(session, body, "unreadable").id
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    with pytest.raises(planning.ConfigUnreadable):
        run_pipeline(factory, fast, trigger="demo", report=lambda _m: None)
    with factory() as session:
        run = repository.list_runs(session, 1)[0]
    assert run.status == "failed" and run.message == (
        f"ConfigUnreadable: the active config (id {config_id}) is not valid: horizon_periods: "
        "Input should be greater than or equal to 1, found 0"
    )
