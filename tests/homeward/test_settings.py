"""Settings from the environment: bad values refused at start-up naming the variable, what was
expected and what was found, never a password; crontab days counted as cron counts them."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from homeward.cli import JsonFormatter, main
from homeward.clock import code_version, utcnow
from homeward.demo_series import demo_last_year
from homeward.recovery import missed_firing
from homeward.scheduler import JOB_ID, start_scheduler
from homeward.settings import Settings, crontab_trigger, get_settings, masked_url
from homeward.storage import transaction
from models import RunRow

SUNDAY_NOON = datetime(2026, 11, 22, 12, tzinfo=UTC)
SECRET = "s3cret-Pa55"


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A clean environment for Settings(): no database or schedule from the caller's shell."""
    schedule = ("HOMEWARD_SCHEDULE_CRON", "HOMEWARD_SCHEDULE_TIMEZONE")
    for name in ("DATABASE_URL", "HOMEWARD_DATABASE_URL", *schedule):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOMEWARD_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield monkeypatch
    get_settings.cache_clear()


def _refused(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> str:
    """The error Settings() raises for `name=value`, as one string."""
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError) as refused:
        Settings()
    return str(refused.value)


def _weekdays(expression: str) -> set[str]:
    """The days of the week the crontab fires on in the week after SUNDAY_NOON."""
    trigger, moment, days = crontab_trigger(expression, "UTC"), SUNDAY_NOON, set()
    for _ in range(7):
        moment = trigger.get_next_fire_time(None, moment)
        days.add(moment.strftime("%a").lower())
        moment = moment.replace(hour=23, minute=59)
    return days


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("0 6 * * 1", {"mon"}),  # APScheduler's own from_crontab: Tuesday
        ("0 6 * * 0", {"sun"}),
        ("0 6 * * 7", {"sun"}),
        ("0 6 * * 1-5", {"mon", "tue", "wed", "thu", "fri"}),
        ("0 6 * * */2", {"sun", "tue", "thu", "sat"}),
        ("0 6 * * 5-7", {"fri", "sat", "sun"}),
        ("0 6 * * mon", {"mon"}),
        ("0 6 * * mon-fri/2", {"mon", "wed", "fri"}),
        ("0 6 * * 1,wed", {"mon", "wed"}),
    ],
)
def test_crontab_weekday_numbers_mean_what_they_mean_to_cron(
    expression: str, days: set[str]
) -> None:
    assert _weekdays(expression) == days


def test_the_scheduler_runs_a_numbered_monday_cron_on_mondays(
    factory: sessionmaker[Session], sqlite_settings: Settings
) -> None:
    """'0 6 * * 1' is Monday 06:00 to cron, and to an operator who copies it from a crontab."""
    settings = sqlite_settings.model_copy(update={"schedule_cron": "0 6 * * 1"})
    scheduler = start_scheduler(factory, settings, paused=True)
    try:
        next_run = scheduler.get_job(JOB_ID).next_run_time
    finally:
        scheduler.shutdown(wait=False)
    assert (next_run.strftime("%a"), next_run.hour) == ("Mon", 6)


def test_a_missed_numbered_monday_is_a_monday(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as session:  # the last pipeline run, eight days ago
        session.add(
            RunRow(
                kind="pipeline",
                trigger="scheduler",
                status="succeeded",
                started_at=utcnow() - timedelta(days=8),
                code_version=code_version(),
            )
        )
    missed = missed_firing(factory, "0 6 * * 1", "UTC")
    assert missed is not None and missed.strftime("%a") == "Mon"


@pytest.mark.parametrize(
    ("cron", "why"),
    [
        ("0 6 31 2 *", "never fires"),
        ("0 6 1 * mon", "not both"),
        ("0 6 * * 8", "found '8'"),
        ("0 6 * * 5-1", "from low to high"),
        ("0 6 * * */0", "step of 1 or more"),
        ("0 6 * *", "found 4"),
    ],
)
def test_a_crontab_that_would_not_run_as_written_is_refused(
    env: pytest.MonkeyPatch, cron: str, why: str
) -> None:
    message = _refused(env, "HOMEWARD_SCHEDULE_CRON", cron)
    assert "schedule_cron" in message and f"found {cron!r}" in message and why in message


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        ("Europe/Londn", " (did you mean 'Europe/London'?)"),
        ("europe/london", " (did you mean 'Europe/London'?)"),  # zone names are case-sensitive
        ("Mars/Olympus_Mons", ""),
        ("", ""),
    ],
)
def test_an_unknown_schedule_timezone_is_refused_naming_the_nearest(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], zone: str, hint: str
) -> None:
    """A typo in the zone must stop start-up: falling back to UTC would move every run."""
    env.setenv("HOMEWARD_SCHEDULE_TIMEZONE", zone)
    line = _cli_error(capsys)
    assert line.endswith(
        "HOMEWARD_SCHEDULE_TIMEZONE: expected an IANA time zone such as 'Europe/London' or "
        f"'UTC', found {zone!r}{hint}"
    )


@pytest.mark.parametrize(
    ("zone", "hint"),
    [
        ("BST", "BST is the UK's summer time, not a zone; write 'Europe/London' for UK time"),
        ("bst", "BST is the UK's summer time, not a zone; write 'Europe/London' for UK time"),
        ("GMT", "GMT never changes to BST; write 'Europe/London' for UK time, or 'UTC' for no"),
        ("gmt", "GMT never changes to BST; write 'Europe/London' for UK time, or 'UTC' for no"),
        ("UK", "write 'Europe/London' for UK time"),
        ("uk", "write 'Europe/London' for UK time"),
        # zoneinfo's other names for GMT: real zones, and never BST either
        ("Etc/GMT", "GMT never changes to BST; write 'Europe/London' for UK time"),
        ("Greenwich", "GMT never changes to BST; write 'Europe/London' for UK time"),
        ("GMT0", "GMT never changes to BST; write 'Europe/London' for UK time"),
    ],
)
def test_a_british_clock_name_that_is_not_the_uk_clock_is_refused(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], zone: str, hint: str
) -> None:
    """'BST' was refused as "did you mean 'MST'?" (US Mountain time), and 'GMT' accepted
    though it never changes to BST, so a council's runs went an hour off all summer."""
    env.setenv("HOMEWARD_SCHEDULE_TIMEZONE", zone)
    line = _cli_error(capsys)
    assert (
        "HOMEWARD_SCHEDULE_TIMEZONE: expected an IANA time zone such as 'Europe/London' or "
        f"'UTC', found {zone!r} (" in line
    )
    assert hint in line and "MST" not in line


@pytest.mark.parametrize("zone", ["UTC", "Etc/UTC", "Europe/London", "GB"])
def test_utc_and_the_uk_clock_are_accepted(env: pytest.MonkeyPatch, zone: str) -> None:
    env.setenv("HOMEWARD_SCHEDULE_TIMEZONE", zone)
    assert Settings().schedule_timezone == zone


def test_the_schedule_timezone_is_utc_unless_set(env: pytest.MonkeyPatch) -> None:
    """UTC by default, so a deployment's runs do not move an hour when it upgrades."""
    assert Settings().schedule_timezone == "UTC"
    env.setenv("HOMEWARD_SCHEDULE_TIMEZONE", "Europe/London")
    assert Settings().schedule_timezone == "Europe/London"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("nonsense", "Could not parse"),
        (f"mysql://council:{SECRET}@db.example.org/homeward", "driver is not installed"),
        (f"postgresql+psycopg://council:{SECRET}@db:54x2/homeward", "invalid literal"),
        # libpq and psycopg take a password in the query too
        (f"postgresql+psycopg://council@db:54x2/homeward?password={SECRET}", "invalid literal"),
        (f"postgresql+psycopg://council@db:54x2/hw?sslmode=require&sslpassword={SECRET}", "int"),
    ],
)
def test_an_unusable_database_url_is_refused_at_start_without_its_password(
    env: pytest.MonkeyPatch, url: str, why: str
) -> None:
    message = _refused(env, "DATABASE_URL", url)
    assert "DATABASE_URL" in message and "expected a SQLAlchemy URL such as" in message
    assert why in message and SECRET not in message
    assert "found '" in message


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql+psycopg://homeward:p@ss:w0rd@127.0.0.1:55433/homeward",
            "postgresql+psycopg://homeward:***@127.0.0.1:55433/homeward",
        ),
        ("postgresql://council:p@ss@db/homeward", "postgresql://council:***@db/homeward"),
        ("postgresql://council:p%40ss@db/homeward", "postgresql://council:***@db/homeward"),
        # a user name may hold '@' (user@server); it ends at its first ':'
        ("postgresql://me@server:p@ss@db:5432/x", "postgresql://me@server:***@db:5432/x"),
        # an '@' then '/' or '?' in the password: its tail was shown as the host; masking to
        # the last '@' hides a query's '@' too, the safer mistake
        ("postgresql://u:p@ss/word@host/db", "postgresql://u:***@host/db"),
        ("postgresql://u:p@ss?x@host/db", "postgresql://u:***@host/db"),
        ("postgresql://u:pw@db:5432/x?a=b@c", "postgresql://u:***@c"),
        ("postgresql://council@db:54x2/homeward", "postgresql://council@db:54x2/homeward"),
        # a secret in the query (libpq's password and sslpassword, a driver's token), in any
        # case, its name percent-encoded or not; the rest kept
        (
            "postgresql+psycopg://homeward@db:5432/x?password=S3cret&sslmode=require",
            "postgresql+psycopg://homeward@db:5432/x?password=***&sslmode=require",
        ),
        (
            "postgresql://u:pw@db/x?sslmode=verify-full&sslpassword=k3y&PASSWORD=p",
            "postgresql://u:***@db/x?sslmode=verify-full&sslpassword=***&PASSWORD=***",
        ),
        (
            "postgresql://u@db:54x2/x?pass%77ord=p%26w&a=1",
            "postgresql://u@db:54x2/x?pass%77ord=***&a=1",
        ),
        (
            "postgresql://u@db:54x2/x?access_token=t0k#en",
            "postgresql://u@db:54x2/x?access_token=***",
        ),
        (
            "postgresql://u@db/x?client_secret=s&passfile=pgpass",
            "postgresql://u@db/x?client_secret=***&passfile=pgpass",
        ),
        # an '@' in a query's password is not read as the last before the host
        ("postgresql://u@db/x?password=p@ss", "postgresql://u@db/x?password=***"),
        ("sqlite:////data/homeward.db?mode=ro", "sqlite:////data/homeward.db?mode=ro"),
    ],
)
def test_a_password_is_masked_up_to_the_last_at_before_the_host(url: str, shown: str) -> None:
    """An unencoded '@' in the password: SQLAlchemy ends it at the first, so most of it was
    shown ('homeward:***@ss:w0rd@127...')."""
    assert masked_url(url) == shown


@pytest.mark.parametrize(
    ("dsn", "shown"),
    [
        (
            "host=db.council.local user=homeward password=S3cretD dbname=hw",
            "host=db.council.local user=homeward password=*** dbname=hw",
        ),
        # spaces around '=', a quoted value with spaces and escaped quotes, any case
        ("host=db PASSWORD = 'a b\\' c' port=5432", "host=db PASSWORD=*** port=5432"),
        ("password='p w' sslpassword=k3y dbname=x", "password=*** sslpassword=*** dbname=x"),
        # an unterminated quote, or a space libpq would refuse: masked to the next keyword
        ("host=db password='p w dbname=x", "host=db password=***"),
        ("host=db password=p w dbname=x", "host=db password=*** dbname=x"),
        # what a URL's query masks and no more: passfile names a file
        ("host=db passfile=/etc/pgpass user=u", "host=db passfile=/etc/pgpass user=u"),
        ("host=db password=p@ss:w0rd@x dbname=x", "host=db password=*** dbname=x"),
    ],
)
def test_a_password_in_a_keyword_value_dsn_is_masked(dsn: str, shown: str) -> None:
    """libpq's `host=... password=...` form is not a URL: it was quoted whole in the error
    saying so, the password with it."""
    assert masked_url(dsn) == shown


def test_a_keyword_value_dsn_is_refused_without_its_password(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("DATABASE_URL", f"host=db.council.local user=homeward password={SECRET} dbname=hw")
    assert main(["keys", "list"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert SECRET not in line
    assert "found 'host=db.council.local user=homeward password=*** dbname=hw'" in line


def test_an_unencoded_at_in_the_password_is_refused_saying_so(env: pytest.MonkeyPatch) -> None:
    """SQLAlchemy's own error quoted the rest of the password as a port."""
    message = _refused(env, "DATABASE_URL", f"postgresql+psycopg://homeward:p@{SECRET}@db/x")
    assert SECRET not in message and "p@" not in message
    found = "found 'postgresql+psycopg://homeward:***@db/x', whose password holds an unencoded '@'"
    assert found in message
    assert "write it as %40" in message


def test_the_cli_refuses_a_database_url_in_one_line_without_its_password(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("DATABASE_URL", f"mysql://council:{SECRET}@db.example.org/homeward")
    assert main(["keys", "list"]) == 2
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err
    assert "Traceback" not in captured.err
    [line] = captured.err.strip().splitlines()
    assert "'mysql://council:***@db.example.org/homeward'" in line
    # named as the user set it, not as HOMEWARD_DATABASE_URL
    assert ": DATABASE_URL: expected" in line and "HOMEWARD_DATABASE_URL" not in line


@pytest.mark.parametrize("command", [["keys", "list"], ["migrate"]])
def test_a_commands_database_line_masks_a_password_in_the_query(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, command: list[str]
) -> None:
    """Every command's first line names its database: `render_as_string(hide_password=True)`
    masked a password before the host, not `?password=` (taken by libpq and psycopg), in the
    text line or the JSON one (HOMEWARD_LOG_FORMAT=json writes the same message)."""
    caplog.set_level(logging.INFO, logger="homeward")
    query = f"?password={SECRET}&sslmode=disable&sslpassword={SECRET}"
    env.setenv("DATABASE_URL", f"postgresql+psycopg://homeward@127.0.0.1:8890/postgres{query}")
    assert main(command) == 2  # nothing listens there
    [record] = [r for r in caplog.records if r.getMessage().startswith("database ")]
    shown = "postgresql+psycopg://homeward@127.0.0.1:8890/postgres"
    assert record.getMessage() == f"database {shown}?password=***&sslmode=disable&sslpassword=***"
    assert SECRET not in JsonFormatter().format(record)
    assert not any(SECRET in r.getMessage() for r in caplog.records)


def test_an_empty_database_url_is_refused_not_read_as_the_sqlite_default(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unset secret (`DATABASE_URL=${DB_URL}`) is "": a new SQLite file in its place would
    serve an empty database as if it were the council's."""
    env.setenv("DATABASE_URL", "")
    assert main(["keys", "list"]) == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert ": DATABASE_URL: expected a SQLAlchemy URL such as" in line
    assert "found an empty value (unset it to use the SQLite file in HOMEWARD_DATA_DIR)" in line
    env.delenv("DATABASE_URL")
    assert Settings().database_url is None  # unset: the SQLite default


def test_a_hosting_platforms_postgres_url_is_read_as_postgresql(env: pytest.MonkeyPatch) -> None:
    env.setenv("DATABASE_URL", "postgres://council@db.example.org/homeward")
    assert Settings().resolved_database_url == "postgresql://council@db.example.org/homeward"


@pytest.mark.parametrize(
    "address", ["not an address", "http://dask:8786", "tcp://dask:87860", "tcp://", "dask:8786/x"]
)
def test_a_malformed_dask_address_is_refused_at_start(
    env: pytest.MonkeyPatch, address: str
) -> None:
    message = _refused(env, "HOMEWARD_DASK_ADDRESS", address)
    assert "dask_address" in message and "tcp://dask-scheduler:8786" in message
    assert f"found {address!r}" in message


@pytest.mark.parametrize(
    "address", ["tcp://10.0.0.5:8786", "dask-scheduler:8786", "tls://dask.example.org", "[::1]:1"]
)
def test_dask_addresses_as_dask_writes_them_are_accepted(
    env: pytest.MonkeyPatch, address: str
) -> None:
    env.setenv("HOMEWARD_DASK_ADDRESS", address)
    assert Settings().dask_address == address


def test_forecast_models_are_comma_separated_and_checked_at_start(
    env: pytest.MonkeyPatch,
) -> None:
    env.setenv("HOMEWARD_FORECAST_MODELS", "ets, theta,mean_best2")
    assert Settings().forecast_models == ("ets", "theta", "mean_best2")
    message = _refused(env, "HOMEWARD_FORECAST_MODELS", "ets,tbats")
    assert "forecast_models" in message and "found 'tbats'" in message
    # the list names every accepted model, pooled seasons and combinations too, and the nearest
    typo = _refused(env, "HOMEWARD_FORECAST_MODELS", "arma")
    assert "pooled_" in typo and "mean_best" in typo and "did you mean 'arima'?" in typo


def test_an_unknown_solver_names_the_solvers_there_are(env: pytest.MonkeyPatch) -> None:
    message = _refused(env, "HOMEWARD_SOLVER", "gurobi")
    assert "solver" in message and "'highs' or 'cbc'" in message


def _cli_error(capsys: pytest.CaptureFixture[str]) -> str:
    assert main(["keys", "list"]) == 2
    captured = capsys.readouterr()
    [line] = captured.err.strip().splitlines()
    return line


def test_a_data_dir_that_is_a_file_is_refused_naming_it(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "volume").write_text("not a folder")
    env.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "volume"))
    line = _cli_error(capsys)
    assert "HOMEWARD_DATA_DIR: expected a folder this process can create the SQLite" in line
    assert f"found {str(tmp_path / 'volume')!r}: it is not a folder" in line
    env.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "volume" / "db"))
    assert "is not a folder to make it in" in _cli_error(capsys)


def test_a_data_dir_this_user_may_not_write_in_is_refused(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A volume mounted from a folder root owns, as the image's user sees it (the tests may run
    as root, who may write anywhere, so the permission check is what is replaced)."""
    env.setattr("homeward.settings.os.access", lambda _path, _mode: False)
    line = _cli_error(capsys)
    assert "HOMEWARD_DATA_DIR: " in line and "this user may not write in it" in line


def test_a_data_dir_is_not_needed_with_a_database_url(
    env: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Only the demo's admin key file goes there then, when first needed: a folder that is
    missing or not writable yet is fine, a file in its place is not (/etc/passwd was taken)."""
    env.setattr("homeward.settings.os.access", lambda _path, _mode: False)
    env.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "missing" / "volume"))
    env.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    assert Settings().data_dir == tmp_path / "missing" / "volume"
    (tmp_path / "volume").write_text("not a folder")
    env.setenv("HOMEWARD_DATA_DIR", str(tmp_path / "volume"))
    line = _cli_error(capsys)
    assert "HOMEWARD_DATA_DIR: expected a folder (for the demo's admin key file" in line, line
    assert f"found {str(tmp_path / 'volume')!r}: it is not a folder" in line, line


@pytest.mark.parametrize("value", ["proxy.council.local", "10.0.0.300", "10.0.0.1;10.0.0.2", ""])
def test_a_trusted_proxy_that_is_no_address_is_refused_naming_it(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str
) -> None:
    """uvicorn would take a host name and never match a peer to it, trusting no proxy."""
    env.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", value)
    line = _cli_error(capsys)
    assert "HOMEWARD_FORWARDED_ALLOW_IPS: expected the addresses of the reverse proxies" in line
    assert f"found {value!r}" in line, line


def test_trusted_proxies_are_addresses_or_networks(env: pytest.MonkeyPatch) -> None:
    assert Settings().forwarded_allow_ips is None  # uvicorn's default: 127.0.0.1 and ::1
    env.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", " 10.0.2.15, 10.1.0.0/16,::1")
    assert Settings().forwarded_allow_ips == ("10.0.2.15", "10.1.0.0/16", "::1")
    env.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", "*")
    assert Settings().forwarded_allow_ips == ("*",)


def test_auth_off_beyond_loopback_names_homeward_auth(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env.setenv("HOMEWARD_AUTH", "off")
    env.setenv("HOMEWARD_HOST", "0.0.0.0")
    line = _cli_error(capsys)
    assert "settings (environment variables or a .env file here): HOMEWARD_AUTH: " in line
    assert "found host '0.0.0.0'" in line
    env.setenv("HOMEWARD_HOST", "::1")
    assert Settings().auth == "off"


def test_auth_off_behind_a_proxy_is_refused_naming_both_settings(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A proxy on this host passes everyone's requests on from 127.0.0.1: with keys off each
    would act as admin."""
    env.setenv("HOMEWARD_AUTH", "off")
    env.setenv("HOMEWARD_FORWARDED_ALLOW_IPS", "127.0.0.1")
    line = _cli_error(capsys)
    assert "HOMEWARD_AUTH: " in line and "HOMEWARD_FORWARDED_ALLOW_IPS says a reverse proxy" in line
    env.delenv("HOMEWARD_FORWARDED_ALLOW_IPS")
    assert Settings().auth == "off"


def test_allowed_hosts_are_host_names_and_default_to_loopback_with_keys_off(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Settings().hosts_allowed is None  # keys on: any
    env.setenv("HOMEWARD_AUTH", "off")
    assert Settings().hosts_allowed == ("localhost", "127.0.0.1", "::1")
    env.setenv("HOMEWARD_ALLOWED_HOSTS", " Homeward.Council.Example, *.svc.example,[::1],10.0.2.15")
    hosts = ("homeward.council.example", "*.svc.example", "::1", "10.0.2.15")
    assert Settings().allowed_hosts == Settings().hosts_allowed == hosts
    for value in ("homeward.example:8000", "https://homeward.example", "a b", "*.", ","):
        env.setenv("HOMEWARD_ALLOWED_HOSTS", value)
        line = _cli_error(capsys)
        assert "HOMEWARD_ALLOWED_HOSTS: expected the host names requests may be sent to" in line
        assert "without a scheme or port (every port is allowed)" in line, line
    # any host with keys off: a web page on a name pointed at 127.0.0.1 would be admin
    env.setenv("HOMEWARD_ALLOWED_HOSTS", "localhost,*")
    line = _cli_error(capsys)
    assert (
        "HOMEWARD_ALLOWED_HOSTS: HOMEWARD_ALLOWED_HOSTS='*' is refused with HOMEWARD_AUTH=off"
        in line
    )
    env.setenv("HOMEWARD_AUTH", "keys")
    assert Settings().allowed_hosts == ("localhost", "*") and Settings().hosts_allowed is None


def test_a_misspelt_setting_is_named_with_the_one_it_is_nearest(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """HOMEWARD_SCHEDULE_CORN would otherwise be ignored without a word: the default cron."""
    env.setenv("HOMEWARD_SCHEDULE_CORN", "0 6 * * fri")
    env.setenv("HOMEWARD_N_JOBS", "4")
    env.setenv("HOMEWARD_FORECAST_HORIZON_WEEKS", "26")  # a setting: no warning
    caplog.set_level(logging.WARNING, logger="homeward.settings")
    assert get_settings().schedule_cron == "0 6 * * mon"
    mine = ("HOMEWARD_N_JOBS ", "HOMEWARD_SCHEDULE_CORN ", "HOMEWARD_FORECAST_HORIZON_WEEKS ")
    assert [r.getMessage() for r in caplog.records if r.getMessage().startswith(mine)] == [
        "HOMEWARD_N_JOBS is not a setting and is ignored; did you mean "
        "HOMEWARD_FORECAST_N_JOBS? (the settings are listed in homeward/settings.py)",
        "HOMEWARD_SCHEDULE_CORN is not a setting and is ignored; did you mean "
        "HOMEWARD_SCHEDULE_CRON? (the settings are listed in homeward/settings.py)",
    ]


def test_a_misspelt_setting_in_the_env_file_is_named_too(
    env: pytest.MonkeyPatch, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The .env file the settings read: a typo there was ignored without a word."""
    env.chdir(tmp_path)
    (tmp_path / ".env").write_text(
        "HOMEWARD_SCHEDULE_CORN=0 6 * * fri\nhomeward_port=8799\nPATH_EXTRA=x\n"
    )
    caplog.set_level(logging.WARNING, logger="homeward.settings")
    assert get_settings().port == 8799
    assert [r.getMessage() for r in caplog.records if "not a setting" in r.getMessage()] == [
        f"HOMEWARD_SCHEDULE_CORN in {Path('.env')} is not a setting and is ignored; did you "
        "mean HOMEWARD_SCHEDULE_CRON? (the settings are listed in homeward/settings.py)"
    ]


def test_a_lower_case_setting_is_read_and_not_called_unknown(
    env: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The settings read names regardless of case, so `homeward_port` is the port."""
    env.setenv("homeward_port", "8799")
    env.setenv("homeward_prot", "8798")
    caplog.set_level(logging.WARNING, logger="homeward.settings")
    assert get_settings().port == 8799
    assert [r.getMessage() for r in caplog.records if "not a setting" in r.getMessage()] == [
        "homeward_prot is not a setting and is ignored; did you mean HOMEWARD_PORT? "
        "(the settings are listed in homeward/settings.py)"
    ]


@pytest.mark.parametrize("host", ["http://0.0.0.0", "999.1.1.1", "my host", ""])
def test_a_host_that_is_no_address_is_refused_at_start_naming_it(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], host: str
) -> None:
    """The server would otherwise migrate and start the scheduler, then fail to bind with
    'Name or service not known', naming no setting."""
    env.setenv("HOMEWARD_HOST", host)
    line = _cli_error(capsys)
    assert "HOMEWARD_HOST: expected an address to listen on, such as 127.0.0.1" in line
    assert f"found {host!r}" in line


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "::1", "localhost", "homeward.example.org"])
def test_addresses_and_host_names_are_hosts(env: pytest.MonkeyPatch, host: str) -> None:
    env.setenv("HOMEWARD_HOST", host)
    assert Settings().host == host


@pytest.mark.parametrize(
    "address",
    [
        f"tls://dask:{SECRET}@dask.example.org:8786",
        f"dask:{SECRET}@dask:87860",
        f"tls://dask.example.org:8786?token={SECRET}",
    ],
)
def test_a_refused_dask_address_does_not_show_a_password(
    env: pytest.MonkeyPatch, address: str
) -> None:
    message = _refused(env, "HOMEWARD_DASK_ADDRESS", address)
    assert "dask_address" in message and SECRET not in message
    assert "dask:***@" in message or "token=***" in message


@pytest.mark.parametrize("which", ["before the calibration", "not over"])
def test_a_demo_year_before_the_calibration_or_not_over_is_refused(
    env: pytest.MonkeyPatch, which: str
) -> None:
    # this year read as the test runs, not as it is collected: under xdist each worker collects,
    # and two that straddled New Year would name different tests, which stops the whole run
    year = 2017 if which == "before the calibration" else utcnow().year
    message = _refused(env, "HOMEWARD_DEMO_LAST_YEAR", str(year))
    assert "demo_last_year" in message
    assert f"expected a year from 2018 to {demo_last_year(utcnow().date())}" in message
    assert f"found {year}" in message


def test_the_demo_loads_to_the_last_complete_week_or_the_year_set(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Unset, HOMEWARD_DEMO_LAST_YEAR leaves the demo to the last complete week on the clock's
    today (a Sunday: the week before), so its plan starts this week; set, it is the year
    named."""
    import homeward.commands as commands

    env.delenv("HOMEWARD_DEMO_LAST_YEAR")
    env.setattr(commands, "utcnow", lambda: datetime(2025, 3, 9, tzinfo=UTC))
    newest = commands.demo_observations(Settings()).groupby("unique_id")["ds"].max()
    assert newest["referrals/ot/rugby"] == datetime(2025, 2, 24)
    assert newest["dtoc_days/warwickshire"] == datetime(2025, 2, 1)
    env.setenv("HOMEWARD_DEMO_LAST_YEAR", "2023")
    frame = commands.demo_observations(Settings())
    assert frame["ds"].max() == datetime(2023, 12, 25)


def test_the_json_body_limit_is_a_mebibyte_unless_set(env: pytest.MonkeyPatch) -> None:
    assert Settings().max_json_bytes == 2**20
    env.setenv("HOMEWARD_MAX_JSON_BYTES", "4194304")
    assert Settings().max_json_bytes == 4 * 2**20


@pytest.mark.parametrize("value", ["1000", str(64 * 2**20 + 1)])
def test_a_json_body_limit_no_config_fits_in_or_past_the_upload_limit_is_refused(
    env: pytest.MonkeyPatch, value: str
) -> None:
    assert "max_json_bytes" in _refused(env, "HOMEWARD_MAX_JSON_BYTES", value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", "Input should be greater than or equal to 1"),
        ("3601", "Input should be less than or equal to 3600"),
        ("75s", "Input should be a valid integer, unable to parse string as an integer"),
        ("4.5", "Input should be a valid integer, unable to parse string as an integer"),
    ],
)
def test_a_keep_alive_out_of_range_or_not_whole_seconds_is_refused_naming_it(
    env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], value: str, expected: str
) -> None:
    env.setenv("HOMEWARD_KEEPALIVE_S", value)
    assert _cli_error(capsys).endswith(f"HOMEWARD_KEEPALIVE_S: {expected}, found {value!r}")


def test_the_keep_alive_is_whole_seconds(env: pytest.MonkeyPatch) -> None:
    assert Settings().keepalive_s == 75  # longer than uvicorn's 5 s: see settings.py
    env.setenv("HOMEWARD_KEEPALIVE_S", "130")
    assert Settings().keepalive_s == 130
