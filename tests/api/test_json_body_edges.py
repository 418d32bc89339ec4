"""A JSON body is refused, located, where Python's `json` reads it but it cannot be what was
meant (api/bodies.py `decode_json`): a key twice in one object (`json` kept the last silently:
`{"solver": "cbc", "solver": "highs"}` was solved with highs), a lone surrogate (`"\\ud800"`:
its echo failed to encode, a 422 quoting Python's codec error with no `problems`) and an
integer too long for Python to read (a 422 found "a body that could not be read
(ValueError)"). Nothing such a body carries is stored or planned."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from api.bodies import decode_json
from api.errors import JsonBodyRefused, problem
from homeward import demo_config
from tests.api.conftest import HORIZON_WEEKS

JSON = {"content-type": "application/json"}
NO_SURROGATES = "text without lone surrogates (\\ud800-\\udfff)"
# `json.dumps` writes a lone surrogate as its escape, as a client's JSON library does
LONE = "\ud800"


def _config() -> dict[str, Any]:
    return demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)


def _post(client: httpx.Client, path: str, text: str | bytes) -> httpx.Response:
    content = text.encode() if isinstance(text, str) else text
    return client.post(path, content=content, headers=JSON)


def _problems(response: httpx.Response) -> list[dict[str, str]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["code"] == "validation_failed" and body["title"] == "Invalid input"
    problems: list[dict[str, str]] = body["problems"]
    return problems


def _counts(client: httpx.Client) -> tuple[str, str]:
    """How many configs and plans are stored: a refused body changes neither."""
    configs = client.get("/v1/configs", params={"limit": 1})
    plans = client.get("/v1/plans", params={"limit": 1})
    return configs.headers["x-total-count"], plans.headers["x-total-count"]


@pytest.mark.parametrize(
    ("path", "body", "location"),
    [
        ("/v1/plans", {"solver": LONE}, "body/solver"),
        ("/v1/configs", {**_config(), "name": f"demo {LONE}"}, "body/name"),
        ("/v1/plans/sweeps", {"dfg_fee_rates": [0.1], "solver": f"x{LONE}"}, "body/solver"),
        ("/v1/plans", {"config": {**_config(), "name": LONE}}, "body/config/name"),
    ],
    ids=["plan", "config", "sweep", "nested"],
)
def test_a_lone_surrogate_is_refused_where_it_is(
    finance: httpx.Client, path: str, body: dict[str, Any], location: str
) -> None:
    before = _counts(finance)
    response = _post(finance, path, json.dumps(body))
    [refused] = _problems(response)
    value = location.rsplit("/", 1)[-1]
    written = json.dumps(body["config"][value] if "config" in location else body[value])
    assert refused == {"location": location, "expected": NO_SURROGATES, "found": written}
    assert "\\ud800" in written  # the escape, as sent: the answer is UTF-8 throughout
    assert _counts(finance) == before


def test_a_surrogate_sent_raw_or_in_a_key_is_refused_and_a_pair_is_text(
    finance: httpx.Client,
) -> None:
    # UTF-8's bytes of U+D800, which `json` reads as text ("surrogatepass")
    [raw] = _problems(_post(finance, "/v1/plans", b'{"solver": "\xed\xa0\x80"}'))
    assert raw == {"location": "body/solver", "expected": NO_SURROGATES, "found": '"\\ud800"'}
    [key] = _problems(_post(finance, "/v1/plans", '{"\\udc00": 1}'))
    assert key == {
        "location": "body/\\udc00",
        "expected": NO_SURROGATES,
        "found": 'the key "\\udc00"',
    }
    # a pair is one character (an emoji), and `\\ud800` written escaped is text: neither is
    # refused as a surrogate (each is the solver's 422, a name no solver has)
    for sent in ('{"solver": "\\ud83d\\ude00"}', '{"solver": "\\\\ud800"}'):
        [unknown] = _problems(_post(finance, "/v1/plans", sent))
        assert unknown["location"] == "body/solver" and unknown["expected"] != NO_SURROGATES


def test_a_body_sent_to_a_route_that_reads_none_is_refused_with_its_surrogate_escaped(
    planner: httpx.Client,
) -> None:
    """POST /v1/runs reads no body and refuses one, quoting it: a lone surrogate in it made
    the 422 itself fail to encode."""
    [refused] = _problems(_post(planner, "/v1/runs", '{"config_id": "\\ud800"}'))
    assert refused["location"] == "body" and "\\ud800" in refused["found"]


def test_a_number_too_long_to_read_is_located(finance: httpx.Client) -> None:
    before = _counts(finance)
    digits = "1" + "0" * 4999
    config = json.dumps(_config()).replace('"horizon_periods": 13', f'"horizon_periods": {digits}')
    assert digits in config
    [plan] = _problems(_post(finance, "/v1/plans", f'{{"config": {config}}}'))
    assert plan == {
        "location": "body/config/horizon_periods",
        "expected": "a number of at most 4,300 digits",
        "found": "a number too long to read (5,000 digits)",
    }
    [sweep] = _problems(
        _post(finance, "/v1/plans/sweeps", f'{{"dfg_fee_rates": [0.1, -{digits}]}}')
    )
    assert sweep["location"] == "body/dfg_fee_rates/1"
    assert _counts(finance) == before


def test_a_key_sent_twice_is_refused_naming_the_object_and_the_key(finance: httpx.Client) -> None:
    before = _counts(finance)
    [solver] = _problems(_post(finance, "/v1/plans", '{"solver": "cbc", "solver": "highs"}'))
    assert solver == {"location": "body", "expected": "each key once", "found": '"solver" twice'}
    config = json.dumps(_config())
    [whole] = _problems(_post(finance, "/v1/plans", f'{{"config": {config}, "config": {config}}}'))
    assert whole == {"location": "body", "expected": "each key once", "found": '"config" twice'}
    horizon = config.replace('"horizon_periods": 13', '"horizon_periods": 13, "horizon_periods": 4')
    assert horizon != config
    [inner] = _problems(_post(finance, "/v1/plans", f'{{"config": {horizon}}}'))
    assert inner == {
        "location": "body/config",
        "expected": "each key once",
        "found": '"horizon_periods" twice',
    }
    district = config.replace('"id": "rugby"', '"id": "rugby", "id": "rugby"', 1)
    assert district != config
    [stored] = _problems(_post(finance, "/v1/configs", district))
    assert stored["location"].startswith("body/districts/") and stored["found"] == '"id" twice'
    assert _counts(finance) == before


def test_a_key_with_a_slash_or_tilde_is_one_step_of_a_refusals_location(
    finance: httpx.Client,
) -> None:
    """Keys are escaped as a JSON Pointer's steps are (RFC 6901: `~` as `~0`, `/` as `~1`):
    a key sent twice inside `"by/year"` is located at `body/config/by~1year`, not under a
    `by` holding a `year`."""
    before = _counts(finance)
    text = '{"config": {"by/year": {"a": 1, "a": 2}, "x~y": {"b": 1, "b": 2}}}'
    problems = _problems(_post(finance, "/v1/plans", text))
    assert [p["location"] for p in problems] == ["body/config/by~1year", "body/config/x~0y"]
    [surrogate] = _problems(_post(finance, "/v1/plans", json.dumps({"a/b": {"c": LONE}})))
    assert surrogate["location"] == "body/a~1b/c"
    assert _counts(finance) == before


def test_each_key_sent_twice_is_found_under_one_replaced() -> None:
    """A duplicate inside an object a later key of the same name replaced is still found."""
    body = b'{"a": {"b": 1, "b": 2}, "a": 3, "a": 4, "c": [{"d": 1, "d": 1}]}'
    with pytest.raises(JsonBodyRefused) as refused:
        decode_json(body)
    assert [(p["location"], p["found"]) for p in refused.value.problems] == [
        ("body", '"a" 3 times'),
        ("body/a", '"b" twice'),
        ("body/c/0", '"d" twice'),
    ]


def test_a_body_without_them_is_read_as_json_reads_it() -> None:
    text = json.dumps({"config": _config(), "text": "é \\ud800 😀", "n": 10**4000})
    for encoding in ("utf-8", "utf-16", "utf-8-sig"):
        assert decode_json(text.encode(encoding)) == json.loads(text.encode(encoding))
    # an escaped backslash makes the high half text, the low one lone
    with pytest.raises(JsonBodyRefused) as refused:
        decode_json(b'{"a": "\\\\ud83d\\ude00"}')
    assert refused.value.problems[0]["found"] == '"\\\\ud83d\\ude00"'
    deep = '{"a": ' * 400 + '"\\udfff"' + "}" * 400  # walked without recursion
    with pytest.raises(JsonBodyRefused) as refused:
        decode_json(deep.encode())
    assert refused.value.problems[0]["location"] == "body" + "/a" * 400


def test_no_problem_answer_fails_to_encode() -> None:
    """Whatever a problem echoes, a lone surrogate in it is written as its escape."""
    answer = problem(
        422,
        "Invalid input",
        f"name: text, found {LONE}",
        problems=[{"location": f"body/{LONE}", "found": LONE}],
    )
    sent = json.loads(bytes(answer.body))
    assert sent["detail"] == "name: text, found \\ud800"
    assert sent["problems"] == [{"location": "body/\\ud800", "found": "\\ud800"}]


def test_a_body_of_thousands_is_told_the_first_thousand() -> None:
    """As a file's problems are (homeward/ingest.py MAX_PROBLEMS_PER_CHECK): a 1 MiB body of
    lone surrogates would otherwise be answered with 100,000 problems."""
    with pytest.raises(JsonBodyRefused) as refused:
        decode_json(json.dumps([LONE] * 1500).encode())
    assert len(refused.value.problems) == 1000
    assert refused.value.problems[-1]["location"] == "body/999"
