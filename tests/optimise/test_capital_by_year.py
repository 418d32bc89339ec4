"""DFG capital by financial year (districts[].capital_by_year_gbp): each year's allocation bounds
that year's works, nothing carried into the next; its price, tables and refusals per year."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

import optimise
from optimise.check import max_violation, residuals
from optimise.config import PlanningConfig, config_problems
from optimise.errors import PlanInputError
from optimise.result import PlanResult
from tests.optimise.factory import START, demand_frame, hand_config, inputs_of

ACROSS_APRIL = pd.Timestamp("2025-03-24")  # weeks of 24 and 31 March, then 7 April
YEARS = {"2024-25": 3000.0, "2025-26": 5000.0}


def _yearly(by_year: dict[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """The hand instance over three weeks across 1 April: 10 works cases waiting at GBP 1,000
    each, none referred, and the district's capital by financial year (`overrides`: the
    config's other fields, such as a longer horizon)."""
    raw = hand_config(**{"horizon_periods": 3, **overrides})
    district = raw["districts"][0]
    del district["capital_gbp"]
    district["capital_by_year_gbp"] = dict(YEARS if by_year is None else by_year)
    return raw


def _demand() -> pd.DataFrame:
    frame = demand_frame({("ot", "rugby"): [5.0, 6.0, 5.0], ("hao", "rugby"): [8.0, 8.0, 8.0]})
    return frame.assign(ds=frame["ds"] - START + ACROSS_APRIL)


def _plan(raw: dict[str, Any]) -> PlanResult:
    return optimise.plan(inputs_of(raw, _demand()), simulation_runs=0)


def _works(result: PlanResult) -> list[float]:
    return [float(w) for w in result.capital["works_completed"]]


def test_a_years_capital_binds_and_works_wait_for_the_next_years() -> None:
    """GBP 3,000 for 2024-25 pays for 3 works in its two weeks (the first, as earlier saves
    more); the other 7 wait for 2025-26's GBP 5,000 in week 3, leaving 2. Over the horizon the
    same GBP 8,000 completes 8 in week 1. Works waiting: 7 + 7 + 2 against 2 + 2 + 2 cases,
    each 7 days: 70 more weighted waiting days, all else the same."""
    inputs = inputs_of(_yearly(), _demand())
    yearly = optimise.plan(inputs, simulation_runs=0)
    assert _works(yearly) == pytest.approx([3.0, 0.0, 5.0])
    horizon = hand_config(horizon_periods=3)
    horizon["districts"][0]["capital_gbp"] = sum(YEARS.values())
    whole = _plan(horizon)
    assert _works(whole) == pytest.approx([8.0, 0.0, 0.0])
    gap = yearly.objective_weighted_wait_days - whole.objective_weighted_wait_days
    assert gap == pytest.approx(70.0)
    assert max_violation(residuals(inputs, yearly)) < 1e-6


def test_capital_is_priced_per_district_and_year() -> None:
    """GBP 1,000 more in 2024-25 completes one more works case in week 1, which then waits
    neither week 1, 2 nor 3 (2025-26's capital still completes 5 of the 6 left): 21 days.
    GBP 1,000 more in 2025-26 completes one more in week 3: 7 days."""
    prices = _plan(_yearly()).shadow_prices
    capital = prices[prices["constraint"] == "capital"].set_index("year")
    assert capital["value"].to_dict() == pytest.approx({"2024-25": 21.0, "2025-26": 7.0})
    assert capital["index"].tolist() == ["rugby/2024-25", "rugby/2025-26"]
    assert capital["district"].tolist() == ["rugby", "rugby"]
    assert capital["unit"].tolist() == ["waiting days saved per extra GBP 1,000"] * 2
    assert capital.loc["2024-25", "statement"].startswith(
        "Financial year 2024-25: an extra GBP 1,000 of 2024-25 DFG capital for Rugby saves 21 "
        "weighted waiting days"
    )


def test_capital_by_year_reports_each_years_spend_against_its_capital() -> None:
    result = _plan(_yearly({"2024-25": 3000.0, "2025-26": 9000.0}))
    assert result.capital_by_year.to_dict("records") == [
        {
            "district": "rugby",
            "year": "2024-25",
            "periods": 2,
            "works_completed": pytest.approx(3.0),
            "capital_spent_gbp": pytest.approx(3000.0),
            "capital_available_gbp": 3000.0,
            "capital_left_gbp": 0.0,
        },
        {  # the 7 left waiting, GBP 2,000 left in the year
            "district": "rugby",
            "year": "2025-26",
            "periods": 1,
            "works_completed": pytest.approx(7.0),
            "capital_spent_gbp": pytest.approx(7000.0),
            "capital_available_gbp": 9000.0,
            "capital_left_gbp": pytest.approx(2000.0),
        },
    ]
    # the existing tables keep their columns; capital_total's capital is the years' sum
    assert list(result.capital_total.columns) == [
        "district",
        "capital_spent_gbp",
        "capital_available_gbp",
    ]
    assert result.capital_total["capital_available_gbp"].tolist() == [12000.0]
    text = result.summary_table()
    assert "DFG capital per financial year: capital / spent / left (GBP), works completed" in text
    assert "  rugby 2025-26 (1 periods): 9,000 / 7,000 / 2,000, 7.0 works" in text


def test_capital_over_the_horizon_has_no_years_capital_of_its_own() -> None:
    raw = hand_config(horizon_periods=3)
    result = _plan(raw)
    rows = result.capital_by_year
    assert rows["year"].tolist() == ["2024-25", "2025-26"]
    assert rows["capital_spent_gbp"].sum() == pytest.approx(result.capital["capital_gbp"].sum())
    assert rows["capital_available_gbp"].isna().all() and rows["capital_left_gbp"].isna().all()
    [stored, _] = result.to_dict()["capital_by_year"]
    assert stored["capital_available_gbp"] is None and stored["capital_left_gbp"] is None
    assert "DFG capital per financial year" not in result.summary_table()


def test_the_checker_holds_each_years_spend_to_its_capital() -> None:
    """One works case moved from 2025-26 into 2024-25: the horizon's total still fits, the
    first year's does not, by GBP 1,000."""
    inputs = inputs_of(_yearly(), _demand())
    result = _plan(_yearly())
    capital = result.capital.copy()
    capital["works_completed"] = [4.0, 0.0, 4.0]
    capital["capital_gbp"] = [4000.0, 0.0, 4000.0]
    found = [r for r in residuals(inputs, result.with_extras(capital=capital))]
    over = {r.index: r.violation for r in found if r.constraint == "capital"}
    assert over == {"0": pytest.approx(1000.0), "1": 0.0}


def _refusal(raw: dict[str, Any]) -> str:
    with pytest.raises(ValidationError) as caught:
        PlanningConfig.model_validate(raw)
    return config_problems(caught.value)


@pytest.mark.parametrize(
    ("by_year", "said"),
    [
        (
            {"2024/25": 3000.0},
            "districts.0.capital_by_year_gbp.2024/25: expected a financial year written YYYY-YY "
            'of consecutive years, such as "2026-27", found "2024/25"',
        ),
        (
            {"2024-26": 3000.0},
            "districts.0.capital_by_year_gbp.2024-26: expected a financial year written YYYY-YY "
            'of consecutive years, such as "2026-27", found "2024-26"',
        ),
        (
            {"2024-25": -1.0, "2025-26": 5000.0},
            "districts.0.capital_by_year_gbp.2024-25: expected GBP from 0 to 100,000,000,000, "
            "found -1",
        ),
        (
            {"2024-25": 3000.0, "2026-27": 5000.0},
            "districts.0.capital_by_year_gbp: expected consecutive financial years, without a "
            'gap, found none for ["2025-26"] between ["2024-25", "2026-27"]',
        ),
        ({}, 'districts.0.capital_by_year_gbp: expected a year such as "2026-27", found {}'),
        (
            {"2024-25": "3000"},
            'districts.0.capital_by_year_gbp.2024-25: expected a number, found "3000" (text)',
        ),
        (  # Arabic-Indic digits: a label no plan's year ("2024-25") would ever match
            {"\u0662\u0660\u0662\u0664-\u0662\u0665": 3000.0},
            "districts.0.capital_by_year_gbp.\u0662\u0660\u0662\u0664-\u0662\u0665: expected a "
            'financial year written YYYY-YY of consecutive years, such as "2026-27", found '
            '"\\u0662\\u0660\\u0662\\u0664-\\u0662\\u0665"',
        ),
    ],
    ids=["not-yyyy-yy", "not-consecutive", "negative", "gap", "empty", "text", "not-ascii"],
)
def test_a_years_label_or_sum_is_refused_naming_district_field_expected_found(
    by_year: dict[str, Any], said: str
) -> None:
    assert _refusal(_yearly(by_year)) == said


def test_capital_is_given_over_the_horizon_or_by_year_exactly_once() -> None:
    both = _yearly()
    both["districts"][0]["capital_gbp"] = 8000.0
    expected = (
        "districts.0.capital_gbp: expected exactly one of capital_gbp (over the whole horizon) "
        "and capital_by_year_gbp (per financial year), found "
    )
    assert _refusal(both) == expected + "both"
    neither = _yearly()
    del neither["districts"][0]["capital_by_year_gbp"]
    assert _refusal(neither) == expected + "neither"


def test_every_district_gives_capital_the_same_way() -> None:
    raw = _yearly()
    other = {**raw["districts"][0], "id": "warwick", "name": "Warwick", "capital_gbp": 100.0}
    del other["capital_by_year_gbp"]
    raw["districts"].append(other)
    assert _refusal(raw) == (
        "districts.1.capital_by_year_gbp: expected capital by financial year, as "
        "districts[rugby] gives it (every district's capital is given one way), found "
        "capital_gbp over the whole horizon"
    )


def test_a_year_the_plan_reaches_but_is_not_given_is_refused() -> None:
    with pytest.raises(PlanInputError) as caught:
        inputs_of(_yearly({"2024-25": 3000.0}), _demand())
    assert str(caught.value) == (
        "districts[rugby].capital_by_year_gbp: expected a sum for every financial year the "
        "plan's periods start in ['2024-25', '2025-26'], found none for [\"2025-26\"]"
    )


def test_a_year_the_plan_never_reaches_is_left_out() -> None:
    """A year before or after the plan's periods plans nothing, so a stored config keeps
    planning as its horizon moves on."""
    wider = inputs_of(_yearly({"2023-24": 5.0, **YEARS, "2026-27": 1.0}), _demand())
    assert wider.capital_by_year_gbp is not None
    assert (
        wider.capital_by_year_gbp.tolist()
        == inputs_of(_yearly(), _demand()).capital_by_year_gbp.tolist()
    )


def test_a_baseline_spends_each_years_capital_in_its_own_year() -> None:
    """The baselines (optimise/fluid.py) complete works within each year's capital too: 3 in
    week 1, none in week 2 with 2024-25's spent, then 2025-26's GBP 5,000 in week 3."""
    from optimise.fluid import _Works

    inputs = inputs_of(_yearly(), _demand())
    works = _Works(inputs, None)
    for t in range(3):
        works.step(t, np.zeros(1))
    assert works.done[0].tolist() == pytest.approx([3.0, 0.0, 5.0])
    assert not math.isnan(works.capital_left[0])


def test_money_scale_warnings_name_capital_by_year_gbp() -> None:
    """Capital in thousands of pounds is named by the field the config gives; and the
    warning that capital_gbp, over the horizon, was a whole year's grant kept for part of a
    year is not given for capital by year, each year's being for its own periods."""
    from optimise.scale import money_scale_warnings

    small = inputs_of(_yearly({"2024-25": 0.3, "2025-26": 0.5}), _demand())
    [warning] = [w for w in money_scale_warnings(small) if "works case in" in w]
    assert warning.startswith("DFG capital_by_year_gbp funds not one works case in 1 district(s)")
    assert "capital_by_year_gbp is the district's capital in each financial year" in warning
    plenty = inputs_of(_yearly({"2024-25": 1e6, "2025-26": 1e6}), _demand())
    assert not [w for w in money_scale_warnings(plenty) if "whole horizon" in w]
    horizon = hand_config(horizon_periods=3)
    horizon["districts"][0]["capital_gbp"] = 2e6
    assert [w for w in money_scale_warnings(inputs_of(horizon, _demand())) if "whole horizon" in w]


def test_a_year_whose_capital_funds_not_one_case_is_named_beside_a_year_that_does() -> None:
    """A year in thousands of pounds beside one in pounds: their sum, GBP 1,800,450, funds
    plenty of GBP 1,000 cases, and no warning was given, while 2024-25 funds none."""
    from optimise.scale import money_scale_warnings

    slip = inputs_of(_yearly({"2024-25": 450.0, "2025-26": 1_800_000.0}), _demand())
    [warning] = [w for w in money_scale_warnings(slip) if "works case in" in w]
    assert warning.startswith(
        "DFG capital_by_year_gbp funds not one works case in 1 district(s) (Rugby GBP 450.00 "
        "in 2024-25 against GBP 1,000 a case): is it in thousands of pounds?"
    )
    both = inputs_of(_yearly({"2024-25": 0.3, "2025-26": 0.5}), _demand())
    [warning] = [w for w in money_scale_warnings(both) if "works case in" in w]
    assert "(Rugby GBP 0.30 in 2024-25 and GBP 0.50 in 2025-26 against GBP 1,000 a case)" in warning


NOTE = "DFG works stop within the plan as a financial year's capital_by_year_gbp is spent: "
CARRIED = (
    ". Each year's capital pays for that year's works alone, none carried into the next: works "
    "cases wait meanwhile for a later year's"
)


def test_works_stopped_by_a_years_capital_are_noted_with_the_week_they_restart() -> None:
    """2024-25's GBP 3,000 is spent in the first week, and the works wait for 2025-26's in
    week 3 (test_a_years_capital_binds_and_works_wait_for_the_next_years): a plan too short
    for the end-of-horizon warning, whose queue does not rise at its end, said nothing."""
    result = _plan(_yearly())
    assert _works(result) == pytest.approx([3.0, 0.0, 5.0])
    assert [w for w in result.warnings if w.startswith("DFG works stop")] == [
        NOTE + "in Rugby after the week of 2025-03-24, its 2024-25 capital (GBP 3,000) spent, "
        "restarting in the week of 2025-04-07 with 2025-26's" + CARRIED
    ]


def test_works_stopped_by_a_years_capital_with_none_the_next_year_are_noted() -> None:
    result = _plan(_yearly({"2024-25": 3000.0, "2025-26": 0.0}))
    assert _works(result) == pytest.approx([3.0, 0.0, 0.0])
    assert [w for w in result.warnings if w.startswith("DFG works stop")] == [
        NOTE + "in Rugby after the week of 2025-03-24, its 2024-25 capital (GBP 3,000) spent, "
        "and none restart in the plan (2025-26: GBP 0)" + CARRIED
    ]


def test_works_that_stop_with_no_case_left_are_not_noted() -> None:
    """GBP 50,000 in 2024-25 completes all 10 cases in week 1, and none are referred: the
    works stop for want of cases, not of capital."""
    result = _plan(_yearly({"2024-25": 50_000.0, "2025-26": 0.0}))
    assert _works(result) == pytest.approx([10.0, 0.0, 0.0])
    assert not [w for w in result.warnings if w.startswith("DFG works stop")]


def test_capital_over_the_horizon_has_no_such_note() -> None:
    horizon = hand_config(horizon_periods=3)
    horizon["districts"][0]["capital_gbp"] = 3000.0
    result = _plan(horizon)
    assert _works(result) == pytest.approx([3.0, 0.0, 0.0])
    assert not [w for w in result.warnings if w.startswith("DFG works stop")]


PART = "DFG capital_by_year_gbp for "


def _part_year_warnings(result: PlanResult) -> list[str]:
    return [w for w in result.warnings if w.startswith(PART)]


def _weekly(periods: int, start: str, by_year: dict[str, float]) -> PlanResult:
    """The hand instance over `periods` weeks from `start`, 2 OT referrals a week."""
    raw = _yearly(by_year, horizon_periods=periods)
    frame = demand_frame({("ot", "rugby"): [2.0] * periods, ("hao", "rugby"): [0.0] * periods})
    return optimise.plan(
        inputs_of(raw, frame.assign(ds=frame["ds"] - START + pd.Timestamp(start))),
        simulation_runs=0,
    )


def test_a_last_year_reached_in_part_and_spent_beyond_its_share_is_warned_of() -> None:
    """2025-26's GBP 5,200, a whole year's, is open to the plan's one week of it (of 52): the
    plan spends it all there, where that week's share is GBP 100, leaving the rest of the year
    none. Nothing said so; 2024-25's GBP 0 is spent within any share."""
    result = _plan(_yearly({"2024-25": 0.0, "2025-26": 5200.0}))
    assert _works(result) == pytest.approx([0.0, 0.0, 5.2])
    assert _part_year_warnings(result) == [
        PART + "2025-26, the plan's last financial year, is for the whole year (as every year's "
        "after the first is), but the plan reaches only its first 1 of 52 weeks (to the week of "
        "2025-04-07; the year ends 2026-03-31): Rugby spends GBP 5,200 of its GBP 5,200 in them, "
        "beyond their pro rata share (GBP 100). A year's capital spent in part of it leaves none "
        "for the rest of 2025-26, which the plan does not see: give 2025-26's amount for these "
        "weeks (the pro rata share, or what the rest of the year will not need), or extend "
        "horizon_periods to the year's end"
    ]


def test_a_year_the_plan_covers_in_full_is_not_warned_of() -> None:
    """52 weeks from 7 April 2025 are the whole of 2025-26: its GBP 5,200 spent in the first
    week is the year's to spend. 51 weeks leave its last week unseen: the same spend is then
    beyond the share of the 51 (GBP 5,100), the year being the plan's only one."""
    whole = _weekly(52, "2025-04-07", {"2025-26": 5200.0})
    assert whole.capital["capital_gbp"].sum() == pytest.approx(5200.0)
    assert _part_year_warnings(whole) == []
    [short] = _part_year_warnings(_weekly(51, "2025-04-07", {"2025-26": 5200.0}))
    assert short.startswith(
        PART + "2025-26, the plan's only financial year (its first and last), is what is left "
        "of that year's allocation from the plan's start, but the plan reaches only 51 of the 52 "
        "weeks left in it (to the week of 2026-03-23; the year ends 2026-03-31): Rugby spends "
        "GBP 5,200 of its GBP 5,200 in them, beyond their pro rata share (GBP 5,100)."
    )


def test_a_part_year_spent_within_its_share_is_not_warned_of() -> None:
    """The 7 works left for 2025-26's one week cost GBP 7,000: within the week's share of GBP
    520,000 (GBP 10,000), not of GBP 156,000 (GBP 3,000). 2024-25's GBP 3,000 is what is
    left of it (less a week than either of 2025-26's gives), spent in full."""
    within = _plan(_yearly({"2024-25": 3000.0, "2025-26": 520_000.0}))
    assert _works(within) == pytest.approx([3.0, 0.0, 7.0])
    assert _part_year_warnings(within) == []
    beyond = _plan(_yearly({"2024-25": 3000.0, "2025-26": 156_000.0}))
    assert _works(beyond) == pytest.approx([3.0, 0.0, 7.0])
    [warning] = _part_year_warnings(beyond)
    assert (
        "Rugby spends GBP 7,000 of its GBP 156,000 in them, beyond their pro rata share (GBP "
        "3,000)" in warning
    )


def test_a_first_year_that_looks_like_a_whole_years_is_warned_of() -> None:
    """2024-25's GBP 52,000 for its last 2 of 53 weeks is GBP 26,000 a week, where 2025-26's
    allocation gives GBP 100: a whole year's, most likely, of which the plan spends GBP 10,000
    in those weeks, beyond their share (GBP 1,962)."""
    result = _plan(_yearly({"2024-25": 52_000.0, "2025-26": 5200.0}))
    assert _works(result) == pytest.approx([10.0, 0.0, 0.0])
    assert _part_year_warnings(result) == [
        PART + "2024-25, the plan's first financial year, which it reaches only from the week of "
        "2025-03-24 (the year's last 2 of 53 weeks), should be what is left of that year's "
        "allocation, but looks like a whole year's: Rugby's GBP 52,000 is GBP 26,000 a week "
        "against 2025-26's GBP 100 (GBP 5,200 over its 52 weeks), and the plan spends GBP 10,000 "
        "of it, beyond the pro rata share of a whole year's (GBP 1,962). If it is the whole "
        "year's, the plan spends in these weeks capital the year's earlier weeks have spent or "
        "committed already: give what is left of 2024-25's allocation (the pro rata share, if it "
        "has been spent evenly so far)"
    ]


def test_a_part_year_of_monthly_periods_counts_its_months() -> None:
    """Five months from January 2025: 2024-25's last 3 of 12, GBP 3,000 (GBP 1,000 a month, as
    2025-26's GBP 12,000 gives), and 2025-26's first 2, whose share is GBP 2,000; the 7 works
    left cost GBP 7,000 in April."""
    months = pd.date_range("2025-01-01", periods=5, freq="MS")
    frame = pd.DataFrame(
        [
            {"service": s, "district": "rugby", "ds": ds, "cases": 0.0}
            for s in ("ot", "hao")
            for ds in months
        ]
    )
    raw = _yearly({"2024-25": 3000.0, "2025-26": 12_000.0}, horizon_periods=5, period_days=30)
    result = optimise.plan(inputs_of(raw, frame), simulation_runs=0)
    assert _works(result) == pytest.approx([3.0, 0.0, 0.0, 7.0, 0.0])
    [warning] = _part_year_warnings(result)
    assert warning.startswith(
        PART + "2025-26, the plan's last financial year, is for the whole year (as every year's "
        "after the first is), but the plan reaches only its first 2 of 12 months (to the month "
        "of 2025-05-01; the year ends 2026-03-31): Rugby spends GBP 7,000 of its GBP 12,000 in "
        "them, beyond their pro rata share (GBP 2,000)."
    )
