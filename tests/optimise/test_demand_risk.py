"""The plan's hours against low and high demand (optimise/risk.py).

Under the plan's own demand the fluid evaluation must give back the plan's district waits;
higher demand can only lengthen waits for the same hours, lower demand only shorten them;
the scenarios move each period by its forecast's 80% spread; and without bounds in the demand
there is no risk table rather than a made-up one.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from optimise.errors import PlanInputError
from optimise.plan import plan
from optimise.risk import RISK_COLUMNS, SCENARIOS, scenario_demand
from tests.optimise.factory import demand_frame, full_config, inputs_of, rich_config


def _bounded_demand(periods: int = 6, seed: int = 3) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = {"ot": 8.0, "hao": 6.0, "reablement": 3.0, "domcare": 2.0}
    districts = ("rugby", "nuneaton-and-bedworth", "warwick")
    cases = {
        (s, d): list(base[s] * rng.uniform(0.6, 1.4, periods)) for s in base for d in districts
    }
    q10 = {k: [v * 0.7 for v in vs] for k, vs in cases.items()}
    q90 = {k: [v * 1.4 for v in vs] for k, vs in cases.items()}
    return demand_frame(cases, q10=q10, q90=q90)


def _risk(raw: dict[str, object], demand: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    result = plan(inputs_of(raw, demand), simulation_runs=0)
    assert result.ok, result.message
    return result.demand_risk, result.district_waits


def test_the_planned_scenario_gives_back_the_plans_own_district_waits() -> None:
    risk, waits = _risk(full_config(), _bounded_demand())
    planned = risk[risk["scenario"] == "planned"].drop(columns="scenario")
    merged = planned.merge(waits, on=["service", "district"], suffixes=("", "_lp"))
    assert len(merged) == len(waits) > 0
    for column in ("cases_served", "person_days"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_lp"], rtol=1e-6, atol=1e-6)


def test_more_demand_never_shortens_a_wait_for_the_same_hours() -> None:
    risk, _ = _risk(rich_config(), _bounded_demand())
    wide = risk.pivot_table(index=["service", "district"], columns="scenario", values="person_days")
    assert (wide["low"] <= wide["planned"] + 1e-6).all()
    assert (wide["planned"] <= wide["high"] + 1e-6).all()
    assert wide["high"].sum() > wide["planned"].sum() > wide["low"].sum()
    cases = risk.groupby("scenario")["new_cases"].sum()
    assert cases["low"] < cases["planned"] < cases["high"]


def test_outside_winter_the_scenarios_are_the_forecast_bounds_and_winter_keeps_its_uplift() -> None:
    demand = _bounded_demand()
    plain = scenario_demand(inputs_of(rich_config(), demand))
    assert plain is not None
    inputs = inputs_of(rich_config(), demand)
    assert inputs.forecast_q10_cases is not None and inputs.forecast_q90_cases is not None
    np.testing.assert_allclose(plain["high"], inputs.forecast_q90_cases)
    np.testing.assert_allclose(plain["low"], inputs.forecast_q10_cases)
    winter = inputs_of(full_config(), demand)  # plans January's weeks for their q90
    january = np.array([ts.month == 1 for ts in winter.period_start])
    assert january.any() and not january.all()
    raised = scenario_demand(winter)
    assert raised is not None and winter.forecast_q90_cases is not None
    q90, mean = winter.forecast_q90_cases, winter.forecast_cases
    expected_planned = np.where(january, q90, mean)
    np.testing.assert_allclose(raised["planned"], expected_planned)
    np.testing.assert_allclose(raised["high"], expected_planned + (q90 - mean))


def test_without_bounds_in_the_demand_there_is_no_risk_table() -> None:
    cases = {("ot", "rugby"): [5.0, 6.0], ("hao", "rugby"): [8.0, 8.0]}
    raw = rich_config(horizon_periods=2)
    raw["districts"] = raw["districts"][:1]  # type: ignore[index]
    raw["services"] = raw["services"][:2]  # type: ignore[index]
    for team in raw["teams"]:  # type: ignore[attr-defined]
        team["hours"] = {k: v for k, v in team["hours"].items() if k in ("ot", "hao")}
    raw["teams"] = raw["teams"][:1]  # type: ignore[index]
    result = plan(inputs_of(raw, demand_frame(cases)), simulation_runs=0)
    assert result.ok
    assert result.demand_risk.empty and list(result.demand_risk.columns) == RISK_COLUMNS
    assert result.to_dict()["demand_risk"] == []


def test_a_negative_bound_is_refused_naming_its_row() -> None:
    demand = _bounded_demand()
    demand.loc[4, "q90"] = -1.0
    with pytest.raises(
        PlanInputError, match=r"demand\.q90 \(service ot, district rugby.*found -1\.0$"
    ):
        inputs_of(rich_config(), demand)


def test_the_cli_summary_gives_each_services_wait_low_planned_and_high() -> None:
    result = plan(inputs_of(rich_config(), _bounded_demand()), simulation_runs=0)
    text = result.summary_table()
    assert "if referrals come in low / as planned / high" in text
    risk = result.demand_risk
    ot = risk[risk["service"] == "ot"].groupby("scenario")[["person_days", "cases_served"]].sum()
    lines = text.splitlines()
    heading = next(i for i, line in enumerate(lines) if "low / as planned / high" in line)
    row = next(line for line in lines[heading:] if line.startswith("ot "))
    expected = [f"{ot.loc[s, 'person_days'] / ot.loc[s, 'cases_served']:,.1f}" for s in SCENARIOS]
    assert row.split()[1:] == expected
    high_dtoc = risk.loc[risk["scenario"] == "high", "dtoc_days"].sum()
    assert "delayed days in hospital: " in text and f"{high_dtoc:,.0f}" in text
