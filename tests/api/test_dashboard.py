"""The web dashboard in real headless Chromium against the real server: plan, forecast, what-if."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer

webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[webdriver.Chrome]:
    if not (CHROMIUM and CHROMEDRIVER):
        if os.environ.get("HOMEWARD_REQUIRE_BROWSER") == "1":
            pytest.fail("HOMEWARD_REQUIRE_BROWSER=1 but chromium/chromedriver are not installed")
        pytest.skip(
            "chromium and chromedriver not installed (apt-get install chromium chromium-driver)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="homeward-chromium-")
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        f"--user-data-dir={profile}",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options
    )
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def test_dashboard_shows_the_plan_and_a_forecast(
    browser: webdriver.Chrome, demo_server: LiveServer
) -> None:
    browser.get(demo_server.url + "/")
    wait = WebDriverWait(browser, 30)
    status = wait.until(ec.presence_of_element_located((By.ID, "plan-status")))
    assert status.text == "optimal"
    rows = browser.find_elements(By.CSS_SELECTOR, "#hours-table tbody tr")
    assert {r.find_elements(By.TAG_NAME, "td")[0].text for r in rows} >= {"rugby", "warwick"}
    caption = wait.until(ec.presence_of_element_located((By.ID, "chart-caption")))
    assert "referrals/" in caption.text and "80% and 95%" in caption.text
    assert browser.find_elements(By.CSS_SELECTOR, "#chart svg polygon")


def test_fee_what_if_replans_from_the_page(
    browser: webdriver.Chrome, demo_server: LiveServer
) -> None:
    browser.get(demo_server.url + "/")
    wait = WebDriverWait(browser, 60)
    wait.until(ec.presence_of_element_located((By.ID, "plan-status")))
    fee = browser.find_element(By.ID, "fee")
    fee.clear()
    fee.send_keys("15")
    browser.find_element(By.CSS_SELECTOR, "#fee-form button").click()
    wait.until(ec.text_to_be_present_in_element((By.ID, "whatif-result"), "weighted waiting days"))
    assert "optimal" in browser.find_element(By.ID, "whatif-result").text
