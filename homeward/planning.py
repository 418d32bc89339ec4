"""From stored forecasts and a planning config to a stored plan: the service side of optimise/."""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import re
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import astuple, dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError
from sqlalchemy import or_, select
from sqlalchemy.orm import Session, sessionmaker

from forecast.calendar import month_factor
from forecast.notes import lacks_season, seasonless_note, under_three_seasons
from forecast.totals import HIGH as HIGH_TOTAL
from forecast.totals import LOW as LOW_TOTAL
from forecast.validate import split_history
from forecast.winter import (
    MIN_WINTERS,
    WINTER_MONTHS,
    BadWinter,
    bad_winter,
    centred_annual_mean,
    seasonal_index,
)
from homeward import repository
from homeward.clock import code_version, utcnow
from homeward.demo_config import HOSPITAL_SHARE as DEMO_HOSPITAL_SHARE
from homeward.errors import HomewardError
from homeward.exports import is_money, spent_to_the_penny, to_the_penny, without_round_off
from homeward.settings import MAX_HORIZON_MONTHS, MAX_HORIZON_WEEKS
from homeward.storage import transaction
from models import PlanningConfigRow, PlanRow, RunRow
from models.tables import RunStatus, RunTrigger
from optimise import PlanResult, PlanStatus, plan
from optimise.config import (
    PlanningConfig,
    WinterConfig,
    charge_warnings,
    config_problems,
    read_stored,
    works_weight_warnings,
)
from optimise.demand import RAISE_TOLERANCE, late_start
from optimise.errors import PlanInputError
from optimise.inputs import HOSPITAL_SERVICES, PlanInputs, build_inputs, hospital_shares
from optimise.scale import money_scale_warnings

REFERRALS_PREFIX = "referrals/"
# a referral series a plan reads: referrals/<service>/<district>, each part without a slash
REFERRAL_ID = r"^referrals/([^/]+)/([^/]+)$"
# Totals of the districts' referral forecasts, per team and over the config's whole area; their
# own prefixes keep them out of LP demand (which reads `referrals/<service>/<district>` only).
TEAM_PREFIX, AREA_PREFIX = "referrals_team/", "referrals_area/"
log = logging.getLogger(__name__)

Report = Callable[[str], None]


class NoForecasts(HomewardError):
    """Planning needs referral forecasts and none are stored yet."""


class NoConfig(HomewardError):
    """Planning needs a config and none was sent or stored."""


class PlanNotSolved(HomewardError):
    """The solver ended without a plan (status error, infeasible or time_limit, as opposed to
    infeasible_relaxed, which is a plan that says what had to give): there are no hours, waits
    or money to show, only the solver's words. Its run is recorded as failed with them (with
    `solver_status`), and no plan is stored in the latest plan's place, so GET
    /v1/plans/latest keeps serving the last plan that was solved. `run_id`: the failed run."""

    def __init__(self, message: str, status: str, run_id: int | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.run_id = run_id


def unsolved_message(session: Session, result: PlanResult) -> str:
    """What a run that solved no plan says: the solver's outcome, that no plan was stored,
    and which plan GET /v1/plans/latest still serves."""
    latest = repository.latest_plan_stamp(session)
    kept = (
        f"GET /v1/plans/latest still serves plan {latest.id}, the newest plan solved"
        if latest is not None
        else "no plan has been solved yet"
    )
    return f"{result.message}. No plan was stored: {kept}"


class ConfigUnreadable(HomewardError, ValueError):
    """A config planning reads (the active one, or a stored plan's) does not validate."""


def read_config(body: Mapping[str, Any], which: str | None = None) -> PlanningConfig:
    """A config body as planning reads it, without the entry checks (`read_stored`): a body
    here was either checked where it was sent (the API's request models, `homeward plan
    --config`) or stored by a release before those checks, and must still plan. One that
    does not validate raises ConfigUnreadable naming each field on one line, never
    pydantic's several-line dump, as a failed pipeline run records it. `which`: how the
    message names the config (default: by its name)."""
    try:
        return read_stored(body)
    except ValidationError as exc:
        name = body.get("name")
        which = which or ("the config" + (f" {name!r}" if isinstance(name, str) else ""))
        raise ConfigUnreadable(f"{which} is not valid: {config_problems(exc)}") from None


def read_active(row: PlanningConfigRow) -> PlanningConfig:
    """The active config as planning reads it (`read_config`); one that cannot be read is
    named "the active config (id N)", not by a name the user may not know is active."""
    return read_config(row.body, f"the active config (id {row.id})")


@dataclass(frozen=True)
class StoredPlan:
    """A plan as stored: its id and its result."""

    plan_id: int
    result: PlanResult


def config_hash(body: dict[str, Any]) -> str:
    """A stable content hash of a planning config (its version for the run record)."""
    return hashlib.sha256(
        json.dumps(body, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()


def demand_from_forecasts(
    forecasts: pd.DataFrame, metrics: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Referral forecasts (`referrals/<service>/<district>`) as LP demand.

    Columns: service, district, ds, cases (the forecast mean).

    Quantile columns are carried as q10/q90/q025/q975 so winter planning can use a higher quantile.
    With the run's backtest `metrics` (unique_id, chosen, total_error_q10, total_error_q90),
    `low_factor` and `high_factor` say what a low and a high year multiply each series' demand
    by, for the plan's demand-risk rows (NaN where a series has too few backtest windows).
    """
    # referrals/<service>/<district> only: an id of more or fewer parts (uploads accept
    # referrals/ot/north/rugby) is planned by no config, and must not empty the others' demand
    parts = forecasts["unique_id"].str.extract(REFERRAL_ID)
    refs = forecasts[parts[0].notna()]
    parts = parts[parts[0].notna()]
    if refs.empty:
        return pd.DataFrame(columns=["service", "district", "ds", "cases"])
    demand = pd.DataFrame(
        {
            "service": parts[0].to_numpy(),
            "district": parts[1].to_numpy(),
            "ds": pd.to_datetime(refs["ds"]).to_numpy(),
            "cases": refs["mean"].clip(lower=0).to_numpy(),
            "q10": refs["lo-80"].clip(lower=0).to_numpy(),
            "q90": refs["hi-80"].clip(lower=0).to_numpy(),
            "q025": refs["lo-95"].clip(lower=0).to_numpy(),
            "q975": refs["hi-95"].clip(lower=0).to_numpy(),
        }
    ).reset_index(drop=True)
    factors = _risk_factors(refs["unique_id"], metrics)
    return demand if factors is None else demand.assign(**factors)


def _risk_factors(
    ids: pd.Series, metrics: pd.DataFrame | None
) -> dict[str, npt.NDArray[np.float64]] | None:
    """One plus each series' chosen model's total-miss quantiles, per forecast row (NaN for a
    series with too few backtest windows to measure them; see `with_usable_factors`); None
    when the metrics carry none."""
    if metrics is None or not {LOW_TOTAL, HIGH_TOTAL} <= set(metrics.columns):
        return None
    chosen = metrics[metrics["chosen"].astype(bool)].drop_duplicates("unique_id", keep="last")
    by_id = chosen.set_index("unique_id")[[LOW_TOTAL, HIGH_TOTAL]].astype(float)
    rows = by_id.reindex(ids.to_numpy())
    return {
        "low_factor": 1.0 + rows[LOW_TOTAL].to_numpy(),
        "high_factor": 1.0 + rows[HIGH_TOTAL].to_numpy(),
    }


# A demand CSV (`homeward plan --demand`) has no column for a low or a high year: its plan has
# empty demand_risk and risk_periods tables, and says why and how to get them.
NO_RISK_FROM_FILE = (
    "no demand risk: a demand file carries no backtest metrics (how far each series' forecast "
    "totals missed over past windows), so there is no low or high year and the demand_risk and "
    "risk_periods tables are empty. To have them, plan from the stored forecasts: upload the "
    "referral history (homeward import, or POST /v1/observations), run the pipeline (POST "
    "/v1/runs, or the scheduled run) and plan (POST /v1/plans, or the run's own plan)"
)


def with_usable_factors(demand: pd.DataFrame) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """A plan's demand with its low and high factors, and warnings. A series without factors
    of its own (too few backtest windows) takes the widest of the others' (a risk table with
    it left at its plan would understate the risk), and a warning names it; with no series
    having factors, the demand is without them, and a warning says so.

    A low year is never above the forecast, nor a high one below it: where a series' backtest
    totals ran above (or below) its forecasts in nine windows out of ten, that factor is 1 and
    the plan says so, since its forecasts have been running low (or high)."""
    if "low_factor" not in demand.columns or demand.empty:
        return demand, ()
    lacking = demand[["low_factor", "high_factor"]].isna().any(axis=1)
    if lacking.all():
        first = demand.iloc[0]
        warning = (
            f"no demand risk: referrals/{first['service']}/{first['district']} and every other "
            "series have too few backtest windows to measure how far a year's total can miss"
        )
        return demand.drop(columns=["low_factor", "high_factor"]), (warning,)
    widest = ""
    if lacking.any():  # the others' widest: a short district does not empty the whole table
        demand, widest = _widest_for(demand, lacking)
    warnings = [
        _one_sided(demand[~lacking & (demand[column] * sign > sign)], way)
        for column, sign, way in (("low_factor", 1.0, "above"), ("high_factor", -1.0, "below"))
    ]
    capped = demand.assign(
        low_factor=np.clip(demand["low_factor"], 0.0, 1.0),
        high_factor=np.maximum(demand["high_factor"], 1.0),
    )
    return capped, tuple(w for w in (widest, *warnings) if w)


def _widest_for(demand: pd.DataFrame, lacking: pd.Series) -> tuple[pd.DataFrame, str]:
    """Demand whose series without factors of their own (too few backtest windows: a short
    history) take the widest of the other series' (the lowest low year, the highest high
    one), so their risk is not understated, and a warning naming them."""
    # as each is capped: a low year never above the forecast, a high one never below it
    low = min(float(demand.loc[~lacking, "low_factor"].min()), 1.0)
    high = max(float(demand.loc[~lacking, "high_factor"].max()), 1.0)
    filled = demand.assign(
        low_factor=demand["low_factor"].where(~lacking, low),
        high_factor=demand["high_factor"].where(~lacking, high),
    )
    rows = demand.loc[lacking]
    series = sorted(
        {f"referrals/{s}/{d}" for s, d in zip(rows["service"], rows["district"], strict=True)}
    )
    named = ", ".join(series[:3]) + (f" and {len(series) - 3} more" if len(series) > 3 else "")
    return filled, (
        f"demand risk: {named} had too few backtest windows of their own to measure how far "
        f"a year's total can miss; their low and high years take the widest of the other "
        f"series' ({low - 1:+.0%} and {high - 1:+.0%} of the year's forecast)"
    )


def _one_sided(rows: pd.DataFrame, way: str) -> str:
    """A warning naming the series whose backtest totals all but always ran `way` their
    forecasts ('' for none)."""
    series = sorted(
        {f"referrals/{s}/{d}" for s, d in zip(rows["service"], rows["district"], strict=True)}
    )
    if not series:
        return ""
    named = ", ".join(series[:3]) + (f" and {len(series) - 3} more" if len(series) > 3 else "")
    scenario = "low" if way == "above" else "high"
    return (
        f"demand risk: {named} ran {way} their forecasts in nine backtest years out of ten; "
        f"their {scenario} year is taken as the forecast itself, and the forecasts may be "
        f"running {'low' if way == 'above' else 'high'}"
    )


def planned_series(session: Session) -> frozenset[str] | None:
    """The series the active config plans from: its districts' referral series for its
    services, and its winter pressure series; None with no (valid) config (a pipeline run's
    plan step reports an invalid one in full)."""
    config = active_planning_config(session)
    return None if config is None else series_planned_by(config)


def active_planning_config(session: Session) -> PlanningConfig | None:
    """The active config, read; None with none or one that cannot be read (a pipeline run's
    plan step reports an unreadable one in full)."""
    config_row = repository.active_config(session)
    if config_row is None:
        return None
    try:
        return read_active(config_row)
    except ConfigUnreadable:
        return None


def pressure_series_of(config: PlanningConfig) -> str | None:
    """The config's winter pressure series' id; None without one."""
    return None if config.winter is None else config.winter.pressure_series


def series_planned_by(config: PlanningConfig) -> frozenset[str]:
    """The series a config plans from: its districts' referral series for its services, and
    its winter pressure series."""
    ids = {f"{REFERRALS_PREFIX}{s.id}/{d.id}" for s in config.services for d in config.districts}
    if config.winter is not None and config.winter.pressure_series is not None:
        ids.add(config.winter.pressure_series)
    return frozenset(ids)


def unplanned_referrals(
    session: Session, series_ids: Iterable[str], which: str = "these"
) -> list[str]:
    """A warning, for an upload's answer, `homeward import` and a pipeline run's message
    (`which`: "the stored"), naming referral series (`referrals/...`) that the active config
    will not plan: a service or district it does not have (with the one it has that is
    nearest, or "service and district swapped?"), or an id not of the form
    referrals/<service>/<district>. Such a series is stored and forecast in every run, and
    planned by none. [] with no (valid) active config, or none such."""
    row = repository.active_config(session)
    if row is None:
        return []
    try:
        config = read_active(row)
    except ConfigUnreadable:
        return []
    return unplanned_by(config, f"the active config {row.name!r}", series_ids, which)


def unplanned_stored(session: Session, config: PlanningConfig) -> list[str]:
    """The warning of `unplanned_by` for the referral series stored now, for a config being
    stored (POST /v1/configs) or planned (its plan's warnings, which the dashboard shows): a
    district dropped from the config while its series stay stored was said only in a pipeline
    run's message, and its config and plans said nothing (analyst review)."""
    stored = [row.id for row in repository.list_series(session, REFERRALS_PREFIX)]
    return unplanned_by(config, f"the config {config.name!r}", stored, "the stored")


def synthetic_pressure_warnings(session: Session, config: PlanningConfig) -> tuple[str, ...]:
    """A warning when the config's winter.pressure_series holds the synthetic demo's invented
    history while a referral series it plans is a council's own: a config begun from the
    demo's keeps the demo's pressure series, and its plans' winters were raised by made-up
    hospital pressure with nothing said (README walk-through). None for the demo itself."""
    if config.winter is None or config.winter.pressure_series is None:
        return ()
    series_id = config.winter.pressure_series
    # the pressure series alone first: every plan asks, and most are a council's own
    if repository.newest_import_sources(session, series_id).get(series_id) != (
        repository.SYNTHETIC_DEMO_SOURCE
    ):
        return ()
    sources = repository.newest_import_sources(session, REFERRALS_PREFIX)
    planned = {
        f"{REFERRALS_PREFIX}{s.id}/{d.id}" for s in config.services for d in config.districts
    }
    own = sorted(
        i for i in planned if i in sources and sources[i] != repository.SYNTHETIC_DEMO_SOURCE
    )
    if not own:
        return ()
    return (
        f"winter.pressure_series {series_id!r} is the synthetic demo's invented series, while "
        f"the referrals planned are your own ({own[0]}{' and more' if len(own) > 1 else ''}): "
        "winter demand is raised by made-up hospital pressure. Upload your area's own "
        "pressure series (monthly emergency admissions of your acute trust, say) and name it, "
        "or remove winter.pressure_series (winter.quantile_column plans winter from your "
        "referral forecasts' upper quantile instead)",
    )


def unplanned_by(
    config: PlanningConfig, whose: str, series_ids: Iterable[str], which: str
) -> list[str]:
    """`unplanned_referrals`' warning for `config`, named as `whose` ("the active config
    'x'"): [] where it plans every referral series of `series_ids`."""
    services: list[str] = [s.id for s in config.services]
    districts = [d.id for d in config.districts]
    said = []
    for series_id in sorted(i for i in series_ids if i.startswith(REFERRALS_PREFIX)):
        match = re.match(REFERRAL_ID, series_id)  # as plans read their demand
        if match is None:
            said.append(f"{series_id} (not referrals/<service>/<district>: no plan reads it)")
            continue
        service, district = match.groups()
        if service in districts and district in services:
            said.append(
                f"{series_id} (service and district swapped? "
                f"{REFERRALS_PREFIX}{district}/{service})"
            )
        elif service not in services:
            said.append(f"{series_id} (service {service!r}{_nearest(service, services)})")
        elif district not in districts:
            said.append(f"{series_id} (district {district!r}{_nearest(district, districts)})")
    if not said:
        return []
    more = f" and {len(said) - 5} more" if len(said) > 5 else ""
    return [
        f"{whose} does not plan {len(said)} of {which} referral series: "
        f"{'; '.join(said[:5])}{more}. Each is stored and forecast, and planned only once the "
        "config has its service and district: check the id (DELETE /v1/series/{id} removes "
        "one uploaded by mistake), or add the district to the config "
        f"(its services: {', '.join(services)}; districts: {', '.join(districts)})"
    ]


def _nearest(name: str, known: list[str]) -> str:
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    return f", not the config's; nearest {close[0]!r}" if close else ", not the config's"


def referral_hierarchy(config: PlanningConfig, ids: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Which district referral series add up to which team and area totals, per service.

    `referrals_team/<service>/<team>` is the sum of the team's districts'
    `referrals/<service>/<district>` series among `ids`, and `referrals_area/<service>` the
    sum of the teams'. The forecasting run reconciles them bottom-up, backtest folds included,
    so each total gets intervals calibrated on its own backtest errors and its own metrics.
    Districts with no series are left out of their team.
    """
    present = set(ids)
    tree: dict[str, tuple[str, ...]] = {}
    for service in config.services:
        teams: dict[str, list[str]] = {}
        for district in config.districts:
            uid = f"{REFERRALS_PREFIX}{service.id}/{district.id}"
            if uid in present:
                teams.setdefault(district.team, []).append(uid)
        for team, districts in teams.items():
            tree[f"{TEAM_PREFIX}{service.id}/{team}"] = tuple(districts)
        if teams:
            team_ids = (f"{TEAM_PREFIX}{service.id}/{t}" for t in teams)
            tree[f"{AREA_PREFIX}{service.id}"] = tuple(team_ids)
    return tree


@dataclass(frozen=True)
class PreparedPlan:
    """A config and its plan inputs, checked and ready to solve, with the warnings so far, the
    newest run whose referral forecasts its demand was read from (None: no forecast of the
    config's series, which `prepare_plan` refuses, so never in practice), and every run whose
    forecasts it read, ascending: each series' newest forecast can be another run's (one that
    forecast only an uploaded series after a full run), and the winter pressure series' too."""

    config: PlanningConfig
    inputs: PlanInputs
    warnings: tuple[str, ...]
    forecast_run_id: int | None = None
    forecast_run_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class SolvedPlan:
    """A solved config, its result, and the forecast runs its demand was read from
    (`PreparedPlan`), recorded with the plan so its summary need not work them out later."""

    config: PlanningConfig
    result: PlanResult
    forecast_run_id: int | None
    forecast_run_ids: tuple[int, ...] = ()


def prepare_plan(session: Session, body: dict[str, Any]) -> PreparedPlan:
    """Validate a config body and build its plan inputs from the newest forecasts: every check
    a plan makes before it is solved (a bad config, no forecasts, demand that does not fit the
    config's periods or horizon), so a plan job can be refused before it is queued."""
    config = read_config(body)
    # other districts' series are not this plan's demand, nor are the winter months they reach
    stored = {row.id for row in repository.list_series(session, REFERRALS_PREFIX)}
    forecasts = repository.latest_forecast_frame(session, REFERRALS_PREFIX)
    planned = _in_config(stored_demand(session, forecasts), config, stored)
    demand, warnings = with_usable_factors(planned)
    # a stored config's charge that earns nothing; weights that hold back OT assessments;
    # stored referral series of a district or service it does not plan
    unplanned = unplanned_by(config, f"the config {config.name!r}", stored, "the stored")
    invented = synthetic_pressure_warnings(session, config)
    warnings = config_level_warnings(config) + tuple(unplanned) + invented + warnings
    referral = _forecast_runs(forecasts, config)
    read = set(referral)  # and the winter pressure series' run, which may be another
    if config.winter is not None and config.winter.pressure_series is not None:
        series_id = config.winter.pressure_series
        frame = repository.latest_forecast_frame(session, series_id)
        forecast = frame[frame["unique_id"] == series_id] if len(frame) else frame
        read |= {int(r) for r in forecast["run_id"]}
        history = repository.load_observations(session, [series_id])
        referrals = repository.load_observations(session, _series_ids(demand))
        demand, winter_warnings = winter_pressure(
            demand, config.winter, forecast, history, referrals
        )
        warnings += winter_warnings
        if note := seasonless(session, series_id, history, forecast):
            warnings += (
                f"winter.pressure_series {series_id!r}: {note}, so winter periods were "
                "raised by no seasonal rise: only by the series' change over its last year, "
                "if any",
            )
    try:
        inputs = build_inputs(config, demand, "the newest forecasts")
    except PlanInputError as exc:
        if exc.field != "horizon_periods":
            raise
        raise PlanInputError(exc.field, exc.expected + _further(config), exc.found) from None
    notes = warnings + start_notes(demand, inputs) + winter_notes(config, inputs)
    newest = max(referral, default=None)
    return PreparedPlan(config, inputs, notes, newest, tuple(sorted(read)))


def _series_ids(demand: pd.DataFrame) -> list[str]:
    """The referral series ids of the demand's services and districts."""
    pairs = demand.loc[:, ["service", "district"]].drop_duplicates()
    return [f"{REFERRALS_PREFIX}{s}/{d}" for s, d in pairs.itertuples(index=False)]


def _further(config: PlanningConfig) -> str:
    """How to plan further ahead than the stored forecasts reach, for a horizon refusal: the
    pipeline forecasts HOMEWARD_FORECAST_HORIZON_WEEKS (or _MONTHS) ahead."""
    weekly = config.period_days == 7
    setting, unit = ("WEEKS", "weeks") if weekly else ("MONTHS", "months")
    most = MAX_HORIZON_WEEKS if weekly else MAX_HORIZON_MONTHS
    return (
        f"; to plan further ahead, raise HOMEWARD_FORECAST_HORIZON_{setting} (at most {most} "
        f"{unit}) and run the pipeline again (POST /v1/runs), so its forecasts reach further"
    )


def config_warnings(
    session: Session, body: dict[str, Any], prepared: PreparedPlan | None = None
) -> tuple[str, ...]:
    """What a plan of a valid config (``body``, being stored) would be warned of before it is
    solved, so it is said when the config is stored (POST /v1/configs), not first in a plan.

    With forecasts of every referral series it plans: ``prepare_plan``'s warnings and money
    in the wrong units (``money_scale_warnings``: a zero revenue budget, one in thousands, one
    below what its teams' minimum hours cost);
    without them (history uploaded since the last run, or none yet), the config's own
    (``config_level_warnings``: care charges, OT's weights), the stored referral series it
    does not plan (``unplanned_stored``) and a warning naming the series a plan would be
    refused for.
    ``prepared``: the plan of ``body`` its checks already prepared, not prepared again."""
    if prepared is not None:
        return (*prepared.warnings, *money_scale_warnings(prepared.inputs))
    config = read_config(body)
    forecasts = repository.latest_forecast_frame(session, REFERRALS_PREFIX)
    wanted = {f"{REFERRALS_PREFIX}{s.id}/{d.id}" for s in config.services for d in config.districts}
    unforecast = sorted(wanted - set(forecasts["unique_id"]))
    unplanned = (*unplanned_stored(session, config), *synthetic_pressure_warnings(session, config))
    if unforecast:
        return (*config_level_warnings(config), *unplanned, _unforecast_warning(unforecast))
    try:
        prepared = prepare_plan(session, body)
    except (PlanInputError, HomewardError):  # a plan's refusal, told by POST /v1/configs first
        return (*config_level_warnings(config), *unplanned)
    return (*prepared.warnings, *money_scale_warnings(prepared.inputs))


def config_level_warnings(config: PlanningConfig) -> tuple[str, ...]:
    """The warnings a config earns by itself, before any demand: a stored config's care
    charge that earns nothing (``charge_warnings``), waiting weights that make the plan
    hold back OT assessments (``works_weight_warnings``), and a hospital service whose
    hospital_share is left to its default of 1 (``hospital_share_warnings``)."""
    return (
        *charge_warnings(config),
        *works_weight_warnings(config),
        *hospital_share_warnings(config),
    )


def hospital_share_warnings(config: PlanningConfig) -> tuple[str, ...]:
    """A warning for each of reablement and domcare whose hospital_share is null: its default,
    1, counts every waiting case as a delayed day in a hospital bed, several times the delayed
    days a council's measured shares give (a county's monthly config: 209,355 a year, against
    34,745 with the demo's shares). The default stays, so plans do not change; this says it."""
    said = []
    for s in config.services:
        if s.id not in HOSPITAL_SERVICES or s.hospital_share is not None:
            continue
        said.append(
            f"services[{s.id}].hospital_share: expected the share (0 to 1) of its waiting cases "
            "who wait in a hospital bed, found none (null), which counts every waiting case as "
            "a delayed day in hospital (a delayed transfer of care), weighted by "
            f"hospital_delay_weight {s.hospital_delay_weight:g} on top of wait_weight: the "
            "plan's delayed days are then its waiting days. Give the share of its referrals "
            "that wait in a hospital bed (the demo's, calibrated to Warwickshire's 2018 "
            f"delays, are reablement {DEMO_HOSPITAL_SHARE['reablement']:.2g} and domcare "
            f"{DEMO_HOSPITAL_SHARE['domcare']:.2g}), or 1 if every one does"
        )
    return tuple(said)


def _unforecast_warning(series_ids: Sequence[str]) -> str:
    shown = ", ".join(series_ids[:5]) + (
        f" and {len(series_ids) - 5} more" if len(series_ids) > 5 else ""
    )
    return (
        f"no forecast yet of {shown}: a plan of this config is refused until a pipeline run "
        "has forecast them (the next scheduled run, or POST /v1/runs, once their history is "
        "uploaded: POST /v1/observations; GET /v1/series lists what is stored)"
    )


def _forecast_runs(forecasts: pd.DataFrame, config: PlanningConfig) -> set[int]:
    """The runs among the referral forecasts (`latest_forecast_frame`'s rows) of the config's
    services and districts: the runs a plan of it reads its demand from."""
    wanted = {f"{REFERRALS_PREFIX}{s.id}/{d.id}" for s in config.services for d in config.districts}
    return {int(r) for r in forecasts.loc[forecasts["unique_id"].isin(wanted), "run_id"]}


# Why a plan starts where it does, and what would move it on, by where its demand came from
FROM_HISTORY = (
    "because the referral history ends there",
    "upload newer referrals for a plan of the weeks ahead (on the synthetic demo alone, "
    "restart `homeward demo`: it brings the demo to the last complete week)",
)
FROM_FILE = ("because the demand file starts there", "give demand from this week on")
FROM_DEMO = (
    "because the demo's history ends there (with HOMEWARD_DEMO_LAST_YEAR, when set)",
    "unset HOMEWARD_DEMO_LAST_YEAR for the demo to the last complete week, or give your own "
    "data (--config, --demand) for the weeks ahead",
)


def start_notes(
    demand: pd.DataFrame, inputs: PlanInputs, source: tuple[str, str] = FROM_HISTORY
) -> tuple[str, ...]:
    """Warnings on where a plan starts, for every way a plan is made (the pipeline, the API,
    `homeward plan`): series whose demand starts out of step with the rest, and periods
    already over (`source`: why it starts there and what to do, FROM_HISTORY and so on)."""
    late = late_start(demand, inputs.services, inputs.districts)
    notes = (late, started_in_the_past(inputs, utcnow().date(), *source))
    return tuple(n for n in notes if n is not None)


def winter_notes(config: PlanningConfig, inputs: PlanInputs) -> tuple[str, ...]:
    """A warning when the config's winter.pressure_series raises no winter period of the plan
    (every index at or below 1), naming the largest index and its month: the config reads as
    planning a hospital winter, and the plan is its forecast alone. None when the plan has no
    winter period, or only periods the pressure index gives no figure for (read as 1.0 and
    already warned of by `winter_pressure`)."""
    winter = config.winter
    if winter is None or winter.pressure_series is None or inputs.winter_index is None:
        return ()
    index = np.asarray(inputs.winter_index, dtype=float).reshape(-1, len(inputs.period_start))
    by_period = np.nanmax(np.where(np.isfinite(index), index, -np.inf), axis=0)
    read = np.isfinite(by_period) & (by_period != 1.0)
    if not read.any() or (by_period[read] > 1.0 + RAISE_TOLERANCE).any():
        return ()
    top = int(np.flatnonzero(read)[np.argmax(by_period[read])])
    return (
        f"winter.pressure_series {winter.pressure_series!r} raises no winter period of the "
        f"plan: its largest index is {by_period[top]:.4f} "
        f"({pd.Timestamp(inputs.period_start[top]):%Y-%m}), at or below 1 (a normal month), "
        "so winter was planned without hospital pressure",
    )


def started_in_the_past(
    inputs: PlanInputs,
    today: date,
    because: str = FROM_HISTORY[0],
    remedy: str = FROM_HISTORY[1],
) -> str | None:
    """A warning when a whole period or more of the plan is already over: it starts where its
    demand starts (where the referral history ends: a stale upload, or the demo with
    HOMEWARD_DEMO_LAST_YEAR, whose history ends with that year), so its first weeks are weeks
    gone; None when it starts within a period of today."""
    if not inputs.period_start:
        return None
    first = pd.Timestamp(inputs.period_start[0]).date()
    gone = (today - first).days // inputs.period_days
    if gone < 1:
        return None
    unit = "week" if inputs.period_days == 7 else f"{inputs.period_days}-day period"
    return (
        f"the plan starts {first:%Y-%m-%d}, {gone} {unit}{'s' if gone != 1 else ''} before "
        f"today ({today:%Y-%m-%d}), {because}: its first "
        f"{min(gone, len(inputs.period_start))} of {len(inputs.period_start)} periods are over; "
        f"{remedy}"
    )


def series_to_delete(session: Session, prefix: str | None, synthetic: bool) -> list[str]:
    """The ids a DELETE /v1/series under `prefix` takes (`repository.series_to_delete`); with
    `synthetic`, also the forecast-only totals under `prefix` left with no stored district
    under the active config once the synthetic series are gone: the next run would not
    forecast them again, so they would be served and exported as stale for good. (Which
    districts a total added up when forecast is not stored, so "its districts were all
    synthetic" cannot be told apart from a total the active config no longer makes.)"""
    ids = repository.series_to_delete(session, prefix, synthetic)
    if not synthetic:
        return ids
    totals = [s.id for s in repository.list_forecast_only_series(session, prefix)]
    return sorted([*ids, *_left_without_districts(session, totals, set(ids))])


def totals_listing(session: Session, going: Iterable[str]) -> dict[str, list[str]]:
    """The kept totals that list a series in `going` as a member (`members` in GET
    /v1/series, as the run serving each recorded them), or list such a total (an area total
    of a team going), by id, each with its members going: deleted with `going`, no total is
    left naming a series that is gone (a dashboard adds up its members' histories). A total
    whose run recorded no members is not one."""
    listed = repository.total_members(session, repository.newest_forecast_runs(session))
    gone = set(going)
    found: dict[str, list[str]] = {}
    while newly := {
        total: [m for m in members if m in gone]
        for total, members in listed.items()
        if total not in gone and gone.intersection(members)
    }:
        found |= newly
        gone |= newly.keys()
    return dict(sorted(found.items()))


def _left_without_districts(session: Session, totals: list[str], going: set[str]) -> list[str]:
    """The totals among `totals` with no stored district under the active config but those
    `going`; with no config active (or one unreadable, which a delete refuses) none has one."""
    row = repository.active_config(session) if totals else None
    try:
        config = read_active(row) if row is not None else None
    except ConfigUnreadable:
        config = None
    kept = [s.id for s in repository.list_series(session, REFERRALS_PREFIX) if s.id not in going]
    tree = referral_hierarchy(config, kept) if config is not None else {}
    return [t for t in totals if not leaves_under(tree, t)]


def leaves_under(tree: Mapping[str, Sequence[str]], node: str) -> set[str]:
    """The districts a total in `tree` adds up (through its teams); none for a non-total."""
    children = tree.get(node, ())
    return {leaf for c in children for leaf in (leaves_under(tree, c) if c in tree else {c})}


def solve_config(session: Session, body: dict[str, Any], solver: str) -> SolvedPlan:
    """Validate a config body, build demand from the newest forecasts and solve (in the
    caller's transaction: the service reads with `prepare_plan`, ends its transaction and
    then solves with `solve_prepared`)."""
    return solve_prepared(prepare_plan(session, body), solver)


def solve_prepared(prepared: PreparedPlan, solver: str) -> SolvedPlan:
    """Solve a prepared plan; reads nothing from the database, so the caller holds no
    transaction (nor pooled connection) open while it solves, which can take half a minute:
    a PostgreSQL connection idle in a transaction that long is cut off by a council's
    `idle_in_transaction_session_timeout`, holds back vacuum, and is one fewer in the pool."""
    result = plan(prepared.inputs, solver=solver)
    result = result.with_extras(warnings=result.warnings + prepared.warnings)
    return SolvedPlan(prepared.config, result, prepared.forecast_run_id, prepared.forecast_run_ids)


def seasonless(
    session: Session,
    series_id: str,
    history: pd.DataFrame,
    forecast: pd.DataFrame,
    run_id: int | None = None,
) -> str | None:
    """Why a series' winter index shows little or no winter rise, when its history is too short
    for its newest forecast's model (`run_id`: that run's) to fit a season (forecast.notes);
    else None."""
    if history.empty or forecast.empty:
        return None
    [series] = split_history(history)
    if not under_three_seasons(series):  # most series: no need to read the run's candidates
        return None
    found = repository.latest_forecast(session, series_id, run_id)
    candidates = [m.model for m in found[2]] if found is not None else []
    chosen = str(forecast["model"].iloc[0])
    return seasonless_note(series) if lacks_season(series, chosen, candidates) else None


def winter_pressure(
    demand: pd.DataFrame,
    winter: WinterConfig,
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    referrals: pd.DataFrame | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Demand with the pressure series' columns (`with_winter_pressure`, its normal level read
    over the `referrals`' history: unique_id, ds, y), and warnings for what could not be
    raised: every winter month when the pressure series (`forecast`, `history`) has no
    forecast or no history (the plan still matters more than its winter uplift), or the
    months its forecast does not reach.
    """
    series_id = winter.pressure_series
    if forecast.empty or history.empty:
        found = "no forecast" if forecast.empty else "no history"
        warning = (
            f"winter.pressure_series: expected a stored series with a forecast, found {found} "
            f"for {series_id!r}; load its history and run the pipeline, or remove it from "
            "the config's winter section; winter periods were planned without hospital pressure"
        )
        log.warning("%s", warning)
        empty = pd.DataFrame({"ds": pd.Series(dtype="datetime64[ns]"), "index": []})
        return with_winter_pressure(demand, empty, referrals), (warning,)
    index = pressure_index(forecast, history, winter.pressure_level, winter.months)
    warnings = pressure_warnings(demand, index, history, winter)
    return with_winter_pressure(demand, index, referrals), warnings


def pressure_warnings(
    demand: pd.DataFrame, index: pd.DataFrame, history: pd.DataFrame, winter: WinterConfig
) -> tuple[str, ...]:
    """What a plan raised by `index` (`pressure_index` of the pressure series' `history`)
    could not: the winter months of `demand` it does not reach, and a bad winter the history
    cannot measure (`bad_winter_note`); the pipeline's plans and a forecasts file's alike."""
    series_id = winter.pressure_series
    warnings: tuple[str, ...] = ()
    if missing := uncovered_winter(demand, index, winter.months):
        warnings += (
            f"winter.pressure_series {series_id!r}: its forecast does not reach "
            f"{', '.join(missing)}; those months were planned without hospital pressure",
        )
    if note := bad_winter_note(series_id, history, winter.pressure_level, winter.months):
        warnings += (note,)
    return warnings


# the quantile of a winter month's seasonal factor each `pressure_level` plans for
PRESSURE_LEVEL_QUANTILE = {"q90": 0.9, "q975": 0.975}


def pressure_index(
    forecast: pd.DataFrame,
    history: pd.DataFrame,
    level: str,
    months: Iterable[int] = WINTER_MONTHS,
) -> pd.DataFrame:
    """ds, index: the winter index of one pressure series as the planner uses it.

    Each winter period's forecast mean (in the config's `winter.months`; November to March
    unless it names others) over the centred annual mean of the series' history and mean
    forecast around that period (`forecast.winter.seasonal_index`): the pressure's seasonal
    factor without its growth, since the referral forecasts it raises carry their own growth.
    For `level` q90 or q975 (a bad winter) each forecast period's index is raised by how far
    the series' seasonal factor rose in its 1-in-10 (1-in-40) winter months above their usual
    factor (`forecast.winter.bad_winter`), from history; without enough history for that
    (`bad_winter_note` says so) it stays the mean's. (It was the top of the forecast's 80% or
    95% interval over the mean's annual level, which read the forecast's growing uncertainty
    about the series' level as winter: 1.34 in a January a month ahead and 1.71 a year later
    for a volatile series whose worst winter month had been 1.28, an analyst found.) Months
    the series has already reported read what was observed, with no rise.

    A period's index is the same whatever the plan's horizon or first month, but for a period
    within HALF_YEAR_MONTHS of the pressure forecast's end, which takes the last full centred
    year's mean, growth and all: the pipeline, and the demo as it, forecast the pressure series
    half a year past the plan's last month (`forecast.winter.half_year_periods`) so no planned
    month is such a period; a forecasts file (`homeward plan --demand`) reaching only the
    plan's end has them.
    GET /v1/winter serves another index: the forecast over the trailing year of history
    (`forecast.winter_index`), growth and all.
    """
    index = seasonal_index(forecast, history, months).loc[:, ["ds", "index"]]
    measured = _bad_winter(history, level, months)
    rise = measured.rise if measured is not None and measured.rise is not None else 0.0
    ahead = pd.to_datetime(index["ds"]) >= pd.to_datetime(forecast["ds"]).min()
    return index.assign(index=index["index"] + np.where(ahead, rise, 0.0))


def _bad_winter(history: pd.DataFrame, level: str, months: Iterable[int]) -> BadWinter | None:
    """What `history` says of the bad winter a q90 or q975 `level` plans for; None: `mean`."""
    if level not in PRESSURE_LEVEL_QUANTILE:
        return None
    return bad_winter(history, PRESSURE_LEVEL_QUANTILE[level], months)


def bad_winter_note(
    series_id: str | None, history: pd.DataFrame, level: str, months: Iterable[int]
) -> str | None:
    """Why a config's q90 or q975 `pressure_level` planned an average winter: the pressure
    series' history holds too few winters to measure a bad one (`pressure_index`); or that a
    q975 rests on too few winter months to be a 1-in-40 one, so it is about the worst seen;
    else None."""
    measured = _bad_winter(history, level, months)
    if measured is None:
        return None
    if measured.rise is not None:
        if level != "q975" or measured.seen >= 40:
            return None
        return (
            f"winter.pressure_level 'q975': a 1-in-40 winter month wants about 40 winter months "
            f"of history to be measured from, found {measured.seen} in the history of "
            f"{series_id!r}, so it is about the worst month seen, little above q90's 1-in-10"
        )
    found = measured.fewest
    where = f"in the history of {series_id!r}" if not history.empty else "(no history given)"
    return (
        f"winter.pressure_level {level!r}: a bad winter is measured from how far the pressure "
        f"series' winter months rose above their usual level in past years; expected "
        f"{MIN_WINTERS} winters or more of each winter month with a whole year around it (about "
        f"four years of history), found {found} {where}; winter periods were planned for an "
        "average winter (the forecast mean's index)"
    )


def with_winter_pressure(
    demand: pd.DataFrame, index: pd.DataFrame, history: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Demand with the columns a winter config's pressure series needs (see WinterConfig):

    - `winter_index`: the pressure index of the calendar month each period starts in (the
      month's mean if the pressure series is weekly; 1.0 in months it does not cover, which
      `uncovered_winter` names);
    - `normal_cases`: each service and district's deseasonalised level at each period, the
      level the index raises: the centred annual mean there (forecast.winter.
      centred_annual_mean) of its referral series' `history` (unique_id
      `referrals/<service>/<district>`, ds, y; the observations before its forecast's
      first period) followed by its forecast, so a two-year plan's second winter raises the
      second year's level, as the index is the pressure's season without its growth. With
      history, a plan's first half year has whole centred years around it: of the forecast
      alone, a 52-week forecast has none, and every week took its mean, centred on the
      plan's middle, which overstated a growing series' first winter by half a year's
      growth. A period within half a year of the series' end (or, without history, of its
      forecast's start) takes the nearest full centred year's mean (none: the mean). For
      monthly demand the level is taken per day and given back in each month's days, as
      the index is per day.
    """
    monthly = pd.Series(
        index["index"].to_numpy(dtype=float),
        index=pd.DatetimeIndex(index["ds"]).to_period("M"),
    )
    monthly = monthly[np.isfinite(monthly.to_numpy())]
    monthly = monthly.groupby(level=0).mean()
    ds = pd.DatetimeIndex(pd.to_datetime(demand["ds"]))
    out = demand.assign(winter_index=monthly.reindex(ds.to_period("M")).fillna(1.0).to_numpy())
    monthly_demand = bool((ds.day == 1).all())
    factor = month_factor(ds, "MS") if monthly_demand else np.ones(len(ds))
    per_day = pd.Series(out["cases"].to_numpy(dtype=float) / factor, index=ds)
    past = _per_day_history(history, monthly_demand)
    series = REFERRALS_PREFIX + out["service"].astype(str) + "/" + out["district"].astype(str)
    normal = np.empty(len(out))
    for series_id, rows in series.groupby(series).indices.items():
        normal[rows] = _normal_level(per_day.iloc[rows], past.get(str(series_id)))
    return out.assign(normal_cases=normal * factor)


def _per_day_history(history: pd.DataFrame | None, monthly: bool) -> dict[str, pd.Series]:
    """Each series' observations (y by ds, sorted), per day for monthly demand as its cases."""
    if history is None or history.empty:
        return {}
    frame = history.loc[:, ["unique_id", "ds", "y"]].dropna()
    ds = pd.DatetimeIndex(pd.to_datetime(frame["ds"]))
    factor = month_factor(ds, "MS") if monthly else np.ones(len(ds))
    y = pd.Series(frame["y"].to_numpy(dtype=float) / factor, index=ds)
    return {
        str(uid): y.iloc[rows].sort_index()
        for uid, rows in frame.groupby("unique_id").indices.items()
    }


def _normal_level(forecast: pd.Series, history: pd.Series | None) -> npt.NDArray[np.float64]:
    """The centred annual mean at each of one series' forecast periods (`forecast`, per day
    by ds) of its history before them followed by the forecast."""
    past = history[history.index < forecast.index.min()] if history is not None else None
    if past is None or past.empty:
        return centred_annual_mean(forecast).to_numpy(dtype=float)
    level = centred_annual_mean(pd.concat([past, forecast]))
    return level.to_numpy(dtype=float)[len(past) :]


def uncovered_winter(demand: pd.DataFrame, index: pd.DataFrame, months: Iterable[int]) -> list[str]:
    """The winter months (YYYY-MM) of the demand that the pressure index does not reach."""
    have = set(pd.DatetimeIndex(index["ds"]).to_period("M")[np.isfinite(index["index"])])
    wanted = pd.DatetimeIndex(pd.to_datetime(demand["ds"])).to_period("M").unique()
    return sorted(str(m) for m in wanted if m.month in set(months) and m not in have)


def stored_demand(session: Session, forecasts: pd.DataFrame | None = None) -> pd.DataFrame:
    """LP demand from the newest stored referral forecasts (as `demand_from_forecasts`);
    `forecasts`: those forecasts, already read (`repository.latest_forecast_frame`).

    Raises `NoForecasts` when there are none, so a plan request can be refused before a job
    is queued for it, exactly as a plan solved at once is.
    """
    if forecasts is None:
        forecasts = repository.latest_forecast_frame(session, REFERRALS_PREFIX)
    demand = demand_from_forecasts(
        forecasts, repository.latest_chosen_metrics(session, REFERRALS_PREFIX)
    )
    if demand.empty:
        raise NoForecasts(
            "no referral forecasts are stored yet: run the pipeline first (POST /v1/runs with "
            "a planner key, or wait for the scheduled run); `homeward forecast` writes a CSV "
            "and stores nothing"
        )
    return demand


def _in_config(
    demand: pd.DataFrame, config: PlanningConfig, stored: Collection[str] = ()
) -> pd.DataFrame:
    """Demand for the config's services and districts only; other series are not this plan's.

    A referral series for a district the config does not name (a neighbour's upload, a new
    district not yet configured) is left out and logged rather than failing the plan.
    """
    services = {s.id for s in config.services}
    districts = {d.id for d in config.districts}
    keep = demand["service"].isin(services) & demand["district"].isin(districts)
    dropped = demand.loc[~keep, ["service", "district"]].drop_duplicates()
    left_out = [f"{REFERRALS_PREFIX}{s}/{d}" for s, d in dropped.itertuples(index=False)]
    if left_out:
        log.warning(
            "demand not in planning config %r, left out: %s", config.name, ", ".join(left_out)
        )
    _refuse_unforecast(demand.loc[keep], config, left_out, stored)
    return demand.loc[keep].reset_index(drop=True)


def _refuse_unforecast(
    demand: pd.DataFrame, config: PlanningConfig, left_out: list[str], stored: Collection[str]
) -> None:
    """PlanInputError naming each service and district of the config with no forecast at all,
    and the nearest forecast series the config leaves out: a district spelt one way in the
    config and another in the uploads (`south-lakland`, `south-lakeland`) would otherwise be
    refused later as a missing row for one date, naming neither series."""
    have = set(zip(demand["service"], demand["district"], strict=True))
    missing = [
        f"{REFERRALS_PREFIX}{s.id}/{d.id}"
        for d in config.districts
        for s in config.services
        if (s.id, d.id) not in have
    ]
    if not missing:
        return
    said = []
    for series_id in missing[:5]:
        near = difflib.get_close_matches(series_id, left_out, n=1, cutoff=0.8)
        if series_id in stored:  # the id is right: the newest run did not forecast it
            said.append(
                f"{series_id} (stored, but the newest run has no forecast of it: too short to "
                "forecast, or stored since; GET /v1/runs says why)"
            )
        else:
            said.append(series_id + (f" (forecast but not planned: {near[0]!r})" if near else ""))
    more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
    raise PlanInputError(
        _unforecast_field(config, have),
        "a forecast of referrals for every service and district of the config (the newest "
        "pipeline run's; a district's id in the config must be the one its uploads use, and "
        "GET /v1/series lists those)",
        f"none for {'; '.join(said)}{more}",
    )


def _unforecast_field(config: PlanningConfig, have: set[tuple[str, str]]) -> str:
    """The config field a missing forecast is located at, so a form can mark it: the first
    district lacking one (`districts.3.id`, a district no upload has), or a service no
    district has a forecast of (`services.1.id`); the district when only some of a service's
    districts lack one."""
    for i, district in enumerate(config.districts):
        for j, service in enumerate(config.services):
            if (service.id, district.id) in have:
                continue
            if not any((service.id, d.id) in have for d in config.districts):
                return f"services.{j}.id"
            return f"districts.{i}.id"
    return "demand"


def config_version(row: PlanningConfigRow) -> str:
    """How a run records the config it used: its stated version and a content hash."""
    return f"{row.version}#{row.body_hash[:12]}"


def scenario_body(session: Session, body: dict[str, Any] | None) -> dict[str, Any]:
    """The config a plan request asks for (`body` None: the active one), checked before solving."""
    if body is None:
        active = repository.active_config(session)
        if active is None:
            raise NoConfig("no planning config stored; send one in the request's `config`")
        read_active(active)  # a bad config is refused now, not in a job later
        return active.body
    read_config(body)
    return body


def checked_body(session: Session, body: dict[str, Any] | None) -> dict[str, Any]:
    """The config a plan request asks for (`body` None: the active one), after every check a
    plan of it makes before solving (`prepare_plan`): a plan job is refused now, with the
    same error as a plan solved at once, rather than queued to fail."""
    body = scenario_body(session, body)
    prepare_plan(session, body)
    return body


def plan_scenario(
    factory: sessionmaker[Session],
    body: dict[str, Any] | None,
    solver: str,
    run_id: int | None = None,
    *,
    apart: bool = False,
    trigger: RunTrigger = "api",
    parent_run_id: int | None = None,
    created_by: str | None = None,
    keep_unsolved: bool = False,
) -> StoredPlan:
    """Solve a requested plan (`body` None: the active config) and record it as a run: its
    inputs read in one short transaction, solved holding none (`solve_prepared`), stored in
    another.

    `run_id` is a run already queued for a plan job; otherwise one is made (with `trigger`,
    `parent_run_id`: the sweep run it is one rate of, and `created_by`: who asked, recorded
    in the audit trail when the plan was asked for alone, trigger `api`). The plan and its
    config are recorded as made by whoever asked for the run.
    A changed config is stored as a scenario, so a what-if never replaces the active config;
    `apart` keeps it a scenario even with the active config's content (a sweep's plans).

    A solve that ends without a plan (`PlanResult.ok` false: status error, infeasible or
    time_limit) fails its run, recorded with the solver's status and words, and raises
    PlanNotSolved: no plan is stored, since a plan of the active config would become the
    latest plan with every table empty. `keep_unsolved` (a sweep's plans, which are never
    the latest) stores it all the same, so the sweep's row for its rate names it.
    """
    started = utcnow()  # a job's run was marked started when the job began (run_plan_job)
    with transaction(factory) as session:
        prepared = prepare_plan(session, scenario_body(session, body))
        models = _models_used(session, prepared.config)  # the forecasts just read
    solved = solve_prepared(prepared, solver)
    config, result = solved.config, solved.result
    canonical = config.model_dump(mode="json")
    # worked out before the transaction, which then holds its connection only to write
    body_hash, data_hash = config_hash(canonical), demand_hash(result.demand)
    stored = result_json(solved)
    with transaction(factory) as session:
        if run_id is None:  # made after the solve, so a refused plan leaves no run
            run = repository.start_run(session, "plan", trigger, code_version(), created_by)
            run.started_at = run.queued_at = started  # it began before the solve
            run.parent_run_id = parent_run_id
        else:
            run = session.get_one(RunRow, run_id)
        config_row = repository.save_config(
            session, canonical, body_hash, scenario=True, apart=apart, created_by=run.created_by
        )
        run.config_id, run.config_version = config_row.id, config_version(config_row)
        ended: RunStatus = "succeeded" if result.ok else "failed"
        run.solver_status, run.status, run.finished_at = result.status.value, ended, utcnow()
        run.message = result.message
        run.data_hash, run.models_chosen = data_hash, models
        run.timings_s = {"build_s": result.build_seconds, "solve_s": result.solve_seconds}
        plan: StoredPlan | None = None
        if result.ok or keep_unsolved:
            plan = store_result(session, run.id, config_row.id, solved, stored)
        else:
            run.message = unsolved_message(session, result)
        if run_id is None and trigger == "api" and created_by is not None:
            repository.record_audit(
                session,
                created_by,
                "plan",
                run_id=run.id,
                plan_id=None if plan is None else plan.plan_id,
                config_id=config_row.id,
                scenario=config_row.scenario,
            )
        if plan is not None:
            return plan
        failed = PlanNotSolved(f"run {run.id} failed: {run.message}", result.status.value, run.id)
    raise failed  # after the transaction has committed the failed run


def demand_hash(demand: pd.DataFrame) -> str:
    """A content hash of the demand a plan was solved for (its result's `demand` rows), so a
    requested plan's run records what it planned from as a pipeline run records its data."""
    canonical = demand.sort_values(list(demand.columns[:3])).to_csv(
        index=False, float_format="%.9g"
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def _models_used(session: Session, config: PlanningConfig) -> dict[str, str]:
    """The model of each stored forecast a plan of this config reads: its districts' referrals
    and its winter pressure series."""
    wanted = {f"{REFERRALS_PREFIX}{s.id}/{d.id}" for s in config.services for d in config.districts}
    frames = [repository.latest_forecast_frame(session, REFERRALS_PREFIX)]
    pressure = config.winter.pressure_series if config.winter else None
    if pressure is not None:
        wanted.add(pressure)
        frames.append(repository.latest_forecast_frame(session, pressure))
    frame = pd.concat(
        [f for f in frames if not f.empty] or [pd.DataFrame(columns=["unique_id", "model"])]
    )
    first = frame.drop_duplicates("unique_id")
    pairs = zip(first["unique_id"], first["model"], strict=True)
    return {str(u): str(m) for u, m in pairs if u in wanted}


def queue_plan(factory: sessionmaker[Session], created_by: str | None = None) -> int:
    """Record a plan run that a job will solve shortly, asked for by `created_by` (in the
    audit trail, in the same transaction), and return its id."""
    with transaction(factory) as session:
        run = repository.start_run(session, "plan", "api", code_version(), created_by)
        run.status = "queued"
        if created_by is not None:
            repository.record_audit(session, created_by, "plan", run_id=run.id, queued=True)
        return run.id


def run_plan_job(
    factory: sessionmaker[Session],
    body: dict[str, Any],
    solver: str,
    run_id: int,
    *,
    what_if_only: bool = False,
) -> None:
    """The body of a plan job: solve and store, or record on the run why not (never raises).
    `what_if_only`: a what-if even of the active config unchanged (a finance key's)."""
    try:
        with transaction(factory) as session:
            run = session.get_one(RunRow, run_id)
            run.status, run.started_at = "running", utcnow()
        plan_scenario(factory, body, solver, run_id, apart=what_if_only)
    except PlanNotSolved as exc:  # recorded on the run already, with its solver status
        log.error("plan job %s failed: %s", run_id, exc)
    except Exception as exc:  # the run record must say why it failed, whatever failed
        log.exception("plan job %s failed", run_id)
        _record_failure(factory, run_id, f"{type(exc).__name__}: {exc}")


def _record_failure(factory: sessionmaker[Session], run_id: int, message: str) -> None:
    """Close a job's run as failed, saying why."""
    with transaction(factory) as session:
        run = session.get_one(RunRow, run_id)
        run.status, run.finished_at, run.message = "failed", utcnow(), message


def result_json(solved: SolvedPlan) -> dict[str, Any]:
    """A solved plan's result as stored, with the forecast runs it read last:
    `forecast_run_id`, the newest run of its referral forecasts, and `forecast_run_ids`, every
    run whose forecasts it read, ascending (what retention keeps with it). Worked out when the
    summary was read, a run since (or one deleted) could change them. Made before the
    transaction that stores it, which then holds its connection only to write."""
    read = {
        "forecast_run_id": solved.forecast_run_id,
        "forecast_run_ids": [*solved.forecast_run_ids],
    }
    return solved.result.to_dict() | read


def store_result(
    session: Session, run_id: int, config_id: int, solved: SolvedPlan, stored: dict[str, Any]
) -> StoredPlan:
    """Store a plan result against its run and config; `stored` is its `result_json`."""
    result = solved.result
    row = repository.store_plan(
        session,
        run_id,
        config_id,
        result.status.value,
        result.objective_weighted_wait_days,
        result.solve_seconds,
        stored,
    )
    return StoredPlan(row.id, result)


# what a sweep reports of each plan, and of the active config's latest plan to compare with
SWEEP_FIGURES = (
    "weighted_wait_days",
    "fee_income_gbp",
    "charge_income_gbp",
    "staff_cost_gbp",
    "agency_cost_gbp",
    "revenue_cost_gbp",
    "revenue_budget_gbp",
    "net_revenue_cost_gbp",
    "unspent_budget_gbp",
    "staff_hours",
    "agency_hours",
    "works_completed",
    "dtoc_days",
    "simulated_dtoc_days",
)


def plan_figures(
    objective: float | None, result: dict[str, Any], body: Mapping[str, Any] | None = None
) -> dict[str, float | None]:
    """A stored plan's headline figures as a sweep reports them, read from its stored result
    (so they match GET /v1/plans/{id}): weighted waiting days (the objective); fee income,
    care charge income, staff cost (in-house staff hours, and care bought from providers at
    its commissioned rate) and agency cost (GBP, the `revenue` rows summed)
    and the two costs together (`revenue_cost_gbp`: what the revenue budget pays for hours,
    before fee and charge income), so a rate that swaps staff for dearer agency hours does not
    read as a saving; the revenue budget (`revenue_budget_gbp`, the `revenue` rows'
    `budget_gbp` summed), that cost less the fee and charge income (`net_revenue_cost_gbp`,
    the `revenue` rows' `net_cost_gbp` summed) and the revenue budget left unspent
    (`unspent_budget_gbp`, the `revenue` rows' headroom summed, round-off left over from
    weeks over and under a financial year's budget written 0: where team-hour ceilings bind,
    fee income the plan cannot spend on hours shows here), so that net cost and unspent
    budget add up to the budget, and a what-if that changes the budget says by how much;
    staff (and commissioned) and agency
    hours (the `staffing` rows summed); DFG works completed (the `capital` rows summed: fewer
    at a higher fee when `fees.charged_to_grant`) and delayed discharge (DTOC) days. A plan
    with no revenue rows (not solved) has None for its money, hours and DTOC days rather
    than 0. Money is to the penny (`_revenue_money`), not a sum's float noise.

    With the plan's config `body`, also `simulated_dtoc_days`: the delayed days its queue
    simulation gives (the simulation rows' person-days times each service's hospital share,
    as `dtoc_days` are reckoned from the LP's), which can differ from the LP's by half, since
    queues near full use wait longer than a fluid model predicts; None without a body or a
    simulation."""

    def total(frame: str, column: str) -> float | None:
        rows = result.get(frame) or []
        if not rows:
            return None
        return float(sum(r.get(column) or 0.0 for r in rows))

    money = _revenue_money(result.get("revenue") or [])
    return {
        "weighted_wait_days": objective,
        **money,
        "staff_hours": total("staffing", "staff_hours"),
        "agency_hours": total("staffing", "agency_hours"),
        "works_completed": total("capital", "works_completed"),
        # an unsolved plan stores total_dtoc_days 0: no plan, not a plan with no delays
        "dtoc_days": None if money["revenue_cost_gbp"] is None else result.get("total_dtoc_days"),
        "simulated_dtoc_days": _simulated_dtoc(result, body),
    }


_REVENUE_MONEY = tuple(name for name in SWEEP_FIGURES if name.endswith("_gbp"))


def _revenue_money(rows: list[dict[str, Any]]) -> dict[str, float | None]:
    """`plan_figures`' money from a plan's `revenue` rows, summed and to the penny (a sum's
    float noise, 6098600.8999999985, is no figure a finance officer can reconcile). Revenue
    cost and net cost are reckoned from the unrounded sums and rounded once, as the summary's
    financial years are (staff and agency each to the penny, then summed, made GBP 100.004 +
    100.004 a cost of 200.00 where the year's rows said 200.01), so each may differ by a penny
    from its rounded parts; net cost and unspent budget add up to the budget
    (`spent_to_the_penny`); each None without rows (a plan not solved)."""
    if not rows:
        return dict.fromkeys(_REVENUE_MONEY)

    def total(column: str) -> float:  # a column missing (charges, once) sums to 0
        return float(sum(r.get(column) or 0.0 for r in rows))

    staff, agency = total("staff_cost_gbp"), total("agency_cost_gbp")
    fee, charge = total("fee_income_gbp"), total("charge_income_gbp")
    budget = to_the_penny(total("budget_gbp"))
    net, unspent = spent_to_the_penny(budget, staff + agency - fee - charge)
    parts = [to_the_penny(gbp) for gbp in (fee, charge, staff, agency, staff + agency)]
    figures = [*parts, budget, net, unspent]
    return dict(zip(_REVENUE_MONEY, figures, strict=True))


def _simulated_dtoc(result: dict[str, Any], body: Mapping[str, Any] | None) -> float | None:
    """The plan's own `simulated_dtoc_days`; for a plan stored before it was reported, the
    same sum from its simulation rows and its config's hospital shares."""
    stored = result.get("simulated_dtoc_days")
    if stored is not None or "simulated_dtoc_days" in result:
        return None if stored is None else float(stored)
    rows = result.get("simulation") or []
    if body is None or not rows:
        return None
    shares = hospital_shares(read_config(body).services)
    return float(
        sum((r.get("sim_person_days") or 0.0) * shares.get(r.get("service"), 0.0) for r in rows)
    )


@dataclass(frozen=True)
class PlanHorizon:
    """The periods a plan's totals are over: days in each, how many, and the first's start
    (YYYY-MM-DD); None where a stored plan does not say."""

    period_days: int | None
    periods: int | None
    first_ds: str | None

    def differs(self, other: PlanHorizon) -> bool:
        """Whether the two are known to cover other periods (a part neither says is no
        difference)."""
        pairs = zip(astuple(self), astuple(other), strict=True)
        return any(a is not None and b is not None and a != b for a, b in pairs)

    def __str__(self) -> str:
        return f"{self.periods} periods of {self.period_days} days from {self.first_ds}"


def plan_horizon(result: Mapping[str, Any]) -> PlanHorizon:
    """A stored plan's horizon, from its result's `period_days`, `periods` and `first_ds`, or
    for a plan stored before those were reported, from its revenue rows (one per period)."""
    rows = result.get("revenue") or []
    dates = [date.fromisoformat(str(r["ds"])[:10]) for r in rows[:2] if r.get("ds")]
    days = (dates[1] - dates[0]).days if len(dates) == 2 else None
    first = result.get("first_ds") or (dates[0].isoformat() if dates else None)
    return PlanHorizon(
        result.get("period_days") or days,
        result.get("periods") or (len(rows) or None),
        None if first is None else str(first)[:10],
    )


@dataclass(frozen=True)
class SweepBaseline:
    """The plan a sweep's changes are from (the active config's latest), its figures and the
    periods they are totals over."""

    plan_id: int
    figures: dict[str, float | None]
    horizon: PlanHorizon | None = None
    status: str | None = None  # the solver's outcome; None: not known (taken as optimal)
    # each service's (hours, net cost) in its config's order (`service_totals`), for a
    # comparison's `by_service`; a sweep's rows leave them out
    services: dict[str, ServiceTotal] = field(default_factory=dict)


def sweep_row(
    rate: float | None,
    plan_id: int,
    status: str,
    figures: dict[str, float | None],
    baseline: SweepBaseline | None,
    horizon: PlanHorizon | None = None,
) -> dict[str, Any]:
    """One row of a sweep's table: the rate (None for a what-if whose config gives fees by
    financial year, `fees.by_year`, as a sweep never does), its plan and figures, each
    figure's change from the baseline (`<figure>_change`; None with no baseline or a figure
    missing), and the baseline's plan id (`compared_with_plan_id`; None with no baseline).
    Where the plan's
    `horizon` and the baseline's differ (a what-if of 26 periods against a plan of 52, or a
    plan that starts later), every change is None and `not_comparable` says why: a total
    over other periods is no change. So too where either plan is not `optimal` (one
    `infeasible_relaxed` broke a limit to exist: its fall in waiting is no improvement)."""
    row: dict[str, Any] = {"dfg_fee_rate": rate, "plan_id": plan_id, "status": status}
    apart = _not_optimal(plan_id, status, baseline) or _not_comparable(plan_id, horizon, baseline)
    for name in SWEEP_FIGURES:
        value = figures[name]
        before = None if baseline is None else baseline.figures[name]
        row[name] = value
        if value is None or before is None or apart is not None:
            row[f"{name}_change"] = None
        else:
            row[f"{name}_change"] = _figure_change(name, value, before)
    row["compared_with_plan_id"] = None if baseline is None else baseline.plan_id
    row["not_comparable"] = apart
    return row


def _figure_change(name: str, value: float, before: float) -> float:
    """A figure's change, `value` less `before`, 0 where it is round-off beside them; money
    to the penny, as its figures are (419752.4399999976 is 419752.44)."""
    change = without_round_off(value - before, value, before)
    return to_the_penny(change) if is_money(name) else change


def _not_optimal(plan_id: int, status: str, baseline: SweepBaseline | None) -> str | None:
    """Why a plan's figures cannot be set against the baseline's when either plan is not
    optimal; None when both are (or there is no baseline). A relaxed plan broke a limit (a
    budget, a team's ceiling, `equity.max_avg_wait_days`) to exist: its waits and costs are
    not those of any plan the config allows, so a change from it, or to it, is no saving."""
    if baseline is None:
        return None
    odd = [(plan_id, status)] if status != PlanStatus.OPTIMAL else []
    if baseline.status is not None and baseline.status != PlanStatus.OPTIMAL:
        theirs = (baseline.plan_id, baseline.status)
        odd += [] if theirs in odd else [theirs]  # a row its own baseline's is said once
    if not odd:
        return None
    unsolved = [(p, s) for p, s in odd if s not in repository.SOLVED_PLAN_STATUSES]
    if unsolved:  # no figures at all: not the relaxed plan's reason
        said = " and ".join(f"plan {p}'s solver ended with status {s}" for p, s in unsolved)
        return (
            f"{said}, without a plan (its run's message says why), so there are no figures "
            "to compare; every change is null"
        )
    said = " and ".join(f"plan {p} is {s}" for p, s in odd)
    return (
        f"{said}, not optimal: a relaxed plan broke a limit to exist (its `relaxations` name "
        "it), so its waits and costs are of no plan the config allows and a change to or from "
        "them is no saving; every change is null"
    )


def _not_comparable(
    plan_id: int, horizon: PlanHorizon | None, baseline: SweepBaseline | None
) -> str | None:
    """Why a plan's totals cannot be set against the baseline's; None when they can."""
    if horizon is None or baseline is None or baseline.horizon is None:
        return None
    if not horizon.differs(baseline.horizon):
        return None
    return (
        f"plan {plan_id} covers {horizon}, plan {baseline.plan_id} {baseline.horizon}: totals "
        "over other periods are not compared, so every change is null"
    )


def active_config_plan(session: Session) -> PlanRow | None:
    """The newest plan made with the active config (the pipeline's, or one requested without
    a changed config), or with an earlier active config of the same content (a config stored
    again after another: a new version, the same plan); None if there is no active config or
    no such plan yet.

    Not `repository.latest_plan`, which is the newest plan of any config that was ever
    active: after a new config is stored, that is still the old config's plan until the
    pipeline plans again, and a change measured from it would credit the fee with
    everything else the new config changed (a budget, a team's hours)."""
    active = repository.active_config(session)
    if active is None:
        return None
    same = select(PlanningConfigRow.id).where(
        PlanningConfigRow.body_hash == active.body_hash, PlanningConfigRow.scenario.is_(False)
    )
    stmt = (
        select(PlanRow)
        .where(or_(PlanRow.config_id == active.id, PlanRow.config_id.in_(same)))
        .order_by(PlanRow.id.desc())
    )
    return session.scalars(stmt.limit(1)).first()


def sweep_baseline(session: Session) -> SweepBaseline | None:
    """The active config's latest plan as a sweep compares with it; None if there is none
    (then every change is None, and the sweep's message says why)."""
    latest = active_config_plan(session)
    if latest is None:
        return None
    config = session.get(PlanningConfigRow, latest.config_id)
    return baseline_of(latest, None if config is None else config.body)


def baseline_of(plan: PlanRow, body: dict[str, Any] | None) -> SweepBaseline:
    """A stored plan (of config `body`) as the baseline a comparison's changes are from."""
    figures = plan_figures(plan.objective_weighted_wait_days, plan.result, body)
    services = service_totals(plan.result, body)
    return SweepBaseline(plan.id, figures, plan_horizon(plan.result), plan.status, services)


@dataclass(frozen=True)
class ServiceTotal:
    """A service's hours (staff, commissioned and agency) and net cost (staff and agency cost
    less its care charge income, GBP) over a plan's periods and teams; None where the plan has
    no revenue_by_service rows (not solved, or stored before the table)."""

    hours: float | None
    net_cost_gbp: float | None


def service_totals(
    result: Mapping[str, Any], body: Mapping[str, Any] | None
) -> dict[str, ServiceTotal]:
    """Each service's `ServiceTotal` from a stored plan's `revenue_by_service` rows, summed
    over periods and teams, in its config's order (`body`'s services; any service only the
    rows name after them, in their order)."""
    rows = result.get("revenue_by_service") or []
    order = [*_config_services(body), *(str(r.get("service")) for r in rows)]
    totals: dict[str, ServiceTotal] = {}
    for service in dict.fromkeys(order):
        mine = [r for r in rows if r.get("service") == service]
        if not rows:
            totals[service] = ServiceTotal(None, None)
            continue
        hours = sum((r.get("staff_hours") or 0.0) + (r.get("agency_hours") or 0.0) for r in mine)
        paid = sum(
            (r.get("staff_cost_gbp") or 0.0) + (r.get("agency_cost_gbp") or 0.0) for r in mine
        )
        charged = sum(r.get("charge_income_gbp") or 0.0 for r in mine)
        totals[service] = ServiceTotal(float(hours), to_the_penny(float(paid - charged)))
    return totals


def _config_services(body: Mapping[str, Any] | None) -> list[str]:
    """The service ids of a stored config body, in its order; [] where it gives none that
    can be read (a config stored by an older release is read as stored, not validated)."""
    services = None if body is None else body.get("services")
    if not isinstance(services, list):
        return []
    return [str(s["id"]) for s in services if isinstance(s, Mapping) and "id" in s]


def service_changes(
    mine: Mapping[str, ServiceTotal],
    theirs: Mapping[str, ServiceTotal] | None,
    compared: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """A comparison's `by_service`: per service (this plan's config order, then any only the
    compared plan has), its hours and net cost in this plan and in the compared one
    (`compared_hours`, `compared_net_cost_gbp`) and each one's change, this plan's less the
    compared's, money to the penny as the totals' are (`_figure_change`: not 1556755.200000003).
    A service one plan does not have (a what-if with `hao` removed) is 0 hours and GBP 0 in
    it, where that plan has service figures at all, so the services' changes add up to the
    totals'. The changes are None where the comparison's are (`compared`: its row,
    with `not_comparable` or no `compared_with_plan_id`), or where either plan lacks the
    figure (not solved, or stored before the table); the compared plan's figures are None
    without one."""
    theirs = theirs or {}
    apart = compared.get("compared_with_plan_id") is None or compared.get("not_comparable")
    absent_now, absent_then = _absent_service(mine), _absent_service(theirs)
    rows = []
    for service in dict.fromkeys([*mine, *theirs]):
        now, then = mine.get(service, absent_now), theirs.get(service, absent_then)
        row: dict[str, Any] = {"service": service}
        for name in ("hours", "net_cost_gbp"):
            value, before = _penny(name, getattr(now, name)), _penny(name, getattr(then, name))
            row[name], row[f"compared_{name}"] = value, before
            if apart or value is None or before is None:
                row[f"{name}_change"] = None
            else:
                row[f"{name}_change"] = _figure_change(name, value, before)
        rows.append(row)
    return rows


def _penny(name: str, value: float | None) -> float | None:
    """A figure as a comparison gives it: money (`is_money`) to the penny, as its totals are."""
    return to_the_penny(value) if value is not None and is_money(name) else value


def _absent_service(totals: Mapping[str, ServiceTotal]) -> ServiceTotal:
    """A service a plan's `totals` do not name: none of its hours or cost where the plan has
    service figures (some service's hours known), unknown where it has none."""
    known = any(t.hours is not None for t in totals.values())
    return ServiceTotal(0.0, 0.0) if known else ServiceTotal(None, None)


def plan_what_if(
    factory: sessionmaker[Session],
    body: dict[str, Any] | None,
    solver: str,
    created_by: str | None = None,
    what_if_only: bool = False,
) -> tuple[StoredPlan, dict[str, Any]]:
    """Solve a requested plan (`plan_scenario`) and compare it with the active config's latest
    plan as it was before (a plan of the active config becomes that plan): a sweep's row for
    it (`sweep_row`: its figures, each one's `_change` and `compared_with_plan_id`) and
    `config_changes`, the fields of its config that differ from the active one's, to the leaf
    (None with no config active), so a finance officer sees what a what-if changed and what
    that did. An active config that cannot be read (stored by an older release) does not stop
    a plan of a sent config: nothing is compared, and `not_comparable` says why, as it does
    where no config is active or the active one has no plan yet. Each read
    and write is a short transaction of its own: none is held open while the plan solves.
    `created_by`: who asked (homeward.audit); `what_if_only`: stored as a what-if even of
    the active config unchanged, never the latest plan (a finance key's: README's roles)."""
    with transaction(factory) as session:
        body = scenario_body(session, body)  # the active one's read once: planned and compared
        config = read_config(body)
        try:
            changes = config_changes(session, config.model_dump(mode="json"))
            baseline = sweep_baseline(session)  # before the solve, which may make a newer one
            apart = None if baseline is not None else _no_baseline_text(session)
        except ConfigUnreadable as exc:  # the active config's: the sent one was read above
            changes, baseline, apart = None, None, _not_compared_with(exc)
    stored = plan_scenario(factory, body, solver, created_by=created_by, apart=what_if_only)
    with transaction(factory) as session:
        row = session.get_one(PlanRow, stored.plan_id)  # its figures as stored, reckoned after
    figures = plan_figures(row.objective_weighted_wait_days, row.result, config.model_dump())
    horizon, rate = plan_horizon(row.result), config.fees.dfg_fee_rate
    compared = sweep_row(rate, row.id, row.status, figures, baseline, horizon)
    if apart is not None:  # nothing to compare with: say why
        compared["not_comparable"] = apart
    services = service_totals(row.result, body)
    by_service = service_changes(
        services, None if baseline is None else baseline.services, compared
    )
    return stored, {**compared, "config_changes": changes, "by_service": by_service}


def _no_baseline_text(session: Session) -> str:
    """Why a what-if has nothing to compare with (`sweep_baseline` found no plan), as a
    sweep's message says it: no config is active, or the active one has no plan yet."""
    active = repository.active_config(session)
    if active is None:
        return (
            "no config is active to compare with (store one: POST /v1/configs), so every "
            "change is null"
        )
    return (
        f"the active config (id {active.id}) has no plan yet: nothing to compare with, so "
        "every change is null (the pipeline plans it: POST /v1/runs, or the schedule)"
    )


def compare_plans(session: Session, plan: PlanRow, other: PlanRow) -> dict[str, Any]:
    """Stored plan `plan` against stored plan `other`, as `plan_what_if` sets a what-if
    against the active config's latest plan: `plan`'s figures, each one's change from
    `other`'s (`sweep_row`; none where the two cover other periods, `not_comparable` saying
    why) and the fields of `plan`'s config that differ from `other`'s (`config_changes`).
    For a what-if and the plan it was compared with, the same comparison POST /v1/plans
    answered with. Where either config cannot be read (stored by an older release), as for
    a what-if whose active config cannot be read, nothing is compared: every change and
    `config_changes` are None, and `not_comparable` says why (a plan whose own config
    holds no fee rate that is a number raises ConfigUnreadable: its rate cannot be given)."""
    mine = session.get_one(PlanningConfigRow, plan.config_id)
    theirs = session.get_one(PlanningConfigRow, other.config_id)
    baseline = baseline_of(other, theirs.body)
    own = plan_figures(plan.objective_weighted_wait_days, plan.result, mine.body)
    unreadable: ConfigUnreadable | None = None
    try:
        config = _plan_config(plan, mine)
        diff = _config_diff(_plan_config(other, theirs), config)
        rate = config.fees.dfg_fee_rate
    except ConfigUnreadable as exc:
        unreadable, rate = exc, _stored_rate(mine.body, exc)
    compared = sweep_row(rate, plan.id, plan.status, own, baseline, plan_horizon(plan.result))
    if unreadable is not None:
        compared = _nothing_compared(compared, unreadable)
    else:
        compared["config_changes"] = [f"{p}: {old} -> {new}" for p, old, new in diff]
    services = service_totals(plan.result, mine.body)
    return {**compared, "by_service": service_changes(services, baseline.services, compared)}


def _stored_rate(body: dict[str, Any], exc: ConfigUnreadable) -> float:
    """The fee rate of a config that cannot be read, as stored; a rate that is no number
    either raises `exc`: a comparison cannot name its plan's rate."""
    try:
        return float(body["fees"]["dfg_fee_rate"])
    except (KeyError, TypeError, ValueError):
        raise exc from None


def _nothing_compared(compared: dict[str, Any], exc: ConfigUnreadable) -> dict[str, Any]:
    """A comparison's row with every change None, since a config it needs cannot be read."""
    unread = {f"{name}_change": None for name in SWEEP_FIGURES}
    return {**compared, **unread, "not_comparable": _not_compared_with(exc), "config_changes": None}


def _plan_config(plan: PlanRow, config: PlanningConfigRow) -> PlanningConfig:
    """A stored plan's config as planning reads it; one that cannot be read names its plan."""
    return read_config(config.body, f"the config of plan {plan.id} (id {config.id})")


def _not_compared_with(exc: ConfigUnreadable) -> str:
    """Why a plan is not compared with the active config's latest plan it cannot read."""
    return (
        f"{exc}; so nothing is compared with its plans and every change is null (store a valid "
        "config: POST /v1/configs)"
    )


# fields that name a config and plan nothing: a sent config differing only in these is still
# the active config, as a sweep compares
_NAMING_FIELDS = ("name", "version")


def fields_beyond_fee(session: Session, body: dict[str, Any]) -> list[str] | None:
    """Where a sweep's config differs from the active config other than in its fee rate (and
    its name and version): top-level fields, or `fees.<field>`; [] for none; None when no
    config is active. A sweep of a config with other changes (or with none active) compares
    with that config at its own fee rate, so the fee is not credited with a budget change."""
    active = repository.active_config(session)
    if active is None:
        return None
    rate = read_active(active).fees.dfg_fee_rate
    differ = {_top_field(path) for path, _old, _new in _leaf_changes(active, body, rate)}
    return sorted(differ - {"fees.dfg_fee_rate"})


def config_changes(session: Session, body: dict[str, Any]) -> list[str] | None:
    """Each field where `body` differs from the active config, to the leaf, with both values
    (`services[domcare].cost_per_hour_gbp: 23 -> 25`; list items of an `id` named by it, an
    item one config lacks `added` or `removed`), its name and version aside; [] for none;
    None when no config is active. What a what-if changes, so its change figures can be read
    as the effect of those fields."""
    active = repository.active_config(session)
    if active is None:
        return None
    return [f"{path}: {old} -> {new}" for path, old, new in _leaf_changes(active, body)]


def _top_field(path: str) -> str:
    """A leaf path's top-level field (`services[domcare].x` -> `services`), or `fees.<field>`."""
    top = re.split(r"[.\[]", path, maxsplit=1)[0]
    return ".".join(path.split(".")[:2]) if top == "fees" else top


def _leaf_changes(
    active: PlanningConfigRow, mine_body: dict[str, Any], rate: float | None = None
) -> list[tuple[str, str, str]]:
    """(path, the active config's value, my value) for every leaf where two configs differ
    once validated (defaults filled in), `name` and `version` left out; `rate`: set mine's fee
    rate to it first (a sweep's rates are not a change of its config)."""
    if rate is not None:
        mine_body = with_fee_rate(mine_body, rate)
    return _config_diff(read_active(active), read_config(mine_body))


def _config_diff(old: PlanningConfig, new: PlanningConfig) -> list[tuple[str, str, str]]:
    """(path, old's value, new's value) for every leaf where two read configs differ, `name`
    and `version` left out."""
    theirs, mine = old.model_dump(mode="json"), new.model_dump(mode="json")
    for key in _NAMING_FIELDS:
        theirs.pop(key, None)
        mine.pop(key, None)
    return list(_diff("", theirs, mine))


def _diff(path: str, old: Any, new: Any) -> Iterable[tuple[str, str, str]]:
    """The leaves where `old` and `new` differ, by path: dicts by key, lists of dicts with an
    `id` by id, other lists of the same length by position; anything else whole."""
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(old.keys() | new.keys()):
            yield from _diff(f"{path}.{key}" if path else key, old.get(key), new.get(key))
    elif _by_id(old) and _by_id(new):
        olds, news = {i["id"]: i for i in old}, {i["id"]: i for i in new}
        for item in [*olds, *(i for i in news if i not in olds)]:
            where = f"{path}[{item}]"
            if item not in news:
                yield where, "present", "removed"
            elif item not in olds:
                yield where, "absent", "added"
            else:
                yield from _diff(where, olds[item], news[item])
    elif isinstance(old, list) and isinstance(new, list) and len(old) == len(new):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _diff(f"{path}[{i}]", a, b)
    else:
        yield path, _shown(old), _shown(new)


def _by_id(value: Any) -> bool:
    return isinstance(value, list) and all(isinstance(i, dict) and "id" in i for i in value)


def _shown(value: Any) -> str:
    """A config value as a change names it: a number or text bare, anything else as JSON. A
    number in full, in the shortest form that reads back as the same float (`1013782`,
    `108595.4`, `0.2`): six significant figures hid a change of capital or budget under one
    text (`1.01378e+06 -> 1.01378e+06`)."""
    if isinstance(value, bool) or value is None or not isinstance(value, (int, float, str)):
        return json.dumps(_whole_numbers(value))  # a year's budget: {"2027-28": 5900000}
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))  # 23.0 as 23, and a million in digits, not 1e+06
    return repr(value) if isinstance(value, float) else str(value)


def _whole_numbers(value: Any) -> Any:
    """`value` with each whole float inside it an int, as _shown writes a number in full."""
    if isinstance(value, dict):
        return {k: _whole_numbers(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_whole_numbers(v) for v in value]
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return int(value)
    return value


def _why_own_rate(session: Session, body: dict[str, Any]) -> str | None:
    """Why a sweep's changes are from a plan of the sent config at its own fee rate rather
    than from the active config's latest plan; None when they are from that plan."""
    try:
        differ = fields_beyond_fee(session, body)
    except ConfigUnreadable as exc:  # as if none were active: there is nothing to compare
        return str(exc)
    if differ is None:
        return "no config is active"
    return f"it differs from the active config in {', '.join(differ)}" if differ else None


def _compared_text(
    session: Session, baseline: SweepBaseline | None, own: tuple[float, str] | None = None
) -> str:
    """How a sweep's message names what its changes are from, or says why there are none.
    `own`: the sent config's own fee rate and why (`_why_own_rate`), when the changes are from
    a plan of it at that rate."""
    if baseline is not None and own is not None:
        rate, why = own
        return (
            f", compared with plan {baseline.plan_id}: the config sent, at its own fee rate "
            f"({rate:g}), since {why}"
        )
    if baseline is not None:
        return f", compared with plan {baseline.plan_id}"
    active = repository.active_config(session)
    if active is None:
        return "; no changes: no config is active to compare with (store one: POST /v1/configs)"
    return (
        f"; no changes: they are from the active config's latest plan, and config {active.id} "
        "has no plan yet (the pipeline plans it: POST /v1/runs, or the schedule)"
    )


def _not_compared_text(
    baseline: SweepBaseline | None,
    table: list[dict[str, Any]],
    own: tuple[float, str] | None = None,
) -> str | None:
    """A sweep's message when no row could be set against its baseline, with the reason every
    row shares (`_shared_reason`) and, where the baseline is the sent config's plan at its own
    fee rate, why (`own`, as `_compared_text` takes it); None when some row was compared, or
    there was nothing to compare with."""
    if baseline is None or not table or any(row["not_comparable"] is None for row in table):
        return None
    which = f"plan {baseline.plan_id}"
    if own is not None:
        rate, why = own
        which += f" (the config sent, at its own fee rate ({rate:g}), since {why})"
    return f", not compared with {which}: {_shared_reason(baseline, table)}"


def _shared_reason(baseline: SweepBaseline, table: list[dict[str, Any]]) -> str:
    """Why no row was compared: the baseline's own status where it is not optimal (then no
    row can be, an optimal rate's included: the first row's reason named that row's plan as
    well, so a 100% rate's optimal plan read as the cause), else the first row's reason
    (every row's plan over other periods: a later start once newer referrals are stored)."""
    not_optimal = _not_optimal(baseline.plan_id, PlanStatus.OPTIMAL, baseline)
    return not_optimal or str(table[0]["not_comparable"])


def _unsolved_rates(table: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A sweep's rows whose solver ended without a plan (status error, infeasible or
    time_limit): stored, so the row names its plan, but with no figures."""
    return [row for row in table if row["status"] not in repository.SOLVED_PLAN_STATUSES]


def _unsolved_text(unsolved: list[dict[str, Any]], rows: int) -> str:
    """The end of a sweep's message naming its rates the solver could not plan, with each
    one's status ("" when every rate was solved), so a sweep of rates no plan can meet does
    not read as a success."""
    if not unsolved:
        return ""
    each = ", ".join(f"{row['dfg_fee_rate']:g}: {row['status']}" for row in unsolved)
    which = "none" if len(unsolved) == rows else f"{len(unsolved)} of {rows} rates not"
    return (
        f"; {which} solved ({each}): the solver ended without a plan, so those rows have no "
        "figures (each one's plan run, whose parent_run_id is this sweep's, says why)"
    )


def with_fee_rate(body: dict[str, Any], rate: float) -> dict[str, Any]:
    """A copy of a config body with `fees.dfg_fee_rate` set to `rate`."""
    return {**body, "fees": {**(body.get("fees") or {}), "dfg_fee_rate": rate}}


def checked_sweep(
    session: Session, body: dict[str, Any] | None, rates: Iterable[float]
) -> dict[str, Any]:
    """The config a sweep asks for, after the checks of `checked_body`, and each rate's config
    validated, so a sweep is refused before it is queued rather than failing part way. A
    config with fees by financial year (`fees.by_year`) is refused (PlanInputError): a sweep
    sets the one `fees.dfg_fee_rate` of every period, and one rate for every year would drop
    the change from April the config gives, so each of its rows would answer another question
    than its config's."""
    checked = checked_body(session, body)
    _refuse_fees_by_year(read_config(checked), "the config sent" if body else "the active config")
    for rate in rates:
        read_config(with_fee_rate(checked, rate))
    return checked


def _refuse_fees_by_year(config: PlanningConfig, which: str) -> None:
    """PlanInputError naming fees.by_year when `config` gives fees by financial year."""
    if config.fees.by_year is None:
        return
    raise PlanInputError(
        "fees.by_year",
        "fees.dfg_fee_rate: one fee rate, which a sweep sets in every period (to try fees "
        "by financial year, plan each as a what-if: POST /v1/plans with fees.by_year changed)",
        f"fees by financial year ({', '.join(config.fees.by_year)}) in {which}",
    )


def queue_sweep(
    factory: sessionmaker[Session],
    created_by: str | None = None,
    rates: Sequence[float] = (),
) -> int:
    """Record a fee sweep run of `rates` that a job will solve shortly, asked for by
    `created_by` (in the audit trail, in the same transaction), and return its id."""
    with transaction(factory) as session:
        run = repository.start_run(session, "sweep", "api", code_version(), created_by)
        run.status, run.message = "queued", "queued"
        if created_by is not None:
            repository.record_audit(
                session, created_by, "sweep", run_id=run.id, dfg_fee_rates=list(rates)
            )
        return run.id


def run_sweep_job(
    factory: sessionmaker[Session],
    body: dict[str, Any],
    rates: list[float],
    solver: str,
    run_id: int,
) -> None:
    """The body of a sweep job: one what-if plan per fee rate, each in its own plan run
    (trigger "sweep"; `plan_scenario`: no transaction held while it solves), the table and
    "k of n rates planned" recorded on the sweep run after each, so a poller sees progress.
    Never raises: a failure is recorded on the run, with the rows done so far."""
    table: list[dict[str, Any]] = []
    try:
        with transaction(factory) as session:
            run = session.get_one(RunRow, run_id)
            run.status, run.started_at = "running", utcnow()
            run.message, run.sweep = f"0 of {len(rates)} rates planned", []
            run.config_version = f"{body.get('version', '')}#{config_hash(body)[:12]}"
            why = _why_own_rate(session, body)
            asked_by = run.created_by  # its plan runs, and their plans, are the sweep's
        own: tuple[float, str] | None = None
        own_plan: int | None = None
        if why is not None:  # the sent config at its own rate is the baseline
            rate = read_config(body).fees.dfg_fee_rate
            assert rate is not None  # checked_sweep refused fees by year
            own = (rate, why)
            own_plan = plan_scenario(
                factory,
                body,
                solver,
                apart=True,
                trigger="sweep",
                parent_run_id=run_id,
                created_by=asked_by,
                keep_unsolved=True,
            ).plan_id
        with transaction(factory) as session:
            baseline: SweepBaseline | None = (
                sweep_baseline(session)
                if own_plan is None
                else baseline_of(session.get_one(PlanRow, own_plan), body)
            )
            compared = _compared_text(session, baseline, own)
        for done, rate in enumerate(rates, start=1):
            if own is not None and own_plan is not None and rate == own[0]:
                plan_id = own_plan  # already planned: the baseline itself
            else:  # solved holding no transaction; its row and progress recorded after
                plan_id = plan_scenario(
                    factory,
                    with_fee_rate(body, rate),
                    solver,
                    apart=True,
                    trigger="sweep",
                    parent_run_id=run_id,
                    created_by=asked_by,
                    keep_unsolved=True,
                ).plan_id
            with transaction(factory) as session:
                stored_row = session.get_one(PlanRow, plan_id)
                figures = plan_figures(
                    stored_row.objective_weighted_wait_days, stored_row.result, body
                )
                horizon = plan_horizon(stored_row.result)
                table.append(
                    sweep_row(rate, plan_id, stored_row.status, figures, baseline, horizon)
                )
                run = session.get_one(RunRow, run_id)
                run.sweep = list(table)  # a new list, so the JSON column is written
                run.message = f"{done} of {len(rates)} rates planned"
        with transaction(factory) as session:
            run = session.get_one(RunRow, run_id)
            unsolved = _unsolved_rates(table)
            # no rate solved: nothing to read, as a plan job or pipeline run without a plan
            ended: RunStatus = "failed" if len(unsolved) == len(table) else "succeeded"
            run.status, run.finished_at = ended, utcnow()
            run.message = f"{len(rates)} of {len(rates)} rates planned"
            if ended == "succeeded":  # else no row has a figure to compare
                run.message += _not_compared_text(baseline, table, own) or compared
            run.message += _unsolved_text(unsolved, len(table))
    except Exception as exc:  # the run record must say why it failed, whatever failed
        log.exception("sweep job %s failed", run_id)
        progress = f"{len(table)} of {len(rates)} rates planned"
        _record_failure(factory, run_id, f"{progress}; {type(exc).__name__}: {exc}")
