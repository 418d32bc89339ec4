"""What a run could not give a series that its user should hear of, as one log sentence."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from forecast.backtest import min_train_length, short_fold
from forecast.combine import combo_members, parse_combo
from forecast.models import POOLED_PREFIX
from forecast.outcome import CONSTANT, SHORT_BACKTEST
from forecast.series import SEASON_LENGTH, SeriesData
from forecast.settings import ForecastRun
from forecast.validate import split_history

# Models that fit a seasonal pattern only to three seasons or more of history
# (models.seasonality.is_seasonal): below that their forecasts carry no season.
SEASON_FROM_THREE_YEARS = frozenset({"ses", "damped", "theta", "arima", "naive"})


def seasonless_series(history: pd.DataFrame, run: ForecastRun) -> dict[str, int]:
    """unique_id -> periods of history, for each series of `run` with under three seasons of
    history whose chosen forecast comes only from models that fit a season from three (alone
    or combined), so its forecast has no seasonal pattern whatever its history shows (an
    ARIMA's short-term dynamics aside). Series whose chosen model is seasonal naive, a pooled
    season, or any model that can fit a season sooner (Prophet, statsmodels ETS) are not
    listed."""
    return {s.unique_id: len(s.y) for s in _seasonless(history, run)}


def seasonless_warning(history: pd.DataFrame, run: ForecastRun) -> str | None:
    """One sentence naming up to five series of `seasonless_series` and counting the rest,
    or None when there are none."""
    short = _seasonless(history, run)
    if not short:
        return None
    named = ", ".join(f"{s.unique_id} ({len(s.y)} {_unit(s)})" for s in short[:5])
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    which = "series has" if len(short) == 1 else "series have"
    return (
        f"{len(short)} {which} under three years of history, too short for ses, damped, "
        "theta or arima to fit a seasonal pattern, and no model that can (seasonal naive, a "
        f"pooled season) was chosen: {named}{more}. Their forecasts carry no seasonal "
        "pattern, so their winter index shows little or no winter rise whatever their "
        "history shows; from three years the models test for a season, and fit one where the "
        "test finds it"
    )


def unscored_warning(history: pd.DataFrame, run: ForecastRun, horizon: int) -> str | None:
    """One sentence naming up to five series of `run` whose history was too short for a single
    backtest fold at `horizon`, saying which were backtested on one shorter fold instead
    (forecast.backtest.fold_windows) and which, shorter still, had their model chosen by
    preference order, not evidence; or None when there are none."""
    ids = set(run.fallbacks.loc[run.fallbacks["kind"] == SHORT_BACKTEST, "unique_id"])
    short = split_history(history[history["unique_id"].isin(ids)]) if ids else []
    if not short:
        return None
    ahead = {s.unique_id: min(short_fold(len(s.y), s.season_length), horizon) for s in short}
    named = ", ".join(
        f"{s.unique_id} ({len(s.y)} {_unit(s)}; one fold needs "
        f"{min_train_length(s.season_length) + horizon}; "
        + (f"backtested {ahead[s.unique_id]} ahead)" if ahead[s.unique_id] else "no backtest)")
        for s in short[:5]
    )
    more = f" and {len(short) - 5} more" if len(short) > 5 else ""
    which = "series has" if len(short) == 1 else "series have"
    parts = []
    if scored := [s for s in short if ahead[s.unique_id]]:
        parts.append(
            f"{_count(scored, short)} backtested on one shorter fold instead, and "
            f"{_its(scored)} model chosen on those nearer errors, pooled with the run's series"
        )
    if unscored := [s for s in short if not ahead[s.unique_id]]:
        naive = sum(run.chosen.get(s.unique_id) == "seasonal_naive" for s in unscored)
        got = "it got" if len(unscored) == 1 else f"{naive} of them got"
        replay = (
            f"; {got} seasonal naive, which repeats last year's values, noise and all"
            if naive
            else ""
        )
        parts.append(
            f"{_count(unscored, short)} too short even for a fold of a quarter season, and "
            f"{_its(unscored)} model chosen by preference order, not by any backtest{replay}"
        )
    return (
        f"{len(short)} {which} too little history for one backtest fold at a horizon of "
        f"{horizon} (a season and two periods of training, then the horizon): {named}{more}. "
        + ". ".join(parts)
        + ". More history, or a shorter horizon, gives them a full backtest"
    )


def _its(group: Sequence[SeriesData]) -> str:
    return "its" if len(group) == 1 else "their"


def _count(group: Sequence[SeriesData], short: Sequence[SeriesData]) -> str:
    if len(group) == len(short):
        return "All were" if len(group) > 1 else "It was"
    return f"{len(group)} {'was' if len(group) == 1 else 'were'}"


def _unit(series: SeriesData) -> str:
    return "weeks" if series.freq == "W-MON" else "months"


def under_three_seasons(series: SeriesData) -> bool:
    """Too short for ses, damped, theta or arima to test for a season (is_seasonal)."""
    return len(series.y) < 3 * series.season_length


def lacks_season(series: SeriesData, chosen: str, candidates: Sequence[str]) -> bool:
    """Whether `series` is under three seasons long and its chosen model (or, for a
    combination, every model it may draw on among `candidates`, the series' backtested
    models) fits a season only from three: its forecast then has no seasonal pattern."""
    if not under_three_seasons(series):
        return False
    drawn_from = (chosen,) if parse_combo(chosen) is None else combo_members(candidates)
    return bool(drawn_from) and all(_base(m) in SEASON_FROM_THREE_YEARS for m in drawn_from)


def seasonless_note(series: SeriesData) -> str:
    """Why one series' winter index shows little or no winter rise (see `lacks_season`)."""
    return (
        f"{len(series.y)} {_unit(series)} of history is under three years, too short for the "
        "chosen model to fit a seasonal pattern: the index shows little or no winter rise whatever "
        "the history shows; from three years the models test for a season, and fit one where "
        "the test finds it"
    )


def _seasonless(history: pd.DataFrame, run: ForecastRun) -> list[SeriesData]:
    candidates = run.metrics.groupby("unique_id")["model"].agg(tuple)
    # only series with fewer rows than three of the longest season can be under three seasons
    rows = history.groupby("unique_id").size()
    few = history[history["unique_id"].isin(rows[rows < 3 * max(SEASON_LENGTH.values())].index)]
    if few.empty:
        return []
    return [
        series
        for series in split_history(few)
        if series.unique_id in run.chosen
        and lacks_season(series, run.chosen[series.unique_id], candidates.get(series.unique_id, ()))
    ]


def _base(model: str) -> str:
    """'ses' for 'ses@36' (a training-window variant fits like its model)."""
    return model.partition("@")[0]


NAMED = 5  # a warning names this many series, then counts the rest


def _named(items: Sequence[str]) -> str:
    more = f" and {len(items) - NAMED} more" if len(items) > NAMED else ""
    return ", ".join(items[:NAMED]) + more


def zero_width_series(run: ForecastRun) -> dict[str, int]:
    """unique_id -> periods of its forecast whose interval, at some level, has zero width (its
    lo-<L> equals its hi-<L>), for each series of `run` that has any."""
    f = run.forecasts
    flat = np.zeros(len(f), dtype=bool)
    for lo in (c for c in f.columns if c.startswith("lo-")):
        hi = f[f"hi-{lo[3:]}"].to_numpy(dtype=float)
        flat |= np.isclose(hi, f[lo].to_numpy(dtype=float), rtol=0.0, atol=1e-9)
    counts = f.loc[flat].groupby("unique_id").size()
    return {str(uid): int(n) for uid, n in counts.items()}


def zero_width_warning(run: ForecastRun) -> str | None:
    """One sentence naming up to five series of `zero_width_series`, each with how many of
    its periods and whether its history is constant, or None when there are none."""
    flat = zero_width_series(run)
    if not flat:
        return None
    constant = set(run.fallbacks.loc[run.fallbacks["kind"] == CONSTANT, "unique_id"])
    periods = run.forecasts.groupby("unique_id").size()
    named = [
        f"{uid} ({n} of {periods[uid]} periods"
        + ("; a constant history)" if uid in constant else ")")
        for uid, n in sorted(flat.items())
    ]
    which = "series has" if len(flat) == 1 else "series have"
    return (
        f"{len(flat)} {which} a forecast interval of zero width, a forecast stated as certain: "
        f"{_named(named)}. A constant history gives no spread to size an interval from; "
        "otherwise the chosen model's errors in the history were all zero. Either way the "
        "history says nothing of how far the count may move: read the forecast as a point, "
        "with its range unknown, not as certain"
    )


@dataclass(frozen=True)
class CarriedLevel:
    """A series whose chosen model repeats its last season while a level shift falls inside
    that season: the periods before the shift carry the old level into the forecast."""

    unique_id: str
    model: str
    shift_ds: pd.Timestamp  # first period at the new level
    ratio: float  # level after / before


def carried_levels(
    history: pd.DataFrame, run: ForecastRun, adjusted: bool = False
) -> list[CarriedLevel]:
    """The series of `run` whose newest level shift (`run.level_shifts`) starts after the first
    period of their last season and whose chosen model repeats last season's values
    (`repeats_last_season`). None when the run rescaled history to the latest level
    (`adjusted`, ForecastSettings.adjust_level_shifts): the season repeated is then at it."""
    shifts = run.level_shifts
    if adjusted or shifts.empty:
        return []
    newest = {  # the newest shift of each series: (first period at the new level, ratio)
        str(uid): (pd.Timestamp(ds), float(ratio))
        for uid, ds, ratio in shifts.sort_values("ds")[["unique_id", "ds", "ratio"]].itertuples(
            index=False
        )
    }
    ids = [
        uid
        for uid in newest
        if uid in run.chosen and repeats_last_season(run.chosen[uid], _members(run, uid))
    ]
    out = []
    for series in split_history(history[history["unique_id"].isin(ids)]) if ids else []:
        first_new, ratio = newest[series.unique_id]
        if int(series.ds.searchsorted(first_new)) > len(series.y) - series.season_length:
            model = run.chosen[series.unique_id]
            out.append(CarriedLevel(series.unique_id, model, first_new, ratio))
    return out


def repeats_last_season(chosen: str, members: Sequence[str] = ()) -> bool:
    """Whether the model `chosen` (or, for a combination, one of its `members`) forecasts by
    repeating the last season's values: seasonal naive, alone, as a pooled season or on a
    training window; a reconciled row ('<model>+wls_struct') as its model."""
    name = chosen.partition("+")[0]
    drawn_from = members if parse_combo(name) is not None else (name,)
    return any(
        _base(m.partition("+")[0]).removeprefix(POOLED_PREFIX) == "seasonal_naive"
        for m in drawn_from
    )


def _members(run: ForecastRun, uid: str) -> tuple[str, ...]:
    m = run.metrics
    row = m[(m["unique_id"] == uid) & (m["model"] == run.chosen[uid])]
    text = str(row["members"].iloc[0]) if len(row) and pd.notna(row["members"].iloc[0]) else ""
    return tuple(n for n in text.split(";") if n)


def carried_level_warning(
    history: pd.DataFrame, run: ForecastRun, adjusted: bool = False
) -> str | None:
    """One sentence naming up to five series of `carried_levels`, each with its model, the
    shift's first period and ratio, and what to do; or None when there are none."""
    carried = carried_levels(history, run, adjusted)
    if not carried:
        return None
    named = [
        f"{c.unique_id} ({c.model}; from {c.shift_ds:%Y-%m-%d} at {c.ratio:.2f} times the "
        "level before)"
        for c in carried
    ]
    which = "series' level" if len(carried) == 1 else "series' levels"
    return (
        f"{len(carried)} {which} shifted within the last season of their history, and their "
        "chosen model repeats that season's values, so the periods of it before the shift "
        f"carry the old level into the forecast a year on: {_named(named)}. The model was "
        "chosen on backtest folds mostly before the shift. Forecast them with `homeward forecast "
        "--adjust-level-shifts` (history before a shift fitted at the level after it), or "
        "refit once a season has passed since the shift"
    )
