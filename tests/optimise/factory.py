"""Small planning configs and demand frames for the optimise tests."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from optimise.config import PlanningConfig, RefusedValue, refused_value
from optimise.inputs import PlanInputs, build_inputs

START = pd.Timestamp("2025-01-06")


def service(
    sid: str, hours_per_case: float, cost: float, weight: float, **extra: Any
) -> dict[str, Any]:
    return {
        "id": sid,
        "hours_per_case": hours_per_case,
        "cost_per_hour_gbp": cost,
        "wait_weight": weight,
        **extra,
    }


def bounds(low: float, high: float, **extra: Any) -> dict[str, Any]:
    return {"min_per_period": low, "max_per_period": high, **extra}


def district(
    did: str, team: str, capital: float, backlog: dict[str, float], **extra: Any
) -> dict[str, Any]:
    return {
        "id": did,
        "name": did.title(),
        "team": team,
        "capital_gbp": capital,
        "cost_per_adaptation_gbp": extra.pop("cost_per_adaptation_gbp", 1000.0),
        "initial_backlog_cases": backlog,
        **extra,
    }


def hand_config(**overrides: Any) -> dict[str, Any]:
    """The hand-solved instance: OT and HAO, one team, one district, two weekly periods."""
    raw: dict[str, Any] = {
        "name": "hand",
        "version": "1",
        "period_days": 7,
        "horizon_periods": 2,
        "services": [service("ot", 2.0, 10.0, 1.0), service("hao", 1.0, 10.0, 2.0)],
        "teams": [{"id": "north", "hours": {"ot": bounds(0, 100), "hao": bounds(0, 5)}}],
        "districts": [
            district(
                "rugby", "north", 5000.0, {"ot": 10.0, "hao": 0.0}, initial_works_backlog_cases=10.0
            )
        ],
        "revenue_budget_gbp_per_period": 200.0,
        "fees": {"dfg_fee_rate": 0.0},
        "flows": {"p_ot_dfg": 0.0, "p_reab_dom": 0.0},
        "works_wait_weight": 1.0,
    }
    raw.update(overrides)
    return raw


def demand_frame(
    cases: dict[tuple[str, str], list[float]], **quantiles: dict[tuple[str, str], list[float]]
) -> pd.DataFrame:
    """Long demand: one row per (service, district) and period, weekly from START."""
    rows = []
    for (sid, did), series in cases.items():
        for t, value in enumerate(series):
            row = {
                "service": sid,
                "district": did,
                "ds": START + pd.Timedelta(weeks=t),
                "cases": value,
            }
            row.update({q: table[(sid, did)][t] for q, table in quantiles.items()})
            rows.append(row)
    return pd.DataFrame(rows)


def hand_demand() -> pd.DataFrame:
    return demand_frame({("ot", "rugby"): [5.0, 6.0], ("hao", "rugby"): [8.0, 8.0]})


def inputs_of(raw: dict[str, Any], demand: pd.DataFrame) -> PlanInputs:
    return build_inputs(PlanningConfig.model_validate(raw), demand)


def rich_config(**overrides: Any) -> dict[str, Any]:
    """Four services, two teams, three districts, six weeks, flows and fees on."""
    hours = {
        "ot": bounds(20, 120),
        "hao": bounds(10, 80),
        "reablement": bounds(30, 200),
        "domcare": bounds(50, 400),
    }
    raw: dict[str, Any] = {
        "name": "rich",
        "version": "1",
        "period_days": 7,
        "horizon_periods": 6,
        "services": [
            service("ot", 6.0, 38.0, 1.0),
            service("hao", 3.0, 28.0, 1.0),
            service("reablement", 10.0, 22.0, 1.5, hospital_delay_weight=2.0),
            service("domcare", 14.0, 20.0, 1.0, hospital_delay_weight=1.0),
        ],
        "teams": [{"id": "north", "hours": hours}, {"id": "south", "hours": hours}],
        "districts": [
            district(
                "rugby",
                "north",
                90000.0,
                {"ot": 30, "hao": 12, "reablement": 4, "domcare": 6},
                initial_works_backlog_cases=8,
                cost_per_adaptation_gbp=9000.0,
            ),
            district(
                "nuneaton-and-bedworth",
                "north",
                60000.0,
                {"ot": 40, "hao": 8, "reablement": 6, "domcare": 3},
                initial_works_backlog_cases=5,
                cost_per_adaptation_gbp=8000.0,
            ),
            district(
                "warwick",
                "south",
                40000.0,
                {"ot": 20, "hao": 10, "reablement": 2, "domcare": 4},
                initial_works_backlog_cases=12,
                cost_per_adaptation_gbp=10000.0,
            ),
        ],
        "revenue_budget_gbp_per_period": 16000.0,
        "fees": {"dfg_fee_rate": 0.10},
        "flows": {"p_ot_dfg": 0.30, "p_reab_dom": 0.40},
        "works_wait_weight": 1.0,
    }
    raw.update(overrides)
    return raw


def rich_demand(periods: int = 6, seed: int = 3) -> pd.DataFrame:
    import numpy as np

    rng = np.random.default_rng(seed)
    base = {"ot": 8.0, "hao": 6.0, "reablement": 3.0, "domcare": 2.0}
    cases = {
        (s, d): list(np.round(base[s] * rng.uniform(0.6, 1.4, periods), 1))
        for s in base
        for d in ("rugby", "nuneaton-and-bedworth", "warwick")
    }
    q90 = {key: [v * 1.3 for v in values] for key, values in cases.items()}
    return demand_frame(cases, q90=q90)


def full_config(**overrides: Any) -> dict[str, Any]:
    """rich_config with every issue-4 option on: classes, agency, recruitment, equity, winter,
    fee bounds and care charges."""
    raw = rich_config()
    extras = {
        "ot": {"urgent_share": 0.2, "urgent_wait_weight": 3.0},
        "hao": {"urgent_share": 0.1, "urgent_wait_weight": 2.0},
        "reablement": {
            "urgent_share": 0.5,
            "urgent_wait_weight": 4.0,
            "charge_gbp_per_hour": 18.0,
            "charge_paying_share": 0.3,
            "agency_premium": 1.8,
        },
        "domcare": {"charge_gbp_per_hour": 20.0, "charge_paying_share": 0.5},
    }
    raw["services"] = [{**s, **extras[s["id"]]} for s in raw["services"]]
    for team in raw["teams"]:
        team["hours"] = {
            s: {
                **b,
                "agency_max_per_period": 15.0,
                "max_change_per_period": 30.0,
                "current_per_period": (b["min_per_period"] + b["max_per_period"]) / 2,
            }
            for s, b in team["hours"].items()
        }
    raw["fees"] = {
        "dfg_fee_rate": 0.10,
        "min_fee_per_case_gbp": 850.0,
        "max_fee_per_case_gbp": 950.0,
    }
    raw["equity"] = {
        "max_avg_wait_days": 60.0,
        "applies_from_period": 4,
        "worst_district_weight": 50.0,
    }
    raw["winter"] = {"quantile_column": "q90", "months": [1]}
    raw.update(overrides)
    return raw


def refusal(raw: dict[str, Any]) -> RefusedValue:
    """The one problem a config validator refuses `raw` for, as its field, expected and
    found (`optimise.config.refused_value`)."""
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    [err] = caught.value.errors()
    found = refused_value(err)
    assert found is not None, err
    return found
