"""The dashboard knows its key's role (GET /v1/keys/me) in real headless Chromium over a real
server: the header names the key and its role, and a key that may not plan sees the fee what-if
and the sweep disabled, with a note naming the roles that may, before anything is refused; with
keys off the header says so; a server without the route is used as before."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.clock import utcnow
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

PLAN_CONTROLS = ("#fee", "#fee-form button", "#sweep-rates", "#sweep-form button")


@dataclass(frozen=True)
class Served:
    """One database holding the demo config (no plan: the page loads quickly) and a key per
    role, served three ways: as it is, with keys off, and as a server older than
    GET /v1/keys/me."""

    current: LiveServer
    keys_off: LiveServer
    older: LiveServer
    keys: dict[Role, str]
    factory: Any


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    settings = keyed_settings(tmp_path_factory.mktemp("key-role"), "key-role.db")
    engine, factory = migrated(settings)
    body = demo_config.demo_planning_config(horizon_periods=2)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
        keys = {r: api_keys.create_key(session, f"role-{r.value}", r).secret for r in Role}
    with (
        LiveServer(create_app(settings)) as current,
        LiveServer(create_app(settings.model_copy(update={"auth": "off"}))) as keys_off,
        LiveServer(_older(create_app(settings))) as old,
    ):
        yield Served(current, keys_off, old, keys, factory)
    engine.dispose()


def _older(app: ASGIApp) -> ASGIApp:
    """The app as a server from before GET /v1/keys/me: that path is one it does not have,
    so it gets the app's own 404 problem."""

    async def older(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["path"] == "/v1/keys/me":
            scope = {**scope, "path": "/v1/keys/none", "raw_path": b"/v1/keys/none"}
        await app(scope, receive, send)

    return older


def _open(browser: Any, server: LiveServer, key: str | None) -> WebDriverWait[Any]:
    """The page loaded once with `key` in the tab (or none), its config read (the fee box
    holds the active rate) and its plan card saying there is no plan yet."""
    browser.get(server.url + "/")
    browser.execute_script("sessionStorage.clear()")
    if key is not None:
        browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
    browser.refresh()
    wait: WebDriverWait[Any] = WebDriverWait(browser, 30)
    wait.until(ec.presence_of_element_located((By.ID, "plan-none")))
    wait.until(lambda b: b.find_element(By.ID, "fee").get_attribute("value") != "")
    return wait


def _use_key(browser: Any, key: str) -> None:
    field = browser.find_element(By.ID, "api-key")
    field.clear()
    field.send_keys(key)
    browser.find_element(By.CSS_SELECTOR, "#key-form button").click()


def _enabled(browser: Any) -> dict[str, bool]:
    """Each what-if and sweep control: enabled or not (all of them still shown)."""
    controls = {css: browser.find_element(By.CSS_SELECTOR, css) for css in PLAN_CONTROLS}
    assert all(c.is_displayed() for c in controls.values())
    return {css: c.is_enabled() for css, c in controls.items()}


def _note(browser: Any) -> str | None:
    """The note under the what-if's heading; None while it is hidden."""
    note = browser.find_element(By.ID, "plan-role-note")
    return str(note.text) if note.is_displayed() else None


def _key_role(browser: Any) -> str:
    return str(browser.execute_script("return document.querySelector('#key-role').textContent"))


def test_a_viewer_key_sees_the_what_if_and_sweep_disabled_and_which_keys_may(
    browser: Any, served: Served
) -> None:
    wait = _open(browser, served.current, served.keys[Role.VIEWER])
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-role"), "viewer key"))
    assert _key_role(browser) == "viewer key 'role-viewer'"
    assert browser.find_element(By.ID, "key-status").text == "a key is in use for this tab"
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, False)
    note = _note(browser)
    assert note is not None
    assert "A viewer key ('role-viewer') may not plan what-ifs or fee sweeps" in note
    assert "they need a planner, finance or admin key" in note
    # the forms' own handlers send nothing either, even when a submit gets past the browser
    sent = browser.execute_script(
        "window.__sent = []; const f = window.fetch;"
        "window.fetch = (url, opts = {}) => {"
        "  window.__sent.push(String(url)); return f(url, opts); };"
        "for (const form of ['#fee-form', '#sweep-form']) {"
        "  document.querySelector(form).dispatchEvent(new Event('submit', {cancelable: true})); }"
        "return window.__sent;"
    )
    assert sent == []
    assert browser.find_element(By.ID, "whatif-result").text == ""


def test_each_key_change_reads_the_new_keys_role(browser: Any, served: Served) -> None:
    wait = _open(browser, served.current, served.keys[Role.FINANCE])
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-role"), "finance key"))
    assert _key_role(browser) == "finance key 'role-finance'"
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)
    assert _note(browser) is None
    _use_key(browser, served.keys[Role.VIEWER])
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-role"), "viewer key 'role-viewer'"))
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, False)
    assert "planner, finance or admin" in (_note(browser) or "")
    _use_key(browser, served.keys[Role.PLANNER])
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-role"), "planner key 'role-planner'"))
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)
    assert _note(browser) is None
    # a key that is refused says nothing of a role, and takes nothing away
    _use_key(browser, "hw_not-a-key")
    wait.until(ec.presence_of_element_located((By.ID, "plan-error")))
    assert _key_role(browser) == ""
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)


def test_with_keys_off_the_header_says_every_request_acts_as_admin(
    browser: Any, served: Served
) -> None:
    wait = _open(browser, served.keys_off, None)
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-role"), "keys are off"))
    assert _key_role(browser) == "API keys are off on this server: every request acts as admin"
    assert browser.find_element(By.ID, "key-status").text == "no key in use"
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)
    assert _note(browser) is None


def test_a_server_without_the_route_is_used_as_before_a_viewer_learning_from_the_refusal(
    browser: Any, served: Served
) -> None:
    wait = _open(browser, served.older, served.keys[Role.VIEWER])
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "whatif-result"), "has role viewer"))
    assert "planner, finance or admin" in browser.find_element(By.ID, "whatif-result").text
    # the page has had its 404 for GET /v1/keys/me: it names no role and keeps the forms
    wait.until(
        lambda b: b.execute_script(
            "return performance.getEntriesByType('resource')"
            ".some((e) => e.name.endsWith('/v1/keys/me') && e.responseEnd > 0)"
        )
    )
    assert _key_role(browser) == ""
    assert _note(browser) is None
    assert _enabled(browser) == dict.fromkeys(PLAN_CONTROLS, True)


def test_an_expired_key_is_said_to_have_expired_with_the_servers_reason(
    browser: Any, served: Served
) -> None:
    """An expired key was told "The server does not know this key, or it was revoked",
    hiding the server's reason: when it expired and how an admin renews it."""
    with transaction(served.factory) as session:
        key = api_keys.create_key(session, f"expired-{time.monotonic_ns()}", Role.VIEWER, 1)
        row = repository.api_key_by_name(session, key.name)
        assert row is not None
        row.expires_at = utcnow() - timedelta(hours=1)
    browser.get(served.current.url + "/")
    browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key.secret)
    browser.refresh()
    wait: WebDriverWait[Any] = WebDriverWait(browser, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-status"), "expired"))
    status = browser.find_element(By.ID, "key-status")
    assert status.text == "the key has expired"
    assert f"the API key '{key.name}' expired at" in str(status.get_attribute("title"))


def test_a_revoked_key_is_said_to_be_revoked_whatever_its_name(
    browser: Any, served: Served
) -> None:
    """Which refusal it is comes from the problem's `code`: the page matched "expired" in the
    reason, so a revoked key named 'expired-...' was said to have expired."""
    name = f"expired-reports-{time.monotonic_ns()}"
    with transaction(served.factory) as session:
        key = api_keys.create_key(session, name, Role.VIEWER)
        api_keys.revoke_key(session, name)
    browser.get(served.current.url + "/")
    browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key.secret)
    browser.refresh()
    wait: WebDriverWait[Any] = WebDriverWait(browser, 30)
    wait.until(ec.text_to_be_present_in_element((By.ID, "key-status"), "the key "))
    status = browser.find_element(By.ID, "key-status")
    assert status.text == "the key was revoked"
    assert f"the API key '{name}' has been revoked" in str(status.get_attribute("title"))
