"""Plan requests as jobs: a config is checked before queueing, a failed job says why, and a
sweep's table names the plan its changes are from."""

from __future__ import annotations

import copy
from typing import Any

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import demo_config, planning, repository
from homeward.storage import transaction
from models import RunRow
from optimise.config import PlanningConfig


def test_scenario_body_needs_a_config_and_checks_it(factory: sessionmaker[Session]) -> None:
    with factory() as session, pytest.raises(planning.NoConfig, match="no planning config"):
        planning.scenario_body(session, None)
    body = demo_config.demo_planning_config(horizon_periods=4)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    with factory() as session:
        assert planning.scenario_body(session, None) == body
        with pytest.raises(ValueError, match="revenue_budget_gbp_per_period"):
            planning.scenario_body(session, {**body, "revenue_budget_gbp_per_period": -5})


def test_a_plan_job_that_cannot_solve_records_why(factory: sessionmaker[Session]) -> None:
    body = demo_config.demo_planning_config(horizon_periods=4)
    run_id = planning.queue_plan(factory)
    with factory() as session:
        assert session.get_one(RunRow, run_id).status == "queued"
    planning.run_plan_job(factory, body, "highs", run_id)  # no forecasts stored: cannot plan
    with factory() as session:
        run = session.get_one(RunRow, run_id)
        assert repository.plan_ids_by_run(session, [run_id]) == {}
    assert run.kind == "plan" and run.status == "failed" and run.finished_at is not None
    assert run.message is not None and run.message.startswith("NoForecasts: no referral forecasts")


def _store_flat_forecasts(
    factory: sessionmaker[Session], body: dict[str, Any], start: str = "2026-01-05"
) -> None:
    """13 weeks from `start` of 20 referrals a week for every service and district of `body`,
    as stored by a forecast run (no plan made)."""
    weeks = pd.date_range(start, periods=13, freq="W-MON")
    ids = [f"referrals/{s['id']}/{d['id']}" for s in body["services"] for d in body["districts"]]
    frame = pd.concat(
        pd.DataFrame({"unique_id": i, "ds": weeks, "model": "flat", "mean": 20.0}) for i in ids
    )
    for column in ("lo-80", "hi-80", "lo-95", "hi-95"):
        frame[column] = 20.0
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, frame, pd.DataFrame())
        run.status = "succeeded"


def _sweep(factory: sessionmaker[Session], body: dict[str, Any]) -> RunRow:
    run_id = planning.queue_sweep(factory)
    planning.run_sweep_job(factory, body, [0.0, 0.2], "highs", run_id)
    with factory() as session:
        return session.get_one(RunRow, run_id)


def test_a_sweep_with_no_active_config_compares_with_its_config_at_its_own_rate(
    factory: sessionmaker[Session],
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=13)
    _store_flat_forecasts(factory, body)  # and no config stored, so no latest plan
    run = _sweep(factory, body)
    assert run.status == "succeeded" and run.sweep is not None and len(run.sweep) == 2
    own = run.sweep[0]["compared_with_plan_id"]
    assert own is not None and own not in {row["plan_id"] for row in run.sweep}  # 0.1: its own
    assert run.message == (
        f"2 of 2 rates planned, compared with plan {own}: the config sent, at its own fee rate "
        f"({body['fees']['dfg_fee_rate']:g}), since no config is active"
    )
    assert [row["compared_with_plan_id"] for row in run.sweep] == [own, own]
    no_fee = run.sweep[0]  # 0.0 against the config's own 10%: less fee income
    assert no_fee["fee_income_gbp_change"] < 0


def test_a_sweep_names_the_latest_plan_each_change_is_from(
    factory: sessionmaker[Session],
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=13)
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    latest = planning.plan_scenario(factory, None, "highs")
    run = _sweep(factory, body)
    assert run.message == f"2 of 2 rates planned, compared with plan {latest.plan_id}"
    assert run.sweep is not None
    assert [row["compared_with_plan_id"] for row in run.sweep] == [latest.plan_id] * 2
    with factory() as session:  # the sweep's plans are what-ifs: the baseline stays latest
        assert repository.latest_plan(session).id == latest.plan_id  # type: ignore[union-attr]


def test_a_sweep_after_newer_forecasts_does_not_compare_other_weeks(
    factory: sessionmaker[Session],
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=13)
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    latest = planning.plan_scenario(factory, None, "highs")
    _store_flat_forecasts(factory, body, start="2026-01-12")  # newer referrals: a week on
    run = _sweep(factory, body)
    assert run.sweep is not None
    for row in run.sweep:
        assert row["compared_with_plan_id"] == latest.plan_id
        assert row["not_comparable"] == (
            f"plan {row['plan_id']} covers 13 periods of 7 days from 2026-01-12, plan "
            f"{latest.plan_id} 13 periods of 7 days from 2026-01-05: totals over other periods "
            "are not compared, so every change is null"
        )
        assert all(row[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)


def test_a_sweep_with_the_fee_charged_to_the_grant_trades_works_for_hours(
    factory: sessionmaker[Session],
) -> None:
    """Paid out of the capital, a 20% fee buys staff hours with works the capital would have
    paid for; on top of it, the fee leaves the works as they were."""
    body = demo_config.demo_planning_config(horizon_periods=13)
    _store_flat_forecasts(factory, body)
    grant = {**body, "fees": {**body["fees"], "charged_to_grant": True}}
    on_top, from_grant = (_sweep(factory, b).sweep or [] for b in (body, grant))
    assert on_top[1]["works_completed"] == pytest.approx(on_top[0]["works_completed"])
    assert from_grant[1]["works_completed"] < from_grant[0]["works_completed"]
    assert from_grant[1]["fee_income_gbp"] > from_grant[0]["fee_income_gbp"]


def _stored_before_the_entry_checks() -> dict[str, Any]:
    """A config the previous release stored and made active, which POST /v1/configs now
    refuses three ways: domcare's charge with no paying share, a fee rate as text, and a
    budget above MAX_MONEY_GBP."""
    body = demo_config.demo_planning_config(horizon_periods=13)
    for service in body["services"]:
        if service["id"] == "domcare":
            service["charge_gbp_per_hour"], service["charge_paying_share"] = 15, 0
    body["fees"] = {**body["fees"], "dfg_fee_rate": "0.2"}
    body["revenue_budget_gbp_per_period"] = 100_000_000_001
    return body


def test_a_config_stored_before_the_entry_checks_still_plans_and_warns_of_its_charge(
    factory: sessionmaker[Session],
) -> None:
    """Such a config made every pipeline run fail after its forecasts with pydantic's dump."""
    body = _stored_before_the_entry_checks()
    with pytest.raises(ValueError, match="charge_paying_share"):
        PlanningConfig.model_validate(body)  # as sent: refused (POST /v1/configs' model)
    _store_flat_forecasts(factory, body)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    with transaction(factory) as session:
        assert planning.planned_series(session)  # its series are known, so not deletable
        solved = planning.solve_config(session, body, "highs")
        config, result = solved.config, solved.result
    assert config.fees.dfg_fee_rate == 0.2 and result.status.value == "optimal"
    [warning] = [w for w in result.warnings if "charge" in w]
    assert warning.startswith(
        "services[domcare]: charge_gbp_per_hour 15 with charge_paying_share 0 has no effect"
    )
    stored = planning.plan_scenario(factory, None, "highs")
    assert stored.plan_id > 0


def test_a_stored_config_that_cannot_be_read_is_one_line_not_pydantics_dump() -> None:
    body = {**demo_config.demo_planning_config(horizon_periods=13), "horizon_periods": 0}
    del body["flows"]
    with pytest.raises(planning.ConfigUnreadable) as raised:
        planning.read_config(body)
    assert str(raised.value) == (
        f"the config {body['name']!r} is not valid: horizon_periods: Input should be greater "
        "than or equal to 1, found 0; flows: expected a value (it is required), found nothing"
    )


def _figures(weighted_wait_days: float) -> dict[str, float | None]:
    return {name: 1000.0 for name in planning.SWEEP_FIGURES} | {
        "weighted_wait_days": weighted_wait_days
    }


@pytest.mark.parametrize(
    ("status", "baseline_status", "said"),
    [
        ("infeasible_relaxed", "optimal", "plan 9 is infeasible_relaxed"),
        ("optimal", "infeasible_relaxed", "plan 4 is infeasible_relaxed"),
    ],
)
def test_a_plan_that_is_not_optimal_shows_no_change_as_an_improvement(
    status: str, baseline_status: str, said: str
) -> None:
    """A what-if of an impossible request (`equity.max_avg_wait_days` 14) is relaxed: its
    waiting fell by 118,410 days only by breaking a limit, which read as a 31% saving."""
    baseline = planning.SweepBaseline(4, _figures(380_000.0), None, baseline_status)
    row = planning.sweep_row(0.1, 9, status, _figures(261_590.0), baseline)
    assert all(row[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
    assert row["weighted_wait_days"] == 261_590.0  # the figure itself is still given
    assert row["compared_with_plan_id"] == 4
    assert row["not_comparable"].startswith(f"{said}")
    assert "not optimal" in row["not_comparable"]


def test_a_plan_the_solver_ended_without_is_not_called_relaxed() -> None:
    """A rate whose solve timed out has no figures: its row said it was "not optimal: a
    relaxed plan broke a limit to exist", the reason of another status."""
    baseline = planning.SweepBaseline(4, _figures(380_000.0), None, "infeasible_relaxed")
    row = planning.sweep_row(0.1, 9, "time_limit", _figures(261_590.0), baseline)
    assert all(row[f"{name}_change"] is None for name in planning.SWEEP_FIGURES)
    assert row["not_comparable"] == (
        "plan 9's solver ended with status time_limit, without a plan (its run's message says "
        "why), so there are no figures to compare; every change is null"
    )


def test_two_optimal_plans_are_compared() -> None:
    baseline = planning.SweepBaseline(4, _figures(380_000.0), None, "optimal")
    row = planning.sweep_row(0.1, 9, "optimal", _figures(261_590.0), baseline)
    assert row["weighted_wait_days_change"] == -118_410.0
    assert row["not_comparable"] is None


def test_ot_weights_that_hold_back_assessments_are_warned_of_when_stored_and_planned(
    factory: sessionmaker[Session],
) -> None:
    """p_ot_dfg x works_wait_weight at or above OT's weight: the least weighted waiting may
    assess no one. Said when the config is stored (before its series are forecast too) and in
    its plan's warnings, once."""
    body = demo_config.demo_planning_config(horizon_periods=13)
    body["works_wait_weight"] = 2.0 / body["flows"]["p_ot_dfg"]  # 2 a day against OT's 1
    with factory() as session:
        before = planning.config_warnings(session, body)  # no forecasts yet
    [said] = [w for w in before if w.startswith("services[ot]: each OT case assessed")]
    assert "may hold back OT assessments" in said and "give OT a wait_weight above 2 " in said
    _store_flat_forecasts(factory, body)
    with factory() as session:
        assert said in planning.config_warnings(session, body)
        solved = planning.solve_config(session, body, "highs")
    assert solved.result.warnings.count(said) == 1


def test_a_what_ifs_changes_name_a_rates_financial_year_to_the_leaf() -> None:
    """A rate given by financial year is a change of each year it changes, its values in
    full; moving from one rate to rates by year is a change of both fields."""
    old = demo_config.demo_planning_config(horizon_periods=2)
    domcare = old["services"][3]
    assert domcare["id"] == "domcare"
    del domcare["cost_per_hour_gbp"]
    domcare["cost_per_hour_gbp_by_year"] = {"2026-27": 23.0, "2027-28": 24.5}
    new = copy.deepcopy(old)
    new["services"][3]["cost_per_hour_gbp_by_year"]["2027-28"] = 25.0
    diff = planning._config_diff(_read(old), _read(new))
    assert diff == [("services[domcare].cost_per_hour_gbp_by_year.2027-28", "24.5", "25")]
    flat = demo_config.demo_planning_config(horizon_periods=2)
    diff = planning._config_diff(_read(flat), _read(old))
    assert diff == [
        ("services[domcare].cost_per_hour_gbp", "23", "null"),
        (
            "services[domcare].cost_per_hour_gbp_by_year",
            "null",
            '{"2026-27": 23, "2027-28": 24.5}',
        ),
    ]


def _read(body: dict[str, Any]) -> PlanningConfig:
    return PlanningConfig.model_validate(body)


def test_a_service_only_one_plan_has_counts_as_none_of_its_hours_or_cost_in_the_other() -> None:
    """A what-if with `hao` removed gave hao's row null changes though the totals' changes
    were given, so the other services' changes did not add up to the total change: a service
    a solved plan does not have is 0 hours and GBP 0 in it."""
    total = planning.ServiceTotal
    mine = {"ot": total(120.0, 5_000.0), "reablement": total(300.0, 8_000.0)}
    theirs = {"ot": total(100.0, 4_200.0), "hao": total(50.0, 1_550.0)}
    compared = {"compared_with_plan_id": 4, "not_comparable": None}
    rows = {r["service"]: r for r in planning.service_changes(mine, theirs, compared)}
    assert list(rows) == ["ot", "reablement", "hao"]
    assert rows["hao"] == {
        "service": "hao",
        "hours": 0.0,
        "compared_hours": 50.0,
        "hours_change": -50.0,
        "net_cost_gbp": 0.0,
        "compared_net_cost_gbp": 1_550.0,
        "net_cost_gbp_change": -1_550.0,
    }
    assert rows["reablement"]["compared_hours"] == 0.0
    assert rows["reablement"]["net_cost_gbp_change"] == 8_000.0
    net_change = sum(r["net_cost_gbp_change"] for r in rows.values())
    assert net_change == (5_000.0 + 8_000.0) - (4_200.0 + 1_550.0)
    # not comparable, or a plan with no service figures (not solved): no change is made up
    apart = {"compared_with_plan_id": 4, "not_comparable": "plan 9 covers other periods"}
    assert all(r["hours_change"] is None for r in planning.service_changes(mine, theirs, apart))
    unsolved = {"ot": total(None, None), "hao": total(None, None)}
    rows = {r["service"]: r for r in planning.service_changes(mine, unsolved, compared)}
    assert rows["reablement"]["compared_hours"] is None
    assert rows["reablement"]["hours_change"] is None


def test_a_comparisons_service_money_is_to_the_penny_as_its_totals_are() -> None:
    """A comparison's by_service kept a sum's float noise (1556755.200000003) where the
    top-level changes are to the penny: its net costs and their changes are too."""
    rows = [
        {"service": "ot", "staff_hours": 1.0, "staff_cost_gbp": cost, "charge_income_gbp": 0.0}
        for cost in (1_556_755.1, 0.1)
    ]
    assert 1_556_755.1 + 0.1 != 1_556_755.2  # the noise a sum makes
    [(service, mine)] = planning.service_totals({"revenue_by_service": rows}, None).items()
    assert (service, mine.net_cost_gbp) == ("ot", 1_556_755.2)
    total = planning.ServiceTotal
    theirs = {"ot": total(1.0, 0.1 + 0.2)}  # 0.30000000000000004
    compared = {"compared_with_plan_id": 4, "not_comparable": None}
    [row] = planning.service_changes({"ot": total(2.0, 0.0)}, theirs, compared)
    assert (row["compared_net_cost_gbp"], row["net_cost_gbp_change"]) == (0.3, -0.3)
