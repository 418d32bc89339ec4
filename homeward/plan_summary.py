"""A stored plan's summary and warnings as tables of rows, for the pack a planner hands to a
head of service: the headline figures, the horizon, the config and run that made the plan,
and how old the data it planned from is, one figure a row, each with its unit.

Every figure is read from the stored plan and its run, config and forecast rows, as GET
/v1/plans/{id} and a what-if's comparison give them (`planning.plan_figures`), never reckoned
another way, so the pack and the plan cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from homeward.clock import utc_text
from homeward.exports import is_money, spent_to_the_penny, to_the_penny
from homeward.plan_years import monthly_periods, whole_year_periods
from homeward.planning import REFERRALS_PREFIX, plan_figures, plan_horizon
from homeward.recovery import UNFINISHED
from models import ForecastRow, ObservationRow, PlanningConfigRow, PlanRow, RunRow

# (figure, unit, note) of each of `planning.plan_figures`' figures, in a head of service's
# order: outcomes, then money, then hours and works
_FIGURES = (
    ("weighted_wait_days", "days", "weighted waiting days, what the plan minimises"),
    ("dtoc_days", "days", "delayed discharge (DTOC) days, as the LP reckons them"),
    (
        "simulated_dtoc_days",
        "days",
        "delayed discharge days in the plan's queue simulation (queues near full wait longer "
        "than the LP predicts: quote both)",
    ),
    (
        "staff_cost_gbp",
        "GBP",
        "staff and commissioned hours' cost: in-house staff hours, and care bought from "
        "providers (most domiciliary care) at its commissioned rate (revenue_by_service splits "
        "it by service)",
    ),
    ("agency_cost_gbp", "GBP", "agency cost"),
    ("revenue_cost_gbp", "GBP", "staff and agency cost, before fee and charge income"),
    ("fee_income_gbp", "GBP", "DFG fee income"),
    ("charge_income_gbp", "GBP", "care charge income"),
    ("revenue_budget_gbp", "GBP", "the revenue budget"),
    ("net_revenue_cost_gbp", "GBP", "staff and agency cost less fee and charge income"),
    ("unspent_budget_gbp", "GBP", "revenue budget left unspent (budget less net cost)"),
    ("staff_hours", "hours", "staff and commissioned hours"),
    ("agency_hours", "hours", "agency hours"),
    ("works_completed", "cases", "DFG works completed"),
)


def warning_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's `warnings`, one row each: `index` (from 1, in the plan's order) and the
    `warning` as the plan states it."""
    return [{"index": i, "warning": w} for i, w in enumerate(result.get("warnings") or [], 1)]


def summary_rows(session: Session, plan: PlanRow) -> list[dict[str, Any]]:
    """The plan's summary, one row per figure (`figure`, `value`, `unit`, `note`): the plan
    and its status, its horizon, its headline figures (totals over the horizon), its DFG
    capital, the contingency a high year needs, its config and run, and the forecast run
    and referral history it planned from. A value the plan does not give (a figure undefined,
    or a plan stored before a release that reported it) is None."""
    config = session.get(PlanningConfigRow, plan.config_id)
    return [
        *_plan_rows(session, plan, config),
        *_figure_rows(
            plan.objective_weighted_wait_days, plan.result, None if config is None else config.body
        ),
        *_risk_rows(plan.result),
        *_data_rows(session, plan),
    ]


def unstored_summary_rows(
    status: str, objective: float | None, result: dict[str, Any], body: dict[str, Any]
) -> list[dict[str, Any]]:
    """The summary of a plan solved without the database (`homeward plan --csv`), as
    `summary_rows` gives a stored one's, less the rows of what only a stored plan has (its id,
    when it was made, its config's and run's ids, the forecast runs it read): its status,
    horizon and config, its headline figures and DFG capital, and the contingency a high year
    needs. `result`: the plan's `PlanResult.to_dict()`; `body`: its config."""
    return [
        _status_row(status),
        *_horizon_rows(result),
        _row("config_name", body.get("name"), "text", "its config's name"),
        _row("config_version", body.get("version"), "text", "its version"),
        *_figure_rows(objective, result, body),
        *_risk_rows(result),
    ]


def _row(figure: str, value: Any, unit: str, note: str) -> dict[str, Any]:
    return {"figure": figure, "value": value, "unit": unit, "note": note}


def _moment(value: datetime | None) -> str | None:
    """A stored moment as the JSON routes send one: ISO 8601 in UTC, `Z` for its zone."""
    return None if value is None else utc_text(value)


def _plan_rows(
    session: Session, plan: PlanRow, config: PlanningConfigRow | None
) -> list[dict[str, Any]]:
    """Which plan this is, its status, horizon, config and run."""
    run = session.get(RunRow, plan.run_id)
    return [
        _row("plan_id", plan.id, "id", "the plan (GET /v1/plans/{id})"),
        _status_row(plan.status),
        _row("created_at", _moment(plan.created_at), "UTC time", "when the plan was made"),
        *_horizon_rows(plan.result),
        _row("config_id", plan.config_id, "id", "the config (GET /v1/configs/{id})"),
        _row("config_name", None if config is None else config.name, "text", "its name"),
        _row("config_version", None if config is None else config.version, "text", "its version"),
        _row(
            "scenario",
            None if config is None else config.scenario,
            "true/false",
            "whether it is a what-if (a config sent with POST /v1/plans, not the active one)",
        ),
        _row("run_id", plan.run_id, "id", "the run that made it (GET /v1/runs/{id})"),
        _row("run_trigger", None if run is None else run.trigger, "text", "what started it"),
    ]


def _status_row(status: str) -> dict[str, Any]:
    return _row(
        "status",
        status,
        "text",
        "the solver's outcome: optimal, or infeasible_relaxed (what had to give: the "
        "relaxations table), ...",
    )


def _horizon_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The plan's first and last periods' starts, how many periods and their length."""
    horizon = plan_horizon(result)
    revenue = result.get("revenue") or []
    last = result.get("last_ds") or (revenue[-1].get("ds") if revenue else None)
    return [
        _row("first_ds", horizon.first_ds, "date", "the first period's start"),
        _row("last_ds", None if last is None else str(last)[:10], "date", "the last's start"),
        _row("periods", horizon.periods, "periods", "how many periods the totals are over"),
        _row("period_days", horizon.period_days, "days", "days in each period"),
    ]


def _figure_rows(
    objective: float | None, result: dict[str, Any], body: dict[str, Any] | None
) -> list[dict[str, Any]]:
    """The headline figures as the plan's comparison gives them, and its DFG capital."""
    figures = plan_figures(objective, result, body)
    over = "total over the plan's periods"
    rows = [_row(name, figures[name], unit, f"{note}, {over}") for name, unit, note in _FIGURES]
    capital = result.get("capital_total") or []
    for column, what in (("capital_spent_gbp", "spent"), ("capital_available_gbp", "available")):
        total = _penny_sum(r.get(column) for r in capital) if capital else None
        rows.append(_row(column, total, "GBP", f"DFG capital {what}, every district's summed"))
    return (
        rows + _capital_year_rows(result.get("capital_by_year") or []) + _revenue_year_rows(result)
    )


def _capital_year_rows(by_year: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Where the config gives DFG capital by financial year, each year's spend and capital,
    every district's summed (`capital_spent_gbp[2026-27]`): a capital officer monitors spend
    against each year's allocation. None where capital is over the horizon."""
    if not any(r.get("capital_available_gbp") is not None for r in by_year):
        return []
    rows = []
    for year in dict.fromkeys(r["year"] for r in by_year):
        mine = [r for r in by_year if r["year"] == year]
        for column, what in (("capital_spent_gbp", "spent"), ("capital_available_gbp", "given")):
            total = _penny_sum(r.get(column) for r in mine)
            note = f"DFG capital {what} in financial year {year}, every district's summed"
            rows.append(_row(f"{column}[{year}]", total, "GBP", note))
    return rows


# (figure, revenue_by_year column) of each financial year's revenue rows: the headline figures'
# names, as capital_spent_gbp[2026-27] is capital_spent_gbp's
_YEAR_FIGURES = (
    ("revenue_budget_gbp", "budget_gbp"),
    ("net_revenue_cost_gbp", "net_cost_gbp"),
    ("unspent_budget_gbp", "headroom_gbp"),
)


def _revenue_year_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Each financial year the plan reaches (from its `revenue_by_year` rows, every budget's
    summed), as a finance officer reports against it: how many of the plan's periods start in
    it (`periods[2026-27]`) and whether that is only part of the year (`part_year[2026-27]`),
    then the revenue budget for those periods, the net revenue cost and the budget left
    unspent (`revenue_budget_gbp[2026-27]`, ..., the headline figures' names), and where the
    config gives the budget by financial year, the whole year's (`year_revenue_budget_gbp[..]`).
    Money is to the penny, each year's net cost and unspent budget adding up to its budget
    (`spent_to_the_penny`); the years' figures add up to the headline ones, give or take a
    penny of rounding each. [] for a plan stored before the table."""
    by_year = result.get("revenue_by_year") or []
    horizon = plan_horizon(result)
    monthly = monthly_periods(result, horizon)
    wholes = whole_year_periods(result)  # as the plan's revenue_by_year rows serve them
    rows = []
    for year in dict.fromkeys(r["year"] for r in by_year):
        mine = [r for r in by_year if r["year"] == year]
        covered = int(mine[0].get("periods") or 0)
        whole = wholes[year]
        part = None if whole is None else covered < whole
        unit = "month" if monthly else "week" if horizon.period_days == 7 else "period"
        of = "" if whole is None else f", of the {whole} {unit}s starting in the whole year"
        rows.append(
            _row(
                f"periods[{year}]",
                covered,
                "periods",
                f"the plan's periods starting in financial year {year} ({_span(year)}){of}",
            )
        )
        rows.append(
            _row(
                f"part_year[{year}]",
                part,
                "true/false",
                f"whether the plan covers only part of financial year {year} (fewer periods "
                "than the whole year's): the year's figures here are for its periods alone",
            )
        )
        sums = {"budget_gbp": _penny_sum(r.get("budget_gbp") for r in mine)}
        net = float(sum(r.get("net_cost_gbp") or 0.0 for r in mine))
        sums["net_cost_gbp"], sums["headroom_gbp"] = spent_to_the_penny(sums["budget_gbp"], net)
        notes = {
            "budget_gbp": "the revenue budget for the plan's periods that start in financial "
            "year {y} (by financial year, each period's share of the years its days fall in: "
            "a week across 1 April brings its days' share of the next year's with it), every "
            "budget's summed",
            "net_cost_gbp": "staff and agency cost less fee and charge income in financial "
            "year {y}, every budget's summed",
            "headroom_gbp": "revenue budget left unspent in financial year {y} (its budget less "
            "its net cost), every budget's summed",
        }
        for figure, column in _YEAR_FIGURES:
            note = notes[column].format(y=year)
            rows.append(_row(f"{figure}[{year}]", sums[column], "GBP", note))
        given = [r.get("year_budget_gbp") for r in mine]
        if any(g is not None for g in given):
            whole_budget = None if None in given else _penny_sum(given)
            rows.append(
                _row(
                    f"year_revenue_budget_gbp[{year}]",
                    whole_budget,
                    "GBP",
                    f"the whole financial year {year}'s revenue budget, as "
                    "revenue_budget_gbp_by_year gives it; revenue_budget_gbp"
                    f"[{year}] is the plan's periods' share, give or take the days of a week "
                    "across 1 April (it counts in the year it starts in, with its days' share "
                    "of each year); null where a budget of the year is given per period",
                )
            )
    return rows


def _span(year: str) -> str:
    start = int(year[:4])
    return f"1 April {start} to 31 March {start + 1}"


def _risk_rows(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The contingency a high year needs (`risk_periods`): its hours over the year (all of
    them, whoever serves them), those beyond the teams' limits, those the limits allow but
    the revenue budget left does not pay for (and their cost), the cost of those that can be
    bought within both, the DFG works' capital, and the period needing the most hours (every
    service's together: an hour is an hour in any service, unlike a case) with those hours.
    None where the plan has no such table (stored before it, or no low and high years), or,
    for a figure added since, no such column."""
    periods = result.get("risk_periods") or []
    rows = [r for r in periods if r.get("contingency_hours") is not None]
    hours: dict[str, float] = {}
    for r in rows:
        hours[r["ds"]] = hours.get(r["ds"], 0.0) + r["contingency_hours"]
    peak = max(sorted(hours), key=hours.__getitem__, default=None)
    total = float(sum(hours.values())) if rows else None
    cost = _penny_sum(r.get("contingency_cost_gbp") for r in rows) if rows else None
    return [
        _row(
            "high_year_contingency_hours",
            total,
            "hours",
            "all the hours, beyond the plan's used hours, that would serve a high year's extra "
            "referrals as they arrive, so queues stay as planned: some covered by hours the "
            "plan pays for and leaves idle (risk_periods' idle_paid_hours_used), some to buy "
            "within the teams' limits and the revenue budget the plan leaves "
            "(extra_hours_within_limits), some the teams' limits allow but that budget does "
            "not pay for (hours_beyond_budget), the rest beyond the teams' limits",
        ),
        _row(
            "high_year_hours_beyond_limits",
            _column_sum(rows, "hours_beyond_limits"),
            "hours",
            "of those hours, the ones beyond the teams' max_per_period, max_change_per_period "
            "and agency_max_per_period, or their districts' own max_per_period: the config "
            "allows no more to buy, so they are not costed",
        ),
        _row(
            "high_year_hours_beyond_budget",
            _column_sum(rows, "hours_beyond_budget"),
            "hours",
            "of those hours, the ones the teams' limits allow to be bought but the revenue "
            "budget the plan leaves unspent does not pay for, spent period by period as the "
            "config's budget rows allow",
        ),
        _row(
            "high_year_cost_beyond_budget_gbp",
            _column_sum(rows, "cost_beyond_budget_gbp"),
            "GBP",
            "what those hours would cost, as high_year_contingency_cost_gbp prices hours, "
            "beyond the revenue budget",
        ),
        _row(
            "high_year_contingency_cost_gbp",
            cost,
            "GBP",
            "the cost of the hours that must be bought and can be within the teams' limits and "
            "the revenue budget the plan leaves: in-house hours at each service's "
            "cost_per_hour_gbp (its period's year's, given by year) first, then agency hours "
            "at agency_cost_per_hour_gbp, before "
            "charge income; idle paid hours cost nothing more",
        ),
        _row(
            "high_year_capital_gbp",
            _column_sum(periods, "contingency_capital_gbp"),
            "GBP",
            "DFG capital the high year's extra works would cost, at the capital each works "
            "case uses: its district's cost_per_adaptation_gbp, plus the DFG fee where "
            "fees.charged_to_grant is true (the fee paid out of the grant); beside the staff "
            "cost, not in it",
        ),
        _row(
            "peak_contingency_period",
            peak,
            "date",
            f"the start of the period needing the most of those hours{_peak(rows, peak)}",
        ),
        _row(
            "peak_contingency_hours",
            None if peak is None else hours[peak],
            "hours",
            "the hours that period needs, every service's",
        ),
    ]


def _column_sum(rows: list[dict[str, Any]], column: str) -> float | None:
    """`column` summed over the rows that give it, money to the penny; None where none does
    (a plan stored before the column was added, or none of its rows has one)."""
    values = [r[column] for r in rows if r.get(column) is not None]
    if not values:
        return None
    return _penny_sum(values) if is_money(column) else float(sum(values))


def _penny_sum(gbp: Iterable[float | None]) -> float:
    """Sums of money to the penny, a missing one as 0: a sum's float noise
    (2063305.0000000005) is no figure a finance officer can reconcile."""
    return to_the_penny(float(sum(v or 0.0 for v in gbp)))


def _peak(rows: list[dict[str, Any]], ds: str | None) -> str:
    """Each service's contingency hours in period `ds`, in words."""
    if ds is None:
        return ""
    parts = [f"{r['service']} {r['contingency_hours']:,.0f}" for r in rows if r["ds"] == ds]
    return f": {', '.join(parts)} hours"


def _data_rows(session: Session, plan: PlanRow) -> list[dict[str, Any]]:
    """The forecasts the plan read and where their referral history ends: the runs its result
    recorded when it was made (`forecast_run_id`, the newest of its referral forecasts, and
    `forecast_run_ids`, all of them), or for a plan stored before those were recorded, what
    is known or worked out now (`forecast_runs_of`)."""
    forecast_run_id, how = _newest_read(session, plan)
    runs = recorded_runs(plan.result.get("forecast_run_ids"))
    if runs is not None:
        all_how = "recorded when the plan was made"
    else:
        runs = [] if forecast_run_id is None else [forecast_run_id]
        all_how = (
            "the plan was stored before they were all recorded, so this is only the newest "
            "(forecast_run_id): older runs whose forecasts it read are not known"
        )
    forecast_run = None if forecast_run_id is None else session.get(RunRow, forecast_run_id)
    ended = None if forecast_run is None else _history_end(session, forecast_run.id, plan.result)
    return [
        _row(
            "forecast_run_id",
            forecast_run_id,
            "id",
            "the newest run whose referral forecasts the plan read (forecast_run_ids names "
            "every run it read): its own run's, or the newest that had ended when it was made "
            f"(GET /v1/runs/{{id}}); {how}",
        ),
        _row(
            "forecast_run_ids",
            ", ".join(map(str, runs)) or None,
            "ids",
            "every run whose forecasts the plan read, oldest first: each referral series' "
            "newest forecast (and the winter pressure series') may be a different run's, as "
            "after a run that forecast only an uploaded series (GET /v1/forecasts/{series_id}"
            f"?run_id= gives each); {all_how}",
        ),
        _row(
            "forecast_run_at",
            None if forecast_run is None else _moment(forecast_run.started_at),
            "UTC time",
            "when the newest of them began",
        ),
        _row(
            "referral_history_last_ds",
            ended,
            "date",
            "the last period of history of the referral series the plan read before the newest "
            "run's forecasts of them start (as stored now: an upload since that revised "
            "history is not undone)",
        ),
    ]


def _newest_read(session: Session, plan: PlanRow) -> tuple[int | None, str]:
    """The newest run whose referral forecasts `plan` read (`forecast_run_of`), and how that
    is known, in words."""
    recorded = plan.result.get("forecast_run_id")
    if isinstance(recorded, int):
        return recorded, "recorded when the plan was made"
    return _forecast_run_then(session, plan), (
        "worked out when this summary was read, as the plan was stored before the run it "
        "read was recorded: a run deleted since, or one that had not ended, can make it wrong"
    )


def forecast_run_of(session: Session, plan: PlanRow) -> int | None:
    """The newest run whose referral forecasts `plan` read, as its summary names it
    (`_data_rows`): recorded in its result, or for a plan stored before that, worked out from
    what is stored."""
    recorded = plan.result.get("forecast_run_id")
    return recorded if isinstance(recorded, int) else _forecast_run_then(session, plan)


def forecast_runs_of(session: Session, plan: PlanRow) -> list[int]:
    """Every run whose forecasts `plan` read, ascending, as its summary names them (what
    retention must keep with the plan, so that the summary's answer stays the same): recorded
    in its result (`forecast_run_ids`), or for a plan stored before that, only the newest
    (`forecast_run_of`), recorded or worked out: older runs it read are not known."""
    recorded = recorded_runs(plan.result.get("forecast_run_ids"))
    if recorded is not None:
        return recorded
    newest = forecast_run_of(session, plan)
    return [] if newest is None else [newest]


def recorded_runs(value: Any) -> list[int] | None:
    """A plan's stored `forecast_run_ids` as ascending ids; None where it is not a list of
    ids (a plan stored before they were recorded)."""
    if not isinstance(value, list):
        return None
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return None
    return sorted(set(value))


def _forecast_run_then(session: Session, plan: PlanRow) -> int | None:
    """The run whose referral forecasts a plan stored without `forecast_run_id` read, worked
    out from what is stored now: a pipeline plan's are its own run's; any other plan's are the
    newest run's that had ended when the plan was made (`repository.served_forecasts`: a
    what-if made while a pipeline run works plans with the run before's, and a job queued
    before a run ended but solved after it with that run's)."""
    return forecast_run_then(session, plan.run_id, plan.created_at)


def forecast_run_then(session: Session, run_id: int, at: datetime) -> int | None:
    """The run whose referral forecasts run `run_id` plans from at `at` (UTC): its own if it
    stored any (a pipeline run's), else the newest run's with referral forecasts that had
    ended by then (the run a plan stored without `forecast_run_id` is taken to have read)."""
    return session.scalar(
        select(func.max(ForecastRow.run_id)).where(
            _referral(ForecastRow.series_id), _own_or_ended(run_id, at)
        )
    )


def forecast_runs_then(session: Session, run_id: int, at: datetime) -> list[int]:
    """Every run whose forecasts run `run_id` may read at `at` (UTC), ascending: each series'
    newest forecast, its own run's or else the newest run's that had ended by then, referrals
    and any other (a winter pressure series). For retention: the runs an unfinished what-if
    or sweep began reading, whose config is not known until it stores its plan."""
    newest = select(func.max(ForecastRow.run_id)).where(_own_or_ended(run_id, at))
    return sorted(set(session.scalars(newest.group_by(ForecastRow.series_id))))


def _own_or_ended(run_id: int, at: datetime) -> Any:
    """Forecast rows of run `run_id`, or of a run that had ended by `at` (UTC)."""
    ended_before = select(RunRow.id).where(
        RunRow.status.not_in(UNFINISHED),
        RunRow.finished_at.is_(None) | (RunRow.finished_at <= at),
    )
    return (ForecastRow.run_id == run_id) | ForecastRow.run_id.in_(ended_before)


def _referral(column: Any) -> Any:
    # case-sensitive on every database, as `repository.latest_forecast_frame` matches ids
    return func.substr(column, 1, len(REFERRALS_PREFIX)) == REFERRALS_PREFIX


def _history_end(session: Session, forecast_run_id: int, result: dict[str, Any]) -> str | None:
    """The newest observation of the referral series the plan read (its `demand` rows' services
    and districts) before the run's first forecast period of them, YYYY-MM-DD. Not of every
    referral series stored: one the plan does not read (another council's, a monthly test
    series ending years before) set the date 21 months early. A plan without demand rows is
    read as of every referral series."""
    ids = sorted(
        {f"{REFERRALS_PREFIX}{r['service']}/{r['district']}" for r in result.get("demand") or []}
    )

    def read(column: Any) -> Any:
        return column.in_(ids) if ids else _referral(column)

    start = session.scalar(
        select(func.min(ForecastRow.ds)).where(
            read(ForecastRow.series_id), ForecastRow.run_id == forecast_run_id
        )
    )
    if start is None:
        return None
    last = session.scalar(
        select(func.max(ObservationRow.ds)).where(
            read(ObservationRow.series_id), ObservationRow.ds < start
        )
    )
    return None if last is None else last.date().isoformat()
