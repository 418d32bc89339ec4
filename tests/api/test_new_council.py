"""The API as a new council first meets it: a config stored, no forecasts yet, history arriving.

Over a real HTTP server on a fresh SQLite database (no pipeline run), API keys required.
"""

from __future__ import annotations

import http.client
import json
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from api.routes import observations
from homeward import api_keys, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import transaction
from models import ImportRow, RunRow
from tests.api.conftest import HORIZON_WEEKS, keyed_settings, migrated, serve_with_key

PROBLEM_JSON = "application/problem+json"


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    tmp = tmp_path_factory.mktemp("new-council")
    return keyed_settings(tmp, "new.db", forecast_horizon_weeks=HORIZON_WEEKS)


@pytest.fixture(scope="module")
def factory(settings: Settings) -> Iterator[sessionmaker[Session]]:
    """The fresh database, migrated, holding the demo config and nothing else."""
    engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
    yield factory
    engine.dispose()


@pytest.fixture(scope="module")
def admin(settings: Settings, factory: sessionmaker[Session]) -> Iterator[httpx.Client]:
    """A client holding an admin key (it may plan and upload) on a server over the database."""
    with transaction(factory) as session:
        secret = api_keys.create_key(session, "new-council-admin", Role.ADMIN).secret
    yield from serve_with_key(settings, secret)


def _run_ids(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(RunRow.id)))


def test_a_plan_before_any_forecast_is_409_at_once_or_as_a_job(
    admin: httpx.Client, factory: sessionmaker[Session]
) -> None:
    at_once = admin.post("/v1/plans", json={})
    assert at_once.status_code == 409, at_once.text
    assert at_once.headers["content-type"].startswith(PROBLEM_JSON)
    assert "no referral forecasts" in at_once.json()["detail"]
    as_job = admin.post("/v1/plans", json={}, headers={"Prefer": "respond-async"})
    assert as_job.status_code == 409, as_job.text
    assert as_job.headers["content-type"].startswith(PROBLEM_JSON)
    assert "location" not in as_job.headers
    assert as_job.json() == at_once.json()
    assert _run_ids(factory) == []  # nothing queued, no run recorded


def test_an_unknown_path_is_titled_as_homewards_own_404(admin: httpx.Client) -> None:
    ours = admin.get("/v1/plans/latest")  # no plan yet: Homeward's own 404
    unknown = admin.get("/v1/no-such-thing")
    assert ours.status_code == unknown.status_code == 404
    assert unknown.headers["content-type"].startswith(PROBLEM_JSON)
    assert unknown.json()["title"] == ours.json()["title"] == "Not found"
    assert "/v1/no-such-thing" in unknown.json()["detail"]


def test_a_wrong_method_is_405_titled_alike_and_says_what_is_allowed(
    admin: httpx.Client,
) -> None:
    response = admin.delete("/v1/plans/latest")
    assert response.status_code == 405
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    assert response.headers["allow"] == "GET, HEAD"
    body = response.json()
    assert body["title"] == "Method not allowed" and body["status"] == 405
    assert "DELETE" in body["detail"] and "GET" in body["detail"]


def _upload(client: httpx.Client, body: bytes, content_type: str) -> httpx.Response:
    return client.post("/v1/observations", content=body, headers={"content-type": content_type})


def _stored(client: httpx.Client, series_id: str) -> list[float]:
    response = client.get(f"/v1/observations/{series_id}")
    return [] if response.status_code == 404 else [p["y"] for p in response.json()]


@pytest.mark.parametrize(
    ("charset", "district"),
    [("latin-1", "a"), ("ISO-8859-1", "b"), ("windows-1252", "c"), ('"cp1252"', "d")],
)
def test_an_excel_csv_is_read_in_the_charset_it_declares(
    admin: httpx.Client, charset: str, district: str
) -> None:
    # Figures pasted from a web page keep a no-break space (0xa0 in both charsets, not UTF-8).
    series_id = f"referrals/ot/pasted-{district}"
    text = f"unique_id,ds,y\n{series_id},2025-01-06,31\u00a0\n{series_id},2025-01-13,4\n"
    response = _upload(admin, text.encode("cp1252"), f"text/csv; charset={charset}")
    assert response.status_code == 201, response.text
    assert _stored(admin, series_id) == [31.0, 4.0]


def test_a_csv_file_typed_as_excel_by_a_windows_browser_is_read_as_csv(
    admin: httpx.Client,
) -> None:
    series_id = "referrals/ot/from-windows"
    text = f"unique_id,ds,y\r\n{series_id},2025-01-06,7\r\n{series_id},2025-01-13,8\r\n"
    response = _upload(
        admin, text.encode("cp1252"), "application/vnd.ms-excel; charset=windows-1252"
    )
    assert response.status_code == 201, response.text
    assert _stored(admin, series_id) == [7.0, 8.0]
    refused = _upload(admin, text.encode(), "application/vnd.openxmlformats-officedocument")
    assert refused.status_code == 422 and "Content-Type" in refused.text
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    [problem] = _upload(admin, b"PK\x03\x04...", xlsx).json()["problems"]
    assert problem["expected"].startswith("text/csv: save the workbook as CSV")
    assert problem["found"] == f"a spreadsheet workbook ({xlsx!r})"


def test_a_cell_in_a_declared_latin1_file_is_quoted_as_written(admin: httpx.Client) -> None:
    text = "unique_id,ds,y\nreferrals/ot/bédworth,2025-01-06,3\n"
    response = _upload(admin, text.encode("latin-1"), "text/csv; charset=iso-8859-1")
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert (problem["row"], problem["column"]) == (2, "unique_id")
    assert "bédworth" in problem["found"]


def test_an_unsupported_charset_is_refused_naming_both_and_stores_nothing(
    admin: httpx.Client,
) -> None:
    series_id = "referrals/ot/klingon"
    text = f"unique_id,ds,y\n{series_id},2025-01-06,3\n"
    response = _upload(admin, text.encode(), "text/csv; charset=klingon")
    assert response.status_code == 422
    assert response.headers["content-type"].startswith(PROBLEM_JSON)
    [problem] = response.json()["problems"]
    assert problem["location"] == "header/Content-Type" and problem["found"] == "charset=klingon"
    assert "utf-8" in problem["expected"] and "windows-1252" in problem["expected"]
    assert _stored(admin, series_id) == []


def test_a_workbook_sent_as_windows_1252_csv_names_that_charset(admin: httpx.Client) -> None:
    response = _upload(admin, b"PK\x03\x04rest-of-an-xlsx", "text/csv; charset=Windows-1252")
    assert response.status_code == 422
    [problem] = response.json()["problems"]
    assert problem["expected"] == "a Windows-1252 CSV file" and "ZIP" in problem["found"]
    assert "UTF-8" not in response.json()["detail"]


def test_a_latin1_byte_in_a_utf8_upload_names_its_row_and_stores_nothing(
    admin: httpx.Client,
) -> None:
    good = b"unique_id,ds,y\nreferrals/ot/cafe,2025-01-06,3\n"
    body = good + "referrals/ot/café,2025-01-13,4\n".encode("latin-1")
    for content_type in ("text/csv", "text/csv; charset=utf-8"):
        response = _upload(admin, body, content_type)
        assert response.status_code == 422
        [problem] = response.json()["problems"]
        assert problem["row"] == 3 and "0xe9" in problem["found"] and "UTF-8" in problem["expected"]
    assert _stored(admin, "referrals/ot/cafe") == []


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    problem: dict[str, Any]


def _send_raw(client: httpx.Client, headers: dict[str, str], body: bytes) -> RawAnswer:
    """POST an upload's head and the start of its body over a bare socket, then read the answer.

    The body is never finished: a server that waited for the whole of it would time out here.
    """
    url = client.base_url
    head = [
        "POST /v1/observations HTTP/1.1",
        f"Host: {url.host}:{url.port}",
        f"Authorization: {client.headers['authorization']}",
        "Content-Type: text/csv",
        *(f"{name}: {value}" for name, value in headers.items()),
    ]
    with socket.create_connection((str(url.host), int(url.port or 80)), timeout=30) as sock:
        sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        response = http.client.HTTPResponse(sock)
        response.begin()
        answer = {name.lower(): value for name, value in response.getheaders()}
        assert answer["content-type"].startswith(PROBLEM_JSON)
        return RawAnswer(response.status, answer, json.loads(response.read()))


def test_an_upload_declaring_more_than_the_limit_is_413_before_its_body_is_read(
    admin: httpx.Client,
) -> None:
    declared = observations.MAX_UPLOAD_BYTES + 1
    response = _send_raw(admin, {"Content-Length": str(declared)}, b"unique_id,ds,y\n")
    assert response.status == 413 and response.headers["connection"] == "close"
    assert (response.problem["status"], response.problem["title"]) == (
        413,
        "Request entity too large",
    )
    [problem] = response.problem["problems"]  # located as a JSON route's body is
    assert problem == {
        "location": "body",
        "expected": f"at most {observations.MAX_UPLOAD_BYTES:,} bytes",
        "found": f"{declared:,} bytes",
    }


def test_a_chunked_upload_is_413_as_soon_as_it_passes_the_limit(
    admin: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(observations, "MAX_UPLOAD_BYTES", 1_000)
    chunk = b"unique_id,ds,y\n" + b"referrals/ot/rugby,2025-01-06,4\n" * 40  # 1,295 bytes
    response = _send_raw(
        admin, {"Transfer-Encoding": "chunked"}, f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    )
    assert response.status == 413
    [problem] = response.problem["problems"]
    assert (problem["location"], problem["expected"]) == ("body", "at most 1,000 bytes")
    assert problem["found"].startswith("more than 1,000 bytes")


def test_a_chunked_upload_within_the_limit_is_stored(admin: httpx.Client) -> None:
    series_id = "referrals/ot/chunked"
    parts = [
        b"unique_id,ds,y\n",
        f"{series_id},2025-01-06,3\n{series_id},".encode(),
        b"2025-01-13,4\n",
    ]
    response = admin.post(
        "/v1/observations", content=iter(parts), headers={"content-type": "text/csv"}
    )
    assert response.status_code == 201, response.text
    assert _stored(admin, series_id) == [3.0, 4.0]


def _import_ids(factory: sessionmaker[Session]) -> list[int]:
    with factory() as session:
        return list(session.scalars(select(ImportRow.id)))


def test_the_same_file_sent_again_returns_its_import_and_stores_nothing(
    admin: httpx.Client, factory: sessionmaker[Session]
) -> None:
    series_id = "referrals/ot/retried"
    text = f"unique_id,ds,y\n{series_id},2025-01-06,3\n{series_id},2025-01-13,4\n"
    first = _upload(admin, text.encode(), "text/csv")
    assert first.status_code == 201 and first.json()["duplicate_of"] is None
    imports = _import_ids(factory)
    again = _upload(admin, text.encode(), "text/csv")
    # The same figures as Excel on Windows saves them: Windows-1252 and CRLF line ends.
    resaved = _upload(
        admin, text.replace("\n", "\r\n").encode("cp1252"), "text/csv; charset=windows-1252"
    )
    for response in (again, resaved):
        assert response.status_code == 200, response.text
        assert response.json() == {**first.json(), "duplicate_of": first.json()["import_id"]}
    assert _import_ids(factory) == imports
    different = _upload(admin, text.replace(",4\n", ",5\n").encode(), "text/csv")
    assert different.status_code == 201 and different.json()["duplicate_of"] is None
    assert _import_ids(factory) == [*imports, different.json()["import_id"]]
    assert _stored(admin, series_id) == [3.0, 5.0]


def test_an_upload_the_active_config_will_not_plan_says_so_with_the_id_meant(
    admin: httpx.Client,
) -> None:
    """Series stored under ids no plan reads (a district misspelt, a service id the config
    does not have, service and district swapped) were a 201 with no warning, then forecast
    in every run and planned by none."""
    ids = (
        "referrals/ot/rugbby",
        "referrals/occupational-therapy/rugby",
        "referrals/rugby/ot",
        "referrals/hao/rugby",  # planned: not named
    )
    text = "unique_id,ds,y\n" + "".join(f"{i},2025-01-06,3\n{i},2025-01-13,4\n" for i in ids)
    response = _upload(admin, text.encode(), "text/csv")
    assert response.status_code == 201, response.text
    [warning] = [w for w in response.json()["warnings"] if "does not plan" in w]
    assert warning.startswith(
        "the active config 'warwickshire-demo (synthetic)' does not plan 3 of these referral "
        "series: referrals/occupational-therapy/rugby (service 'occupational-therapy', not the "
        "config's); referrals/ot/rugbby (district 'rugbby', not the config's; nearest "
        "'rugby'); referrals/rugby/ot (service and district swapped? referrals/ot/rugby)."
    )
    assert "referrals/hao/rugby" not in warning


def test_a_series_uploaded_by_mistake_can_be_deleted_whole(
    admin: httpx.Client, factory: sessionmaker[Session]
) -> None:
    """There was no way to remove one: it was forecast in every run and listed for good."""
    series_id = "referrals/ot/rugby-by-mistake"
    text = f"unique_id,ds,y\n{series_id},2025-01-06,3\n{series_id},2025-01-13,4\n"
    assert _upload(admin, text.encode(), "text/csv").status_code == 201
    with transaction(factory) as session:  # as a pipeline run would have forecast it
        run = repository.start_run(session, "pipeline", "test", "test")
        frame = pd.DataFrame(
            {"unique_id": series_id, "ds": pd.to_datetime(["2025-01-20"]), "model": "ses",
             "mean": 3.5, "lo-80": 3.0, "hi-80": 4.0, "lo-95": 2.5, "hi-95": 4.5}
        )  # fmt: skip
        repository.store_forecasts(session, run.id, frame, pd.DataFrame())
        run.status = "succeeded"
    assert admin.get(f"/v1/forecasts/{series_id}").status_code == 200
    deleted = admin.delete(f"/v1/series/{series_id}")
    assert deleted.status_code == 200, deleted.text
    assert deleted.json() == {
        "series_id": series_id,
        "observations_deleted": 2,
        "forecast_rows_deleted": 1,
        "dependent_totals": [],
    }
    assert _stored(admin, series_id) == []
    assert admin.get(f"/v1/forecasts/{series_id}").status_code == 404
    listed = admin.get("/v1/series", params={"prefix": "referrals/ot/rugby-"}).json()
    assert listed == []  # not even as a total (a forecast with no history)
    again = admin.delete(f"/v1/series/{series_id}")
    assert again.status_code == 404 and "no stored series" in again.json()["detail"]


def test_a_series_the_active_config_plans_from_is_not_deleted(
    admin: httpx.Client, factory: sessionmaker[Session]
) -> None:
    series_id = "referrals/hao/warwick"  # the demo config plans it
    text = f"unique_id,ds,y\n{series_id},2025-01-06,3\n{series_id},2025-01-13,4\n"
    assert _upload(admin, text.encode(), "text/csv").status_code == 201
    refused = admin.delete(f"/v1/series/{series_id}")
    assert refused.status_code == 409, refused.text
    assert "which it does: store a config without it first" in refused.json()["detail"]
    assert _stored(admin, series_id) == [3.0, 4.0]
