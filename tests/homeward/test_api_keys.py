"""API keys as `homeward keys` makes and revokes them: a taken name says why it is taken."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys
from homeward.roles import Role
from homeward.storage import transaction


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
