"""POST /v1/configs stores only a config the scheduled pipeline can plan: its fields within
bounds, and, once referral history is stored, a series for every service and district, a
period and horizon the forecasts can give. Each refusal is a 422 naming the field; nothing is
stored. The same config as the active one is not stored again (200). On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from homeward import demo_config, planning, repository
from homeward.ingest import observations_hash
from homeward.storage import transaction
from models import PlanningConfigRow, RunRow
from tests.api.conftest import ConfigService, serve_config

HORIZON = 4
FORECAST_WEEKS = 13  # the pipeline's horizon in these tests (HOMEWARD_FORECAST_HORIZON_WEEKS)
HISTORY = pd.date_range("2025-09-01", "2025-12-29", freq="W-MON")
MONTHS = pd.date_range("2025-09-01", "2025-12-01", freq="MS")
PRESSURE = demo_config.demo_planning_config()["winter"]["pressure_series"]


class Service(ConfigService):
    def configs(self) -> int:
        return self.count(PlanningConfigRow)

    def runs(self) -> int:
        return self.count(RunRow)

    def active_id(self) -> int:
        response = self.client.get("/v1/configs/active")
        assert response.status_code == 200, response.text
        return int(response.json()["id"])


@pytest.fixture
def service(either_database_url: str, tmp_path: Path) -> Iterator[Service]:
    served = serve_config(
        either_database_url, tmp_path, _demo(), forecast_horizon_weeks=FORECAST_WEEKS
    )
    for base in served:
        yield Service(base.client, base.factory)


def _demo(**changes: Any) -> dict[str, Any]:
    return {**demo_config.demo_planning_config(horizon_periods=HORIZON), **changes}


def _pairs(config: dict[str, Any]) -> list[tuple[str, str]]:
    return [(s["id"], d["id"]) for s in config["services"] for d in config["districts"]]


def _store_histories(service: Service, leave_out: Set[tuple[str, str]] = frozenset()) -> None:
    """A short weekly referral history for each of the demo's services and districts, and a
    monthly one of the hospital-pressure series its winter section names."""
    pressure = pd.DataFrame({"unique_id": PRESSURE, "ds": MONTHS, "y": 6000.0})
    frame = pd.concat(
        [
            *(
                pd.DataFrame({"unique_id": f"referrals/{s}/{d}", "ds": HISTORY, "y": 5.0})
                for s, d in _pairs(_demo())
                if (s, d) not in leave_out
            ),
            pressure,
        ],
        ignore_index=True,
    )
    with transaction(service.factory) as session:
        repository.store_observations(session, frame, "histories", observations_hash(frame))


def _store_forecasts(service: Service, weeks: int) -> None:
    """Forecasts of every demo series `weeks` ahead, as a pipeline run stores them."""
    ds = pd.date_range(HISTORY[-1] + pd.Timedelta(weeks=1), periods=weeks, freq="W-MON")
    forecasts = pd.concat(
        [
            pd.DataFrame(
                {
                    "unique_id": f"referrals/{s}/{d}",
                    "ds": ds,
                    "model": "naive",
                    "mean": 5.0,
                    "lo-80": 4.0,
                    "hi-80": 6.0,
                    "lo-95": 3.0,
                    "hi-95": 7.0,
                }
            )
            for s, d in _pairs(_demo())
        ],
        ignore_index=True,
    )
    metrics = pd.DataFrame(columns=["unique_id", "model", "chosen"])
    with transaction(service.factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        run.status = "succeeded"
        repository.store_forecasts(session, run.id, forecasts, metrics)


def _refused(service: Service, body: dict[str, Any]) -> list[dict[str, str]]:
    """POST a config that must be refused: 422, and nothing stored or made active."""
    before = (service.configs(), service.active_id())
    response = service.client.post("/v1/configs", json=body)
    assert response.status_code == 422, response.text
    assert response.json()["title"] == "Invalid input"
    assert (service.configs(), service.active_id()) == before
    problems: list[dict[str, str]] = response.json()["problems"]
    return problems


def _with_district(config: dict[str, Any], district_id: str) -> dict[str, Any]:
    extra = {**config["districts"][0], "id": district_id, "name": "Coventry City"}
    return {**config, "districts": [*config["districts"], extra]}


def _winter(**changes: Any) -> dict[str, Any]:
    config = _demo()
    return {**config, "winter": {**config["winter"], **changes}}


def _service_changed(index: int, **changes: Any) -> dict[str, Any]:
    config = _demo()
    services = [dict(s) for s in config["services"]]
    services[index].update(changes)
    return {**config, "services": services}


@pytest.mark.parametrize(
    ("body", "location", "found"),
    [
        (_demo(horizon_periods=1_000_000_000), "body/horizon_periods", "1000000000"),
        (_service_changed(0, hours_per_case=1e-300), "body/services/0/hours_per_case", "1e-300"),
        (_demo(name=""), "body/name", "''"),
        (_demo(name="   "), "body/name", "'   '"),
        (_demo(name="n" * 201), "body/name", '"nnnnnnnn'),  # the column holds 200
        (_winter(months=[]), "body/winter/months", "[]"),
        (_winter(months=[1, 1, 1]), "body/winter/months/1", "1 again (first at index 0)"),
    ],
    ids=[
        "horizon",
        "hours_per_case",
        "empty name",
        "blank name",
        "long name",
        "no months",
        "repeated month",
    ],
)
def test_a_value_out_of_bounds_is_refused_at_its_field(
    service: Service, body: dict[str, Any], location: str, found: str
) -> None:
    [problem] = _refused(service, body)
    assert problem["location"] == location
    assert problem["found"].startswith(found)
    assert problem["expected"]


def test_a_district_id_no_series_can_have_is_refused_before_any_history(
    service: Service,
) -> None:
    [problem] = _refused(service, _with_district(_demo(), "Coventry City"))
    assert problem["location"] == "body/districts/5/id"
    # the id to write, as uploads say it (it had been the bare 'Coventry City')
    assert problem["found"] == "'Coventry City' (a name: write an id such as 'coventry-city')"
    assert "referrals/<service>/<district id>" in problem["expected"]
    [problem] = _refused(service, _with_district(_demo(), "Carlisle"))
    assert problem["found"] == "'Carlisle' (capitals: write 'carlisle')"


def test_before_any_history_a_sound_config_is_stored_for_data_to_come(service: Service) -> None:
    response = service.client.post("/v1/configs", json=_with_district(_demo(), "coventry-city"))
    assert response.status_code == 201, response.text
    assert service.active_id() == response.json()["id"]


def test_a_district_with_no_stored_history_is_refused_naming_it(service: Service) -> None:
    _store_histories(service)
    [problem] = _refused(service, _with_district(_demo(), "coventry-city"))
    assert problem["location"] == "body/districts/5/id"
    assert problem["found"].startswith("none for referrals/ot/coventry-city, referrals/hao/")
    assert "referrals/<service>/coventry-city" in problem["expected"]


def test_a_district_lacking_one_service_names_that_series(service: Service) -> None:
    _store_histories(service, leave_out={("hao", "rugby")})
    [problem] = _refused(service, _demo())
    rugby = [d["id"] for d in _demo()["districts"]].index("rugby")
    assert problem["location"] == f"body/districts/{rugby}/id"
    assert problem["found"] == "none for referrals/hao/rugby"


def test_a_service_with_no_history_anywhere_is_named_at_the_service(service: Service) -> None:
    _store_histories(service, leave_out={("domcare", d["id"]) for d in _demo()["districts"]})
    [problem] = _refused(service, _demo())
    domcare = [s["id"] for s in _demo()["services"]].index("domcare")
    assert problem["location"] == f"body/services/{domcare}/id"
    assert problem["found"].startswith("none for service 'domcare'")


def test_a_pressure_series_not_stored_is_refused_naming_the_nearest(service: Service) -> None:
    """A misspelt winter.pressure_series would be stored and every plan from it would plan
    winter without hospital pressure (a warning on each plan, easily missed)."""
    _store_histories(service)
    misspelt = PRESSURE.replace("admissions", "admisions")
    body = _demo()
    body["winter"] = {**body["winter"], "pressure_series": misspelt}
    [problem] = _refused(service, body)
    assert problem["location"] == "body/winter/pressure_series"
    assert problem["expected"].startswith("the id of a stored history (POST /v1/observations")
    assert (
        problem["found"] == f"{misspelt!r}, which is not stored; the nearest stored is {PRESSURE!r}"
    )
    stored = service.client.post("/v1/configs", json=_demo(name="spelt right"))
    assert stored.status_code == 201, stored.text


@pytest.mark.parametrize(
    ("path", "extra", "headers"),
    [
        ("/v1/plans", {}, {}),
        ("/v1/plans", {}, {"Prefer": "respond-async"}),
        ("/v1/plans/sweeps", {"dfg_fee_rates": [0.05, 0.1]}, {}),
    ],
    ids=["plan", "plan job", "sweep"],
)
def test_a_what_if_naming_a_pressure_series_not_stored_is_refused(
    service: Service, path: str, extra: dict[str, Any], headers: dict[str, str]
) -> None:
    """A what-if's config is held to the same rule as a stored one: before, its winter was
    planned without hospital pressure and the plan stored with one more warning."""
    _store_histories(service)
    _store_forecasts(service, weeks=HORIZON)
    runs, configs = service.runs(), service.configs()
    misspelt = PRESSURE.replace("admissions", "admisions")
    config = _winter(pressure_series=misspelt)
    response = service.client.post(path, json={"config": config, **extra}, headers=headers)
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/config/winter/pressure_series"
    nearest = f"the nearest stored is {PRESSURE!r}"
    assert problem["found"] == f"{misspelt!r}, which is not stored; {nearest}"
    assert (service.runs(), service.configs()) == (runs, configs)
    spelt = service.client.post(path, json={"config": _demo(), **extra}, headers=headers)
    assert spelt.status_code in (201, 202), spelt.text


def test_a_what_if_of_the_active_configs_own_missing_series_plans_with_the_warning(
    service: Service,
) -> None:
    """A config stored before the check (or whose series has since gone) is planned by the
    pipeline with a warning; a copy of it with a fee rate changed is planned the same way, so
    the two plans compare, while a what-if naming another missing series is still refused."""
    _store_histories(service)
    _store_forecasts(service, weeks=HORIZON)
    gone = "winter/emergency_admissions/gone"
    active = _winter(pressure_series=gone)
    with transaction(service.factory) as session:
        repository.save_config(session, active, planning.config_hash(active))
    what_if = {**active, "fees": {**active["fees"], "dfg_fee_rate": 0.2}}
    planned = service.client.post("/v1/plans", json={"config": what_if})
    assert planned.status_code == 201, planned.text
    [warning] = [w for w in planned.json()["result"]["warnings"] if "pressure_series" in w]
    assert gone in warning and "without hospital pressure" in warning
    other = _winter(pressure_series="winter/emergency_admissions/other")
    refused = service.client.post("/v1/plans", json={"config": other})
    assert refused.status_code == 422, refused.text


@pytest.mark.parametrize(
    ("body", "location", "expected", "found"),
    [
        (_demo(period_days=30), "body/period_days", "7: the referral histories are weekly", "30"),
        (
            _demo(horizon_periods=FORECAST_WEEKS + 1),
            "body/horizon_periods",
            f"at most {FORECAST_WEEKS}: the pipeline forecasts",
            str(FORECAST_WEEKS + 1),
        ),
    ],
    ids=["period_days", "horizon_periods"],
)
def test_a_period_or_horizon_the_forecasts_cannot_give_is_refused(
    service: Service, body: dict[str, Any], location: str, expected: str, found: str
) -> None:
    _store_histories(service)
    [problem] = _refused(service, body)
    assert problem["location"] == location
    assert problem["expected"].startswith(expected) and problem["found"] == found


def _store_monthly_histories(service: Service) -> None:
    """A short monthly referral history for each of the demo's services and districts, and
    the pressure series'."""
    frame = pd.concat(
        [
            pd.DataFrame({"unique_id": f"referrals/{s}/{d}", "ds": MONTHS, "y": 20.0})
            for s, d in _pairs(_demo())
        ]
        + [pd.DataFrame({"unique_id": PRESSURE, "ds": MONTHS, "y": 6000.0})],
        ignore_index=True,
    )
    with transaction(service.factory) as session:
        repository.store_observations(session, frame, "monthly", observations_hash(frame))


def test_a_monthly_horizon_past_the_monthly_forecasts_is_refused(service: Service) -> None:
    """A council's monthly config of 24 periods was stored, then every pipeline run failed:
    the pipeline forecasts monthly series 12 months ahead (HOMEWARD_FORECAST_HORIZON_MONTHS),
    so the plan's last 12 months had no demand. It is refused when stored, as a weekly one is;
    12 months are stored."""
    _store_monthly_histories(service)
    [problem] = _refused(service, _demo(period_days=30, horizon_periods=24))
    assert problem["location"] == "body/horizon_periods" and problem["found"] == "24"
    assert problem["expected"].startswith(
        "at most 12: the pipeline forecasts 12 months ahead (HOMEWARD_FORECAST_HORIZON_MONTHS"
    )
    stored = service.client.post("/v1/configs", json=_demo(period_days=30, horizon_periods=12))
    assert stored.status_code == 201, stored.text


def test_a_longer_monthly_horizon_is_stored_where_the_pipeline_forecasts_that_far(
    either_database_url: str, tmp_path: Path
) -> None:
    """HOMEWARD_FORECAST_HORIZON_MONTHS=24 gives a council its two-year monthly plan."""
    for served in serve_config(either_database_url, tmp_path, _demo(), forecast_horizon_months=24):
        service = Service(served.client, served.factory)
        _store_monthly_histories(service)
        [problem] = _refused(service, _demo(period_days=30, horizon_periods=25))
        assert problem["expected"].startswith("at most 24: the pipeline forecasts 24 months")
        body = _demo(period_days=30, horizon_periods=24)
        stored = service.client.post("/v1/configs", json=body)
        assert stored.status_code == 201, stored.text


def test_with_forecasts_stored_the_checks_of_a_plan_apply(service: Service) -> None:
    """Forecasts 4 weeks long (a run with another horizon): a plan of 8 weeks cannot be made
    from them, as POST /v1/plans says; a plan of 4 can, and is stored."""
    _store_histories(service)
    _store_forecasts(service, weeks=4)
    [problem] = _refused(service, _demo(horizon_periods=8))
    assert problem["location"] == "body/horizon_periods"
    assert problem["expected"].startswith("at most 4") and problem["found"] == "8"
    plans = service.client.post("/v1/plans", json={"config": _demo(horizon_periods=8)})
    assert plans.status_code == 422 and "at most 4" in plans.text
    stored = service.client.post("/v1/configs", json=_demo(name="four weeks"))
    assert stored.status_code == 201, stored.text


def test_the_active_config_sent_again_is_200_and_stores_nothing(service: Service) -> None:
    first = service.client.post("/v1/configs", json=_demo(name="first"))
    assert first.status_code == 201, first.text
    count = service.configs()
    again = service.client.post("/v1/configs", json=_demo(name="first"))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    assert service.configs() == count and service.active_id() == first.json()["id"]
    changed = service.client.post("/v1/configs", json=_demo(name="second"))
    assert changed.status_code == 201 and changed.json()["id"] != first.json()["id"]
    back = service.client.post("/v1/configs", json=_demo(name="first"))
    assert back.status_code == 201, "an older config made active again is a new version"
    assert back.json()["id"] not in (first.json()["id"], changed.json()["id"])


def test_the_document_gives_both_statuses_of_storing_a_config(service: Service) -> None:
    responses = service.client.get("/openapi.json").json()["paths"]["/v1/configs"]["post"][
        "responses"
    ]
    assert {"200", "201", "422"} <= set(responses)
    for status in ("200", "201"):
        schema = responses[status]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/ConfigPublic")


def test_a_sweep_with_a_rate_twice_is_refused_at_its_index(service: Service) -> None:
    response = service.client.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.05, 0.1, 0.1]})
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem == {
        "location": "body/dfg_fee_rates/2",
        "expected": "each rate once",
        "found": "0.1 again (first at index 1)",
    }
    assert service.runs() == 0


def test_a_what_if_of_a_monthly_horizon_past_the_forecasts_is_refused_at_its_field(
    service: Service,
) -> None:
    """POST /v1/plans refuses it before solving (the stored forecasts give 12 months), at the
    what-if's field, not with a solver's error."""
    _store_monthly_histories(service)
    ds = pd.date_range(MONTHS[-1] + pd.DateOffset(months=1), periods=12, freq="MS")
    forecasts = pd.concat(
        [
            pd.DataFrame({"unique_id": f"referrals/{s}/{d}", "ds": ds, "model": "naive"}).assign(
                mean=20.0, **{"lo-80": 18.0, "hi-80": 22.0, "lo-95": 16.0, "hi-95": 24.0}
            )
            for s, d in _pairs(_demo())
        ],
        ignore_index=True,
    )
    with transaction(service.factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        run.status = "succeeded"
        repository.store_forecasts(
            session, run.id, forecasts, pd.DataFrame(columns=["unique_id", "model", "chosen"])
        )
    response = service.client.post(
        "/v1/plans", json={"config": _demo(period_days=30, horizon_periods=24, winter=None)}
    )
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/config/horizon_periods" and problem["found"] == "24"
    assert problem["expected"].startswith("at most 12")
    # how to plan further, as POST /v1/configs's own horizon refusal says (it had not)
    assert problem["expected"].endswith(
        "; to plan further ahead, raise HOMEWARD_FORECAST_HORIZON_MONTHS (at most 24 months) "
        "and run the pipeline again (POST /v1/runs), so its forecasts reach further"
    )


def test_a_weekly_what_if_past_the_forecasts_names_the_weekly_setting(service: Service) -> None:
    _store_histories(service)
    _store_forecasts(service, weeks=4)
    response = service.client.post("/v1/plans", json={"config": _demo(horizon_periods=8)})
    assert response.status_code == 422, response.text
    [problem] = response.json()["problems"]
    assert problem["location"] == "body/config/horizon_periods" and problem["found"] == "8"
    assert problem["expected"].startswith("at most 4")
    assert "raise HOMEWARD_FORECAST_HORIZON_WEEKS (at most 104 weeks)" in problem["expected"]


def test_a_misspelt_district_id_is_refused_naming_the_nearest_stored(service: Service) -> None:
    """A county's `brackly` for its uploads' `brackley` was refused as having no history, with
    no word of the id it meant."""
    _store_histories(service)
    body = _demo()
    warwick = [d["id"] for d in body["districts"]].index("warwick")
    body["districts"] = [
        {**d, "id": "warwik"} if d["id"] == "warwick" else d for d in body["districts"]
    ]
    [problem] = _refused(service, body)
    assert problem["location"] == f"body/districts/{warwick}/id"
    assert problem["found"].startswith("none for referrals/ot/warwik, referrals/hao/warwik")
    assert problem["found"].endswith("; the nearest stored district id is 'warwick'")
    # an id like no stored one has no nearest
    [far] = _refused(service, _with_district(_demo(), "coventry-city"))
    assert "nearest" not in far["found"]


def test_a_sweep_of_a_config_with_fees_by_year_is_refused_naming_the_field(
    service: Service,
) -> None:
    """A sweep sets fees.dfg_fee_rate in every period: of a config giving the fee by financial
    year (fees.by_year) it is refused, 422 at body/config/fees/by_year, whether the config is sent
    or the active one, and nothing is queued or stored; a what-if of that config plans."""
    _store_histories(service)
    _store_forecasts(service, weeks=FORECAST_WEEKS)
    fees = {"by_year": {"2025-26": {"dfg_fee_rate": 0.1}, "2026-27": {"dfg_fee_rate": 0.12}}}
    expected = (
        "fees.dfg_fee_rate: one fee rate, which a sweep sets in every period (to try fees by "
        "financial year, plan each as a what-if: POST /v1/plans with fees.by_year changed)"
    )
    runs, configs = service.runs(), service.configs()
    sweep = {"config": _demo(fees=fees), "dfg_fee_rates": [0.05, 0.1]}
    refused = service.client.post("/v1/plans/sweeps", json=sweep)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem == {
        "location": "body/config/fees/by_year",
        "expected": expected,
        "found": "fees by financial year (2025-26, 2026-27) in the config sent",
    }
    assert (service.runs(), service.configs()) == (runs, configs)
    stored = service.client.post("/v1/configs", json=_demo(fees=fees))
    assert stored.status_code == 201, stored.text
    runs, configs = service.runs(), service.configs()
    refused = service.client.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.05, 0.1]})
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/config/fees/by_year"
    assert problem["found"] == "fees by financial year (2025-26, 2026-27) in the active config"
    assert (service.runs(), service.configs()) == (runs, configs)
    # one rate sent beside the active config's fees by year is a sweep of its own config
    queued = service.client.post("/v1/plans/sweeps", json={**sweep, "config": _demo()})
    assert queued.status_code == 202, queued.text


def test_fees_or_a_charge_by_year_without_the_plans_year_are_refused_at_their_field(
    service: Service,
) -> None:
    """Once forecasts cover the config, POST /v1/configs refuses fees.by_year, or a service's
    charge_gbp_per_hour_by_year, without the financial year the plan's weeks (from January
    2026) start in, at that field; nothing is stored."""
    _store_histories(service)
    _store_forecasts(service, weeks=FORECAST_WEEKS)
    configs = service.configs()
    fees = {"by_year": {"2026-27": {"dfg_fee_rate": 0.12}}}
    refused = service.client.post("/v1/configs", json=_demo(fees=fees))
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem == {
        "location": "body/fees/by_year",
        "expected": "a fee for every financial year the plan's periods start in ['2025-26']",
        "found": 'none for ["2025-26"]',
    }
    config = _demo()
    domcare = config["services"][3]
    assert domcare["id"] == "domcare"
    domcare.pop("charge_gbp_per_hour", None)
    domcare["charge_gbp_per_hour_by_year"] = {"2026-27": 5.0}
    domcare["charge_paying_share"] = 0.5
    refused = service.client.post("/v1/configs", json=config)
    assert refused.status_code == 422, refused.text
    [problem] = refused.json()["problems"]
    assert problem["location"] == "body/services/3/charge_gbp_per_hour_by_year"
    assert problem["found"] == 'none for ["2025-26"]'
    assert service.configs() == configs


def _lacking_the_plans_year(kind: str) -> tuple[dict[str, Any], str, str]:
    """A demo config with its services, districts and teams listed in reverse (so a position
    in it is not the plan's, which sorts ids), one service's rate, district's capital or
    team's budget by financial year lacking 2025-26, the year the plan's weeks (from January
    2026) start in; with the field as the refusal names it (by id) and its index path."""
    config = _demo()
    services = [dict(s) for s in reversed(config["services"])]
    districts = [dict(d) for d in reversed(config["districts"])]
    teams = [dict(t) for t in reversed(config["teams"])]
    if kind == "service":
        ot = next(s for s in services if s["id"] == "ot")
        ot.pop("cost_per_hour_gbp")
        ot["cost_per_hour_gbp_by_year"] = {"2026-27": 30.0}
        field, path = "services[ot].cost_per_hour_gbp_by_year", "services/3/"
    elif kind == "district":
        for d in districts:
            capital = d.pop("capital_gbp")
            d["capital_by_year_gbp"] = {"2025-26": capital}
        # 1 here, 3 in the demo's order, 4 in the plan's (sorted by id)
        assert districts[1]["id"] == "warwick"
        districts[1]["capital_by_year_gbp"] = {"2026-27": 1_000_000.0}
        field, path = "districts[warwick].capital_by_year_gbp", "districts/1/"
    else:
        assert [t["id"] for t in teams] == ["south", "north"]
        teams[1]["revenue_budget_gbp_by_year"] = {"2026-27": 3_000_000.0}
        field, path = "teams[north].revenue_budget_gbp_by_year", "teams/1/"
    body = {**config, "services": services, "districts": districts, "teams": teams}
    return body, field, path + field.split(".")[-1]


PLAN_ROUTES = [
    ("/v1/plans", {}, {}),
    ("/v1/plans", {"Prefer": "respond-async"}, {}),
    ("/v1/plans/sweeps", {}, {"dfg_fee_rates": [0.05, 0.1]}),
]


@pytest.mark.parametrize("kind", ["service", "district", "team"])
def test_a_plans_refusal_of_a_listed_item_is_located_by_its_index_in_the_config_sent(
    service: Service, kind: str
) -> None:
    """A what-if or sweep whose service, district or team lacks a year the plan reaches is
    refused at that item's index in the config sent (`body/config/services/3/...`), as
    pydantic's own problems with it are and as POST /v1/configs locates it under `body/`, so a
    form can mark the field; it was located at `config/services[ot]/...`, a path of no JSON
    sent, then at `config/services/3/...`, a form of its own. The message still names the id,
    and nothing is stored or queued."""
    _store_histories(service)
    _store_forecasts(service, weeks=FORECAST_WEEKS)
    body, field, path = _lacking_the_plans_year(kind)
    before = (service.runs(), service.configs())
    for url, headers, extra in PLAN_ROUTES:
        response = service.client.post(url, json={"config": body, **extra}, headers=headers)
        assert response.status_code == 422, (url, headers, response.text)
        [problem] = response.json()["problems"]
        assert problem["location"] == f"body/config/{path}", (url, headers)
        assert problem["found"] == 'none for ["2025-26"]'
        assert response.json()["detail"].startswith(f"{field}: expected ")
        assert (service.runs(), service.configs()) == before
    [problem] = _refused(service, body)
    assert problem["location"] == f"body/{path}"


def test_a_refusal_of_the_active_config_is_located_by_its_index_in_it(service: Service) -> None:
    """No config sent: a plan or sweep of the active config is refused at the field's index
    in the active config (stored before the forecasts, so unchecked against the plan's year),
    under `body/config/` as if it were sent, where a form showing it marks the field."""
    _store_histories(service)
    body, field, path = _lacking_the_plans_year("service")
    stored = service.client.post("/v1/configs", json=body)
    assert stored.status_code == 201, stored.text
    _store_forecasts(service, weeks=FORECAST_WEEKS)
    before = (service.runs(), service.configs())
    for url, headers, extra in PLAN_ROUTES:
        response = service.client.post(url, json=extra, headers=headers)
        assert response.status_code == 422, (url, headers, response.text)
        [problem] = response.json()["problems"]
        assert problem["location"] == f"body/config/{path}", (url, headers)
        assert response.json()["detail"].startswith(f"{field}: expected ")
        assert (service.runs(), service.configs()) == before


def test_every_field_lacking_the_plans_year_is_refused_together(service: Service) -> None:
    """A team's budget and every district's capital by year lacking 2025-26: each is a
    problem at its own field, in one 422 from a plan, a sweep and POST /v1/configs (only the
    first was said, so each was mended in a round trip of its own)."""
    _store_histories(service)
    _store_forecasts(service, weeks=FORECAST_WEEKS)
    body, _, team_path = _lacking_the_plans_year("team")
    for district in body["districts"]:
        district["capital_by_year_gbp"] = {"2026-27": district.pop("capital_gbp")}
    paths = [team_path, *(f"districts/{i}/capital_by_year_gbp" for i in range(5))]
    before = (service.runs(), service.configs())
    for url, headers, extra in PLAN_ROUTES:
        response = service.client.post(url, json={"config": body, **extra}, headers=headers)
        assert response.status_code == 422, (url, headers, response.text)
        problems = response.json()["problems"]
        assert [p["location"] for p in problems] == [f"body/config/{p}" for p in paths]
        assert {p["found"] for p in problems} == {'none for ["2025-26"]'}
        detail = response.json()["detail"]
        assert detail.startswith("teams[north].revenue_budget_gbp_by_year: expected ")
        # five districts of one kind: three said, the rest counted
        assert detail.count("capital_by_year_gbp: expected") == 3
        assert detail.endswith("and 2 more of districts[].capital_by_year_gbp")
        assert (service.runs(), service.configs()) == before
    assert [p["location"] for p in _refused(service, body)] == [f"body/{p}" for p in paths]
