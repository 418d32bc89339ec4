"""The persistent tables: observations, runs, forecasts, metrics, configs, plans, locks, keys."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from sqlalchemy import JSON, DateTime, Float, ForeignKey, Index, Integer, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from models.base import Base


class SeriesRow(Base):
    """One time series: its stable id, frequency and extent."""

    __tablename__ = "series"
    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    freq: Mapped[str] = mapped_column(String(8))
    first_ds: Mapped[datetime] = mapped_column(DateTime)
    last_ds: Mapped[datetime] = mapped_column(DateTime)
    n_obs: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ObservationRow(Base):
    """One observed value of a series at a period start (long format)."""

    __tablename__ = "observations"
    series_id: Mapped[str] = mapped_column(
        String(200), ForeignKey("series.id", ondelete="CASCADE"), primary_key=True
    )
    ds: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    y: Mapped[float] = mapped_column(Float)
    import_id: Mapped[int] = mapped_column(ForeignKey("imports.id"))


class ImportRow(Base):
    """One accepted upload, stored whole: where it came from and what it held."""

    __tablename__ = "imports"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(500))
    rows: Mapped[int] = mapped_column(Integer)
    series_count: Mapped[int] = mapped_column(Integer)
    data_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # stored values the upload changed; null for imports stored before it was recorded
    revised: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # a replace (the series' stored history replaced whole): how many stored values of its
    # series it deleted, and how many of those were at periods it did not have; both null
    # for an upload merged into the stored history
    replaced: Mapped[int | None] = mapped_column(Integer, nullable=True)
    removed: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # who stored it (homeward.audit: a key's name, or `(auth off)`, `(cli)`); null for
    # rows stored before it was recorded (migration 0015)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class PlanningConfigRow(Base):
    """A versioned planning configuration (the JSON a planner or finance officer edits)."""

    __tablename__ = "planning_configs"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200))
    version: Mapped[str] = mapped_column(String(100))
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    body_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # A scenario (a what-if sent with POST /v1/plans) is kept for provenance but never becomes
    # the config the scheduler plans with.
    scenario: Mapped[bool] = mapped_column(default=False, server_default=false())
    # who stored it (homeward.audit), a what-if's config the key that asked for the plan;
    # null for configs stored before it was recorded (migration 0015)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


# What a run is, what started it and where it has got to: every value a run row may hold,
# here only, so the API's schema (api/schemas.py RunPublic) and its filters cannot drift from
# what the code writes (mypy checks every write against these).
RunKind = Literal["pipeline", "plan", "sweep"]
# `bench`: no release writes it now, but bench/pipeline_demo.py did until session 19, into
# whatever database DATABASE_URL named; a run it stored there is still served.
RunTrigger = Literal["scheduler", "api", "demo", "sweep", "recovery", "bench"]
RunStatus = Literal[
    "queued", "running", "succeeded", "forecast_only", "failed", "skipped", "interrupted"
]


class RunRow(Base):
    """One pass of the pipeline (or one requested plan), with everything needed to reproduce it."""

    __tablename__ = "runs"
    # ids are never given out twice, though purges delete the newest (migration 0018)
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[RunKind] = mapped_column(String(20))
    trigger: Mapped[RunTrigger] = mapped_column(String(20))
    status: Mapped[RunStatus] = mapped_column(String(20))
    # when work began: a queued run's is set again when a worker takes it (`queued_at` keeps
    # when it was asked for)
    started_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # when the run was recorded (queued, or started at once), never changed after; null for
    # runs stored before it was recorded (migration 0012): their queue time was overwritten
    queued_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    data_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    config_id: Mapped[int | None] = mapped_column(ForeignKey("planning_configs.id"), nullable=True)
    config_version: Mapped[str | None] = mapped_column(String(100), nullable=True)
    code_version: Mapped[str] = mapped_column(String(100))
    # a pipeline run's forecast and solver settings, hashed (homeward.pipeline.settings_hash)
    settings_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    models_chosen: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    solver_status: Mapped[str | None] = mapped_column(String(40), nullable=True)
    timings_s: Mapped[dict[str, float]] = mapped_column(JSON, default=dict)
    message: Mapped[str | None] = mapped_column(Text, nullable=True)
    # a fee sweep's table, one row per fee rate (homeward.planning.sweep_row); None otherwise
    sweep: Mapped[list[dict[str, Any]] | None] = mapped_column(JSON, nullable=True)
    # the process running a pipeline run ("<pid>@<host>", as it holds the lock), so recovery
    # leaves a run of a live process on this host alone (homeward.recovery)
    holder: Mapped[str | None] = mapped_column(String(200), nullable=True)
    # the sweep run a sweep's plan run (trigger "sweep") was made for; null for other runs.
    # Runs stored before 0012 got it from their sweep's rows in 0017 (where a row names them).
    # No foreign key: runs are never deleted, and SQLite drops only a plain column in place
    # (homeward.storage.drop_column_in_place), which a downgrade needs
    parent_run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    # who asked for it (homeward.audit: a key's name, `(auth off)`, `(cli)`, `(scheduler)`;
    # a sweep's plan runs, the sweep's); null for runs stored before it was recorded (0015)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    # the team and area totals the run reconciled bottom-up, each with the series it summed
    # (GET /v1/series `members`: an area's are its teams'); {} when it made none; null for
    # runs that are not pipeline runs, or stored before it was recorded (0016)
    totals: Mapped[dict[str, list[str]] | None] = mapped_column(JSON, nullable=True)


class ForecastRow(Base):
    """One forecast period of one series from one run, with its interval bounds."""

    __tablename__ = "forecasts"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ds: Mapped[datetime] = mapped_column(DateTime, primary_key=True)
    model: Mapped[str] = mapped_column(String(60))
    mean: Mapped[float] = mapped_column(Float)
    lo_80: Mapped[float] = mapped_column(Float)
    hi_80: Mapped[float] = mapped_column(Float)
    lo_95: Mapped[float] = mapped_column(Float)
    hi_95: Mapped[float] = mapped_column(Float)


class ForecastMetricRow(Base):
    """Backtest accuracy of one candidate model on one series in one run."""

    __tablename__ = "forecast_metrics"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    model: Mapped[str] = mapped_column(String(60), primary_key=True)
    chosen: Mapped[bool] = mapped_column(default=False)
    metrics: Mapped[dict[str, float | None]] = mapped_column(JSON)
    # the models a combination (mean_best2, ...) combined at the forecast origin, best first;
    # [] for a fitted model, None in a run stored before they were recorded (migration 0010)
    members: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)


class LevelShiftRow(Base):
    """A level shift the forecasting engine found in one series' history during one run."""

    __tablename__ = "level_shifts"
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"), primary_key=True)
    series_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    ds: Mapped[datetime] = mapped_column(DateTime, primary_key=True)  # first period at new level
    ratio: Mapped[float] = mapped_column(Float)  # level after / level before
    t_stat: Mapped[float] = mapped_column(Float)


class PlanRow(Base):
    """One solved (or explained-infeasible) allocation plan."""

    __tablename__ = "plans"
    # as runs' (a link, or a cached answer, naming a purged plan never names another)
    __table_args__ = ({"sqlite_autoincrement": True},)
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("runs.id", ondelete="CASCADE"))
    config_id: Mapped[int] = mapped_column(ForeignKey("planning_configs.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(40))
    objective_weighted_wait_days: Mapped[float | None] = mapped_column(Float, nullable=True)
    solve_seconds: Mapped[float] = mapped_column(Float)
    result: Mapped[dict[str, Any]] = mapped_column(JSON)
    # its run's `created_by`: who asked for the plan (or the run that made it); null for
    # plans stored before it was recorded (migration 0015)
    created_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class LockRow(Base):
    """A named lease in the database, so two processes never run the pipeline at once."""

    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # the run the holder is working on, once it is recorded as running (None before, and for
    # a holder that runs nothing): a running run the lock does not name has lost it
    run_id: Mapped[int | None] = mapped_column(Integer, nullable=True)


class ApiKeyRow(Base):
    """An API key: its name, role and the sha256 of its secret (never the secret itself)."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    # unique among active keys (uq_api_keys_active_name): `keys rotate` leaves the name's
    # old, revoked row beside its new one
    name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # when a request last authenticated with it, recorded at most once per
    # homeward.api_keys.LAST_USED_EVERY (so up to that much earlier); None: never used
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    # from then on requests with it get 401 (`expired_key`); None: it never expires
    expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)


# What the audit trail records (homeward.audit), here only, as RunKind is: the API's schema
# and filter (api/schemas.py AuditEventPublic) cannot drift from what the code writes.
AuditAction = Literal[
    "upload",
    "store_config",
    "plan",
    "sweep",
    "run",
    "delete_series",
    "purge",
    "create_key",
    "rotate_key",
    "revoke_key",
]


class AuditEventRow(Base):
    """One thing someone did that changed what is stored: when, who and what. Append-only:
    nothing updates or deletes a row (`homeward purge` keeps them), so it answers "who
    deleted that series?" after the series, and its runs, are gone."""

    __tablename__ = "audit_events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # a key's name, or `(auth off)`, `(cli)`, `(scheduler)` (homeward.audit)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[AuditAction] = mapped_column(String(40))
    # what it was done to and how much: ids made or deleted, counts (homeward.audit)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON)


Index("ix_plans_created_at", PlanRow.created_at)
Index(
    "uq_api_keys_active_name",
    ApiKeyRow.name,
    unique=True,
    sqlite_where=ApiKeyRow.revoked_at.is_(None),
    postgresql_where=ApiKeyRow.revoked_at.is_(None),
)
Index("ix_runs_started_at", RunRow.started_at)
# GET /metrics reads the newest pipeline run of a status, and counts runs queued or running,
# at every scrape: through this index, a few of its entries rather than every run
Index("ix_runs_status_kind_finished_at", RunRow.status, RunRow.kind, RunRow.finished_at)
Index("ix_forecasts_series", ForecastRow.series_id, ForecastRow.run_id)
