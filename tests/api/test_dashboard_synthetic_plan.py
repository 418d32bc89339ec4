"""A plan of the synthetic demo's config says so in the summary, with its config's name, so
its invented figures are not read as a council's own; a council's own config gets no note."""

from __future__ import annotations

from typing import Any

import pytest

from homeward import demo_config
from homeward.roles import Role
from tests.api.conftest import DemoDatabase, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402


def test_the_synthetic_demos_plan_is_labelled_with_its_config_name(
    browser: Any, demo_server: LiveServer, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    name = demo_config.DEMO_CONFIG_NAME
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-config-name"), name))
    note = browser.find_element(By.ID, "plan-synthetic")
    assert note.is_displayed() and note.text.startswith("Synthetic demo: this plan is of")
    assert "--replace" in note.text


def test_a_councils_own_config_has_no_synthetic_note(
    browser: Any, demo_server: LiveServer, demo_db: DemoDatabase, role_keys: dict[Role, str]
) -> None:
    wait = open_with_key(browser, demo_server, role_keys[Role.VIEWER], timeout_s=90)
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-config-name"), "version"))
    # the plan's config as GET /v1/configs/{id} gives it (the page reads it once per load)
    renamed = browser.execute_script(
        "document.querySelector('#plan-synthetic').hidden = true;"
        "nameConfig({name: 'Warwickshire adult social care', version: '1'});"
        "return [document.querySelector('#plan-config-name').textContent,"
        " document.querySelector('#plan-synthetic').hidden];"
    )
    assert renamed == [' "Warwickshire adult social care" version 1', True]
