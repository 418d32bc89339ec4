"""Series checked all at once, as typed frames, judge as the checks of one series at a time and
of text do: ``series_frequencies`` as ``frequency_of`` of each series, and
``frequencies_if_valid`` (the check of series merged with stored history) as
``validate_observations`` of the same observations written out as text."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from unittest import mock

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from homeward import ingest
from homeward.errors import ValidationFailed
from homeward.repository import _as_text

TODAY = datetime(2026, 11, 18, 9, 30, tzinfo=UTC)  # a Wednesday
IDS = ("referrals/ot/a", "referrals/ot/b", "winter/admissions", "Total", "Referrals/OT/c")
# starts on and off the calendar, before EARLIEST_PERIOD and running past today
STARTS = {
    "MS": ("2023-11-01", "1989-11-01", "2026-10-01", "2024-01-31"),
    "W-MON": ("2025-12-29", "1989-12-18", "2026-11-09", "2024-01-01", "2025-06-01"),
}
COUNTS = (0.0, 3.0, 2.5, -0.0, float(ingest.MAX_COUNT))
NOT_COUNTS = (ingest.MAX_COUNT + 1.0, -1.0, np.nan, np.inf)
EDITS = ("none", "none", "drop", "shift", "month-end", "repeat", "every-other")


@pytest.fixture(autouse=True)
def fixed_today() -> Iterator[None]:
    with mock.patch.object(ingest, "utcnow", lambda: TODAY):
        yield


def _dates(draw: st.DrawFn) -> list[pd.Timestamp]:
    freq = draw(st.sampled_from(sorted(STARTS)))
    start = pd.Timestamp(draw(st.sampled_from(STARTS[freq])))
    dates = list(pd.date_range(start, periods=draw(st.integers(1, 6)), freq=freq))
    dates = dates or [start]  # a start off the calendar: date_range begins after it
    at = draw(st.integers(0, len(dates) - 1))
    edit = draw(st.sampled_from(EDITS))
    if edit == "drop" and len(dates) > 1:
        del dates[at]
    elif edit == "shift":
        dates[at] += pd.Timedelta(days=draw(st.sampled_from([1, -1, 7, 28])))
    elif edit == "month-end":
        dates[at] = dates[at] + pd.offsets.MonthEnd(0)
    elif edit == "repeat":
        dates.append(dates[at])
    elif edit == "every-other":
        dates = dates[::2]
    return dates


@st.composite
def observations(draw: st.DrawFn) -> pd.DataFrame:
    """A long frame of one to three series, typed as stored: most runs of consecutive months or
    weeks, some with a period missing, repeated, or off the calendar, some values not counts."""
    parts = []
    for series_id in draw(st.lists(st.sampled_from(IDS), min_size=1, max_size=3, unique=True)):
        dates = _dates(draw)
        values = draw(st.lists(st.sampled_from(COUNTS), min_size=len(dates), max_size=len(dates)))
        if draw(st.integers(0, 3)) == 0:  # one value not a count
            values[draw(st.integers(0, len(values) - 1))] = draw(st.sampled_from(NOT_COUNTS))
        parts.append(pd.DataFrame({"unique_id": series_id, "ds": dates, "y": values}))
    frame = pd.concat(parts, ignore_index=True)
    order = draw(st.permutations(range(len(frame))))
    return frame.iloc[list(order)].reset_index(drop=True).astype({"ds": "datetime64[ns]"})


def _one_at_a_time(frame: pd.DataFrame) -> dict[str, str]:
    return {
        str(series_id): ingest.frequency_of(group["ds"])
        for series_id, group in frame.groupby("unique_id", sort=True)
    }


def _accepted_as_text(frame: pd.DataFrame) -> bool:
    try:
        ingest.validate_observations(_as_text(frame), source="merged")
    except ValidationFailed:
        return False
    return True


@settings(deadline=None)  # the text check's time varies with the machine's load
@given(observations())
def test_frequencies_of_every_series_at_once_are_each_series_own(frame: pd.DataFrame) -> None:
    try:
        expected = _one_at_a_time(frame)
    except ValueError as exc:
        with pytest.raises(ValueError, match="neither all Mondays"):
            ingest.series_frequencies(frame)
        assert "neither all Mondays" in str(exc)
    else:
        assert ingest.series_frequencies(frame) == expected


@settings(deadline=None)  # the text check's time varies with the machine's load
@given(observations())
def test_series_pass_the_typed_check_exactly_when_their_text_is_accepted(
    frame: pd.DataFrame,
) -> None:
    frequencies = ingest.frequencies_if_valid(frame)
    assert (frequencies is not None) == _accepted_as_text(frame)
    if frequencies is not None:
        assert frequencies == _one_at_a_time(frame)


def test_valid_series_of_every_kind_pass_the_typed_check() -> None:
    """Consecutive months; consecutive Mondays; one 1st (a Monday: monthly, as its text reads);
    one Monday; counts from 0 to the largest, in any row order."""
    frame = pd.DataFrame(
        {
            "unique_id": ["m", "w", "w", "one-first", "m", "one-monday", "m"],
            "ds": pd.to_datetime(
                ["2026-01-01", "2026-11-09", "2026-11-16", "2024-01-01", "2025-12-01",
                 "2025-03-03", "2025-11-01"]
            ),
            "y": [0.0, 1.0, 2.5, ingest.MAX_COUNT, 4.0, 5.0, 6.0],
        }
    )  # fmt: skip
    assert ingest.frequencies_if_valid(frame) == {
        "m": "MS",
        "one-first": "MS",
        "one-monday": "W-MON",
        "w": "W-MON",
    }
    assert _accepted_as_text(frame)


@pytest.mark.parametrize(
    ("row", "change"),
    [
        (0, {"ds": pd.Timestamp("2026-02-01")}),  # a month missing between 2025-12 and 2026-02
        (1, {"ds": pd.Timestamp("2026-11-23")}),  # a week not begun by today
        (2, {"y": -1.0}),
        (2, {"y": ingest.MAX_COUNT + 1}),
        (2, {"unique_id": "Total"}),
        (3, {"ds": pd.Timestamp("2024-01-01 12:00")}),  # not midnight: left to the text check
    ],
)
def test_a_series_the_typed_check_cannot_pass_is_left_to_the_text_check(
    row: int, change: dict[str, object]
) -> None:
    frame = pd.DataFrame(
        {
            "unique_id": ["m", "w", "w", "one-first", "m"],
            "ds": pd.to_datetime(
                ["2026-01-01", "2026-11-09", "2026-11-16", "2024-01-01", "2025-12-01"]
            ),
            "y": [0.0, 1.0, 2.5, 3.0, 4.0],
        }
    )
    assert ingest.frequencies_if_valid(frame) is not None
    for column, value in change.items():
        frame.loc[row, column] = value
    assert ingest.frequencies_if_valid(frame) is None


def test_no_rows_or_more_than_a_file_may_hold_are_left_to_the_text_check() -> None:
    frame = pd.DataFrame(
        {"unique_id": ["m", "m"], "ds": pd.to_datetime(["2026-01-01", "2026-02-01"]), "y": 1.0}
    )
    assert ingest.frequencies_if_valid(frame) == {"m": "MS"}
    assert ingest.frequencies_if_valid(frame.iloc[:0]) is None
    with mock.patch.object(ingest, "DEFAULT_MAX_ROWS", 1):
        assert ingest.frequencies_if_valid(frame) is None
    with_no_id = frame.assign(unique_id=[None, None])
    assert ingest.frequencies_if_valid(with_no_id) is None
