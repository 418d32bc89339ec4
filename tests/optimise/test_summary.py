"""The CLI table: per district and service hours and waits, and the revenue totals."""

from __future__ import annotations

import pytest

import optimise
from tests.optimise.factory import hand_config, hand_demand, inputs_of


def test_hand_plan_table_shows_districts_and_revenue() -> None:
    text = optimise.plan(inputs_of(hand_config(), hand_demand())).summary_table()
    rugby = next(line for line in text.splitlines() if line.startswith("rugby"))
    # OT: 30 h serve 15 cases; 7 x (7.5 + 6) = 94.5 person-days: 6.3 days each. HAO: 10 h,
    # 7 x (3 + 6) = 63 person-days over 10 cases. Works: 7 x (5 + 5) over 5 done: 14 days.
    expected = ["rugby", "30", "h", "/", "6.3", "d", "10", "h", "/", "6.3", "d", "14.0", "d"]
    assert rugby.split() == expected
    assert "budget 400, headroom 0" in text and "staff 400, agency 0, fees 0" in text
    assert len(text.splitlines()) < 40


def test_district_waits_frame() -> None:
    result = optimise.plan(inputs_of(hand_config(), hand_demand()))
    waits = result.district_waits.set_index("service")["avg_wait_days"]
    assert waits.to_dict() == pytest.approx({"ot": 6.3, "hao": 6.3, "dfg_works": 14.0})
