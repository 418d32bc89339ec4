"""A config or plan request is refused whole, naming the field at fault, on SQLite and PostgreSQL:
nothing it carries reaches storage."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.errors import field_path
from homeward import demo_config, planning
from models import PlanningConfigRow, RunRow
from optimise.config import PlanningConfig
from tests.api.conftest import ConfigService, serve_config
from tests.homeward.test_planning import _stored_before_the_entry_checks

HORIZON = 4


Service = ConfigService


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    body = demo_config.demo_planning_config(horizon_periods=HORIZON)
    yield from serve_config(either_database_url, tmp_path, body)


def _demo() -> dict[str, Any]:
    return demo_config.demo_planning_config(horizon_periods=HORIZON)


def _post_text(client: httpx.Client, path: str, text: str) -> httpx.Response:
    return client.post(path, content=text.encode(), headers={"content-type": "application/json"})


@pytest.mark.parametrize("number", ["1e400", "Infinity", "-Infinity", "NaN"])
def test_a_non_finite_budget_is_422_and_never_stored(service: Service, number: str) -> None:
    config = _demo()
    config["revenue_budget_gbp_per_period"] = 123456.0
    text = json.dumps(config).replace("123456.0", number)
    before = service.client.get("/v1/configs/active").json()
    response = _post_text(service.client, "/v1/configs", text)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/revenue_budget_gbp_per_period"
    assert "finite" in problem["expected"]
    assert service.client.get("/v1/configs/active").json() == before
    assert service.count(PlanningConfigRow) == 1


@pytest.mark.parametrize(
    ("field", "where"),
    [
        ("capital_gbp", "districts/0/capital_gbp"),
        ("cost_per_hour_gbp", "services/0/cost_per_hour_gbp"),
        ("max_per_period", "teams/0/hours/ot/max_per_period"),
    ],
)
def test_infinity_in_a_plan_request_is_422_before_any_run(
    service: Service, field: str, where: str
) -> None:
    config = _demo()
    owner = {
        "capital_gbp": config["districts"][0],
        "cost_per_hour_gbp": config["services"][0],
        "max_per_period": config["teams"][0]["hours"]["ot"],
    }[field]
    owner[field] = 987654.0
    text = json.dumps({"config": config}).replace("987654.0", "Infinity")
    response = _post_text(service.client, "/v1/plans", text)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == f"body/config/{where}"
    assert problem["found"] == "Infinity"  # as JSON writes it
    assert service.count(RunRow) == 0 and service.count(PlanningConfigRow) == 1


def _with_unknown_team() -> dict[str, Any]:
    config = _demo()
    config["districts"][3]["team"] = "east"
    return config


@pytest.mark.parametrize(
    ("path", "body", "where"),
    [
        ("/v1/configs", _with_unknown_team(), "body/districts/3/team"),
        ("/v1/plans", {"config": _with_unknown_team()}, "body/config/districts/3/team"),
    ],
)
def test_a_cross_field_error_names_the_field_and_its_value(
    service: Service, path: str, body: dict[str, Any], where: str
) -> None:
    response = service.client.post(path, json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    teams = [t["id"] for t in body.get("config", body)["teams"]]
    assert problem == {"location": where, "expected": f"one of {teams}", "found": '"east"'}
    assert "Value error" not in response.text
    assert response.json()["detail"] == f'{where}: one of {teams}, found "east"'
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0


@pytest.mark.parametrize(
    ("path", "wrap"),
    [("/v1/configs", lambda c: c), ("/v1/plans", lambda c: {"config": c})],
)
def test_a_misspelt_field_is_named_with_the_field_meant_and_values_read_as_json(
    service: Service, path: str, wrap: Any
) -> None:
    config = _demo()
    config["fees"]["dfg_fee_rte"] = config["fees"].pop("dfg_fee_rate")
    config["teams"][1]["hours"]["ot"]["max_per_perod"] = 5.0
    config["services"][2]["wait_weight"] = None
    # cut short: the fields it begins, not 'revenue_budget_basis' (nearer by letters)
    config["revenue_budget_gbp"] = config.pop("revenue_budget_gbp_per_period")
    response = service.client.post(path, json=wrap(config))
    assert response.status_code == 422, response.text
    at = "body/" if path == "/v1/configs" else "body/config/"
    problems = {p["location"]: p for p in response.json()["problems"]}
    assert problems[f"{at}fees/dfg_fee_rte"] == {
        "location": f"{at}fees/dfg_fee_rte",
        "expected": "a field of this object (did you mean 'dfg_fee_rate'?)",
        "found": "0.1",
    }
    assert problems[f"{at}teams/1/hours/ot/max_per_perod"]["expected"] == (
        "a field of this object (did you mean 'max_per_period'?)"
    )
    assert problems[f"{at}revenue_budget_gbp"]["expected"] == (
        "a field of this object (did you mean 'revenue_budget_gbp_by_year' or "
        "'revenue_budget_gbp_per_period'?)"
    )
    assert problems[f"{at}services/2/wait_weight"]["found"] == "null"
    assert "None" not in response.text
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0


@pytest.mark.parametrize(
    ("owner", "location"),
    [
        ("pooled", "body/revenue_budget_gbp_by_year/2026-2027"),
        ("team", "body/teams/1/revenue_budget_gbp_by_year/2026-2027"),
    ],
)
def test_a_revenue_budget_by_year_is_taken_and_a_bad_years_label_located_and_never_stored(
    service: Service, owner: str, location: str
) -> None:
    config = _demo()
    target = config if owner == "pooled" else config["teams"][1]
    if owner == "pooled":
        del config["revenue_budget_gbp_per_period"]
    target["revenue_budget_gbp_by_year"] = {"2026-27": 5_650_000.0, "2026-2027": 5_900_000.0}
    refused = service.client.post("/v1/configs", json=config)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem == {
        "location": location,
        "expected": 'a financial year written YYYY-YY of consecutive years, such as "2026-27"',
        "found": '"2026-2027"',
    }
    assert service.count(PlanningConfigRow) == 1
    target["revenue_budget_gbp_by_year"] = {"2026-27": 5_650_000.0, "2027-28": 5_900_000.0}
    stored = service.client.post("/v1/configs", json=config)
    assert stored.status_code == 201, stored.text
    body = service.client.get("/v1/configs/active").json()["body"]
    kept = body if owner == "pooled" else body["teams"][1]
    assert kept["revenue_budget_gbp_by_year"] == {"2026-27": 5_650_000.0, "2027-28": 5_900_000.0}


def test_a_rate_by_year_is_taken_and_a_bad_years_label_or_rate_located_and_never_stored(
    service: Service,
) -> None:
    """A service's cost_per_hour_gbp_by_year is checked as a budget's by year is: a label
    that is not YYYY-YY, or a rate that is not a number from 0, is refused at its year."""
    config = _demo()
    domcare = config["services"][3]
    assert domcare["id"] == "domcare"
    del domcare["cost_per_hour_gbp"]
    at = "body/services/3/cost_per_hour_gbp_by_year"
    for rates, location, expected, found in (
        (
            {"2026-27": 23.0, "2026-2027": 24.5},
            f"{at}/2026-2027",
            'a financial year written YYYY-YY of consecutive years, such as "2026-27"',
            '"2026-2027"',
        ),
        ({"2026-27": -23.0}, f"{at}/2026-27", "GBP from 0 to 100,000,000,000", "-23"),
        ({"2026-27": "23"}, f"{at}/2026-27", "a number", '"23" (text)'),
    ):
        domcare["cost_per_hour_gbp_by_year"] = rates
        refused = service.client.post("/v1/configs", json=config)
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["problems"]
        assert problem == {"location": location, "expected": expected, "found": found}
        assert service.count(PlanningConfigRow) == 1
    domcare["cost_per_hour_gbp_by_year"] = {"2026-27": 23.0, "2027-28": 24.5}
    stored = service.client.post("/v1/configs", json=config)
    assert stored.status_code == 201, stored.text
    body = service.client.get("/v1/configs/active").json()["body"]
    assert body["services"][3]["cost_per_hour_gbp_by_year"] == {"2026-27": 23.0, "2027-28": 24.5}


@pytest.mark.parametrize("path", ["/v1/configs", "/v1/plans"])
def test_fees_and_charges_by_year_are_taken_and_a_bad_one_located_and_never_stored(
    service: Service, path: str
) -> None:
    """fees.by_year and a service's charge_gbp_per_hour_by_year are checked where they are
    sent: a year's fee that is a percentage, a label that is not YYYY-YY, a bound beside
    by_year or a negative charge is refused at its field, and nothing is stored or run."""
    wrap: Callable[[dict[str, Any]], dict[str, Any]] = (
        (lambda c: c) if path == "/v1/configs" else (lambda c: {"config": c})
    )
    at = "body/" if path == "/v1/configs" else "body/config/"
    config = _demo()
    domcare = config["services"][3]
    assert domcare["id"] == "domcare"
    good_fees = {"2026-27": {"dfg_fee_rate": 0.1}, "2027-28": {"dfg_fee_rate": 0.12}}
    for fees, charges, location, expected, found in (
        (
            {"by_year": {"2026-27": {"dfg_fee_rate": 12}}},
            None,
            "fees/by_year/2026-27/dfg_fee_rate",
            "a fraction from 0 to 1 (0.15 for 15%)",
            "12 (a percentage? write 0.12)",
        ),
        (
            {"by_year": {"2026-2027": {"dfg_fee_rate": 0.1}}},
            None,
            "fees/by_year/2026-2027",
            'a financial year written YYYY-YY of consecutive years, such as "2026-27"',
            '"2026-2027"',
        ),
        (
            {"by_year": good_fees, "max_fee_per_case_gbp": 1500},
            None,
            "fees/max_fee_per_case_gbp",
            "none beside fees.by_year (each year's max_fee_per_case_gbp goes in its entry there)",
            "1500",
        ),
        (
            {"by_year": good_fees},
            {"2026-27": 20.0, "2027-28": -21.0},
            "services/3/charge_gbp_per_hour_by_year/2027-28",
            "GBP from 0 to 100,000,000,000",
            "-21",
        ),
    ):
        config["fees"] = fees
        if charges is not None:
            domcare.pop("charge_gbp_per_hour", None)
            domcare["charge_paying_share"] = 0.5
            domcare["charge_gbp_per_hour_by_year"] = charges
        refused = service.client.post(path, json=wrap(config))
        assert refused.status_code == 422, refused.text
        [problem] = refused.json()["problems"]
        assert problem == {"location": at + location, "expected": expected, "found": found}
        assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0
    if path == "/v1/configs":
        domcare["charge_gbp_per_hour_by_year"] = {"2026-27": 20.0, "2027-28": 21.0}
        config["fees"]["charged_to_grant"] = True  # the fee by year paid out of the grant
        stored = service.client.post(path, json=config)
        assert stored.status_code == 201, stored.text
        body = service.client.get("/v1/configs/active").json()["body"]
        assert body["fees"]["by_year"] == {
            "2026-27": {
                "dfg_fee_rate": 0.1,
                "min_fee_per_case_gbp": 0.0,
                "max_fee_per_case_gbp": None,
            },
            "2027-28": {
                "dfg_fee_rate": 0.12,
                "min_fee_per_case_gbp": 0.0,
                "max_fee_per_case_gbp": None,
            },
        }
        assert body["fees"]["charged_to_grant"] is True
        assert body["services"][3]["charge_gbp_per_hour_by_year"] == {
            "2026-27": 20.0,
            "2027-28": 21.0,
        }


@pytest.mark.parametrize("path", ["/v1/configs", "/v1/plans", "/v1/plans/sweeps"])
def test_a_key_with_a_slash_or_tilde_is_one_step_of_its_location(
    service: Service, path: str
) -> None:
    """Each step of a location is escaped as a JSON Pointer's is (RFC 6901: `~` as `~0`, `/`
    as `~1`): a rate for "2026/27" was refused at `.../cost_per_hour_gbp_by_year/2026/27`,
    which reads as a year 2026 holding a 27; the detail locates it the same way."""
    config = _demo()
    domcare = config["services"][3]
    del domcare["cost_per_hour_gbp"]
    domcare["cost_per_hour_gbp_by_year"] = {"2026/27": 23.0}
    sent = config if path == "/v1/configs" else {"config": config, "dfg_fee_rates": [0.1, 0.2]}
    if path == "/v1/plans":
        sent.pop("dfg_fee_rates")
    at = "body/" if path == "/v1/configs" else "body/config/"
    refused = service.client.post(path, json=sent)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["location"] == f"{at}services/3/cost_per_hour_gbp_by_year/2026~127"
    assert refused.json()["detail"].startswith(f"{problem['location']}: ")
    domcare["cost_per_hour_gbp_by_year"] = {"2026-27": 23.0}
    config["a~b/c"] = 1
    [unknown] = service.client.post(path, json=sent).json()["problems"]
    assert unknown["location"] == f"{at}a~0b~1c"
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0


def test_an_unknown_field_far_from_any_is_told_the_fields_there(service: Service) -> None:
    response = service.client.post("/v1/plans/sweeps", json={"rates": [0.05, 0.1]})
    assert response.status_code == 422, response.text
    problems = {p["location"]: p for p in response.json()["problems"]}
    assert problems["body/rates"]["expected"] == "one of the fields config, dfg_fee_rates, solver"
    assert problems["body/rates"]["found"] == "[0.05, 0.1]"


@pytest.mark.parametrize(
    ("path", "wrap", "location"),
    [("/v1/configs", False, "body"), ("/v1/plans", True, "body/config")],
    ids=["config", "what-if"],
)
def test_a_whole_get_answer_sent_as_a_config_is_told_to_send_its_body(
    service: Service, path: str, wrap: bool, location: str
) -> None:
    """GET /v1/configs/active answers the config in its `body`: sent back whole, it was 14
    problems (every field missing, every field of the answer unknown), none saying why."""
    answer = service.client.get("/v1/configs/active").json()
    response = service.client.post(path, json={"config": answer} if wrap else answer)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == location
    assert problem["expected"] == "the config itself: the `body` of GET /v1/configs/active"
    assert problem["found"] == (
        "the whole answer of GET /v1/configs/{id} "
        "(body, body_hash, created_at, created_by, id, name, scenario, version, warnings)"
    )
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0


@pytest.mark.parametrize(
    ("path", "sent", "location"),
    [
        ("/v1/plans/sweeps", "rates", "body/dfg_fee_rates/0"),
        ("/v1/plans", "what-if", "body/config/fees/dfg_fee_rate"),
        ("/v1/configs", "config", "body/fees/dfg_fee_rate"),
    ],
    ids=["sweep rates", "what-if", "config"],
)
def test_a_boolean_where_a_number_goes_is_refused_not_read_as_1(
    finance: httpx.Client, path: str, sent: str, location: str
) -> None:
    """pydantic's lax mode read `true` as 1: a sweep planned a 100% fee, a config stored one."""
    config = finance.get("/v1/configs/active").json()["body"]
    fee_true = {**config, "fees": {**config["fees"], "dfg_fee_rate": True}}
    body = {
        "rates": {"dfg_fee_rates": [True, False]},
        "what-if": {"config": fee_true},
        "config": fee_true,
    }[sent]
    response = finance.post(path, json=body)
    assert response.status_code == 422, response.text
    problem = response.json()["problems"][0]
    assert problem["location"] == location and problem["found"] == "true"


@pytest.mark.parametrize(
    ("path", "sent", "location"),
    [
        ("/v1/plans", "what-if", "body/config/fees/dfg_fee_rate"),
        ("/v1/configs", "config", "body/fees/dfg_fee_rate"),
    ],
    ids=["what-if", "config"],
)
def test_a_number_given_as_text_is_refused_as_a_sweeps_rates_are(
    finance: httpx.Client, path: str, sent: str, location: str
) -> None:
    """`"dfg_fee_rate": "0.2"` was stored and planned as 0.2, where a sweep refuses "0.2"."""
    config = finance.get("/v1/configs/active").json()["body"]
    fee_text = {**config, "fees": {**config["fees"], "dfg_fee_rate": "0.2"}}
    body = {"what-if": {"config": fee_text}, "config": fee_text}[sent]
    response = finance.post(path, json=body)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem == {"location": location, "expected": "a number", "found": '"0.2" (text)'}


def test_a_config_a_previous_release_stored_is_still_refused_when_sent(
    finance: httpx.Client,
) -> None:
    """A stored config is read without the entry checks (it must still plan); the same body
    sent is refused at each field they refuse, and nothing is stored."""
    before = finance.get("/v1/configs/active").json()["id"]
    response = finance.post("/v1/configs", json=_stored_before_the_entry_checks())
    assert response.status_code == 422, response.text
    assert {p["location"] for p in response.json()["problems"]} == {
        "body/services/3/charge_paying_share",
        "body/fees/dfg_fee_rate",
        "body/revenue_budget_gbp_per_period",
    }
    assert finance.get("/v1/configs/active").json()["id"] == before


def test_a_refused_mapping_is_found_as_json_not_python(finance: httpx.Client) -> None:
    """A planner saw `found: "{'reablement': 6.0}"`, Python's text of the value, where the
    README promises a value found in a JSON body written as JSON."""
    config = finance.get("/v1/configs/active").json()["body"]
    winter = {**config["winter"], "pressure_elasticity": {"reablement": 6.0}}
    response = finance.post("/v1/configs", json={**config, "winter": winter})
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/winter/pressure_elasticity/reablement"
    assert json.loads(problem["found"]) == {"reablement": 6.0}


def test_a_zero_budget_is_warned_of_when_the_config_is_stored(finance: httpx.Client) -> None:
    """A config with a revenue budget of 0 was stored with no word of it: the first plan
    made with it was the first to say, after the scheduled run had planned from it."""
    # the short demo stores no hospital-pressure history: a config naming it is refused
    config = {**finance.get("/v1/configs/active").json()["body"], "winter": None}
    kept = finance.post("/v1/configs", json=config)
    assert kept.status_code == 201, kept.text
    assert not any("zero revenue budget" in w for w in kept.json()["warnings"])
    stored = finance.post("/v1/configs", json={**config, "revenue_budget_gbp_per_period": 0})
    assert stored.status_code == 201, stored.text
    [warning] = [w for w in stored.json()["warnings"] if "zero revenue budget" in w]
    assert "revenue_budget_gbp_per_period is GBP 0" in warning
    assert finance.get("/v1/configs/active").json()["id"] == stored.json()["id"]


def test_a_config_stored_is_prepared_as_a_plan_once(
    finance: httpx.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its checks prepare a plan of it; its warnings are that plan's, not a second one's."""
    prepared: list[bool] = []
    prepare = planning.prepare_plan

    def counted(session: Any, body: dict[str, Any]) -> planning.PreparedPlan:
        prepared.append(True)
        return prepare(session, body)

    monkeypatch.setattr(planning, "prepare_plan", counted)
    config = {**finance.get("/v1/configs/active").json()["body"], "winter": None}
    stored = finance.post("/v1/configs", json={**config, "revenue_budget_gbp_per_period": 1.0})
    assert stored.status_code == 201, stored.text
    assert any("revenue" in w for w in stored.json()["warnings"]), stored.json()["warnings"]
    assert len(prepared) == 1


@pytest.mark.parametrize(
    ("path", "wrap", "at"),
    [
        ("/v1/configs", lambda c: c, "body/"),
        ("/v1/plans", lambda c: {"config": c}, "body/config/"),
    ],
)
def test_a_waiting_weight_of_1e_300_is_422_naming_the_field(
    service: Service, path: str, wrap: Any, at: str
) -> None:
    """It was accepted: its service was never served, and the plan blamed budget and staff."""
    config = _demo()
    config["services"][0]["wait_weight"] = 1e-300
    response = service.client.post(path, json=wrap(config))
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem == {
        "location": f"{at}services/0/wait_weight",
        "expected": "0 (not counted) or a weight of at least 1e-06 (1 counts a day of waiting "
        "once)",
        "found": "1e-300 (a slip? below 1e-06 a day of waiting counts for less than a pound of "
        "staff spend)",
    }
    assert service.count(PlanningConfigRow) == 1 and service.count(RunRow) == 0


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("horizon_periods", ("horizon_periods",)),
        ("districts[rugby].capital_by_year_gbp", ("districts", 2, "capital_by_year_gbp")),
        ("teams[south].revenue_budget_gbp_by_year", ("teams", 1, "revenue_budget_gbp_by_year")),
        ("teams[east].revenue_budget_gbp_by_year", ()),
        (
            "services[domcare].cost_per_hour_gbp_by_year",
            ("services", 3, "cost_per_hour_gbp_by_year"),
        ),
        ("services[ot].cost_per_hour_gbp_by_year", ("services", 0, "cost_per_hour_gbp_by_year")),
        (
            "services[domcare].charge_gbp_per_hour_by_year",
            ("services", 3, "charge_gbp_per_hour_by_year"),
        ),
        ("fees.by_year", ("fees", "by_year")),
        ("fees.nothing", ()),
        # a district or service a plan names by index (one with no forecast)
        ("districts.4.id", ("districts", 4, "id")),
        ("services.1.id", ("services", 1, "id")),
        ("districts.5.id", ()),
    ],
)
def test_a_plans_refusal_is_located_at_the_district_or_team_it_names(
    field: str, path: tuple[str | int, ...]
) -> None:
    """A team's revenue_budget_gbp_by_year missing a year the plan reaches was refused by
    POST /v1/configs at just `body`, where the same slip in a district's capital_by_year_gbp
    was located at its field: a form could not mark it. An id the config lacks stays `body`."""
    config = PlanningConfig.model_validate(_demo())
    assert [d.id for d in config.districts][2] == "rugby"
    assert [t.id for t in config.teams] == ["north", "south"]
    assert field_path(config, field) == path
