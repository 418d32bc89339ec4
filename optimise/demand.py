"""Demand: validate the long forecast frame and turn it into a (service, district, period) cube."""

from __future__ import annotations

import itertools
import logging

import numpy as np
import numpy.typing as npt
import pandas as pd

from optimise.config import PlanningConfig
from optimise.errors import PlanInputError

DEMAND_COLUMNS = ("service", "district", "ds", "cases")
log = logging.getLogger(__name__)


PRESSURE_COLUMNS = ("winter_index", "normal_cases")
FACTOR_COLUMNS = ("low_factor", "high_factor")  # a low and a high year, for the demand risk
# how far above 1 an index must be to raise demand: a ratio of two equal sums added in another
# order reads 1.0000000000000002, which lifted every winter period to the normal level
RAISE_TOLERANCE = 1e-9
_EXPECTED = {"winter_index": "an index >= 0"} | dict.fromkeys(FACTOR_COLUMNS, "a factor >= 0")


def demand_cube(
    config: PlanningConfig,
    demand: pd.DataFrame,
    services: tuple[str, ...],
    districts: tuple[str, ...],
    demand_from: str = "the demand",
) -> tuple[
    tuple[pd.Timestamp, ...],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64],
    npt.NDArray[np.float64] | None,
]:
    """Period starts (first `horizon_periods` ds), the demand planned for and the forecast
    mean, in cases, each shape (S, D, T), and the winter index applied (S, D, T; NaN outside
    the winter months), or None without a `winter.pressure_series`.

    In the winter months of `config.winter` the planned demand is the highest of the forecast,
    its quantile column and the normal level raised by the winter index (see WinterConfig);
    elsewhere it is the forecast mean. `demand_from` says where the demand came from, for a
    horizon it does not reach (`the newest forecasts`).
    """
    winter_cfg = config.winter
    frame = _checked(demand, _winter_columns(config))
    starts = _periods(frame, config.horizon_periods, services, districts, demand_from)
    _check_spacing(sorted(ts for ts in frame["ds"].unique() if ts >= starts[0]), config.period_days)
    frame = frame[frame["ds"].isin(starts)]
    mean = _pivot(frame, "cases", services, districts, starts)
    if winter_cfg is None:
        return tuple(starts), mean, mean, None
    winter = np.array([ts.month in winter_cfg.months for ts in starts])
    applied = None
    planned = mean
    if winter_cfg.quantile_column is not None:
        planned = np.maximum(
            planned, _pivot(frame, winter_cfg.quantile_column, services, districts, starts)
        )
    if winter_cfg.pressure_series is not None:
        index = _pivot(frame, "winter_index", services, districts, starts)
        normal = _pivot(frame, "normal_cases", services, districts, starts)
        elasticity = {str(k): v for k, v in winter_cfg.pressure_elasticity.items()}
        rise = np.array([elasticity.get(s, 1.0) for s in services])
        raised = normal * (1.0 + rise[:, None, None] * (index - 1.0))
        # elasticity 0: not raised at all
        pressed = (rise[:, None, None] > 0.0) & (index > 1.0 + RAISE_TOLERANCE)
        planned = np.where(pressed, np.maximum(planned, raised), planned)
        applied = np.where(winter[None, None, :], index, np.nan)
    return tuple(starts), np.where(winter[None, None, :], planned, mean), mean, applied


def risk_factors(
    demand: pd.DataFrame, services: tuple[str, ...], districts: tuple[str, ...]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]] | None:
    """Per service and district (S, D), what a low and a high year multiply its demand by: one
    plus the 10% and 90% quantiles of how far its forecast's backtest totals missed
    (forecast/totals.py), for the plan's demand-risk rows (optimise/risk.py). None when the
    demand lacks either column (a demand file may give the mean only). Present, they are
    checked as the cases are, and must be one number per service and district."""
    if not all(c in demand.columns for c in FACTOR_COLUMNS):
        return None
    frame = _checked(demand, {c: "" for c in FACTOR_COLUMNS})
    keys = ["service", "district"]
    for column in FACTOR_COLUMNS:
        varying = frame.groupby(keys)[column].nunique()
        if (varying > 1).any():
            service, district = varying[varying > 1].index[0]
            raise PlanInputError(
                f"demand.{column} (service {service}, district {district})",
                "one value for every period of a series",
                f"{varying.max()} different values",
            )
    full = pd.MultiIndex.from_product([services, districts], names=keys)
    first = frame.groupby(keys)[list(FACTOR_COLUMNS)].first().reindex(full)  # cube has every one
    shape = (len(services), len(districts))
    low, high = (first[c].to_numpy(dtype=np.float64).reshape(shape) for c in FACTOR_COLUMNS)
    return low, high


def _winter_columns(config: PlanningConfig) -> dict[str, str]:
    """The demand columns the config's winter settings need, each with why and what to do."""
    winter_cfg = config.winter
    if winter_cfg is None:
        return {}
    why: dict[str, str] = {}
    if winter_cfg.quantile_column is not None:
        why[winter_cfg.quantile_column] = (
            f"winter.quantile_column in the config is {winter_cfg.quantile_column!r}: add that "
            "quantile column to the demand, or remove winter.quantile_column"
        )
    if winter_cfg.pressure_series is not None:
        reason = (
            f"winter.pressure_series in the config is {winter_cfg.pressure_series!r}: add "
            "columns winter_index and normal_cases to the demand (each row's winter_index the "
            "pressure series' index for the month the period starts in, 1.0 a normal month, "
            "and normal_cases the district's deseasonalised cases a period, the "
            "level the index raises; a file `homeward forecast --output` wrote with that "
            "series in it gives both), or remove winter.pressure_series "
            "(winter.quantile_column plans winter from a forecast quantile column instead)"
        )
        why |= dict.fromkeys(PRESSURE_COLUMNS, reason)
    return why


def _checked(demand: pd.DataFrame, winter_columns: dict[str, str]) -> pd.DataFrame:
    needed = [*DEMAND_COLUMNS, *winter_columns]
    missing = [c for c in needed if c not in demand.columns]
    if missing:
        reasons = list(dict.fromkeys(winter_columns[c] for c in missing if c in winter_columns))
        because = "".join(f"; needed because {reason}" for reason in reasons)
        raise PlanInputError("demand", f"columns {needed}", f"no column {missing}{because}")
    frame = demand.loc[:, needed].copy()
    frame["ds"] = pd.to_datetime(frame["ds"])
    for column in needed[3:]:
        values = pd.to_numeric(frame[column], errors="coerce")
        bad = frame[values.isna() | (values < 0)]
        if len(bad):
            row = bad.iloc[0]
            raise PlanInputError(
                f"demand.{column} (service {row['service']}, district {row['district']}, "
                f"ds {row['ds']:%Y-%m-%d})",
                _EXPECTED.get(column, "a number of cases >= 0"),
                _shown(row[column]),
            )
        frame[column] = values.astype(float)
    return frame


def _shown(value: object) -> str:
    """A found value as the user wrote it: -1.0, not np.float64(-1.0)."""
    return repr(value.item() if isinstance(value, np.generic) else value)


def late_start(
    demand: pd.DataFrame, services: tuple[str, ...], districts: tuple[str, ...]
) -> str | None:
    """A warning when the plan's services and districts do not all start together, so the plan
    starts with the latest (see `demand_cube`): where it starts, and which series are out of
    step (the fewer: those starting late, or those whose earlier periods are left out); None
    when all start together. `demand` has the DEMAND_COLUMNS."""
    firsts = _firsts(demand, services, districts)
    if firsts.empty or firsts.max() == firsts.min():
        return None
    common = firsts.max()
    late, early = firsts[firsts == common], firsts[firsts < common]
    plan_starts = (
        f"the plan starts {common:%Y-%m-%d}, the first period every service and district has "
        "demand for"
    )
    if len(late) <= len(early):
        return (
            f"demand for {_named(late)} starts {common:%Y-%m-%d}, later than the rest (from "
            f"{early.min():%Y-%m-%d}): {plan_starts}"
        )
    return (
        f"demand for {_named(early)} starts {early.min():%Y-%m-%d}, earlier than the rest "
        f"(from {common:%Y-%m-%d}): {plan_starts}, and leaves out its earlier periods"
    )


def _named(firsts: pd.Series, most: int = 5) -> str:
    """'service/district' of the first `most` series, and how many more."""
    names = [f"{s}/{d}" for s, d in firsts.index]
    more = f" and {len(names) - most} more" if len(names) > most else ""
    return ", ".join(names[:most]) + more


def _firsts(
    demand: pd.DataFrame, services: tuple[str, ...], districts: tuple[str, ...]
) -> pd.Series:
    """The first ds of each (service, district) of the plan in `demand`."""
    ours = demand[demand["service"].isin(services) & demand["district"].isin(districts)]
    return pd.to_datetime(ours["ds"]).groupby([ours["service"], ours["district"]]).min()


def _periods(
    frame: pd.DataFrame,
    horizon: int,
    services: tuple[str, ...],
    districts: tuple[str, ...],
    demand_from: str = "the demand",
) -> list[pd.Timestamp]:
    """The first `horizon` periods from the first one every service and district has demand
    for: a district whose history ended a week early has a forecast starting a week early, and
    the plan starts with the others rather than fail for the week they lack."""
    firsts = _firsts(frame, services, districts)
    common = firsts.max() if len(firsts) else None
    starts = sorted(frame["ds"].unique())
    if common is not None and common > starts[0]:
        note = late_start(frame, services, districts)
        if note is not None:  # not when only series outside the plan start earlier
            log.warning("%s", note)
        starts = [ts for ts in starts if ts >= common]
    if len(starts) < horizon:
        late = common is not None and common > pd.Timestamp(frame["ds"].min())
        reach = _reach([pd.Timestamp(ts) for ts in starts], demand_from, late)
        raise PlanInputError("horizon_periods", reach, str(horizon))
    return [pd.Timestamp(ts) for ts in starts[:horizon]]


def _reach(starts: list[pd.Timestamp], demand_from: str, late: bool) -> str:
    """What a horizon longer than the demand may be, in words a planner reads: `at most 52:
    the weeks of the newest forecasts from the plan's start (2026-11-23 to 2027-11-15)`;
    `late`: the plan starts after some district's demand does, when every one has some."""
    gaps = {(b - a).days for a, b in itertools.pairwise(starts)}
    if gaps and gaps <= {7}:
        unit = "weeks"
    elif gaps and gaps <= set(MONTH_DAYS) and all(ts.day == 1 for ts in starts):
        unit = "months"
    else:
        unit = "periods"
    if not starts:
        return f"at most 0: {demand_from} has no period to plan"
    when = f", the first {unit[:-1]} every service and district has demand for," if late else ""
    span = f"{starts[0]:%Y-%m-%d}{when} to {starts[-1]:%Y-%m-%d}"
    return f"at most {len(starts)}: the {unit} of {demand_from} from the plan's start ({span})"


# calendar months are 28-31 days long; any other period is a fixed number of days
MONTH_DAYS = range(28, 32)


def _check_spacing(starts: list[pd.Timestamp], period_days: int) -> None:
    """Demand periods, from the plan's first, must be `period_days` apart with none missing:
    waits and hours per period are counted in those days, so weekly demand planned as 30-day
    periods would count a week's referrals as a month's. Monthly demand (every ds the first of
    a month) takes any `period_days` of 28-31."""
    if len(starts) < 2:
        return  # one period: nothing to measure
    pairs = list(itertools.pairwise(pd.DatetimeIndex(starts)))
    gaps = sorted({(b - a).days for a, b in pairs})
    if all(ts.day == 1 for ts in starts) and set(gaps) <= set(MONTH_DAYS):
        if period_days not in MONTH_DAYS:
            raise PlanInputError(
                "period_days",
                "28 to 31 for monthly demand (every ds the first of a month)",
                str(period_days),
            )
        gaps = []  # months, and none missing
    elif gaps[0] != period_days:
        raise PlanInputError(
            "period_days",
            f"the spacing of the demand's periods ({gaps[0]} days, from {starts[0]:%Y-%m-%d})",
            str(period_days),
        )
    for a, b in pairs:
        if gaps and (b - a).days != gaps[0]:
            raise PlanInputError(
                "demand",
                f"a period every {gaps[0]} days",
                f"a gap of {(b - a).days} days after {a:%Y-%m-%d}",
            )


def _pivot(
    frame: pd.DataFrame,
    column: str,
    services: tuple[str, ...],
    districts: tuple[str, ...],
    starts: list[pd.Timestamp],
) -> npt.NDArray[np.float64]:
    keys = ["service", "district", "ds"]
    dupes = frame[frame.duplicated(keys)]
    if len(dupes):
        row = dupes.iloc[0]
        raise PlanInputError(
            "demand",
            "one row per service, district and ds",
            f"duplicates for {row['service']}/{row['district']}/{row['ds']:%Y-%m-%d}",
        )
    full = pd.MultiIndex.from_product([services, districts, starts], names=keys)
    series = frame.set_index(keys)[column].reindex(full)
    if series.isna().any():
        s, d, ds = series[series.isna()].index[0]
        raise PlanInputError(
            "demand",
            "a row for every service, district and period of the horizon",
            f"no {column} for service {s}, district {d}, ds {pd.Timestamp(ds):%Y-%m-%d}",
        )
    shape = (len(services), len(districts), len(starts))
    return series.to_numpy(dtype=np.float64).reshape(shape)
