"""Check the figures README.md quotes about the demo against what the code computes now.

Run: .venv/bin/python bench/readme_figures.py           (about 2 minutes: the demo to 2025
                                                          and today's through the pipeline,
                                                          today's offline, three what-ifs)
     .venv/bin/python bench/readme_figures.py --parse   (only find each quoted figure)

Each figure below is a README phrase (a regular expression over README.md with its line breaks
read as spaces) whose named groups are the quoted numbers, and a function that computes them
from the engine in this process; the script prints each as quoted / computed / match and exits
1 when one does not match (or a phrase is not found exactly once), so a README edit or a code
change that moves a figure fails here. Two demos:

- "2025": the deterministic demo, `HOMEWARD_DEMO_LAST_YEAR=2025 homeward demo`: the demo to
  2025 loaded into a new SQLite file and run through the pipeline as `homeward demo` runs it
  (bench/pipeline_demo.py), its what-ifs solved on the stored forecasts as `POST /v1/plans`
  solves them;
- "today": the demo to the last complete week, which moves with the calendar, so the README's
  figures of it are dated: they are of the plan from the week of 2026-11-23 (the README says
  so: "52 weeks from 2026-11-23"), and this script makes that demo as `homeward -q plan` made it
  that week (the history to Sunday 2026-11-22, forecast offline), whatever today is.

Figures that are measurements (times, database sizes, statement counts) or need a stored
database's history (forecast rows over several runs) are not checked here.
"""

from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import nullcontext
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import Any
from unittest import mock

import pandas as pd
from sqlalchemy import func, select

README = Path(__file__).resolve().parents[1] / "README.md"
# The week the README's figures of today's demo are from: its plan's first Monday. The demo
# made on any day of that week (or the Sunday after) is the same data.
TODAY_DEMO_PLAN_START = date(2026, 11, 23)
NUMBER = r"[\d,]+(?:\.\d+)?"


@dataclass(frozen=True)
class Value:
    """A computed figure: a number matches a quoted one within `tolerance` (0.5: the quote is
    the number rounded; 1 for a quoted "about"), text must be equal."""

    value: float | str
    tolerance: float = 0.5

    def text(self) -> str:
        if isinstance(self.value, str):
            return self.value
        return f"{self.value:,.1f}" if self.value % 1 else f"{self.value:,.0f}"

    def matches(self, quoted: str) -> bool:
        if isinstance(self.value, str):
            return quoted == self.value
        try:
            number = float(quoted.replace(",", ""))
        except ValueError:
            return False
        return abs(number - self.value) <= self.tolerance + 1e-9


@dataclass(frozen=True)
class Figure:
    """A README phrase (regex; its named groups are quoted figures) and how to compute them.
    `inputs` are groups the computation reads from the README (a rate an example assumes),
    not figures to check."""

    name: str
    demo: str  # "2025" or "today" (dated: TODAY_DEMO_PLAN_START)
    pattern: str
    compute: Callable[[Demos, Mapping[str, str]], dict[str, Value]]
    inputs: tuple[str, ...] = ()


def readme_text(path: Path = README) -> str:
    """README.md with every run of whitespace (its line breaks) as one space."""
    return re.sub(r"\s+", " ", path.read_text(encoding="utf-8"))


def find_quoted(figure: Figure, text: str) -> dict[str, str]:
    """The figure's groups as quoted; ValueError unless its phrase occurs exactly once."""
    found = list(re.finditer(figure.pattern, text))
    if len(found) != 1:
        raise ValueError(
            f"{figure.name}: expected its phrase once in README.md, found {len(found)}: "
            f"{figure.pattern}"
        )
    return {k: v for k, v in found[0].groupdict().items() if v is not None}


def _number(text: str) -> float:
    return float(text.replace(",", ""))


# --- the demos ---------------------------------------------------------------------------


def _quiet(_message: str) -> None:
    """A pipeline run's progress, not printed here."""


def _then() -> datetime:
    """Noon UTC on the first day of the week the README's figures of today's demo are from."""
    return datetime.combine(TODAY_DEMO_PLAN_START, datetime.min.time(), UTC) + timedelta(hours=12)


class Demos:
    """The plans the figures are of, each made once, when first asked for."""

    def __init__(self, solver: str = "highs") -> None:
        self.solver = solver
        self._tmp = tempfile.TemporaryDirectory()

    def close(self) -> None:
        self._tmp.cleanup()

    def _pipeline(self, frame: pd.DataFrame, name: str, now: datetime | None) -> dict[str, Any]:
        """`frame` loaded into a new SQLite file with the demo's config and run through the
        pipeline once, as `homeward demo` does (bench/pipeline_demo.py), the clock at `now`."""
        from homeward import commands, pipeline, repository
        from homeward.ingest import observations_hash
        from homeward.settings import Settings
        from homeward.storage import make_engine, session_factory, transaction, upgrade
        from models.tables import ForecastRow, PlanRow

        folder = Path(self._tmp.name) / name
        folder.mkdir()
        settings = Settings(data_dir=folder, scheduler_enabled=False)
        engine = make_engine(settings.resolved_database_url)
        upgrade(engine)
        factory = session_factory(engine)
        with transaction(factory) as session:
            repository.store_observations(
                session, frame, repository.SYNTHETIC_DEMO_SOURCE, observations_hash(frame)
            )
            commands.store_demo_config(session)
        clock = mock.patch.object(pipeline, "utcnow", lambda: now) if now else nullcontext()
        with clock:
            outcome = pipeline.run_pipeline(factory, settings, trigger="demo", report=_quiet)
        with factory() as session:
            plan = session.scalars(select(PlanRow).order_by(PlanRow.id.desc())).first()
            if plan is None:
                raise RuntimeError(f"the demo's pipeline run stored no plan: {outcome.status}")
            of_run = ForecastRow.run_id == plan.run_id
            rows = session.scalar(select(func.count()).select_from(ForecastRow).where(of_run))
            series = select(func.count(func.distinct(ForecastRow.series_id))).where(of_run)
            active = repository.active_config(session)
            assert active is not None
            return {
                "factory": factory,
                "result": plan.result,
                "body": active.body,
                "observed_series": int(frame["unique_id"].nunique()),
                "forecast_rows": int(rows or 0),
                "forecast_series": int(session.scalar(series) or 0),
            }

    @cached_property
    def pipeline_2025(self) -> dict[str, Any]:
        """The demo to 2025 through the pipeline: `HOMEWARD_DEMO_LAST_YEAR=2025 homeward demo`."""
        from homeward.demo_series import generate_demo_observations

        return self._pipeline(generate_demo_observations(last_year=2025), "2025", None)

    @cached_property
    def pipeline_today(self) -> dict[str, Any]:
        """Today's demo, dated, through the pipeline: `homeward demo` in the week of
        TODAY_DEMO_PLAN_START."""
        from homeward.demo_series import generate_demo_through

        history_end = TODAY_DEMO_PLAN_START - timedelta(days=1)
        return self._pipeline(generate_demo_through(history_end), "today", _then())

    def what_if_2025(self, change: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
        """A what-if of the demo to 2025: its config changed, solved on the stored forecasts as
        `POST /v1/plans` solves one."""
        from homeward import planning

        body = copy.deepcopy(self.pipeline_2025["body"])
        change(body)
        with self.pipeline_2025["factory"]() as session:
            solved = planning.solve_config(session, body, self.solver)
        return solved.result.to_dict()

    @cached_property
    def fee_20_2025(self) -> dict[str, Any]:
        return self.what_if_2025(lambda body: body["fees"].update(dfg_fee_rate=0.2))

    # today's demo, dated: as `homeward -q plan` made it in the week of TODAY_DEMO_PLAN_START
    @cached_property
    def today_demand(self) -> tuple[pd.DataFrame, tuple[str, ...]]:
        import os

        from homeward import commands, demo_config
        from optimise.config import PlanningConfig

        config = PlanningConfig.model_validate(demo_config.demo_planning_config())
        then = _then()
        saved = os.environ.pop("HOMEWARD_DEMO_LAST_YEAR", None)
        try:
            with mock.patch.object(commands, "utcnow", lambda: then):
                return commands._demo_demand(config)
        finally:
            if saved is not None:
                os.environ["HOMEWARD_DEMO_LAST_YEAR"] = saved

    def plan_today(self, change: Callable[[dict[str, Any]], None] | None = None) -> Any:
        """Today's (dated) demo planned as `homeward plan` plans it, its config changed."""
        from homeward import demo_config, planning
        from optimise import plan
        from optimise.config import PlanningConfig
        from optimise.inputs import build_inputs

        body = demo_config.demo_planning_config()
        if change is not None:
            change(body)
        config = PlanningConfig.model_validate(body)
        demand, demo_warnings = self.today_demand
        inputs = build_inputs(config, demand)
        result = plan(inputs, solver=self.solver)
        notes = planning.config_level_warnings(config) + demo_warnings
        notes += planning.start_notes(demand, inputs, planning.FROM_DEMO)
        notes += planning.winter_notes(config, inputs)
        return result.with_extras(warnings=result.warnings + notes)

    @cached_property
    def today(self) -> dict[str, Any]:
        return dict(self.plan_today().to_dict())


# --- what each figure computes -----------------------------------------------------------


def _total(rows: list[dict[str, Any]], column: str, **where: str) -> float:
    return float(sum(r[column] or 0 for r in rows if all(r.get(k) == v for k, v in where.items())))


def _sweep(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    base, fee = demos.pipeline_2025["result"], demos.fee_20_2025
    rate = demos.pipeline_2025["body"]["fees"]["dfg_fee_rate"]
    return {
        "sim10": Value(base["simulated_dtoc_days"]),
        "lp10": Value(base["total_dtoc_days"]),
        "rate": Value(rate * 100),
        "sim20": Value(fee["simulated_dtoc_days"]),
        "lp20": Value(fee["total_dtoc_days"]),
    }


def _simulation(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    base = demos.pipeline_2025["result"]
    return {"sim": Value(base["simulated_dtoc_days"]), "lp": Value(base["total_dtoc_days"])}


def _risk_periods(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    result = demos.pipeline_2025["result"]
    risk = result["risk_periods"]
    needed = _total(risk, "contingency_hours")
    planned = _total(result["hours"], "hours")
    limits = {s: _total(risk, "hours_beyond_limits", service=s) for s in ("ot",)}
    return {
        "weeks": Value(float(result["periods"])),
        "rows": Value(float(len(risk))),
        "kb": Value(len(json.dumps(risk)) / 1024),
        "hours": Value(needed),
        "pct": Value(100 * needed / planned),
        "plan_hours": Value(planned),
        "idle": Value("none" if _total(risk, "idle_paid_hours_used") < 0.5 else "some"),
        "within": Value("none" if _total(risk, "extra_hours_within_limits") < 0.5 else "some"),
        "beyond_budget": Value(_total(risk, "hours_beyond_budget")),
        "cost_beyond": Value(_total(risk, "cost_beyond_budget_gbp")),
        "beyond_limits": Value(_total(risk, "hours_beyond_limits")),
        "ot_limits": Value(limits["ot"]),
        "ot_needed": Value(_total(risk, "contingency_hours", service="ot")),
        "works": Value(_total(risk, "extra_cases_arriving", service="dfg_works"), 0.05),
        "capital": Value(_total(risk, "contingency_capital_gbp", service="dfg_works")),
    }


def _high_year(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    risk = demos.pipeline_2025["result"]["demand_risk"]
    return {
        "high": Value(_total(risk, "dtoc_days", scenario="high")),
        "planned": Value(_total(risk, "dtoc_days", scenario="planned")),
    }


def _series(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    return {"observed": Value(float(demos.pipeline_2025["observed_series"]))}


def _forecast_rows(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    run = demos.pipeline_today
    return {
        "rows": Value(float(run["forecast_rows"])),
        "series": Value(float(run["forecast_series"])),
    }


def _financial_year(day: pd.Timestamp) -> str:
    start = day.year if day.month >= 4 else day.year - 1
    return f"{start}-{str(start + 1)[2:]}"


def _horizon(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    result = demos.today
    starts = [pd.Timestamp(r["ds"]) for r in result["revenue"]]
    year = quoted["year"]
    first = int(year[:4])
    mondays = pd.date_range(f"{first}-04-01", f"{first + 1}-03-31", freq="W-MON")
    return {
        "weeks": Value(float(result["periods"])),
        "start": Value(str(result["first_ds"])),
        "covered": Value(float(sum(_financial_year(s) == year for s in starts))),
        "year_weeks": Value(float(len(mondays))),
    }


def _budget_share(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    """The next financial year's money in the week across 1 April: the week's budget with the
    README's amounts less its budget with that year's amount 0, from the plan inputs."""
    from homeward import demo_config
    from optimise.config import PlanningConfig
    from optimise.inputs import build_inputs

    amounts = {
        quoted["year1"]: _number(quoted["amount1"]),
        quoted["year2"]: _number(quoted["amount2"]),
    }
    demand, _ = demos.today_demand

    def week_budgets(by_year: dict[str, float]) -> tuple[list[pd.Timestamp], list[float]]:
        body = demo_config.demo_planning_config()
        del body["revenue_budget_gbp_per_period"]
        body["revenue_budget_gbp_by_year"] = by_year
        inputs = build_inputs(PlanningConfig.model_validate(body), demand)
        return list(inputs.period_start), [float(x) for x in inputs.revenue_budget_gbp.sum(axis=0)]

    starts, full = week_budgets(amounts)
    _, without = week_budgets({quoted["year1"]: amounts[quoted["year1"]], quoted["year2"]: 0.0})
    week = next(
        i
        for i, s in enumerate(starts)
        if _financial_year(s) != _financial_year(s + pd.Timedelta(days=6))
    )
    april = pd.Timestamp(f"{starts[week].year}-04-01")
    return {
        "days": Value(float((starts[week] + pd.Timedelta(days=7) - april).days)),
        "week": Value(f"{starts[week].day} {starts[week]:%B %Y}"),
        "share": Value(full[week] - without[week]),
        "year": Value(_financial_year(starts[week])),
    }


def _cost_by_year(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    """Home care's rate rising from 1 April 2027 to the README's, its budget unchanged."""
    base = demos.today
    new_rate = _number(quoted["new"])

    def rising(body: dict[str, Any]) -> None:
        domcare = next(s for s in body["services"] if s["id"] == "domcare")
        old = domcare.pop("cost_per_hour_gbp")
        year = int(quoted["from_year"])  # the rate of the years before it, then the new one
        domcare["cost_per_hour_gbp_by_year"] = {
            f"{year - 1}-{str(year)[2:]}": old,
            f"{year}-{str(year + 1)[2:]}": new_rate,
        }

    changed = demos.plan_today(rising).to_dict()
    from homeward import demo_config

    old_rate = next(
        s for s in demo_config.demo_planning_config()["services"] if s["id"] == "domcare"
    )
    april = f"{quoted['from_year']}-04-01"

    def from_april(result: dict[str, Any]) -> float:
        return float(
            sum(
                r["hours"]
                for r in result["hours"]
                if r["service"] == "domcare" and r["ds"] >= april
            )
        )

    return {
        "old": Value(float(old_rate["cost_per_hour_gbp"])),
        "hours_new": Value(from_april(changed)),
        "hours_old": Value(from_april(base)),
        "wait_new": Value(changed["objective_weighted_wait_days"]),
        "wait_old": Value(base["objective_weighted_wait_days"]),
    }


def _fee_by_year(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    """The demo's DFG fee rising from 1 April to the README's rate (fees.by_year)."""
    base = demos.today
    year = int(quoted["from_year"])
    names = (f"{year - 1}-{str(year)[2:]}", f"{year}-{str(year + 1)[2:]}")
    rates = (_number(quoted["old"]) / 100, _number(quoted["new"]) / 100)

    def rising(body: dict[str, Any]) -> None:
        body["fees"] = {
            "by_year": {n: {"dfg_fee_rate": r} for n, r in zip(names, rates, strict=True)}
        }

    changed = demos.plan_today(rising).to_dict()

    def fee(result: dict[str, Any], name: str) -> float:
        return float(
            next(y["fee_income_gbp"] for y in result["revenue_by_year"] if y["year"] == name)
        )

    def staff_hours(result: dict[str, Any]) -> float:
        return float(sum(r["hours"] for r in result["hours"]))

    from homeward import demo_config

    cost = demo_config.demo_planning_config()["districts"][0]["cost_per_adaptation_gbp"]
    return {
        "fee_new": Value(fee(changed, names[1])),
        "fee_old": Value(fee(base, names[1])),
        "works": Value(fee(changed, names[1]) / (cost * rates[1])),
        "hours": Value(staff_hours(changed) - staff_hours(base)),
        "wait_new": Value(changed["objective_weighted_wait_days"]),
        "wait_old": Value(base["objective_weighted_wait_days"]),
    }


_LONGEST = re.compile(
    r"the longest is (?P<longest>[\d,]+) days for (?P<cls>\w+) cases in (?P<where>[\w ]+?) in the "
    r"week of (?P<week>\S+); its \w+ cases' average wait over the plan is (?P<avg>[\d,]+) days "
    r"\((?P<there>[\d,]+) in (?P=where)\)"
)


def _long_wait(demos: Demos) -> dict[str, Value]:
    """Reablement's longest wait, from the plan's own warning, and the service's averages
    (person-days over cases served, as district_waits has them)."""
    result = demos.today
    said = [
        m
        for w in result["warnings"]
        if "reablement waits pass" in w
        for m in [_LONGEST.search(w)]
        if m
    ]
    if len(said) != 1:
        raise ValueError(f"expected one reablement wait warning, found {len(said)}")
    m = said[0]
    waits = [r for r in result["district_waits"] if r["service"] == "reablement"]
    backlog = [
        r for r in result["backlog"] if r["service"] == "reablement" and r["priority"] == "urgent"
    ]
    urgent = max((r["avg_wait_days"] for r in backlog), default=0.0)
    there = next(
        r
        for r in result["district_waits"]
        if r["service"] == "reablement" and r["district"] == "north-warwickshire"
    )
    return {
        "longest": Value(_number(m["longest"])),
        "week": Value(m["week"]),
        "avg": Value(_number(m["avg"])),
        "there": Value(_number(m["there"])),
        "service": Value(_total(waits, "person_days") / _total(waits, "cases_served")),
        "urgent": Value("none" if urgent < 0.5 else f"{urgent:.0f} days"),
        "both": Value(float(there["avg_wait_days"])),
    }


def _long_wait_warning(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    got = _long_wait(demos)
    return {k: got[k] for k in ("longest", "week", "avg", "there", "service", "urgent")}


def _long_wait_dashboard(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    got = _long_wait(demos)
    return {k: got[k] for k in ("there", "longest", "both")}


def _works_waits(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    """Works waits by district (from the OT assessment), OT's, their sums, and each sum over
    its team's figure in the report (the README's north and south figures)."""
    from homeward import demo_config

    result = demos.today
    waits = {(r["service"], r["district"]): r["avg_wait_days"] for r in result["district_waits"]}
    districts = demo_config.demo_planning_config()["districts"]
    team = {d["id"]: d["team"] for d in districts}
    report = {"north": _number(quoted["north"]), "south": _number(quoted["south"])}
    works = [waits["dfg_works", d] for d in team]
    ot = [waits["ot", d] for d in team]
    total = [waits["dfg_works", d] + waits["ot", d] for d in team]
    over = [100 * (waits["dfg_works", d] + waits["ot", d]) / report[team[d]] - 100 for d in team]
    about = 1.0
    return {
        "lo": Value(min(works), about),
        "hi": Value(max(works), about),
        "ot_lo": Value(min(ot)),
        "ot_hi": Value(max(ot)),
        "sum_lo": Value(min(total), about),
        "sum_hi": Value(max(total), about),
        "pct_lo": Value(min(over)),
        "pct_hi": Value(max(over)),
    }


# the warning about OT when its weights alone hold it back: no period where more of its hours
# would cut waiting (with such periods it names them and the budget or limits spent there)
_WEIGHTS_ALONE = (
    "held back by the objective's weights, not by the budget or staff limits "
    "(more of its hours would go unused)"
)


def _ot_weights(demos: Demos, quoted: Mapping[str, str]) -> dict[str, Value]:
    """OT's weights at the README's small figure, from the plan's own warning about OT: its
    weeks when the warning says the weights alone hold OT back and no week spends the whole
    revenue budget (nothing computed otherwise, so the README's sentence fails here)."""
    weight = _number(quoted["weight"])

    def small(body: dict[str, Any]) -> None:
        ot = next(s for s in body["services"] if s["id"] == "ot")
        ot["wait_weight"] = ot["urgent_wait_weight"] = weight

    result = demos.what_if_2025(small)
    said = [
        w
        for w in result["warnings"]
        if w.startswith("demand outruns the plan") and "OT " in w and _WEIGHTS_ALONE in w
    ]
    spent = [r["period"] for r in result["revenue"] if r["headroom_gbp"] < 0.5]
    if len(said) != 1 or spent:
        return {}
    return {"weeks": Value(float(result["periods"]))}


FIGURES: tuple[Figure, ...] = (
    Figure(
        "sweep: simulated against LP delayed days at the demo's fee and at 20%",
        "2025",
        rf"\(`simulated_dtoc_days`, which can be several times the LP's: (?P<sim10>{NUMBER}) "
        rf"against (?P<lp10>{NUMBER}) at the demo's (?P<rate>\d+)% fee \(the demo to 2025\), "
        rf"(?P<sim20>{NUMBER}) against (?P<lp20>{NUMBER}) at 20%",
        _sweep,
    ),
    Figure(
        "simulation table: simulated against LP delayed days",
        "2025",
        rf"wait longer than the LP's fluid model, (?P<sim>{NUMBER}) against (?P<lp>{NUMBER}) on "
        r"the demo to 2025\)",
        _simulation,
    ),
    Figure(
        "risk_periods: rows, size, contingency hours and their split",
        "2025",
        rf"the demo's (?P<weeks>\d+) weeks \(`homeward demo` with `HOMEWARD_DEMO_LAST_YEAR=2025`\) "
        rf"give (?P<rows>{NUMBER}) rows, (?P<kb>\d+) KB of JSON, and a high year needs "
        rf"(?P<hours>{NUMBER}) contingency hours, (?P<pct>\d+)% of the plan's "
        rf"(?P<plan_hours>{NUMBER}) hours: (?P<idle>none) covered by idle hours \(the demo's "
        r"teams use every hour they pay for\) and (?P<within>none) within the limits and the "
        rf"budget, as the plan spends the whole revenue budget every week; "
        rf"(?P<beyond_budget>{NUMBER}) the teams' limits allow are beyond the budget \(GBP "
        rf"(?P<cost_beyond>{NUMBER}), all of which was called within the limits before the "
        rf"budget was checked\) and (?P<beyond_limits>{NUMBER}) are beyond the limits \(OT's "
        rf"(?P<ot_limits>{NUMBER}) of (?P<ot_needed>{NUMBER}), at its ceiling with no agency "
        rf"allowed\), and (?P<works>{NUMBER}) extra DFG works, GBP (?P<capital>{NUMBER}) of "
        r"capital\)",
        _risk_periods,
    ),
    Figure(
        "demand_risk: a high year's delayed days against the plan's",
        "2025",
        rf"`HOMEWARD_DEMO_LAST_YEAR=2025` as the tests run it, gave (?P<high>{NUMBER}) against "
        rf"(?P<planned>{NUMBER}\b)",
        _high_year,
    ),
    Figure(
        "the demo's series",
        "2025",
        r"with the demo's (?P<observed>\d+) series beside a council's",
        _series,
    ),
    Figure(
        "forecast rows a pipeline run stores",
        "today",
        rf"each pipeline run stores its forecasts \((?P<rows>{NUMBER}) rows on the demo's "
        r"(?P<series>\d+) series",
        _forecast_rows,
    ),
    Figure(
        "today's demo: its horizon and the weeks of a financial year it covers",
        "today",
        r"(?P<weeks>\d+) weeks from (?P<start>\d{4}-\d\d-\d\d), the demo's horizon, cover "
        r"(?P<covered>\d+) of (?P<year>\d{4}-\d\d)'s (?P<year_weeks>\d+)\)",
        _horizon,
        inputs=("year",),
    ),
    Figure(
        "today's demo: a week across 1 April, budget by year",
        "today",
        r"`\{\"(?P<year1>\d{4}-\d\d)\": (?P<amount1>\d+), \"(?P<year2>\d{4}-\d\d)\": "
        r"(?P<amount2>\d+)\}`\. Each period's budget is .{0,1500}?\((?P<days>\d+) days of the "
        rf"week of (?P<week>\d+ \w+ \d{{4}}): GBP (?P<share>{NUMBER}) of (?P<year>\d{{4}}-\d\d)'s "
        r"`budget_gbp` on the demo with the amounts above\)",
        _budget_share,
        inputs=("year1", "amount1", "year2", "amount2"),
    ),
    Figure(
        "today's demo: home care's rate rising from April 2027",
        "today",
        r"the demo with home care's GBP (?P<old>\d+) an hour rising to GBP (?P<new>\d+(?:\.\d+)?) "
        rf"from 1 April (?P<from_year>\d{{4}}), its budget unchanged: (?P<hours_new>{NUMBER}) "
        rf"hours of home care from April instead of (?P<hours_old>{NUMBER}), and "
        rf"(?P<wait_new>{NUMBER}) weighted waiting days instead of (?P<wait_old>{NUMBER})\)",
        _cost_by_year,
        inputs=("new", "from_year"),
    ),
    Figure(
        "today's demo: the DFG fee rising from April 2027 (fees.by_year)",
        "today",
        r"the demo with its (?P<old>\d+)% fee rising to (?P<new>\d+)% from 1 April "
        rf"(?P<from_year>\d{{4}}): \d{{4}}-\d\d's fee income GBP (?P<fee_new>{NUMBER}) instead of "
        rf"(?P<fee_old>{NUMBER}) on the same (?P<works>\d+) works cases, spent on "
        rf"(?P<hours>{NUMBER}) more staff hours over the plan, and (?P<wait_new>{NUMBER}) "
        rf"weighted waiting days instead of (?P<wait_old>{NUMBER})",
        _fee_by_year,
        inputs=("old", "new", "from_year"),
    ),
    Figure(
        "today's demo: reablement's longest wait (warnings)",
        "today",
        r"on the demo, standard reablement cases in North Warwickshire wait (?P<longest>\d+) days "
        r"in the week of (?P<week>\d{4}-\d\d-\d\d) while reablement's standard cases average "
        r"(?P<avg>\d+) days, (?P<there>\d+) there, and the service (?P<service>\d+) over both "
        r"classes, its urgent cases waiting (?P<urgent>none|\d+ days)",
        _long_wait_warning,
    ),
    Figure(
        "today's demo: reablement's longest wait (plan summary)",
        "today",
        r"on the demo, standard reablement cases in North Warwickshire average (?P<there>\d+) "
        r"days and wait up to (?P<longest>\d+) in a week, where both classes there average "
        r"(?P<both>\d+)\)",
        _long_wait_dashboard,
    ),
    Figure(
        "today's demo: works waits by district",
        "today",
        r"the demo plan's works waits, counted from the OT assessment, come out at about "
        r"(?P<lo>\d+)-(?P<hi>\d+) days by district, .{0,200}?counted from the OT referral, the "
        r"demo's OT wait of (?P<ot_lo>\d+)-(?P<ot_hi>\d+) days before them makes about "
        r"(?P<sum_lo>\d+)-(?P<sum_hi>\d+) days by district, (?P<pct_lo>\d+)-(?P<pct_hi>\d+)% "
        r"over its team's figure, (?P<north>\d+) days for the north and (?P<south>\d+) for the "
        r"south\)",
        _works_waits,
        inputs=("north", "south"),
    ),
    Figure(
        "OT's weights at 1e-06: the weeks the budget holds OT back",
        "2025",
        r"on the demo to 2025 with OT's weights at (?P<weight>[\d.e-]+) the warning names the "
        r"weights alone: more of OT's hours would go unused, and the revenue budget, spent in "
        r"none of the (?P<weeks>\d+) weeks, holds it back in none",
        _ot_weights,
        inputs=("weight",),
    ),
)


@dataclass(frozen=True)
class Row:
    figure: str
    group: str
    quoted: str
    computed: str
    match: bool


def check(figure: Figure, quoted: Mapping[str, str], demos: Demos) -> list[Row]:
    """Each quoted group of the figure against its computed value."""
    computed = figure.compute(demos, quoted)
    rows = []
    for group, text in quoted.items():
        if group in figure.inputs:
            continue
        value = computed.get(group)
        if value is None:
            rows.append(Row(figure.name, group, text, "(not computed)", False))
        else:
            rows.append(Row(figure.name, group, text, value.text(), value.matches(text)))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--readme", type=Path, default=README)
    parser.add_argument("--parse", action="store_true", help="only find each quoted figure")
    parser.add_argument("--solver", default="highs")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    text = readme_text(args.readme)
    found: list[tuple[Figure, dict[str, str]]] = []
    failed = False
    for figure in FIGURES:
        try:
            found.append((figure, find_quoted(figure, text)))
        except ValueError as exc:
            print(f"NOT FOUND {exc}")
            failed = True
    if args.parse:
        for figure, quoted in found:
            print(f"{figure.demo:>5}  {figure.name}: {quoted}")
        return 1 if failed else 0
    demos = Demos(args.solver)
    start = time.perf_counter()
    try:
        print(f"{'demo':>5}  {'figure / group':<70} {'quoted':>12} {'computed':>12}  match")
        for figure, quoted in found:
            for row in check(figure, quoted, demos):
                failed |= not row.match
                label = f"{row.figure[:55]} / {row.group}"
                print(
                    f"{figure.demo:>5}  {label:<70} {row.quoted:>12} {row.computed:>12}  "
                    f"{'yes' if row.match else 'NO'}"
                )
    finally:
        demos.close()
    print(f"{'MISMATCH' if failed else 'all match'} ({time.perf_counter() - start:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
