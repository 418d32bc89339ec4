"""GET /v1/observations.csv: every series' history in one file, in the long format an import
reads (`unique_id, ds, y`), so "forecast against what happened" is two requests, not one per
series, and the file imports back as it came out. Over a real HTTP server."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import repository
from homeward.cli import main
from homeward.settings import get_settings
from homeward.storage import make_engine, session_factory
from tests.api.conftest import DemoDatabase
from tests.conftest import LiveServer


def _stored(factory: sessionmaker[Session], prefix: str) -> pd.DataFrame:
    with factory() as session:
        return repository.load_observations(session, prefix=prefix)


def test_every_series_history_under_a_prefix_in_the_import_format(
    viewer: httpx.Client, demo_db: DemoDatabase
) -> None:
    answer = viewer.get("/v1/observations.csv", params={"prefix": "referrals/ot/"})
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="homeward-observations.csv"'
    )
    assert answer.text.splitlines()[0] == "unique_id,ds,y"
    frame = pd.read_csv(io.StringIO(answer.text), parse_dates=["ds"])
    stored = _stored(demo_db.factory, "referrals/ot/")
    assert frame["unique_id"].nunique() > 1
    assert frame["unique_id"].str.startswith("referrals/ot/").all()
    by_series_then_date = frame.sort_values(["unique_id", "ds"], ignore_index=True)
    pd.testing.assert_frame_equal(frame, by_series_then_date)
    pd.testing.assert_frame_equal(frame, stored, check_dtype=False)
    # one series' rows are what GET /v1/observations/{series_id} serves, with its id on each
    one = viewer.get("/v1/observations/referrals/ot/rugby").json()
    rugby = frame[frame["unique_id"] == "referrals/ot/rugby"]
    assert [r["y"] for r in one] == rugby["y"].tolist()
    assert [r["ds"][:10] for r in one] == rugby["ds"].dt.strftime("%Y-%m-%d").tolist()


def test_the_whole_history_imports_back_unchanged(
    viewer: httpx.Client,
    demo_db: DemoDatabase,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The file, saved as it is, is a `homeward import` into an empty database that then
    holds the same history; sent back to the API it changes no stored value."""
    answer = viewer.get("/v1/observations.csv")
    assert answer.status_code == 200, answer.text
    saved = tmp_path / "history.csv"
    saved.write_bytes(answer.content)
    url = f"sqlite:///{tmp_path / 'copy.db'}"
    monkeypatch.setenv("DATABASE_URL", url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        assert main(["import", str(saved)]) == 0
    finally:
        get_settings.cache_clear()
    engine = make_engine(url)
    try:
        copied = _stored(session_factory(engine), "")
    finally:
        engine.dispose()
    pd.testing.assert_frame_equal(copied, _stored(demo_db.factory, ""))


def test_sent_back_it_revises_nothing(admin: httpx.Client) -> None:
    csv = admin.get("/v1/observations.csv", params={"prefix": "referrals/hao/"})
    assert csv.status_code == 200, csv.text
    sent = admin.post("/v1/observations", content=csv.content, headers={"content-type": "text/csv"})
    assert sent.status_code in (200, 201), sent.text
    assert sent.json()["revised"] == 0
    assert sent.json()["rows"] == len(csv.text.splitlines()) - 1


def test_a_prefix_of_no_stored_series_is_a_404_and_a_bad_one_a_422(viewer: httpx.Client) -> None:
    missing = viewer.get("/v1/observations.csv", params={"prefix": "referrals/nowhere/"})
    assert missing.status_code == 404
    assert "no stored series whose id starts with 'referrals/nowhere/'" in missing.json()["detail"]
    # a team's or area's total has a forecast but no history of its own: said so, as GET
    # /v1/series lists them (it was "no stored series" of ids the client had just listed)
    for prefix in ("referrals_area/", "referrals_team/"):
        listed = viewer.get("/v1/series", params={"prefix": prefix}).json()
        assert listed and {s["kind"] for s in listed} == {"total"}
        total = viewer.get("/v1/observations.csv", params={"prefix": prefix})
        assert total.status_code == 404
        detail = total.json()["detail"]
        assert detail.startswith(
            f"no stored series whose id starts with {prefix!r}: the {len(listed)} series under "
            f"it that GET /v1/series lists (e.g. {listed[0]['id']!r}) are team or area totals"
        )
        assert "forecast only, with no history of their own" in detail
        assert f"GET /v1/forecasts.csv?prefix={prefix}" in detail
    refused = viewer.get("/v1/observations.csv", params={"prefix": "Referrals/"})
    assert refused.status_code == 422
    assert refused.json()["problems"][0]["location"] == "query/prefix"


def test_observations_without_a_series_id_say_where_every_series_is(
    viewer: httpx.Client,
) -> None:
    answer = viewer.get("/v1/observations/")
    assert answer.status_code == 404
    assert "GET /v1/observations.csv every series' at once" in answer.json()["detail"]


def test_the_documented_example_has_the_files_columns(
    viewer: httpx.Client, demo_server: LiveServer
) -> None:
    document = httpx.get(demo_server.url + "/openapi.json").json()
    operation = document["paths"]["/v1/observations.csv"]["get"]
    assert operation["operationId"] == "get_observations_csv"
    example = operation["responses"]["200"]["content"]["text/csv"]["example"]
    served = viewer.get("/v1/observations.csv", params={"prefix": "referrals/ot/rugby"})
    assert example.splitlines()[0] == served.text.splitlines()[0]
    assert {"404", "422"} <= set(operation["responses"])
