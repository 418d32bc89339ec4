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
