"""Ingest checks pinned at their edges, where a mutation run found them unchecked: --fill-gaps'
"at most half" missing, the quick check of series merged with stored history, and monthly
series across a new year."""

from __future__ import annotations

import pandas as pd
import pytest

from homeward.errors import ValidationFailed
from homeward.ingest import frequencies_if_valid, read_observations_csv


def test_allow_gaps_takes_a_series_missing_exactly_half_its_months() -> None:
    """ingest.py:1788 `len(missing) * 2 <= len(calendar)` -> `<` survived: --fill-gaps accepts
    a series missing "at most half its periods" (the docstring, the CLI help); no test sits on
    the boundary, so a series missing exactly half would be refused as mostly missing.
    36 months, 18 present (the first, and the last 17): accepted, with its 18 rows. One more
    missing (17 present, month 19 left out too): refused."""
    months = pd.date_range("2016-04-01", periods=36, freq="MS")
    half = [0, *range(19, 36)]
    text = "unique_id,ds,y\n" + "".join(f"a,{months[i]:%Y-%m},{100 + i}\n" for i in half)
    frame = read_observations_csv(text, "t.csv", allow_gaps=True)
    assert len(frame) == 18
    fewer = "unique_id,ds,y\n" + "".join(
        f"a,{months[i]:%Y-%m},{100 + i}\n" for i in half if i != 19
    )
    with pytest.raises(ValidationFailed) as caught:
        read_observations_csv(fewer, "t.csv", allow_gaps=True)
    (problem,) = caught.value.problems
    assert problem.found.startswith("19 of 36 months missing")


def test_the_typed_check_finds_a_gap_in_any_series_not_only_the_first() -> None:
    """ingest.py:354 `codes[1:] == codes[:-1]` -> `codes[1:] == codes[:1]` survived: steps were
    then counted as within a series only in the alphabetically first one, so a gap in any
    other series passed the check of series merged with stored history (repository.py:479)
    and was stored unrefused, never reaching the text check that names it. Two weekly
    series, "a" whole and "b" missing 2025-01-20: not evidently valid (None)."""
    weeks = pd.date_range("2025-01-06", periods=4, freq="W-MON")
    rows = [("a", d) for d in weeks] + [("b", d) for d in weeks if d != weeks[2]]
    frame = pd.DataFrame({"unique_id": [r[0] for r in rows], "ds": [r[1] for r in rows], "y": 1.0})
    assert frequencies_if_valid(frame) is None
    whole = pd.DataFrame({"unique_id": ["a"] * 4 + ["b"] * 4, "ds": list(weeks) * 2, "y": 1.0})
    assert frequencies_if_valid(whole) == {"a": "W-MON", "b": "W-MON"}


def test_a_whole_monthly_series_across_a_new_year_is_accepted() -> None:
    """ingest.py:1754 `* 12` -> `* 13` survived the fast ingest tests: the months a series
    spans were overcounted across each new year, so every complete monthly series crossing
    a year end was taken for gappy and refused as "0 missing months" (unless --fill-gaps).
    14 months, 2024-06 to 2025-07, none missing: accepted whole."""
    months = pd.date_range("2024-06-01", periods=14, freq="MS")
    text = "unique_id,ds,y\n" + "".join(f"a,{d:%Y-%m},{100 + i}\n" for i, d in enumerate(months))
    frame = read_observations_csv(text, "t.csv")
    assert frame["ds"].tolist() == list(months)
