"""Request and response schemas, used only at the HTTP edge (never as tables or engine types)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from optimise.config import PlanningConfig


def _in_utc(moment: datetime) -> datetime:
    """Storage keeps UTC; SQLite hands it back without its zone, which JavaScript's Date
    would read as local time."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# A moment, sent with its zone (e.g. 2026-11-22T15:54:28.652417Z).
UtcDatetime = Annotated[datetime, AfterValidator(_in_utc)]
# A period's start, sent as a date (YYYY-MM-DD), as plans and uploads write it.
PeriodStart = date


class RequestProblemPublic(BaseModel):
    """One thing wrong with a request's parameters or JSON body."""

    location: str = Field(description="where: `query/limit`, `path/plan_id`, `body/config/...`")
    expected: str
    found: str


class InputProblemPublic(BaseModel):
    """One thing wrong with an uploaded file or a body's content, located as the user sees it."""

    row: int | None = Field(description="the file's line (header = 1); null for the whole file")
    column: str | None = Field(description="the column or header at fault; null if no one is")
    expected: str
    found: str
    series_id: str | None = Field(description="the series at fault, if one is")


class ProblemPublic(BaseModel):
    """Every error's body (application/problem+json, RFC 9457), whatever raised it."""

    type: Literal["about:blank"] = "about:blank"
    title: str = Field(description="the status's phrase, e.g. 'Not found'; 422 is 'Invalid input'")
    status: int
    detail: str = Field(description="what was expected, what was found, and where")
    problems: list[RequestProblemPublic | InputProblemPublic] | None = Field(
        default=None, description="422 and 413 only: every problem found, each located"
    )
    role_needed: list[str] | None = Field(
        default=None, description="403 only: the roles that may do this"
    )
    role_found: str | None = Field(default=None, description="403 only: the key's role")


class HealthPublic(BaseModel):
    status: Literal["ok"]
    database: str
    scheduler: Literal["running", "off"]
    version: str


SeriesKind = Literal["observed", "total"]


class SeriesPublic(BaseModel):
    """A series a client may chart. An observed series has stored history (GET
    /v1/observations) and a forecast backtested on it; a total (`referrals_team/<service>/<team>`,
    `referrals_area/<service>`) is only a forecast, the sum of its districts' forecasts, with no
    history and no backtest metrics."""

    id: str
    kind: SeriesKind = Field(
        description="observed: stored history and forecast; total: forecast only, the sum of "
        "other series' forecasts (no history, no backtest)"
    )
    freq: str
    first_ds: PeriodStart | None = Field(description="first observation; null for a total")
    last_ds: PeriodStart | None = Field(description="last observation; null for a total")
    n_obs: int = Field(description="observations stored; 0 for a total")


class ForecastPointPublic(BaseModel):
    ds: PeriodStart
    mean: float
    lo_80: float = Field(serialization_alias="lo-80")
    hi_80: float = Field(serialization_alias="hi-80")
    lo_95: float = Field(serialization_alias="lo-95")
    hi_95: float = Field(serialization_alias="hi-95")


class ModelMetricsPublic(BaseModel):
    model: str
    chosen: bool
    metrics: dict[str, float | None]


class LevelShiftPublic(BaseModel):
    """A level shift found in the series' history: `ds` is the first period at the new level,
    `ratio` the seasonally adjusted level after over the level before."""

    model_config = ConfigDict(from_attributes=True)

    ds: PeriodStart
    ratio: float
    t_stat: float


class ForecastPublic(BaseModel):
    series_id: str
    run_id: int
    model: str
    points: list[ForecastPointPublic]
    backtest: list[ModelMetricsPublic]
    level_shifts: list[LevelShiftPublic]


class SweepRowPublic(BaseModel):
    """One fee rate of a sweep: its plan's figures, and each one's change from the active
    config's latest plan, named by `compared_with_plan_id` (null when there was none)."""

    dfg_fee_rate: float
    plan_id: int = Field(description="the what-if plan solved at this rate (GET /v1/plans/{id})")
    status: str = Field(description="the plan's solver status")
    weighted_wait_days: float | None
    fee_income_gbp: float | None
    staff_cost_gbp: float | None
    staff_hours: float | None = Field(description="in-house staff hours: the plan's staffing")
    works_completed: float | None = Field(
        default=None,
        description="DFG works cases completed over the horizon (fewer at a higher fee when "
        "the fee is charged to the grant); null in sweeps stored before it was reported",
    )
    dtoc_days: float | None = Field(description="days of delayed discharge from hospital")
    weighted_wait_days_change: float | None
    fee_income_gbp_change: float | None
    staff_cost_gbp_change: float | None
    staff_hours_change: float | None
    works_completed_change: float | None = None
    dtoc_days_change: float | None
    compared_with_plan_id: int | None = Field(
        default=None,
        description="the plan each `_change` is from: the active config's latest plan when the "
        "sweep started (GET /v1/plans/{id}); null when there was none, so every change is null",
    )


class RunPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    trigger: str
    status: str
    started_at: UtcDatetime
    finished_at: UtcDatetime | None
    data_hash: str | None
    config_version: str | None
    code_version: str
    models_chosen: dict[str, str]
    solver_status: str | None
    timings_s: dict[str, float]
    message: str | None
    plan_id: int | None = Field(
        default=None, description="the plan this run made, once it has made one"
    )
    sweep: list[SweepRowPublic] | None = Field(
        default=None,
        description="a fee sweep's table, one row per rate as each is planned; null for other runs",
    )


class PlanCreate(BaseModel):
    """A plan request: a planning config (default: the active one) and a solver."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    config: PlanningConfig | None = Field(
        default=None,
        description="a planning config (see GET /v1/configs/active); default: the active one",
    )
    solver: Literal["highs", "cbc"] = "highs"

    def config_body(self) -> dict[str, Any] | None:
        """The config as the JSON body planning stores (None: use the active config)."""
        return None if self.config is None else self.config.model_dump(mode="json")


FeeRate = Annotated[float, Field(ge=0, le=1)]


class SweepCreate(BaseModel):
    """A fee sweep: one what-if plan per DFG fee rate, from a config (default: the active one)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    config: PlanningConfig | None = Field(
        default=None,
        description="a planning config (see GET /v1/configs/active); default: the active one",
    )
    dfg_fee_rates: list[FeeRate] = Field(
        min_length=2,
        max_length=12,
        description="2 to 12 DFG fee rates, each from 0 to 1, planned in this order",
    )
    solver: Literal["highs", "cbc"] = "highs"

    def config_body(self) -> dict[str, Any] | None:
        """The config as the JSON body planning stores (None: use the active config)."""
        return None if self.config is None else self.config.model_dump(mode="json")


_PLAN_CONFIG_ID = "the config it was planned with (GET /v1/configs/{id})"
_PLAN_SCENARIO = (
    "true for a what-if: a plan made with a changed config sent to POST /v1/plans; false for "
    "a plan of the active config when it was made (the pipeline's, or POST /v1/plans without "
    "a changed config), the only kind GET /v1/plans/latest returns"
)


class PlanSummaryPublic(BaseModel):
    """A plan in the history (GET /v1/plans): what it is, not its result."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    created_at: UtcDatetime
    run_id: int
    config_id: int = Field(description=_PLAN_CONFIG_ID)
    scenario: bool = Field(description=_PLAN_SCENARIO)
    status: str
    objective_weighted_wait_days: float | None
    solve_seconds: float


class PlanPublic(BaseModel):
    id: int
    run_id: int
    config_id: int = Field(description=_PLAN_CONFIG_ID)
    scenario: bool = Field(description=_PLAN_SCENARIO)
    created_at: UtcDatetime
    status: str
    objective_weighted_wait_days: float | None
    solve_seconds: float
    result: dict[str, Any]


class ImportPublic(BaseModel):
    import_id: int
    rows: int
    series: list[str]
    data_hash: str
    duplicate_of: int | None = Field(
        default=None,
        description="set (to import_id) when these observations were already stored by that "
        "import and nothing was stored again (status 200); null when stored now (201)",
    )
    revised: int = Field(
        default=0,
        description="stored values this upload changed (history revised, e.g. a late return "
        "corrected); the rest of `rows` were new periods or the same values again",
    )


class ConfigPublic(BaseModel):
    id: int
    name: str
    version: str
    created_at: UtcDatetime
    body_hash: str
    scenario: bool = Field(
        description="true for a what-if's config (sent with POST /v1/plans), kept for "
        "provenance; it never becomes the active config"
    )
    body: dict[str, Any]


class ObservationPublic(BaseModel):
    ds: PeriodStart
    y: float


class WinterPointPublic(BaseModel):
    ds: PeriodStart
    index: float | None = Field(description="forecast over the trailing annual mean; 1.0 = normal")


class WinterIndexPublic(BaseModel):
    series_id: str
    points: list[WinterPointPublic]
    peak: float | None
