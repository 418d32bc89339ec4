"""Shadow-price statements read as a council reads money and hours, say what a single-point
range means, name the objective honestly when it has a worst-district term, and each row
carries its period's start date.

Before, a financial year's bound read "from 1.10379e+06 to 1.10795e+06 GBP", a ceiling of 0
that was worth 840 days per hour "holds for a bound from 0 to 0 hours", a price of the whole
objective (waiting plus the worst-district term) was said to save that many "weighted waiting
days", and a client had to map a row's period to its date itself.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np
import pandas as pd
import pytest

import optimise
from homeward import demo_config
from homeward.demo_series import DEMO_BASE_WEEKLY_REFERRALS
from optimise.config import PlanningConfig
from optimise.explain import SHADOW_COLUMNS, UNITS, figure
from optimise.inputs import PlanInputs, build_inputs
from tests.optimise.factory import bounds, hand_config, hand_demand, inputs_of

E_NOTATION = re.compile(r"\d(?:\.\d+)?e[+-]?\d", re.IGNORECASE)
NUMBER = r"(-?[\d,]+(?:\.\d+)?)"
CLAUSES = {
    "between": re.compile(rf"holds for a bound from {NUMBER} to {NUMBER} (\w+)\)"),
    "up_to": re.compile(rf"holds for a bound up to {NUMBER} (\w+)\)"),
    "or_more": re.compile(rf"holds for a bound of {NUMBER} (\w+) or more\)"),
    "only": re.compile(rf"holds only at this bound, {NUMBER} (\w+)\)"),
}


def _demo(weeks: int = 12, **changes: Any) -> PlanInputs:
    """The demo config on flat spring demand; `changes` go into the config's body."""
    body = demo_config.demo_planning_config(horizon_periods=weeks)
    body.pop("winter", None)
    config = PlanningConfig.model_validate({**body, **changes})
    starts = pd.date_range("2026-04-06", periods=weeks, freq="W-MON")
    demand = pd.DataFrame(
        [
            {"service": s, "district": d, "ds": w, "cases": n * 1.08}
            for s, by_district in DEMO_BASE_WEEKLY_REFERRALS.items()
            for d, n in by_district.items()
            for w in starts
        ]
    )
    return build_inputs(config, demand)


def _figure(text: str) -> float:
    return float(text.replace(",", ""))


def _places(unit: str) -> int:
    return 0 if unit == "GBP" else 1


def _written(text: str, unit: str) -> bool:
    """Thousands separated, pounds with no pence, hours with at most one decimal."""
    whole, _, decimals = text.lstrip("-").partition(".")
    grouped = re.fullmatch(r"\d{1,3}(?:,\d{3})*", whole) is not None
    return grouped and len(decimals) <= _places(unit)


@pytest.fixture(scope="module")
def yearly() -> optimise.PlanResult:
    """The demo on a financial-year budget: its revenue bound is over a million pounds."""
    result = optimise.plan(_demo(revenue_budget_basis="financial_year"), simulation_runs=0)
    assert result.status is optimise.PlanStatus.OPTIMAL
    return result


def test_bounds_are_written_in_full_rounded_to_the_pound_or_tenth_of_an_hour(
    yearly: optimise.PlanResult,
) -> None:
    prices = yearly.shadow_prices
    revenue = prices[prices["constraint"] == "revenue"].iloc[0]
    assert revenue["range_low"] > 1e6  # the case that was written in e-notation
    checked = 0
    for _, row in prices.iterrows():
        statement = row["statement"]
        assert not E_NOTATION.search(statement), statement
        unit = UNITS[row["constraint"]]
        low, high = float(row["range_low"]), float(row["range_high"])
        if found := CLAUSES["between"].search(statement):
            written = [(found.group(1), low), (found.group(2), high)]
        elif found := CLAUSES["up_to"].search(statement):
            written = [(found.group(1), high)]
        elif found := CLAUSES["or_more"].search(statement):
            written = [(found.group(1), low)]
        else:
            continue
        assert found.group(found.lastindex or 0) == unit, statement
        for text, value in written:
            assert _written(text, unit), statement
            assert _figure(text) == pytest.approx(round(value, _places(unit)), abs=1e-9)
            checked += 1
    assert checked >= len(prices)  # every row of the demo is ranged


def test_a_range_of_a_single_bound_says_it_holds_only_there() -> None:
    # No OT hours at all and a HAO floor the budget cannot pay: relaxed, and with the
    # relaxation held an OT hour is worth 840 days, at exactly this ceiling of 0 hours.
    raw = hand_config(teams=[{"id": "north", "hours": {"ot": bounds(0, 0), "hao": bounds(30, 40)}}])
    result = optimise.plan(inputs_of(raw, hand_demand()), simulation_runs=0)
    assert result.status is optimise.PlanStatus.INFEASIBLE_RELAXED
    prices = result.shadow_prices
    point = prices[prices["range_low"] == prices["range_high"]]
    assert len(point)  # the ceilings of 0 OT hours
    for _, row in point.iterrows():
        statement = row["statement"]
        found = CLAUSES["only"].search(statement)
        assert found, statement
        assert _figure(found.group(1)) == pytest.approx(row["range_low"])
        assert found.group(2) == UNITS[row["constraint"]]
        assert "holds for a bound from" not in statement
    ranged = prices[prices["range_low"] < prices["range_high"]]
    assert not any(CLAUSES["only"].search(s) for s in ranged["statement"])


def test_a_price_with_the_worst_district_term_is_of_the_objective_not_of_waiting() -> None:
    plain = optimise.plan(_demo(), simulation_runs=0).shadow_prices
    fair = optimise.plan(
        _demo(equity={"worst_district_weight": 50.0}), simulation_runs=0
    ).shadow_prices
    assert (fair["value"].abs() > 1e-6).any()
    for _, row in fair.iterrows():
        statement = row["statement"]
        assert "weighted waiting days (" not in statement and "saves" not in statement
        assert "adds" not in statement
        assert "plan's objective (weighted waiting days plus the worst-district term)" in (
            statement
        )
        verb = "raises" if row["constraint"] == "team_hours_min" else "lowers"
        assert f" {verb} the plan's objective" in statement
        assert row["unit"].startswith("objective days (weighted waiting days plus")
    # without the weight the price is of waiting alone, and says so as before
    for _, row in plain.iterrows():
        verb = "adds" if row["constraint"] == "team_hours_min" else "saves"
        assert re.search(rf" {verb} [\d,.]+ weighted waiting days", row["statement"])
        assert "objective" not in row["statement"]
        assert row["unit"].startswith("waiting days ")


@pytest.mark.parametrize(
    ("value", "written"),
    [(2.3149, "2.31"), (28000.4, "28,000"), (1234567.0, "1,230,000"), (0.5, "0.5")],
)
def test_a_price_is_written_to_three_figures_in_full(value: float, written: str) -> None:
    assert figure(value) == written
    assert figure(-value) == f"-{written}"


def test_each_row_with_a_period_carries_its_start_date(yearly: optimise.PlanResult) -> None:
    inputs = _demo()
    result = optimise.plan(inputs, simulation_runs=0)
    for prices in (result.shadow_prices, yearly.shadow_prices):
        assert list(prices.columns) == SHADOW_COLUMNS
        assert SHADOW_COLUMNS == [
            "constraint",
            "index",
            "dual",
            "value",
            "unit",
            "statement",
            "range_low",
            "range_high",
            "ds",  # added after the first columns, and the coordinates after it
            "service",
            "team",
            "district",
            "budget",
            "year",
            "period",
        ]
    prices = result.shadow_prices
    with_period = prices[prices["constraint"] != "capital"]
    assert len(with_period) and (prices["constraint"] == "capital").any()
    periods = with_period["index"].str.rsplit("/", n=1).str[-1].astype(int)
    assert list(with_period["period"]) == list(periods)  # the index's last part, as a number
    expected = [inputs.period_start[t - 1] for t in periods]
    assert list(with_period["ds"]) == expected
    assert prices.loc[prices["constraint"] == "capital", "ds"].isna().all()
    # a financial year's revenue row has no period, so no date
    year_rows = yearly.shadow_prices[yearly.shadow_prices["constraint"] == "revenue"]
    assert len(year_rows) and year_rows["ds"].isna().all()

    rows = json.loads(json.dumps(result.to_dict(), allow_nan=False))["shadow_prices"]
    last = ["ds", "service", "team", "district", "budget", "year", "period"]
    assert [list(r)[-7:] for r in rows] == [last] * len(rows)
    by_row = {(r["constraint"], r["index"]): r["ds"] for r in rows}
    for _, row in prices.iterrows():
        ds = by_row[(row["constraint"], row["index"])]
        if pd.isna(row["ds"]):
            assert ds is None
        else:
            assert ds == row["ds"].strftime("%Y-%m-%d")
            assert np.datetime64(ds) == np.datetime64(row["ds"].date())
