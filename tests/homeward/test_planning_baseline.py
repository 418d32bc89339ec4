"""A sweep's changes are from the active config's latest plan, never an older config's; its
figures count agency spend; a config's winter months are the ones planned; the pipeline leaves
out series it cannot forecast with spread, and sets the referral horizon by the referral series."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.exports import spent_to_the_penny
from homeward.pipeline import forecast_by_frequency, run_pipeline
from homeward.settings import Settings
from homeward.storage import transaction
from models import PlanningConfigRow, PlanRow, RunRow


def _store_flat_forecasts(
    factory: sessionmaker[Session],
    body: dict[str, Any],
    level: float = 20.0,
    start: str = "2026-01-05",
) -> None:
    """13 weeks from `start` of `level` referrals a week for every service and district of
    `body`."""
    weeks = pd.date_range(start, periods=13, freq="W-MON")
    ids = [f"referrals/{s['id']}/{d['id']}" for s in body["services"] for d in body["districts"]]
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": weeks, "model": "flat", "mean": level}) for i in ids
    )
    for column in ("lo-80", "hi-80", "lo-95", "hi-95"):
        frame[column] = level
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, frame, pd.DataFrame())
        run.status = "succeeded"


def _sweep(factory: sessionmaker[Session], body: dict[str, Any], rates: list[float]) -> RunRow:
    run_id = planning.queue_sweep(factory)
    planning.run_sweep_job(factory, body, rates, "highs", run_id)
    with factory() as session:
        return session.get_one(RunRow, run_id)


def _body(**changes: Any) -> dict[str, Any]:
    body = demo_config.demo_planning_config(horizon_periods=13)
    body.pop("winter", None)  # flat January forecasts: no pressure series stored
    return {**body, **changes}


def test_a_sweep_after_a_new_config_does_not_credit_the_fee_with_the_budget(
    factory: sessionmaker[Session],
) -> None:
    old = _body()
    _store_flat_forecasts(factory, old)
    with transaction(factory) as session:
        repository.save_config(session, old, planning.config_hash(old))
    old_plan = planning.plan_scenario(factory, None, "highs")
    # a finance officer stores a config with a bigger budget: the old config's plan is still
    # GET /v1/plans/latest, but it is not the active config's plan
    new = _body(revenue_budget_gbp_per_period=1.5 * old["revenue_budget_gbp_per_period"])
    with transaction(factory) as session:
        repository.save_config(session, new, planning.config_hash(new))
    with factory() as session:
        assert repository.latest_plan(session).id == old_plan.plan_id  # type: ignore[union-attr]
        assert planning.active_config_plan(session) is None
    rate = old["fees"]["dfg_fee_rate"]
    run = _sweep(factory, new, [rate, 0.2])
    assert run.status == "succeeded" and run.sweep is not None
    for row in run.sweep:  # nothing to compare with: no change at all, not the budget's
        assert row["compared_with_plan_id"] is None
        assert all(row[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
    assert run.message is not None
    assert "no changes" in run.message and "has no plan yet" in run.message
    # once the active config is planned, a sweep compares with that plan, and its own rate
    # changes nothing
    new_plan = planning.plan_scenario(factory, None, "highs")
    run = _sweep(factory, new, [rate, 0.2])
    assert run.message == f"2 of 2 rates planned, compared with plan {new_plan.plan_id}"
    same = (run.sweep or [])[0]
    assert same["compared_with_plan_id"] == new_plan.plan_id
    assert same["weighted_wait_days_change"] == pytest.approx(0.0, abs=1e-3)
    assert same["staff_cost_gbp_change"] == pytest.approx(0.0, abs=1e-2)


def test_a_sweep_over_other_periods_than_its_baseline_says_it_was_not_compared(
    factory: sessionmaker[Session],
) -> None:
    """Newer referrals stored after the active config was planned start every rate's plan
    later: the message said "compared with plan N" though every change was null."""
    body = _body()
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    baseline = planning.plan_scenario(factory, None, "highs").plan_id
    _store_flat_forecasts(factory, body, start="2026-01-12")
    run = _sweep(factory, body, [0.1, 0.2])
    assert run.status == "succeeded" and run.sweep is not None
    assert all(row["not_comparable"] for row in run.sweep)
    assert run.message == (
        f"2 of 2 rates planned, not compared with plan {baseline}: {run.sweep[0]['not_comparable']}"
    )
    assert f"plan {baseline} 13 periods of 7 days from 2026-01-05" in run.message


def test_a_config_stored_again_after_another_compares_with_its_earlier_plan(
    factory: sessionmaker[Session],
) -> None:
    """A finance officer tries a bigger budget, then stores the original back: a new version
    (a new id) of the same config, whose plan is the one made before; a sweep compares with
    it rather than finding 'no plan yet' until the pipeline runs again."""
    old = _body()
    _store_flat_forecasts(factory, old)
    with transaction(factory) as session:
        first = repository.save_config(session, old, planning.config_hash(old)).id
    old_plan = planning.plan_scenario(factory, None, "highs")
    bigger = _body(revenue_budget_gbp_per_period=1.5 * old["revenue_budget_gbp_per_period"])
    with transaction(factory) as session:
        repository.save_config(session, bigger, planning.config_hash(bigger))
        assert planning.active_config_plan(session) is None  # the bigger budget: no plan
        again = repository.save_config(session, old, planning.config_hash(old))
        assert again.id != first  # a new version of the same content
    with factory() as session:
        found = planning.active_config_plan(session)
        assert found is not None and found.id == old_plan.plan_id
    run = _sweep(factory, old, [old["fees"]["dfg_fee_rate"], 0.2])
    assert run.message == f"2 of 2 rates planned, compared with plan {old_plan.plan_id}"
    assert run.sweep is not None
    assert run.sweep[0]["weighted_wait_days_change"] == pytest.approx(0.0, abs=1e-3)


def test_a_sweep_of_a_config_with_other_changes_compares_with_it_at_its_own_rate(
    factory: sessionmaker[Session],
) -> None:
    """A finance officer sweeps fees on a bigger budget without storing it: each rate's
    changes are from that budget at its own fee rate, not from the active config's plan,
    which would credit the fee with the budget."""
    active = _body()
    _store_flat_forecasts(factory, active)
    with transaction(factory) as session:
        repository.save_config(session, active, planning.config_hash(active))
    active_plan = planning.plan_scenario(factory, None, "highs").plan_id
    rate = active["fees"]["dfg_fee_rate"]
    bigger = _body(revenue_budget_gbp_per_period=1.5 * active["revenue_budget_gbp_per_period"])
    run = _sweep(factory, bigger, [0.3, rate])
    assert run.status == "succeeded" and run.sweep is not None
    at_own_rate, at_other = run.sweep[1], run.sweep[0]
    own_plan = at_own_rate["plan_id"]
    assert own_plan != active_plan
    assert [row["compared_with_plan_id"] for row in run.sweep] == [own_plan, own_plan]
    assert all(at_own_rate[f"{name}_change"] == 0 for name in planning.SWEEP_FIGURES)
    for name in planning.SWEEP_FIGURES:
        expected = at_other[name] - at_own_rate[name]
        assert at_other[f"{name}_change"] == pytest.approx(expected, abs=1e-6), name
    assert run.message == (
        f"2 of 2 rates planned, compared with plan {own_plan}: the config sent, at its own fee "
        f"rate ({rate:g}), since it differs from the active config in "
        "revenue_budget_gbp_per_period"
    )
    for row in run.sweep:  # the simulation's delayed days beside the LP's, from its rows
        with factory() as session:
            result = session.get_one(PlanRow, row["plan_id"]).result
        share = {  # those who wait in hospital: the config's share, else all for these two
            sv["id"]: sv.get("hospital_share", float(sv["id"] in {"reablement", "domcare"}))
            for sv in bigger["services"]
        }
        simulated = sum(
            r["sim_person_days"] * share.get(r["service"], 0.0) for r in result["simulation"]
        )
        assert simulated > 0 and row["simulated_dtoc_days"] == pytest.approx(simulated)
    with factory() as session:  # the baseline is a what-if too, planned once
        config = session.get_one(PlanningConfigRow, session.get_one(PlanRow, own_plan).config_id)
        assert config.scenario is True
        assert (
            config.body["revenue_budget_gbp_per_period"]
            == (bigger["revenue_budget_gbp_per_period"])
        )
    # a config differing only in its name is still the active config's plan to compare with
    renamed = _body(name="fees 2027", version="draft")
    run = _sweep(factory, renamed, [0.3, rate])
    assert run.message == f"2 of 2 rates planned, compared with plan {active_plan}"


def _with_agency(body: dict[str, Any], hours: float) -> dict[str, Any]:
    teams = [
        {
            **team,
            "hours": {s: {**h, "agency_max_per_period": hours} for s, h in team["hours"].items()},
        }
        for team in body["teams"]
    ]
    return {**body, "teams": teams}


def test_sweep_figures_count_agency_spend_beside_staff_spend(
    factory: sessionmaker[Session],
) -> None:
    body = _with_agency(_body(), 300.0)
    body["revenue_budget_gbp_per_period"] *= 3  # money for agency hours past the ceilings
    _store_flat_forecasts(factory, body, level=40.0)
    run = _sweep(factory, body, [0.0, 0.3])
    assert run.sweep is not None
    with factory() as session:
        for row in run.sweep:
            result = session.get_one(PlanRow, row["plan_id"]).result
            staff = sum(r["staff_cost_gbp"] for r in result["revenue"])
            agency = sum(r["agency_cost_gbp"] for r in result["revenue"])
            assert row["staff_cost_gbp"] == pytest.approx(staff)
            assert row["agency_cost_gbp"] == pytest.approx(agency)
            assert row["revenue_cost_gbp"] == pytest.approx(staff + agency)
            fee = sum(r["fee_income_gbp"] for r in result["revenue"])
            assert row["net_revenue_cost_gbp"] == pytest.approx(staff + agency - fee)
            unspent = sum(r["headroom_gbp"] for r in result["revenue"])
            assert row["unspent_budget_gbp"] == pytest.approx(unspent)
            assert row["agency_hours"] == pytest.approx(
                sum(r["agency_hours"] for r in result["staffing"])
            )
    assert any(row["agency_cost_gbp"] > 0 for row in run.sweep)


def test_plan_figures_of_a_plan_that_did_not_solve_are_none_not_zero() -> None:
    figures = planning.plan_figures(None, {"revenue": [], "staffing": [], "capital": []})
    assert figures["staff_cost_gbp"] is None and figures["revenue_cost_gbp"] is None
    assert figures["agency_cost_gbp"] is None and figures["weighted_wait_days"] is None
    assert figures["net_revenue_cost_gbp"] is None and figures["unspent_budget_gbp"] is None
    assert figures["revenue_budget_gbp"] is None


def test_plan_figures_give_the_budget_and_no_round_off_left_of_a_budget_spent() -> None:
    """The revenue budget is a figure of its own, so a what-if that raises it adds up without
    its config_changes; and a financial year's budget spent to the penny, its weeks' headroom
    over and under it summing to -2.6e-10 GBP (a demo what-if's), leaves 0 unspent, not an
    overspend of -0."""
    weeks = [(108_595.0, 5_000.0), (108_595.0, -2_500.0), (108_595.0, -2_500.0 - 2.6e-10)]
    revenue = [
        {"staff_cost_gbp": b - h, "agency_cost_gbp": 0.0, "fee_income_gbp": 0.0}
        | {"charge_income_gbp": 0.0, "budget_gbp": b, "net_cost_gbp": b - h, "headroom_gbp": h}
        for b, h in weeks
    ]
    result = {"revenue": revenue, "staffing": [], "capital": []}
    figures = planning.plan_figures(1.0, result)
    assert figures["revenue_budget_gbp"] == pytest.approx(3 * 108_595.0)
    unspent = figures["unspent_budget_gbp"]
    assert unspent == 0.0 and str(unspent) == "0.0"  # not -2.6e-10, nor -0.0
    assert "revenue_budget_gbp" in planning.SWEEP_FIGURES
    base = planning.SweepBaseline(1, planning.plan_figures(1.0, result))
    raised = [
        r | {"budget_gbp": 130_000.0, "headroom_gbp": 130_000.0 - r["net_cost_gbp"]}
        for r in revenue
    ]
    figures = planning.plan_figures(1.0, {**result, "revenue": raised})
    row = planning.sweep_row(0.1, 2, "optimal", figures, base)
    assert row["revenue_budget_gbp_change"] == pytest.approx(3 * (130_000.0 - 108_595.0))
    assert row["net_revenue_cost_gbp_change"] + row["unspent_budget_gbp_change"] == (
        pytest.approx(row["revenue_budget_gbp_change"])
    )


def test_no_forecasts_names_the_pipeline_not_the_file_command(
    factory: sessionmaker[Session],
) -> None:
    with factory() as session, pytest.raises(planning.NoForecasts) as raised:
        planning.stored_demand(session)
    message = str(raised.value)
    assert "run the pipeline first (POST /v1/runs" in message
    assert "run `homeward forecast`" not in message


def _pressure(months: pd.DatetimeIndex, summer_peak: float) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A monthly pressure series whose forecast peaks in June and July, and its history."""
    history_months = pd.date_range(months[0] - pd.DateOffset(years=3), periods=36, freq="MS")
    level = lambda m: 1000.0 * (summer_peak if m.month in (6, 7) else 1.0)  # noqa: E731
    history = pd.DataFrame(
        {"unique_id": "winter/p", "ds": history_months, "y": [level(m) for m in history_months]}
    )
    mean = [level(m) for m in months]
    forecast = pd.DataFrame({"unique_id": "winter/p", "ds": months, "mean": mean})
    for column in ("lo-80", "hi-80", "lo-95", "hi-95"):
        forecast[column] = forecast["mean"]
    return forecast, history


def test_a_configs_winter_months_are_the_months_raised() -> None:
    """A config planning a summer surge (months [6, 7]) raises June and July by the pressure
    index, and does not warn that the forecast misses them."""
    from optimise.config import WinterConfig

    weeks = pd.date_range("2026-04-06", periods=20, freq="W-MON")  # April to August
    demand = pd.DataFrame({"service": "ot", "district": "a", "ds": weeks, "cases": 10.0})
    forecast, history = _pressure(pd.date_range("2026-04-01", periods=12, freq="MS"), 1.3)
    summer = WinterConfig(pressure_series="winter/p", months=(6, 7))
    raised, warnings = planning.winter_pressure(demand, summer, forecast, history)
    assert warnings == ()
    month = pd.DatetimeIndex(raised["ds"]).month
    assert (raised.loc[month.isin([6, 7]), "winter_index"] > 1.2).all()
    assert (raised.loc[~month.isin([6, 7]), "winter_index"] == 1.0).all()
    # the API's winter index (and a config without months) stays November to March
    index = planning.pressure_index(forecast, history, "mean")
    assert set(pd.DatetimeIndex(index["ds"]).month) <= {11, 12, 1, 2, 3}


def test_a_one_observation_series_is_left_out_of_forecasting_with_a_warning(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    weeks = pd.date_range("2024-01-01", periods=110, freq="W-MON")
    frame = pd.concat(
        [
            pd.DataFrame(
                {"unique_id": "referrals/ot/rugby", "ds": weeks, "y": 20.0 + np.arange(110) % 5}
            ),
            pd.DataFrame({"unique_id": "referrals/ot/coventry", "ds": weeks[-1:], "y": [20.0]}),
        ],
        ignore_index=True,
    )
    with transaction(factory) as session:
        repository.store_observations(session, frame, "test", "hash")
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive", "ses")})
    outcome = run_pipeline(factory, fast, trigger="demo", report=lambda _m: None)
    assert outcome.status == "forecast_only"
    assert "Warning: referrals/ot/coventry left out of forecasting" in outcome.message
    assert f"found 1 ({weeks[-1]:%Y-%m-%d})" in outcome.message
    with factory() as session:
        stored = repository.latest_forecast_frame(session, "referrals/")
    assert set(stored["unique_id"]) == {"referrals/ot/rugby"}
    assert (stored["hi-80"] > stored["lo-80"]).all()


def _weekly(uid: str, start: str, periods: int) -> pd.DataFrame:
    weeks = pd.date_range(start, periods=periods, freq="W-MON")
    return pd.DataFrame({"unique_id": uid, "ds": weeks, "y": 20.0 + np.arange(periods) % 7})


def test_an_unrelated_series_with_later_dates_does_not_stretch_the_referral_horizon(
    sqlite_settings: Settings,
) -> None:
    referrals = _weekly("referrals/ot/a", "2023-01-02", 150)
    later = _weekly("footfall/library", "2024-06-03", 150)  # ends about 74 weeks later
    history = pd.concat([referrals, later], ignore_index=True)
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    said: list[str] = []
    [run] = forecast_by_frequency(history, fast, report=said.append).runs
    last = run.forecasts.groupby("unique_id")["ds"].max()
    horizon = pd.Timedelta(weeks=fast.forecast_horizon_weeks)
    assert last["referrals/ot/a"] == referrals["ds"].max() + horizon
    assert last["footfall/library"] == later["ds"].max() + horizon
    assert not any("ends early" in line for line in said), said
    assert run.forecasts.groupby("unique_id").size().max() == fast.forecast_horizon_weeks


def test_the_configs_series_set_the_horizon_not_another_referral_upload(
    sqlite_settings: Settings,
) -> None:
    planned = [_weekly(f"referrals/ot/{d}", "2023-01-02", 150) for d in ("a", "b")]
    neighbour = _weekly("referrals/ot/elsewhere", "2023-06-05", 150)  # 22 weeks later
    history = pd.concat([*planned, neighbour], ignore_index=True)
    fast = sqlite_settings.model_copy(update={"forecast_models": ("seasonal_naive",)})
    anchors = {"referrals/ot/a", "referrals/ot/b"}
    [run] = forecast_by_frequency(history, fast, lambda _m: None, anchors=anchors).runs
    last = run.forecasts.groupby("unique_id")["ds"].max()
    horizon = pd.Timedelta(weeks=fast.forecast_horizon_weeks)
    assert last["referrals/ot/a"] == last["referrals/ot/b"] == planned[0]["ds"].max() + horizon
    assert last["referrals/ot/elsewhere"] == neighbour["ds"].max() + horizon


def test_the_pipelines_forecast_settings_backtest_at_its_plain_horizons(
    sqlite_settings: Settings,
) -> None:
    """`homeward plan` forecasts the demo offline with these, so its plan is the pipeline's: a
    14-month pressure forecast backtested 14 months ahead sized its interval, and so the q90
    winter index, differently from the pipeline's 12 (their objectives then differed by 0.7%)."""
    from homeward.pipeline import forecast_settings

    monthly = forecast_settings(sqlite_settings, "MS", 14)
    weekly = forecast_settings(sqlite_settings, "W-MON", 52)
    assert (monthly.horizon, monthly.backtest_horizon) == (
        14,
        sqlite_settings.forecast_horizon_months,
    )
    assert (weekly.horizon, weekly.backtest_horizon) == (52, sqlite_settings.forecast_horizon_weeks)
    assert monthly.pool_by_kind and weekly.backtest_folds == sqlite_settings.forecast_backtest_folds


def _with_charge(body: dict[str, Any], service: str, gbp_per_hour: float, share: float) -> dict:
    services = [
        {**s, "charge_gbp_per_hour": gbp_per_hour, "charge_paying_share": share}
        if s["id"] == service
        else s
        for s in body["services"]
    ]
    return {**body, "services": services}


def test_with_care_charges_a_sweeps_net_cost_and_unspent_budget_add_up_to_the_budget(
    factory: sessionmaker[Session],
) -> None:
    # a finance officer saw net cost + unspent exceed the budget by exactly the charge income:
    # the net cost left the charges in, which the plan's own revenue table takes out
    body = _with_charge(_body(), "reablement", 10.0, 0.5)
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    active = planning.plan_scenario(factory, None, "highs").plan_id
    run = _sweep(factory, body, [body["fees"]["dfg_fee_rate"], 0.3])
    assert run.status == "succeeded" and run.sweep is not None
    with factory() as session:
        for row in run.sweep:
            revenue = session.get_one(PlanRow, row["plan_id"]).result["revenue"]
            charges = sum(r["charge_income_gbp"] for r in revenue)
            budget = sum(r["budget_gbp"] for r in revenue)
            assert charges > 0 and row["charge_income_gbp"] == pytest.approx(charges)
            assert row["net_revenue_cost_gbp"] == pytest.approx(
                sum(r["net_cost_gbp"] for r in revenue)
            )
            assert row["net_revenue_cost_gbp"] + row["unspent_budget_gbp"] == pytest.approx(
                budget, abs=1.0
            )
            assert row["compared_with_plan_id"] == active
            assert row["charge_income_gbp_change"] is not None
        result = session.get_one(PlanRow, active).result
    assert run.sweep[0]["charge_income_gbp_change"] == pytest.approx(0.0, abs=1e-6)
    figures = planning.plan_figures(None, result)
    net, unspent = figures["net_revenue_cost_gbp"], figures["unspent_budget_gbp"]
    assert net is not None and unspent is not None
    budget = sum(r["budget_gbp"] for r in result["revenue"])
    assert net + unspent == pytest.approx(budget, abs=1.0)


def _revenue_row(staff: float, budget: float, fee: float = 0.0) -> dict[str, float]:
    net = staff - fee
    return {"staff_cost_gbp": staff, "agency_cost_gbp": 0.0, "fee_income_gbp": fee} | {
        "charge_income_gbp": 0.0,
        "budget_gbp": budget,
        "net_cost_gbp": net,
        "headroom_gbp": budget - net,
    }


def test_plan_figures_give_money_to_the_penny_and_net_and_unspent_add_up_to_the_budget() -> None:
    """A sum of 13 weeks' staff cost was 6098600.8999999985 in the JSON, and a year's net cost
    2063305.0000000005 beside a budget of 2063305.0 (read as over budget while 0.0 was left
    unspent): money figures are to the penny, with net cost and unspent budget adding up to
    the budget in pennies, rounded each alone or not."""
    week = 6_098_600.9 / 13
    result = {
        "revenue": [_revenue_row(week, week + 0.5) for _ in range(13)],
        "staffing": [],
        "capital": [],
    }
    figures = planning.plan_figures(1.0, result)
    assert sum(r["staff_cost_gbp"] for r in result["revenue"]) != 6_098_600.9  # float noise
    assert repr(figures["staff_cost_gbp"]) == "6098600.9"
    assert repr(figures["revenue_cost_gbp"]) == "6098600.9"
    assert repr(figures["net_revenue_cost_gbp"]) == "6098600.9"
    assert repr(figures["revenue_budget_gbp"]) == "6098607.4"
    assert repr(figures["unspent_budget_gbp"]) == "6.5"
    # GBP 1000.006 less 500.004: rounded each alone, 1000.01 against 500.0 + 500.0
    odd = {**result, "revenue": [_revenue_row(500.004, 1000.006)]}
    figures = planning.plan_figures(1.0, odd)
    assert (figures["revenue_budget_gbp"], figures["net_revenue_cost_gbp"]) == (1000.01, 500.0)
    assert figures["unspent_budget_gbp"] == 500.01
    # a change between two plans' figures is to the penny too, not 419752.4399999976
    base = planning.SweepBaseline(1, planning.plan_figures(1.0, result))
    row = planning.sweep_row(0.1, 2, "optimal", figures, base)
    assert repr(row["net_revenue_cost_gbp_change"]) == "-6098100.9"
    assert row["weighted_wait_days_change"] == 0.0


def test_a_sweep_not_compared_with_its_own_rates_relaxed_plan_says_so_and_why_that_plan(
    factory: sessionmaker[Session],
) -> None:
    """A config with no revenue budget sent to sweep 5%, 50% and 100%: its own rate's plan
    (10%, the baseline) and 5% and 50% are relaxed, 100% optimal. The message gave the first
    row's reason ("plan 3 is infeasible_relaxed and plan 2 ...": the 100% row is optimal)
    and dropped why plan 2 is the baseline (the config sent differs in its budget)."""
    body = _body()
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    planning.plan_scenario(factory, None, "highs")
    run = _sweep(factory, _body(revenue_budget_gbp_per_period=0), [0.05, 0.5, 1.0])
    assert run.status == "succeeded" and run.sweep is not None
    assert [row["status"] for row in run.sweep] == [
        "infeasible_relaxed",
        "infeasible_relaxed",
        "optimal",
    ]
    own = run.sweep[0]["compared_with_plan_id"]
    assert all(row["not_comparable"] for row in run.sweep)
    rate = body["fees"]["dfg_fee_rate"]
    assert run.message == (
        f"3 of 3 rates planned, not compared with plan {own} (the config sent, at its own fee "
        f"rate ({rate:g}), since it differs from the active config in "
        f"revenue_budget_gbp_per_period): plan {own} is infeasible_relaxed, not optimal: a "
        "relaxed plan broke a limit to exist (its `relaxations` name it), so its waits and "
        "costs are of no plan the config allows and a change to or from them is no saving; "
        "every change is null"
    )


def test_a_what_if_before_the_active_config_is_planned_says_there_is_nothing_to_compare(
    factory: sessionmaker[Session],
) -> None:
    """Every change, compared_with_plan_id and not_comparable were null with no reason; a
    sweep's message said why. Two stored plans are still compared as before."""
    body = _body()
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        active = repository.save_config(session, body, planning.config_hash(body)).id
    cheaper = _body(revenue_budget_gbp_per_period=0.9 * body["revenue_budget_gbp_per_period"])
    stored, comparison = planning.plan_what_if(factory, cheaper, "highs")
    assert comparison["compared_with_plan_id"] is None
    assert all(comparison[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
    assert comparison["not_comparable"] == (
        f"the active config (id {active}) has no plan yet: nothing to compare with, so every "
        "change is null (the pipeline plans it: POST /v1/runs, or the schedule)"
    )
    assert comparison["config_changes"] == [
        f"revenue_budget_gbp_per_period: {body['revenue_budget_gbp_per_period']:g} -> "
        f"{cheaper['revenue_budget_gbp_per_period']:g}"
    ]
    planned = planning.plan_scenario(factory, None, "highs")
    with factory() as session:
        what_if, latest = (session.get_one(PlanRow, p.plan_id) for p in (stored, planned))
        compared = planning.compare_plans(session, what_if, latest)
    assert compared["compared_with_plan_id"] == planned.plan_id
    assert compared["not_comparable"] is None
    assert compared["revenue_budget_gbp_change"] == pytest.approx(
        -0.1 * body["revenue_budget_gbp_per_period"] * 13
    )


def test_headline_money_is_its_unrounded_parts_rounded_once_as_the_years_are() -> None:
    """Staff GBP 100.004 and agency GBP 100.004 were each taken to the penny (100.0) and then
    summed: a revenue cost of 200.0 and a net cost of 200.0, where the year's rows (net cost
    summed, then to the penny) said 200.01. The headline now sums the parts first."""
    row = _revenue_row(100.004, 1000.0) | {"agency_cost_gbp": 100.004, "net_cost_gbp": 200.008}
    row["headroom_gbp"] = 1000.0 - 200.008
    figures = planning.plan_figures(1.0, {"revenue": [row], "staffing": [], "capital": []})
    assert (figures["staff_cost_gbp"], figures["agency_cost_gbp"]) == (100.0, 100.0)
    assert figures["revenue_cost_gbp"] == 200.01
    # as the year's row in the summary reckons it (`spent_to_the_penny`)
    net, unspent = spent_to_the_penny(1000.0, 200.008)
    assert (figures["net_revenue_cost_gbp"], figures["unspent_budget_gbp"]) == (net, unspent)
    assert (net, unspent) == (200.01, 799.99)


def test_a_relaxed_row_that_is_its_own_baseline_is_said_once() -> None:
    """A sweep whose own rate's plan is the baseline said "plan 26 is infeasible_relaxed and
    plan 26 is infeasible_relaxed"."""
    figures = planning.plan_figures(1.0, {"revenue": [], "staffing": [], "capital": []})
    base = planning.SweepBaseline(26, figures, status="infeasible_relaxed")
    row = planning.sweep_row(0.1, 26, "infeasible_relaxed", figures, base)
    assert row["not_comparable"].startswith("plan 26 is infeasible_relaxed, not optimal: ")
    other = planning.sweep_row(0.2, 27, "infeasible_relaxed", figures, base)
    assert other["not_comparable"].startswith(
        "plan 27 is infeasible_relaxed and plan 26 is infeasible_relaxed, not optimal: "
    )
