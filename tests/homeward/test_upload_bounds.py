"""What an upload may hold: counts up to a ceiling, periods that have begun (by the project's
clock, fixed here) and not before 1990, and a weekly series' dates as full Mondays even where
the file alone cannot tell (a month YYYY-MM against weekly stored history)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import ingest, repository
from homeward.demand_csv import read_demand_csv
from homeward.errors import Problem, ValidationFailed
from homeward.ingest import MAX_COUNT, observations_hash, read_upload
from homeward.storage import transaction

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday; its week began 2026-11-16


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def _problems(text: str) -> list[Problem]:
    with pytest.raises(ValidationFailed) as refused:
        read_upload(text.encode(), "upload.csv")
    return list(refused.value.problems)


def test_a_count_above_the_ceiling_is_refused_naming_row_column_expected_and_found() -> None:
    [problem] = _problems("unique_id,ds,y\nreferrals/hao/rugby,2025-12-29,1000000000000000\n")
    assert (problem.row, problem.column) == (2, "y")
    assert f"{MAX_COUNT:,}" in problem.expected and problem.expected.startswith("a number from 0")
    assert problem.found == f"'1000000000000000' (more than {MAX_COUNT:,} in one period)"


def test_the_ceiling_itself_is_a_count_and_the_values_around_it_are_told_apart() -> None:
    at_ceiling = f"unique_id,ds,y\nreferrals/ot/a,2025-12-29,{MAX_COUNT}\n"
    assert read_upload(at_ceiling.encode(), "ok.csv").frame["y"].tolist() == [MAX_COUNT]
    found = [
        p.found
        for p in _problems(
            "unique_id,ds,y\nreferrals/ot/a,2025-12-15,1e999\nreferrals/ot/a,2025-12-22,-1\n"
            f"referrals/ot/a,2025-12-29,{MAX_COUNT + 1}\n"
        )
    ]
    assert found == [
        "'1e999' (too large: infinite)",
        "'-1' (negative)",
        f"'{MAX_COUNT + 1}' (more than {MAX_COUNT:,} in one period)",
    ]


def test_periods_after_today_or_before_1990_are_refused_by_row_and_series() -> None:
    problems = _problems(
        "unique_id,ds,y\n"
        "referrals/ot/a,2091-01-01,3\n"  # a Monday, 65 years ahead
        "referrals/ot/b,1925-01-05,3\n"  # a Monday, a typo for 2025
        "referrals/ot/c,2026-11-23,3\n"  # next Monday: the week has not begun
        "winter/d,2026-12,3\n"  # next month
    )
    assert [(p.row, p.column, p.series_id) for p in problems] == [
        (2, "ds", "referrals/ot/a"),
        (3, "ds", "referrals/ot/b"),
        (4, "ds", "referrals/ot/c"),
        (5, "ds", "winter/d"),
    ]
    assert all("1990-01-01" in p.expected and "2026-11-18" in p.expected for p in problems)
    assert [p.found for p in problems] == [
        "'2091-01-01' (after today)",
        "'1925-01-05' (before 1990-01-01)",
        "'2026-11-23' (after today)",
        "'2026-12' (after today)",
    ]


def test_a_run_of_future_weeks_is_named_row_by_row_not_as_a_calendar_problem() -> None:
    weeks = pd.date_range("2026-11-09", "2091-01-01", freq="W-MON")
    text = "unique_id,ds,y\n" + "".join(f"referrals/ot/a,{d:%Y-%m-%d},3\n" for d in weeks)
    problems = _problems(text)
    assert problems[0].row == 4 and problems[0].found == "'2026-11-23' (after today)"
    assert {p.column for p in problems} == {"ds"}
    assert all("missing" not in p.found for p in problems)


def test_the_current_week_and_month_have_begun_and_are_accepted() -> None:
    text = "unique_id,ds,y\nreferrals/ot/a,2026-11-16,3\nwinter/d,2026-11,4\nold/e,1990-01,5\n"
    frame = read_upload(text.encode(), "now.csv").frame
    assert frame["ds"].dt.strftime("%Y-%m-%d").tolist() == [
        "1990-01-01",
        "2026-11-16",
        "2026-11-01",
    ]


def test_an_upload_records_which_dates_were_written_as_months() -> None:
    text = (
        "unique_id,ds,y\nwinter/d,2025-11,4\nwinter/d,2025-12-01,5\nreferrals/ot/a,2025-12-01,3\n"
    )
    upload = read_upload(text.encode(), "mixed.csv")
    written = dict(zip(upload.lines, upload.month_only, strict=True))
    assert written == {2: True, 3: False, 4: False}


def _weekly_history(factory: sessionmaker[Session], series_id: str) -> pd.DataFrame:
    weeks = pd.date_range("2025-10-06", "2025-11-24", freq="W-MON")
    frame = pd.DataFrame({"unique_id": series_id, "ds": weeks, "y": 5.0})
    with transaction(factory) as session:
        repository.store_observations(session, frame, "history", observations_hash(frame))
    return frame


def _store(factory: sessionmaker[Session], text: str) -> repository.ImportSummary:
    upload = read_upload(text.encode(), "upload.csv")
    with transaction(factory) as session:
        return repository.store_observations_once(
            session,
            upload.frame,
            "upload.csv",
            observations_hash(upload.frame),
            upload.lines,
            upload.month_only,
        )


def test_a_month_in_a_weekly_series_is_refused_against_its_stored_history(
    factory: sessionmaker[Session],
) -> None:
    """2025-12 reads as 2025-12-01, a Monday, the week after the history: the file alone (one
    row, a month) cannot tell it is meant weekly; the stored history can."""
    _weekly_history(factory, "referrals/hao/rugby")
    with pytest.raises(ValidationFailed) as refused:
        _store(factory, "unique_id,ds,y\nreferrals/hao/rugby,2025-12,7\n")
    [problem] = refused.value.problems
    assert (problem.row, problem.column, problem.series_id) == (2, "ds", "referrals/hao/rugby")
    assert problem.expected == "a Monday YYYY-MM-DD (the series is weekly, W-MON)"
    assert problem.found.startswith("'2025-12' (a month, not a day")
    with factory() as session:
        stored = repository.load_observations(session, ["referrals/hao/rugby"])
        assert stored["ds"].max() == pd.Timestamp("2025-11-24")  # nothing stored
        assert len(repository.list_series(session)) == 1


def test_the_same_monday_in_full_is_a_week_and_a_month_is_a_month(
    factory: sessionmaker[Session],
) -> None:
    _weekly_history(factory, "referrals/hao/rugby")
    assert _store(factory, "unique_id,ds,y\nreferrals/hao/rugby,2025-12-01,7\n").rows == 1
    assert _store(factory, "unique_id,ds,y\nwinter/admissions,2025-11,7\n").rows == 1
    assert _store(factory, "unique_id,ds,y\nwinter/admissions,2025-12,8\n").rows == 1
    with factory() as session:
        frequencies = {row.id: row.freq for row in repository.list_series(session)}
    assert frequencies == {"referrals/hao/rugby": "W-MON", "winter/admissions": "MS"}


def test_a_demand_file_keeps_to_the_same_ceiling(tmp_path: Path) -> None:
    demand = tmp_path / "demand.csv"
    demand.write_text(f"service,district,ds,cases\not,rugby,2026-01-05,{MAX_COUNT * 10}\n")
    with pytest.raises(ValidationFailed) as refused:
        read_demand_csv(demand)
    [problem] = refused.value.problems
    assert (problem.row, problem.column) == (2, "cases")
    assert problem.expected == f"a number from 0 to {MAX_COUNT:,}"
    assert problem.found == f"'{MAX_COUNT * 10}' (more than {MAX_COUNT:,} in one period)"
