"""An active config stored before today's entry checks (a care charge with no paying share) is
refused when the what-if card sends it back with a fee changed: the card says which of its
fields to correct and where, not a bare refusal no fee typed there can mend."""

from __future__ import annotations

import copy

import pytest

from homeward import planning, repository
from homeward.roles import Role
from tests.api.conftest import DemoDatabase, open_with_key
from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402


def test_a_what_if_of_an_older_active_config_names_the_field_to_correct(
    browser: webdriver.Chrome,
    demo_db: DemoDatabase,
    demo_server: LiveServer,
    role_keys: dict[Role, str],
) -> None:
    with demo_db.factory() as session:
        active = repository.active_config(session)
        assert active is not None
        body = copy.deepcopy(active.body)
    [index] = [i for i, s in enumerate(body["services"]) if s["id"] == "domcare"]
    body["services"][index].update(charge_gbp_per_hour=15, charge_paying_share=0)
    with demo_db.factory.begin() as session:  # stored as a release before the check stored it
        config_id = repository.save_config(session, body, planning.config_hash(body)).id
    wait = open_with_key(browser, demo_server, role_keys[Role.FINANCE])
    wait.until(ec.element_to_be_clickable((By.CSS_SELECTOR, "#fee-form button")))
    browser.find_element(By.ID, "fee").clear()
    browser.find_element(By.ID, "fee").send_keys("15")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "whatif-result"), "POST /v1/configs"))
    said = browser.find_element(By.ID, "whatif-result").text
    assert said.startswith(f"The active config (id {config_id}) does not meet the checks")
    assert f"correct services/{index}/charge_paying_share (expected a fraction above 0" in said
