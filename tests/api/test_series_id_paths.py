"""A series id in a path (`/v1/series/{id}`, `/v1/forecasts/{id}`, `/v1/observations/{id}`,
`/v1/winter/{id}`): a trailing slash is a 404 `no_such_route` naming the path without it, as
on every other route, and an id that no series can have is a 422 naming the pattern, as
`?prefix=` is. Both were a plain 404 `not_found` for a series of that name.

Over a real HTTP server on the demo database."""

from __future__ import annotations

import httpx
import pytest

from homeward.ingest import SERIES_ID_PATTERN
from homeward.roles import Role

GETS = ["/v1/series", "/v1/forecasts", "/v1/observations", "/v1/winter"]
RUGBY = "referrals/ot/rugby"


@pytest.mark.parametrize("route", GETS)
def test_a_trailing_slash_is_no_such_route_naming_the_path_without_it(
    viewer: httpx.Client, route: str
) -> None:
    assert viewer.get(f"{route}/{RUGBY}").status_code == 200  # the id itself is served
    for sent in (f"{route}/{RUGBY}/", f"{route}/{RUGBY.replace('/', '%2F')}%2F"):
        answer = viewer.get(sent)
        assert answer.status_code == 404, answer.text
        body = answer.json()
        assert body["code"] == "no_such_route"
        assert body["detail"] == (
            f"nothing at {route}/{RUGBY}/; drop the trailing slash: {route}/{RUGBY}"
        )


def test_a_delete_with_a_trailing_slash_deletes_nothing_and_says_so(
    admin: httpx.Client,
) -> None:
    answer = admin.delete(f"/v1/series/{RUGBY}/")
    assert answer.status_code == 404, answer.text
    assert answer.json()["code"] == "no_such_route"
    assert "drop the trailing slash: /v1/series/referrals/ot/rugby" in answer.json()["detail"]
    assert admin.get(f"/v1/series/{RUGBY}").status_code == 200


@pytest.mark.parametrize("route", GETS)
@pytest.mark.parametrize(
    ("sent", "found"),
    [
        ("Referrals/ot/Rugby", "'Referrals/ot/Rugby' (capitals: write 'referrals/ot/rugby')"),
        (
            "referrals/ot/rugby%00",
            "'referrals/ot/rugby\\x00' (a name: write an id such as 'referrals/ot/rugby')",
        ),
        ("referrals//rugby", "'referrals//rugby'"),
        ("a" * 300, "'" + "a" * 57 + "...' (300 characters)"),
    ],
)
def test_an_id_no_series_can_have_is_refused_naming_the_pattern(
    viewer: httpx.Client, route: str, sent: str, found: str
) -> None:
    answer = viewer.get(f"{route}/{sent}")
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["location"] == "path/series_id"
    assert problem["found"] == found
    assert problem["expected"].startswith("a lower-case series id of parts [a-z0-9_.-]")
    assert f"the pattern {SERIES_ID_PATTERN.pattern}" in problem["expected"]
    assert "at most 200 characters" in problem["expected"]


def test_a_delete_of_an_id_no_series_can_have_is_refused_the_same_way(
    admin: httpx.Client,
) -> None:
    answer = admin.delete("/v1/series/Referrals/ot/rugby")
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["location"] == "path/series_id"


def test_an_id_that_could_be_one_but_is_not_stored_is_still_not_found(
    viewer: httpx.Client,
) -> None:
    answer = viewer.get("/v1/series/referrals/ot/nowhere")
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"


def test_no_id_at_all_says_where_the_series_are(viewer: httpx.Client) -> None:
    """`/v1/winter/` was `no forecast for series ''`, where the other routes said what to ask."""
    answer = viewer.get("/v1/winter/")
    assert answer.status_code == 404
    assert answer.json()["code"] == "no_such_route"
    assert answer.json()["detail"].startswith("no series id: GET /v1/winter/{series_id} serves")
    assert viewer.get("/v1/series/").json()["detail"].startswith("no series id")


def test_the_openapi_document_gives_the_pattern_and_the_422(viewer: httpx.Client) -> None:
    paths = viewer.get("/openapi.json").json()["paths"]
    for route in GETS:
        operation = paths[f"{route}/{{series_id}}"]["get"]
        [parameter] = [p for p in operation["parameters"] if p["name"] == "series_id"]
        assert parameter["schema"]["pattern"] == SERIES_ID_PATTERN.pattern
        assert parameter["schema"]["maxLength"] == 200
        assert "series id no series can have" in operation["responses"]["422"]["description"]


def test_a_key_pasted_as_a_series_id_is_masked_in_the_422(
    viewer: httpx.Client, role_keys: dict[Role, str]
) -> None:
    """The 422 quotes the id sent, and its id to write in lower case: a key is masked in both."""
    key = role_keys[Role.ADMIN] + "X"  # a capital, whatever the key's own letters
    answer = viewer.get(f"/v1/series/{key}")
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["found"].startswith("'hw_****' (capitals: write")
    assert key[3:20] not in answer.text and key[3:20].lower() not in answer.text
