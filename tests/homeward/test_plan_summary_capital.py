"""The summary's DFG capital for a high year's extra works, with the DFG fee paid out of the
grant (`fees.charged_to_grant`): each works case then uses its cost plus the fee of capital,
as the plan's own works do, and the summary's note says so."""

from __future__ import annotations

import numpy as np

import optimise
from homeward.plan_summary import unstored_summary_rows
from tests.optimise.factory import demand_frame, inputs_of, rich_config

DISTRICTS = ("rugby", "nuneaton-and-bedworth", "warwick")
BASE = {"ot": 8.0, "hao": 6.0, "reablement": 3.0, "domcare": 2.0}


def test_a_high_years_capital_is_at_cost_plus_fee_where_the_fee_is_charged_to_the_grant() -> None:
    """The note said "at each district's cost_per_adaptation_gbp" while the figure was at
    cost plus fee with `charged_to_grant: true`."""
    raw = rich_config()
    raw["fees"] = {"dfg_fee_rate": 0.2, "charged_to_grant": True}
    cases = {(s, d): [BASE[s]] * 6 for s in BASE for d in DISTRICTS}
    high = {k: [1.5] * 6 for k in cases}
    low = {k: [0.9] * 6 for k in cases}
    inputs = inputs_of(raw, demand_frame(cases, low_factor=low, high_factor=high))
    result = optimise.plan(inputs, simulation_runs=0).to_dict()
    works = [r for r in result["risk_periods"] if r["service"] == "dfg_works"]
    # OT's extra referrals (half as many again), p_ot_dfg of them works cases, in every
    # district at its cost plus the 20% fee: the capital each of the plan's works cases uses
    extra_works = 0.5 * BASE["ot"] * raw["flows"]["p_ot_dfg"] * 6
    costs = sum(d["cost_per_adaptation_gbp"] for d in raw["districts"])
    capital = sum(r["contingency_capital_gbp"] for r in works)
    assert np.isclose(capital, extra_works * costs * 1.2, rtol=1e-9)
    rows = unstored_summary_rows(result["status"], 1.0, result, raw)
    [row] = [r for r in rows if r["figure"] == "high_year_capital_gbp"]
    assert np.isclose(row["value"], capital, rtol=1e-9, atol=0.005)
    assert "plus the DFG fee where fees.charged_to_grant is true" in row["note"]
    assert "at each district's cost_per_adaptation_gbp:" not in row["note"]
