"""A form upload (`curl -F file=@x.csv`, a browser's form) is refused with how to send the
file instead, not only 'expected text/csv'."""

from __future__ import annotations

import httpx


def test_a_form_upload_is_told_to_send_the_file_as_the_body(admin: httpx.Client) -> None:
    files = {"file": ("small.csv", b"unique_id,ds,y\nreferrals/ot/x,2026-01-05,3\n", "text/csv")}
    answer = admin.post("/v1/observations", files=files)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["location"] == "header/Content-Type"
    assert problem["found"] == "multipart/form-data"
    assert "the CSV file itself as the request body (curl --data-binary" in problem["expected"]
    assert "not a form upload" in problem["expected"]


def test_a_header_problem_is_located_as_every_routes_request_problems(
    admin: httpx.Client,
) -> None:
    """A wrong Content-Type is the request's problem, not the file's: located by `location`
    (`header/Content-Type`), as a JSON route's is, not by a `row`, `column` and `series_id`
    (those locate problems in the file's content); and the sentence a person reads says
    header, not column."""
    answer = admin.post(
        "/v1/observations",
        content=b"unique_id,ds,y\n",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem == {
        "location": "header/Content-Type",
        "expected": "text/csv",
        "found": "application/json",
    }
    assert "header 'Content-Type': expected" in answer.json()["detail"]
    assert "column 'Content-Type'" not in answer.text
