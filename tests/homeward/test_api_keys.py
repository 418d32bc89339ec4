"""API keys as `homeward keys` makes, rotates and revokes them: a taken name says why it is
taken, a rotation replaces a key by name in one transaction, and times are said in UTC whatever
the database's time zone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, timedelta

import pytest
from sqlalchemy import create_engine
from sqlalchemy.orm import Session, sessionmaker

from homeward import api_keys, repository
from homeward.roles import Role
from homeward.storage import session_factory, transaction, upgrade
from models import ApiKeyRow


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
    assert "`keys create` takes no name a key has had" in str(revoked.value)
    with pytest.raises(api_keys.KeyNameTaken) as live, transaction(factory) as session:
        api_keys.create_key(session, "dashboard", Role.VIEWER)
    assert str(live.value) == "a key named 'dashboard' exists already; choose another name"


def test_a_rotated_then_revoked_name_is_refused_without_saying_names_are_never_reused(
    factory: sessionmaker[Session],
) -> None:
    """`keys rotate` reuses a name, so "a name is never reused, so a revoked key's name keeps
    meaning that key" was false for 'bi', rotated and then revoked: the refusal says what
    `keys create` takes and what gives a name a new key."""
    with transaction(factory) as session:
        api_keys.create_key(session, "bi", Role.VIEWER)
    with transaction(factory) as session:
        api_keys.rotate_key(session, "bi")
        api_keys.revoke_key(session, "bi")
    with pytest.raises(api_keys.KeyNameTaken) as taken, transaction(factory) as session:
        api_keys.create_key(session, "bi", Role.VIEWER)
    said = str(taken.value)
    assert said.startswith("a key named 'bi' exists already (revoked at ")
    assert said.endswith(
        " UTC; `keys create` takes no name a key has had, so a name's keys are one client's; "
        "`keys rotate` gives a name a new key, but only while its key is active); choose "
        "another name"
    )
    assert "never reused" not in said


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


def test_rotating_a_key_revokes_the_old_and_keeps_the_name_and_role(
    either_factory: sessionmaker[Session],
) -> None:
    """A leaked 'bi-tool' key is rotated: the new key is 'bi-tool', a viewer, and the old one
    gets 401 as a revoked key; both rows stay listed, and `revoke` then revokes the new one."""
    with transaction(either_factory) as session:
        old = api_keys.create_key(session, "bi-tool", Role.VIEWER)
    with transaction(either_factory) as session:
        new = api_keys.rotate_key(session, "bi-tool")
    assert (new.name, new.role) == ("bi-tool", Role.VIEWER) and new.secret != old.secret
    with either_factory() as session:
        assert api_keys.authenticate(session, new.secret) == api_keys.Caller("bi-tool", Role.VIEWER)
        with pytest.raises(api_keys.NotAuthenticated) as refused:
            api_keys.authenticate(session, old.secret)
        assert refused.value.reason == "revoked_key"
        # the name still works: the old key is said to be replaced, not the name revoked
        assert "'bi-tool' sent was replaced at " in str(refused.value)
        assert "(`homeward keys rotate`): send the new key given then" in str(refused.value)
        rows = [(r.name, r.revoked_at is None) for r in repository.list_api_keys(session)]
        assert rows == [("bi-tool", False), ("bi-tool", True)]
    with transaction(either_factory) as session:
        api_keys.revoke_key(session, "bi-tool")
    with either_factory() as session, pytest.raises(api_keys.NotAuthenticated) as refused:
        api_keys.authenticate(session, new.secret)
    assert str(refused.value) == "the API key 'bi-tool' has been revoked"
    with either_factory() as session, pytest.raises(api_keys.NotAuthenticated) as refused:
        api_keys.authenticate(session, old.secret)  # nothing replaces it now
    assert str(refused.value) == "the API key 'bi-tool' has been revoked"


def test_keys_made_rotated_and_revoked_are_in_the_audit_trail_without_their_secrets(
    either_factory: sessionmaker[Session],
) -> None:
    """An information-governance officer asks who could get in when: each key made, rotated
    and revoked is an audit entry by `(cli)`, naming the key, its role and expiry, never its
    secret; a refused command (a name taken) leaves none."""
    with transaction(either_factory) as session:
        made = api_keys.create_key(session, "bi-tool", Role.VIEWER, expires_in_days=30)
    with transaction(either_factory) as session:
        rotated = api_keys.rotate_key(session, "bi-tool", no_expiry=True)
    with transaction(either_factory) as session:
        api_keys.revoke_key(session, "bi-tool")
    with pytest.raises(api_keys.KeyNameTaken), transaction(either_factory) as session:
        api_keys.create_key(session, "bi-tool", Role.ADMIN)
    with either_factory() as session:
        entries = list(reversed(repository.list_audit(session, limit=10)))
    assert [(e.actor, e.action) for e in entries] == [
        ("(cli)", "create_key"),
        ("(cli)", "rotate_key"),
        ("(cli)", "revoke_key"),
    ]
    assert made.expires_at is not None
    # written as every other moment the API sends, `Z` for UTC (it was `+00:00`)
    expires = made.expires_at.astimezone(UTC).isoformat().removesuffix("+00:00") + "Z"
    assert entries[0].detail == {"name": "bi-tool", "role": "viewer", "expires_at": expires}
    assert entries[1].detail == {"name": "bi-tool", "role": "viewer", "expires_at": None}
    assert entries[2].detail == {"name": "bi-tool", "role": "viewer"}
    said = repr([e.detail for e in entries])
    assert made.secret not in said and rotated.secret not in said


def test_a_rotation_whose_transaction_fails_leaves_the_old_key_working(
    factory: sessionmaker[Session],
) -> None:
    """The new key and the old key's revocation are one transaction: neither without the
    other, so a failed rotation never leaves a name with no working key."""
    with transaction(factory) as session:
        old = api_keys.create_key(session, "bi-tool", Role.PLANNER)
    with pytest.raises(RuntimeError), transaction(factory) as session:
        api_keys.rotate_key(session, "bi-tool")
        raise RuntimeError("the commit never happens")
    with factory() as session:
        assert api_keys.authenticate(session, old.secret) == api_keys.Caller(
            "bi-tool", Role.PLANNER
        )
        assert len(repository.list_api_keys(session)) == 1


def test_only_an_active_key_is_rotated(factory: sessionmaker[Session]) -> None:
    with pytest.raises(api_keys.UnknownKeyName) as unknown, transaction(factory) as session:
        api_keys.rotate_key(session, "nobody")
    assert (
        str(unknown.value) == "no key named 'nobody' to rotate; `homeward keys list` lists the keys"
    )
    with transaction(factory) as session:
        api_keys.create_key(session, "bi-tool", Role.VIEWER)
        api_keys.revoke_key(session, "bi-tool")
    with pytest.raises(api_keys.KeyAlreadyRevoked) as revoked, transaction(factory) as session:
        api_keys.rotate_key(session, "bi-tool")
    assert "key 'bi-tool' was revoked at " in str(revoked.value)
    assert "no active key to rotate" in str(revoked.value)
    with factory() as session:
        assert len(repository.list_api_keys(session)) == 1


def _meanwhile(
    monkeypatch: pytest.MonkeyPatch,
    factory: sessionmaker[Session],
    competitor: Callable[[Session], object],
) -> None:
    """Run `competitor` in a transaction of its own, committed, just after the command under
    test has looked its key's name up: two commands run at once, interleaved the same way
    every time."""
    looked_up = repository.api_key_by_name
    pending = [competitor]

    def then_the_competitor(session: Session, name: str) -> ApiKeyRow | None:
        row = looked_up(session, name)
        while pending:
            with transaction(factory) as other:
                pending.pop()(other)
        return row

    monkeypatch.setattr(repository, "api_key_by_name", then_the_competitor)


def test_a_rotation_raced_by_another_says_so_and_changes_nothing(
    either_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `homeward keys rotate race` at once both find the active key; the second's new key
    broke the index making a name unique among active keys, and it exited with "database
    error (check DATABASE_URL): (psycopg.errors.UniqueViolation) ...". It is told the key was
    rotated by someone else, and the first rotation's key is the one that works."""
    with transaction(either_factory) as session:
        old = api_keys.create_key(session, "race", Role.PLANNER)
    won: list[api_keys.NewKey] = []
    _meanwhile(monkeypatch, either_factory, lambda s: won.append(api_keys.rotate_key(s, "race")))
    with pytest.raises(api_keys.KeyChangedMeanwhile) as lost, transaction(either_factory) as s:
        api_keys.rotate_key(s, "race")
    assert str(lost.value) == (
        "key 'race' was rotated by someone else at the same time, so this command changed "
        "nothing; `homeward keys list` shows its keys now: try again if it still needs doing"
    )
    monkeypatch.undo()
    with either_factory() as session:
        assert api_keys.authenticate(session, won[0].secret).name == "race"
        with pytest.raises(api_keys.NotAuthenticated):
            api_keys.authenticate(session, old.secret)
        assert len(repository.list_api_keys(session)) == 2


def test_a_creation_raced_by_another_of_the_same_name_says_so(
    either_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two `homeward keys create --name bi` at once both find the name free; the second is
    told the key was created by someone else rather than shown a database error."""
    _meanwhile(monkeypatch, either_factory, lambda s: api_keys.create_key(s, "bi", Role.VIEWER))
    with pytest.raises(api_keys.KeyChangedMeanwhile) as lost, transaction(either_factory) as s:
        api_keys.create_key(s, "bi", Role.ADMIN)
    assert str(lost.value).startswith("key 'bi' was created by someone else at the same time")
    monkeypatch.undo()
    with either_factory() as session:
        [row] = repository.list_api_keys(session)
        assert (row.name, row.role) == ("bi", "viewer")


def test_anything_that_looks_like_a_key_is_masked_and_nothing_else(
    factory: sessionmaker[Session],
) -> None:
    with transaction(factory) as session:
        key = api_keys.create_key(session, "bi-tool", Role.VIEWER).secret
    assert len(key) == 46 and api_keys.mask_keys(key) == "hw_****"
    two = f"GET /x?api_key={key}&next={key[:-3]} HTTP/1.1"
    assert api_keys.mask_keys(two) == "GET /x?api_key=hw_****&next=hw_**** HTTP/1.1"
    # a key cut to 32 characters is still most of one; what is not a key is kept
    assert api_keys.mask_keys(key[:35]) == "hw_****"
    for kept in ("hw_short", key[:34], "referrals/hw_adaptations", "hw-" + key[3:]):
        assert api_keys.mask_keys(kept) == kept
