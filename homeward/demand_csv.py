"""Read a demand CSV (service, district, ds, cases [, q90 ..., winter_index, normal_cases]) for
`homeward plan --demand`, or the forecasts `homeward forecast --output` writes."""

from __future__ import annotations

import difflib
import logging
import re
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from homeward.errors import Problem, ValidationFailed, in_reading_order
from homeward.ingest import (
    MAX_COUNT,
    WEEKLY,
    found_date,
    found_unread_date,
    found_value,
    parse_count_cells,
    read_csv_as_text,
    read_iso_dates,
)
from homeward.planning import (
    REFERRAL_ID,
    REFERRALS_PREFIX,
    pressure_index,
    pressure_warnings,
    with_winter_pressure,
)
from optimise.config import PlanningConfig, WinterConfig

log = logging.getLogger(__name__)
REQUIRED = ("service", "district", "ds", "cases")
QUANTILE_COLUMN = re.compile(r"^q\d{2,3}$")  # q90, q975: forecast quantiles for winter planning
PRESSURE = ("winter_index", "normal_cases")  # for a config's winter.pressure_series
EXPECTED_HEADER = "a CSV file with the header " + ",".join(REQUIRED)


@dataclass(frozen=True)
class DemandFile:
    """A demand file read for a plan, and what its plan should warn of: the winter pressure
    read from a forecasts file without history (`_with_pressure`)."""

    demand: pd.DataFrame
    warnings: tuple[str, ...] = ()


def read_demand_csv(path: Path, config: PlanningConfig | None = None) -> pd.DataFrame:
    """The demand of `read_demand_file` (its warnings are the plan's, not the frame's)."""
    return read_demand_file(path, config).demand


def read_demand_file(
    path: Path, config: PlanningConfig | None = None, history: pd.DataFrame | None = None
) -> DemandFile:
    """Parse and validate once; rows are numbered as in the file (header is line 1).
    `history`: the observations the forecasts were made from (`homeward plan --history`), read
    for the winter index and normal levels as the pipeline reads its stored history.

    Besides the required columns, quantile columns named like `q90` are kept (the planning
    config's `winter.quantile_column` names one), and so are `winter_index` and `normal_cases`
    (for `winter.pressure_series`, see WinterConfig); any other column is refused. With a
    `config`, a service or district that differs from one of the config's only in case, spaces
    or punctuation is refused at its row, and one spelt nearly as a config id no row has at its
    first row (a typo would otherwise leave that district's demand out); other ids are left
    out of the plan with a warning, unless a config id then has no row (see `_unknown_ids`).
    """
    table = read_csv_as_text(path, str(path), expected_header=EXPECTED_HEADER, columns=REQUIRED)
    raw = table.cells  # indexed by file line (header = line 1); ragged rows left out
    pressure = None
    forecasts = set(FORECAST_COLUMNS) <= set(raw.columns)
    if forecasts:
        pressure = _pressure_forecast(raw, path, config)
        read = (
            None
            if pressure is None or config is None or config.winter is None
            else config.winter.pressure_series
        )
        raw = _from_forecasts(raw, path, read)
    _check_columns(raw, path)
    ds = read_iso_dates(raw["ds"])
    problems = [*table.problems] + [
        Problem(
            int(raw.index[int(i)]),
            "ds",
            "a date YYYY-MM-DD",
            found_unread_date(str(raw["ds"].iloc[i]).strip()),
        )
        for i in np.flatnonzero(ds.isna())
    ]
    if config is not None and config.period_days == DAYS_PER_WEEK:
        problems += _not_mondays(raw, ds)
    numbers = {}
    for column in [c for c in raw.columns if c not in REQUIRED[:3]]:
        numbers[column], found = _counts(raw[column], column)
        problems += found
    problems += _duplicate_rows(raw, ds)
    if config is not None:
        where = FORECAST_COLUMNS[0] if forecasts else None
        services = tuple(s.id for s in config.services)
        districts = tuple(d.id for d in config.districts)
        problems += _unknown_ids(raw, _Ids("service", services, where or "service"))
        problems += _unknown_ids(raw, _Ids("district", districts, where or "district"))
    if problems:
        raise ValidationFailed(in_reading_order(problems), str(path))
    demand = pd.DataFrame(
        {
            "service": raw["service"].str.strip(),
            "district": raw["district"].str.strip(),
            "ds": ds,
            **numbers,
        }
    ).reset_index(drop=True)
    if pressure is not None and config is not None and config.winter is not None:
        return _with_pressure(demand, pressure, config.winter, path, history)
    return DemandFile(demand)


def _pressure_forecast(
    raw: pd.DataFrame, path: Path, config: PlanningConfig | None
) -> pd.DataFrame | None:
    """The forecast rows of the config's winter.pressure_series in a `homeward forecast`
    output, as numbers, for the winter index the pipeline would raise winter demand by; None
    when the config has no pressure series. A file without its rows is refused: the plan
    would otherwise fail for want of columns a forecast file cannot have."""
    winter = config.winter if config is not None else None
    if winter is None or winter.pressure_series is None:
        return None
    rows = raw[raw["unique_id"].str.strip() == winter.pressure_series]
    columns = ["ds", "mean"]
    if rows.empty:
        raise ValidationFailed(
            (
                Problem(
                    None,
                    "unique_id",
                    f"forecast rows of the config's winter.pressure_series "
                    f"{winter.pressure_series!r} beside the referral forecasts (forecast its "
                    "history in the same `homeward forecast` run), or a config without "
                    "winter.pressure_series",
                    "none",
                ),
            ),
            str(path),
        )
    frame = rows[columns].copy()
    problems = []
    for column in columns[1:]:
        frame[column], found = _counts(rows[column], column)
        problems += found
    frame["ds"] = read_iso_dates(rows["ds"])
    problems += [
        Problem(int(line), "ds", "a date YYYY-MM-DD", _found(rows.at[line, "ds"]))
        for line in rows.index[frame["ds"].isna()]
    ]
    if problems:
        raise ValidationFailed(in_reading_order(problems), str(path))
    return frame.assign(unique_id=winter.pressure_series).reset_index(drop=True)


def _with_pressure(
    demand: pd.DataFrame,
    forecast: pd.DataFrame,
    winter: WinterConfig,
    path: Path,
    history: pd.DataFrame | None = None,
) -> DemandFile:
    """Demand with winter_index and normal_cases from the pressure series' forecast, as the
    pipeline computes them (planning.pressure_index: its forecast mean over the centred annual
    mean around each month; planning.with_winter_pressure), reading `history` (`--history`)
    before the forecast as the pipeline reads its stored history. Without the pressure
    series' history, the forecast's first half year takes its first full centred year's mean
    (a forecast of a year or less: its mean), and a q90 or q975 `pressure_level` plans an
    average winter (a bad winter is measured from history: planning.bad_winter_note); without
    the referrals' history, each district's normal level (`normal_cases`) is the centred
    annual mean of its forecast alone: a forecast of a year or less takes its mean in every
    period, which for growing referrals sets a plan's first winter half a year's growth high.
    Each is a warning on the plan. A forecast under 11 months has no year to set it against,
    and is refused."""
    ds = forecast["ds"]
    if ds.max() < ds.min() + pd.DateOffset(months=11):
        raise ValidationFailed(
            (
                Problem(
                    None,
                    "ds",
                    f"a forecast of winter.pressure_series {winter.pressure_series!r} a year "
                    "ahead or more (its winter index is over the annual mean around each month)",
                    f"{ds.min():%Y-%m-%d} to {ds.max():%Y-%m-%d}",
                ),
            ),
            str(path),
        )
    series = winter.pressure_series
    observed = (
        history
        if history is not None
        else pd.DataFrame({"unique_id": [], "ds": pd.Series(dtype="datetime64[ns]"), "y": []})
    )
    pressure = observed[observed["unique_id"] == series]
    referrals = observed[observed["unique_id"].astype(str).str.startswith(REFERRALS_PREFIX)]
    index = pressure_index(forecast, pressure, winter.pressure_level, winter.months)
    warnings = []
    given = "(`homeward plan --history`: the observations the forecasts were made from)"
    if pressure.empty:
        warnings.append(
            f"winter.pressure_series {series!r}: without its history {given}, the winter index "
            "of the forecast's first half year is set against the forecast's first whole year "
            "(a growing series reads calmer there, a falling one busier, than in the pipeline's "
            "plan, which reads the history before the forecast)"
        )
    if referrals.empty:
        warnings.append(
            f"normal_cases: without the referrals' history {given}, each district's normal "
            "winter level is the centred annual mean of its forecast alone (for growing "
            "referrals a plan's first winter is set up to half a year's growth high)"
        )
    warnings.extend(pressure_warnings(demand, index, pressure, winter))
    log.info("winter demand raised by %s's forecast in the file", series)
    normal = with_winter_pressure(demand, index, None if referrals.empty else referrals)
    return DemandFile(normal, tuple(warnings))


# `homeward forecast --output`'s columns, read as demand: the mean is the cases planned for,
# the 80% and 95% bounds the quantiles (as the pipeline plans from its stored forecasts)
FORECAST_COLUMNS = ("unique_id", "ds", "mean")
FORECAST_QUANTILES = {"lo-80": "q10", "hi-80": "q90", "lo-95": "q025", "hi-95": "q975"}


def _from_forecasts(raw: pd.DataFrame, path: Path, pressure: str | None = None) -> pd.DataFrame:
    """A `homeward forecast` output as demand text cells: `referrals/<service>/<district>`
    split into service and district, `mean` as cases and the interval bounds as quantiles
    (q10, q90, q025, q975), each row keeping its file line. Rows of other series (team and
    area totals, DTOC days) are not demand: left out, and logged, but for the `pressure`
    series, read already for its winter index (logged as left out, it read as unused)."""
    ids = raw["unique_id"].str.strip()
    parts = ids.str.extract(REFERRAL_ID)  # as the pipeline reads its stored forecasts
    keep = parts[0].notna()
    others = sorted(set(ids[~keep]) - {pressure})
    if not keep.any():
        raise ValidationFailed(
            (
                Problem(
                    int(raw.index[0]) if len(raw) else 2,
                    "unique_id",
                    "referral forecasts referrals/<service>/<district> (a forecast of the "
                    "referral histories, as `homeward forecast` writes it)",
                    f"only other series: {', '.join(others[:3])}" if others else "no rows",
                ),
            ),
            str(path),
        )
    if others:
        log.warning(
            "forecasts of %d series that are not referrals left out: %s",
            len(others),
            ", ".join(others[:5]) + (" ..." if len(others) > 5 else ""),
        )
    rows = raw.loc[keep]
    frame = pd.DataFrame(
        {
            "service": parts.loc[keep, 0],
            "district": parts.loc[keep, 1],
            "ds": rows["ds"],
            "cases": rows["mean"],
            **{q: rows[c] for c, q in FORECAST_QUANTILES.items() if c in rows.columns},
        },
        index=rows.index,
    )
    log.info("read %s as forecasts: each referral series' mean is its demand", path)
    return frame


DAYS_PER_WEEK = 7
EXPECTED_MONDAY = (
    "a Monday YYYY-MM-DD (the config's periods are weeks, period_days 7, each named by its "
    "Monday as the weekly referral histories are)"
)


def _not_mondays(raw: pd.DataFrame, ds: pd.Series) -> list[Problem]:
    """Weekly demand dated by another day, such as "week ending" Sundays, named at its row
    with the Monday meant: planned as it was, every period would start on that day, and the
    plan's weeks would not be the weeks of the referral histories and forecasts."""
    off = np.flatnonzero(ds.notna() & (ds.dt.dayofweek != 0))
    texts, lines = raw["ds"].tolist(), raw.index.tolist()
    return [
        Problem(
            int(lines[i]),
            "ds",
            EXPECTED_MONDAY,
            found_date(str(texts[i]).strip(), ds.iloc[i], WEEKLY),
        )
        for i in off
    ]


def _duplicate_rows(raw: pd.DataFrame, ds: pd.Series) -> list[Problem]:
    """A second row for a (service, district, ds), named at its row with the first's."""
    services = raw["service"].str.strip().tolist()
    districts = raw["district"].str.strip().tolist()
    lines = raw.index.tolist()
    first_row: dict[tuple[str, str, pd.Timestamp], int] = {}
    problems = []
    for i, when in enumerate(ds.tolist()):
        if pd.isna(when):
            continue  # already refused as a date
        key = (str(services[i]), str(districts[i]), when)
        if key not in first_row:
            first_row[key] = lines[i]
            continue
        found = f"a second row for {key[0]}/{key[1]}/{when:%Y-%m-%d}"
        expected = "one row per service, district and ds"
        problems.append(
            Problem(lines[i], "ds", expected, f"{found} (first on row {first_row[key]})")
        )
    return problems


# How near an id of the file must be to one of the config's to be taken for it misspelt:
# difflib's ratio, as POST /v1/plans and POST /v1/configs name the nearest stored district id
# (api/routes/configs.py) and a pipeline run a forecast its config leaves out
# (planning._refuse_unforecast). 'rutlnd' is 0.92 of 'rutland'.
NEAR_ID_CUTOFF = 0.8
MOST_IDS_SAID = 12


@dataclass(frozen=True)
class _Ids:
    """The config's ids of one demand column, and the file's column they are read from
    (`unique_id` in a `homeward forecast` output, else the same)."""

    column: str
    known: tuple[str, ...]
    where: str

    def field(self, config_id: str) -> str:
        """The config field holding `config_id`, as a form or an editor finds it."""
        return f"{self.column}s[{self.known.index(config_id)}].id"

    def said(self, cell: str) -> str:
        return repr(cell) if self.where == self.column else f"{self.column} {cell!r}"

    def listed(self) -> str:
        more = len(self.known) - MOST_IDS_SAID
        return ", ".join(self.known[:MOST_IDS_SAID]) + (f" and {more} more" if more > 0 else "")


def _unknown_ids(raw: pd.DataFrame, ids: _Ids) -> list[Problem]:
    """Rows whose id is not one of the config's. A near miss of one is refused: the same
    letters once case, spaces and punctuation are ignored (at each row), or spelt nearly as a
    config id no row has (at its first row: 'rutlnd' for the config's 'rutland', or the file
    right and the config wrong); the plan would otherwise leave its rows out and fail for want
    of the config's id, naming neither. Other ids are another area's rows, left out of the plan
    and logged, as the pipeline does with districts it does not plan: an id near one the file
    has rows of too ('nottinghamshire' beside 'nottingham') is one of them. But a config id
    with no row while such ids are left out is refused, naming them: one may be its rows
    under another id."""
    cells = raw[ids.column].str.strip()
    squeezed = {_squeeze(k): k for k in ids.known}
    meant = cells.map(lambda cell: squeezed.get(_squeeze(cell)))
    unknown = ~cells.isin(ids.known)
    problems = _exact_misses(cells, meant, ids)
    named = set(meant.dropna())  # the config's ids the file has rows of, if misspelt in case
    lacking = [k for k in ids.known if k not in named]
    others = {}
    for cell, (line, count) in _first_rows(cells[unknown & meant.isna()]).items():
        near = difflib.get_close_matches(cell, lacking, n=1, cutoff=NEAR_ID_CUTOFF)
        if near:
            problems.append(_misspelt(ids, line, count, cell, near[0]))
            named.add(near[0])
        else:
            others[cell] = line
    if others:
        log.warning("demand for %s %s is not in the config; left out", ids.column, sorted(others))
        problems += [_no_rows(ids, k, others) for k in ids.known if k not in named]
    return problems


def _exact_misses(cells: pd.Series, meant: pd.Series, ids: _Ids) -> list[Problem]:
    """Each row whose id is a config id (`meant`) but for case, spaces or punctuation."""
    wrong = cells[~cells.isin(ids.known) & meant.notna()]
    return [
        Problem(line, ids.where, f"{config_id!r} (the config's {ids.column} ids are exact)", said)
        for line, said, config_id in zip(
            wrong.index.tolist(), map(ids.said, wrong), meant[wrong.index], strict=True
        )
    ]


def _first_rows(cells: pd.Series) -> dict[str, tuple[int, int]]:
    """Each id's first file line and number of rows, in the file's order."""
    return {
        str(cell): (int(rows.index[0]), len(rows))
        for cell, rows in cells.groupby(cells, sort=False)
    }


def _misspelt(ids: _Ids, line: int, count: int, cell: str, near: str) -> Problem:
    rows = "on this row" if count == 1 else f"on {count} rows, this the first"
    return Problem(
        line,
        ids.where,
        f"one of the config's {ids.column} ids ({ids.listed()})",
        f"{ids.said(cell)} {rows}, spelt nearly as the config's {near!r} ({ids.field(near)}), "
        "which no row has: the file or the config misspells it",
    )


def _no_rows(ids: _Ids, config_id: str, others: dict[str, int]) -> Problem:
    """A config id with no row, while the file's rows of ids the config lacks are left out."""
    said = [f"{ids.said(cell)} (first on row {line})" for cell, line in others.items()]
    more = f" and {len(said) - 5} more" if len(said) > 5 else ""
    return Problem(
        None,
        ids.where,
        f"rows of every {ids.column} of the config, in its ids",
        f"none of {config_id!r} ({ids.field(config_id)}), while rows of {ids.column}s not in "
        f"the config are left out: {', '.join(said[:5])}{more}; if one of them is "
        f"{config_id!r}, write the config's id there (or the file's in the config)",
    )


def _squeeze(text: str) -> str:
    return re.sub(r"[^0-9a-z]", "", text.lower())


def _check_columns(raw: pd.DataFrame, path: Path) -> None:
    problems = [
        Problem(1, c, "a column of that name", "no such column")
        for c in REQUIRED
        if c not in raw.columns
    ]
    problems += [
        Problem(
            1,
            c,
            "only " + ", ".join(REQUIRED) + ", quantiles such as q90, " + " and ".join(PRESSURE),
            "an unknown column",
        )
        for c in raw.columns
        if c not in REQUIRED and c not in PRESSURE and not QUANTILE_COLUMN.match(c)
    ]
    if problems:
        raise ValidationFailed(tuple(problems), str(path))


def _counts(text: pd.Series, column: str) -> tuple[pd.Series, list[Problem]]:
    """Cases (and their quantiles, index and normal level) per period: numbers from 0 to the
    ceiling every count Homeward reads has (``ingest.MAX_COUNT``, why is said there), read by
    `homeward import`'s parser, so a cell one accepts ('5' with a no-break space after it, as
    a spreadsheet may save) the other does too, and a refused one is named in the same words."""
    values, problems = parse_count_cells(text, text.index.to_numpy(dtype="int64"), column)
    expected = f"a number from 0 to {MAX_COUNT:,}"
    return values.astype(float), [replace(p, expected=expected) for p in problems]


def _found(cell: object) -> str:
    """A refused cell as the message shows it: quoted, or "a blank value" (not an empty quote
    or nothing at all after "found"), with the hints `homeward import` gives a count."""
    return found_value(str(cell).strip())
