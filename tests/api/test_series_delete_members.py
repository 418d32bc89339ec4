"""Deleting a series deletes the totals that list it as a member with it, and says so: a
dashboard charts a total by adding up its `members`' histories, and DELETE
/v1/series?prefix=referrals_team/ left `referrals_area/ot` listing two team totals that were
gone (404) until the next run. Over a real HTTP server on a fresh SQLite database, the totals'
members recorded as a pipeline run records them (`RunRow.totals`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import repository
from homeward.storage import transaction
from models import RunRow
from tests.api.conftest import ConfigService, serve_config
from tests.api.test_series_delete_many import DEMO, OWN, WEEKS, _own_config, _store

# each total with the series its forecast summed: ot's under a run of the demo's config,
# hao's (kept by every delete here) and one whose run recorded no members
MEMBERS = {
    "referrals_team/ot/north": ["referrals/ot/rugby"],
    "referrals_team/ot/south": ["referrals/ot/warwick"],
    "referrals_area/ot": ["referrals_team/ot/north", "referrals_team/ot/south"],
    "referrals_team/hao/north": ["referrals/ot/coventry"],
    "referrals_area/hao": ["referrals_team/hao/north"],
}
UNRECORDED = "referrals_area/dom"


def _store_totals(factory: sessionmaker[Session]) -> None:
    frame = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": WEEKS, "model": "bottom_up", "mean": 5.0})
        for uid in [*MEMBERS, UNRECORDED]
    )
    for column in ("lo-80", "hi-80", "lo-95", "hi-95"):
        frame[column] = 5.0
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, frame, pd.DataFrame())
        run.status = "succeeded"
        session.get_one(RunRow, run.id).totals = MEMBERS


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ConfigService]:
    """Coventry's config active; the demo's districts (which it does not plan) and coventry's
    stored, with team and area totals of both."""
    for served in serve_config(f"sqlite:///{tmp_path / 'members.db'}", tmp_path, _own_config()):
        _store(served, DEMO, repository.SYNTHETIC_DEMO_SOURCE)
        _store(served, OWN, "coventry.csv")
        _store_totals(served.factory)
        yield served


def _listed(client: httpx.Client) -> list[str]:
    return [s["id"] for s in client.get("/v1/series").json()]


def _members_all_found(client: httpx.Client) -> None:
    """Every member a listed total names is a series GET /v1/series/{id} finds."""
    for total in client.get("/v1/series", params={"kind": "total"}).json():
        for member in total["members"] or []:
            found = client.get(f"/v1/series/{member}")
            assert found.status_code == 200, (total["id"], member, found.text)


def test_a_prefix_of_team_totals_takes_the_area_total_listing_them(
    service: ConfigService,
) -> None:
    deleted = service.client.delete("/v1/series", params={"prefix": "referrals_team/ot/"})
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert [s["series_id"] for s in body["series"]] == [
        "referrals_area/ot",
        "referrals_team/ot/north",
        "referrals_team/ot/south",
    ]
    assert body["series_deleted"] == 3
    assert body["forecast_rows_deleted"] == 3 * len(WEEKS)
    assert body["dependent_totals"] == ["referrals_area/ot"]
    assert service.client.get("/v1/series/referrals_area/ot").status_code == 404
    assert _listed(service.client) == sorted(
        [*DEMO, *OWN, "referrals_area/hao", "referrals_team/hao/north", UNRECORDED]
    )
    _members_all_found(service.client)


def test_one_team_total_takes_the_area_total_and_leaves_its_sibling(
    service: ConfigService,
) -> None:
    deleted = service.client.delete("/v1/series/referrals_team/ot/north")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "series_id": "referrals_team/ot/north",
        "observations_deleted": 0,
        "forecast_rows_deleted": len(WEEKS),
        "dependent_totals": ["referrals_area/ot"],
    }
    listed = _listed(service.client)
    assert "referrals_area/ot" not in listed and "referrals_team/ot/south" in listed
    _members_all_found(service.client)


def test_a_district_takes_its_team_and_through_it_the_area_total(
    service: ConfigService,
) -> None:
    """referrals/ot/rugby, which coventry's config does not plan, was summed by the last run
    of the demo's: its team total and the area total of that team go with it."""
    deleted = service.client.delete("/v1/series/referrals/ot/rugby")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["observations_deleted"] == len(WEEKS)
    assert deleted.json()["dependent_totals"] == ["referrals_area/ot", "referrals_team/ot/north"]
    assert _listed(service.client) == sorted(
        [
            *(s for s in DEMO if s != "referrals/ot/rugby"),
            *OWN,
            "referrals_area/hao",
            "referrals_team/hao/north",
            "referrals_team/ot/south",
            UNRECORDED,
        ]
    )
    _members_all_found(service.client)
    entries = service.client.get("/v1/audit", params={"action": "delete_series"}).json()
    assert entries[0]["detail"]["dependent_totals"] == deleted.json()["dependent_totals"]
    assert [s["series_id"] for s in entries[0]["detail"]["series"]] == [
        "referrals/ot/rugby",
        "referrals_area/ot",
        "referrals_team/ot/north",
    ]


def test_a_delete_no_total_lists_takes_no_total(service: ConfigService) -> None:
    deleted = service.client.delete("/v1/series", params={"prefix": "referrals/ot/coventry-"})
    assert deleted.status_code == 200, deleted.text
    assert deleted.json()["dependent_totals"] == []
    assert [s["series_id"] for s in deleted.json()["series"]] == ["referrals/ot/coventry-typo"]
    one = service.client.delete(f"/v1/series/{UNRECORDED}")
    assert one.json()["dependent_totals"] == []
    assert len(_listed(service.client)) == len(DEMO + OWN) + len(MEMBERS) - 1


def test_openapi_says_what_dependent_totals_are(service: ConfigService) -> None:
    schemas = service.client.get("/openapi.json").json()["components"]["schemas"]
    for name in ("SeriesOneDeletedPublic", "SeriesManyDeletedPublic"):
        field = schemas[name]["properties"]["dependent_totals"]
        assert "members" in field["description"], name
        assert "dependent_totals" in schemas[name]["required"], name
