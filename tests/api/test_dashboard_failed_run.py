"""The latest plan's card says when the newest pipeline run failed after it was made (so the
plan shown is an older one, kept because that run stored none), in the run's own words
without the failure's class; and the note on a new active config does not say the pipeline
plans it "when it next runs" when its run has failed. Only for the latest plan: a plan asked
for by id says nothing of runs; nor once a newer pipeline run succeeded."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from homeward import planning, repository
from homeward.clock import utcnow
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import DemoDatabase, key_header, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402

SAID = (
    "No plan: the solver ended with status error (HiGHS: Not Set). No plan was stored: "
    "GET /v1/plans/latest still serves plan {plan}, the newest plan solved"
)


def _pipeline_run(demo_db: DemoDatabase, status: str, message: str, config_id: int) -> int:
    """A pipeline run stored as the scheduler's ends one: `failed` with solver status error
    and no plan (as since PlanNotSolved), or `succeeded`."""
    with transaction(demo_db.factory) as session:
        run = repository.start_run(session, "pipeline", "scheduler", "test")
        run.status, run.finished_at, run.message = status, utcnow(), message
        run.solver_status, run.config_id = "error" if status == "failed" else "optimal", config_id
        session.flush()
        return run.id


def _latest(server: LiveServer, key: str) -> dict[str, Any]:
    answer = httpx.get(f"{server.url}/v1/plans/latest", headers=key_header(key), timeout=30)
    return dict(answer.raise_for_status().json())


def _runs_checked(browser: Any) -> bool:
    note = browser.find_element(By.ID, "plan-run-failed")
    return note.get_attribute("data-checked") == "true"


def test_a_pipeline_run_that_failed_after_the_latest_plan_is_said_on_its_card(
    browser: Any, demo_db: DemoDatabase, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    plan = _latest(demo_server, key)
    with transaction(demo_db.factory) as session:  # a new active config, which the run read
        active = repository.active_config(session)
        assert active is not None
        body = {**active.body, "version": "after the plan"}
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
    # stored as a release before this one stored it: with the failure's class in front
    run_id = _pipeline_run(
        demo_db, "failed", "PlanNotSolved: " + SAID.format(plan=plan["id"]), config_id
    )
    assert run_id > plan["run_id"]
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    note = wait.until(ec.visibility_of_element_located((By.ID, "plan-run-failed")))
    assert note.get_attribute("role") == "note" and "warnings" in note.get_attribute("class")
    assert note.text.startswith(f"The latest pipeline run (#{run_id}, ")
    assert note.text.endswith(
        f" UTC) failed: {SAID.format(plan=plan['id'])}; this is still plan #{plan['id']}, "
        "the newest solved."
    )
    assert "PlanNotSolved" not in note.text
    config_note = wait.until(ec.visibility_of_element_located((By.ID, "plan-config-note")))
    assert f"the active config is now #{config_id}" in config_note.text
    assert f"the pipeline's newest run (#{run_id}) read it and failed" in config_note.text
    assert "when it next runs" not in config_note.text

    # the same plan asked for by id is not read as the latest: no word of runs
    browser.get(f"{demo_server.url}/?plan={plan['id']}")
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-chosen"), "Not a what-if"))
    wait.until(lambda b: b.find_element(By.ID, "chart").get_attribute("aria-busy") == "false")
    assert not _runs_checked(browser)
    assert not browser.find_element(By.ID, "plan-run-failed").is_displayed()


def test_no_note_once_the_newest_pipeline_run_succeeded(
    browser: Any, demo_db: DemoDatabase, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    key = role_keys[Role.VIEWER]
    plan = _latest(demo_server, key)
    with demo_db.factory() as session:
        active = repository.active_config(session)
        assert active is not None
    _pipeline_run(demo_db, "failed", SAID.format(plan=plan["id"]), active.id)
    _pipeline_run(demo_db, "succeeded", "forecasts stored; planned nothing new", active.id)
    wait = open_with_key(browser, demo_server, key, timeout_s=90)
    wait.until(_runs_checked)
    assert not browser.find_element(By.ID, "plan-run-failed").is_displayed()
    assert browser.find_element(By.ID, "plan-run-failed").text == ""
