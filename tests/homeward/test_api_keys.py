"""API keys as `homeward keys` makes and revokes them: a taken name says why it is taken, and
times are said in UTC whatever the database's time zone."""

from __future__ import annotations

from datetime import UTC, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import session_factory, transaction, upgrade


def test_a_revoked_keys_name_is_refused_saying_it_was_revoked(
    factory: sessionmaker[Session],
) -> None:
    """An operator rotating 'bi-tool' revokes it and asks for a new 'bi-tool': the refusal
    says the name belongs to the revoked key, not that a live key has it."""
    with transaction(factory) as session:
        api_keys.create_key(session, "bi-tool", Role.VIEWER)
        api_keys.create_key(session, "dashboard", Role.VIEWER)
        api_keys.revoke_key(session, "bi-tool")
    with pytest.raises(api_keys.KeyNameTaken) as revoked, transaction(factory) as session:
        api_keys.create_key(session, "bi-tool", Role.VIEWER)
    assert "'bi-tool' exists already (revoked at " in str(revoked.value)
    assert "a name is never reused" in str(revoked.value)
    with pytest.raises(api_keys.KeyNameTaken) as live, transaction(factory) as session:
        api_keys.create_key(session, "dashboard", Role.VIEWER)
    assert str(live.value) == "a key named 'dashboard' exists already; choose another name"


def test_revocation_times_are_said_in_utc_whatever_postgresqls_time_zone(
    fresh_postgres_url: str,
) -> None:
    """A server whose TimeZone is not UTC (here +05:30, never UTC in any season) hands
    times back in that zone; the messages say UTC, so they must be UTC."""
    engine = create_engine(fresh_postgres_url, connect_args={"options": "-c timezone=Asia/Kolkata"})
    upgrade(engine)
    factory = session_factory(engine)
    try:
        with transaction(factory) as session:
            api_keys.create_key(session, "bi-tool", Role.VIEWER)
            api_keys.revoke_key(session, "bi-tool")
        with factory() as session:
            revoked_at = repository.api_key_by_name(session, "bi-tool").revoked_at  # type: ignore[union-attr]
        assert revoked_at is not None and revoked_at.utcoffset() == timedelta(hours=5, minutes=30)
        utc = f"{revoked_at.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
        with pytest.raises(api_keys.KeyAlreadyRevoked) as again, transaction(factory) as session:
            api_keys.revoke_key(session, "bi-tool")
        assert f"revoked already, at {utc}" in str(again.value)
        with pytest.raises(api_keys.KeyNameTaken) as taken, transaction(factory) as session:
            api_keys.create_key(session, "bi-tool", Role.VIEWER)
        assert f"(revoked at {utc};" in str(taken.value)
    finally:
        engine.dispose()
