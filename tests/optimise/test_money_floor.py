"""Money above 0 but under a penny is refused at its field when sent, by year too: before,
`cost_per_hour_gbp: 1e-300` (or 0.0000001) was taken and planned, its hours "over a trillion
times" cheaper than the budget, the LP's money rows spanning more than a solver's tolerances.
0 stays a choice where the field takes it (no charge, no grant). A config stored before the
floor, or before a by-year ceiling, is still read (as every entry check leaves a stored one)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from pydantic import ValidationError

from homeward.planning import read_config
from optimise.config import MIN_MONEY_GBP, PlanningConfig, RefusedValue, read_stored
from tests.optimise.factory import hand_config, refusal

Change = Callable[[dict[str, Any], float], None]
YEAR = "2025-26"
FLOOR = "0 (none) or at least GBP 0.01 (a penny)"


def _set(*where: str | int) -> Change:
    def change(raw: dict[str, Any], gbp: float) -> None:
        parent: Any = raw
        for key in where[:-1]:
            parent = parent[key]
        parent[where[-1]] = gbp

    return change


def _cost_by_year(raw: dict[str, Any], gbp: float) -> None:
    service = raw["services"][0]
    del service["cost_per_hour_gbp"]
    service["cost_per_hour_gbp_by_year"] = {YEAR: gbp, "2026-27": 10.0}


def _charge(raw: dict[str, Any], gbp: float) -> None:
    """A charge, and a share paying it where it is one (a charge alone is refused)."""
    raw["services"][0] |= {"charge_gbp_per_hour": gbp, "charge_paying_share": 0.5 if gbp else 0}


def _charge_by_year(raw: dict[str, Any], gbp: float) -> None:
    share = 0.5 if gbp else 0.0
    raw["services"][0] |= {"charge_gbp_per_hour_by_year": {YEAR: gbp}, "charge_paying_share": share}


def _pooled_by_year(raw: dict[str, Any], gbp: float) -> None:
    del raw["revenue_budget_gbp_per_period"]
    raw["revenue_budget_gbp_by_year"] = {YEAR: gbp}


def _team_by_year(raw: dict[str, Any], gbp: float) -> None:
    del raw["revenue_budget_gbp_per_period"]
    raw["teams"][0]["revenue_budget_gbp_by_year"] = {YEAR: gbp}


def _capital_by_year(raw: dict[str, Any], gbp: float) -> None:
    del raw["districts"][0]["capital_gbp"]
    raw["districts"][0]["capital_by_year_gbp"] = {YEAR: gbp}


def _fee_by_year(raw: dict[str, Any], gbp: float) -> None:
    raw["fees"] = {"by_year": {YEAR: {"dfg_fee_rate": 0.1, "min_fee_per_case_gbp": gbp}}}


# (change, the refused field's location)
FIGURES: list[tuple[Change, tuple[str | int, ...]]] = [
    (_set("services", 0, "cost_per_hour_gbp"), ("services", 0, "cost_per_hour_gbp")),
    (_charge, ("services", 0, "charge_gbp_per_hour")),
    (_set("revenue_budget_gbp_per_period"), ("revenue_budget_gbp_per_period",)),
    (_set("districts", 0, "capital_gbp"), ("districts", 0, "capital_gbp")),
    (_set("fees", "min_fee_per_case_gbp"), ("fees", "min_fee_per_case_gbp")),
    (_set("fees", "max_fee_per_case_gbp"), ("fees", "max_fee_per_case_gbp")),
]
BY_YEAR: list[tuple[Change, tuple[str | int, ...]]] = [
    (_cost_by_year, ("services", 0, "cost_per_hour_gbp_by_year", YEAR)),
    (_charge_by_year, ("services", 0, "charge_gbp_per_hour_by_year", YEAR)),
    (_pooled_by_year, ("revenue_budget_gbp_by_year", YEAR)),
    (_team_by_year, ("teams", 0, "revenue_budget_gbp_by_year", YEAR)),
    (_capital_by_year, ("districts", 0, "capital_by_year_gbp", YEAR)),
    (_fee_by_year, ("fees", "by_year", YEAR, "min_fee_per_case_gbp")),
]


def _body(change: Change, gbp: float) -> dict[str, Any]:
    raw = hand_config()
    change(raw, gbp)
    return raw


@pytest.mark.parametrize(("change", "loc"), FIGURES + BY_YEAR)
@pytest.mark.parametrize("tiny", [5e-324, 1e-300, 1e-7, 0.009])
def test_money_under_a_penny_is_refused_at_its_field(
    change: Change, loc: tuple[str | int, ...], tiny: float
) -> None:
    assert refusal(_body(change, tiny)) == RefusedValue(
        loc, FLOOR, f"{tiny:g} (under a penny: a slip? money is in pounds)"
    )


@pytest.mark.parametrize(("change", "loc"), FIGURES + BY_YEAR)
def test_a_penny_is_taken_and_so_is_none(change: Change, loc: tuple[str | int, ...]) -> None:
    for gbp in (MIN_MONEY_GBP, 0.0):
        PlanningConfig.model_validate(_body(change, gbp))


def test_a_works_case_under_a_penny_is_refused_and_none_is_not_a_choice() -> None:
    raw = hand_config()
    raw["districts"][0]["cost_per_adaptation_gbp"] = 1e-9
    assert refusal(raw) == RefusedValue(
        ("districts", 0, "cost_per_adaptation_gbp"),
        "at least GBP 0.01 (a penny)",
        "1e-09 (under a penny: a slip? money is in pounds)",
    )


def test_a_fee_rate_by_year_is_a_fraction_not_money() -> None:
    """fees.by_year's years were checked with its rates as sums: a rate of half a percent is
    a rate, not a sum under a penny."""
    raw = hand_config(fees={"by_year": {YEAR: {"dfg_fee_rate": 0.005}}})
    assert PlanningConfig.model_validate(raw).fees.by_year is not None


@pytest.mark.parametrize(("change", "loc"), FIGURES + BY_YEAR)
@pytest.mark.parametrize("gbp", [1e-300, 2e11])
def test_a_config_stored_with_money_beyond_the_bounds_is_still_read(
    change: Change, loc: tuple[str | int, ...], gbp: float
) -> None:
    """A stored config's money under a penny, or over the ceiling (which a by-year figure
    was refused at when read back, failing every plan of it), is read as stored."""
    raw = _body(change, gbp)
    read: Any = read_stored(raw).model_dump()
    for key in loc:
        read = read[key]
    assert read == gbp
    assert read_config(raw).model_dump() == read_stored(raw).model_dump()


@pytest.mark.parametrize(("change", "loc"), BY_YEAR[:-1])
def test_a_negative_sum_by_year_is_refused_even_stored(
    change: Change, loc: tuple[str | int, ...]
) -> None:
    """Never taken when sent, so never stored: the floor of 0 stays as a field's ge=0 does."""
    with pytest.raises(ValidationError):
        read_stored(_body(change, -1.0))
