"""Planning configs: list them, read the active one or any by id, store a new version
(validated, and checked against the stored history it will be planned from, before it is
stored)."""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from typing import Annotated, Any, NoReturn

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from api.created import CreatedWindowDep
from api.deps import (
    ActorDep,
    AuthFirstRoute,
    BeforeIdQuery,
    IdPath,
    OffsetQuery,
    SessionDep,
    SettingsDep,
    allowed,
)
from api.errors import NotFound, error_responses, field_path, refused_unless_role
from api.paging import PAGED_RESPONSES, send_next, send_total
from api.schemas import ConfigPublic, ConfigSummaryPublic
from homeward import planning, repository
from homeward.demo_config import demo_planning_config
from homeward.ingest import MONTHLY, SERIES_ID_PART, WEEKLY, found_id
from homeward.pipeline import plain_horizon
from homeward.roles import Action
from homeward.settings import Settings
from models import PlanningConfigRow, SeriesRow
from optimise.config import ConfigValueError, PlanningConfig
from optimise.errors import PlanInputError

router = APIRouter(prefix="/v1/configs", tags=["configs"], route_class=AuthFirstRoute)
REFERRALS = planning.REFERRALS_PREFIX
_DISTRICT_ID = re.compile(SERIES_ID_PART)
_SHOWN = 5  # series ids named in one problem before "and N more"


def _public(row: PlanningConfigRow, warnings: list[str] | None = None) -> ConfigPublic:
    """A stored config as answered; `warnings` are worked out only where one is stored (POST),
    and null from a GET, which is always sent, so required in the schema."""
    return ConfigPublic(
        id=row.id,
        name=row.name,
        version=row.version,
        created_at=row.created_at,
        body_hash=row.body_hash,
        scenario=row.scenario,
        body=row.body,
        warnings=warnings,
        created_by=row.created_by,
    )


@router.get(
    "",
    operation_id="list_configs",
    response_model=list[ConfigSummaryPublic],
    dependencies=[allowed(Action.READ)],
    responses=PAGED_RESPONSES | error_responses(422),
)
def list_configs(
    session: SessionDep,
    request: Request,
    response: Response,
    created: CreatedWindowDep,
    limit: Annotated[int, Query(ge=1, le=100, description="at most this many")] = 20,
    offset: OffsetQuery = 0,
    scenario: Annotated[
        bool | None,
        Query(
            description="only what-ifs' configs (true) or only configs that were made active "
            "(false: the active one and the versions before it)"
        ),
    ] = None,
    before_id: BeforeIdQuery = None,
) -> list[ConfigSummaryPublic]:
    """Stored configs, newest first, as summaries without their bodies, so a page stays small
    (GET /v1/configs/{id} for a config's `body`); `active` marks the one the scheduled
    pipeline plans with. The `X-Total-Count` header says how many there are with the same
    filters (`before_id` aside). Page with `before_id` (the last id of the page before)
    rather than `offset` while configs are being stored: a new one shifts every offset by
    one. The `Link` header gives the next page, by `before_id`, until the last.
    `created_from` and `created_to` keep those stored (`created_at`) in a window, for an
    incremental refresh."""
    kept = repository.ConfigFilter(scenario, before_id, created)
    found = repository.list_configs(session, limit + 1, offset, kept)  # one more: a next page?
    send_total(response, repository.count_configs(session, kept))
    if len(found) > limit:
        send_next(response, request, {"before_id": found[limit - 1].id, "offset": None})
    return [ConfigSummaryPublic.model_validate(c) for c in found[:limit]]


@router.get(
    "/active",
    operation_id="get_active_config",
    response_model=ConfigPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, said={404: "no planning config stored yet"}),
)
def active_config(session: SessionDep) -> ConfigPublic:
    """The config the scheduled pipeline plans with (the newest stored that is not a what-if)."""
    row = repository.active_config(session)
    if row is None:
        raise NotFound("no planning config stored yet: POST one to /v1/configs", "no_config_yet")
    return _public(row)


@router.get(
    "/{config_id}",
    operation_id="get_config",
    response_model=ConfigPublic,
    dependencies=[allowed(Action.READ)],
    responses=error_responses(404, 422),
)
def get_config(config_id: IdPath, session: SessionDep) -> ConfigPublic:
    """One stored config by id: the active one, an older version, or a what-if's (`scenario`);
    a plan's `config_id` names the config it was planned with."""
    row = session.get(PlanningConfigRow, config_id)
    if row is None:
        raise NotFound(f"no planning config with id {config_id}")
    return _public(row)


_REFUSED = (
    "Invalid input: `problems` locates each one by `location` (e.g. `body/districts/3/id`): a "
    "field out of bounds, or a config the stored history cannot be planned from (a district "
    "or service with no stored referral history, a period or horizon the forecasts cannot "
    "give), which would make every scheduled plan fail"
)


@router.post(
    "",
    operation_id="store_config",
    response_model=ConfigPublic,
    status_code=status.HTTP_201_CREATED,
    dependencies=[allowed(Action.CONFIGURE)],
    responses={
        201: {"description": "stored: it is now the active config"},
        200: {
            "model": ConfigPublic,
            "description": "the same as the active config: nothing stored, the active config "
            "is returned as it is",
        },
        **error_responses(422, said={422: _REFUSED}),
        **refused_unless_role(Action.CONFIGURE),
    },
    # the demo's config: a whole, valid body to start a council's own from
    openapi_extra={
        "requestBody": {"content": {"application/json": {"example": demo_planning_config()}}}
    },
)
def store_config(
    config: PlanningConfig,
    session: SessionDep,
    settings: SettingsDep,
    response: Response,
    actor: ActorDep,
) -> ConfigPublic:
    """Store a new planning config version; it becomes the active one (201). The same config
    as the active one is not stored or checked again: 200 with the active config.

    A config the stored history cannot be planned from is refused (422), naming the field:
    once referral history is stored, every service and district must have its series
    `referrals/<service>/<district>`, `winter.pressure_series` (if set) must be a stored
    series, `period_days` must fit their frequency and `horizon_periods` what the pipeline
    forecasts; with forecasts of every one stored, every check a plan makes before solving
    (as POST /v1/plans) too. Before any referral history is stored (a new council setting
    up) only the config itself is checked.

    `warnings` says, as it is stored, what a plan of it would be warned of before solving (a
    zero revenue budget, a care charge no one pays, a series with no forecast yet), which was
    once said only by the first plan made with it.
    """
    body = config.model_dump(mode="json")
    body_hash = planning.config_hash(body)
    active = repository.active_config(session)
    if active is not None and active.body_hash == body_hash:
        # sent again (a retry, or a dashboard saving what it read): nothing would change, so
        # there is nothing to refuse, even if the data have since moved away from it
        response.status_code = status.HTTP_200_OK
        return _stored(session, active)
    problems, prepared = _unplannable(session, settings, config, body)
    if problems:
        _refuse(problems)
    stored = repository.save_config(session, body, body_hash, created_by=actor)
    return _stored(session, stored, prepared)


def _stored(
    session: Session, row: PlanningConfigRow, prepared: planning.PreparedPlan | None = None
) -> ConfigPublic:
    """`row` answered with its warnings, from the plan the checks prepared where they did."""
    warnings = planning.config_warnings(session, row.body, prepared)
    return _public(row, list(warnings))


def _refuse(problems: Sequence[ConfigValueError], at: tuple[str, ...] = ("body",)) -> NoReturn:
    """A 422 locating each problem in the body (the config at `at`), as a config validator's
    own errors are."""
    raise RequestValidationError(
        [
            {
                "type": "value_error",
                "loc": at,
                "msg": str(p),
                "input": None,
                "ctx": {"error": p},
            }
            for p in problems
        ]
    )


def _unplannable(
    session: Session, settings: Settings, config: PlanningConfig, body: dict[str, Any]
) -> tuple[list[ConfigValueError], planning.PreparedPlan | None]:
    """Why the stored history cannot plan ``config``, each problem at its field ([] if it
    can), and the plan prepared to find out, where one was (its warnings are the answer's).

    Data may arrive after the config (a new council stores its config first), so with no
    referral history stored only what no upload could put right is refused: a district id
    that can never name a series. Once history is stored, the config must fit it.
    """
    problems = _district_ids(config)
    if problems:
        return problems, None
    stored = {row.id: row for row in repository.list_series(session, REFERRALS)}
    if not stored:
        return [], None
    problems = _missing_histories(config, stored) + _pressure_series(session, config)
    if not problems:
        problems = _calendar(config, [stored[uid] for uid in _series_ids(config)], settings)
    return (problems, None) if problems else _plan_refusals(session, config, body)


def _series_ids(config: PlanningConfig) -> list[str]:
    """The referral series a plan of ``config`` reads: one per service and district."""
    return [f"{REFERRALS}{s.id}/{d.id}" for s in config.services for d in config.districts]


def _district_ids(config: PlanningConfig) -> list[ConfigValueError]:
    expected = (
        "a lower-case id of a-z, 0-9, '_', '.', '-' (starting with a letter or digit), as its "
        f"referral series {REFERRALS}<service>/<district id> names it"
    )
    return [
        ConfigValueError(f"districts[{i}].id", ("districts", i, "id"), expected, found_id(d.id))
        for i, d in enumerate(config.districts)
        if not _DISTRICT_ID.fullmatch(d.id)
    ]


def _missing_histories(
    config: PlanningConfig, stored: Mapping[str, SeriesRow]
) -> list[ConfigValueError]:
    """A service with no referral history at all is named at the service; otherwise each
    district lacking a service's history is named at the district, listing what it lacks."""
    kinds = {uid.split("/")[1] for uid in stored}
    # stored districts the config does not name: a config's unmatched id may be one misspelt
    districts = {uid.split("/")[2] for uid in stored if uid.count("/") == 2}
    others = sorted(districts - {d.id for d in config.districts})
    problems = [
        ConfigValueError(
            f"services[{s.id}]",
            ("services", j, "id"),
            f"stored referral histories {REFERRALS}{s.id}/<district> (POST /v1/observations "
            "before the config that plans them)",
            f"none for service {s.id!r}; stored are only {sorted(kinds)}",
        )
        for j, s in enumerate(config.services)
        if s.id not in kinds
    ]
    for i, d in enumerate(config.districts):
        lacking = [
            f"{REFERRALS}{s.id}/{d.id}"
            for s in config.services
            if s.id in kinds and f"{REFERRALS}{s.id}/{d.id}" not in stored
        ]
        if lacking:
            close = difflib.get_close_matches(d.id, others, n=1, cutoff=0.8)
            hint = f"; the nearest stored district id is {close[0]!r}" if close else ""
            problems.append(
                ConfigValueError(
                    f"districts[{d.id}]",
                    ("districts", i, "id"),
                    f"a stored referral history {REFERRALS}<service>/{d.id} for every service "
                    "(POST /v1/observations before the config that plans it; GET /v1/series "
                    "lists what is stored)",
                    f"none for {_few(lacking)}{hint}",
                )
            )
    return problems


def refuse_unstored_pressure_series(session: Session, config: PlanningConfig | None) -> None:
    """A what-if's config (POST /v1/plans or a sweep, at `body/config`) naming a
    `winter.pressure_series` that is not stored is refused (422) as POST /v1/configs refuses
    it: planned, its winter would go without hospital pressure, one warning easily missed
    among the plan's. As there, it is checked once referral history is stored (before, the
    plan is refused for want of forecasts).

    Only a series the what-if brings is checked: the active config's own (`config` None, or
    a copy of it with, say, a fee rate changed) is planned as the pipeline plans it, with
    the warning, so the what-if and the active config's plans stay comparable. That series
    was checked when the config was stored, unless it was stored before this check or its
    history has since been replaced without it."""
    if config is None or config.winter is None or config.winter.pressure_series is None:
        return
    if not repository.list_series(session, REFERRALS):
        return
    named = config.winter.pressure_series
    active = repository.active_config(session)
    if active is not None and named == (active.body.get("winter") or {}).get("pressure_series"):
        return
    if problems := _pressure_series(session, config):
        _refuse(problems, at=("body", "config"))


def _pressure_series(session: Session, config: PlanningConfig) -> list[ConfigValueError]:
    """`winter.pressure_series` must name a stored history (a misspelt id would otherwise be
    stored, and every plan from it would plan winter without hospital pressure)."""
    named = config.winter.pressure_series if config.winter is not None else None
    if named is None:
        return []
    ids = [row.id for row in repository.list_series(session)]
    if named in ids:
        return []
    close = difflib.get_close_matches(named, ids, n=1, cutoff=0.8)
    hint = f"; the nearest stored is {close[0]!r}" if close else ""
    return [
        ConfigValueError(
            "winter.pressure_series",
            ("winter", "pressure_series"),
            "the id of a stored history (POST /v1/observations before the config that names "
            "it; GET /v1/series lists what is stored)",
            f"{named!r}, which is not stored{hint}",
        )
    ]


def _calendar(
    config: PlanningConfig, series: Sequence[SeriesRow], settings: Settings
) -> list[ConfigValueError]:
    """`period_days` must be the histories' spacing, and `horizon_periods` within the periods
    the pipeline forecasts (HOMEWARD_FORECAST_HORIZON_WEEKS, or _MONTHS for monthly)."""
    by_freq: dict[str, list[str]] = {}
    for row in series:
        by_freq.setdefault(row.freq, []).append(row.id)
    if len(by_freq) > 1:
        found = "; ".join(f"{freq}: {_few(ids)}" for freq, ids in sorted(by_freq.items()))
        return [
            ConfigValueError(
                "referral histories",
                (),
                "referral histories of one frequency (all weekly, W-MON, or all monthly, MS), "
                "to plan in one period length",
                found,
            )
        ]
    [freq] = by_freq
    problems = []
    if freq == WEEKLY and config.period_days != 7:
        expected = "7: the referral histories are weekly (W-MON)"
        problems.append(
            ConfigValueError("period_days", ("period_days",), expected, str(config.period_days))
        )
    if freq == MONTHLY and not 28 <= config.period_days <= 31:
        expected = "28 to 31: the referral histories are monthly (MS)"
        problems.append(
            ConfigValueError("period_days", ("period_days",), expected, str(config.period_days))
        )
    return problems + _horizon(config, freq, settings)


def _horizon(config: PlanningConfig, freq: str, settings: Settings) -> list[ConfigValueError]:
    """`horizon_periods` within what the pipeline forecasts series of `freq` ahead (its plan
    of a longer one fails every run, for want of demand in its last periods)."""
    ahead = plain_horizon(settings, freq)
    if config.horizon_periods <= ahead:
        return []
    unit, setting = ("weeks", "WEEKS") if freq == WEEKLY else ("months", "MONTHS")
    return [
        ConfigValueError(
            "horizon_periods",
            ("horizon_periods",),
            f"at most {ahead}: the pipeline forecasts {ahead} {unit} ahead "
            f"(HOMEWARD_FORECAST_HORIZON_{setting}; raise it to plan further)",
            str(config.horizon_periods),
        )
    ]


def _plan_refusals(
    session: Session, config: PlanningConfig, body: dict[str, Any]
) -> tuple[list[ConfigValueError], planning.PreparedPlan | None]:
    """Once the stored forecasts cover every series the config plans, what POST /v1/plans
    would refuse it for now (`planning.prepare_plan`: a history too stale to reach the plan's
    periods, a horizon longer than the forecasts), at its field where it names one. Until
    then (history stored since the last pipeline run) the next run forecasts it first. The
    plan prepared is returned beside them, so its warnings are not prepared again."""
    forecast = repository.latest_forecast_frame(session, REFERRALS)
    if not set(_series_ids(config)) <= set(forecast["unique_id"]):
        return [], None
    try:
        prepared = planning.prepare_plan(session, body)
    except PlanInputError as exc:
        return [
            ConfigValueError(each.field, field_path(config, each.field), each.expected, each.found)
            for each in exc.each
        ], None
    return [], prepared


def _few(ids: Sequence[str]) -> str:
    more = f" and {len(ids) - _SHOWN} more" if len(ids) > _SHOWN else ""
    return ", ".join(ids[:_SHOWN]) + more
