"""A period that begins today has started: its (partial) count is accepted and stored, with a
warning, where a period that begins tomorrow is refused."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pytest

from homeward import ingest, repository
from homeward.cli import main
from homeward.storage import make_engine, session_factory

TODAY = datetime(2026, 11, 16, 9, 30, tzinfo=UTC)  # a Monday: this week began today


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ingest, "utcnow", lambda: TODAY)


def test_an_upload_including_the_week_that_began_today_is_stored(
    db_env: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "rugby.csv"
    path.write_text(
        "unique_id,ds,y\nreferrals/ot/rugby,2026-11-09,12\nreferrals/ot/rugby,2026-11-16,3\n"
    )
    assert main(["import", str(path)]) == 0
    assert "1 series' newest period has not ended yet (today is 2026-11-16)" in caplog.text
    engine = make_engine(db_env)
    try:
        with session_factory(engine)() as session:
            stored = repository.load_observations(session)
    finally:
        engine.dispose()
    assert len(stored) == 2
    assert list(pd.to_datetime(stored["ds"])) == [
        pd.Timestamp("2026-11-09"),
        pd.Timestamp("2026-11-16"),
    ]


def test_a_week_beginning_tomorrow_is_refused() -> None:
    text = "unique_id,ds,y\nreferrals/ot/rugby,2026-11-09,12\nreferrals/ot/rugby,2026-11-17,3\n"
    with pytest.raises(ingest.ValidationFailed, match="after today"):
        ingest.read_observations_csv(text, "t.csv")
