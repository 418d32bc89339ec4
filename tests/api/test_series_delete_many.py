"""DELETE /v1/series?prefix=: a council that moved to its own data drops the synthetic demo's
series (or a batch uploaded by mistake) in one request, all or none, rather than one
DELETE /v1/series/{id} per series. Over a real HTTP server on a fresh SQLite database.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from homeward import demo_config, repository
from homeward.ingest import observations_hash
from homeward.storage import transaction
from tests.api.conftest import ConfigService, serve_config

WEEKS = pd.to_datetime(["2025-01-06", "2025-01-13", "2025-01-20"])
DEMO = ["referrals/ot/rugby", "referrals/ot/warwick", "winter/emergency_admissions/warwickshire"]
OWN = ["referrals/ot/coventry", "referrals/ot/coventry-typo"]  # the second is planned by none


def _own_config() -> dict[str, Any]:
    """The demo's config with its districts renamed: it plans `referrals/<s>/coventry`..."""
    body = demo_config.demo_planning_config(horizon_periods=4)
    districts = [{**d, "id": f"{d['id']}-own"} for d in body["districts"]]
    districts[0]["id"] = "coventry"
    return {**body, "name": "coventry", "districts": districts, "winter": None}


def _store(service: ConfigService, ids: list[str], source: str) -> None:
    frame = pd.concat(
        [pd.DataFrame({"unique_id": uid, "ds": WEEKS, "y": 3.0}) for uid in ids],
        ignore_index=True,
    )
    with transaction(service.factory) as session:
        repository.store_observations(session, frame, source, observations_hash(frame))


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ConfigService]:
    """The demo's series (as `homeward demo` stores them) beside a council's own, whose
    config is active."""
    for served in serve_config(f"sqlite:///{tmp_path / 'many.db'}", tmp_path, _own_config()):
        _store(served, DEMO, repository.SYNTHETIC_DEMO_SOURCE)
        _store(served, OWN, "coventry.csv")
        yield served


def _listed(service: ConfigService) -> list[str]:
    return [s["id"] for s in service.client.get("/v1/series").json()]


def test_the_synthetic_demos_series_are_deleted_in_one_request(service: ConfigService) -> None:
    deleted = service.client.delete("/v1/series", params={"synthetic": "true"})
    assert deleted.status_code == 200, deleted.text
    body = deleted.json()
    assert [s["series_id"] for s in body["series"]] == sorted(DEMO)
    assert (body["prefix"], body["synthetic"]) == (None, True)
    assert (body["series_deleted"], body["observations_deleted"]) == (3, 3 * len(WEEKS))
    assert _listed(service) == OWN
    again = service.client.delete("/v1/series", params={"synthetic": "true"})
    assert again.status_code == 404, again.text


def test_a_prefix_deletes_every_series_under_it_and_only_those(service: ConfigService) -> None:
    deleted = service.client.delete("/v1/series", params={"prefix": "referrals/ot/coventry-"})
    assert deleted.status_code == 200, deleted.text
    assert [s["series_id"] for s in deleted.json()["series"]] == ["referrals/ot/coventry-typo"]
    assert _listed(service) == sorted([*DEMO, "referrals/ot/coventry"])
    demo = service.client.delete("/v1/series", params={"prefix": "referrals/", "synthetic": "true"})
    assert [s["series_id"] for s in demo.json()["series"]] == DEMO[:2]
    assert _listed(service) == ["referrals/ot/coventry", DEMO[2]]


def test_a_prefix_holding_a_planned_series_deletes_nothing(service: ConfigService) -> None:
    """All or none: the demo's series under the same prefix stay too."""
    refused = service.client.delete("/v1/series", params={"prefix": "referrals/ot/"})
    assert refused.status_code == 409, refused.text
    assert refused.json()["code"] == "series_in_use"
    detail = refused.json()["detail"]
    assert "found 1 the active config 'coventry' plans from: referrals/ot/coventry" in detail
    assert detail.endswith("nothing was deleted")
    assert _listed(service) == sorted(DEMO + OWN)


def test_a_prefix_of_no_stored_series_is_404(service: ConfigService) -> None:
    response = service.client.delete("/v1/series", params={"prefix": "referrals/dom"})
    assert response.status_code == 404, response.text
    assert "no stored series under 'referrals/dom' to delete" in response.json()["detail"]


@pytest.mark.parametrize(
    ("params", "found"), [({}, "none"), ({"prefix": ""}, "an empty prefix")], ids=str
)
def test_no_prefix_is_refused_rather_than_deleting_every_series(
    service: ConfigService, params: dict[str, str], found: str
) -> None:
    response = service.client.delete("/v1/series", params=params)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "query/prefix" and problem["found"] == found
    assert problem["expected"].startswith("a prefix of the ids of the series to delete")
    assert "synthetic=true" in problem["expected"]
    assert len(_listed(service)) == len(DEMO + OWN)


def test_no_delete_while_the_active_config_cannot_be_read(service: ConfigService) -> None:
    """An active config that no longer validated read as none, and the delete took the series
    it plans from (referrals/ot/coventry)."""
    unreadable = {**_own_config(), "name": "broken", "horizon_periods": 0}
    with transaction(service.factory) as session:
        repository.save_config(session, unreadable, "broken-hash")
    for path, params in [
        ("/v1/series", {"prefix": "referrals/ot/"}),
        ("/v1/series/referrals/ot/coventry", {}),
    ]:
        refused = service.client.delete(path, params=params)
        assert refused.status_code == 409, refused.text
        assert refused.json()["code"] == "config_unreadable"
        detail = refused.json()["detail"]
        assert "expected an active config that can be read" in detail
        assert "horizon_periods: Input should be greater than or equal to 1, found 0" in detail
    assert _listed(service) == sorted([*DEMO, *OWN])


KEPT_TOTALS = ["referrals_area/ot", "referrals_team/ot/north"]  # coventry's, under its config
DEMO_TOTALS = ["referrals_area/hao", "referrals_team/hao/north", "referrals_team/ot/south"]


def _store_totals(service: ConfigService) -> None:
    """Forecasts of team and area totals, as a run of the demo stored them: no history."""
    frame = pd.concat(
        pd.DataFrame({"unique_id": uid, "ds": WEEKS, "model": "flat", "mean": 5.0})
        for uid in KEPT_TOTALS + DEMO_TOTALS
    )
    for column in ("lo-80", "hi-80", "lo-95", "hi-95"):
        frame[column] = 5.0
    with transaction(service.factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        repository.store_forecasts(session, run.id, frame, pd.DataFrame())
        run.status = "succeeded"


def test_synthetic_takes_the_totals_left_with_no_stored_district(service: ConfigService) -> None:
    """The demo's team and area totals stayed listed, and in /v1/forecasts.csv, for good."""
    _store_totals(service)
    deleted = service.client.delete("/v1/series", params={"synthetic": "true"})
    assert deleted.status_code == 200, deleted.text
    assert [s["series_id"] for s in deleted.json()["series"]] == sorted(DEMO + DEMO_TOTALS)
    assert _listed(service) == sorted(OWN + KEPT_TOTALS)  # coventry's team and area remain


def test_forecast_only_totals_are_deleted_by_prefix_and_by_id(service: ConfigService) -> None:
    """Both answered 404 'GET /v1/series lists the series', which listed them."""
    _store_totals(service)
    teams = service.client.delete("/v1/series", params={"prefix": "referrals_team/"})
    assert teams.status_code == 200, teams.text
    assert [s["series_id"] for s in teams.json()["series"]] == [
        "referrals_team/hao/north",
        "referrals_team/ot/north",
        "referrals_team/ot/south",
    ]
    one = service.client.delete("/v1/series/referrals_area/ot")
    assert one.status_code == 200, one.text
    assert one.json() == {
        "series_id": "referrals_area/ot",
        "observations_deleted": 0,
        "forecast_rows_deleted": len(WEEKS),
        "dependent_totals": [],  # these runs recorded no members
    }
    assert _listed(service) == sorted([*DEMO, *OWN, "referrals_area/hao"])
    assert service.client.delete("/v1/series/referrals_area/ot").status_code == 404


def test_synthetic_under_a_prefix_of_none_says_no_synthetic_series(
    service: ConfigService,
) -> None:
    response = service.client.delete(
        "/v1/series", params={"prefix": "referrals/ot/coventry", "synthetic": "true"}
    )
    assert response.status_code == 404, response.text
    assert response.json()["detail"].startswith(
        "no synthetic demo series under 'referrals/ot/coventry' to delete"
    )
