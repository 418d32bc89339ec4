"""A council planning its own data offline (`homeward plan --config --demand --csv`) is told
what its config and demand leave out: a hospital share left to its default of 1, and the
low and high years a demand file cannot give; and the pack's summary and warnings are
written beside the plan's tables, as the API offers them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from api.schemas import PlanStaffingRowPublic
from homeward import demo_config, planning
from homeward.cli import main
from optimise.config import PlanningConfig
from tests.homeward.test_cli import _plan_files


def _without_hospital_shares() -> dict[str, Any]:
    body = demo_config.demo_planning_config(horizon_periods=3)
    body["services"] = [
        {k: v for k, v in s.items() if k != "hospital_share"} for s in body["services"]
    ]
    return body


def test_a_hospital_service_left_without_its_hospital_share_is_warned() -> None:
    """A county's config without hospital_share planned 209,355 delayed days a year, every
    waiting reablement and home care case counted as a day in hospital; with the demo's
    shares, 34,745. The default stays (plans do not change), and the config says so."""
    demo = PlanningConfig.model_validate(demo_config.demo_planning_config())
    assert demo_config.HOSPITAL_SHARE.keys() == {"reablement", "domcare"}
    assert not [w for w in planning.config_level_warnings(demo) if "hospital_share" in w]
    config = PlanningConfig.model_validate(_without_hospital_shares())
    said = [w for w in planning.config_level_warnings(config) if "hospital_share" in w]
    assert [w.split(":")[0] for w in said] == [
        "services[reablement].hospital_share",
        "services[domcare].hospital_share",
    ]
    for warning in said:
        assert "counts every waiting case as a delayed day in hospital" in warning
        assert "weighted by hospital_delay_weight 1 on top of wait_weight" in warning
        assert "the share of its referrals that wait in a hospital bed" in warning
        assert "reablement 0.072 and domcare 0.17" in warning


def test_a_plan_from_a_demand_file_says_it_has_no_demand_risk_and_writes_the_pack(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """demand_risk.csv and risk_periods.csv were header-only with no word why, and the
    summary and warnings tables the API offers for a pack to hand on were not written."""
    config, demand_path = _plan_files(tmp_path, _without_hospital_shares())
    folder, plan_json = tmp_path / "plan", tmp_path / "plan.json"
    args = ["--config", str(config), "--demand", str(demand_path), "--json", str(plan_json)]
    assert main(["plan", *args, "--csv", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {planning.NO_RISK_FROM_FILE}" in out
    assert "warning: services[domcare].hospital_share: expected the share" in out
    whole = json.loads(plan_json.read_text())
    assert whole["demand_risk"] == [] and whole["risk_periods"] == []
    assert pd.read_csv(folder / "demand_risk.csv").empty
    warnings = pd.read_csv(folder / "warnings.csv")
    assert list(warnings.columns) == ["index", "warning"]
    assert warnings["warning"].tolist() == whole["warnings"]
    assert warnings["index"].tolist() == list(range(1, len(whole["warnings"]) + 1))
    summary = pd.read_csv(folder / "summary.csv", dtype=str, keep_default_na=False)
    assert list(summary.columns) == ["figure", "value", "unit", "note"]
    value = dict(zip(summary["figure"], summary["value"], strict=True))
    assert value["status"] == "optimal" and value["periods"] == "3"
    assert value["first_ds"] == "2026-01-05" and value["period_days"] == "7"
    assert value["config_name"] == demo_config.demo_planning_config()["name"]
    hours = sum(r["staff_hours"] for r in whole["staffing"])
    assert float(value["staff_hours"]) == pytest.approx(hours, rel=1e-6)
    assert float(value["weighted_wait_days"]) == pytest.approx(
        whole["objective_weighted_wait_days"], rel=1e-6
    )
    assert value["high_year_contingency_hours"] == ""  # no high year from a demand file
    assert "plan_id" not in value  # only a stored plan has one
    staffing = pd.read_csv(folder / "staffing.csv")
    assert list(staffing.columns) == list(PlanStaffingRowPublic.model_fields)
