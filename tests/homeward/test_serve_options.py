"""How `homeward serve` starts uvicorn: behind a reverse proxy, a request's client and scheme
are the ones the proxies HOMEWARD_FORWARDED_ALLOW_IPS names forward, and the server's own lines
are logged at the level the log is set to."""

from __future__ import annotations

import argparse
import logging
from typing import Any

import pytest
import uvicorn

from homeward import commands
from homeward.settings import Settings


def _uvicorn_options(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> dict[str, Any]:
    """The keyword arguments `_serve` gives uvicorn.run (no server is started)."""
    options: dict[str, Any] = {}
    monkeypatch.setattr(commands.uvicorn, "run", lambda _app, **kw: options.update(kw))
    args = argparse.Namespace(host=None, port=None, no_scheduler=True)
    assert commands._serve(settings, args) == 0
    return options


def test_the_trusted_proxies_reach_uvicorn(
    monkeypatch: pytest.MonkeyPatch, sqlite_settings: Settings
) -> None:
    settings = sqlite_settings.model_copy(update={"forwarded_allow_ips": ("10.0.2.15", "::1")})
    options = _uvicorn_options(monkeypatch, settings)
    assert options["proxy_headers"] is True
    assert options["forwarded_allow_ips"] == ["10.0.2.15", "::1"]


def test_unset_the_proxies_are_uvicorns_default(
    monkeypatch: pytest.MonkeyPatch, sqlite_settings: Settings
) -> None:
    """None: uvicorn reads FORWARDED_ALLOW_IPS, else trusts 127.0.0.1 and ::1, as before."""
    monkeypatch.setattr(logging.getLogger(), "level", logging.WARNING)
    options = _uvicorn_options(monkeypatch, sqlite_settings)
    assert options["forwarded_allow_ips"] is None
    assert options["log_level"] == logging.WARNING  # -q or HOMEWARD_LOG_LEVEL=WARNING


def test_the_keep_alive_reaches_uvicorns_config(
    monkeypatch: pytest.MonkeyPatch, sqlite_settings: Settings
) -> None:
    """HOMEWARD_KEEPALIVE_S is how long uvicorn keeps an idle connection: a proxy pooling its
    connections must never find one closed as it sends on it (uvicorn's own 5 s did that)."""
    settings = sqlite_settings.model_copy(update={"keepalive_s": 120})
    options = _uvicorn_options(monkeypatch, settings)
    assert options["timeout_keep_alive"] == 120
    assert uvicorn.Config(object(), **options).timeout_keep_alive == 120
    default = _uvicorn_options(monkeypatch, sqlite_settings)["timeout_keep_alive"]
    assert default == Settings.model_fields["keepalive_s"].default == 75
    assert default > uvicorn.Config(object()).timeout_keep_alive  # uvicorn's own, 5 s
