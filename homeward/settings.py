"""Service settings, read once from the environment (HOMEWARD_*), refused at start-up if unsafe."""

from __future__ import annotations

import ipaddress
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger
from pydantic import AliasChoices, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


class Settings(BaseSettings):
    """Everything the composition root needs; engines never read this, callers pass values in."""

    model_config = SettingsConfigDict(
        env_prefix="HOMEWARD_", env_file=".env", extra="ignore", allow_inf_nan=False
    )

    data_dir: Path = Field(
        default=Path("var"), description="where the SQLite file and exports live"
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "HOMEWARD_DATABASE_URL"),
        description="any SQLAlchemy URL; default is a SQLite file in data_dir",
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    scheduler_enabled: bool = True
    schedule_cron: str = Field(default="0 6 * * mon", description="crontab for the pipeline")
    schedule_misfire_grace_s: int = Field(default=6 * 3600, ge=1)
    forecast_horizon_weeks: int = Field(default=52, ge=1, le=104)
    forecast_backtest_folds: int = Field(default=3, ge=1, le=12)
    forecast_n_jobs: int = Field(default=2, ge=1, le=64)
    forecast_models: tuple[str, ...] | None = Field(
        default=None, description="candidate models (default: the engine's recommended set)"
    )
    dask_address: str | None = None
    solver: str = Field(default="highs", pattern="^(highs|cbc)$")
    # the pipeline's lease: renewed every third of it while a run lasts, so a lock left by a
    # killed process frees within this long (homeward.recovery closes its run then)
    pipeline_lock_ttl_s: int = Field(default=600, ge=60)
    auth: Literal["keys", "off"] = Field(
        default="keys",
        description="'keys': every /v1 request needs an API key; 'off' (loopback only): none does",
    )

    cors_origins: Annotated[tuple[str, ...], NoDecode] = Field(
        default=(),
        description="browser origins (comma-separated, e.g. https://dash.example.org) whose "
        "pages may call the API; empty: no CORS headers, so no other origin may",
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
            CronTrigger.from_crontab(value)
        except ValueError as exc:
            raise ValueError(
                f"expected a 5-field crontab such as '0 6 * * mon', found {value!r}: {exc}"
            ) from exc
        return value

    @model_validator(mode="after")
    def _auth_off_only_on_loopback(self) -> Settings:
        refuse_open_api_off_loopback(self.auth, self.host)
        return self

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


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached: read the environment once)."""
    return Settings()
