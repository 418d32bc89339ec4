"""Request and response schemas, used only at the HTTP edge (never as tables or engine types)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    WithJsonSchema,
    field_validator,
    model_validator,
)

from forecast.series import Freq
from models.tables import AuditAction, RunKind, RunStatus, RunTrigger
from optimise.config import ConfigValueError, PlanningConfig, percent_for_fraction
from optimise.result import PlanStatus
from optimise.solve import Solver


def _in_utc(moment: datetime) -> datetime:
    """Storage keeps UTC; SQLite hands it back without its zone, which JavaScript's Date
    would read as local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# A moment, sent with its zone (e.g. 2026-11-22T15:54:28.652417Z).
UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]
# A period's start, sent as a date (YYYY-MM-DD), as plans and uploads write it.
PeriodStart = date

# A response model whose every field is always sent, defaults included: each is required in
# its schema, so a generated client types it `x: T | null`, not `x?: T | null`.
_ALWAYS_SENT = ConfigDict(json_schema_serialization_defaults_required=True)


class RequestProblemPublic(BaseModel):
    """One thing wrong with a request's parameters, headers or JSON body (or its body as a
    whole: its size)."""

    location: str = Field(
        description="where: `query/limit`, `path/plan_id`, `header/Content-Type`, `body` (the "
        "body as a whole), `body/config/...`, each step escaped "
        "as in a JSON Pointer (RFC 6901: `~` as `~0`, `/` as `~1`, so a key `2026/27` is "
        "`.../2026~127`)"
    )
    expected: str
    found: str


class InputProblemPublic(BaseModel):
    """One thing wrong with an uploaded file or a body's content, located as the user sees it."""

    row: int | None = Field(description="the file's line (header = 1); null for the whole file")
    column: str | None = Field(description="the column or header at fault; null if no one is")
    expected: str
    found: str
    series_id: str | None = Field(description="the series at fault, if one is")


# What went wrong, as a client's code can test it: `detail` is for people and may be reworded,
# a code never is. README.md's API section says when each is sent.
ProblemCode = Literal[
    "not_authenticated",
    "role_too_weak",
    "no_such_route",
    "not_found",
    "no_plan_yet",
    "no_config_yet",
    "not_forecast_yet",
    "no_forecast_in_run",
    "method_not_allowed",
    "in_progress",
    "pipeline_busy",
    "demo_series",
    "series_in_use",
    "config_unreadable",
    "key_name_taken",
    "key_revoked",
    "key_expired",
    "conflict",
    "body_too_large",
    "too_many_jobs",
    "plan_not_solved",
    "validation_failed",
    "cors_not_allowed",
    "host_not_allowed",
    "proxied_with_auth_off",
    "bad_request",
    "internal_error",
    "database_unavailable",
    "http_error",
]


class ProblemPublic(BaseModel):
    """Every error's body (application/problem+json, RFC 9457), whatever raised it."""

    type: Literal["about:blank"] = Field(description="always about:blank (RFC 9457)")
    title: str = Field(description="the status's phrase, e.g. 'Not found'; 422 is 'Invalid input'")
    status: int = Field(description="the HTTP status code, as on the response")
    detail: str = Field(description="what was expected, what was found, and where")
    code: ProblemCode = Field(
        description="what went wrong, for a client's code to branch on (`detail` is for people "
        "and may be reworded): e.g. of the 404s, `no_such_route` (no endpoint at that path: a "
        "wrong base URL or a trailing slash), `not_found` (no such id), `no_plan_yet`, "
        "`not_forecast_yet`; of the 409s, `in_progress` (a run holds the pipeline: poll "
        "`Location`), `demo_series`, `series_in_use`; of the 401s, `key_revoked` (the key was "
        "revoked: use another), `key_expired` (see `expires_at`) and `not_authenticated` (no "
        "key, or one the server does not know)"
    )
    problems: list[RequestProblemPublic | InputProblemPublic] | None = Field(
        default=None,
        description="422, 413 and 409 (an upload into the synthetic demo's series) only: every "
        "problem found, each located",
    )
    role_needed: list[str] | None = Field(
        default=None, description="403 only: the roles that may do this"
    )
    role_found: str | None = Field(default=None, description="403 only: the key's role")
    expires_at: UtcDatetime | None = Field(
        default=None,
        description="401 `key_expired` only: when the key expired (UTC, ISO 8601); an admin "
        "gives its name a new key with `homeward keys rotate NAME --expires-in DAYS`",
    )
    run_id: int | None = Field(
        default=None,
        description="422 `plan_not_solved` only: the plan run recorded as failed, with the "
        "solver's status and words (`GET /v1/runs/{run_id}`)",
    )
    error_id: str | None = Field(
        default=None,
        description="500 and 503 only: the id of this error in the server's log (hex digits), "
        "to quote when reporting it",
    )


class LivePublic(BaseModel):
    status: Literal["ok"]


class ReadyPublic(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="the database's dialect: sqlite or postgresql")


class HealthPublic(BaseModel):
    status: Literal["ok"]
    database: str = Field(description="the database's dialect: sqlite or postgresql")
    scheduler: Literal["running", "off"]
    version: str = Field(
        description="the release serving, e.g. 0.1.0; with HOMEWARD_AUTH=off the full code "
        "version, e.g. 0.1.0+gf06902e, naming the commit"
    )


_CREATED_BY = (
    "the API key's name, never its secret (`homeward keys list` names it), whose request {what}, "
    "or what acted without a key: `(auth off)` (a request with HOMEWARD_AUTH=off), `(cli)` (a "
    "`homeward` command at the shell{cli}){sched}; no key's name begins with `(`. Null for "
    "{rows} stored before it was recorded (migration 0015). GET /v1/audit "
    "(admin) lists who did what"
)


SeriesKind = Literal["observed", "total"]


class SeriesPublic(BaseModel):
    """A series a client may chart. An observed series has stored history (GET
    /v1/observations) and a forecast backtested on it; a total (`referrals_team/<service>/<team>`,
    `referrals_area/<service>`) has no history of its own: its forecast (model `bottom_up`) is
    the sum of its districts' forecasts, and it has backtest metrics too, its districts'
    backtest forecasts summed and scored against the sum of their histories."""

    id: str
    kind: SeriesKind = Field(
        description="observed: stored history and forecast; total: no history of its own, a "
        "forecast (model `bottom_up`) that is the sum of other series' forecasts, backtested "
        "against the sum of their histories"
    )
    freq: Freq = Field(description="W-MON (weekly, periods start on Mondays) or MS (monthly)")
    first_ds: PeriodStart | None = Field(description="first observation; null for a total")
    last_ds: PeriodStart | None = Field(description="last observation; null for a total")
    n_obs: int = Field(description="observations stored; 0 for a total")
    source: str | None = Field(
        description="where the newest import still holding some of its history came from: "
        "`synthetic demo` for the invented demo data, a file's path for `homeward import`, "
        "`POST /v1/observations` for an upload; for a total, `synthetic demo` when every "
        "district series of its service holds the demo's history, else null"
    )
    forecast_run_id: int | None = Field(
        description="the newest run that forecast it and is no longer queued or running (GET "
        "/v1/forecasts/{series_id} serves that forecast); null while it has none, e.g. "
        "uploaded since the last pipeline run"
    )
    members: list[str] | None = Field(
        description="a total only: the ids of the series its served forecast (run "
        "`forecast_run_id`) is the sum of, as that pipeline run recorded them when it "
        "reconciled the total: a team's are its districts' series (`referrals/<service>/"
        "<district>`), an area's its teams' totals (each with its own `members`). They are "
        "the active config's teams at that run, less any district the run left out of step "
        "(its message says which), so not rebuilt from the config stored now. Null for an "
        "observed series, and for a total whose run did not record them (one stored before "
        "members were recorded: the next pipeline run records them)",
        examples=[["referrals/ot/rugby", "referrals/ot/warwick"]],
    )


_IN_SERIES_UNITS = "in the series' units per period (e.g. referrals a week)"


class ForecastPointPublic(BaseModel):
    ds: PeriodStart = Field(description="the period's first day")
    mean: float = Field(description=f"the forecast, {_IN_SERIES_UNITS}")
    lo_80: float = Field(
        serialization_alias="lo-80", description=f"bottom of the 80% interval, {_IN_SERIES_UNITS}"
    )
    hi_80: float = Field(
        serialization_alias="hi-80", description=f"top of the 80% interval, {_IN_SERIES_UNITS}"
    )
    lo_95: float = Field(
        serialization_alias="lo-95", description=f"bottom of the 95% interval, {_IN_SERIES_UNITS}"
    )
    hi_95: float = Field(
        serialization_alias="hi-95", description=f"top of the 95% interval, {_IN_SERIES_UNITS}"
    )


# Metrics that count something: served as integers, though stored as floats with the rest
COUNT_METRICS = ("folds",)


class ModelMetricsPublic(BaseModel):
    model_config = _ALWAYS_SENT

    model: str = Field(
        description="the candidate model, e.g. arima, ets, damped, ses; `bottom_up` for a total"
    )
    chosen: bool = Field(description="true for the model whose forecast is served")
    metrics: dict[str, int | float | None] = Field(
        description="its backtest scores by name: mase, rmsse and selection_mase (ratios to a "
        "naive forecast's error; below 1 beats it), smape (a fraction, 0 to 2), pinball (the "
        "mean pinball loss of the interval bounds, scaled as mase is), coverage_80 and "
        "coverage_95 (the share of backtest values inside each interval, 0 to 1), these three "
        "out of sample (each backtest window's intervals calibrated on the run's other "
        "windows, not its own; null where those leave too few errors to calibrate on), folds "
        "(how many backtest windows, an integer), total_error_q10 and total_error_q90 (the "
        "10% and 90% quantiles of a backtest window's total's relative miss, (actual - "
        "forecast) / forecast, pooled over the run's series); every name is present for every "
        "model, null where undefined (mase needs at least one scored backtest window)"
    )
    members: list[str] | None = Field(
        default=None,
        description="for a combination (mean_best2, median_best3, ...), the models its forecast "
        "combined, best first: those with the lowest mean MASE over all the series' backtest "
        "windows; empty for a fitted model; null in a run stored before they were recorded",
    )

    @field_validator("metrics", mode="after")
    @classmethod
    def _counts_as_integers(cls, metrics: dict[str, int | float | None]) -> dict[str, Any]:
        """A count (folds) stored as 3.0 is served as 3."""
        return {
            name: int(value)
            if name in COUNT_METRICS and isinstance(value, float) and value.is_integer()
            else value
            for name, value in metrics.items()
        }


class LevelShiftPublic(BaseModel):
    """A level shift found in the series' history: `ds` is the first period at the new level,
    `ratio` the seasonally adjusted level after over the level before."""

    model_config = ConfigDict(from_attributes=True)

    ds: PeriodStart
    ratio: float = Field(description="level after over level before (1.2: 20% higher)")
    t_stat: float = Field(description="the shift's t statistic: how clearly it stands out")


class ForecastPublic(BaseModel):
    model_config = _ALWAYS_SENT

    series_id: str
    run_id: int = Field(description="the run that made this forecast (GET /v1/runs/{id})")
    model: str = Field(
        description="the chosen model; `bottom_up` for a total (the sum of its districts' "
        "forecasts)"
    )
    points: list[ForecastPointPublic]
    backtest: list[ModelMetricsPublic] = Field(
        description="every candidate model's backtest; a total has one, `bottom_up`: its "
        "districts' backtest forecasts summed, scored against the sum of their histories"
    )
    level_shifts: list[LevelShiftPublic]
    history_changed: bool | None = Field(
        default=None,
        description="true when the series' stored history was updated (an upload) after this "
        "forecast's run started: the forecast is of the older history until the next pipeline "
        "run (POST /v1/runs starts one, or the weekly schedule); null for a total, which has "
        "no history of its own",
    )


def _change(unit: str) -> str:
    return f"this rate's figure minus the compared plan's, {unit}; null without one"


class SweepRowPublic(BaseModel):
    """One fee rate of a sweep: its plan's figures, and each one's change from the plan named
    by `compared_with_plan_id`: the active config's latest plan, or the sent config's plan at
    its own fee rate when it differs from the active config in more than the fee (null when
    there was none)."""

    model_config = _ALWAYS_SENT

    dfg_fee_rate: float | None = Field(
        description="the fee as a fraction of DFG works cost (0.1: 10%); null in a what-if's "
        "comparison whose config gives the fee by financial year (fees.by_year: no one rate), "
        "which a sweep refuses"
    )
    plan_id: int = Field(description="the what-if plan solved at this rate (GET /v1/plans/{id})")
    status: PlanStatus = Field(description="the plan's solver status")
    weighted_wait_days: float | None = Field(
        description="the plan's weighted waiting: waiting days weighted by service, days"
    )
    fee_income_gbp: float | None = Field(description="DFG fee income over the horizon, GBP")
    charge_income_gbp: float | None = Field(
        default=None,
        description="care charge income over the horizon (each service's charge per hour "
        "times its paying share), GBP; null in sweeps stored before it was reported",
    )
    staff_cost_gbp: float | None = Field(
        description="staff cost at each service's cost_per_hour_gbp, GBP: in-house staff "
        "hours, and care bought from providers (most domiciliary care) at its commissioned "
        "rate (the plan's revenue_by_service table splits it by service)"
    )
    agency_cost_gbp: float | None = Field(
        default=None,
        description="agency cost at the agency rate, GBP; null in sweeps stored before it was "
        "reported",
    )
    revenue_cost_gbp: float | None = Field(
        default=None,
        description="staff and agency cost together, GBP: what the revenue budget pays for hours "
        "before fee and charge income; null in sweeps stored before it was reported",
    )
    revenue_budget_gbp: float | None = Field(
        default=None,
        description="the revenue budget over the horizon (the revenue rows' budget_gbp summed), "
        "GBP: `net_revenue_cost_gbp` and `unspent_budget_gbp` add up to it; null in sweeps "
        "stored before it was reported",
    )
    net_revenue_cost_gbp: float | None = Field(
        default=None,
        description="staff and agency cost less DFG fee income and care charge income over the "
        "horizon, GBP: what the revenue budget pays net of fees and charges (the revenue rows' "
        "net_cost_gbp summed, so it and `unspent_budget_gbp` add up to the budget; null in "
        "sweeps stored before it was recorded)",
    )
    unspent_budget_gbp: float | None = Field(
        default=None,
        description="revenue budget left unspent over the horizon (the revenue rows' headroom "
        "summed, 0 where only the solver's round-off is left), GBP: fee income the plan "
        "cannot spend on hours (team ceilings bind) shows here (null in sweeps stored before "
        "it was recorded)",
    )
    staff_hours: float | None = Field(
        description="staff hours, the plan's staffing: in-house staff hours, and hours of care "
        "commissioned from providers (most domiciliary care)"
    )
    agency_hours: float | None = Field(
        default=None, description="agency hours; null in sweeps stored before they were reported"
    )
    works_completed: float | None = Field(
        default=None,
        description="DFG works cases completed over the horizon (fewer at a higher fee when "
        "the fee is charged to the grant); null in sweeps stored before it was reported",
    )
    dtoc_days: float | None = Field(
        description="days of delayed discharge from hospital, as the LP reckons them"
    )
    simulated_dtoc_days: float | None = Field(
        default=None,
        description="days of delayed discharge in the plan's queue simulation (queues near full "
        "use wait longer than the LP's fluid model predicts, so this can be well above "
        "`dtoc_days`: quote both); null in sweeps stored before it was reported",
    )
    weighted_wait_days_change: float | None = Field(description=_change("days"))
    fee_income_gbp_change: float | None = Field(description=_change("GBP"))
    charge_income_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    staff_cost_gbp_change: float | None = Field(description=_change("GBP"))
    agency_cost_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    revenue_cost_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    revenue_budget_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    net_revenue_cost_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    unspent_budget_gbp_change: float | None = Field(default=None, description=_change("GBP"))
    staff_hours_change: float | None = Field(description=_change("hours"))
    agency_hours_change: float | None = Field(default=None, description=_change("hours"))
    works_completed_change: float | None = Field(default=None, description=_change("cases"))
    dtoc_days_change: float | None = Field(description=_change("days"))
    simulated_dtoc_days_change: float | None = Field(default=None, description=_change("days"))
    compared_with_plan_id: int | None = Field(
        default=None,
        description="the plan each `_change` is from (GET /v1/plans/{id}): the active config's "
        "latest plan when the sweep started; or, for a config sent that differs from the active "
        "one in more than its fee rate (or with none active), that config planned at its own fee "
        "rate, as the run's message says; null when there was none, so every change is null",
    )
    not_comparable: str | None = Field(
        default=None,
        description="why the changes are null though there is a plan to compare with: its "
        "periods differ from this plan's (another `horizon_periods` or `period_days`, or a "
        "later start once newer referrals are stored), so its totals are over other weeks "
        "(`plan 12 covers 26 periods of 7 days from 2026-01-05, plan 1 52 periods of 7 days "
        "from 2026-01-05: ...`), or, for a what-if, the active config cannot be read (stored "
        "by an older release: `the active config (id 4) is not valid: ...`); or either plan's "
        "`status` is not optimal (`plan 12 is infeasible_relaxed, not optimal: ...`): a relaxed "
        "plan broke a limit to exist, so a fall in its waiting is no improvement; null when "
        "both are optimal and cover the same periods",
    )


class RunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True) | _ALWAYS_SENT

    id: int = Field(description="the run's id (GET /v1/runs/{id})")
    kind: RunKind = Field(description="pipeline (forecast and plan), plan or sweep")
    trigger: RunTrigger = Field(
        description="what started it: scheduler, api, demo (`homeward demo`), sweep for a "
        "sweep's plans, or recovery (the one retry of a pipeline run a stop cut off)"
    )
    status: RunStatus = Field(
        description="queued, running, succeeded, forecast_only (a pipeline run that stored "
        "forecasts but planned nothing: no planning config, or no referral series), failed, "
        "skipped (another run held the pipeline, or nothing to do) or interrupted (cut off by "
        "a stop)"
    )
    started_at: UtcDatetime = Field(
        description="when work began; while it is queued, when it was queued (a queued run's "
        "start time is set again when a worker takes it: `queued_at` keeps when it was asked "
        "for)"
    )
    finished_at: UtcDatetime | None = Field(description="null while queued or running")
    data_hash: str | None = Field(
        description="sha256 of the observations a pipeline run read, or of a plan run's demand"
    )
    config_version: str | None = Field(description="the config's version and hash prefix")
    code_version: str
    models_chosen: dict[str, str] = Field(description="series id -> the model forecast with")
    solver_status: str | None = Field(description="the plan's solver status, if it planned")
    timings_s: dict[str, float] = Field(
        description="step -> seconds it took, e.g. forecast_s, plan_s"
    )
    message: str | None = Field(description="what happened, in words (progress for a sweep)")
    plan_id: int | None = Field(
        default=None, description="the plan this run made, once it has made one"
    )
    sweep: list[SweepRowPublic] | None = Field(
        default=None,
        description="a fee sweep's table, one row per rate as each is planned; null for other runs",
    )
    config_id: int | None = Field(
        default=None,
        description="the stored config it planned (GET /v1/configs/{id}); null for a run "
        "that has not read one yet, or a pipeline run with no config active",
    )
    queued_at: UtcDatetime | None = Field(
        default=None,
        description="when it was asked for (queued, or started at once), never changed; null "
        "for runs stored before it was recorded",
    )
    parent_run_id: int | None = Field(
        default=None,
        description="for a fee sweep's plan run (trigger sweep), the sweep's run (GET "
        "/v1/runs/{id}), whose `sweep` rows name its plans by `plan_id`; null for other runs",
    )
    created_by: str | None = Field(
        default=None,
        description=_CREATED_BY.format(
            what="asked for it (a sweep's plan runs: the sweep's)",
            cli=": `homeward demo`",
            sched=", `(scheduler)` (the schedule's runs, and its retry, trigger recovery)",
            rows="runs",
        ),
    )


# the shape of a whole planning config: a request's `config` without one of these is a part
_WHOLE_CONFIG = ("services", "teams", "districts")
_SEND_A_WHOLE_CONFIG = (
    "a whole planning config: a what-if is not merged with the active config, so send GET "
    "/v1/configs/active's `body` with your change"
)


def _config_shape(data: Any) -> Any:
    """One problem, saying what to send, for the three ways a what-if's config is commonly
    sent wrong, each of which pydantic would answer with 8 to 14 problems none of which says
    it: the config's fields at the top of the body (no `{"config": ...}` around them); the
    whole GET /v1/configs/{id} answer in `config` (its `body` is the config: PlanningConfig
    says so); and a part of a config (`{"config": {"fees": {...}}}`)."""
    if not isinstance(data, dict):
        return data
    fields = set(PlanningConfig.model_fields)
    if "config" not in data and fields & set(data):
        raise ConfigValueError(
            "config",
            ("config",),
            'the config inside `{"config": {...}}` (a whole config: GET /v1/configs/active\'s '
            "`body` with your change), with `solver` beside it if wanted",
            f"config fields at the top of the body: {', '.join(sorted(fields & set(data)))}",
        )
    config = data.get("config")
    if not isinstance(config, dict):
        return data
    # the whole GET answer as `config`: PlanningConfig's own check says to send its `body`
    missing = [name for name in _WHOLE_CONFIG if name not in config]
    # a part: every key a config field; a whole config with a key misspelt ('district') is
    # left to pydantic, which names that key and the field meant
    if missing and set(config) <= fields:
        raise ConfigValueError(
            "config",
            ("config",),
            _SEND_A_WHOLE_CONFIG,
            f"a part of one: {', '.join(sorted(config)) or 'no fields'} without "
            f"{', '.join(missing)}",
        )
    return data


class PlanCreate(BaseModel):
    """A plan request: a planning config (default: the active one) and a solver."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        # `{}` plans the active config now; a what-if sends a whole config (GET
        # /v1/configs/active's `body` with a field changed, e.g. fees.dfg_fee_rate)
        json_schema_extra={"examples": [{}, {"solver": "highs"}]},
    )

    config: PlanningConfig | None = Field(
        default=None,
        description="a planning config (see GET /v1/configs/active); default: the active one",
    )
    solver: Literal["highs", "cbc"] = "highs"

    _shape = model_validator(mode="before")(_config_shape)

    def config_body(self) -> dict[str, Any] | None:
        """The config as the JSON body planning stores (None: use the active config)."""
        return None if self.config is None else self.config.model_dump(mode="json")


# Strict: a JSON true is not a 100% fee (int rates such as 0 and 1 are still numbers)
FeeRate = Annotated[float, Strict(), Field(ge=0, le=1)]


class SweepCreate(BaseModel):
    """A fee sweep: one what-if plan per DFG fee rate, from a config (default: the active one)."""

    model_config = ConfigDict(
        extra="forbid",
        allow_inf_nan=False,
        json_schema_extra={"examples": [{"dfg_fee_rates": [0.05, 0.1, 0.15, 0.2]}]},
    )

    config: PlanningConfig | None = Field(
        default=None,
        description="a planning config (see GET /v1/configs/active); default: the active one",
    )
    dfg_fee_rates: list[FeeRate] = Field(
        min_length=2,
        max_length=12,
        description="2 to 12 different DFG fee rates, each from 0 to 1, planned in this order",
    )
    solver: Literal["highs", "cbc"] = "highs"

    _shape = model_validator(mode="before")(_config_shape)

    @field_validator("dfg_fee_rates", mode="before")
    @classmethod
    def _no_percentages(cls, rates: Any) -> Any:
        """A rate of 15 meant 15%: named as such at its index, not only "at most 1"."""
        for index, rate in enumerate(rates if isinstance(rates, list) else []):
            if said := percent_for_fraction(rate):
                raise ConfigValueError("dfg_fee_rates", (index,), *said)
        return rates

    @field_validator("dfg_fee_rates")
    @classmethod
    def _each_rate_once(cls, rates: list[float]) -> list[float]:
        """A rate sent twice would be solved twice into the same plan: refused at its index."""
        for index, rate in enumerate(rates):
            if rate in rates[:index]:
                raise ConfigValueError(
                    "dfg_fee_rates",
                    (index,),
                    "each rate once",
                    f"{rate!r} again (first at index {rates.index(rate)})",
                )
        return rates

    def config_body(self) -> dict[str, Any] | None:
        """The config as the JSON body planning stores (None: use the active config)."""
        return None if self.config is None else self.config.model_dump(mode="json")


_PLAN_CONFIG_ID = "the config it was planned with (GET /v1/configs/{id})"
_PLAN_SCENARIO = (
    "true for a what-if: a plan made with a changed config sent to POST /v1/plans; false for "
    "a plan of the active config when it was made (the pipeline's, or POST /v1/plans without "
    "a changed config), the only kind GET /v1/plans/latest returns"
)


_PLAN_ID = "the plan's id (GET /v1/plans/{id})"
_PLAN_RUN_ID = "the run that made it (GET /v1/runs/{id})"
_PLAN_STATUS = (
    "the solver's outcome: optimal, infeasible_relaxed, infeasible, time_limit or error (also "
    "when the solver's answer breaks the plan's own constraints: such an answer is never used)"
)
_PLAN_OBJECTIVE = "weighted waiting days (waiting days weighted by service); null when not solved"
_PLAN_SOLVE = "seconds the solver took"


_PLAN_CREATED_BY = _CREATED_BY.format(
    what="asked for its run (GET /v1/runs/{id}'s `created_by`): a what-if's or a sweep's "
    "requester, or the pipeline run's",
    cli=": `homeward demo`",
    sched=", `(scheduler)` (a scheduled pipeline run's plan)",
    rows="plans",
)


class PlanSummaryPublic(BaseModel):
    """A plan in the history (GET /v1/plans): what it is, not its result."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description=_PLAN_ID)
    created_at: UtcDatetime
    run_id: int = Field(description=_PLAN_RUN_ID)
    config_id: int = Field(description=_PLAN_CONFIG_ID)
    scenario: bool = Field(description=_PLAN_SCENARIO)
    status: PlanStatus = Field(description=_PLAN_STATUS)
    objective_weighted_wait_days: float | None = Field(description=_PLAN_OBJECTIVE)
    solve_seconds: float = Field(description=_PLAN_SOLVE)
    first_ds: PeriodStart | None = Field(
        description="the first period's start date, YYYY-MM-DD, as the plan's result gives "
        "it; null for a plan stored before results said it"
    )
    last_ds: PeriodStart | None = Field(
        description="the last period's start date, YYYY-MM-DD (the plan ends period_days "
        "after it); null for a plan stored before results said it"
    )
    periods: int | None = Field(
        description="how many periods the plan covers; null for a plan stored before results "
        "said it"
    )
    warnings: list[str] = Field(
        description="the plan's warnings, as in its result (a stale start, demand it cannot "
        "keep up with, money in a likely wrong unit); empty when it has none"
    )
    created_by: str | None = Field(description=_PLAN_CREATED_BY)


# A plan's result, as stored (optimise/result.py, PlanResult.to_dict): documented so clients can
# generate types, and served as stored. Every model keeps keys it does not name (extra
# "allow"); a scalar or table an older plan lacks is left out (None, or [] for a table); a
# table's row has every field its schema names, a nullable one an older plan did not store
# served as null (_StoredRow). Numbers are null where the figure is undefined (NaN or infinite
# when solved, e.g. a wait with no cases served), and typed nullable where that can happen.
_STORED = ConfigDict(extra="allow")
_DS = "the period's first day, YYYY-MM-DD"
# Stored as text, always a date: typed so, so a generated client can read it as one.
StoredDate = Annotated[str, WithJsonSchema({"type": "string", "format": "date"})]
_PERIOD = "the plan's period, 1 for the first"


class _StoredRow(BaseModel):
    """A row of a stored plan's table. Every field is sent (`required` in /openapi.json): a
    nullable field an older plan did not store (a column added since, such as a shadow
    price's `service`) is served as null, so a client tests for null, never for a missing
    key. A field typed without null is in every row every release has stored."""

    model_config = _STORED

    @model_validator(mode="before")
    @classmethod
    def _unstored_as_null(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        unstored = {name: None for name in _nullable_fields(cls) if name not in data}
        return {**data, **unstored} if unstored else data


@functools.cache
def _nullable_fields(model: type[BaseModel]) -> tuple[str, ...]:
    """The fields of a row model that may be null, worked out once per model rather than for
    every row served."""
    return tuple(
        name for name, info in model.model_fields.items() if type(None) in get_args(info.annotation)
    )


class PlanHoursRowPublic(_StoredRow):
    """Care hours planned per service, district and period."""

    service: str
    district: str
    team: str = Field(description="the team that covers the district")
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    hours: float = Field(description="staff hours of care, hours")
    cases_served: float = Field(description="cases served, cases")


# a staffing or revenue_by_service row's staff_hours: not all are a team's own
_STAFF_HOURS = (
    "hours paid at the service's cost_per_hour_gbp (by financial year where the config gives "
    "cost_per_hour_gbp_by_year): in-house staff hours, or for care bought from providers (most "
    "domiciliary care) the hours commissioned"
)


class PlanStaffingRowPublic(_StoredRow):
    """A team's hours per service and period, with its limits (hours)."""

    service: str
    team: str
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    staff_hours: float = Field(description=_STAFF_HOURS)
    agency_hours: float = Field(description="agency hours")
    hours_used: float = Field(description="hours spent on care")
    min_hours: float = Field(description="the team's floor, hours")
    max_hours: float = Field(description="the team's ceiling, hours")
    agency_max_hours: float = Field(description="agency ceiling, hours")
    fte: float | None = Field(
        description="in-house staff hours as full-time equivalents: staff_hours / (the service's "
        "hours_per_fte x weeks in the period); only in plans whose config gives hours_per_fte "
        "for some service, null for a service without it (and in plans stored before it)",
    )


class PlanCapitalRowPublic(_StoredRow):
    """DFG (Disabled Facilities Grant) works per district and period."""

    district: str
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    works_completed: float = Field(description="DFG works completed, cases")
    capital_gbp: float = Field(description="DFG capital spent, GBP")
    fee_income_gbp: float = Field(description="DFG fee income, GBP")


class PlanCapitalTotalRowPublic(_StoredRow):
    """DFG capital over the horizon per district."""

    district: str
    capital_spent_gbp: float = Field(description="GBP")
    capital_available_gbp: float = Field(
        description="GBP; with capital by financial year (capital_by_year_gbp), the years' sum "
        "(each year's is bounded on its own: see capital_by_year)"
    )


class PlanCapitalYearRowPublic(_StoredRow):
    """DFG works and capital per district and financial year (from 1 April), summed over the
    year's periods: spend against each year's allocation, where the config gives capital by
    financial year (`capital_by_year_gbp`)."""

    district: str
    year: str = Field(description="financial year, e.g. 2026-27")
    periods: int = Field(description="the plan's periods starting in it")
    works_completed: float = Field(description="DFG works completed, cases")
    capital_spent_gbp: float = Field(description="DFG capital spent, GBP")
    capital_available_gbp: float | None = Field(
        description="the year's capital (capital_by_year_gbp), GBP; null where the config gives "
        "capital over the whole horizon (capital_gbp): see capital_total"
    )
    capital_left_gbp: float | None = Field(
        description="the year's capital less its spend, GBP (not carried into the next year); "
        "null as capital_available_gbp"
    )


class PlanBacklogRowPublic(_StoredRow):
    """Cases waiting at the end of a period, per service (`dfg_works` for DFG works),
    district and priority."""

    service: str = Field(description="a care service, or `dfg_works`")
    district: str
    priority: str = Field(description="e.g. urgent, standard")
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    backlog_cases: float = Field(description="cases waiting, cases")
    cases_served: float = Field(description="cases")
    avg_wait_days: float | None = Field(
        description="backlog x period days / cases served, days; null if none"
    )


class PlanRevenueRowPublic(_StoredRow):
    """Revenue per period over every budget (GBP)."""

    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    staff_cost_gbp: float = Field(description="GBP")
    agency_cost_gbp: float = Field(description="GBP")
    fee_income_gbp: float = Field(description="DFG fees, GBP")
    charge_income_gbp: float = Field(description="care charges, GBP")
    budget_gbp: float = Field(description="revenue budget, GBP")
    net_cost_gbp: float = Field(description="staff + agency cost - fee and charge income, GBP")
    headroom_gbp: float = Field(description="budget - net cost, GBP")


class PlanRevenueBudgetRowPublic(_StoredRow):
    """Revenue per budget and period (GBP): a `revenue` row for one budget. Its own schema,
    not `PlanRevenueRowPublic` with an optional `budget`, so that every row of either table
    has every field its schema names."""

    budget: str = Field(description="a team with its own budget, or `pooled`")
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    staff_cost_gbp: float = Field(description="GBP")
    agency_cost_gbp: float = Field(description="GBP")
    fee_income_gbp: float = Field(description="DFG fees, GBP")
    charge_income_gbp: float = Field(description="care charges, GBP")
    budget_gbp: float = Field(
        description="the budget's revenue for the period, GBP: revenue_budget_gbp_per_period, "
        "or where given by financial year (revenue_budget_gbp_by_year) the period's share, its "
        "year's amount x its days in the year / the year's days"
    )
    net_cost_gbp: float = Field(description="staff + agency cost - fee and charge income, GBP")
    headroom_gbp: float = Field(description="budget - net cost, GBP")


class PlanRevenueYearRowPublic(_StoredRow):
    """Revenue per budget and financial year (from 1 April), summed over the year's periods
    (GBP): where a `financial_year` budget binds."""

    budget: str = Field(description="a team with its own budget, or `pooled`")
    year: str = Field(description="financial year, e.g. 2025-26")
    periods: int = Field(description="the plan's periods starting in it")
    staff_cost_gbp: float = Field(description="GBP")
    agency_cost_gbp: float = Field(description="GBP")
    fee_income_gbp: float = Field(description="DFG fees, GBP")
    charge_income_gbp: float = Field(description="care charges, GBP")
    budget_gbp: float = Field(
        description="revenue budget for the plan's periods starting in the year, GBP (the "
        "periods' budgets summed: by year, each period's share of its years')"
    )
    net_cost_gbp: float = Field(description="staff + agency cost - fee and charge income, GBP")
    headroom_gbp: float = Field(description="budget - net cost, GBP")
    year_budget_gbp: float | None = Field(
        description="the whole financial year's budget, as revenue_budget_gbp_by_year gives it, "
        "GBP, of which budget_gbp is the share for the plan's periods; null where the budget is "
        "given per period (revenue_budget_gbp_per_period)"
    )
    year_periods: int | None = Field(
        description="the periods of the plan's grid (every period_days from its first period, "
        "both ways; 12 for calendar months) starting in the whole year: with `periods` fewer, "
        "the plan covers only part of the year, as the summary's `part_year[2026-27]` says. "
        "Worked out from the plan's horizon when it is read, not stored, so plans stored before "
        "it have it too; null where the plan does not say its grid"
    )


class PlanRevenueServiceRowPublic(_StoredRow):
    """What each service's hours cost per team and period, and the care charges its cases
    bring: the `revenue` rows' costs and charges split by service (summed over services and
    teams, each period's are that row's; DFG fee income is no care service's, so only there)."""

    service: str
    team: str
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    staff_hours: float = Field(description=_STAFF_HOURS)
    agency_hours: float = Field(description="agency hours")
    staff_cost_gbp: float = Field(
        description="staff_hours x cost_per_hour_gbp (in-house or commissioned rate; the "
        "period's financial year's where the config gives cost_per_hour_gbp_by_year), GBP"
    )
    agency_cost_gbp: float = Field(
        description="agency_hours x agency_cost_per_hour_gbp (agency_premium x the period's "
        "cost_per_hour_gbp), GBP"
    )
    charge_income_gbp: float = Field(description="care charges on the hours served, GBP")


class PlanDtocRowPublic(_StoredRow):
    """Delayed transfer of care: days people stay in hospital waiting for care."""

    service: str
    district: str
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    dtoc_days: float = Field(description="delayed days in hospital, days")


# A shadow price's or binding row's coordinates, one field each, as its `index` joins them
# ('ot/north/3'): null where the row has no such axis, absent from plans stored before rows
# carried them
_WHERE = {
    "service": "the service id, e.g. ot",
    "team": "the team id",
    "district": "the district id",
    "budget": "the revenue budget: a team's id, or pooled",
    "year": "the financial year, e.g. 2025-26",
    "period": "the period, 1 the plan's first",
}


def _where(name: str) -> Any:
    return Field(description=_WHERE[name])


class PlanShadowPriceRowPublic(_StoredRow):
    """What one more unit of a constraint's bound is worth, in users' units."""

    constraint: str = Field(description="e.g. revenue, capital")
    index: str = Field(description="which row: its labels, e.g. a period")
    dual: float | None = Field(description="the solver's dual, per unit of bound")
    value: float | None = Field(description="the price, in `unit`")
    unit: str = Field(
        description="e.g. waiting days saved per GBP 1,000 (objective days, waiting plus the "
        "worst-district term, when equity.worst_district_weight > 0)",
    )
    statement: str = Field(description="the price as a sentence")
    range_low: float | None = Field(
        description="the price holds for a bound from this (null: without limit downwards, "
        "e.g. a floor that does not bind, or unranged when range_high is null too)",
    )
    range_high: float | None = Field(description="... to this (null: without limit upwards)")
    ds: StoredDate | None = Field(
        description="the start date of the row's period, YYYY-MM-DD (null: a row without a "
        "period, e.g. a district's DFG capital over the plan or a financial year's budget)",
    )
    service: str | None = _where("service")
    team: str | None = _where("team")
    district: str | None = _where("district")
    budget: str | None = _where("budget")
    year: str | None = _where("year")
    period: int | None = _where("period")


class PlanBindingRowPublic(_StoredRow):
    """A constraint at its bound. `works_limit` rows are a district's works at its
    `max_works_per_period` (a bound on the works column: `dual` is its reduced cost).
    `team_hours_used` rows (a team's hours used at the hours it pays for) are bookkeeping,
    not a limit a planner sets: they bind in every period whose paid hours are all used, and
    the run's and plan's messages leave them out of their counts of binding limits."""

    constraint: str
    index: str
    activity: float = Field(description="the row's value, in `unit`")
    bound: float = Field(description="in `unit`")
    dual: float | None = Field(
        description="the solver's dual: weighted waiting days per unit of bound"
    )
    unit: str = Field(description="GBP, hours, cases, days or works")
    service: str | None = _where("service")
    team: str | None = _where("team")
    district: str | None = _where("district")
    budget: str | None = _where("budget")
    year: str | None = _where("year")
    period: int | None = _where("period")


class PlanRelaxationRowPublic(_StoredRow):
    """A constraint that had to give for a plan to exist (status infeasible_relaxed)."""

    constraint: str
    index: str = Field(
        description="which row, as shadow_prices and binding give it (e.g. ot/north/3), so the "
        "tables join on constraint and index",
    )
    where: str | None = Field(description="the row in words, e.g. service ot, team north, period 3")
    amount: float = Field(description="how far it gave, in `unit`")
    unit: str = Field(description="GBP, hours, cases or days")
    penalty_per_unit: float = Field(description="weighted waiting days charged per unit")


class PlanDistrictWaitRowPublic(_StoredRow):
    """Over the horizon, per service (`dfg_works` for DFG works) and district."""

    service: str
    district: str
    hours: float | None = Field(description="hours; null for dfg_works")
    cases_served: float = Field(description="cases")
    person_days: float = Field(description="days waited, summed")
    avg_wait_days: float | None = Field(description="person-days / cases served, days")


class PlanBaselineRowPublic(_StoredRow):
    """The plan and simple baselines at the same staff spend, evaluated alike."""

    name: str = Field(description="plan, proportional_to_demand or carried_forward")
    weighted_wait_days: float = Field(description="days")
    dtoc_days: float = Field(description="days")
    staff_cost_gbp: float = Field(
        description="staff hours paid at each service's cost_per_hour_gbp (in-house, or the "
        "commissioned rate for care bought from providers), GBP"
    )
    agency_cost_gbp: float | None = Field(
        description="agency hours at the agency rate, GBP (0 for a baseline)"
    )
    vs_plan_pct: float | None = Field(description="weighted waiting over the plan's, % change")


class PlanSimulationRowPublic(_StoredRow):
    """The LP's waits against a queue simulation of the plan, per service and district."""

    service: str
    district: str
    lp_person_days: float = Field(description="days")
    sim_person_days: float = Field(description="days")
    lp_wait_days: float | None = Field(description="mean wait, days")
    sim_wait_days: float | None = Field(description="mean wait, days")
    difference_pct: float | None = Field(description="simulated over LP, % change")
    flagged: bool = Field(description="differs by more than 15%")


class PlanDemandRowPublic(_StoredRow):
    """New cases per period: forecast, and what the plan provides for."""

    service: str
    district: str
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    forecast_cases: float = Field(description="forecast mean, cases")
    planned_cases: float = Field(
        description="cases (raised in winter periods under a winter config)"
    )
    winter_index: float | None = Field(
        description="the hospital-pressure index that raised this period's planned cases (1.0 "
        "= a normal period): the config's winter.pressure_series forecast mean over the "
        "centred annual mean of its history and forecast around that calendar month (its "
        "seasonal factor, without its growth), raised for a q90 or q975 pressure_level by how "
        "far the series' winter months rose above their usual factor in its 1-in-10 (1-in-40) "
        "winter months in history; blank outside "
        "the winter months, and absent without a winter.pressure_series. GET /v1/winter gives "
        "a series' index over its trailing year of history instead, so the two differ",
    )


class PlanDemandRiskRowPublic(_StoredRow):
    """The plan's hours against low and high demand, per scenario, service and district."""

    scenario: str = Field(
        description="low or high (every period's planned demand times the series' low_factor "
        "or high_factor: one plus the 10% or 90% quantile of how far the forecasts' backtest "
        "totals missed), or planned (the plan's own demand)",
    )
    service: str = Field(description="a service, or dfg_works")
    district: str
    new_cases: float = Field(
        description="cases that arrive over the horizon: the scenario's demand for the service "
        "and district, summed over the periods (under `planned`, the demand table's "
        "`planned_cases`); for domcare (home care), plus the reablement completions that go on "
        "to it, `flows.p_reab_dom` times the district's reablement cases served in each period "
        "but the last (they arrive the period after), so it is more than the demand table's "
        "cases; for dfg_works, the works referred, `flows.p_ot_dfg` times the district's OT "
        "cases served",
    )
    cases_served: float = Field(description="cases served over the horizon")
    person_days: float = Field(description="days waited, all cases")
    avg_wait_days: float | None = Field(description="person-days over cases served, days")
    end_backlog_cases: float = Field(description="cases still waiting at the end of the horizon")
    dtoc_days: float = Field(description="delayed days in hospital")


class PlanRiskPeriodRowPublic(_StoredRow):
    """What a high year needs, period by period (a week or a month, as the plan's
    period_days): per service (and DFG works) and period, over every district, the plan's
    used hours held fixed under the planned and the high demand of `demand_risk` (the same
    evaluation, period by period, so each column summed over the periods, or at the last
    period, gives that table's planned and high totals), and the contingency: the hours that
    would serve the high year's extra arrivals in the period they arrive, so the queues stay
    as planned, split per team into what idle paid hours cover, what can be bought within the
    config's limits and the revenue budget the plan leaves (and its cost), what the teams'
    limits allow but that budget does not pay for (and its cost), and what is beyond the
    teams' limits; and for DFG works, their capital."""

    service: str = Field(description="a service, or dfg_works")
    period: int = Field(description=_PERIOD)
    ds: StoredDate = Field(description=_DS)
    planned_waiting_cases: float = Field(
        description="cases waiting at the period's end under the plan's own demand, every "
        "district's (at the last period, `demand_risk`'s planned `end_backlog_cases` summed)"
    )
    high_waiting_cases: float = Field(
        description="cases waiting at the period's end if referrals come in high (every "
        "period's planned demand times the series' high factor, as `demand_risk`'s high rows) "
        "and the plan's hours are not raised"
    )
    extra_waiting_cases: float = Field(
        description="high_waiting_cases less planned_waiting_cases: the cases a high year "
        "leaves waiting by the period's end without contingency hours (it grows period by "
        "period, as the plan uses every hour it buys; the plan's used hours are held fixed, so "
        "a team's idle paid hours, which would shorten it, are not counted here)"
    )
    planned_dtoc_days: float = Field(
        description="delayed days in hospital in the period under the plan's own demand "
        "(summed over the periods, `demand_risk`'s planned `dtoc_days`); 0 for a service "
        "with no hospital delays, and for dfg_works"
    )
    high_dtoc_days: float = Field(
        description="delayed days in hospital in the period if referrals come in high and the "
        "plan's hours are not raised"
    )
    extra_cases_arriving: float = Field(
        description="new cases a high year brings in the period beyond the plan's, every "
        "district's, when each is served in the period it arrives: the high less the planned "
        "referrals, and for domcare also the share (flows.p_reab_dom) of reablement's extra "
        "cases of the period before that go on to home care; for dfg_works, the works OT's "
        "extra cases refer (flows.p_ot_dfg)"
    )
    contingency_hours: float | None = Field(
        description="every hour that would serve extra_cases_arriving (times the service's "
        "hours_per_case), so the high year's queue stays as planned: the need, whoever "
        "serves it; it is idle_paid_hours_used plus extra_hours_within_limits plus "
        "hours_beyond_limits plus hours_beyond_budget; null for dfg_works, paid from capital, "
        "not hours"
    )
    contingency_cost_gbp: float | None = Field(
        description="what must be bought, extra_hours_within_limits priced: its in-house hours "
        "at the service's cost_per_hour_gbp, its agency hours at agency_cost_per_hour_gbp, "
        "before charge income; idle paid hours cost nothing more, hours beyond the limits "
        "cannot be bought and hours beyond the budget are cost_beyond_budget_gbp, so none of "
        "them is in it (in plans stored before this split, whose "
        "idle_paid_hours_used is null, every contingency hour was priced in-house); null for "
        "dfg_works"
    )
    idle_paid_hours_used: float | None = Field(
        description="the part of contingency_hours that hours the plan already pays for and "
        "does not use cover (per team and period, staff_hours plus agency_hours above "
        "hours_used in the staffing table, as a min_per_period floor leaves them, for hours "
        "a district's own hours max_per_period leaves room for): no extra cost; null for "
        "dfg_works and in plans stored before it"
    )
    extra_hours_within_limits: float | None = Field(
        description="the part of contingency_hours that must be bought and can be under the "
        "config: per team and period, in-house hours up to max_per_period less staff_hours "
        "and as far as max_change_per_period allows them to rise with the neighbouring "
        "periods' staff_hours as planned (a sound bound: keeping extra hours on for several "
        "periods could step up further), then agency hours up to agency_max_per_period less "
        "agency_hours, and for a district with its own hours max_per_period no more than "
        "that ceiling less the plan's hours for it that period (idle paid hours likewise); "
        "of those, the ones the revenue budget the plan leaves unspent pays "
        "for (per budget and period, or financial year where the budget is held so, spent "
        "period by period in order, net of the charge income the contingency's hours bring; "
        "a period it cannot pay for in full gets the same share of each team's hours); null "
        "for dfg_works and in plans stored before it"
    )
    hours_beyond_limits: float | None = Field(
        description="the part of contingency_hours beyond every team's max_per_period, "
        "max_change_per_period and agency_max_per_period, or its district's own hours "
        "max_per_period: the config allows no more hours to buy for it (a team at its "
        "ceiling, or stepping up as fast as it may, with no agency, or a district at its "
        "own ceiling), so it is not costed; null for dfg_works and in plans stored before it "
        "(which did not check max_change_per_period)"
    )
    hours_beyond_budget: float | None = Field(
        description="the part of contingency_hours the teams' limits allow to be bought but "
        "the revenue budget the plan leaves unspent does not pay for (see "
        "extra_hours_within_limits): buying it would overspend the budget; null for "
        "dfg_works and in plans stored before it (which did not check the budget)"
    )
    cost_beyond_budget_gbp: float | None = Field(
        description="hours_beyond_budget priced as contingency_cost_gbp prices hours (in-house "
        "and agency, before charge income): what buying them would cost beyond the budget; "
        "null for dfg_works and in plans stored before it"
    )
    contingency_capital_gbp: float | None = Field(
        description="for dfg_works, the capital the high year's extra works cost: "
        "extra_cases_arriving per district times the capital a works case uses, its "
        "cost_per_adaptation_gbp plus the DFG fee where fees.charged_to_grant is true, summed; "
        "null for care services and in plans stored before it"
    )


class PlanSummaryRowPublic(_StoredRow):
    """One figure of a plan's summary (GET /v1/plans/{id}/summary), for a pack a head of
    service reads: which plan, its status and horizon, its headline figures (totals over its
    periods, as its comparison gives them), its DFG capital, each financial year's revenue
    budget, net cost and unspent budget, the config and run that made it, and the forecast run
    and referral history it planned from."""

    figure: str = Field(
        description="which figure, e.g. `weighted_wait_days`, `first_ds`; a financial year's "
        "figures name it in brackets: `capital_spent_gbp[2026-27]` and "
        "`capital_available_gbp[2026-27]` (where the config gives capital by year), and for "
        "every year the plan reaches `periods[2026-27]` (its periods starting in the year), "
        "`part_year[2026-27]` (true where the plan covers only part of the year), "
        "`revenue_budget_gbp[2026-27]` (the budget for those periods), "
        "`net_revenue_cost_gbp[2026-27]`, `unspent_budget_gbp[2026-27]` and, where the budget "
        "is given by financial year, `year_revenue_budget_gbp[2026-27]` (the whole year's)"
    )
    value: int | float | str | bool | None = Field(
        description="the figure: a number, a date (YYYY-MM-DD), a time (ISO 8601, UTC) or "
        "text, as `unit` says; null where the plan does not give it (a figure undefined, or "
        "a plan stored before a release that reported it)"
    )
    unit: str = Field(description="e.g. days, GBP, hours, cases, date, UTC time, id, text")
    note: str = Field(description="what the figure is, in words")


class PlanWarningRowPublic(_StoredRow):
    """One of a plan's `warnings` (GET /v1/plans/{id}/warnings)."""

    index: int = Field(description="its place in the plan's `warnings`, 1 for the first")
    warning: str = Field(description="the warning, as the plan states it")


class PlanResultPublic(BaseModel):
    """A plan's result: scalars, then frames, each a list of rows. Served as stored: a key
    an older plan lacks is left out, and keys not named here are kept (`revenue_by_year`'s
    `year_periods` alone is worked out when the plan is read, homeward/plan_years.py)."""

    model_config = _STORED

    status: PlanStatus | None = Field(
        default=None, description="optimal, infeasible_relaxed, infeasible, time_limit or error"
    )
    message: str | None = None
    objective_weighted_wait_days: float | None = Field(
        default=None, description="weighted waiting days; null when not solved"
    )
    solver: Solver | None = Field(
        default=None, description="the solver used: highs (or pulp-highs) or cbc"
    )
    build_seconds: float | None = Field(default=None, description="seconds to build the LP")
    solve_seconds: float | None = Field(default=None, description=_PLAN_SOLVE)
    hours: list[PlanHoursRowPublic] = Field(default_factory=list)
    staffing: list[PlanStaffingRowPublic] = Field(default_factory=list)
    capital: list[PlanCapitalRowPublic] = Field(default_factory=list)
    capital_total: list[PlanCapitalTotalRowPublic] = Field(default_factory=list)
    backlog: list[PlanBacklogRowPublic] = Field(default_factory=list)
    revenue: list[PlanRevenueRowPublic] = Field(default_factory=list)
    dtoc_days: list[PlanDtocRowPublic] = Field(default_factory=list)
    shadow_prices: list[PlanShadowPriceRowPublic] = Field(default_factory=list)
    binding: list[PlanBindingRowPublic] = Field(default_factory=list)
    relaxations: list[PlanRelaxationRowPublic] = Field(default_factory=list)
    revenue_by_budget: list[PlanRevenueBudgetRowPublic] = Field(default_factory=list)
    capital_by_year: list[PlanCapitalYearRowPublic] = Field(
        default_factory=list,
        description="DFG works and capital per district and financial year; absent from plans "
        "stored before it",
    )
    revenue_by_year: list[PlanRevenueYearRowPublic] = Field(default_factory=list)
    revenue_by_service: list[PlanRevenueServiceRowPublic] = Field(
        default_factory=list,
        description="hours, cost and care charge income per service, team and period; absent "
        "from plans stored before it",
    )
    district_waits: list[PlanDistrictWaitRowPublic] = Field(default_factory=list)
    baselines: list[PlanBaselineRowPublic] = Field(default_factory=list)
    simulation: list[PlanSimulationRowPublic] = Field(default_factory=list)
    demand_risk: list[PlanDemandRiskRowPublic] = Field(
        default_factory=list,
        description="the plan's hours held fixed against a low and a high year of demand "
        "(a series with no backtest window of its own takes the other series' widest years, "
        "as a warning says; empty when none has one, or there are too few to measure one)",
    )
    risk_periods: list[PlanRiskPeriodRowPublic] = Field(
        default_factory=list,
        description="per service and period, the planned and high years of `demand_risk` "
        "period by period: cases waiting, delayed days, and the contingency a high year needs "
        "(`extra_cases_arriving`, `contingency_hours` split into `idle_paid_hours_used`, "
        "`extra_hours_within_limits`, `hours_beyond_limits` and `hours_beyond_budget`, "
        "`contingency_cost_gbp` for what must be bought within the limits and the budget, "
        "`cost_beyond_budget_gbp` for what the budget does not pay for, and for dfg_works "
        "`contingency_capital_gbp`); empty where "
        "`demand_risk` is, and absent from plans stored before it",
    )
    demand: list[PlanDemandRowPublic] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    tie_break: str | None = Field(
        default=None, description="even_waits (a second solve evened waits) or none"
    )
    first_stage_weighted_wait_days: float | None = Field(
        default=None, description="the first solve's weighted waiting days"
    )
    worst_wait_sum_days: float | None = Field(
        default=None, description="days: sum of each team's longest district wait"
    )
    first_stage_worst_wait_sum_days: float | None = Field(
        default=None, description="days: the first solve's sum of each team's longest wait"
    )
    tie_break_seconds: float | None = Field(
        default=None, description="seconds the second (even waits) solve took"
    )
    simulated_dtoc_days: float | None = Field(
        default=None,
        description="delayed days in hospital in the plan's queue simulation, days: queues near "
        "full use wait longer than the LP's fluid model predicts, so this can be well above "
        "total_dtoc_days (quote both); null without a simulation, or in plans stored before it "
        "was reported",
    )
    total_dtoc_days: float | None = Field(
        default=None, description="`dtoc_days` summed, days: delayed days as the LP reckons them"
    )
    worst_district_wait_term: float | None = Field(
        default=None,
        description="days: equity.worst_district_weight x the worst district's weighted waiting "
        "days per referral; 0 without the weight; not in objective_weighted_wait_days",
    )
    objective_value: float | None = Field(
        default=None,
        description="days: what the plan minimised, objective_weighted_wait_days + "
        "worst_district_wait_term (no spend tie-break or relaxation penalty)",
    )
    period_days: int | None = Field(
        default=None, description="days in each period of the plan, days (7: weekly)"
    )
    periods: int | None = Field(default=None, description="how many periods the plan covers")
    first_ds: StoredDate | None = Field(
        default=None, description="the first period's start date, YYYY-MM-DD"
    )
    last_ds: StoredDate | None = Field(
        default=None,
        description="the last period's start date, YYYY-MM-DD (the plan ends period_days after it)",
    )
    forecast_run_id: int | None = Field(
        default=None,
        description="the newest run whose referral forecasts the plan planned from (for the "
        "config's services and districts; forecast_run_ids names every run it read); left out "
        "of plans stored before it was recorded",
    )
    forecast_run_ids: list[int] | None = Field(
        default=None,
        description="every run whose forecasts the plan read, ascending, e.g. [3, 5]: each "
        "referral series' newest forecast (and the winter pressure series') can be a different "
        "run's, as after a run that forecast only an uploaded series; GET "
        "/v1/forecasts/{series_id}?run_id= with the newest of them that forecast the series "
        "gives the forecast the plan read; left out of plans stored before it was recorded "
        "(their summary names only forecast_run_id)",
    )


class PlanPublic(BaseModel):
    id: int = Field(description=_PLAN_ID)
    run_id: int = Field(description=_PLAN_RUN_ID)
    config_id: int = Field(description=_PLAN_CONFIG_ID)
    scenario: bool = Field(description=_PLAN_SCENARIO)
    created_at: UtcDatetime
    status: PlanStatus = Field(description=_PLAN_STATUS)
    objective_weighted_wait_days: float | None = Field(description=_PLAN_OBJECTIVE)
    solve_seconds: float = Field(description=_PLAN_SOLVE)
    result: PlanResultPublic
    created_by: str | None = Field(description=_PLAN_CREATED_BY)


class PlanServiceChangePublic(BaseModel):
    """One service in a comparison: its hours and net cost over the plan's periods and teams
    (its `revenue_by_service` rows summed) in this plan and in the plan compared with, and the
    change, this plan's less that plan's."""

    model_config = _ALWAYS_SENT

    service: str = Field(description="the service's id, as the configs name it")
    hours: float | None = Field(
        description="staff (in-house or commissioned) and agency hours, hours; 0 for a service "
        "only the plan compared with has; null where this plan has no revenue_by_service rows "
        "(not solved, or stored before the table)"
    )
    compared_hours: float | None = Field(
        description="the same in the plan compared with, hours; 0 where it lacks the service; "
        "null without one, or where it has no such rows"
    )
    hours_change: float | None = Field(description=_change("hours"))
    net_cost_gbp: float | None = Field(
        description="staff and agency cost less the service's care charge income, GBP (DFG fee "
        "income is no care service's: it is only in the totals' net_revenue_cost_gbp); null as "
        "`hours`"
    )
    compared_net_cost_gbp: float | None = Field(
        description="the same in the plan compared with, GBP; null as `compared_hours`"
    )
    net_cost_gbp_change: float | None = Field(description=_change("GBP"))


class PlanComparisonPublic(SweepRowPublic):
    """A what-if against the active config's latest plan when it was asked for: its figures
    as a sweep's row gives them (`dfg_fee_rate` its config's), each one's change from that
    plan (`compared_with_plan_id`), what its config changed, and each service's hours and net
    cost in both plans (`by_service`)."""

    config_changes: list[str] | None = Field(
        description="each field where the what-if's config differs from the active config, to "
        "the leaf, with both values (`services[domcare].cost_per_hour_gbp: 23 -> 25`; an item "
        "of a list named by its `id`, one only one config has `added` or `removed`; `name` and "
        "`version` plan nothing and are left out); [] for none; null with no config active, "
        "or one that cannot be read (`not_comparable` says so)"
    )
    by_service: list[PlanServiceChangePublic] = Field(
        default_factory=list,
        description="per service, in this plan's config order (then any service only the plan "
        "compared with has), its hours and net cost in each plan and the change, summed over "
        "periods and teams: which service a changed rate or fee moved hours and money in. "
        "A service only one plan has counts as 0 hours and GBP 0 in the other, so the changes "
        "add up to the totals'. Each change is null where the totals' are (`not_comparable`, "
        "or no plan compared with). Not in a sweep's rows, which keep to the totals",
    )


class WhatIfPublic(PlanPublic):
    """A plan made on request (POST /v1/plans), with its comparison."""

    comparison: PlanComparisonPublic = Field(
        description="the plan against the active config's latest plan as it was before this "
        "request; not stored: GET /v1/plans/{id} gives the plan alone"
    )


class SeriesDeletedPublic(BaseModel):
    """What DELETE /v1/series/{series_id} removed."""

    model_config = _ALWAYS_SENT

    series_id: str = Field(description="the series deleted")
    observations_deleted: int = Field(description="its stored values, now gone")
    forecast_rows_deleted: int = Field(
        description="its forecast rows, over every run that forecast it (with their backtest "
        "metrics and level shifts)"
    )


_DEPENDENT_TOTALS = (
    "the totals deleted with {them} though not asked for, by id: each listed {one} as a "
    "member (its `members` in GET /v1/series), or listed such a total (an area total of a "
    "team total deleted), so no total left names a series that is gone; the next pipeline "
    "run makes them again from the series still stored. [] for none"
)


class SeriesOneDeletedPublic(SeriesDeletedPublic):
    """What DELETE /v1/series/{series_id} removed: the series, and the totals listing it."""

    dependent_totals: list[str] = Field(
        description=_DEPENDENT_TOTALS.format(them="it", one="it")
        + " (this answer's counts are the series' own; GET /v1/audit records theirs)"
    )


class SeriesManyDeletedPublic(BaseModel):
    """What DELETE /v1/series?prefix= removed: each series, and the totals."""

    model_config = _ALWAYS_SENT

    prefix: str | None = Field(description="the prefix asked for (null: none, with synthetic)")
    synthetic: bool = Field(description="whether only the synthetic demo's series were deleted")
    series_deleted: int = Field(description="how many series were deleted")
    observations_deleted: int = Field(description="their stored values, now gone")
    forecast_rows_deleted: int = Field(
        description="their forecast rows, over every run that forecast them (with their "
        "backtest metrics and level shifts)"
    )
    series: list[SeriesDeletedPublic] = Field(
        description="each series deleted, by id, `dependent_totals` among them"
    )
    dependent_totals: list[str] = Field(
        description=_DEPENDENT_TOTALS.format(them="these", one="one of them")
        + " (in `series` and the counts)"
    )


class ImportPublic(BaseModel):
    model_config = _ALWAYS_SENT

    import_id: int = Field(description="the import that stored these observations")
    rows: int = Field(description="observations read from the upload, rows")
    series: list[str] = Field(description="the series ids it holds")
    data_hash: str = Field(description="sha256 of the observations as read")
    duplicate_of: int | None = Field(
        default=None,
        description="set (to import_id) when these observations were already stored by that "
        "import and nothing was stored again (status 200); null when stored now (201)",
    )
    revised: int | None = Field(
        default=0,
        description="stored values this upload changed (history revised, e.g. a late return "
        "corrected); the rest of `rows` were new periods or the same values again. A retried "
        "upload (200) answers with the first upload's count; null if that upload was stored "
        "before counts were recorded",
    )
    replace: bool = Field(
        default=False,
        description="true when the upload replaced its series' stored history whole "
        "(`?replace=true`); false when it was merged into it",
    )
    replaced: int = Field(
        default=0,
        description="with `replace`: the stored values of the upload's series it deleted, all "
        "of them (0 without `replace`); `revised` of them were at its periods with other values",
    )
    removed: int = Field(
        default=0,
        description="with `replace`: of `replaced`, the values at periods the upload does not "
        "have, now gone from the history (0 without `replace`)",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="what the stored figures will do to forecasts, in sentences: series whose "
        "newest week or month has not ended (a partial count pulls a forecast down), and "
        "series whose history ended a year or more ago; empty when there is nothing to say",
    )
    created_by: str | None = Field(
        default=None,
        description=_CREATED_BY.format(
            what="stored the import (a retried upload, 200: the first upload's)",
            cli=": `homeward import`, or the synthetic demo's load",
            sched="",
            rows="imports",
        ),
    )


# A stored config's body, served as stored: it was a valid PlanningConfig when stored, so it is
# typed as one (one stored by an older version may lack a field added since, or carry a
# default it then had).
StoredConfigBody = Annotated[
    dict[str, Any],
    WithJsonSchema(
        {
            "allOf": [{"$ref": "#/components/schemas/PlanningConfig"}],
            "description": "the config as stored (the PlanningConfig it was validated as); send it "
            "back changed to POST /v1/configs, or as `config` to POST /v1/plans for a what-if",
        }
    ),
]


_CONFIG_ID = "the config's id (a plan's config_id)"
_CONFIG_HASH = "sha256 of the body, as stored"
_CONFIG_SCENARIO = (
    "true for a what-if's config (sent with POST /v1/plans), kept for provenance; it never "
    "becomes the active config"
)
_CONFIG_CREATED_BY = _CREATED_BY.format(
    what="stored it (a what-if's config: the plan's requester who first sent it; one sent "
    "again unchanged keeps its first)",
    cli=": the demo's config, stored by `homeward demo`",
    sched="",
    rows="configs",
)


class ConfigPublic(BaseModel):
    id: int = Field(description=_CONFIG_ID)
    name: str
    version: str
    created_at: UtcDatetime
    body_hash: str = Field(description=_CONFIG_HASH)
    scenario: bool = Field(description=_CONFIG_SCENARIO)
    body: StoredConfigBody
    warnings: list[str] | None = Field(
        description="POST /v1/configs: what a plan of this config would be warned of before "
        "it is solved (in a plan's `warnings`' words): money in the wrong units, such as a "
        "zero revenue budget; a care charge no one pays; OT weights that may hold back OT "
        "assessments (p_ot_dfg x works_wait_weight at or above OT's weight); series with no "
        "forecast yet, for "
        "which a plan is refused until a pipeline run forecasts them; `[]` for none. The "
        "config is stored (or kept, 200) whatever they say. Null from a GET: not worked out",
    )
    created_by: str | None = Field(description=_CONFIG_CREATED_BY)


class ConfigSummaryPublic(BaseModel):
    """A config in the history (GET /v1/configs): what it is, not its body (GET
    /v1/configs/{id} gives that)."""

    model_config = ConfigDict(from_attributes=True)

    id: int = Field(description=_CONFIG_ID)
    name: str
    version: str
    created_at: UtcDatetime
    body_hash: str = Field(description=_CONFIG_HASH)
    scenario: bool = Field(description=_CONFIG_SCENARIO)
    created_by: str | None = Field(description=_CONFIG_CREATED_BY)
    active: bool = Field(
        description="true for the active config (GET /v1/configs/active: the newest stored "
        "that is not a what-if's), the one the scheduled pipeline plans with; false for an "
        "older version or a what-if's"
    )


class ObservationPublic(BaseModel):
    ds: PeriodStart = Field(description="the period's first day")
    y: float = Field(description="the count in that period (e.g. referrals in the week)")


class WinterPointPublic(BaseModel):
    ds: PeriodStart
    index: float | None = Field(description="forecast over the trailing annual mean; 1.0 = normal")


class WinterIndexPublic(BaseModel):
    model_config = _ALWAYS_SENT

    series_id: str
    points: list[WinterPointPublic] = Field(
        description="every period of the series' newest forecast that starts in November to "
        "March, oldest first, over the whole forecast: the months of more than one winter "
        "where it reaches them, and periods already over where the forecast starts in the "
        "past (it starts where the history ends)"
    )
    peak: float | None = Field(
        description="the highest index among `points` (null ones skipped): over every "
        "November-to-March period in the forecast, not one winter's, so it may come from "
        "January to March of one winter or November and December of the next, or from a "
        "period already over; null if no point has an index"
    )
    warning: str | None = Field(
        default=None,
        description="why the index may misread winter: set when the series' history is "
        "under three years and its chosen model fits no seasonal pattern from so little (the "
        "index then shows little or no winter rise whatever the history shows), and when the "
        "history is under a year (the index is then over the mean of those periods, not of a "
        "year); null otherwise",
    )
    run_id: int = Field(
        description="the run whose forecast the index is of (GET /v1/runs/{id}), as "
        "GET /v1/forecasts/{series_id} gives it"
    )


class AuditEventPublic(BaseModel):
    """One entry of the audit trail (GET /v1/audit): a change to what is stored, who made it
    and when. Entries are never changed or deleted (`homeward purge` keeps them)."""

    model_config = ConfigDict(from_attributes=True) | _ALWAYS_SENT

    id: int = Field(description="the entry's id, in the order they were written")
    at: UtcDatetime = Field(description="when it was done (UTC), as its transaction wrote it")
    actor: str = Field(
        description="who did it: the API key's name, never its secret (`homeward keys list` "
        "names it), or what acted without a key: `(auth off)` (a request with "
        "HOMEWARD_AUTH=off), `(cli)` (a `homeward` command at the shell), `(scheduler)` (its "
        "purge after a run, HOMEWARD_RETENTION_KEEP_RUNS); no key's name begins with `(`"
    )
    action: AuditAction = Field(
        description="what was done: `upload` (POST /v1/observations, `homeward import`, the "
        "synthetic demo's load: an import stored; a retried upload that stored nothing is "
        "not one), `store_config` (POST /v1/configs, or the demo's config, made active; one "
        "sent again unchanged is not one), `plan` (POST /v1/plans: solved, or queued as a "
        "job), `sweep` (POST /v1/plans/sweeps, queued), `run` (POST /v1/runs: a pipeline run "
        "queued; the schedule's own runs are in GET /v1/runs, `created_by` `(scheduler)`), "
        "`delete_series` (DELETE /v1/series/{series_id}, DELETE /v1/series) or `purge` "
        "(`homeward purge`, not a dry run, or HOMEWARD_RETENTION_KEEP_RUNS, that deleted runs)"
    )
    detail: dict[str, Any] = Field(
        description="what it was done to, and how much: `upload`: import_id, source, rows, "
        "series (ids), revised, replace, replaced, removed; `store_config`: config_id, name, "
        "version; `plan`: run_id and, solved at once, plan_id, config_id and scenario (or "
        "queued: true); `sweep`: run_id, dfg_fee_rates; `run`: run_id; `delete_series`: "
        "prefix (null for one series by id), synthetic, series_deleted, observations_deleted, "
        "forecast_rows_deleted and series (each series deleted with its counts, as the delete "
        "answered); `purge`: run_ids (each run deleted), runs_deleted, plans_deleted, "
        "forecast_rows_deleted"
    )


class KeyPublic(BaseModel):
    """The caller's key as the server resolved it (GET /v1/keys/me): what a dashboard needs to
    offer only what the key may do, and to say which keys may do the rest."""

    model_config = _ALWAYS_SENT

    auth: Literal["keys", "off"] = Field(
        description="`keys`: the server requires API keys and this is the key sent; `off`: "
        "HOMEWARD_AUTH=off, keys are not checked and every request acts as admin"
    )
    name: str | None = Field(
        description="the key's name, as `homeward keys create --name` gave it; null when keys "
        "are off (no key is read)"
    )
    role: Literal["viewer", "planner", "finance", "admin"] = Field(
        description="the key's role (admin when keys are off)"
    )
    expires_at: UtcDatetime | None = Field(
        description="when the key expires (UTC): from then on it gets 401 (`homeward keys "
        "create --expires-in DAYS` sets it); null when it never expires or keys are off"
    )
    last_used_at: UtcDatetime | None = Field(
        description="when a request last used the key (UTC), this one included: recorded at "
        "most once every 5 minutes per key, so up to 5 minutes before the newest use; null "
        "when keys are off (or, rarely, when the database was too busy to record a key's "
        "first use)"
    )
    may: list[Literal["read", "plan", "run", "configure", "upload", "audit"]] = Field(
        description="what this role may do: `read` every GET (but GET /v1/audit); `plan` POST "
        "/v1/plans (what-ifs too) and POST /v1/plans/sweeps; `run` POST /v1/runs; `configure` "
        "POST /v1/configs; `upload` POST /v1/observations and the series deletes; `audit` GET "
        "/v1/audit"
    )
    roles_allowing: dict[
        Literal["read", "plan", "run", "configure", "upload", "audit"],
        list[Literal["viewer", "planner", "finance", "admin"]],
    ] = Field(
        description="every action and the roles whose keys may do it, weakest first: which key "
        "to ask for to do what this one may not"
    )
