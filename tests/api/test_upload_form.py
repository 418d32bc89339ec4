"""A form upload (`curl -F file=@x.csv`, a browser's form) is refused with how to send the
file instead, not only 'expected text/csv'."""

from __future__ import annotations

import httpx


def test_a_form_upload_is_told_to_send_the_file_as_the_body(admin: httpx.Client) -> None:
    files = {"file": ("small.csv", b"unique_id,ds,y\nreferrals/ot/x,2026-01-05,3\n", "text/csv")}
    answer = admin.post("/v1/observations", files=files)
    assert answer.status_code == 422, answer.text
    [problem] = answer.json()["problems"]
    assert problem["column"] == "Content-Type" and problem["found"] == "multipart/form-data"
    assert "the CSV file itself as the request body (curl --data-binary" in problem["expected"]
    assert "not a form upload" in problem["expected"]


def test_a_header_problem_is_called_a_header_in_the_message(admin: httpx.Client) -> None:
    """The problem's `column` names the header (as the API's problems always locate it), but
    the sentence a person reads says header, not column."""
    answer = admin.post(
        "/v1/observations",
        content=b"unique_id,ds,y\n",
        headers={"Content-Type": "application/json"},
    )
    assert answer.status_code == 422, answer.text
    assert answer.json()["problems"][0]["column"] == "Content-Type"
    assert "header 'Content-Type': expected" in answer.json()["detail"]
    assert "column 'Content-Type'" not in answer.text
