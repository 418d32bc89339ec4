"""A team or area total of the synthetic demo's district series is labelled `synthetic demo`
in GET /v1/series, as its districts are, so a dashboard or a Power BI pull never reads the sum
of invented figures as a council's own; a total with any district of the council's own is not.

Over a real HTTP server on a small SQLite database, totals stored as the pipeline stores them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest

from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated, serve_with_key
from tests.api.test_series_totals import DISTRICTS, HISTORY, TOTALS, _forecast

SYNTHETIC = repository.SYNTHETIC_DEMO_SOURCE


def _served(tmp_path: Path, sources: dict[str, str]) -> Iterator[httpx.Client]:
    settings = keyed_settings(tmp_path, "labels.db")
    engine, factory = migrated(settings)
    with transaction(factory) as session:
        for uid, source in sources.items():
            history = pd.DataFrame({"unique_id": uid, "ds": HISTORY, "y": 5.0})
            repository.store_observations(session, history, source, f"hash-{uid}")
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, _forecast(DISTRICTS, "ses"), pd.DataFrame())
        repository.store_forecasts(session, run.id, _forecast(TOTALS, "bottom_up"), pd.DataFrame())
        run.status = "succeeded"
        secret = api_keys.create_key(session, "labels-viewer", Role.VIEWER).secret
    yield from serve_with_key(settings, secret)
    engine.dispose()


@pytest.fixture
def all_synthetic(tmp_path: Path) -> Iterator[httpx.Client]:
    yield from _served(tmp_path, dict.fromkeys(DISTRICTS, SYNTHETIC))


@pytest.fixture
def one_own(tmp_path: Path) -> Iterator[httpx.Client]:
    yield from _served(tmp_path, {DISTRICTS[0]: SYNTHETIC, DISTRICTS[1]: "POST /v1/observations"})


def test_totals_of_synthetic_districts_are_labelled_synthetic(all_synthetic: httpx.Client) -> None:
    listed = {s["id"]: s["source"] for s in all_synthetic.get("/v1/series").json()}
    assert listed == dict.fromkeys(DISTRICTS + TOTALS, SYNTHETIC)
    for uid in TOTALS:  # one series, as listed; and under a prefix leaving the districts out
        assert all_synthetic.get(f"/v1/series/{uid}").json()["source"] == SYNTHETIC
    team = all_synthetic.get("/v1/series", params={"prefix": "referrals_team/"}).json()
    assert [s["source"] for s in team] == [SYNTHETIC, SYNTHETIC]


def test_a_total_with_a_district_of_the_councils_own_is_not(one_own: httpx.Client) -> None:
    listed = {s["id"]: s["source"] for s in one_own.get("/v1/series").json()}
    assert listed == {
        DISTRICTS[0]: SYNTHETIC,
        DISTRICTS[1]: "POST /v1/observations",
        **dict.fromkeys(TOTALS, None),
    }
    assert one_own.get(f"/v1/series/{TOTALS[1]}").json()["source"] is None
