"""With care charges, the dashboard's plan card shows the charge income, and a net cost that
takes it out as the plan's revenue table does, so net cost and unspent budget add up to the
budget (in real headless Chromium against the real server)."""

from __future__ import annotations

from typing import Any

import pytest

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402


def _revenue_row(period: int, ds: str) -> dict[str, Any]:
    """A week's revenue row with 1,500 GBP of care charges: 120,000 of staff less 10,000 of
    fees and 1,500 of charges is 108,500 net, 1,500 under a 110,000 budget."""
    return {
        "period": period,
        "ds": ds,
        "staff_cost_gbp": 120000.0,
        "agency_cost_gbp": 0.0,
        "fee_income_gbp": 10000.0,
        "charge_income_gbp": 1500.0,
        "budget_gbp": 110000.0,
        "net_cost_gbp": 108500.0,
        "headroom_gbp": 1500.0,
    }


def test_the_plan_card_shows_charge_income_and_a_net_cost_that_adds_up_to_the_budget(
    browser: Any, tmp_path_factory: pytest.TempPathFactory
) -> None:
    settings = keyed_settings(tmp_path_factory.mktemp("charges"), "charges.db")
    _engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    result = {
        "status": "optimal",
        "message": "Optimal plan over 2 periods of 7 days",
        "solver": "highs",
        "solve_seconds": 0.1,
        "warnings": [],
        "revenue": [_revenue_row(1, "2026-01-05"), _revenue_row(2, "2026-01-12")],
        "demand": [],
        "hours": [],
        "shadow_prices": [],
        "total_dtoc_days": 0.0,
        "district_waits": [],
    }
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        run = repository.start_run(session, "plan", "api", "test")
        repository.store_plan(session, run.id, config.id, "optimal", 1000.0, 0.1, result)
        key = api_keys.create_key(session, "charges-viewer", Role.VIEWER).secret
    with LiveServer(create_app(settings)) as server:
        open_with_key(browser, server, key)
        shown = {
            name: browser.find_element(By.ID, f"plan-{name}").text
            for name in ("staff", "fee", "charge", "net", "budget", "unspent")
        }
    assert shown == {
        "staff": "240,000",
        "fee": "20,000",
        "charge": "3,000",
        "net": "217,000",  # 240,000 - 20,000 - 3,000: with the 3,000 unspent, the budget
        "budget": "220,000",
        "unspent": "3,000",
    }
