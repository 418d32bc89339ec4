"""`homeward keys` with expiry and last use: `create --expires-in DAYS` (validated where it is
typed), `rotate` keeping or changing the expiry, and `list` showing both, expired keys marked."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from homeward import api_keys, repository
from homeward.cli import main
from homeward.clock import utcnow
from homeward.recovery import as_utc
from homeward.storage import make_engine, session_factory


def _stored(url: str, name: str) -> tuple[Any, Any]:
    """The name's newest key's (expires_at, last_used_at), in UTC."""
    with session_factory(make_engine(url))() as session:
        row = repository.api_key_by_name(session, name)
    assert row is not None
    return tuple(None if m is None else as_utc(m) for m in (row.expires_at, row.last_used_at))


@pytest.mark.parametrize(
    ("days", "said"),
    [
        (
            "0",
            "from 1 to 3650 (ten years; leave --expires-in out for a key that never expires), "
            "found 0",
        ),
        (
            "-5",
            "from 1 to 3650 (ten years; leave --expires-in out for a key that never expires), "
            "found -5",
        ),
        (
            "3651",
            "from 1 to 3650 (ten years; leave --expires-in out for a key that never "
            "expires), found 3651",
        ),
        ("90d", "expected a whole number of days, found '90d'"),
        ("1.5", "expected a whole number of days, found '1.5'"),
    ],
)
def test_expires_in_is_refused_unless_whole_days_up_to_ten_years(
    db_env: str, capsys: pytest.CaptureFixture[str], days: str, said: str
) -> None:
    with pytest.raises(SystemExit) as refused:
        main(["keys", "create", "--name", "contractor", "--role", "viewer", "--expires-in", days])
    assert refused.value.code == 2
    err = capsys.readouterr().err
    assert "argument --expires-in: " in err and said in err
    assert main(["keys", "list"]) == 0  # nothing was stored
    assert capsys.readouterr().out.startswith("no API keys yet")


def test_create_with_an_expiry_says_when_and_list_shows_it_and_the_last_use(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    before = utcnow()
    assert main(["keys", "create", "--name", "contractor", "--role", "viewer",
                 "--expires-in", "90"]) == 0  # fmt: skip
    secret, err = capsys.readouterr()
    expires, used = _stored(db_env, "contractor")
    assert isinstance(expires, datetime) and used is None
    assert before + timedelta(days=90) <= as_utc(expires) <= utcnow() + timedelta(days=90)
    when = api_keys.utc_minute(expires)
    assert f"created API key 'contractor' with role viewer, expiring at {when}." in err
    assert main(["keys", "create", "--name", "staff", "--role", "admin"]) == 0
    assert "with role admin, never expiring." in capsys.readouterr().err

    with session_factory(make_engine(db_env))() as session:  # a request with it, as served
        caller = api_keys.authenticate(session, secret.strip())
    api_keys.record_use(session_factory(make_engine(db_env)), caller, utcnow())
    _, used = _stored(db_env, "contractor")
    assert main(["keys", "list"]) == 0
    header, contractor, staff = capsys.readouterr().out.splitlines()
    assert header.split() == ["name", "role", "created", "(UTC)", "last", "used", "(UTC)",
                              "expires", "(UTC)", "revoked", "(UTC)"]  # fmt: skip
    cells = contractor.split()  # name, role, then each moment as a date and a time
    assert cells[4:6] == api_keys.utc_minute(used).split()[:2]
    assert cells[6:] == [*when.split()[:2], "-"]  # not expired, not revoked
    assert staff.split()[4:] == ["never", "never", "-"]


def test_list_marks_an_expired_key(db_env: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["keys", "create", "--name", "contractor", "--role", "viewer",
                 "--expires-in", "30"]) == 0  # fmt: skip
    with make_engine(db_env).begin() as c:
        c.execute(text("UPDATE api_keys SET expires_at = '2026-01-02 03:04:00'"))
    capsys.readouterr()
    assert main(["keys", "list"]) == 0
    row = capsys.readouterr().out.splitlines()[1]
    assert row.split()[4:] == ["never", "2026-01-02", "03:04", "(expired)", "-"]


def test_rotate_keeps_the_expiry_or_sets_a_new_term_or_none(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "contractor", "--role", "viewer",
                 "--expires-in", "90"]) == 0  # fmt: skip
    contract_ends, _ = _stored(db_env, "contractor")
    assert main(["keys", "rotate", "contractor"]) == 0
    assert _stored(db_env, "contractor")[0] == contract_ends
    assert f"expiring at {api_keys.utc_minute(contract_ends)}" in capsys.readouterr().err
    assert main(["keys", "rotate", "contractor", "--expires-in", "7"]) == 0
    renewed, _ = _stored(db_env, "contractor")
    assert as_utc(renewed) <= utcnow() + timedelta(days=7)
    assert main(["keys", "rotate", "contractor", "--no-expiry"]) == 0
    assert _stored(db_env, "contractor")[0] is None
    assert "never expiring (its old key is revoked)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as both:
        main(["keys", "rotate", "contractor", "--no-expiry", "--expires-in", "7"])
    assert both.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    with pytest.raises(SystemExit) as zero:
        main(["keys", "rotate", "contractor", "--expires-in", "0"])
    assert zero.value.code == 2


def test_rotating_an_expired_key_without_a_new_term_is_refused_in_words(
    db_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["keys", "create", "--name", "contractor", "--role", "viewer",
                 "--expires-in", "30"]) == 0  # fmt: skip
    with make_engine(db_env).begin() as c:
        c.execute(text("UPDATE api_keys SET expires_at = '2026-01-02 03:04:00'"))
    capsys.readouterr()
    assert main(["keys", "rotate", "contractor"]) == 2
    out, err = capsys.readouterr()
    assert out == "" and "key 'contractor' expired at 2026-01-02 03:04 UTC" in err
    assert "`--expires-in DAYS`" in err
    assert main(["-q", "keys", "rotate", "contractor", "--expires-in", "30"]) == 0
    assert capsys.readouterr().out.startswith("hw_")
