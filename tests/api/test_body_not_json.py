"""A body the API could not read as JSON is a 422 saying why: a form or text/plain body names
the Content-Type (it said "found b'{...}'", Python's bytes), and bytes that are not UTF-8 or
JSON nested past what can be read name the body (they were a bare 400 with no location)."""

from __future__ import annotations

import httpx
import pytest

SWEEP = b'{"dfg_fee_rates": [0.1, 0.2]}'


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ({"content-type": "text/plain"}, "'text/plain'"),
        (
            {"content-type": "application/x-www-form-urlencoded"},
            "'application/x-www-form-urlencoded'",
        ),
        ({}, "no Content-Type header"),
    ],
    ids=["text", "form", "none"],
)
def test_a_json_body_sent_as_another_type_names_the_content_type(
    finance: httpx.Client, headers: dict[str, str], found: str
) -> None:
    response = finance.post("/v1/plans/sweeps", content=SWEEP, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["problems"] == [
        {
            "location": "header/Content-Type",
            "expected": "application/json: the body is a JSON object",
            "found": found,
        }
    ]


@pytest.mark.parametrize(
    ("content", "found"),
    [
        (b'{"solver": "\xff"}', "bytes that are not UTF-8 text (byte 12)"),
        (b"[" * 5000 + b"]" * 5000, "JSON nested too deep to read"),
    ],
    ids=["not utf-8", "too deep"],
)
def test_a_body_that_cannot_be_decoded_is_a_located_422(
    finance: httpx.Client, content: bytes, found: str
) -> None:
    response = finance.post(
        "/v1/plans", content=content, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["problems"] == [
        {"location": "body", "expected": "a JSON body (UTF-8 text)", "found": found}
    ]


def test_an_empty_body_is_still_said_to_be_missing(finance: httpx.Client) -> None:
    response = finance.post("/v1/plans", content=b"")
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem == {
        "location": "body",
        "expected": "a value (it is required)",
        "found": "nothing",
    }
