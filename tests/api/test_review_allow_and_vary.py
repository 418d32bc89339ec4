"""A 405's Allow names HEAD wherever GET is allowed (every GET answers HEAD), and a 304
keeps the `Vary: Accept-Encoding` its 200 carries, so a cache keys both alike."""

from __future__ import annotations

import httpx
import pytest


@pytest.mark.parametrize("path", ["/v1/plans/latest", "/v1/series", "/healthz"])
def test_a_405_allows_head_wherever_get_is_allowed(viewer: httpx.Client, path: str) -> None:
    refused = viewer.request("PUT", path)
    assert refused.status_code == 405
    allowed = [m.strip() for m in refused.headers["allow"].split(",")]
    assert "GET" in allowed and "HEAD" in allowed
    assert viewer.head(path).status_code == 200


def test_a_405_on_a_post_only_path_does_not_allow_head(viewer: httpx.Client) -> None:
    refused = viewer.request("PUT", "/v1/observations")
    assert refused.status_code == 405 and refused.headers["allow"] == "POST"


@pytest.mark.parametrize("encoding", ["gzip", "identity"])
def test_a_304_keeps_the_vary_accept_encoding_of_its_200(
    viewer: httpx.Client, encoding: str
) -> None:
    first = viewer.get("/v1/plans/latest", headers={"Accept-Encoding": encoding})
    assert first.status_code == 200
    assert "accept-encoding" in first.headers["vary"].lower()
    again = viewer.get(
        "/v1/plans/latest",
        headers={"Accept-Encoding": encoding, "If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304 and again.content == b""
    assert again.headers.get("vary", "").lower() == first.headers["vary"].lower()
    assert again.headers["etag"] == first.headers["etag"]


# what a HEAD must say as its GET does (RFC 9110 9.3.2): the body's coding, length and type
_SAME_AS_GET = ("vary", "content-encoding", "content-length", "content-type", "etag")


@pytest.mark.parametrize("path", ["/v1/plans/latest", "/v1/plans/latest/hours.csv"])
def test_a_head_asking_for_gzip_has_the_headers_of_its_get(viewer: httpx.Client, path: str) -> None:
    """HEAD was answered inside the gzip middleware, which saw its emptied body and left it
    unzipped: no Vary, no Content-Encoding, and the plain body's length."""
    asked = {"Accept-Encoding": "gzip"}
    got = viewer.get(path, headers=asked)
    head = viewer.head(path, headers=asked)
    assert (got.status_code, head.status_code, head.content) == (200, 200, b"")
    assert got.headers["content-encoding"] == "gzip"
    assert {h: head.headers.get(h) for h in _SAME_AS_GET} == {
        h: got.headers.get(h) for h in _SAME_AS_GET
    }


@pytest.mark.parametrize("sent", ["GZIP", "Gzip, deflate", "x-GZip"])
def test_accept_encoding_is_read_whatever_its_case(viewer: httpx.Client, sent: str) -> None:
    """Content-codings are case-insensitive (RFC 9110 8.4.1): `GZIP` got an uncompressed
    answer; and `GZIP;q=0` refuses gzip as `gzip;q=0` does."""
    for path in ("/v1/plans/latest", "/v1/series"):
        answer = viewer.get(path, headers={"Accept-Encoding": sent})
        assert answer.headers.get("content-encoding") == "gzip", (path, sent)
        refused = viewer.get(path, headers={"Accept-Encoding": f"{sent.split(',')[0]};q=0"})
        assert "content-encoding" not in refused.headers, (path, sent)
