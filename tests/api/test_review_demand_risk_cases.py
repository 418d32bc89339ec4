"""A plan's demand_risk `new_cases` is documented as it is counted: for home care (domcare)
it holds the reablement completions that go on to home care besides the demand table's
planned cases; for DFG works, the works OT refers."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import httpx
import pytest


def _by(rows: list[dict[str, Any]], value: str, **where: Any) -> dict[str, float]:
    out: dict[str, float] = defaultdict(float)
    for row in rows:
        if all(row[k] == v for k, v in where.items()):
            out[row["district"]] += row[value]
    return dict(out)


def test_new_cases_are_the_demand_with_home_cares_reablement_completions_and_dfg_referrals(
    viewer: httpx.Client,
) -> None:
    plan = viewer.get("/v1/plans/latest").json()
    result = plan["result"]
    config = viewer.get(f"/v1/configs/{plan['config_id']}").json()
    flows = config["body"]["flows"]
    risk = [r for r in result["demand_risk"] if r["scenario"] == "planned"]
    assert risk
    last = max(r["period"] for r in result["hours"])
    for service in ("ot", "reablement"):
        planned = _by(result["demand"], "planned_cases", service=service)
        new = _by(risk, "new_cases", service=service)
        assert new == pytest.approx(planned, rel=1e-6)
    reablement_done = _by(
        [r for r in result["hours"] if r["period"] < last], "cases_served", service="reablement"
    )
    planned = _by(result["demand"], "planned_cases", service="domcare")
    new = _by(risk, "new_cases", service="domcare")
    for district, cases in new.items():
        onward = flows["p_reab_dom"] * reablement_done[district]
        assert onward > 0
        assert cases == pytest.approx(planned[district] + onward, rel=1e-4)
    ot_done = _by(result["hours"], "cases_served", service="ot")
    referred = _by(risk, "new_cases", service="dfg_works")
    assert referred == pytest.approx(
        {d: flows["p_ot_dfg"] * n for d, n in ot_done.items()}, rel=1e-4
    )


def test_the_demand_risk_schema_says_what_new_cases_counts(viewer: httpx.Client) -> None:
    document = viewer.get("/openapi.json").json()
    schema = document["components"]["schemas"]["PlanDemandRiskRowPublic"]
    described = schema["properties"]["new_cases"]["description"]
    assert "p_reab_dom" in described and "reablement" in described
    assert "domcare" in described and "demand" in described
    assert "p_ot_dfg" in described and "dfg_works" in described
