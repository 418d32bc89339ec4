"""Planning config: the user-facing JSON of a plan, validated at the edge with pydantic."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

from annotated_types import Ge, Gt, Le
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo


def _number_or_null(schema: dict[str, Any]) -> None:
    """A number field's JSON schema, taking null as well (which its validator reads as 0)."""
    number = {k: schema.pop(k) for k in ("type", "minimum") if k in schema}
    schema["anyOf"] = [number, {"type": "null"}]


ServiceId = Literal["ot", "hao", "reablement", "domcare"]
SERVICE_IDS: tuple[ServiceId, ...] = ("ot", "hao", "reablement", "domcare")


FieldPath = tuple[str | int, ...]


class ConfigValueError(ValueError):
    """A value a config validator refused: `path` locates it below the model that refused it
    (as pydantic locates fields: `("districts", 3, "team")`), with what was expected and found.

    Pydantic keeps the exception in each error's `ctx["error"]`, so the API and the CLI can
    report the field itself, not the model around it (see `refused_value`).
    """

    def __init__(self, label: str, path: FieldPath, expected: str, found: str) -> None:
        super().__init__(f"{label}: expected {expected}, found {found}")
        self.path = path
        self.expected = expected
        self.found = found


@dataclass(frozen=True)
class RefusedValue:
    """One config error as the user should read it: the field's full location, what was
    expected there and what was found (the value, not the whole config)."""

    loc: FieldPath
    expected: str
    found: str


def refused_value(error: Mapping[str, Any]) -> RefusedValue | None:
    """The refused value of a pydantic error dict raised by a config validator, or None."""
    raised = error.get("ctx", {}).get("error")
    if not isinstance(raised, ConfigValueError):
        return None
    return RefusedValue(tuple(error.get("loc", ())) + raised.path, raised.expected, raised.found)


# The least time a case of any service takes, in hours: six minutes (a phone triage). Care cases
# take hours (the demo's 4 to 30); a value far below this is a unit slip (minutes as hours, or
# 1e-300), and the LP, serving 1/hours_per_case cases an hour, would be scaled beyond a
# solver's tolerances.
MIN_HOURS_PER_CASE = 0.1
# The longest plan: ten years of weekly periods (43 of monthly ones), beyond any budget or
# capital programme a council plans for. The LP grows with the horizon (a billion periods
# would exhaust memory before a solver saw it). The pipeline's forecasts (and so a plan of
# them) reach less far: HOMEWARD_FORECAST_HORIZON_WEEKS / _MONTHS, which POST /v1/configs checks.
MAX_HORIZON_PERIODS = 520
# The most any money field may be, GBP: a hundred billion, far beyond any council's budget for
# a period or grant over a plan (Warwickshire's 2019/20 DFG was GBP 4.5 million). Above it a
# figure is a slip (1e308), and sums of such figures overflow to inf in a plan's warnings.
MAX_MONEY_GBP = 1e11
# The least any money field may be above 0, GBP: a penny. A rate, charge, budget, grant or fee
# under it is a slip (1e-300, or 0.0000001 for a figure meant in millions), never a sum: with a
# budget of GBP 100,000 a week beside it, the LP's money rows span more than the solver's
# tolerances (about 1e-7 relative) can tell apart, and such a rate made the demo's hours cost
# "over a trillion times" less than its budget. 0 stays a choice where the field allows it
# (no charge, no grant, no fee floor).
MIN_MONEY_GBP = 0.01
# The most of each figure that is not money (money: MAX_MONEY_GBP), beyond what any council
# could need but within what keeps the LP sane: HiGHS works in doubles with tolerances of about
# 1e-7 relative, so a figure many orders beyond the others is lost in round-off (hours_per_case
# 1e15 serves 1e-15 of a case an hour: the solver ended with status error and no plan) or drowns
# every other term (wait_weight 1e10: "optimal" at 4e13 weighted waiting days). Refused when
# sent; a stored config's is read as stored (STORED), and a plan of one the solver cannot
# solve fails its run (homeward.planning.PlanNotSolved), keeping the latest good plan.
#
# A case's hours: 2,000, about a full-time post's year (52 weeks of 37 hours, 1,924) for one
# case; the demo's cases take 4 to 30, a long home care package some hundreds a year.
MAX_HOURS_PER_CASE = 2000.0
# A day of waiting's weight: 1,000 times a standard day's (1). Weights rank one class's days
# against another's (the demo's 0.8 to 3); a thousandfold is beyond any triage. With
# MIN_WAIT_WEIGHT that is a span of 1e9 between the objective's weights, and a pound of spend
# weighs 1e-6 days (SPEND_TIE_BREAK_DAYS_PER_GBP): wider, and terms fall below the solver's
# tolerances of the objective.
MAX_WAIT_WEIGHT = 1000.0
# An agency hour's cost as a multiple of a staff hour's: 10 (agency care runs at 1.2 to 2).
MAX_AGENCY_PREMIUM = 10.0
# Hours of one service a period, a team's or a district's: ten million, some 270,000 full-time
# staff in a week (4.3 times fewer in a month), beyond any council's whole workforce.
MAX_HOURS_PER_PERIOD = 1e7
# Cases, waiting at the start or DFG works completed a period, in one district: a million, near
# the whole population of England's largest district (Birmingham, about 1.1 million).
MAX_CASES = 1e6
# Days, of an average wait cap or a wait warning: 3,650, ten years, the longest plan (520
# weeks, 3,640 days); a cap as long caps nothing a plan can reach.
MAX_WAIT_DAYS = 3650.0
# Days in a period: a year (366); demand comes weekly (7) or monthly (28 to 31).
MAX_PERIOD_DAYS = 366
# The weight on the worst district's weighted waiting days per referral: a million. That term
# is tens of days where the total the plan minimises is hundreds of thousands of person-days
# (the demo's, 13 weeks: 227,235), so a weight in the thousands already ranks the worst
# district first; a million puts it 1e4 times the total, past which the waiting term is lost.
MAX_WORST_DISTRICT_WEIGHT = 1e6


@dataclass(frozen=True)
class Ceiling:
    """The most a figure may be when sent, in its `unit`, and what lies beyond it."""

    most: float
    unit: str
    beyond: str

    def expected(self) -> str:
        unit = f" {self.unit}" if self.unit else ""
        return f"at most {self.most:,.0f}{unit}: {self.beyond}"


_HOURS_A_PERIOD = Ceiling(
    MAX_HOURS_PER_PERIOD, "hours per period", "some 270,000 full-time staff in a week"
)
_WEIGHT = Ceiling(
    MAX_WAIT_WEIGHT, "", "1 counts a day of waiting once, and a thousandfold is beyond any triage"
)
_DAYS = Ceiling(MAX_WAIT_DAYS, "days", "ten years, the longest plan")
_CASES = Ceiling(MAX_CASES, "cases", "about the people of England's largest district")
# Every non-money figure with a ceiling, by field name (the same name in every model holding
# it is the same kind of figure: a team's or a district's max_per_period are both hours).
CEILINGS: dict[str, Ceiling] = {
    "hours_per_case": Ceiling(
        MAX_HOURS_PER_CASE, "hours", "about a full-time post's year for one case"
    ),
    "wait_weight": _WEIGHT,
    "urgent_wait_weight": _WEIGHT,
    "hospital_delay_weight": _WEIGHT,
    "works_wait_weight": _WEIGHT,
    "agency_premium": Ceiling(
        MAX_AGENCY_PREMIUM, "times the staff rate", "agency hours cost 1.2 to 2 times"
    ),
    "wait_warning_days": _DAYS,
    "max_avg_wait_days": _DAYS,
    "min_per_period": _HOURS_A_PERIOD,
    "max_per_period": _HOURS_A_PERIOD,
    "agency_max_per_period": _HOURS_A_PERIOD,
    "max_change_per_period": _HOURS_A_PERIOD,
    "current_per_period": _HOURS_A_PERIOD,
    "initial_backlog_cases": _CASES,
    "initial_works_backlog_cases": _CASES,
    "max_works_per_period": _CASES,
    "period_days": Ceiling(MAX_PERIOD_DAYS, "days", "a year; weekly is 7, monthly 28 to 31"),
    "applies_from_period": Ceiling(MAX_HORIZON_PERIODS, "", "the longest plan's last period"),
    "worst_district_weight": Ceiling(
        MAX_WORST_DISTRICT_WEIGHT, "", "beyond it the plan's own waiting is lost in round-off"
    ),
}
# The validation context of a config read back from the database (`read_stored`). The entry
# checks (text for a number, money above MAX_MONEY_GBP or above 0 under MIN_MONEY_GBP, by year
# too, a care charge without its paying share)
# refuse a config when it is sent; one a previous release stored and made active must still
# load and plan as it did, or every pipeline run fails after its forecasts.
STORED: dict[str, bool] = {"stored": True}
# Stored in columns of these lengths (planning_configs.name and .version).
MAX_NAME_LENGTH, MAX_VERSION_LENGTH = 200, 100
# A team's id names its referral totals, `referrals_team/<service>/<team id>` (homeward.planning
# TEAM_PREFIX), and is written in plans' tables and CSVs: so it is one part of a series id, as
# homeward.ingest.SERIES_ID_PART (lower case a-z 0-9 _ . -, from a letter or digit: no '/', no
# '..', no control character or markup), short enough that its longest total (reablement's,
# 15 + 10 + 1 characters before it) fits the 200 characters a stored series id holds.
TEAM_ID_PATTERN = re.compile(r"[a-z0-9][a-z0-9_.-]*")
MAX_SERIES_ID_LENGTH = 200
MAX_TEAM_ID_LENGTH = (
    MAX_SERIES_ID_LENGTH - len("referrals_team/") - max(len(s) for s in SERVICE_IDS) - 1
)  # 174


class _Strict(BaseModel):
    # allow_inf_nan=False: JSON's 1e400 and Infinity parse as inf, which no budget, cost or
    # bound may be (it would be stored as invalid JSON and break the solver's arithmetic).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _numbers_are_numbers(cls, value: Any, info: ValidationInfo) -> Any:
        """A JSON true or false, or text, where a number goes is refused, not read as a number
        (pydantic's lax mode would plan `dfg_fee_rate: true` as a 100% fee, and take
        `cost_per_hour_gbp: "25"` quietly while a sweep's rates refuse "0.1"); so are they
        inside a map or list of numbers (`initial_backlog_cases`, `months`). An int where a
        float goes stays a number."""
        name = info.field_name or ""
        field = cls.model_fields.get(name)
        if field is None:
            return value
        kind = _number_kind(field.annotation)
        if _stored(info) and isinstance(value, str | bytes):
            return value  # a stored config's text figure is read as a number, as when stored
        if kind == "number" and (found := _not_a_number(value)):
            raise ConfigValueError(name, (), "a number", found)
        if _is_fraction(field) and (said := percent_for_fraction(value)):
            raise ConfigValueError(name, (), *said)
        if kind == "numbers" and isinstance(value, Mapping | list | tuple):
            items = value.items() if isinstance(value, Mapping) else enumerate(value)
            for key, item in items:
                if found := _not_a_number(item, _stored(info)):
                    raise ConfigValueError(f"{name}[{key}]", (key,), "a number", found)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _money_within_reason(cls, value: Any, info: ValidationInfo) -> Any:
        """A money field (its name says GBP) above MAX_MONEY_GBP is refused: no council has
        such a sum, and a median or sum of it overflowed to 'GBP inf' in a plan's warnings; so
        is one above 0 under MIN_MONEY_GBP (`_under_a_penny`). A stored config's is read."""
        name = info.field_name or ""
        money = "gbp" in name.split("_") and not _stored(info)
        if not money or not isinstance(value, int | float):
            return value
        if value > MAX_MONEY_GBP:
            expected = (
                f"at most GBP {MAX_MONEY_GBP:,.0f} ({MAX_MONEY_GBP:g}), more than any council "
                "needs for a period or a plan"
            )
            raise ConfigValueError(name, (), expected, _money_found(value))
        field = cls.model_fields.get(name)
        zero = field is None or not any(isinstance(m, Gt) for m in field.metadata)
        if said := _under_a_penny(value, zero):
            raise ConfigValueError(name, (), *said)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _within_ceiling(cls, value: Any, info: ValidationInfo) -> Any:
        """A figure above its CEILINGS entry is refused when sent (a stored one is read)."""
        if not _stored(info):
            _beyond_ceiling(info.field_name or "", value)
        return value


def _beyond_ceiling(name: str, value: Any) -> None:
    """Raise ConfigValueError where the figure `name` (or an entry of a map of them) is above
    its CEILINGS entry."""
    ceiling = CEILINGS.get(name)
    if ceiling is None or value is None:
        return
    items = value.items() if isinstance(value, Mapping) else [(None, value)]
    for key, figure in items:
        if (
            isinstance(figure, int | float)
            and not isinstance(figure, bool)
            and figure > ceiling.most
        ):
            label, path = (name, ()) if key is None else (f"{name}[{key}]", (key,))
            raise ConfigValueError(label, path, ceiling.expected(), _money_found(figure))


def _under_a_penny(gbp: float, zero: bool = True) -> tuple[str, str] | None:
    """(expected, found) for a sum above 0 but under MIN_MONEY_GBP, else None; `zero`: whether
    the field takes 0 (none), as most do (cost_per_adaptation_gbp does not)."""
    if not 0 < gbp < MIN_MONEY_GBP:
        return None
    least = f"at least GBP {MIN_MONEY_GBP:.2f} (a penny)"
    return (
        f"0 (none) or {least}" if zero else least,
        f"{gbp:g} (under a penny: a slip? money is in pounds)",
    )


def _money_found(value: float) -> str:
    """A refused sum in full, digits grouped (100,000,000,001), so one just above the ceiling
    does not read as the ceiling as 1e+11 did; past 1e16, where a float's digits are noise,
    Python's own form (1e+308)."""
    return f"{value:,}".removesuffix(".0")


# Format characters that reorder the text around them (U+202A-U+202E embeddings and overrides,
# U+2066-U+2069 isolates: "\u202egnp.exe" shows as "exe.png"), refused with the controls. The
# marks (U+200E, U+200F), joiners and soft hyphens that right-to-left and other scripts use stay.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def check_one_line(field: str, text: str) -> None:
    """Raise ConfigValueError if human-readable `text` (a name, a version) holds a control
    character (a line break, a tab, NUL) or a bidirectional override: a plan writes it in its
    lines and in CSV cells of its own, where either makes it read as something else."""
    control = next((c for c in text if unicodedata.category(c) == "Cc" or c in BIDI_CONTROLS), None)
    if control is not None:
        found = f"{json.dumps(text[:80])}, holding {json.dumps(control)}"
        raise ConfigValueError(field, (), "text without control characters", found)


def _stored(info: ValidationInfo) -> bool:
    """Whether a config is validated as read back from the database (context STORED)."""
    return isinstance(info.context, Mapping) and bool(info.context.get("stored"))


def _not_a_number(value: Any, stored: bool = False) -> str:
    """How a boolean or text given for a number is written ('true', '"25" (text)'); '' for
    anything else, left to pydantic (text too, in a `stored` config)."""
    if isinstance(value, bool):
        return json.dumps(value)
    if isinstance(value, str | bytes) and not stored:
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        return f"{json.dumps(text[:80], ensure_ascii=False)} (text)"  # £ as £, not \u00a3
    return ""


def _is_fraction(field: FieldInfo) -> bool:
    """A field bounded 0 to 1 (a share, a rate, a probability), where 15 is a percentage
    meant as 0.15, not a figure a unit slip could explain otherwise."""
    bounds = {(type(m), getattr(m, "ge", getattr(m, "le", None))) for m in field.metadata}
    return {(Ge, 0), (Le, 1)} <= bounds


def _number_kind(annotation: Any) -> str:
    """'number' for a number field (optional or not), 'numbers' for a map or sequence of
    numbers, '' for anything else (a bool, a string, a model)."""
    args = [a for a in get_args(annotation) if a is not type(None) and a is not Ellipsis]
    if get_origin(annotation) in _UNIONS and len(args) == 1 and get_origin(args[0]) is not None:
        return _number_kind(args[0])  # an optional map or list of numbers
    if annotation in (int, float) or (
        get_origin(annotation) in _UNIONS and args and all(a in (int, float) for a in args)
    ):
        return "number"
    if get_origin(annotation) in (dict, list, tuple) and args and args[-1] in (int, float):
        return "numbers"
    return ""


_UNIONS = (Union, UnionType)


# A service's hourly cost, given one way or the other (ServiceConfig._rate_given_once)
COST_FIELD, COST_BY_YEAR_FIELD = "cost_per_hour_gbp", "cost_per_hour_gbp_by_year"
# A service's care charge, given one way or the other (ServiceConfig._charge_given_once)
CHARGE_FIELD, CHARGE_BY_YEAR_FIELD = "charge_gbp_per_hour", "charge_gbp_per_hour_by_year"
MAX_HOURS_PER_FTE = 60.0  # hours in a full-time week, at most (see ServiceConfig.hours_per_fte)
# The least weight on a day of waiting above 0. The LP weighs a pound of staff spend at 1e-6
# waiting days (optimise/build.py SPEND_TIE_BREAK_DAYS_PER_GBP), so below this a day of waiting
# weighs less than a pound and the service is never served; 1e-300 or 1e-9 is a slip, not a
# choice (0 is a choice: waiting not counted, which a plan's warnings then name as the cause).
MIN_WAIT_WEIGHT = 1e-6


def check_weight(name: str, value: float | None, info: ValidationInfo) -> float | None:
    """`value` of the waiting weight `name`, refused when sent above 0 but under
    MIN_WAIT_WEIGHT (a stored config's is read as stored)."""
    if value is not None and 0 < value < MIN_WAIT_WEIGHT and not _stored(info):
        raise ConfigValueError(
            name,
            (),
            f"0 (not counted) or a weight of at least {MIN_WAIT_WEIGHT:g} (1 counts a day of "
            "waiting once)",
            f"{value:g} (a slip? below {MIN_WAIT_WEIGHT:g} a day of waiting counts for less than "
            "a pound of staff spend)",
        )
    return value


class ServiceConfig(_Strict):
    """One service: unit costs, waiting weights and (optional) issue-4 extensions."""

    id: ServiceId = Field(
        description="the service: ot (occupational therapy), hao (housing assessment officer "
        "casework), reablement or domcare (domiciliary care)",
    )
    hours_per_case: float = Field(
        ge=MIN_HOURS_PER_CASE,
        description="staff hours one case of the service takes, hours per case (0.1 to 2,000)",
    )
    cost_per_hour_gbp: float | None = Field(
        default=None,
        ge=0,
        description="the cost of an hour of the service, paid from the revenue budget, GBP per "
        "hour: an in-house staff hour's, or for care bought from independent providers (most "
        "domiciliary care) the commissioned rate per hour; the same in every period; null when "
        "cost_per_hour_gbp_by_year is given (exactly one of the two)",
    )
    cost_per_hour_gbp_by_year: dict[str, float] | None = Field(
        default=None,
        description="instead of cost_per_hour_gbp, the cost of an hour of the service by "
        'financial year (1 April to 31 March), GBP per hour, keyed by the year as "2026-27" '
        '(e.g. {"2026-27": 23.0, "2027-28": 24.5}: a pay award or a providers\' fee uplift '
        "from 1 April): each period's hours, in-house and agency (at agency_premium times it), "
        "are costed at the rate of the financial year the period starts in, as a period counts "
        "in that year everywhere in a plan (a week across 1 April at the old year's); one entry "
        "for every financial year the plan's periods start in (others, past or beyond the "
        "plan, are left out), labelled YYYY-YY of consecutive years, each from 0; null when "
        "cost_per_hour_gbp is given (exactly one of the two)",
    )
    wait_weight: float = Field(
        ge=0,
        description="the weight of each day a case waits (a standard case's where urgent_share is "
        "above 0): 1 counts a person-day of waiting once, 2 twice; 0 (not counted) or from "
        "1e-06 to 1,000",
    )
    hospital_delay_weight: float = Field(
        default=0.0,
        ge=0,
        description="extra weight on each day a case waits in a hospital bed (a DTOC day), added "
        "to wait_weight; 0: none, else from 1e-06 to 1,000",
    )
    hospital_share: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="the fraction (0 to 1) of the service's waiting cases who wait in a hospital "
        "bed, their waits being delayed transfers of care; null: 1 for reablement and domcare "
        "(every waiting case a day in hospital, which a config is warned of), 0 for the others",
    )
    urgent_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="the fraction (0 to 1) of the service's new and waiting cases triaged urgent, "
        "who wait at urgent_wait_weight; 0: one queue",
    )
    urgent_wait_weight: float | None = Field(
        default=None,
        ge=0,
        description="the weight of each day an urgent case waits, as wait_weight is a standard "
        "case's (0, or from 1e-06 to 1,000); required where urgent_share is above 0",
    )
    agency_premium: float = Field(
        default=1.5,
        ge=1,
        description="an agency hour's cost as a multiple of cost_per_hour_gbp (1.5: half as much "
        "again), 1 to 10",
    )
    charge_gbp_per_hour: float = Field(
        default=0.0,
        ge=0,
        description="the charge for an hour of the service delivered (hours_per_case per case "
        "served), income that funds the revenue budget, GBP per hour, the same in every period; "
        "0 or null: no charge (above 0 needs charge_paying_share above 0); 0 or null where "
        "charge_gbp_per_hour_by_year is given (not both)",
        json_schema_extra=_number_or_null,
    )
    charge_gbp_per_hour_by_year: dict[str, float] | None = Field(
        default=None,
        description="instead of charge_gbp_per_hour, the charge for an hour of the service by "
        'financial year (1 April to 31 March), GBP per hour, keyed by the year as "2026-27" '
        '(e.g. {"2026-27": 20.0, "2027-28": 21.5}: charges uprated from 1 April): each '
        "period's hours served are charged at the rate of the financial year the period starts "
        "in, as a period counts in that year everywhere in a plan, on charge_paying_share of "
        "them (one share for every year); one entry for every financial year the plan's periods "
        "start in (others are left out), labelled YYYY-YY of consecutive years, each from 0; "
        "null: charge_gbp_per_hour",
    )
    charge_paying_share: float = Field(
        default=0.0,
        ge=0,
        le=1,
        description="the fraction (0 to 1) of the hours delivered that are charged for (the people "
        "who pay charge_gbp_per_hour, or its charge_gbp_per_hour_by_year); above 0 only with a "
        "charge above 0",
    )

    hours_per_fte: float | None = Field(
        default=None,
        description="the hours one full-time equivalent member of staff gives the service in a "
        "week (above 0, at most 60), for the staffing table's fte column; e.g. 37 for the NJC "
        "standard week, or fewer to count only hours spent on cases; null: no fte column for "
        "the service",
    )

    wait_warning_days: float | None = Field(
        default=None,
        description="the longest wait, in days, a plan may leave any district's cases of the "
        "service (of either priority class) in any period without a warning: a plan warns where "
        "a period's wait (its cases waiting over its cases served, the backlog table's "
        "avg_wait_days; where none are served, without end if no later period serves them, "
        "else the next serving period's) passes it, naming the longest; above "
        "0, at most 3,650 (ten years); null: 42 for reablement, a rapid-response service of "
        "up to about six weeks (Halton's peer review, 2019, paragraph 43), none for the other "
        "services",
    )

    @field_validator("wait_warning_days")
    @classmethod
    def _wait_limit_positive(cls, value: float | None) -> float | None:
        """Above 0: every wait in a period with people waiting would pass a limit of 0."""
        if value is not None and not value > 0:
            raise ConfigValueError(
                "wait_warning_days",
                (),
                "a number of days above 0 (e.g. 42 for six weeks), or null",
                f"{value:g}",
            )
        return value

    @field_validator("hours_per_fte")
    @classmethod
    def _fte_week(cls, value: float | None) -> float | None:
        """Above 0 (an FTE divides hours) and at most 60: a full-time week is about 37 hours,
        and 60 is beyond what the Working Time Regulations allow on average (48), so a larger
        number is a month's or a year's hours given by mistake."""
        if value is not None and not 0 < value <= MAX_HOURS_PER_FTE:
            raise ConfigValueError(
                "hours_per_fte",
                (),
                f"hours in one full-time week, above 0 and at most {MAX_HOURS_PER_FTE:g} (e.g. 37)",
                f"{value:g}" + (" (a month's or a year's hours?)" if value > 0 else ""),
            )
        return value

    @field_validator("wait_weight", "urgent_wait_weight", "hospital_delay_weight")
    @classmethod
    def _weight_not_a_slip(cls, value: float | None, info: ValidationInfo) -> float | None:
        return check_weight(info.field_name or "wait_weight", value, info)

    @model_validator(mode="after")
    def _rate_given_once(self, info: ValidationInfo) -> ServiceConfig:
        """cost_per_hour_gbp or cost_per_hour_gbp_by_year, not both and not neither; the years
        and their rates as a budget's by financial year (check_money_by_year)."""
        given = [f for f in (COST_FIELD, COST_BY_YEAR_FIELD) if getattr(self, f) is not None]
        if len(given) != 1:
            raise ConfigValueError(
                f"services[{self.id}].{COST_FIELD}",
                (COST_FIELD,),
                f"exactly one of {COST_FIELD} (GBP per hour in every period) and "
                f"{COST_BY_YEAR_FIELD} (GBP per hour in each financial year)",
                "both" if given else "neither",
            )
        if self.cost_per_hour_gbp_by_year is not None:
            check_money_by_year(
                f"services[{self.id}].{COST_BY_YEAR_FIELD}",
                COST_BY_YEAR_FIELD,
                self.cost_per_hour_gbp_by_year,
                info,
            )
        return self

    @model_validator(mode="after")
    def _urgent_weight_given(self) -> ServiceConfig:
        if self.urgent_share > 0 and self.urgent_wait_weight is None:
            raise ConfigValueError(
                f"services[{self.id}].urgent_wait_weight",
                ("urgent_wait_weight",),
                f"a weight >= 0 because urgent_share is {self.urgent_share}",
                "none",
            )
        return self

    @field_validator(CHARGE_FIELD, mode="before")
    @classmethod
    def _null_charge_is_none(cls, value: Any) -> Any:
        """null is no charge, 0, as cost_per_hour_gbp's null is none given beside its by-year
        form: a form sending charge_gbp_per_hour_by_year with charge_gbp_per_hour: null was
        refused ("a valid number, found null") where the rate's was taken."""
        return 0.0 if value is None else value

    @model_validator(mode="after")
    def _charge_given_once(self, info: ValidationInfo) -> ServiceConfig:
        """charge_gbp_per_hour or charge_gbp_per_hour_by_year, not both (the single charge's
        default, 0, is none given); the years as a budget's by financial year."""
        if self.charge_gbp_per_hour_by_year is None:
            return self
        if self.charge_gbp_per_hour > 0:
            raise ConfigValueError(
                f"services[{self.id}].{CHARGE_FIELD}",
                (CHARGE_FIELD,),
                f"one of {CHARGE_FIELD} (GBP per hour in every period) and "
                f"{CHARGE_BY_YEAR_FIELD} (GBP per hour in each financial year), not both",
                "both",
            )
        check_money_by_year(
            f"services[{self.id}].{CHARGE_BY_YEAR_FIELD}",
            CHARGE_BY_YEAR_FIELD,
            self.charge_gbp_per_hour_by_year,
            info,
        )
        return self

    @property
    def charges(self) -> bool:
        """Whether the service charges above 0 for an hour in any period (its
        charge_gbp_per_hour, or any year's charge_gbp_per_hour_by_year)."""
        by_year = self.charge_gbp_per_hour_by_year or {}
        return self.charge_gbp_per_hour > 0 or any(c > 0 for c in by_year.values())

    @model_validator(mode="after")
    def _charge_and_share_together(self, info: ValidationInfo) -> ServiceConfig:
        """A charge with no share paying it (or a share paying no charge) earns nothing: a plan
        from it would show no charge income and no other sign that a figure was left out. A
        stored config with one alone still plans, with a warning (`charge_warnings`)."""
        charge, share = self.charge_gbp_per_hour, self.charge_paying_share
        if _stored(info):
            return self
        if self.charges and share == 0:
            given = (
                f"{CHARGE_FIELD} is {charge:g}"
                if self.charge_gbp_per_hour_by_year is None
                else f"{CHARGE_BY_YEAR_FIELD} charges"
            )
            raise ConfigValueError(
                f"services[{self.id}].charge_paying_share",
                ("charge_paying_share",),
                f"a fraction above 0 (to 1) paying it because {given}",
                "0 (the default: no one pays the charge)",
            )
        if share > 0 and not self.charges:
            field, found = (
                (CHARGE_FIELD, "0 (the default: no charge)")
                if self.charge_gbp_per_hour_by_year is None
                else (CHARGE_BY_YEAR_FIELD, "0 in every year")
            )
            raise ConfigValueError(
                f"services[{self.id}].{field}",
                (field,),
                f"a charge above 0 GBP per hour because charge_paying_share is {share:g}",
                found,
            )
        return self


class HoursBounds(_Strict):
    """A team's hours of one service per period: floor, ceiling, agency and recruitment limits."""

    min_per_period: float = Field(
        ge=0,
        description="the fewest in-house staff hours the team is paid for in each period, used or "
        "not, hours per period",
    )
    max_per_period: float = Field(
        ge=0,
        description="the most in-house staff hours the team can give in each period, hours per "
        "period (at most 10,000,000, as every hours figure here)",
    )
    agency_max_per_period: float = Field(
        default=0.0,
        ge=0,
        description="the most agency hours the team may buy in each period, at agency_premium "
        "times cost_per_hour_gbp, hours per period; 0: no agency",
    )
    max_change_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the most the team's in-house staff hours may rise or fall from one period to "
        "the next (recruitment and leavers), hours per period; null: no limit",
    )
    current_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the team's in-house staff hours in the period before the plan, from which the "
        "first period may move by max_change_per_period, hours per period; null: unknown, the "
        "first period is free",
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> HoursBounds:
        if self.min_per_period > self.max_per_period:
            raise ConfigValueError(
                "min_per_period",
                ("min_per_period",),
                f"<= max_per_period ({self.max_per_period})",
                f"{self.min_per_period}",
            )
        return self


# A revenue budget by financial year (revenue_budget_gbp_by_year, a team's or the pooled one),
# as its description says it
REVENUE_BY_YEAR_TEXT = (
    "{whose} by financial year (1 April to 31 March), GBP for the whole year, keyed by the "
    'year as "2026-27" (e.g. {{"2026-27": 5650000, "2027-28": 5900000}}): each period\'s '
    "budget is its year's amount x the period's days in that year / the year's days (365, or "
    "366 with a 29 February), so a part year gets its share and a week across 1 April a share "
    "of each year; one entry for every financial year the plan's periods reach, to the last "
    "period's end (others, past or beyond the plan, are left out); exactly one of this and "
    "revenue_budget_gbp_per_period where a budget is given"
)


class TeamConfig(_Strict):
    """A team (shared service or council) with its hours and, optionally, its own budget.

    A team with `revenue_budget_gbp_per_period` (or `revenue_budget_gbp_by_year`) pays its
    staff and agency hours from that budget alone (net of the DFG fees and care charges its own
    districts earn); teams without one share the plan's top-level pooled budget.
    """

    id: str = Field(
        min_length=1,
        description="the team's id, which each of its districts gives as `team`: lower-case "
        f"a-z, 0-9, '_', '.', '-', starting with a letter or digit, at most {MAX_TEAM_ID_LENGTH} "
        "characters, as its referral totals referrals_team/<service>/<team id> name it",
    )
    hours: dict[ServiceId, HoursBounds] = Field(
        description="the team's hours bounds by service id, one for each service of the config",
    )
    revenue_budget_gbp_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the team's own revenue budget for its staff and agency hours, net of the DFG "
        "fees and care charges its districts earn, GBP per period; null: the team shares the "
        "pooled budget, or gives its own by financial year (revenue_budget_gbp_by_year; at most "
        "one of the two)",
    )
    revenue_budget_gbp_by_year: dict[str, float] | None = Field(
        default=None,
        description=REVENUE_BY_YEAR_TEXT.format(whose="the team's own revenue budget")
        + "; null: the team shares the pooled budget, or gives its own per period "
        "(revenue_budget_gbp_per_period; at most one of the two)",
    )

    @model_validator(mode="after")
    def _budget_given_once(self, info: ValidationInfo) -> TeamConfig:
        """At most one of revenue_budget_gbp_per_period and revenue_budget_gbp_by_year (neither:
        the team shares the pooled budget); the years as capital_by_year_gbp's."""
        label = f"teams[{self.id}]."
        check_revenue_budget(
            label, self.revenue_budget_gbp_per_period, self.revenue_budget_gbp_by_year, info
        )
        return self

    @field_validator("id")
    @classmethod
    def _names_a_series(cls, team_id: str, info: ValidationInfo) -> str:
        """Refused when sent (a stored config's is read as stored: see `check_team_id`)."""
        if not _stored(info):
            check_team_id(team_id)
        return team_id


def check_team_id(team_id: str) -> None:
    """Raise ConfigValueError unless `team_id` can name its team's referral totals (see
    TEAM_ID_PATTERN). A config stored before this check may hold one that cannot: the
    pipeline then makes no team totals, and says why."""
    expected = (
        "a lower-case id of a-z, 0-9, '_', '.', '-' (starting with a letter or digit), at most "
        f"{MAX_TEAM_ID_LENGTH} characters, as its referral totals "
        "referrals_team/<service>/<team id> name it"
    )
    if len(team_id) > MAX_TEAM_ID_LENGTH:
        found = f"{len(team_id)} characters ({json.dumps(team_id[:40])}...)"
        raise ConfigValueError("id", (), expected, found)
    if not TEAM_ID_PATTERN.fullmatch(team_id):
        raise ConfigValueError("id", (), expected, json.dumps(team_id))


class DistrictHours(_Strict):
    """A district's own limits on the hours spent on one service's cases each period, inside
    its team's: a floor (Rugby's OT needs at least 40 hours a week) and a ceiling.

    The hours are those its cases are served with (cases served x hours_per_case), from its
    team's staff and agency hours; a floor above what its cases can use is relaxed and named
    rather than answered with idle hours, which no plan could show."""

    min_per_period: float = Field(
        default=0.0,
        ge=0,
        description="the fewest hours spent on the district's cases of the service in each "
        "period, hours per period; 0: no floor",
    )
    max_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the most hours spent on the district's cases of the service in each period, "
        "hours per period; null: no cap but its team's",
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> DistrictHours:
        top = self.max_per_period
        if top is not None and self.min_per_period > top:
            raise ConfigValueError(
                "min_per_period",
                ("min_per_period",),
                f"<= max_per_period ({top:g})",
                f"{self.min_per_period:g}",
            )
        return self


class DistrictConfig(_Strict):
    id: str = Field(
        min_length=1,
        description="the district's id, as in the demand frame's district column",
    )
    name: str = Field(description="the district's name, as a plan writes it")
    team: str = Field(
        description="the id of the team (teams[].id) whose hours serve the district and whose "
        "budget its fees and charges fund",
    )
    # Exactly one of the two: one pot over the whole horizon, or one per financial year (a DFG
    # allocation arrives each April and is monitored against its own year's spend).
    capital_gbp: float | None = Field(
        default=None,
        ge=0,
        description="the district's DFG capital for works over the whole horizon, not pooled with "
        "other districts and never paying staff, GBP; null when capital_by_year_gbp is given "
        "(exactly one of the two)",
    )
    capital_by_year_gbp: dict[str, float] | None = Field(
        default=None,
        description="the district's DFG capital by financial year (1 April to 31 March), GBP, "
        "keyed by the year as \"2026-27\", for the plan's periods in that year (this year's "
        "remaining allocation, then each later year's): one entry for every financial year the "
        "plan's periods start in (others, past or beyond the plan, are left out); a year's "
        "capital is spent in its own periods, not carried into the next; null when capital_gbp "
        "is given (exactly one of the two)",
    )
    cost_per_adaptation_gbp: float = Field(
        gt=0,
        description="the average grant paid per DFG works case (an adaptation), after the "
        "applicant's means-tested contribution and before any fee: the capital one case uses, "
        "GBP per case (the mandatory DFG in England is at most GBP 30,000)",
    )
    initial_backlog_cases: dict[ServiceId, float] = Field(
        default_factory=dict,
        description="cases waiting at the start of the plan, by service id, cases (each 0 to "
        "1,000,000); a service left out: none",
    )
    initial_works_backlog_cases: float = Field(
        default=0.0,
        ge=0,
        description="DFG works cases waiting to be completed at the start of the plan, cases (0 to "
        "1,000,000)",
    )
    # DFG works the district can complete in a period (surveys, approvals, contractors): without
    # it the LP completes works as fast as capital allows, so a plan spends a year's grant in
    # its first months and completes none after. None: no limit.
    max_works_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the most DFG works cases the district can complete in a period (surveys, "
        "approvals, contractors), cases per period (at most 1,000,000); null: no limit but its "
        "capital",
    )
    hours: dict[ServiceId, DistrictHours] = Field(
        default_factory=dict,
        description="the district's own floor and ceiling on the hours spent on its cases, by "
        "service id, inside its team's hours; a service left out: only its team's limits",
    )
    max_avg_wait_days: dict[ServiceId, float] = Field(
        default_factory=dict,
        description="a cap on the district's average wait for a service, by service id, days, in "
        "each period from equity.applies_from_period (as equity.max_avg_wait_days is for every "
        "district), above 0 and at most 3,650; a service left out: only the equity cap, if any",
    )

    @field_validator("name")
    @classmethod
    def _one_line(cls, name: str, info: ValidationInfo) -> str:
        """As the config's name: refused when sent, a stored config's read as stored."""
        if not _stored(info):
            check_one_line("name", name)
        return name

    @model_validator(mode="after")
    def _capital_given_once(self, info: ValidationInfo) -> DistrictConfig:
        """capital_gbp or capital_by_year_gbp, not both and not neither; each year's label
        YYYY-YY of two consecutive years, the years a run without gaps, each sum >= 0."""
        given = [f for f in ("capital_gbp", "capital_by_year_gbp") if getattr(self, f) is not None]
        if len(given) != 1:
            raise ConfigValueError(
                f"districts[{self.id}].capital_gbp",
                ("capital_gbp",),
                "exactly one of capital_gbp (over the whole horizon) and capital_by_year_gbp "
                "(per financial year)",
                "both" if given else "neither",
            )
        if self.capital_by_year_gbp is not None:
            field = "capital_by_year_gbp"
            label = f"districts[{self.id}].{field}"
            check_money_by_year(label, field, self.capital_by_year_gbp, info)
        return self

    @model_validator(mode="after")
    def _backlogs_non_negative(self) -> DistrictConfig:
        for service, cases in self.initial_backlog_cases.items():
            if cases < 0:
                raise ConfigValueError(
                    f"districts[{self.id}].initial_backlog_cases.{service}",
                    ("initial_backlog_cases", service),
                    ">= 0",
                    f"{cases}",
                )
        return self

    @model_validator(mode="after")
    def _wait_caps_positive(self) -> DistrictConfig:
        """A cap of 0 days or less allows no one to wait at all (or fewer than no one)."""
        for service, days in self.max_avg_wait_days.items():
            if not days > 0:
                raise ConfigValueError(
                    f"districts[{self.id}].max_avg_wait_days.{service}",
                    ("max_avg_wait_days", service),
                    "days > 0",
                    f"{days:g}",
                )
        return self


# ASCII digits: \d would also take other scripts', a label no plan's year would ever match
FINANCIAL_YEAR_PATTERN = re.compile(r"([0-9]{4})-([0-9]{2})")


def financial_year_start(label: str) -> int | None:
    """The calendar year a financial year label ('2026-27') starts in (its 1 April), or None
    unless it is YYYY-YY of two consecutive years."""
    match = FINANCIAL_YEAR_PATTERN.fullmatch(label)
    if match is None or int(match[2]) != (int(match[1]) + 1) % 100:
        return None
    return int(match[1])


def financial_year_label(start: int) -> str:
    """The label of the financial year starting on 1 April of `start` ('2026-27')."""
    return f"{start}-{(start + 1) % 100:02d}"


def check_money_by_year(
    label: str, field: str, by_year: Mapping[str, float], info: ValidationInfo
) -> None:
    """Raise ConfigValueError unless `by_year`'s years are financial years
    (check_financial_years) and each sum is from 0 to MAX_MONEY_GBP, and 0 or at least
    MIN_MONEY_GBP: as a money field's own figure (`_Strict._money_within_reason`), whose
    ceiling and floor a stored config's (`info`'s context STORED) is read without."""
    check_financial_years(label, field, by_year)
    for year, gbp in by_year.items():
        where = (field, year)
        if gbp < 0 or (gbp > MAX_MONEY_GBP and not _stored(info)):
            expected = f"GBP from 0 to {MAX_MONEY_GBP:,.0f}"
            raise ConfigValueError(f"{label}[{year}]", where, expected, _money_found(gbp))
        if not _stored(info) and (said := _under_a_penny(gbp)):
            raise ConfigValueError(f"{label}[{year}]", where, *said)


def check_financial_years(label: str, field: str, by_year: Mapping[str, Any]) -> None:
    """Raise ConfigValueError unless `by_year` (the field `field`, named `label` in messages)
    gives at least one financial year, each labelled YYYY-YY of consecutive years, the years
    without a gap (its sums: check_money_by_year)."""
    if not by_year:
        raise ConfigValueError(label, (field,), 'a year such as "2026-27"', "{}")
    for year in by_year:
        if financial_year_start(year) is None:
            expected = 'a financial year written YYYY-YY of consecutive years, such as "2026-27"'
            raise ConfigValueError(f"{label}", (field, year), expected, json.dumps(year))
    starts = sorted(int(y[:4]) for y in by_year)
    gaps = [y for y in range(starts[0], starts[-1]) if y not in starts]
    if gaps:
        missing = [financial_year_label(y) for y in gaps]
        raise ConfigValueError(
            label,
            (field,),
            "consecutive financial years, without a gap",
            f"none for {json.dumps(missing)} between {json.dumps(sorted(by_year))}",
        )


def check_revenue_budget(
    label: str, per_period: float | None, by_year: Mapping[str, float] | None, info: ValidationInfo
) -> None:
    """Raise ConfigValueError if a revenue budget is given both per period and by financial
    year (`label`: 'teams[north].', or '' for the pooled budget), or its years are not a run
    of financial years, or a year's sum is out of bounds (check_money_by_year, `info`)."""
    if per_period is not None and by_year is not None:
        raise ConfigValueError(
            f"{label}revenue_budget_gbp_per_period",
            ("revenue_budget_gbp_per_period",),
            "one of revenue_budget_gbp_per_period (GBP per period) and "
            "revenue_budget_gbp_by_year (GBP per financial year), not both",
            "both",
        )
    if by_year is not None:
        field = "revenue_budget_gbp_by_year"
        check_money_by_year(f"{label}{field}", field, by_year, info)


def percent_for_fraction(value: Any) -> tuple[str, str] | None:
    """(expected, found) for a fraction given as a percentage (15 for 0.15: above 1, at most
    100), which pydantic would answer only with "less than or equal to 1"; None otherwise."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 < value <= 100:
        return None
    return (
        "a fraction from 0 to 1 (0.15 for 15%)",
        f"{value:g} (a percentage? write {value / 100:g})",
    )


def _check_fee_bounds(label: str, low: float, high: float | None) -> None:
    """A fee's minimum above its maximum is refused (`label`: `fees.` or `fees.by_year[...]`)."""
    if high is not None and low > high:
        raise ConfigValueError(
            f"{label}min_fee_per_case_gbp",
            ("min_fee_per_case_gbp",),
            f"<= max_fee_per_case_gbp ({high})",
            f"{low}",
        )


class FeeYearConfig(_Strict):
    """One financial year's DFG fee structure (fees.by_year): as FeesConfig's three figures."""

    dfg_fee_rate: float = Field(
        ge=0,
        le=1,
        description="the year's fee as a fraction (0 to 1) of each DFG works case's cost (0.1: "
        "10%), before the bounds below",
    )
    min_fee_per_case_gbp: float = Field(
        default=0.0,
        ge=0,
        description="the year's least fee on a DFG works case, GBP per case; 0: no floor",
    )
    max_fee_per_case_gbp: float | None = Field(
        default=None,
        ge=0,
        description="the year's most fee on a DFG works case, GBP per case; null: no cap",
    )

    @model_validator(mode="after")
    def _min_below_max(self) -> FeeYearConfig:
        _check_fee_bounds("", self.min_fee_per_case_gbp, self.max_fee_per_case_gbp)
        return self


class FeesConfig(_Strict):
    """The fee charged on each DFG works case (a share of its cost, within optional bounds),
    which funds revenue: one structure for the whole plan, or one per financial year
    (`by_year`). `charged_to_grant`: the fee is paid out of the district's DFG capital
    with the works, as many councils add it to the grant; each case then uses cost + fee of
    capital, so a higher fee funds more staff hours but fewer works. Off: the fee is income on
    top of the capital (DESIGN.md's formulation)."""

    dfg_fee_rate: float | None = Field(
        default=None,
        ge=0,
        le=1,
        description="the fee as a fraction (0 to 1) of each DFG works case's cost (0.1: 10%), "
        "before the bounds below, in every period; null when by_year is given (exactly one of "
        "the two)",
    )
    min_fee_per_case_gbp: float = Field(
        default=0.0,
        ge=0,
        description="the least fee charged on a DFG works case, GBP per case; 0: no floor (with "
        "by_year: each year's own there)",
    )
    max_fee_per_case_gbp: float | None = Field(
        default=None,
        ge=0,
        description="the most fee charged on a DFG works case, GBP per case; null: no cap (with "
        "by_year: each year's own there)",
    )
    charged_to_grant: bool = Field(
        default=False,
        description="true: the fee is paid out of the district's DFG capital with the works (cost "
        "+ fee of capital per case; with by_year, the fee of the year the period starts in); "
        "false: it is income on top of the capital",
    )
    by_year: dict[str, FeeYearConfig] | None = Field(
        default=None,
        description="instead of dfg_fee_rate, min_fee_per_case_gbp and max_fee_per_case_gbp, the "
        'fee structure by financial year (1 April to 31 March), keyed by the year as "2026-27", '
        "each year its own dfg_fee_rate, min_fee_per_case_gbp (0) and max_fee_per_case_gbp "
        '(null), e.g. {"2026-27": {"dfg_fee_rate": 0.1}, "2027-28": {"dfg_fee_rate": 0.12, '
        '"min_fee_per_case_gbp": 600}}: the works cases completed in a period pay the fee of the '
        "financial year the period starts in, as a period counts in that year everywhere in a "
        "plan; one entry for every financial year the plan's periods start in (others are left "
        "out), labelled YYYY-YY of consecutive years; with charged_to_grant, a works case uses "
        "its cost + that year's fee of capital; a fee sweep (POST /v1/plans/sweeps), which sets "
        "dfg_fee_rate, refuses it; null: the three figures above",
    )

    @model_validator(mode="after")
    def _fee_given_once(self) -> FeesConfig:
        """dfg_fee_rate (with its bounds) or by_year, not both and not neither; by_year's years
        as a budget's by financial year."""
        if (self.dfg_fee_rate is None) == (self.by_year is None):
            raise ConfigValueError(
                "fees.dfg_fee_rate",
                ("dfg_fee_rate",),
                "exactly one of dfg_fee_rate (with min_fee_per_case_gbp and "
                "max_fee_per_case_gbp: one fee in every period) and by_year (the fee in each "
                "financial year)",
                "neither" if self.by_year is None else "both",
            )
        if self.by_year is None:
            _check_fee_bounds("fees.", self.min_fee_per_case_gbp, self.max_fee_per_case_gbp)
            return self
        for field, found in (
            ("min_fee_per_case_gbp", self.min_fee_per_case_gbp or None),
            ("max_fee_per_case_gbp", self.max_fee_per_case_gbp),
        ):
            if found is not None:
                raise ConfigValueError(
                    f"fees.{field}",
                    (field,),
                    f"none beside fees.by_year (each year's {field} goes in its entry there)",
                    f"{found:g}",
                )
        check_financial_years("fees.by_year", "by_year", self.by_year)
        return self

    def year_fees(self) -> FeeYearConfig | None:
        """The one fee structure of a config without by_year; None with it."""
        if self.dfg_fee_rate is None:
            return None
        return FeeYearConfig(
            dfg_fee_rate=self.dfg_fee_rate,
            min_fee_per_case_gbp=self.min_fee_per_case_gbp,
            max_fee_per_case_gbp=self.max_fee_per_case_gbp,
        )


class FlowsConfig(_Strict):
    p_ot_dfg: float = Field(
        ge=0,
        le=1,
        description="the fraction (0 to 1) of OT cases served that become DFG works cases, joining "
        "the district's works queue",
    )
    p_reab_dom: float = Field(
        ge=0,
        le=1,
        description="the fraction (0 to 1) of reablement cases served that need ongoing "
        "domiciliary care, joining its queue the next period",
    )


# Days of the even-waits term one hour of needless week-to-week change weighs (see
# optimise/tiebreak.py; measured in docs/benchmarks.md): on the demo it removed most district
# churn that the least waiting leaves free for 1% on that term.
STEADY_HOURS_WEIGHT = 0.1


class EquityConfig(_Strict):
    """Equity: a cap on each district's average wait, a worst-district weight (both off unless
    given), and the even-waits tie-break (on unless `even_waits` is false).

    Waiting costs the same in every district of a team, so many plans have the least weighted
    waiting and which district gets the hours would otherwise be arbitrary. With `even_waits`
    the plan is solved twice: first for the least weighted waiting, then, keeping that within
    a relative `even_waits_tolerance` (1e-6: the same plan's waiting, as far as a solver can
    tell), for the most even waits (see optimise/tiebreak.py). A larger tolerance (up to 1%)
    lets a planner trade that much weighted waiting for evenness. The same solve also keeps
    each district's and team's hours steady from one period to the next (`steady_hours_weight`
    against the evenness term), so that plans that tie on waiting are not rostered with
    needless swings. Both are bought within the same tolerance: at 1e-6 neither costs waiting;
    with a larger one, the waiting it allows may go to steadiness as well as evenness (set
    `steady_hours_weight` to 0 to trade waiting for evenness alone).
    """

    max_avg_wait_days: float | None = Field(
        default=None,
        gt=0,
        description="a cap on each service's average wait in each district in each period from "
        "applies_from_period, days (above 0, at most 3,650); null: no cap",
    )
    applies_from_period: int = Field(
        default=1,
        ge=1,
        description="the first period (1 = the plan's first) that max_avg_wait_days applies to, "
        "leaving earlier ones to clear the starting backlog (at most 520)",
    )
    worst_district_weight: float = Field(
        default=0.0,
        ge=0,
        description="the weight on the worst district's weighted waiting days per referral over "
        "the horizon, added to the weighted person-days the plan minimises, 0 to 1,000,000; 0: off",
    )
    even_waits: bool = Field(
        default=True,
        description="true: among plans with the least weighted waiting, the one with the most even "
        "waits across districts; false: one solve",
    )
    even_waits_tolerance: float = Field(
        default=1e-6,
        ge=0,
        le=0.01,
        description="the weighted waiting the even-waits solve may add, as a fraction (0 to 0.01) "
        "of the least (1e-6: none a solver can tell)",
    )
    steady_hours_weight: float = Field(
        default=STEADY_HOURS_WEIGHT,
        ge=0,
        le=10,
        description="in the even-waits solve, days of longest district wait (summed over service, "
        "team and period) worth one hour less of week-to-week change in a district's or team's "
        "hours (0 to 10; 0.1: ten hours of churn weigh a day; 0: waits only). It trades no "
        "weighted waiting beyond even_waits_tolerance, within which it shares what that allows "
        "with evenness",
    )


# The upper forecast quantiles a demand frame carries (q90 = top of the 80% interval, q975 of
# the 95%); a lower one would plan winter below the forecast.
WinterQuantile = Literal["q90", "q975"]
MAX_ELASTICITY = 5.0  # referrals rising more than five times as fast as hospital pressure: a typo


class WinterConfig(_Strict):
    """Winter planning: in the given calendar months, each service's demand is the highest of
    its forecast (or the `quantile_column` of it) and, with `pressure_series`, its normal
    level raised by that series' winter index.

    The winter index is the pressure series' seasonal factor (for example
    `winter/emergency_admissions/warwickshire`, 1.0 = a normal month): its forecast over the
    centred annual mean of its history and forecast around that month, so its growth is not
    read as winter, and a month's index does not depend on the plan's horizon or first month
    (GET /v1/winter serves the forecast over the trailing year of history instead). A
    district's normal level (`normal_cases` in the demand frame) is the centred annual mean of
    its referral history followed by its forecast at each period (of the forecast alone from a
    forecasts file), so its trend is kept and its own season averaged out.
    In periods whose index is above 1 the raised level is normal x (1 + elasticity x
    (index - 1)), where `pressure_elasticity[service]` (default 1) says how strongly the
    service's referrals follow hospital pressure: 1 in proportion, 0.5 half as much, 3 three
    times (a service fed by hospital discharges). The index raises demand, never lowers it: a
    referral forecast that already carries the winter rise keeps it. `pressure_level` says
    which winter the index is of: an average one (the pressure forecast's seasonal factor), or
    a bad one (seed 004): that factor raised by how far the series' winter months rose above
    their usual factor in its 1-in-10 (q90) or 1-in-40 (q975) winter months, measured over its
    history (four years or more; with less, an average winter, with a warning). A bad month
    of one area-wide hospital series is a bad winter; a quantile of each district's weekly
    referrals (`quantile_column`) is mostly weekly noise that a backlog absorbs, and plans far
    above either.
    """

    quantile_column: WinterQuantile | None = Field(
        default=None,
        description="the forecast quantile (q90: top of the 80% interval, q975: of the 95%) winter "
        "periods plan for where it is above the forecast; null: none",
    )
    pressure_series: str | None = Field(
        default=None,
        min_length=1,
        description="the id of the pressure series whose winter index raises each service's normal "
        "level in winter periods, e.g. winter/emergency_admissions/warwickshire; null: none",
    )
    pressure_level: Literal["mean", "q90", "q975"] = Field(
        default="mean",
        description="the winter the index is of: mean (an average winter: the pressure "
        "forecast's seasonal factor), q90 or q975 (a bad winter: that factor raised by how far "
        "the series' winter months rose above their usual factor in its 1-in-10 or 1-in-40 "
        "winter months, from four years of history or more)",
    )
    pressure_elasticity: dict[ServiceId, float] = Field(
        default_factory=dict,
        description="by service id, how strongly its referrals follow the winter index, 0 to 5 (1: "
        "in proportion, 0.5: half as much); a service left out: 1",
    )
    months: tuple[int, ...] = Field(
        default=(11, 12, 1, 2, 3),
        description="the calendar months (1 to 12, each once) whose periods are planned as winter, "
        "by the month each period starts in",
    )

    @model_validator(mode="after")
    def _months_valid(self) -> WinterConfig:
        if not self.months:
            raise ConfigValueError(
                "winter.months", ("months",), "at least one calendar month 1..12", "[]"
            )
        bad = [i for i, m in enumerate(self.months) if not 1 <= m <= 12]
        if bad:
            raise ConfigValueError(
                "winter.months",
                ("months", bad[0]),
                "calendar months 1..12",
                json.dumps([self.months[i] for i in bad]),
            )
        again = [i for i, m in enumerate(self.months) if m in self.months[:i]]
        if again:
            month = self.months[again[0]]
            raise ConfigValueError(
                "winter.months",
                ("months", again[0]),
                "each calendar month once",
                f"{month} again (first at index {self.months.index(month)})",
            )
        if self.quantile_column is None and self.pressure_series is None:
            raise ConfigValueError(
                "winter", (), "quantile_column, pressure_series or both", "neither"
            )
        odd = {k: v for k, v in self.pressure_elasticity.items() if not 0 <= v <= MAX_ELASTICITY}
        if odd:
            raise ConfigValueError(
                "winter.pressure_elasticity",
                ("pressure_elasticity", next(iter(odd))),
                f"0..{MAX_ELASTICITY:g}",
                json.dumps(odd),
            )
        if self.pressure_elasticity and self.pressure_series is None:
            raise ConfigValueError(
                "winter.pressure_elasticity",
                ("pressure_elasticity",),
                "only with a pressure_series",
                "no pressure_series",
            )
        return self


class PlanningConfig(_Strict):
    """A whole planning request (without demand, which comes as a long frame)."""

    name: str = Field(
        max_length=MAX_NAME_LENGTH,
        description="the config's name, at most 200 characters",
    )
    version: str = Field(
        max_length=MAX_VERSION_LENGTH,
        description="the config's version label, at most 100 characters",
    )
    period_days: int = Field(
        gt=0,
        description="days in each period: the demand's spacing, 7 for weekly demand, 28 to 31 for "
        "monthly; at most 366",
    )
    horizon_periods: int = Field(
        ge=1,
        le=MAX_HORIZON_PERIODS,
        description="periods planned, from the demand's first period (at most 520)",
    )
    services: list[ServiceConfig] = Field(
        min_length=1,
        description="the services planned, each once; their order is only the order of a plan's "
        "rows",
    )
    teams: list[TeamConfig] = Field(
        min_length=1,
        description="the teams whose hours are allocated, each serving at least one district; "
        "their order is only the order of a plan's rows (the plan is solved with ids sorted)",
    )
    districts: list[DistrictConfig] = Field(
        min_length=1,
        description="the districts planned, each served by one team; their order is only the order "
        "of a plan's rows (the plan is solved with ids sorted)",
    )
    # The pooled budget of every team without its own; required unless every team has one.
    revenue_budget_gbp_per_period: float | None = Field(
        default=None,
        ge=0,
        description="the pooled revenue budget of every team without its own, GBP per period; null "
        "when every team has its own, or when given by financial year (revenue_budget_gbp_by_year)",
    )
    revenue_budget_gbp_by_year: dict[str, float] | None = Field(
        default=None,
        description=REVENUE_BY_YEAR_TEXT.format(
            whose="the pooled revenue budget of every team without its own"
        )
        + "; null when every team has its own, or when given per period",
    )
    # Budgets are per period either way (by year: each period's share of its year's);
    # "financial_year" bounds each financial year's sum (1 April start) instead of each period,
    # so money may move between weeks of a year.
    revenue_budget_basis: Literal["period", "financial_year"] = Field(
        default="period",
        description="period: each period's spend is within its budget; financial_year: each "
        "financial year's (from 1 April) is within its periods' budgets summed",
    )
    fees: FeesConfig = Field(description="the fee charged on DFG works, which funds revenue")
    flows: FlowsConfig = Field(
        description="the shares of cases that flow on from one service to another queue",
    )
    works_wait_weight: float = Field(
        default=1.0,
        ge=0,
        description="the weight of each day a DFG works case waits, as wait_weight is a service's: "
        "1 counts a person-day of waiting once; 0 (not counted) or from 1e-06 to 1,000. "
        "Serving an OT case adds p_ot_dfg of a case to the works queue, so with p_ot_dfg x "
        "works_wait_weight at or above OT's weight a plan may hold back OT assessments (its "
        "warnings say so)",
    )
    equity: EquityConfig | None = Field(
        default=None,
        description="equity across districts; null: the defaults (even waits only)",
    )
    winter: WinterConfig | None = Field(
        default=None,
        description="winter planning; null: every period plans for the forecast mean",
    )

    @field_validator("works_wait_weight")
    @classmethod
    def _weight_not_a_slip(cls, value: float, info: ValidationInfo) -> float:
        check_weight("works_wait_weight", value, info)
        return value

    @field_validator("name")
    @classmethod
    def _named(cls, name: str) -> str:
        if not name.strip():
            raise ConfigValueError("name", (), "a name that is not blank", repr(name))
        return name

    @field_validator("name", "version")
    @classmethod
    def _one_line(cls, text: str, info: ValidationInfo) -> str:
        """A name or version with a control character (a line break, a tab) is refused when
        sent: a plan's summary and CSVs write them in a cell of their own."""
        if not _stored(info):
            check_one_line(info.field_name or "name", text)
        return text

    @model_validator(mode="before")
    @classmethod
    def _not_an_envelope(cls, data: Any) -> Any:
        """A whole GET /v1/configs/{id} answer (`id`, `created_at`, ..., the config in its
        `body`) sent as a config, to POST /v1/configs, as a what-if's `config` or to `homeward
        plan --config`, is one problem saying to send its `body`, not 14 for the fields the
        config lacks and those the answer has beside it, none of which says why."""
        if isinstance(data, Mapping) and {"body", "body_hash"} <= set(data):
            raise ConfigValueError(
                "config",
                (),
                "the config itself: the `body` of GET /v1/configs/active",
                f"the whole answer of GET /v1/configs/{{id}} ({', '.join(sorted(data))})",
            )
        return data

    @model_validator(mode="after")
    def _pooled_budget_given_once(self, info: ValidationInfo) -> PlanningConfig:
        check_revenue_budget(
            "", self.revenue_budget_gbp_per_period, self.revenue_budget_gbp_by_year, info
        )
        return self

    @model_validator(mode="after")
    def _references_resolve(self) -> PlanningConfig:
        _check_unique("services", [s.id for s in self.services])
        _check_unique("teams", [t.id for t in self.teams])
        _check_unique("districts", [d.id for d in self.districts])
        team_ids = [t.id for t in self.teams]
        for i, d in enumerate(self.districts):
            if d.team not in team_ids:
                raise ConfigValueError(
                    f"districts[{d.id}].team",
                    ("districts", i, "team"),
                    f"one of {team_ids}",
                    json.dumps(d.team),
                )
        for i, t in enumerate(self.teams):
            _check_team(i, t, [s.id for s in self.services], [d.team for d in self.districts])
        pooled = self.revenue_budget_gbp_per_period, self.revenue_budget_gbp_by_year
        _check_budgets(next((p for p in pooled if p is not None), None), self.teams)
        for i, d in enumerate(self.districts):
            _check_district_services(i, d, [s.id for s in self.services])
        if self.winter is not None:
            service_ids = [s.id for s in self.services]
            extra = sorted(set(self.winter.pressure_elasticity) - set(service_ids))
            if extra:
                raise ConfigValueError(
                    "winter.pressure_elasticity",
                    ("winter", "pressure_elasticity", extra[0]),
                    f"services of this config {service_ids}",
                    json.dumps(extra),
                )
        return self

    @model_validator(mode="after")
    def _one_capital_basis(self) -> PlanningConfig:
        """Every district's capital over the horizon, or every district's by financial year: a
        plan's capital rows and tables are one or the other."""
        yearly = [d.capital_by_year_gbp is not None for d in self.districts]
        if any(yearly) and not all(yearly):
            i = yearly.index(False)
            first = self.districts[yearly.index(True)].id
            raise ConfigValueError(
                f"districts[{self.districts[i].id}].capital_by_year_gbp",
                ("districts", i, "capital_by_year_gbp"),
                f"capital by financial year, as districts[{first}] gives it (every district's "
                "capital is given one way)",
                "capital_gbp over the whole horizon",
            )
        return self

    @model_validator(mode="after")
    def _district_floors_fit(self, info: ValidationInfo) -> PlanningConfig:
        """District floors a team could never serve (more, summed over its districts, than its
        staff and agency ceilings) are refused when sent; a stored config plans, the floors
        relaxed and named in the plan (optimise/elastic.py)."""
        if not _stored(info):
            for team in self.teams:
                _check_district_floors(team, self.districts)
        return self


def _check_district_services(index: int, district: DistrictConfig, service_ids: list[str]) -> None:
    """A district's hours or wait cap for a service the config does not plan would be ignored."""
    for field in ("hours", "max_avg_wait_days"):
        extra = sorted(set(getattr(district, field)) - set(service_ids))
        if extra:
            raise ConfigValueError(
                f"districts[{district.id}].{field}",
                ("districts", index, field, extra[0]),
                f"services of this config {service_ids}",
                json.dumps(extra),
            )


def _check_district_floors(team: TeamConfig, districts: list[DistrictConfig]) -> None:
    members = [(i, d) for i, d in enumerate(districts) if d.team == team.id]
    for service, bounds in team.hours.items():
        ceiling = bounds.max_per_period + bounds.agency_max_per_period
        floors = [(i, d, d.hours[service].min_per_period) for i, d in members if service in d.hours]
        total = sum(f for _, _, f in floors)
        if total <= ceiling:
            continue
        i, district, floor = max(floors, key=lambda f: f[2])
        others = total - floor
        raise ConfigValueError(
            f"districts[{district.id}].hours.{service}.min_per_period",
            ("districts", i, "hours", service, "min_per_period"),
            f"<= {max(ceiling - others, 0.0):g}: team {team.id}'s {service} ceiling "
            f"(max_per_period {bounds.max_per_period:g} + agency_max_per_period "
            f"{bounds.agency_max_per_period:g})"
            + (f" less its other districts' floors ({others:g})" if others else ""),
            f"{floor:g}",
        )


def _check_unique(field: str, ids: list[str]) -> None:
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        second = next(n for n, i in enumerate(ids) if i in dupes and ids.index(i) < n)
        raise ConfigValueError(
            field, (field, second, "id"), "unique ids", f"duplicates {json.dumps(dupes)}"
        )


def _check_team(
    index: int, team: TeamConfig, service_ids: list[str], district_teams: list[str]
) -> None:
    if team.id not in district_teams:
        raise ConfigValueError(
            f"teams[{team.id}]",
            ("teams", index, "id"),
            f"at least one district with team {team.id!r}",
            "none",
        )
    missing = [s for s in service_ids if s not in team.hours]
    if missing:
        raise ConfigValueError(
            f"teams[{team.id}].hours",
            ("teams", index, "hours"),
            f"bounds for every service {service_ids}",
            f"none for {json.dumps(missing)}",
        )


def _check_budgets(pooled: float | Mapping[str, float] | None, teams: list[TeamConfig]) -> None:
    """Every team's staff must be paid from exactly one budget: its own or the pooled one
    (each given per period or by financial year)."""
    without = [t.id for t in teams if not has_own_budget(t)]
    if without and pooled is None:
        raise ConfigValueError(
            "revenue_budget_gbp_per_period",
            ("revenue_budget_gbp_per_period",),
            "a pooled budget (revenue_budget_gbp_per_period, or revenue_budget_gbp_by_year) for "
            "the teams without their own (teams[].revenue_budget_gbp_per_period or "
            "teams[].revenue_budget_gbp_by_year)",
            f"none for {json.dumps(without)}",
        )
    if not without and pooled is not None:
        field = (
            "revenue_budget_gbp_by_year"
            if isinstance(pooled, Mapping)
            else ("revenue_budget_gbp_per_period")
        )
        raise ConfigValueError(
            field,
            (field,),
            "none because every team has its own teams[].revenue_budget_gbp_per_period or "
            "teams[].revenue_budget_gbp_by_year",
            json.dumps(pooled) if isinstance(pooled, Mapping) else f"{pooled}",
        )


def has_own_budget(team: TeamConfig) -> bool:
    """The team pays its staff from its own revenue budget, not the pooled one."""
    return (
        team.revenue_budget_gbp_per_period is not None
        or team.revenue_budget_gbp_by_year is not None
    )


def read_stored(body: Mapping[str, Any]) -> PlanningConfig:
    """A config body read back from the database, validated as it was when stored: without the
    entry checks added since (see STORED). Raises pydantic's ValidationError otherwise."""
    return PlanningConfig.model_validate(body, context=STORED)


def charge_warnings(config: PlanningConfig) -> tuple[str, ...]:
    """A warning for each service of a stored config whose care charge has no paying share, or
    whose share has no charge (a config sent so is refused): either alone earns nothing."""
    said = []
    for s in config.services:
        charge, share = s.charge_gbp_per_hour, s.charge_paying_share
        if s.charges == (share > 0):
            continue
        given, missing = (
            (f"charge_gbp_per_hour {charge:g}", "charge_paying_share")
            if charge > 0
            else ("charge_gbp_per_hour_by_year", "charge_paying_share")
            if s.charges
            else (f"charge_paying_share {share:g}", "charge_gbp_per_hour")
        )
        said.append(
            f"services[{s.id}]: {given} with {missing} 0 has no effect (no charge income is "
            f"planned); set {missing} above 0 (POST /v1/configs), or "
            f"{given.split()[0]} to 0 for no charge"
        )
    return tuple(said)


def works_weight_warnings(config: PlanningConfig) -> tuple[str, ...]:
    """A warning when serving an OT case costs the objective as much as it saves: each case
    assessed puts p_ot_dfg of a case in the DFG works queue, weighted works_wait_weight a day,
    so where that is at or above an OT class's weight of a day (wait_weight, or
    urgent_wait_weight, plus its hospital_delay_weight's share) and works cannot be completed
    as fast (capital or max_works_per_period), the least weighted waiting assesses fewer or
    no OT cases, budget and staff to spare (GBP 1,000,000 a week and works_wait_weight 6 with
    p_ot_dfg 0.2 used none of OT's 960 hours). The objective is the user's choice; this says
    what it does."""
    ot = next((s for s in config.services if s.id == "ot"), None)
    moved = config.flows.p_ot_dfg * config.works_wait_weight
    if ot is None or moved <= 0:
        return ()
    # OT's waiting cases are not in hospital unless its hospital_share says (null: 0)
    hospital = ot.hospital_delay_weight * (ot.hospital_share or 0.0)
    classes = [("wait_weight", ot.wait_weight, "standard")]
    if ot.urgent_share > 0 and ot.urgent_wait_weight is not None:
        classes.append(("urgent_wait_weight", ot.urgent_wait_weight, "urgent"))
    low = [
        (field, weight, kind)
        for field, weight, kind in classes
        if weight + hospital <= moved * (1 + 1e-12)
    ]
    if not low:
        return ()
    plus = (
        f" plus hospital_delay_weight {ot.hospital_delay_weight:g} x hospital_share "
        f"{ot.hospital_share:g}"
        if hospital > 0
        else ""
    )
    shown = " and ".join(
        f"{field} {weight:g}{plus}" + (f" ({kind} cases)" if len(classes) > 1 else "")
        for field, weight, kind in low
    )
    fields = " and ".join(field for field, _, _ in low)
    return (
        f"services[ot]: each OT case assessed puts p_ot_dfg {config.flows.p_ot_dfg:g} of a "
        f"person in the DFG works queue, whose days weigh works_wait_weight "
        f"{config.works_wait_weight:g}: {moved:g} a day, at least OT's own {shown}. Where "
        "works cannot be completed as fast as OT refers them (capital_gbp or "
        "max_works_per_period), the plan may hold back OT assessments to keep people out of "
        "the works queue, even with budget and staff to spare. For OT cases to be assessed, give "
        f"OT a {fields} above {moved:g} (p_ot_dfg x works_wait_weight), or a lower "
        "works_wait_weight",
    )


def config_problems(exc: ValidationError) -> str:
    """A config's validation errors on one line, each as field: expected, found (pydantic's
    own text is several lines with a link to its documentation)."""
    parts = []
    for err in exc.errors():
        refused = refused_value(err)
        loc = refused.loc if refused is not None else tuple(err.get("loc", ()))
        where = ".".join(str(p) for p in loc) or "(the whole config)"
        if refused is not None:
            parts.append(f"{where}: expected {refused.expected}, found {refused.found}")
        elif err.get("type") == "missing":  # its input is the parent object, not the value
            parts.append(f"{where}: expected a value (it is required), found nothing")
        else:
            found = json.dumps(err.get("input"), default=str)[:80]
            msg = str(err.get("msg", "")).removeprefix("Value error, ")
            parts.append(f"{where}: {msg}, found {found}")
    more = f"; and {len(parts) - 3} more" if len(parts) > 3 else ""
    return "; ".join(parts[:3]) + more
