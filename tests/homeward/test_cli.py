"""The `homeward` command line: help, import (long and NHS DTOC files), forecast to CSV, plan."""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import text

from api.schemas import PlanRevenueYearRowPublic, PlanStaffingRowPublic
from homeward import api_keys, demo_config, planning, repository
from homeward.cli import _parser, main
from homeward.clock import utcnow
from homeward.commands import _serve, demo_auth
from homeward.dtoc import read_nhs_dtoc
from homeward.ingest import MAX_COLUMNS
from homeward.roles import Role
from homeward.settings import get_settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from optimise.config import PlanningConfig

FORECAST_COLUMNS = ["unique_id", "ds", "model", "mean", "lo-80", "hi-80", "lo-95", "hi-95"]


def _count(url: str, table: str) -> int:
    with session_factory(make_engine(url))() as session:
        return int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())


def test_help_lists_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for command in ("import", "forecast", "plan", "serve", "demo", "keys", "migrate", "purge"):
        assert command in out


def _without_help(parser: argparse.ArgumentParser, name: str) -> list[str]:
    found = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for command, sub in action.choices.items():
                found += _without_help(sub, f"{name} {command}")
        elif action.help is None:
            found.append(f"{name} {'/'.join(action.option_strings) or action.dest}")
    return found


def test_every_option_of_every_command_says_what_it_does() -> None:
    """`homeward plan --help` listed `--solver {highs,pulp-highs,cbc}` with no word on them."""
    assert _without_help(_parser(), "homeward") == []


def test_import_the_real_nhs_dtoc_file(
    db_env: str, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = shared_data / "dtoc-monthly" / "dtoc_la_monthly.csv"
    assert main(["import", str(path)]) == 0
    expected = len(read_nhs_dtoc(path))
    assert _count(db_env, "observations") == expected
    assert "imported" in capsys.readouterr().out


def _two_weeks_of_rugby(tmp_path: Path) -> Path:
    """A valid observations file: two weeks of one district's OT referrals."""
    good = tmp_path / "good.csv"
    good.write_text(
        "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\nreferrals/ot/rugby,2025-01-13,5\n"
    )
    return good


def test_a_bad_file_is_rejected_with_row_and_column_and_stores_nothing(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _two_weeks_of_rugby(tmp_path)
    assert main(["import", str(good)]) == 0
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "unique_id,ds,y\nreferrals/hao/rugby,2025-01-06,4\nreferrals/hao/rugby,2025-01-14,5\n"
    )
    assert main(["import", str(bad)]) == 2
    err = capsys.readouterr().err
    assert "row 3" in err and "'ds'" in err and "2025-01-14" in err
    assert _count(db_env, "observations") == 2
    assert _count(db_env, "imports") == 1


@pytest.mark.parametrize("models", [None, "seasonal_naive,ets,prophet"])
def test_forecast_cli_on_real_dtoc_series(
    tmp_path: Path, shared_data: Path, models: str | None
) -> None:
    history = read_nhs_dtoc(
        shared_data / "dtoc-monthly" / "dtoc_la_monthly.csv", metrics=["days_total"]
    )
    picked = history[history["unique_id"].isin(["dtoc_days/warwickshire", "dtoc_days/halton"])]
    source = tmp_path / "in.csv"
    picked.to_csv(source, index=False, date_format="%Y-%m-%d")
    out, metrics, shifts = tmp_path / "out.csv", tmp_path / "metrics.csv", tmp_path / "s.csv"
    code = main(
        [
            "forecast",
            "--input",
            str(source),
            "--horizon",
            "6",
            "--output",
            str(out),
            "--metrics",
            str(metrics),
            "--shifts",
            str(shifts),
            "--folds",
            "2",
            "--jobs",
            "1",
            *(["--models", models] if models else []),
        ]
    )
    assert code == 0
    result = pd.read_csv(out)
    assert list(result.columns) == FORECAST_COLUMNS
    assert sorted(result["unique_id"].unique()) == ["dtoc_days/halton", "dtoc_days/warwickshire"]
    assert (result.groupby("unique_id").size() == 6).all()
    assert result["ds"].min() == "2019-01-01"
    assert (result["lo-95"] <= result["lo-80"]).all() and (result["hi-80"] <= result["hi-95"]).all()
    scores = pd.read_csv(metrics)
    assert {"mase", "smape", "coverage_80"} <= set(scores.columns)
    if models:
        assert set(scores["model"]) == set(models.split(","))
        assert set(result["model"]) <= set(models.split(","))
    # Halton's delayed days stepped up by about a fifth in 2017-08; Warwickshire's 2017 fall
    # was gradual (a trend to the local test), so it is not reported as a step
    found = pd.read_csv(shifts)
    assert list(found.columns) == ["unique_id", "ds", "ratio", "t_stat"]
    halton = found[found["unique_id"] == "dtoc_days/halton"]
    assert halton["ds"].tolist() == ["2017-08-01"] and 1.1 < halton["ratio"].iloc[0] < 1.3


def _plan_files(tmp_path: Path, body: dict[str, Any]) -> tuple[Path, Path]:
    """A config file, and demand of 10 cases a week (P90 13) for every service and district,
    with a winter pressure index of 1.2 in January."""
    config = tmp_path / "config.json"
    config.write_text(json.dumps(body))
    weeks = pd.date_range("2026-01-05", periods=body["horizon_periods"], freq="W-MON")
    demand = pd.DataFrame(
        [
            {
                "service": s["id"],
                "district": d["id"],
                "ds": w.date().isoformat(),
                "cases": 10.0,
                "q90": 13.0,
                "winter_index": 1.2 if w.month == 1 else 1.0,
                "normal_cases": 10.0,
            }
            for s in body["services"]
            for d in body["districts"]
            for w in weeks
        ]
    )
    demand_path = tmp_path / "demand.csv"
    demand.to_csv(demand_path, index=False)
    return config, demand_path


def test_plan_cli_with_config_demand_and_mps(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=4))
    mps = tmp_path / "plan.mps"
    code = main(
        ["plan", "--config", str(config), "--demand", str(demand_path), "--write-mps", str(mps)]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "optimal" in out.lower() and "revenue" in out.lower()
    assert mps.read_text().startswith(("*", "NAME"))


def test_plan_cli_costs_each_year_at_its_rate_and_names_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config file with home care's rate by financial year plans (its weeks from January
    2026 start in 2025-26); a negative rate, or none for that year, is refused naming the
    field."""
    body = demo_config.demo_planning_config(horizon_periods=2)
    index = [s["id"] for s in body["services"]].index("domcare")
    domcare = body["services"][index]
    del domcare["cost_per_hour_gbp"]
    domcare["cost_per_hour_gbp_by_year"] = {"2025-26": 23.0, "2026-27": 25.0}
    config, demand_path = _plan_files(tmp_path, body)
    csv = tmp_path / "tables"
    plan = ["plan", "--config", str(config), "--demand", str(demand_path), "--csv", str(csv)]
    assert main(plan) == 0
    rows = pd.read_csv(csv / "revenue_by_service.csv")
    home = rows[rows["service"] == "domcare"]
    assert (home["staff_hours"] > 0).all()  # CSV numbers to 10 significant digits:
    assert home["staff_cost_gbp"].tolist() == pytest.approx((23.0 * home["staff_hours"]).tolist())
    capsys.readouterr()
    domcare["cost_per_hour_gbp_by_year"] = {"2025-26": -23.0}
    config.write_text(json.dumps(body))
    assert main(plan) == 2
    err = capsys.readouterr().err
    assert (
        f"services.{index}.cost_per_hour_gbp_by_year.2025-26: expected GBP from 0 to "
        "100,000,000,000, found -23"
    ) in err
    domcare["cost_per_hour_gbp_by_year"] = {"2026-27": 25.0}
    config.write_text(json.dumps(body))
    assert main(plan) == 2
    err = capsys.readouterr().err
    assert (
        "services[domcare].cost_per_hour_gbp_by_year: expected a rate for every financial year "
        "the plan's periods start in ['2025-26'], found none for [\"2025-26\"]"
    ) in err


def test_plan_cli_takes_fees_and_charges_by_year_and_names_a_bad_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A config file with the DFG fee and home care's charge by financial year plans (its
    weeks from January 2026 start in 2025-26: 15% and GBP 5); a fee as a percentage, or none
    for that year, is refused naming the field."""
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["fees"] = {
        "by_year": {"2025-26": {"dfg_fee_rate": 0.15}, "2026-27": {"dfg_fee_rate": 0.2}}
    }
    domcare = body["services"][[s["id"] for s in body["services"]].index("domcare")]
    domcare["charge_gbp_per_hour_by_year"] = {"2025-26": 5.0, "2026-27": 6.0}
    domcare["charge_paying_share"] = 0.5
    config, demand_path = _plan_files(tmp_path, body)
    csv = tmp_path / "tables"
    plan = ["plan", "--config", str(config), "--demand", str(demand_path), "--csv", str(csv)]
    assert main(plan) == 0
    capital = pd.read_csv(csv / "capital.csv")
    costs = {d["id"]: d["cost_per_adaptation_gbp"] for d in body["districts"]}
    done = capital[capital["works_completed"] > 0]
    assert len(done)  # CSV numbers to 10 significant digits:
    fees = done["works_completed"] * done["district"].map(costs) * 0.15
    assert done["fee_income_gbp"].tolist() == pytest.approx(fees.tolist())
    charged = pd.read_csv(csv / "revenue_by_service.csv")
    assert (charged.loc[charged["service"] == "domcare", "charge_income_gbp"] > 0).all()
    capsys.readouterr()
    body["fees"]["by_year"]["2025-26"] = {"dfg_fee_rate": 15}
    config.write_text(json.dumps(body))
    assert main(plan) == 2
    err = capsys.readouterr().err
    assert (
        "fees.by_year.2025-26.dfg_fee_rate: expected a fraction from 0 to 1 (0.15 for 15%), "
        "found 15 (a percentage? write 0.15)"
    ) in err
    body["fees"]["by_year"] = {"2026-27": {"dfg_fee_rate": 0.2}}
    config.write_text(json.dumps(body))
    assert main(plan) == 2
    err = capsys.readouterr().err
    assert (
        "fees.by_year: expected a fee for every financial year the plan's periods start in "
        "['2025-26'], found none for [\"2025-26\"]"
    ) in err


def test_plan_cli_rejects_a_bad_demand_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps(demo_config.demo_planning_config(horizon_periods=2)))
    demand = tmp_path / "demand.csv"
    demand.write_text("service,district,ds,cases\not,rugby,2026-01-05,-3\n")
    assert main(["plan", "--config", str(config), "--demand", str(demand)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "'cases'" in err and "-3" in err


def test_plan_cli_names_the_row_of_a_district_the_config_does_not_have(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    frame = pd.read_csv(demand_path)
    frame.loc[3, "district"] = "Rugby"  # file row 5; the config's id is 'rugby'
    frame.to_csv(demand_path, index=False)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    assert "row 5" in err and "'Rugby'" in err and "district" in err and "rugby" in err


def test_plan_cli_leaves_out_districts_of_another_area(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    frame = pd.read_csv(demand_path)
    frame = pd.concat([frame, frame.head(2).assign(district="solihull")])
    frame.to_csv(demand_path, index=False)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 0
    assert "solihull" in caplog.text and "left out" in caplog.text


def test_plan_cli_names_the_winter_pressure_columns_a_config_needs(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    pd.read_csv(demand_path).drop(columns="winter_index").to_csv(demand_path, index=False)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    assert "winter_index" in err and len(err.strip().splitlines()) == 1


def test_plan_cli_says_the_config_s_pressure_series_is_why_and_how_to_proceed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=2)
    assert body["winter"]["pressure_series"]  # the demo's active config sets it
    config, demand_path = _plan_files(tmp_path, body)
    frame = pd.read_csv(demand_path).drop(columns=["winter_index", "normal_cases"])
    frame.to_csv(demand_path, index=False)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    assert "needed because winter.pressure_series in the config is" in err
    assert "add columns winter_index and normal_cases to the demand (each row" in err
    assert "remove winter.pressure_series" in err and "winter.quantile_column" in err


@pytest.mark.parametrize("separator", [";", "\t"])
def test_plan_cli_names_a_semicolon_or_tab_separated_demand_file_once(
    separator: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    pd.read_csv(demand_path).to_csv(demand_path, index=False, sep=separator)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    kind = "semicolon" if separator == ";" else "tab"
    assert "1 problem found" in err
    assert "row 1: expected comma-separated columns service,district,ds,cases" in err
    assert f"the file looks {kind}-separated; save it as CSV (comma delimited)" in err


def test_plan_cli_ignores_excel_s_trailing_empty_demand_columns(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    lines = demand_path.read_text().splitlines()
    demand_path.write_text("".join(f"{line},,\n" for line in lines))
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 0
    assert "optimal" in capsys.readouterr().out.lower()


def test_plan_cli_names_an_empty_demand_header_over_values(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    lines = demand_path.read_text().splitlines()
    lines = [f"{line}," for line in lines[:3]] + [f"{line},12" for line in lines[3:]]
    demand_path.write_text("\n".join(lines) + "\n")
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    assert "row 1: expected a name in the header for column 8, which holds values" in err
    assert "found an empty name (row 4 has '12')" in err


def test_import_refuses_a_month_in_a_weekly_series_as_the_api_does(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """2025-12 would read as the Monday 2025-12-01: only the stored weekly history shows it
    was meant as a month."""
    weeks = tmp_path / "weeks.csv"
    weeks.write_text(
        "unique_id,ds,y\nreferrals/ot/rugby,2025-11-17,4\nreferrals/ot/rugby,2025-11-24,5\n"
    )
    assert main(["import", str(weeks)]) == 0
    month = tmp_path / "month.csv"
    month.write_text("unique_id,ds,y\nreferrals/ot/rugby,2025-12,7\n")
    assert main(["import", str(month)]) == 2
    err = capsys.readouterr().err
    assert "row 2" in err and "2025-12" in err and "weekly" in err
    assert _count(db_env, "observations") == 2


def test_import_of_a_file_with_excel_s_trailing_empty_columns_is_stored_whole(
    db_env: str, tmp_path: Path
) -> None:
    path = tmp_path / "excel.csv"
    path.write_text(
        "unique_id,ds,y,,\nreferrals/ot/rugby,2025-01-06,4,,\nreferrals/ot/rugby,2025-01-13,5,,\n"
    )
    assert main(["import", str(path)]) == 0
    assert _count(db_env, "observations") == 2


def test_plan_cli_explains_an_infeasible_request(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["revenue_budget_gbp_per_period"] = 1_000.0  # far below the teams' minimum hours
    body["fees"]["dfg_fee_rate"] = 0.0
    config, demand_path = _plan_files(tmp_path, body)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 1
    out = capsys.readouterr().out
    assert "infeasible_relaxed" in out and "revenue" in out and "GBP" in out


def test_keys_create_list_revoke(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "finance-team", "--role", "finance"]) == 0
    out, err = capsys.readouterr()
    secret = out.strip()  # stdout holds the key alone, so KEY=$(homeward keys create ...) works
    assert secret.startswith("hw_") and "\n" not in secret
    assert "will not be shown again" in err and "'finance-team'" in err
    with session_factory(make_engine(db_env))() as session:
        stored = session.execute(text("SELECT name, role, key_hash FROM api_keys")).one()
    assert tuple(stored) == ("finance-team", "finance", api_keys.key_hash(secret))

    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert "finance-team" in listing and "finance" in listing and secret not in listing
    assert listing.splitlines()[1].rstrip().endswith("-")  # not revoked

    assert main(["keys", "revoke", "finance-team"]) == 0
    assert "revoked API key 'finance-team'" in capsys.readouterr().out
    assert main(["keys", "list"]) == 0
    assert not capsys.readouterr().out.splitlines()[1].rstrip().endswith("-")


def test_keys_errors_are_clear(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["keys", "create", "--name", "x", "--role", "boss"])
    assert exit_info.value.code == 2
    assert "invalid choice: 'boss'" in capsys.readouterr().err
    assert main(["keys", "revoke", "nobody"]) == 2
    assert "no key named 'nobody'" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "dash", "--role", "viewer"]) == 0
    capsys.readouterr()
    assert main(["keys", "create", "--name", "dash", "--role", "admin"]) == 2
    assert "a key named 'dash' exists already" in capsys.readouterr().err
    assert main(["keys", "create", "--name", "has space", "--role", "admin"]) == 2
    assert "expected a key name" in capsys.readouterr().err
    assert main(["keys", "revoke", "dash"]) == 0
    assert main(["keys", "revoke", "dash"]) == 2
    assert "revoked already" in capsys.readouterr().err


def test_keys_rotate_prints_the_new_key_once_and_revokes_the_old(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "bi-tool", "--role", "viewer"]) == 0
    old = capsys.readouterr().out.strip()
    assert main(["-q", "keys", "rotate", "bi-tool"]) == 0
    out, err = capsys.readouterr()
    new = out.strip()  # stdout holds the key alone, as for `keys create`
    assert new.startswith("hw_") and "\n" not in new and new != old
    assert (
        "rotated API key 'bi-tool' with role viewer, never expiring (its old key is revoked)" in err
    )
    assert "will not be shown again" in err
    with session_factory(make_engine(db_env))() as session:
        assert api_keys.authenticate(session, new) == api_keys.Caller("bi-tool", Role.VIEWER)
        with pytest.raises(api_keys.NotAuthenticated):
            api_keys.authenticate(session, old)
    assert main(["keys", "rotate", "nobody"]) == 2
    assert "homeward keys: no key named 'nobody' to rotate" in capsys.readouterr().err
    assert main(["keys", "revoke", "bi-tool"]) == 0
    capsys.readouterr()
    assert main(["keys", "rotate", "bi-tool"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "no active key to rotate" in err


def test_serve_refuses_auth_off_beyond_loopback(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMEWARD_AUTH", "off")
    get_settings.cache_clear()
    assert main(["serve", "--host", "0.0.0.0", "--no-scheduler"]) == 2
    assert "HOMEWARD_AUTH=off is allowed only on a loopback host" in capsys.readouterr().err
    assert not Path(db_env.removeprefix("sqlite:///")).exists()  # refused before migrating


def test_demo_keeps_keys_on_behind_a_proxy_or_open_to_any_host(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    monkeypatch.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", "127.0.0.1")
    get_settings.cache_clear()
    assert demo_auth(get_settings(), "127.0.0.1", factory).auth == "keys"
    monkeypatch.delenv("HOMEWARD_FORWARDED_ALLOW_IPS")
    monkeypatch.setenv("HOMEWARD_ALLOWED_HOSTS", "*")
    get_settings.cache_clear()
    assert demo_auth(get_settings(), "127.0.0.1", factory).auth == "keys"


def test_serve_refuses_keys_turned_off_behind_a_proxy_or_open_to_any_host(
    db_env: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Settings read with keys on and a proxy (or any host) are fine; keys turned off after
    (as `homeward demo` turns them off) are refused before anything is served."""

    def served(*_args: object, **_kwargs: object) -> None:
        raise AssertionError("served with keys off behind a proxy or open to any host")

    monkeypatch.setattr("homeward.commands.uvicorn.run", served)
    monkeypatch.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", "127.0.0.1")
    get_settings.cache_clear()
    args = argparse.Namespace(host=None, port=None, no_scheduler=True)
    with pytest.raises(ValueError, match="HOMEWARD_FORWARDED_ALLOW_IPS says a reverse proxy"):
        _serve(get_settings().model_copy(update={"auth": "off"}), args)
    monkeypatch.delenv("HOMEWARD_FORWARDED_ALLOW_IPS")
    monkeypatch.setenv("HOMEWARD_ALLOWED_HOSTS", "*")
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="HOMEWARD_ALLOWED_HOSTS='\\*' is refused"):
        _serve(get_settings().model_copy(update={"auth": "off"}), args)
    assert not Path(db_env.removeprefix("sqlite:///")).exists()  # nothing served or migrated


def test_demo_serves_without_keys_on_loopback_only_unless_told(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    assert demo_auth(get_settings(), "127.0.0.1", factory).auth == "off"
    assert capsys.readouterr().out == ""  # no key made
    on_network = demo_auth(get_settings(), "0.0.0.0", factory)
    shown = capsys.readouterr()
    key_file = get_settings().data_dir / "demo-admin.key"
    secret = key_file.read_text().strip()
    assert on_network.auth == "keys" and secret.startswith("hw_")
    assert shown.out == "" and secret not in shown.err  # the log never holds the key
    assert str(key_file.resolve()) in shown.err and "docker exec" in shown.err
    assert key_file.stat().st_mode & 0o777 == 0o600
    with factory() as session:
        assert api_keys.authenticate(session, secret) == api_keys.Caller("demo-admin", Role.ADMIN)
    demo_auth(get_settings(), "0.0.0.0", factory)
    assert capsys.readouterr().out == ""  # an active key exists: none is made or shown again
    monkeypatch.setenv("HOMEWARD_AUTH", "keys")
    get_settings.cache_clear()
    assert demo_auth(get_settings(), "127.0.0.1", factory).auth == "keys"


def test_demo_prints_its_key_once_when_the_key_file_cannot_be_written(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    (get_settings().data_dir / "demo-admin.key").mkdir()  # in the way: cannot be replaced
    assert demo_auth(get_settings(), "0.0.0.0", factory).auth == "keys"
    secret = capsys.readouterr().out.strip()
    with factory() as session:
        assert api_keys.authenticate(session, secret) == api_keys.Caller("demo-admin", Role.ADMIN)


def test_demo_does_not_remake_its_revoked_key(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    demo_auth(get_settings(), "0.0.0.0", factory)
    assert main(["keys", "revoke", "demo-admin"]) == 0
    capsys.readouterr()
    assert demo_auth(get_settings(), "0.0.0.0", factory).auth == "keys"
    assert capsys.readouterr().out == ""


def test_demo_makes_its_key_when_every_active_key_has_expired(
    db_env: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """An expired key let no request in, yet counted as active: a demo on the network whose
    only key had expired made no key and said nothing, so nothing could reach it."""
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    with factory.begin() as session:
        api_keys.create_key(session, "contractor", Role.VIEWER, 30)
        row = repository.api_key_by_name(session, "contractor")
        assert row is not None
        row.expires_at = utcnow() - timedelta(days=1)
    demo_auth(get_settings(), "0.0.0.0", factory)
    secret = (get_settings().data_dir / "demo-admin.key").read_text().strip()
    with factory() as session:
        assert api_keys.authenticate(session, secret) == api_keys.Caller("demo-admin", Role.ADMIN)
        row = repository.api_key_by_name(session, "demo-admin")
        assert row is not None
    with factory.begin() as session:
        row = repository.api_key_by_name(session, "demo-admin")
        assert row is not None
        row.expires_at = utcnow() - timedelta(minutes=1)
    capsys.readouterr()
    with caplog.at_level(logging.WARNING):
        demo_auth(get_settings(), "0.0.0.0", factory)
    assert capsys.readouterr().out == ""  # its own expired key is not remade, but said
    assert "no active API key (2 expired)" in caplog.text


def _one_line_error(capsys: pytest.CaptureFixture[str], command: str) -> str:
    """What a user reads on stderr after a refused command: one line, no traceback."""
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err
    [line] = captured.err.strip().splitlines()
    assert line.startswith(f"homeward {command}: ")
    return line


def test_importing_a_folder_is_a_one_line_error(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(tmp_path)]) == 2
    assert "Is a directory" in _one_line_error(capsys, "import")


@pytest.mark.parametrize("command", ["import", "forecast"])
def test_a_header_wider_than_any_layout_is_refused_by_import_and_forecast(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str
) -> None:
    """Both read files through the API's reader, so both refuse a header too wide to read
    from the header alone (the pandas column per name is what never finished)."""
    extra = MAX_COLUMNS - 2
    wide = tmp_path / "wide.csv"
    names = ",".join(f"c{i}" for i in range(extra))
    wide.write_text(f"unique_id,ds,y,{names}\nreferrals/ot/rugby,2025-01-06,3{',1' * extra}\n")
    args = {
        "import": ["import", str(wide)],
        "forecast": ["forecast", "--input", str(wide), "--horizon", "2", "--output", "-"],
    }[command]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert (
        f"row 1: expected at most {MAX_COLUMNS:,} columns (comma-separated columns "
        f"unique_id,ds,y), found a header of {MAX_COLUMNS + 1:,} columns"
    ) in err
    assert "unknown column" not in err
    assert not (tmp_path / "cli.db").exists()  # refused before the database was opened


def test_forecast_refuses_an_output_in_a_missing_folder_before_forecasting(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = tmp_path / "history.csv"
    history.write_text("unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,3\n")
    missing = tmp_path / "no-such-folder"
    args = ["forecast", "--input", str(history), "--horizon", "2", "--output"]
    assert main([*args, str(missing / "out.csv")]) == 2
    line = _one_line_error(capsys, "forecast")
    assert "expected an existing folder" in line and str(missing) in line
    assert not missing.exists()


def test_plan_with_an_invalid_config_names_each_field_on_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["period_days"] = "weekly"
    del body["fees"]
    config = tmp_path / "config.json"
    config.write_text(json.dumps(body))
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    assert "period_days: " in line and 'found "weekly"' in line  # as the JSON file has it
    assert "fees: expected a value (it is required), found nothing" in line
    assert "errors.pydantic.dev" not in line


def test_plan_with_a_misspelt_config_field_names_the_field_meant(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["districts"][0]["captial_gbp"] = body["districts"][0].pop("capital_gbp")
    body["services"][0]["hours_per_case"] = None
    body["fees"]["fee_rate"] = 0.1
    config = tmp_path / "config.json"
    config.write_text(json.dumps(body))
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    assert (
        "districts.0.captial_gbp: expected a field of this object (did you mean 'capital_gbp'?)"
        in line
    )
    assert "services.0.hours_per_case: Input should be a valid number, found null" in line
    assert "fees.fee_rate: expected a field of this object (did you mean 'dfg_fee_rate'?), " in line


def test_plan_with_a_config_that_is_not_json_names_the_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.json"
    config.write_text("{bad")
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    assert f"{config}: expected JSON" in line and "line 1 column 2" in line


def test_a_bad_setting_names_its_environment_variable(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("HOMEWARD_FORECAST_HORIZON_WEEKS", "a year")
    assert main(["keys", "list"]) == 2
    line = _one_line_error(capsys, "keys")
    assert "HOMEWARD_FORECAST_HORIZON_WEEKS: " in line and "'a year'" in line


@pytest.mark.parametrize("url", ["nonsense://", "postgresql+psycopg://nobody@127.0.0.1:1/db"])
def test_an_unusable_database_url_is_a_one_line_error(
    db_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], url: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", url)
    assert main(["keys", "list"]) == 2
    line = _one_line_error(capsys, "keys")
    # a URL that cannot be one is refused with the settings; one that cannot connect, at use
    assert "DATABASE_URL: expected a SQLAlchemy URL" in line or "(check DATABASE_URL)" in line


def test_demo_updates_its_own_config_keeps_a_users_and_loads_its_data_once(
    db_env: str, demo_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    # the pipeline itself is tested elsewhere; here only what `demo` stores before running it
    ran = demo_runs
    factory = session_factory(make_engine(db_env))
    upgrade(make_engine(db_env))
    older_demo = {**demo_config.demo_planning_config(), "version": "2024.1"}
    with transaction(factory) as session:
        repository.save_config(session, older_demo, planning.config_hash(older_demo))
    assert main(["demo"]) == 0  # an older demo config is brought up to date
    with factory() as session:
        active = repository.active_config(session)
        assert active is not None and active.body == PlanningConfig.model_validate(
            demo_config.demo_planning_config()
        ).model_dump(mode="json")
    rows = _count(db_env, "observations")
    mine = {**demo_config.demo_planning_config(), "name": "council's own"}
    with transaction(factory) as session:
        repository.save_config(session, mine, planning.config_hash(mine))
    assert main(["demo"]) == 0
    with factory() as session:
        active = repository.active_config(session)
        assert active is not None and active.name == "council's own"
    assert _count(db_env, "observations") == rows > 0 and ran == ["run", "run"]


def test_demo_on_a_database_of_other_series_says_first_that_it_will_make_no_plan(
    db_env: str, demo_runs: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    """DTOC days imported, no referral histories: the demo is not loaded (the database is not
    empty) and the run can make no plan; said before minutes of forecasting, not after."""
    upgrade(make_engine(db_env))
    factory = session_factory(make_engine(db_env))
    months = pd.date_range("2015-01-01", periods=36, freq="MS")
    with transaction(factory) as session:
        frame = pd.DataFrame({"unique_id": "dtoc_days/rugby", "ds": months, "y": 300.0})
        repository.store_observations(session, frame, "council", "hash")
    assert main(["demo"]) == 0
    out = capsys.readouterr().out
    said = out.index("demo: the database holds series of its own and no referral histories")
    assert said < out.index("demo: running the pipeline") and demo_runs == ["run"]
    assert "the API starts" not in out  # no --serve: no API to start
    assert _count(db_env, "observations") == 36  # the synthetic demo was not loaded


def test_plan_with_a_district_of_an_unknown_team_names_that_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["districts"][3]["team"] = "east"
    config = tmp_path / "bad.json"
    config.write_text(json.dumps(body))
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    teams = [t["id"] for t in body["teams"]]
    assert line.endswith(f'districts.3.team: expected one of {teams}, found "east"')
    assert "whole input" not in line and "Value error" not in line


def test_plan_with_a_team_id_no_series_can_have_names_that_field(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As POST /v1/configs refuses it: its CSVs would hold a line break in a cell."""
    body = demo_config.demo_planning_config(horizon_periods=2)
    body["teams"][1]["id"] = "south\r=cmd"
    for district in body["districts"]:
        district["team"] = "south\r=cmd" if district["team"] == "south" else district["team"]
    config = tmp_path / "bad.json"
    config.write_text(json.dumps(body))
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    assert line.endswith(
        "teams.1.id: expected a lower-case id of a-z, 0-9, '_', '.', '-' (starting with a letter "
        "or digit), at most 174 characters, as its referral totals "
        'referrals_team/<service>/<team id> name it, found "south\\r=cmd"'
    )


@pytest.mark.parametrize(
    ("make", "found"),
    [(lambda tmp: tmp / "missing.json", "nothing there"), (lambda tmp: tmp, "a folder")],
)
def test_plan_with_a_config_that_is_not_a_file_names_the_option(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    make: Callable[[Path], Path],
    found: str,
) -> None:
    config = make(tmp_path)
    assert main(["plan", "--config", str(config)]) == 2
    line = _one_line_error(capsys, "plan")
    assert line.endswith(
        f"cannot read --config {config}: expected a readable JSON file, found {found}"
    )
    assert "Errno" not in line


def test_plan_with_a_demand_file_that_is_missing_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    demand_path.unlink()
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    line = _one_line_error(capsys, "plan")
    assert f"--demand {demand_path}: expected a CSV file, found nothing there" in line


def test_plan_cli_names_the_row_of_a_repeated_demand_row_and_its_first(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    frame = pd.read_csv(demand_path)
    again = frame.iloc[[2]].assign(cases=99.0)  # the file's row 4, sent again at the end
    pd.concat([frame, again]).to_csv(demand_path, index=False)
    assert main(["plan", "--config", str(config), "--demand", str(demand_path)]) == 2
    err = capsys.readouterr().err
    first = frame.iloc[2]
    assert f"row {len(frame) + 2}" in err and "(first on row 4)" in err
    assert f"{first['service']}/{first['district']}/{first['ds']}" in err


def test_importing_the_same_file_again_stores_it_once_and_says_so(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = _two_weeks_of_rugby(tmp_path)
    assert main(["import", str(good)]) == 0
    first = capsys.readouterr().out
    assert main(["import", str(good)]) == 0
    again = capsys.readouterr().out
    assert first.startswith("imported 2 rows") and "import 1," in first
    assert again.startswith("already imported") and "import 1 " in again
    assert "nothing stored again" in again
    assert _count(db_env, "imports") == 1 and _count(db_env, "observations") == 2


def test_plan_writes_each_table_as_csv_for_a_spreadsheet(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=3))
    folder = tmp_path / "out" / "plan"  # made, parents too
    plan_json = tmp_path / "plan.json"
    args = ["--config", str(config), "--demand", str(demand_path), "--json", str(plan_json)]
    assert main(["plan", *args, "--csv", str(folder)]) == 0
    assert f"to {folder}: " in capsys.readouterr().err
    whole = json.loads(plan_json.read_text())
    hours = pd.read_csv(folder / "hours.csv")
    assert list(hours.columns) == list(whole["hours"][0])  # the JSON rows' columns
    assert hours["hours"].sum() == pytest.approx(sum(r["hours"] for r in whole["hours"]))
    assert hours["ds"].iloc[0] == "2026-01-05"
    tables = {p.stem for p in folder.glob("*.csv")}
    assert {"hours", "capital", "backlog", "revenue", "shadow_prices"} <= tables
    # and the pack's two, as the API offers them
    lists = {k for k, v in whole.items() if isinstance(v, list) and k != "warnings"}
    assert tables == lists | {"summary", "warnings"}


def test_plan_csv_has_the_apis_columns_whatever_the_config_gives(tmp_path: Path) -> None:
    """A config without hours_per_fte gave a staffing.csv without its fte column (10 columns,
    11 with it), so a spreadsheet's query of the file broke between configs; the API's
    download has every column of the table's schema, and so has the command's."""
    body = demo_config.demo_planning_config(horizon_periods=2)
    for service in body["services"]:
        service["hours_per_fte"] = None
    config, demand_path = _plan_files(tmp_path, body)
    folder = tmp_path / "plan"
    args = ["plan", "--config", str(config), "--demand", str(demand_path), "--csv", str(folder)]
    assert main(args) == 0
    staffing = pd.read_csv(folder / "staffing.csv", dtype=str, keep_default_na=False)
    assert list(staffing.columns) == list(PlanStaffingRowPublic.model_fields)
    assert len(staffing) > 0 and (staffing["fte"] == "").all()
    # revenue_by_year.csv's whole years as the API serves them (worked out, not left empty):
    # the demo's Mondays from 5 January 2026 start 52 weeks in 2025-26
    years = pd.read_csv(folder / "revenue_by_year.csv")
    assert list(years.columns) == list(PlanRevenueYearRowPublic.model_fields)
    assert years[["year", "periods", "year_periods"]].drop_duplicates().values.tolist() == [
        ["2025-26", 2, 52]
    ]


def test_plan_refuses_a_csv_folder_that_is_a_file_before_solving(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config, demand_path = _plan_files(tmp_path, demo_config.demo_planning_config(horizon_periods=2))
    taken = tmp_path / "taken.csv"
    taken.write_text("x\n")
    args = ["plan", "--config", str(config), "--demand", str(demand_path), "--csv", str(taken)]
    assert main(args) == 2
    line = _one_line_error(capsys, "plan")
    assert f"--csv {taken}" in line and "expected a folder, found a file" in line


def test_import_reads_a_file_in_the_encoding_given(
    db_env: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Excel's 'CSV (Comma delimited)' on Windows is windows-1252: the API took it with a
    charset, the command line could not read it at all."""
    path = tmp_path / "excel.csv"
    text = (
        "unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,31\u00a0\nreferrals/ot/rugby,2025-01-13,4\n"
    )
    path.write_bytes(text.encode("cp1252"))
    assert main(["import", str(path)]) == 2  # read as UTF-8, the 0xa0 is no character
    assert "utf-8" in capsys.readouterr().err.lower()
    assert main(["import", "--encoding", "windows-1252", str(path)]) == 0
    assert _count(db_env, "observations") == 2
    assert main(["import", "--encoding", "ebcdic", str(path)]) == 2
    assert "--encoding: expected one of utf-8" in capsys.readouterr().err
