"""Service settings, read once from the environment (HOMEWARD_*), refused at start-up if unsafe."""

from __future__ import annotations

import difflib
import ipaddress
import logging
import os
import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal, cast
from urllib.parse import unquote_plus, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.cron.expressions import AllExpression
from dotenv import dotenv_values
from pydantic import AliasChoices, Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from homeward.clock import utcnow

log = logging.getLogger(__name__)


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# the furthest HOMEWARD_FORECAST_HORIZON_WEEKS and _MONTHS may reach (a plan's refusal names them)
MAX_HORIZON_WEEKS, MAX_HORIZON_MONTHS = 104, 24
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
LogFormat = Literal["text", "json"]


class LogSettings(BaseSettings):
    """How the log is written: read by every command before anything logs (the whole Settings
    are read only by commands that use them, and `homeward forecast` uses none)."""

    model_config = SettingsConfigDict(
        env_prefix="HOMEWARD_",
        env_file=".env",
        extra="ignore",
        allow_inf_nan=False,
        # a refused DATABASE_URL must not print its password in a traceback; our own
        # messages say what was found, with any password masked
        hide_input_in_errors=True,
    )

    log_level: LogLevel = Field(
        default="INFO", description="the lowest level logged (`homeward -q` raises it to WARNING)"
    )
    log_format: LogFormat = Field(
        default="text",
        description="'text': one line per record, '2026-11-24T06:00:01Z INFO logger: message'; "
        "'json': one JSON object per line, for a log shipper",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _level_known(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().upper() not in LOG_LEVELS:
                raise ValueError(f"expected one of {', '.join(LOG_LEVELS)}, found {value!r}")
            return value.strip().upper()  # 'info' as logging's own names write it
        return value

    @field_validator("log_format", mode="before")
    @classmethod
    def _format_known(cls, value: object) -> object:
        if isinstance(value, str):
            if value.strip().lower() not in ("text", "json"):
                raise ValueError(f"expected 'text' or 'json', found {value!r}")
            return value.strip().lower()
        return value


class Settings(LogSettings):
    """Everything the composition root needs; engines never read this, callers pass values in."""

    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HOMEWARD_DATABASE_URL"),
        description="any SQLAlchemy URL; default is a SQLite file in data_dir",
    )
    # after database_url, whose value its check reads (a folder matters only without one)
    data_dir: Path = Field(default=Path("var"), description="where the SQLite file lives")
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    # How long an idle keep-alive connection is kept open (uvicorn's timeout_keep_alive, 5 s
    # unless told). A reverse proxy that pools its connections to Homeward (Apache mod_proxy,
    # IIS with ARR, nginx with an upstream `keepalive`) and sends a request on one just as the
    # server closes it gets a reset and answers its client 502: the server must keep an idle
    # connection longer than the proxy does. 75 s is nginx's own keepalive_timeout, longer than
    # its upstream keepalive_timeout (60 s) and any proxy told to close at 60 s; the README's
    # nginx example opens a connection per request, so any value is safe with it.
    keepalive_s: int = Field(
        default=75,
        ge=1,
        le=3600,
        description="seconds an idle HTTP keep-alive connection is kept open; longer than the "
        "reverse proxy's idle timeout for its connections to Homeward",
    )
    forwarded_allow_ips: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="the reverse proxies (comma-separated addresses or networks, or '*') "
        "whose X-Forwarded-For and X-Forwarded-Proto are believed; default: uvicorn's, "
        "FORWARDED_ALLOW_IPS or else 127.0.0.1 and ::1 (a proxy on this host)",
    )
    scheduler_enabled: bool = True
    schedule_cron: str = Field(default="0 6 * * mon", description="crontab for the pipeline")
    schedule_timezone: str = Field(
        default="UTC",
        description="the IANA time zone the crontab's hours are in, e.g. Europe/London "
        "(default UTC, so a deployment's runs do not move when it upgrades)",
    )
    schedule_misfire_grace_s: int = Field(default=6 * 3600, ge=1)
    forecast_horizon_weeks: int = Field(default=52, ge=1, le=MAX_HORIZON_WEEKS)
    # a year ahead by default, so every monthly series covers a whole winter; a council
    # planning monthly demand further (a two-year plan) raises it, as weekly ones raise weeks
    forecast_horizon_months: int = Field(default=12, ge=1, le=MAX_HORIZON_MONTHS)
    forecast_backtest_folds: int = Field(default=3, ge=1, le=12)
    forecast_n_jobs: int = Field(default=2, ge=1, le=64)
    forecast_models: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="candidate models, comma-separated (default: the engine's recommended set)",
    )
    dask_address: str | None = Field(
        default=None, description="a Dask scheduler, e.g. tcp://dask-scheduler:8786"
    )
    solver: Literal["highs", "cbc"] = "highs"
    # the pipeline's lease: renewed every third of it while a run lasts, so a lock left by a
    # killed process frees within this long (homeward.recovery closes its run then)
    pipeline_lock_ttl_s: int = Field(default=600, ge=60)
    # PostgreSQL only (homeward/storage.py make_engine, whose default it repeats): a statement
    # running longer is cancelled by the server and its request is a 503; 0 leaves the server's
    # own setting. Our slowest statement on the demo takes under a second.
    db_statement_timeout_s: float = Field(default=60.0, ge=0, le=86_400)
    # how long /readyz waits for the database's answer before it is a 503: a load balancer
    # probing every few seconds learns of a hung database at once, not when the hang ends
    readyz_timeout_s: float = Field(default=2.0, gt=0, le=60)
    # what-if and sweep jobs run one at a time: one client queueing many holds up everyone's
    max_jobs_per_key: int = Field(
        default=3,
        ge=1,
        le=100,
        description="plan and sweep jobs (POST /v1/plans with Prefer: respond-async, POST "
        "/v1/plans/sweeps) one API key may have queued or running in this process; more is a 429",
    )
    max_jobs: int = Field(
        default=12,
        ge=1,
        le=1000,
        description="plan and sweep jobs all keys together may have queued or running in this "
        "process; more is a 429",
    )
    # the largest JSON body the API reads (POST /v1/configs, /v1/plans, /v1/plans/sweeps;
    # api/bodies.py): the demo's what-if is 5 KB, and 300 districts in 30 teams, written with
    # a 4-space indent, 187 KB. Larger is refused (413) before it is read, so a 300 MB body
    # cannot take a gigabyte of memory; uploads have their own 64 MiB limit.
    max_json_bytes: int = Field(default=2**20, ge=1_024, le=64 * 2**20)
    retention_keep_runs: int | None = Field(
        default=None,
        ge=1,
        description="after each succeeded scheduled or API pipeline run, `homeward purge "
        "--keep-runs` this many runs (default: keep every run)",
    )
    auth: Literal["keys", "off"] = Field(
        default="keys",
        description="'keys': every /v1 request needs an API key; 'off' (loopback only): none does",
    )
    # after auth, whose value its check reads
    allowed_hosts: Annotated[tuple[str, ...] | None, NoDecode] = Field(
        default=None,
        description="the host names a request's Host header may give (comma-separated, any "
        "port; '*.example.org' for its subdomains, '*' for any), others answered 421; default: "
        "with HOMEWARD_AUTH=off localhost, 127.0.0.1 and ::1 only (a web page on another "
        "name that resolves to this machine, DNS rebinding, is refused), with keys any",
    )
    # GET /metrics (api/routes/metrics.py): with keys on, a scraper sends a key of any role
    # (each may read); 'off' opens it alone, for a scraper on a network only it reaches
    metrics_auth: Literal["keys", "off"] = Field(
        default="keys",
        description="'keys': GET /metrics needs an API key when HOMEWARD_AUTH is 'keys'; "
        "'off': it needs none",
    )

    docs: bool = Field(
        default=True,
        description="serve /docs, /redoc and /openapi.json, which map the whole API for anyone "
        "(false: all three are 404, as a production service facing a network may want)",
    )

    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="browser origins (comma-separated, e.g. https://dash.example.org) whose "
        "pages may call the API; empty: no CORS headers, so no other origin may",
    )

    demo_last_year: int | None = Field(
        default=None,
        description="the year whose end the synthetic demo's history runs to (`homeward demo` "
        "on an empty database or one holding an earlier demo only, and `homeward plan` "
        "without a database), for figures that hold whatever the date; default: none, the "
        "history runs to the last complete week, so the demo's plan starts this week",
    )

    retry_cut_off_runs: bool = Field(
        default=True,
        description="run a pipeline run that a stop cut off, or a database outage failed, again "
        "once, at the first recovery pass after a restart or once the database answers (false: "
        "leave it until the next scheduled run)",
    )

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @field_validator("cors_origins")
    @classmethod
    def _origins_are_origins(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(cors_origin(origin) for origin in value)

    @field_validator("schedule_cron")
    @classmethod
    def _cron_parses(cls, value: str) -> str:
        try:
            crontab_trigger(value, "UTC")  # whether it parses and fires is the same in any zone
        except ValueError as exc:
            raise ValueError(
                f"expected a 5-field crontab such as '0 6 * * mon', found {value!r}: {exc}"
            ) from exc
        return value

    @field_validator("schedule_timezone")
    @classmethod
    def _timezone_known(cls, value: str) -> str:
        return schedule_timezone(value)

    @field_validator("database_url")
    @classmethod
    def _database_url_usable(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            # an unset secret or `${DB_URL}` gives "": falling back to a new SQLite file would
            # serve an empty database as if it were the council's
            raise ValueError(
                f"expected {DATABASE_URL_EXAMPLES}, found an empty value (unset it to use the "
                "SQLite file in HOMEWARD_DATA_DIR)"
            )
        return None if value is None else database_url(value)

    @field_validator("dask_address")
    @classmethod
    def _dask_address_is_an_address(cls, value: str | None) -> str | None:
        return None if not value else dask_address(value)

    @field_validator("forecast_models", mode="before")
    @classmethod
    def _models_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip()) or None
        return value

    @field_validator("forecast_models")
    @classmethod
    def _models_known(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        if value:
            from forecast.engine import check_model_names  # the engine's check; slow to import

            # ForecastInputError, a ValueError naming every accepted model and the nearest
            check_model_names(value)
        return value

    @field_validator("demo_last_year")
    @classmethod
    def _demo_year_is_over(cls, value: int | None) -> int | None:
        if value is not None:
            # pandas and holidays: slow to import
            from homeward.demo_series import FIRST_DEMO_LAST_YEAR, demo_last_year

            latest = demo_last_year(utcnow().date())
            if not FIRST_DEMO_LAST_YEAR <= value <= latest:
                raise ValueError(
                    f"expected a year from {FIRST_DEMO_LAST_YEAR} to {latest} (one that is "
                    f"over, as the demo has no unfinished weeks), found {value}"
                )
        return value

    @field_validator("host")
    @classmethod
    def _host_is_an_address(cls, value: str) -> str:
        return listen_host(value)

    @field_validator("forwarded_allow_ips", mode="before")
    @classmethod
    def _proxies_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            # an empty value is refused as a proxy named '' (unset it for the default)
            return tuple(part.strip() for part in value.split(",") if part.strip()) or (value,)
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxies_are_addresses(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if value is None else tuple(trusted_proxy(item) for item in value)

    @field_validator("auth")
    @classmethod
    def _auth_off_only_on_loopback(cls, value: str, info: ValidationInfo) -> str:
        # a field's check (not the model's), so the error names HOMEWARD_AUTH
        refuse_open_api_off_loopback(value, info.data.get("host", "127.0.0.1"))
        refuse_auth_off_behind_proxy(value, info.data.get("forwarded_allow_ips"))
        return value

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _hosts_comma_separated(cls, value: object) -> object:
        if isinstance(value, str):
            # an empty value is refused as a host named '' (unset it for the default)
            return tuple(part.strip() for part in value.split(",") if part.strip()) or (value,)
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts_are_host_names(
        cls, value: tuple[str, ...] | None, info: ValidationInfo
    ) -> tuple[str, ...] | None:
        if value is None:
            return None
        hosts = tuple(allowed_host(item) for item in value)
        refuse_any_host_with_auth_off(info.data.get("auth", "keys"), hosts)
        return hosts

    @field_validator("data_dir")
    @classmethod
    def _data_dir_writable(cls, value: Path, info: ValidationInfo) -> Path:
        if info.data.get("database_url") is None:
            problem = folder_problem(value)
            if problem:
                raise ValueError(
                    "expected a folder this process can create the SQLite database "
                    f"homeward.db in (or a DATABASE_URL), found {str(value)!r}: {problem}"
                )
        elif value.exists() and not value.is_dir():
            # with a DATABASE_URL the folder holds only the demo's admin key, written when
            # first needed: a file named here would fail then, or be mistaken for the folder
            raise ValueError(
                "expected a folder (for the demo's admin key file; it need not exist yet), "
                f"found {str(value)!r}: it is not a folder"
            )
        return value

    @property
    def hosts_allowed(self) -> tuple[str, ...] | None:
        """The Host names requests are answered for (any port), or None for any: those set,
        else with keys off this machine's own names only, else any."""
        if self.allowed_hosts is not None:
            return None if "*" in self.allowed_hosts else self.allowed_hosts
        return LOOPBACK_HOST_NAMES if self.auth == "off" else None

    @property
    def resolved_database_url(self) -> str:
        """The configured URL, or the embedded SQLite default under data_dir."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'homeward.db').resolve()}"


def cors_origin(origin: str) -> str:
    """An origin as browsers send it (`scheme://host[:port]`, lower case), or `*` for any;
    ValueError naming the origin otherwise (a path or trailing `/` never matches one)."""
    if origin == "*":
        return origin
    expected = (
        "expected an origin such as https://dashboard.example.org or http://localhost:5173 "
        "(http or https, a host and an optional port; no path, not even a trailing '/')"
    )
    try:
        parts = urlsplit(origin)
        port = parts.port  # ValueError if it is not a port
    except ValueError:
        raise ValueError(f"{expected}, found {origin!r}") from None
    well_formed = (
        parts.scheme.lower() in ("http", "https")
        and bool(parts.hostname)
        and parts.username is None
        and not (parts.path or parts.query or parts.fragment or origin.endswith(("?", "#")))
    )
    if not well_formed:
        raise ValueError(f"{expected}, found {origin!r}")
    return f"{parts.scheme.lower()}://{parts.hostname}" + (f":{port}" if port else "")


CRON_WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # cron's 0-6 (7 is sun too)


# Names a UK council may write for its clock that are not it: 'BST' is no zone (the nearest name
# is 'MST', US Mountain time), 'GMT' is a zone that never changes to BST, 'UK' is no zone either
BRITISH_MISTAKES = {
    "BST": "BST is the UK's summer time, not a zone; write 'Europe/London' for UK time, "
    "GMT in winter and BST in summer",
    "GMT": "GMT never changes to BST; write 'Europe/London' for UK time, or 'UTC' for no change",
    "UK": "write 'Europe/London' for UK time, GMT in winter and BST in summer",
}
# zoneinfo's other names for GMT never change to BST either ('GB' is Europe/London's own)
GMT_ALIASES = ("GMT0", "GMT+0", "GMT-0", "GREENWICH", "ETC/GMT", "ETC/GMT0", "ETC/GMT+0",
               "ETC/GMT-0", "ETC/GREENWICH")  # fmt: skip
BRITISH_MISTAKES |= dict.fromkeys(GMT_ALIASES, BRITISH_MISTAKES["GMT"])


def schedule_timezone(name: str) -> str:
    """`name` if it is an IANA time zone zoneinfo knows; ValueError naming the nearest otherwise
    (zone names are case-sensitive on Linux: 'europe/london' is not found there), or saying
    to write 'Europe/London' for 'BST', 'GMT' or 'UK' in any case."""
    expected = "expected an IANA time zone such as 'Europe/London' or 'UTC'"
    british = BRITISH_MISTAKES.get(name.strip().upper())
    if british:
        raise ValueError(f"{expected}, found {name!r} ({british})")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):  # ValueError: not a zone key ('', '../x')
        known = {zone.lower(): zone for zone in available_timezones()}
        nearest = known.get(name.strip().lower()) or next(
            iter(difflib.get_close_matches(name.strip().lower(), known, n=1)), None
        )
        hint = f" (did you mean {known.get(nearest, nearest)!r}?)" if nearest else ""
        raise ValueError(f"{expected}, found {name!r}{hint}") from None
    return name


class OnceCronTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3 is untyped
    """A CronTrigger whose fields are matched against the zone's wall clock, then placed in time.

    APScheduler 3.11 adds a day, week or month keeping the UTC offset it started from
    (agronholm/apscheduler#606, #529), so after the spring change '0 0 1 * *' in London went
    from 1 March to 1 May and '0 0 * * *' in Santiago skipped the change day; and it fires
    '30 1 * * *' twice on the autumn Sunday, handing the second 01:30 back for ever
    (agronholm/apscheduler#1021). Here the next matching wall-clock time is found as if the
    zone were UTC (no offsets to keep), then placed:

    - a time the clocks go back over fires at its first occurrence only, whatever the cron
      (cron(8) runs a '*' hour or minute again in the repeated hour; this runs it once);
    - a time the clocks go forward over (01:30 on the spring Sunday in London) fires at the
      first instant after the gap (02:00 BST), as cron(8) runs a fixed-time job, if the cron
      names its minute and hour; one with '*' in either ('*/15 * * * *') skips it, as cron(8)
      does, being due again soon by the clock;
    - firings strictly increase, so times that land on one instant fire once.
    """

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        zone = self.timezone
        start = now.astimezone(UTC)
        floor = previous_fire_time.astimezone(UTC) if previous_fire_time else None
        if floor is not None:
            start = min(start, floor + timedelta(microseconds=1))  # as CronTrigger: catch up
        wall, search, skip_gaps = self._wall_clock(), _as_wall(start, zone), self._skips_gaps()
        while (candidate := wall.get_next_fire_time(None, search)) is not None:
            due = _on_the_clock(candidate.replace(tzinfo=None), zone, skip_gaps)
            if due is not None and due >= start and (floor is None or due > floor):
                return due.astimezone(zone)
            # passed already (the repeated hour's first run) or skipped: the next by the clock
            search = candidate + timedelta(minutes=1)
        return None

    def _wall_clock(self) -> CronTrigger:
        """This cron's fields in UTC, to be given wall-clock times dressed as UTC: built per
        call, so a pickled trigger (an APScheduler job store) carries only CronTrigger's state."""
        wall: CronTrigger = CronTrigger.__new__(CronTrigger)
        state = cast("dict[str, object]", self.__getstate__())
        wall.__setstate__({**state, "timezone": UTC, "start_date": None})
        return wall

    def _skips_gaps(self) -> bool:
        """Whether the minute or hour field is '*' or '*/n': cron(8) skips such a job's times
        the clocks go forward over, and runs a fixed-time job just after. (`type`, as a
        RangeExpression such as '30' is an AllExpression too.)"""
        return any(
            field.name in ("minute", "hour") and type(field.expressions[0]) is AllExpression
            for field in self.fields
        )


def _as_wall(moment: datetime, zone: tzinfo) -> datetime:
    """The wall-clock time `moment` shows in `zone`, labelled UTC (seconds on, as CronTrigger
    rounds up to the next whole second)."""
    return moment.astimezone(zone).replace(tzinfo=UTC, fold=0)


def _on_the_clock(wall: datetime, zone: tzinfo, skip_gaps: bool) -> datetime | None:
    """The instant (UTC) the naive wall-clock time `wall` is in `zone`: its first occurrence
    if the clocks go back over it; if they go forward over it, the instant they do (the first
    after the gap), or None when `skip_gaps`."""
    first = wall.replace(tzinfo=zone, fold=0).astimezone(UTC)
    if first.astimezone(zone).replace(tzinfo=None) == wall:
        return first
    if skip_gaps:
        return None
    # in the gap: fold 0 reads it with the offset before the change, fold 1 with the one after,
    # so the change is between the two readings; find its second
    other = wall.replace(tzinfo=zone, fold=1).astimezone(UTC)
    before, after = min(first, other), max(first, other)
    offset = before.astimezone(zone).utcoffset()
    while after - before > timedelta(seconds=1):
        middle = before + (after - before) // 2
        middle = middle.replace(microsecond=0)
        if middle.astimezone(zone).utcoffset() == offset:
            before = middle
        else:
            after = middle
    return after


def crontab_trigger(expression: str, timezone: str) -> CronTrigger:
    """A trigger for a standard 5-field crontab (minute hour day month day-of-week) whose hours
    are in `timezone` (an IANA name, checked by schedule_timezone).

    Day-of-week numbers mean what they mean to cron (0 or 7 Sunday, 1 Monday): APScheduler 3
    counts from Monday, so its own `from_crontab('0 6 * * 1')` fires on Tuesdays. ValueError,
    saying why, for a crontab that does not parse, restricts both day fields (cron runs when
    either matches, APScheduler only when both do) or never fires (`0 6 31 2 *`).
    """
    fields = expression.split()
    if len(fields) != 5:
        raise ValueError(
            f"expected 5 fields (minute hour day month day-of-week), found {len(fields)}"
        )
    minute, hour, day, month, weekday = fields
    if day != "*" and weekday != "*":
        raise ValueError(
            "restrict the day of the month or the day of the week, not both (cron would run "
            "on either, this scheduler only on days that are both)"
        )
    trigger = OnceCronTrigger(
        minute=minute,
        hour=hour,
        day=day,
        month=month,
        day_of_week=_weekday_names(weekday),
        timezone=ZoneInfo(timezone),
    )
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ValueError("it never fires (no such date)")
    return trigger


def _weekday_names(field: str) -> str:
    """A crontab day-of-week field with its numbers (cron's: 0 is Sunday) as day names."""
    if not any(char.isdigit() for char in field):
        return field  # '*' and names ('mon-fri') mean the same to cron and to APScheduler
    days: set[int] = set()
    for item in field.split(","):
        span, slash, step_text = item.partition("/")
        if slash and not (step_text.isdigit() and int(step_text) >= 1):
            raise ValueError(f"expected a step of 1 or more after '/', found {item!r}")
        first_text, dash, last_text = span.partition("-")
        first, last = (0, 6) if span == "*" else (_weekday(first_text), _weekday(first_text))
        if dash:
            last = _weekday(last_text)
        elif slash and span != "*":
            last = 6  # 'N/step': from N to the end of the week
        if last < first:
            raise ValueError(f"expected a day-of-week range from low to high, found {item!r}")
        days.update(day % 7 for day in range(first, last + 1, int(step_text or 1)))
    return ",".join(CRON_WEEKDAYS[day] for day in sorted(days))


def _weekday(text: str) -> int:
    if text.isdigit() and int(text) <= 7:
        return int(text)
    if text.lower() in CRON_WEEKDAYS:
        return CRON_WEEKDAYS.index(text.lower())
    raise ValueError(
        f"expected a day of the week, 0-7 (0 and 7 are Sunday) or sun-sat, found {text!r}"
    )


DATABASE_URL_EXAMPLES = (
    "a SQLAlchemy URL such as postgresql+psycopg://user:password@host:5432/homeward or "
    "sqlite:////data/homeward.db (characters such as @ : / in a password percent-encoded)"
)


def database_url(text: str) -> str:
    """`text` as a SQLAlchemy URL whose driver is installed (`postgres://`, as some hosting
    platforms write it, read as `postgresql://`); ValueError saying what was expected and
    found, its password masked."""
    if text.startswith("postgres://"):
        text = "postgresql://" + text.removeprefix("postgres://")
    span = _password_span(text)
    if span is not None and "@" in text[span[0] : span[1]]:
        # SQLAlchemy would end the password at its first '@' and read the rest as the host
        # (and its error would quote that rest): the cause, without any of the password
        raise ValueError(
            f"expected {DATABASE_URL_EXAMPLES}, found {masked_url(text)!r}, whose password "
            "holds an unencoded '@' (write it as %40)"
        )
    try:
        url = make_url(text)
        url.get_dialect().import_dbapi()
    except (ArgumentError, ValueError) as exc:
        raise ValueError(
            f"expected {DATABASE_URL_EXAMPLES}, found {masked_url(text)!r}: {exc}"
        ) from None
    except (NoSuchModuleError, ImportError) as exc:
        raise ValueError(
            f"expected {DATABASE_URL_EXAMPLES} (drivers installed: sqlite, postgresql+psycopg), "
            f"found {masked_url(text)!r}, whose driver is not installed: {exc}"
        ) from None
    return text


def masked_url(given: str | URL) -> str:
    """A database URL as it may be shown (logged, or quoted by an error): its password, if
    any, as ***, and so the value of a query parameter that carries a secret
    (`?password=...`, which libpq and psycopg take as the password, `sslpassword`: any whose
    name holds SECRET_PARAMETER_WORDS). What shows a database URL shows it through this.

    A password with an unencoded `@` (`user:p@ss:w0rd@host`) is masked whole, up to the last
    `@` before the host: SQLAlchemy ends the password at the first `@`, and then shows the rest
    of it as the host, or refuses the URL."""
    # a URL is rendered whole, its password too, to be masked below as a text is
    text = given.render_as_string(hide_password=False) if isinstance(given, URL) else given
    try:
        url = make_url(text)
    except (ArgumentError, ValueError):
        url = None
    if url is not None and url.password is None and "@" not in (url.host or ""):
        # no password to mask in the user's part
        return _without_secret_parameters(url.render_as_string(hide_password=True))
    return _without_secrets(text)


def _without_secrets(text: str) -> str:
    """`text`, not read as a URL, with every secret it may hold as ***: a libpq keyword/value
    DSN's (`host=db password=...`), a query's, and a password before the host. The DSN's and
    the query's first: a value's unencoded '@' is then no longer read as the last before the
    host, which would show the value's tail as one."""
    return _without_password(_without_secret_parameters(_without_dsn_secrets(text)))


# A query parameter whose name (decoded, in any case) holds one of these carries a secret:
# libpq's `password` and `sslpassword`, and a driver's `token`, `client_secret` and the like.
SECRET_PARAMETER_WORDS = ("password", "secret", "token")
_PARAMETER = re.compile(r"(?<=[?&])([^=&]*)=([^&]*)")


def _without_secret_parameters(text: str) -> str:
    """`text` with the value of each `name=value` after a `?` or `&` whose name carries a
    secret (SECRET_PARAMETER_WORDS) as ***, to the next `&` or the end."""

    def masked(parameter: re.Match[str]) -> str:
        secret = _is_secret(unquote_plus(parameter[1]))
        return f"{parameter[1]}=***" if secret else parameter[0]

    return _PARAMETER.sub(masked, text)


def _is_secret(name: str) -> bool:
    return any(word in name.lower() for word in SECRET_PARAMETER_WORDS)


# libpq's keyword/value form: `keyword = value` pairs apart by spaces, a value single-quoted
# (with \' and \\ inside) when it holds spaces. An unquoted value runs to the next `keyword=`
# (a space in it is libpq's error, and would show the rest) and an unterminated quoted one to
# the end: masking too much is the safer mistake.
_KEYWORD = r"[A-Za-z_][A-Za-z0-9_]*"
_DSN_PARAMETER = re.compile(
    rf"(?:^|(?<=\s))({_KEYWORD})\s*=\s*"
    rf"('(?:[^'\\]|\\.)*(?:'|$)|.*?(?=\s+{_KEYWORD}\s*=|\s*$))",
    re.DOTALL,
)


def _without_dsn_secrets(text: str) -> str:
    """`text` with the value of each `keyword=value` of a libpq keyword/value DSN whose
    keyword carries a secret (SECRET_PARAMETER_WORDS: `password`, `sslpassword`) as ***."""

    def masked(parameter: re.Match[str]) -> str:
        return f"{parameter[1]}=***" if _is_secret(parameter[1]) else parameter[0]

    return _DSN_PARAMETER.sub(masked, text)


DASK_SCHEMES = ("tcp", "tls", "ws", "wss", "ucx")
HOST_NAME = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$")


def dask_address(text: str) -> str:
    """`text` as a Dask scheduler address (`[scheme://]host[:port]`); ValueError otherwise."""
    expected = (
        "expected a Dask scheduler address such as tcp://dask-scheduler:8786 "
        f"(scheme {', '.join(DASK_SCHEMES)} or none, a host and an optional port)"
    )
    parts = urlsplit(text if "://" in text else f"tcp://{text}")
    # Dask takes none, but a password or token pasted in must not be shown
    shown = _without_secrets(text)
    try:
        parts.port  # noqa: B018  (ValueError if it is not a port)
    except ValueError:
        raise ValueError(f"{expected}, found {shown!r}") from None
    host = parts.hostname or ""
    well_formed = (
        parts.scheme in DASK_SCHEMES
        and (bool(HOST_NAME.fullmatch(host)) or _is_ip(host))
        and parts.username is None
        and not (parts.path or parts.query or parts.fragment)
    )
    if not well_formed:
        raise ValueError(f"{expected}, found {shown!r}")
    return text


def _without_password(address: str) -> str:
    """`address` with whatever sits between `user:` and the last `@` before the host as ***."""
    span = _password_span(address)
    return address if span is None else f"{address[: span[0]]}***{address[span[1] :]}"


def _password_span(address: str) -> tuple[int, int] | None:
    """Where the password of `[scheme://]user:password@host...` starts and ends, if it has
    one: to the address's last `@`, wherever it is. A password with an unencoded `@` followed
    by `/`, `?` or `#` (`p@ss/word@host`) is otherwise cut short and its tail shown as a host;
    masking a host or database name that holds an `@` too is the safer mistake. The user name
    ends at its first `:` (it may hold an `@`, `user@server` as some hosted PostgreSQL
    services name users), as SQLAlchemy reads it."""
    scheme = address.find("://")
    start = 0 if scheme < 0 else scheme + 3
    user = re.match(r"[^/:]*:", address[start:])
    if user is None:
        return None
    begin = start + user.end()
    last = address.rfind("@")
    return None if last < begin else (begin, last)


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def folder_problem(folder: Path) -> str | None:
    """Why files cannot be written in `folder` (made if missing), or None if they can."""
    if folder.exists():
        if not folder.is_dir():
            return "it is not a folder"
        return None if os.access(folder, os.W_OK | os.X_OK) else "this user may not write in it"
    parent = next((p for p in folder.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir():
        return f"it does not exist and {str(parent)!r} is not a folder to make it in"
    if not os.access(parent, os.W_OK | os.X_OK):
        return f"it does not exist and this user may not make it in {str(parent)!r}"
    return None


def listen_host(text: str) -> str:
    """`text` as an address to listen on (an IP address or a host name); ValueError otherwise
    (the server would fail only once started, without naming the setting)."""
    labels = text.split(".")
    numeric = all(label.isdigit() for label in labels)
    if _is_ip(text) or (not numeric and HOST_NAME.fullmatch(text)):
        return text
    raise ValueError(
        "expected an address to listen on, such as 127.0.0.1 (this machine only), 0.0.0.0 "
        f"(every interface), :: or a host name, found {text!r}"
    )


def trusted_proxy(text: str) -> str:
    """`text` as uvicorn reads a trusted proxy: '*' (any), an IP address or a network
    (10.0.0.0/8); ValueError otherwise (uvicorn would take a host name and never match it)."""
    if text == "*":
        return text
    try:
        ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(
            "expected the addresses of the reverse proxies to believe, comma-separated IP "
            "addresses or networks such as 127.0.0.1,10.0.2.0/24 (or '*' for any), found "
            f"{text!r}"
        ) from None
    return text


def is_loopback(host: str) -> bool:
    """Whether `host` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def refuse_open_api_off_loopback(auth: str, host: str) -> None:
    """ValueError if the API would serve without keys on an address others can reach."""
    if auth == "off" and not is_loopback(host):
        raise ValueError(
            f"HOMEWARD_AUTH=off is allowed only on a loopback host (127.0.0.1, ::1, localhost), "
            f"found host {host!r}; use HOMEWARD_AUTH=keys and `homeward keys create`"
        )


def refuse_auth_off_behind_proxy(auth: str, forwarded_allow_ips: tuple[str, ...] | None) -> None:
    """ValueError if the API would serve without keys behind a reverse proxy: every request
    the proxy passes on comes from loopback, so every client of the proxy would be admin."""
    if auth == "off" and forwarded_allow_ips is not None:
        raise ValueError(
            "HOMEWARD_AUTH=off is for requests from this machine only, and "
            "HOMEWARD_FORWARDED_ALLOW_IPS says a reverse proxy passes on others' requests (each "
            "would act as admin); use HOMEWARD_AUTH=keys and `homeward keys create`, or unset "
            "HOMEWARD_FORWARDED_ALLOW_IPS"
        )


# A request's Host with keys off, unless HOMEWARD_ALLOWED_HOSTS says otherwise: this machine's
# names. A page on attacker.example whose name is made to resolve to 127.0.0.1 (DNS rebinding)
# reaches a server on loopback from the browser, Host: attacker.example; refused, it is admin
# of nothing.
LOOPBACK_HOST_NAMES = ("localhost", "127.0.0.1", "::1")


def allowed_host(text: str) -> str:
    """`text` as a name a request's Host may give: a host name, an IP address (IPv6 with or
    without its brackets), `*.` and a domain (its subdomains), or `*` (any), lower case;
    ValueError otherwise (a port, a scheme or a path would never match)."""
    name = text.strip().lower()
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    wildcard = name.startswith("*.") and bool(HOST_NAME.fullmatch(name[2:]))
    if name == "*" or wildcard or _is_ip(bare) or HOST_NAME.fullmatch(name):
        return bare
    raise ValueError(
        "expected the host names requests may be sent to, comma-separated, without a scheme "
        "or port (every port is allowed), such as homeward.council.example,10.0.2.15 "
        f"('*.council.example' for its subdomains, '*' for any), found {text!r}"
    )


def refuse_any_host_with_auth_off(auth: str, allowed_hosts: tuple[str, ...] | None) -> None:
    """ValueError if the API would serve without keys to a request naming any host: a web
    page whose name resolves to this machine could then act as admin from a browser here."""
    if auth == "off" and allowed_hosts is not None and "*" in allowed_hosts:
        raise ValueError(
            "HOMEWARD_ALLOWED_HOSTS='*' is refused with HOMEWARD_AUTH=off: any web page whose "
            "name its owner points at 127.0.0.1 (DNS rebinding) could act as admin from a "
            "browser on this machine; name the hosts (default: localhost, 127.0.0.1, ::1) or "
            "use HOMEWARD_AUTH=keys"
        )


# HOMEWARD_* variables that are not settings: read by the test suite and CI only
NOT_SETTINGS = (
    "HOMEWARD_REQUIRE_POSTGRES",
    "HOMEWARD_REQUIRE_BROWSER",
    "HOMEWARD_REQUIRE_DATA",
    "HOMEWARD_TEST_PID_DIR",
)


def setting_names() -> tuple[str, ...]:
    """Every environment variable a setting is read from."""
    return ("DATABASE_URL", *(f"HOMEWARD_{name.upper()}" for name in Settings.model_fields))


def unknown_variables(environ: Mapping[str, str | None], where: str = "") -> list[str]:
    """A warning for each HOMEWARD_* variable that is no setting (a misspelt one is otherwise
    ignored without a word, and its default used), naming the setting it is nearest to.

    Names are matched regardless of case, as the settings read them (`homeward_port` sets the
    port); `where` (" in .env") says where a variable was found, if not in the environment."""
    known = {name.upper() for name in (*setting_names(), *NOT_SETTINGS)}
    warnings = []
    for name in sorted(environ):
        upper = name.upper()
        if upper.startswith("HOMEWARD_") and upper not in known:
            nearest = _nearest_setting(upper.removeprefix("HOMEWARD_"))
            hint = f"; did you mean HOMEWARD_{nearest}?" if nearest else ""
            warnings.append(f"{name}{where} is not a setting and is ignored{hint}")
    return warnings


def env_file_variables() -> list[tuple[Path, dict[str, str | None]]]:
    """The variables of each env file the settings read (`.env` in the working folder), with
    its path; none for a file that is missing."""
    configured = Settings.model_config.get("env_file")
    files = [configured] if isinstance(configured, str | Path) else list(configured or ())
    encoding = Settings.model_config.get("env_file_encoding")
    found = []
    for file in files:
        path = Path(file).expanduser()
        if path.is_file():
            found.append((path, dotenv_values(path, encoding=encoding)))
    return found


def _nearest_setting(suffix: str) -> str | None:
    """The setting (without HOMEWARD_) whose name holds `suffix` or is spelt nearest it."""
    names = [name.upper() for name in Settings.model_fields]
    holding = [name for name in names if suffix in name]
    nearest = holding or difflib.get_close_matches(suffix, names, n=1, cutoff=0.6)
    return nearest[0] if nearest else None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: read the environment once); logs a warning for each
    HOMEWARD_* variable, in the environment or the .env file, that is not a setting."""
    settings = Settings()
    warnings = unknown_variables(os.environ)
    for path, variables in env_file_variables():
        warnings.extend(unknown_variables(variables, where=f" in {path}"))
    for warning in warnings:
        log.warning("%s (the settings are listed in homeward/settings.py)", warning)
    return settings
