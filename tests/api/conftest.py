"""API fixtures: a database holding a short demo history, one API key per role, and the app
served over real HTTP with keys required."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import sqlite3
import tempfile
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pandas as pd
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from api.app import create_app
from homeward import api_keys, demo_config, planning, repository
from homeward.demo_series import generate_demo_observations
from homeward.ingest import observations_hash
from homeward.pipeline import run_pipeline
from homeward.roles import Role
from homeward.settings import Settings
from homeward.storage import make_engine, session_factory, transaction, upgrade
from tests.conftest import LiveServer

HORIZON_WEEKS = 13


def _short_demo() -> pd.DataFrame:
    """The demo's referrals from 2022 on: enough for yearly seasonality, quick to backtest."""
    frame = generate_demo_observations()
    keep = frame["unique_id"].str.startswith("referrals/") & (frame["ds"] >= "2022-01-03")
    return frame[keep].reset_index(drop=True)


def serve_with_key(settings: Settings, key: str) -> Iterator[httpx.Client]:
    """The app on `settings` served over real HTTP, and a client holding `key`."""
    with LiveServer(create_app(settings)) as server:
        yield from keyed_client(server, key)


def keyed_settings(tmp: Path, name: str, **extra: Any) -> Settings:
    """Settings for a fresh SQLite file `name` in `tmp`: API keys required, no scheduler."""
    return Settings(
        data_dir=tmp,
        database_url=f"sqlite:///{tmp / name}",
        scheduler_enabled=False,
        auth="keys",
        **extra,
    )


def migrated(settings: Settings) -> tuple[Engine, sessionmaker[Session]]:
    """The settings' database migrated to head, and sessions on it."""
    engine = make_engine(settings.resolved_database_url)
    upgrade(engine)
    return engine, session_factory(engine)


def store_plan(tmp: Path, db: str, result: dict[str, Any]) -> int:
    """A plan of the demo's config (stored as the active one the first time) with `result`, in
    the keyed database `db` under `tmp`, made by a pipeline run that succeeded; its id."""
    engine, factory = migrated(keyed_settings(tmp, db))
    body = demo_config.demo_planning_config(horizon_periods=13)
    with transaction(factory) as session:
        config = repository.save_config(session, body, planning.config_hash(body))
        run = repository.start_run(session, "pipeline", "demo", "test")
        run.status = "succeeded"
        plan = repository.store_plan(session, run.id, config.id, "optimal", 1.0, 0.1, result)
    engine.dispose()
    return plan.id


def load_demo(settings: Settings) -> sessionmaker[Session]:
    """Migrate, store the short demo and its config, run the pipeline once."""
    _engine, factory = migrated(settings)
    frame = _short_demo()
    body = demo_config.demo_planning_config(horizon_periods=HORIZON_WEEKS)
    with transaction(factory) as session:
        repository.store_observations(
            session, frame, "short demo history (test)", observations_hash(frame)
        )
        repository.save_config(session, body, planning.config_hash(body))
    run_pipeline(factory, settings, trigger="demo")
    return factory


@dataclass(frozen=True)
class DemoDatabase:
    """The settings (keys required) and sessions of a database holding a solved demo plan."""

    settings: Settings
    factory: sessionmaker[Session]


def _demo_settings(tmp: Path) -> Settings:
    return keyed_settings(
        tmp,
        "api.db",
        forecast_horizon_weeks=HORIZON_WEEKS,
        forecast_backtest_folds=2,
        forecast_n_jobs=2,
    )


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The short demo, its config and one pipeline run, made once per test session (about 11 s
    of forecasting and planning); each module gets a copy of its own (`demo_db`)."""
    tmp = tmp_path_factory.mktemp("api-template")
    settings = _demo_settings(tmp)
    factory = load_demo(settings)
    factory.kw["bind"].dispose()  # every connection closed: the file is whole on disk
    return tmp / "api.db"


@pytest.fixture(scope="module")
def demo_db(tmp_path_factory: pytest.TempPathFactory, demo_template: Path) -> DemoDatabase:
    """A SQLite database holding the short demo, its config and one pipeline run: a copy of
    the session's template (SQLite's backup, so the copy is consistent), so a module's
    uploads, keys and runs stay its own."""
    tmp = tmp_path_factory.mktemp("api")
    with (
        closing(sqlite3.connect(demo_template)) as source,
        closing(sqlite3.connect(tmp / "api.db")) as copy,
    ):
        source.backup(copy)
    settings = _demo_settings(tmp)
    return DemoDatabase(settings, migrated(settings)[1])


@pytest.fixture(scope="module")
def role_keys(demo_db: DemoDatabase) -> dict[Role, str]:
    """One key per role, made the way `homeward keys create` makes them."""
    with transaction(demo_db.factory) as session:
        return {
            role: api_keys.create_key(session, f"test-{role.value}", role).secret for role in Role
        }


@pytest.fixture(scope="module")
def demo_server(demo_db: DemoDatabase) -> Iterator[LiveServer]:
    """A real HTTP server on loopback over the demo database, API keys required."""
    with LiveServer(create_app(demo_db.settings)) as server:
        yield server


def key_header(key: str) -> dict[str, str]:
    """How a client sends a key."""
    return {"Authorization": f"Bearer {key}"}


def keyed_client(server: LiveServer, key: str) -> Iterator[httpx.Client]:
    """An HTTP client on `server` that sends `key` with every request."""
    with httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as client:
        yield client


@pytest.fixture(scope="module")
def viewer(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    """A client holding a viewer key (what a dashboard gets)."""
    yield from keyed_client(demo_server, role_keys[Role.VIEWER])


@pytest.fixture(scope="module")
def planner(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    """A client holding a planner key."""
    yield from keyed_client(demo_server, role_keys[Role.PLANNER])


@pytest.fixture(scope="module")
def finance(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    """A client holding a finance key."""
    yield from keyed_client(demo_server, role_keys[Role.FINANCE])


@pytest.fixture(scope="module")
def admin(demo_server: LiveServer, role_keys: dict[Role, str]) -> Iterator[httpx.Client]:
    """A client holding an admin key."""
    yield from keyed_client(demo_server, role_keys[Role.ADMIN])


@dataclass(frozen=True)
class ConfigService:
    """An admin's client on a served database holding a config (and what a test adds)."""

    client: httpx.Client
    factory: sessionmaker[Session]

    def count(self, table: type[Any]) -> int:
        with self.factory() as session:
            return int(session.scalar(select(func.count()).select_from(table)) or 0)


def serve_config(
    url: str, tmp_path: Path, body: dict[str, Any], **extra: Any
) -> Iterator[ConfigService]:
    """A migrated database at `url` holding `body` as its active config and an admin key,
    served over real HTTP (no scheduler; `extra` settings added)."""
    settings = Settings(data_dir=tmp_path, database_url=url, scheduler_enabled=False, **extra)
    engine = make_engine(url)
    upgrade(engine)
    factory = session_factory(engine)
    with transaction(factory) as session:
        repository.save_config(session, body, planning.config_hash(body))
        key = api_keys.create_key(session, "admin", Role.ADMIN).secret
    with (
        LiveServer(create_app(settings)) as server,
        httpx.Client(base_url=server.url, headers=key_header(key), timeout=60) as client,
    ):
        yield ConfigService(client, factory)
    engine.dispose()


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Headless Chromium (selenium), one per test module; skipped where it is not installed
    unless HOMEWARD_REQUIRE_BROWSER=1 (CI), which fails instead."""
    webdriver = pytest.importorskip("selenium.webdriver")
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
    # the console's messages, for get_log("browser"): a Content-Security-Policy violation is one
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(
        service=webdriver.ChromeService(executable_path=CHROMEDRIVER), options=options
    )
    yield driver
    driver.quit()
    shutil.rmtree(profile, ignore_errors=True)


def open_with_key(
    browser: Any, server: LiveServer, key: str, status: str = "optimal", timeout_s: float = 30
) -> Any:
    """The dashboard loaded once with `key` already in the tab, and a WebDriverWait for its
    plan of `status`, once its forecast card has drawn its series list and first chart (the
    plan loads first; a test reading the picker, or drawing a chart of its own, as soon as the
    plan was shown met the page still drawing them, more often once plans were cached)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ec
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(server.url + "/")
    browser.execute_script("sessionStorage.setItem('homeward-api-key', arguments[0])", key)
    browser.refresh()
    wait = WebDriverWait(browser, timeout_s)
    wait.until(ec.text_to_be_present_in_element((By.ID, "plan-status"), status))
    wait.until(lambda b: b.find_element(By.ID, "chart").get_attribute("aria-busy") == "false")
    return wait


# A page's clock set to start from an instant: `new Date()` and `Date.now()` count on from it,
# while `new Date(x)`, `Date.parse` and `Date.UTC` are as ever.
_CLOCK = """(() => {
  const Real = Date, shift = %d - Real.now(), now = () => Real.now() + shift;
  globalThis.Date = new Proxy(Real, {
    construct: (real, args, made) => Reflect.construct(real, args.length ? args : [now()], made),
    apply: () => new Real(now()).toString(),
    get: (real, key, receiver) => (key === "now" ? now : Reflect.get(real, key, receiver)),
  });
})();"""


@contextmanager
def browser_clock(browser: Any, instant: dt.datetime) -> Iterator[None]:
    """Pages loaded in `browser` within the block take `instant` for now (and count on from
    it): the dashboard's marks of today, on a plan of the tests' demo, whose weeks are over
    whatever day the suite runs (HOMEWARD_DEMO_LAST_YEAR)."""
    script = browser.execute_cdp_cmd(
        "Page.addScriptToEvaluateOnNewDocument",
        {"source": _CLOCK % round(instant.timestamp() * 1000)},
    )
    try:
        yield
    finally:
        browser.execute_cdp_cmd(
            "Page.removeScriptToEvaluateOnNewDocument", {"identifier": script["identifier"]}
        )
