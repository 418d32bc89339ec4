"""GET /v1/series lists forecast-only totals beside observed series, marked `kind: total`.

Over a real HTTP server on a small SQLite database holding two districts' history, two runs'
district forecasts, and team and area totals stored the way the pipeline stores them (model
'bottom_up', no backtest metrics, no observations). API keys required; a viewer key.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated, serve_with_key

DISTRICTS = ["referrals/ot/rugby", "referrals/ot/warwick"]
TOTALS = ["referrals_area/ot", "referrals_team/ot/north", "referrals_team/ot/south"]
HISTORY = pd.date_range("2025-01-06", periods=10, freq="W-MON")
FUTURE = pd.date_range(HISTORY[-1] + pd.Timedelta(weeks=1), periods=4, freq="W-MON")


def _forecast(ids: list[str], model: str) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {"unique_id": uid, "ds": ds, "model": model, "mean": 10.0}
            | {"lo-80": 8.0, "hi-80": 12.0, "lo-95": 6.0, "hi-95": 14.0}
            for uid in ids
            for ds in FUTURE
        ]
    )


def _store(factory: sessionmaker[Session]) -> None:
    """Two districts' history; two runs, each storing district forecasts then the totals."""
    history = pd.DataFrame(
        [{"unique_id": uid, "ds": ds, "y": 5.0} for uid in DISTRICTS for ds in HISTORY]
    )
    metrics = pd.DataFrame(
        [{"unique_id": uid, "model": "ses", "chosen": True, "mase": 0.9} for uid in DISTRICTS]
    )
    with transaction(factory) as session:
        repository.store_observations(session, history, "test", "hash")
        for _ in range(2):
            run = repository.start_run(session, "pipeline", "test", "test")
            repository.store_forecasts(session, run.id, _forecast(DISTRICTS, "ses"), metrics)
            totals = _forecast(TOTALS, "bottom_up")
            repository.store_forecasts(session, run.id, totals, pd.DataFrame())
            run.status = "succeeded"  # a running run's forecasts are not served yet


@pytest.fixture(scope="module")
def viewer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    tmp = tmp_path_factory.mktemp("totals")
    settings = keyed_settings(tmp, "totals.db")
    engine, factory = migrated(settings)
    _store(factory)
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "totals-viewer", Role.VIEWER).secret
    yield from serve_with_key(settings, secret)
    engine.dispose()


def test_series_lists_totals_once_each_marked_total_with_no_extent(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/series")
    assert response.status_code == 200, response.text
    listed = response.json()
    assert [s["id"] for s in listed] == DISTRICTS + TOTALS  # by id, each once over two runs
    observed = {
        "kind": "observed",
        "freq": "W-MON",
        "first_ds": "2025-01-06",
        "last_ds": "2025-03-10",
        "n_obs": 10,
        "source": "test",
        "forecast_run_id": 2,  # the newer of the two runs
        "members": None,
    }
    total = {
        "kind": "total",
        "freq": "W-MON",
        "first_ds": None,
        "last_ds": None,
        "n_obs": 0,
        "source": None,
        "forecast_run_id": 2,
        "members": None,  # the runs stored here recorded no totals (as runs before 0016)
    }
    assert listed == [{"id": uid} | observed for uid in DISTRICTS] + [
        {"id": uid} | total for uid in TOTALS
    ]


@pytest.mark.parametrize(
    ("params", "ids"),
    [
        ({"kind": "observed"}, DISTRICTS),
        ({"kind": "total"}, TOTALS),
        ({"prefix": "referrals_team/"}, TOTALS[1:]),
        ({"prefix": "referrals/", "kind": "total"}, []),
        ({"prefix": "referrals_area/", "kind": "total"}, TOTALS[:1]),
    ],
)
def test_series_filters_by_kind_and_prefix(
    viewer: httpx.Client, params: dict[str, str], ids: list[str]
) -> None:
    response = viewer.get("/v1/series", params=params)
    assert response.status_code == 200, response.text
    assert [s["id"] for s in response.json()] == ids


def test_an_unknown_kind_is_422_naming_the_kinds(viewer: httpx.Client) -> None:
    response = viewer.get("/v1/series", params={"kind": "district"})
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "observed" in response.text and "total" in response.text


def test_a_listed_total_has_a_forecast_without_backtest_and_no_history(
    viewer: httpx.Client,
) -> None:
    [area] = viewer.get("/v1/series", params={"kind": "total", "prefix": "referrals_area/"}).json()
    forecast = viewer.get(f"/v1/forecasts/{area['id']}").json()
    assert forecast["model"] == "bottom_up" and forecast["backtest"] == []
    assert len(forecast["points"]) == len(FUTURE)
    assert viewer.get(f"/v1/observations/{area['id']}").status_code == 404


def test_openapi_describes_the_kind_marker_and_null_extent(viewer: httpx.Client) -> None:
    spec = viewer.get("/openapi.json").json()
    schema = spec["components"]["schemas"]["SeriesPublic"]
    assert {"id", "kind", "freq", "first_ds", "last_ds", "n_obs"} <= set(schema["required"])
    assert schema["properties"]["kind"]["enum"] == ["observed", "total"]
    assert {"type": "null"} in schema["properties"]["first_ds"]["anyOf"]
    params = {p["name"] for p in spec["paths"]["/v1/series"]["get"]["parameters"]}
    assert params == {"prefix", "kind", "limit", "offset"}
    headers = spec["paths"]["/v1/series"]["get"]["responses"]["200"]["headers"]
    assert "X-Total-Count" in headers


def test_series_pages_in_id_order_with_the_total_matching_the_filters(
    viewer: httpx.Client,
) -> None:
    everything = DISTRICTS + TOTALS
    whole = viewer.get("/v1/series")
    assert whole.headers["X-Total-Count"] == str(len(everything))
    pages = [viewer.get("/v1/series", params={"limit": 2, "offset": o}) for o in (0, 2, 4, 6)]
    assert [[s["id"] for s in p.json()] for p in pages] == [
        everything[0:2],
        everything[2:4],
        everything[4:],
        [],
    ]
    assert {p.headers["X-Total-Count"] for p in pages} == {str(len(everything))}
    # the next page's link while there is one, not on the last (RFC 8288)
    assert [p.headers.get("Link") for p in pages] == [
        f'</v1/series?limit=2&offset={o}>; rel="next"' if o < len(everything) else None
        for o in (2, 4, 6, 8)
    ]
    totals = viewer.get("/v1/series", params={"kind": "total", "limit": 1})
    assert [s["id"] for s in totals.json()] == TOTALS[:1]
    assert totals.headers["X-Total-Count"] == str(len(TOTALS))


@pytest.mark.parametrize("params", [{"limit": 0}, {"limit": 10_001}, {"offset": -1}])
def test_a_page_out_of_bounds_is_422_naming_the_parameter(
    viewer: httpx.Client, params: dict[str, int]
) -> None:
    response = viewer.get("/v1/series", params=params)
    assert response.status_code == 422, response.text
    assert next(iter(params)) in response.text
