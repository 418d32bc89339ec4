"""Who did what: every upload, config, run and plan names the key that made it (`created_by`:
its name, never its secret), and GET /v1/audit, for an admin only, lists each change to what
is stored (series deletes included) with when and who, written in the change's transaction.
Through the real API with keys on, on SQLite and PostgreSQL; keys off, the CLI and the
scheduler are named by markers no key's name can take."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, cli, demo_config, planning, repository
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from models import AuditEventRow, ImportRow, RunRow
from tests.api.conftest import key_header
from tests.conftest import LiveServer

HORIZON = 4
HISTORY = pd.date_range("2025-09-01", "2025-12-29", freq="W-MON")
MONTHS = pd.date_range("2025-09-01", "2025-12-01", freq="MS")
PRESSURE = demo_config.demo_planning_config()["winter"]["pressure_series"]
KEYS = {
    Role.ADMIN: "ops-admin",
    Role.FINANCE: "finance-k",
    Role.PLANNER: "planner-k",
    Role.VIEWER: "viewer-k",
}


def _demo(**changes: Any) -> dict[str, Any]:
    return {**demo_config.demo_planning_config(horizon_periods=HORIZON), **changes}


def _pairs() -> list[tuple[str, str]]:
    config = _demo()
    return [(s["id"], d["id"]) for s in config["services"] for d in config["districts"]]


@dataclass(frozen=True)
class Served:
    factory: sessionmaker[Session]
    clients: dict[Role, httpx.Client]
    secrets: dict[Role, str]


@pytest.fixture
def served(either_database_url: str, tmp_path: Path) -> Iterator[Served]:
    """A migrated database holding the demo config (stored directly: no one is recorded) and
    one key per role, served over real HTTP with keys required."""
    settings = Settings(
        data_dir=tmp_path,
        database_url=either_database_url,
        scheduler_enabled=False,
        auth="keys",
        forecast_horizon_weeks=13,
    )
    engine = make_engine(either_database_url)
    upgrade(engine)
    factory = session_factory(engine)
    body = _demo()
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
        secrets = {r: api_keys.create_key(session, name, r).secret for r, name in KEYS.items()}
    with LiveServer(create_app(settings)) as server:
        clients = {
            r: httpx.Client(base_url=server.url, headers=key_header(s), timeout=60)
            for r, s in secrets.items()
        }
        try:
            yield Served(factory, clients, secrets)
        finally:
            for client in clients.values():
                client.close()
    engine.dispose()


def _history_csv(extra: tuple[str, ...] = ()) -> str:
    """A short weekly referral history of every demo service and district (and `extra`
    series), and a monthly one of the config's hospital-pressure series, as a long CSV."""
    ids = [f"referrals/{s}/{d}" for s, d in _pairs()] + list(extra)
    rows = [f"{uid},{ds:%Y-%m-%d},5" for uid in ids for ds in HISTORY]
    rows += [f"{PRESSURE},{ds:%Y-%m-%d},6000" for ds in MONTHS]
    return "unique_id,ds,y\n" + "\n".join(rows) + "\n"


def _store_forecasts(factory: sessionmaker[Session]) -> None:
    """Forecasts of every demo referral series 13 weeks ahead, as a pipeline run stores them."""
    ds = pd.date_range(HISTORY[-1] + pd.Timedelta(weeks=1), periods=13, freq="W-MON")
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
            for s, d in _pairs()
        ],
        ignore_index=True,
    )
    metrics = pd.DataFrame(columns=["unique_id", "model", "chosen"])
    with transaction(factory) as session:
        run = repository.start_run(session, "pipeline", "test", "test")
        run.status = "succeeded"
        repository.store_forecasts(session, run.id, forecasts, metrics)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


def _finished(client: httpx.Client, run_id: int) -> dict[str, Any]:
    deadline = time.monotonic() + 180
    while True:
        run: dict[str, Any] = _ok(client.get(f"/v1/runs/{run_id}"))
        if run["status"] not in ("queued", "running"):
            return run
        assert time.monotonic() < deadline, run
        time.sleep(0.1)


def test_each_write_names_its_key_and_the_audit_trail_lists_who_did_what(
    served: Served,
) -> None:
    admin, finance = served.clients[Role.ADMIN], served.clients[Role.FINANCE]
    planner, viewer = served.clients[Role.PLANNER], served.clients[Role.VIEWER]
    csv = {"Content-Type": "text/csv"}

    # an upload: the import names the admin's key, never its secret
    upload = _ok(
        admin.post("/v1/observations", content=_history_csv(("other/typo",)), headers=csv), 201
    )
    assert upload["created_by"] == "ops-admin"
    _store_forecasts(served.factory)

    # the config stored before keys recorded anyone has none; finance's new one is finance's
    before = _ok(admin.get("/v1/configs/active"))
    assert before["created_by"] is None
    stored = _ok(finance.post("/v1/configs", json=_demo(version="2")), 201)
    assert stored["created_by"] == "finance-k"
    assert _ok(viewer.get("/v1/configs/active"))["created_by"] == "finance-k"

    # a what-if solved at once: its run, plan and scenario config are finance's
    what_if = _demo(version="2", fees={**_demo()["fees"], "dfg_fee_rate": 0.2})
    plan = _ok(finance.post("/v1/plans", json={"config": what_if}), 201)
    assert plan["created_by"] == "finance-k"
    assert _ok(viewer.get(f"/v1/plans/{plan['id']}"))["created_by"] == "finance-k"
    assert _ok(viewer.get(f"/v1/runs/{plan['run_id']}"))["created_by"] == "finance-k"
    scenario = _ok(viewer.get(f"/v1/configs/{plan['config_id']}"))
    assert (scenario["scenario"], scenario["created_by"]) == (True, "finance-k")
    listed = _ok(viewer.get("/v1/plans", params={"limit": 1}))
    assert [(p["id"], p["created_by"]) for p in listed] == [(plan["id"], "finance-k")]

    # a plan job and a sweep: the queued run, and the plans and plan runs they make
    job = _ok(planner.post("/v1/plans", json={}, headers={"Prefer": "respond-async"}), 202)
    assert job["created_by"] == "planner-k"
    job_plan = _finished(viewer, job["id"])["plan_id"]
    assert _ok(viewer.get(f"/v1/plans/{job_plan}"))["created_by"] == "planner-k"
    sweep = _ok(finance.post("/v1/plans/sweeps", json={"dfg_fee_rates": [0.05, 0.1]}), 202)
    assert sweep["created_by"] == "finance-k"
    rows = _finished(viewer, sweep["id"])["sweep"]
    for row in rows:
        swept = _ok(viewer.get(f"/v1/plans/{row['plan_id']}"))
        assert swept["created_by"] == "finance-k"
        assert _ok(viewer.get(f"/v1/runs/{swept['run_id']}"))["created_by"] == "finance-k"

    # deletes, by id and by prefix, leave a record naming who, what and how much
    one = _ok(admin.delete("/v1/series/other/typo"))
    assert one["observations_deleted"] == len(HISTORY)
    _ok(admin.post("/v1/observations", content=_history_csv(("other/a",)), headers=csv), 201)
    _ok(admin.delete("/v1/series", params={"prefix": "other/"}))

    # a pipeline run asked for: the run and its entry are the planner's
    run = _ok(planner.post("/v1/runs"), 202)
    assert run["created_by"] == "planner-k"
    _finished(viewer, run["id"])  # not cut off by the server's stop

    # only an admin reads the trail
    for role in (Role.VIEWER, Role.PLANNER, Role.FINANCE):
        refused = served.clients[role].get("/v1/audit")
        assert refused.status_code == 403, refused.text
        assert refused.json()["role_needed"] == ["admin"]
    trail = admin.get("/v1/audit", params={"limit": 500})
    entries = _ok(trail)[::-1]  # oldest first
    assert trail.headers["X-Total-Count"] == str(len(entries))
    assert [(e["action"], e["actor"]) for e in entries] == [
        *[("create_key", "(cli)")] * len(served.secrets),  # the test's keys, made at the shell
        ("upload", "ops-admin"),
        ("store_config", "finance-k"),
        ("plan", "finance-k"),
        ("plan", "planner-k"),
        ("sweep", "finance-k"),
        ("delete_series", "ops-admin"),
        ("upload", "ops-admin"),
        ("delete_series", "ops-admin"),
        ("run", "planner-k"),
    ]
    assert all(s not in str(entries) for s in served.secrets.values())
    assert sorted(e["detail"]["name"] for e in entries[: len(served.secrets)]) == sorted(
        KEYS.values()
    )
    entries = entries[len(served.secrets) :]
    first_upload, config, solved, queued, swept_entry, by_id, _, by_prefix, ran = entries
    assert first_upload["detail"]["import_id"] == upload["import_id"]
    assert "other/typo" in first_upload["detail"]["series"]
    assert config["detail"]["config_id"] == stored["id"]
    assert solved["detail"] | {"run_id": plan["run_id"], "plan_id": plan["id"]} == solved["detail"]
    assert queued["detail"] == {"run_id": job["id"], "queued": True}
    assert swept_entry["detail"] == {"run_id": sweep["id"], "dfg_fee_rates": [0.05, 0.1]}
    assert ran["detail"] == {"run_id": run["id"]}
    assert by_id["detail"]["prefix"] is None
    assert by_id["detail"]["series"] == [
        {
            "series_id": "other/typo",
            "observations_deleted": len(HISTORY),
            "forecast_rows_deleted": 0,
        }
    ]
    assert (by_prefix["detail"]["prefix"], by_prefix["detail"]["series_deleted"]) == ("other/", 1)
    assert by_prefix["detail"]["observations_deleted"] == len(HISTORY)

    # paged and filtered as GET /v1/runs is
    page = admin.get("/v1/audit", params={"action": "delete_series", "limit": 1})
    assert [e["id"] for e in _ok(page)] == [by_prefix["id"]]
    assert page.headers["X-Total-Count"] == "2"
    assert page.headers["Link"] == (
        f'</v1/audit?action=delete_series&limit=1&before_id={by_prefix["id"]}>; rel="next"'
    )
    mine = _ok(admin.get("/v1/audit", params={"actor": "planner-k"}))
    assert [e["action"] for e in mine] == ["run", "plan"]
    nobody = admin.get("/v1/audit", params={"actor": ""})  # was 200 [], "nobody did anything"
    assert nobody.status_code == 422 and nobody.json()["problems"][0]["location"] == "query/actor"


def test_with_keys_off_a_write_is_recorded_as_auth_off(
    either_database_url: str, tmp_path: Path
) -> None:
    settings = Settings(
        data_dir=tmp_path, database_url=either_database_url, scheduler_enabled=False, auth="off"
    )
    engine = make_engine(either_database_url)
    upgrade(engine)
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, timeout=60) as client,
    ):
        upload = client.post(
            "/v1/observations",
            content="unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\n",
            headers={"Content-Type": "text/csv"},
        )
        assert upload.status_code == 201, upload.text
        assert upload.json()["created_by"] == "(auth off)"
        [entry] = client.get("/v1/audit").json()
    assert (entry["action"], entry["actor"]) == ("upload", "(auth off)")
    engine.dispose()


def test_the_cli_and_the_scheduler_are_named_as_such(
    either_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`homeward import` records `(cli)`; the scheduler's own runs `(scheduler)` (as its
    retry, trigger recovery); neither can be a key's name."""
    monkeypatch.setenv("DATABASE_URL", either_database_url)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    from homeward.settings import get_settings

    get_settings.cache_clear()
    path = tmp_path / "rugby.csv"
    path.write_text("unique_id,ds,y\nreferrals/ot/rugby,2025-01-06,4\n")
    try:
        assert cli.main(["import", str(path)]) == 0
    finally:
        get_settings.cache_clear()
    engine = make_engine(either_database_url)
    factory = session_factory(engine)
    with transaction(factory) as session:
        [imported] = session.query(ImportRow).all()
        [entry] = session.query(AuditEventRow).all()
        scheduled = repository.start_run(session, "pipeline", "scheduler", "test")
        retried = repository.start_run(session, "pipeline", "recovery", "test")
        ids = (scheduled.id, retried.id)
    assert imported.created_by == "(cli)"
    assert (entry.actor, entry.action, entry.detail["source"]) == ("(cli)", "upload", str(path))
    with factory() as session:
        assert [session.get_one(RunRow, i).created_by for i in ids] == ["(scheduler)"] * 2
    for marker in ("(cli)", "(scheduler)", "(auth off)"):
        assert not api_keys.NAME_PATTERN.fullmatch(marker)
    engine.dispose()
