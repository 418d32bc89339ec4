"""A write is committed before its response is sent, so a 201 means the data is stored."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import event
from sqlalchemy.orm import Session

from api.app import create_app
from homeward import api_keys, demo_config
from homeward.roles import Role
from homeward.storage import transaction
from tests.api.conftest import keyed_settings, migrated
from tests.conftest import LiveServer


@pytest.fixture
def events() -> Any:
    seen: list[str] = []

    def committed(_session: Session) -> None:
        seen.append("commit")

    event.listen(Session, "after_commit", committed)
    yield seen
    event.remove(Session, "after_commit", committed)


def test_a_stored_config_is_committed_before_the_201_is_sent(
    tmp_path: Path, events: list[str]
) -> None:
    settings = keyed_settings(tmp_path, "order.db")
    _engine, factory = migrated(settings)
    with transaction(factory) as session:
        key = api_keys.create_key(session, "admin", Role.ADMIN).secret
    app = create_app(settings)

    async def recorded(scope: Any, receive: Any, send: Any) -> None:
        async def send_and_note(message: Any) -> None:
            if message["type"] == "http.response.start":
                events.append("response")
            await send(message)

        await app(scope, receive, send_and_note)

    body = demo_config.demo_planning_config(horizon_periods=4)
    with LiveServer(recorded) as server:
        events.clear()
        response = httpx.post(
            f"{server.url}/v1/configs", json=body, headers={"Authorization": f"Bearer {key}"}
        )
    assert response.status_code == 201, response.text
    assert "commit" in events and "response" in events
    assert events.index("commit") < events.index("response"), events
