"""What each CLI command does; thin glue between arguments, the engines and storage."""

from __future__ import annotations

import argparse
import errno
import io
import json
import logging
import os
import secrets
import signal
import socket
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import fields, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import uvicorn
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.util import asbool

from forecast import ForecastRun, ForecastSettings, run_forecasts
from forecast.backtest import fold_horizon, fold_windows, min_train_length
from forecast.hierarchy import hierarchy_from_frame
from forecast.notes import carried_level_warning, seasonless_warning, zero_width_warning
from forecast.outcome import CONSTANT, FAILED, SHORT_BACKTEST, TOO_SHORT
from forecast.series import SEASON_LENGTH, SeriesData
from forecast.validate import check_forecastable, split_history
from forecast.winter import half_year_periods
from homeward import api_keys, audit, demo_config, plan_summary, planning, repository, retention
from homeward.clock import utcnow
from homeward.demand_csv import read_demand_file
from homeward.demo_series import (
    demo_history_end,
    generate_demo_observations,
    generate_demo_through,
)
from homeward.dtoc import is_nhs_dtoc_csv, read_nhs_dtoc
from homeward.errors import HomewardError, ValidationFailed
from homeward.exports import csv_text, json_booleans, rows_frame
from homeward.ingest import (
    SUPPORTED_CHARSETS,
    ParsedUpload,
    Upload,
    codec_for_charset,
    is_missing_periods,
    observations_hash,
    parse_upload,
    read_observations_csv,
    stale_series,
    stale_warning,
    unfinished_periods,
)
from homeward.pipeline import (
    EXPECTED_FAILURES,
    LOCK_NAME,
    PipelineBusy,
    UpToDate,
    forecast_settings,
    freshness,
    monthly_reach,
    run_pipeline,
)
from homeward.plan_years import with_year_periods
from homeward.recovery import close_interrupted_runs
from homeward.roles import Role, parse_role
from homeward.settings import (
    Settings,
    get_settings,
    is_loopback,
    listen_host,
    masked_url,
    refuse_any_host_with_auth_off,
    refuse_auth_off_behind_proxy,
    refuse_open_api_off_loopback,
)
from homeward.storage import (
    all_revisions,
    make_engine,
    pending_revisions,
    schema_revision,
    session_factory,
    transaction,
    upgrade,
)
from models.tables import RunTrigger
from optimise import plan, write_mps
from optimise.config import PlanningConfig
from optimise.inputs import build_inputs
from optimise.result import PlanResult

log = logging.getLogger("homeward")
STDOUT = "-"  # as an output file name: standard output (--output only)
DEMO_KEY_NAME = "demo-admin"  # the admin key a demo served beyond loopback makes for itself
Judge = Callable[[Mapping[str, str]], Upload]  # a parsed file judged by stored frequencies
Store = Callable[[Session], repository.ImportSummary]  # an import's file stored in a session


def _factory(settings: Settings, named: bool = False) -> Any:
    """Sessions of the database, migrated, its URL logged first unless `named` already."""
    engine = make_engine(settings.resolved_database_url, settings.db_statement_timeout_s)
    # which database, always; Alembic logs "Running upgrade ..." only when there is one to run
    if not named:
        log.info("database %s", masked_url(engine.url))
    upgrade(engine)
    return session_factory(engine)


def migrate(args: argparse.Namespace) -> int:
    """`homeward migrate`: apply pending migrations and print the revision before and after.
    `--check`: change nothing; 0 if the database is at head, 1 naming what is pending."""
    url = get_settings().resolved_database_url
    if args.check and _missing_sqlite_file(url):  # connecting would create it
        return _report_pending(None, all_revisions())
    engine = make_engine(url)
    log.info("database %s", masked_url(engine.url))
    try:
        if args.check:
            return _report_pending(schema_revision(engine), pending_revisions(engine))
        before = upgrade(engine)  # read under the migration lock: another may have migrated
        after = schema_revision(engine)
    finally:
        engine.dispose()
    print(f"revision before: {before or 'none (a database never migrated)'}")
    print(f"revision after: {after}" + (" (nothing to apply)" if after == before else ""))
    return 0


def _missing_sqlite_file(url: str) -> bool:
    """True for a SQLite URL (any driver, any query such as `?timeout=30`) naming a file that
    does not exist. A `uri=true` URL's `file:` name is SQLite's to read: never judged here."""
    parsed = make_url(url)
    database = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or database in ("", ":memory:"):
        return False
    uri = parsed.query.get("uri")  # SQLAlchemy reads it as a boolean: true, 1, yes ...
    return not (isinstance(uri, str) and asbool(uri)) and not Path(database).exists()


def _report_pending(current: str | None, pending: list[str]) -> int:
    at = current or "none (a database never migrated)"
    if not pending:
        print(f"the database is at head: revision {at}")
        return 0
    print(
        f"the database is at revision {at}; {len(pending)} pending: {', '.join(pending)} "
        "(`homeward migrate` applies them)"
    )
    return 1


def import_file(args: argparse.Namespace) -> int:
    """`homeward import FILE`: validate, then store whole."""
    path = Path(args.file)
    if codec_for_charset(args.encoding) is None:
        raise ValueError(
            f"--encoding: expected one of {', '.join(SUPPORTED_CHARSETS)}, found {args.encoding!r}"
        )
    settings = get_settings()
    # which database, before the file is read: a large one takes a while to read and judge,
    # and was met with no line at all until then (the database is only connected to later)
    log.info("database %s", masked_url(make_url(settings.resolved_database_url)))
    data = path.read_bytes()
    header = data.split(b"\n", 1)[0].decode("utf-8", errors="replace").strip().split(",")
    fmt = (
        args.format
        if args.format != "auto"
        else ("nhs-dtoc" if is_nhs_dtoc_csv(header) else "long")
    )
    log.info("reading %s as %s", path, fmt)
    store = (
        _dtoc_store(read_nhs_dtoc(data, source=str(path)), str(path), args.replace)
        if fmt == "nhs-dtoc"
        else _long_store(data, path, args, settings.resolved_database_url)
    )
    # migrated only now: a file refused as it reads leaves the database as it found it
    factory = _factory(settings, named=True)
    try:
        _store_and_report(factory, store, path)
    finally:  # its connections closed, not left to the garbage collector (a test's process)
        factory.kw["bind"].dispose()
    return 0


def _store_and_report(factory: Any, store: Store, path: Path) -> None:
    try:
        with transaction(factory) as session:
            summary = store(session)
    except repository.MixesWithSynthetic as exc:
        raise exc.with_remedy(
            f"run `homeward import --replace {path}`: each of its series' stored history is "
            "then replaced by the file's"
        ) from None
    print(_imported(summary, path))
    with factory() as session:
        notes = repository.history_warnings(session, summary.series)
        for note in [*notes, *planning.unplanned_referrals(session, summary.series)]:
            log.warning("%s", note)


def _dtoc_store(frame: pd.DataFrame, source: str, replace: bool) -> Store:
    """How to store an NHS England DTOC file's observations, read and checked already."""
    _log_read(len(frame), frame["unique_id"].nunique(), source)
    data_hash = observations_hash(frame)
    return lambda session: repository.store_observations_once(
        session, frame, source, data_hash, replace=replace, created_by=audit.CLI
    )


def _long_store(data: bytes, path: Path, args: argparse.Namespace, url: str) -> Store:
    """How to store a long file, parsed once here and judged as far as it can be before the
    database is migrated (``_judge_before_migrating``); storing it judges it again, under the
    upload lock, by what is stored then, as an upload to the API is judged."""
    parsed = parse_upload(data, source=str(path), encoding=args.encoding)
    judge = _judge_before_migrating(parsed, args.replace, url)
    _log_read(len(parsed.work), parsed.work["unique_id"].nunique(), str(path))
    return lambda session: repository.store_upload(
        session, judge, str(path), args.replace, created_by=audit.CLI
    )


def _log_read(rows: int, series: int, source: str) -> None:
    """Where a long import is: the file read and judged alone, storing it next (the longest
    part of a large file's import)."""
    log.info("read %s rows in %s series from %s; storing them", f"{rows:,}", f"{series:,}", source)


def _judge_before_migrating(parsed: ParsedUpload, replace: bool, url: str) -> Judge:
    """A long file judged before the database is migrated: first alone, so that its own
    problems come before a database's (an unreachable server is not what to fix first); then
    by the stored frequencies, if they bear on it (a series merged with stored history, or a
    gap it may fill), read without migrating (``_judge_as_stored``). A file refused alone is
    judged with them too, if the database can be reached: its problems are then all told at
    once (a new series' gaps with the rest), and its dates judged by its series' stored
    frequencies. Returns how to judge it under the upload lock (``repository.store_upload``)."""
    if replace:  # nothing stored is kept to merge with
        parsed.judged()
        return parsed.judged
    try:
        alone = parsed.judged(stored_unknown=True)
    except ValidationFailed as refused:
        try:
            _judge_as_stored(parsed.judged, url)
        except SQLAlchemyError:  # unreachable, or no database at all: the file's own problems
            raise refused from None
        return parsed.judged

    def judge(stored: Mapping[str, str]) -> Upload:
        return parsed.judged(stored) if alone.needs_rereading(stored) else alone

    _judge_as_stored(judge, url)
    return judge


def _judge_as_stored(judge: Judge, url: str) -> None:
    """Judge a file by the stored frequencies, read without migrating, so that a file refused
    leaves the database as it found it. A refusal stands unless what is stored changed while
    it was judged (another import storing a series whose periods this file's gaps leave to
    the merge): then, as ``repository.read_as_stored`` does, the file is judged again under
    the upload lock, by what is stored then."""
    before = _stored_frequencies(url)
    try:
        judge(before)
    except ValidationFailed:
        if _stored_frequencies(url) == before:
            raise


def _stored_frequencies(url: str) -> dict[str, str]:
    """The stored series an upload is merged with, read without migrating: a file refused as
    it reads creates no database file and no table. No series table (a database never
    migrated), none stored."""
    if _missing_sqlite_file(url):  # connecting would create it
        return {}
    engine = make_engine(url)
    try:
        if not inspect(engine).has_table("series"):
            return {}
        with session_factory(engine)() as session:
            return repository.stored_frequencies(session)
    finally:
        engine.dispose()


def _imported(summary: repository.ImportSummary, path: Path) -> str:
    """What an import stored; a file already stored whole (as the API does with a retried
    upload) is not stored twice, and says which import holds it."""
    if summary.duplicate:
        return (
            f"already imported: the {summary.rows:,} rows in {len(summary.series)} series of "
            f"{path} are stored by import {summary.import_id} (data hash "
            f"{summary.data_hash[:12]}); nothing stored again"
        )
    if summary.replace:
        return (
            f"imported {summary.rows:,} rows in {len(summary.series)} series from {path} "
            f"(import {summary.import_id}, data hash {summary.data_hash[:12]}), replacing their "
            f"stored history: {summary.replaced:,} stored values replaced, "
            f"{summary.removed:,} of them at periods the file does not have (removed)"
        )
    return (
        f"imported {summary.rows:,} rows in {len(summary.series)} series from {path} "
        f"(import {summary.import_id}, data hash {summary.data_hash[:12]})"
        + (f"; {summary.revised:,} of them changed stored values" if summary.revised else "")
    )


def forecast_file(args: argparse.Namespace) -> int:
    """`homeward forecast --input IN --horizon H --output OUT`: no database needed."""
    _check_sample_path_options(args)
    _check_paths(args)
    history = _read_history(args)
    check_forecastable(history, args.horizon)
    tree = _read_hierarchy(args.hierarchy) if args.hierarchy else None
    if tree is not None:
        _check_hierarchy_ids(args, tree, set(history["unique_id"]))
    settings = ForecastSettings(
        horizon=args.horizon,
        backtest_folds=args.folds,
        n_jobs=args.jobs,
        adjust_level_shifts=args.adjust_level_shifts,
        hierarchy=tree,
        reconcile=args.reconcile,
        sample_paths=args.paths or 0,
        seed=args.seed or 0,
    )
    if args.models:
        settings = replace(settings, models=args.models)
    log.info("forecasting %d series, horizon %d", history["unique_id"].nunique(), args.horizon)
    series = split_history(history)  # once, for the three warnings before forecasting
    if short := _fewer_folds_warning(series, args.folds, args.horizon):
        log.warning(short)
    if far := _beyond_history_warning(series, args.horizon):
        log.warning(far)
    if few := _few_series_warning(series):
        log.warning(few)
    run = run_forecasts(history, settings, progress=_progress)
    if seasonless := seasonless_warning(history, run):
        log.warning(seasonless)
    if carried := carried_level_warning(history, run, settings.adjust_level_shifts):
        log.warning(carried)
    if flat := zero_width_warning(run):
        log.warning(flat)
    _write_outputs(args, run, settings)
    # a CSV written to stdout (--output /dev/stdout | ...) must not get the summary in it
    stream = sys.stderr if _writes_to_stdout(args) else sys.stdout
    for line in _forecast_summary(args, run, settings):
        print(line, file=stream)
    return 0


def _forecast_summary(
    args: argparse.Namespace, run: ForecastRun, settings: ForecastSettings
) -> list[str]:
    """What `homeward forecast` tells the user it wrote and found."""
    chosen = pd.Series(dict(run.chosen)).value_counts()
    lines = [
        f"wrote {len(run.forecasts):,} rows to "
        f"{'standard output' if args.output == STDOUT else args.output}; models chosen: "
        + ", ".join(f"{m} x{n}" for m, n in chosen.items())
    ]
    if run.sample_paths is not None:
        lines.append(f"wrote {args.paths} sample paths per series to {args.paths_output}")
    if not run.level_shifts.empty:
        lines.append(
            f"level shifts found in {run.level_shifts['unique_id'].nunique()} series"
            + (" (history rescaled to the latest level)" if settings.adjust_level_shifts else "")
        )
    lines.extend(_fallback_lines(run.fallbacks))
    return lines


def _fallback_lines(fallbacks: pd.DataFrame) -> list[str]:
    """The run's fallbacks by kind, since only a failure is a fault: series whose model was
    chosen without a full backtest (history too short; warned of above), models that need a
    longer history than a series has, constant series (naive only), and models that failed
    otherwise."""
    if fallbacks.empty:
        return []
    backtest = fallbacks["kind"] == SHORT_BACKTEST
    short = fallbacks["kind"] == TOO_SHORT
    lines = []
    if backtest.any():
        lines.append(
            f"{fallbacks.loc[backtest, 'unique_id'].nunique()} series chose their model on "
            "fewer or shorter backtest folds, their history being short (see the log above)"
        )
    if short.any():
        models = fallbacks.loc[short, "model"].value_counts()
        lines.append(
            "models left out where a history is shorter than they need: "
            + ", ".join(f"{m} on {n} series" for m, n in models.items())
        )
    constant = fallbacks.loc[fallbacks["kind"] == CONSTANT, "unique_id"].nunique()
    if constant:
        lines.append(f"{constant} constant series forecast as that constant by naive alone")
    if (failed := int((fallbacks["kind"] == FAILED).sum())) > 0:
        lines.append(f"{failed} model failures replaced by fallbacks (see the log above)")
    return lines


def _writes_to_stdout(args: argparse.Namespace) -> bool:
    """Whether an output file is this process's standard output (/dev/stdout, /proc/self/fd/1
    or the file stdout is redirected to), or '-'."""
    if args.output == STDOUT:
        return True
    try:
        stdout = os.fstat(sys.stdout.fileno())
    except (OSError, ValueError, io.UnsupportedOperation):
        return False  # no real stdout (captured, closed): nothing to keep clean
    for path in (args.output, args.metrics, args.shifts, args.paths_output):
        try:
            if path and os.path.samestat(os.stat(path), stdout):
                return True
        except OSError:
            continue
    return False


def _read_history(args: argparse.Namespace) -> pd.DataFrame:
    """--input, validated; with --fill-gaps its missing periods are left for the forecast to
    interpolate, and each series with some is named in the log."""
    try:
        history = read_observations_csv(
            Path(args.input), source=args.input, allow_gaps=args.fill_gaps
        )
    except ValidationFailed as exc:
        if args.fill_gaps or not any(is_missing_periods(p) for p in exc.problems):
            raise
        raise ValueError(
            f"{exc}\n(--fill-gaps forecasts series with missing weeks or months, interpolating "
            "them, when at most half of a series' periods are missing)"
        ) from None
    if args.fill_gaps:
        for series in split_history(history):
            if series.n_missing:
                log.warning(
                    "series %s: %d of %d %s missing, interpolated (--fill-gaps)",
                    series.unique_id,
                    series.n_missing,
                    len(series.y),
                    "weeks" if series.freq == "W-MON" else "months",
                )
    for series_id, start in unfinished_periods(history).items():
        log.warning(
            "series %s: its newest period, starting %s, has not ended yet: a partial count "
            "pulls the forecast down (leave that row out until the period ends)",
            series_id,
            f"{start:%Y-%m-%d}",
        )
    if stale := stale_warning(stale_series(history)):
        log.warning(stale)
    return history


def _beyond_history_warning(history: list[SeriesData], horizon: int) -> str | None:
    """A line when --horizon reaches further ahead than every series of a frequency reaches
    back (500 months from 8 years of history: to 2060): the forecasts are extrapolated far
    past anything the backtest measured. None otherwise."""
    longest: dict[str, int] = {}
    for series in history:
        longest[series.freq] = max(longest.get(series.freq, 0), len(series.y))
    over = {freq: n for freq, n in longest.items() if horizon > n}
    if not over:
        return None
    said = "; ".join(
        f"the longest {'weekly' if freq == 'W-MON' else 'monthly'} history is {n} {_unit(freq)}"
        for freq, n in sorted(over.items())
    )
    return (
        f"--horizon {horizon} reaches further ahead than any history reaches back ({said}): "
        "forecasts that far extrapolate the models' level, trend and season well past what "
        "their backtest measured; read them as a scenario, not a forecast"
    )


# series of one frequency below which the run's pooled choice and calibration rest on too few
# backtest errors: an analyst's single council was chosen an ARIMA the pooled run did not
# choose, and its 80% intervals covered a quarter of the next year instead of nine tenths
FEW_SERIES = 5


def _few_series_warning(history: list[SeriesData]) -> str | None:
    """A line when a frequency has fewer than FEW_SERIES series: models are chosen and
    intervals calibrated on backtest errors pooled over the run's series of a frequency, so a
    file of one or two series gets neither the pooling nor a warning of it otherwise."""
    counts = pd.Series([s.freq for s in history]).value_counts()
    few = {str(freq): int(n) for freq, n in counts.items() if n < FEW_SERIES}
    if not few:
        return None
    said = " and ".join(
        f"{n} {'weekly' if freq == 'W-MON' else 'monthly'} series"
        for freq, n in sorted(few.items())
    )
    return (
        f"only {said}: models are chosen and intervals calibrated on backtest errors pooled over "
        f"a run's series, and under {FEW_SERIES} that is too few errors to rely on (intervals may "
        "be far too narrow or too wide). Forecast related series together, in one file: every "
        "service and district, or neighbouring councils' published figures beside your own"
    )


def _fewer_folds_warning(history: list[SeriesData], folds: int, horizon: int) -> str | None:
    """One line for every series whose history is too short for the --folds asked at this
    --horizon (each fold holds out a horizon after a training window of at least a season
    plus two periods), grouped by how many folds they get and how far ahead (a series too
    short for one full fold gets one shorter fold, forecast.backtest.fold_windows), or None
    when every series gets them all."""
    short: dict[tuple[int, int, str], list[SeriesData]] = {}
    total = 0
    for series in history:
        total += 1
        wins = fold_windows(series, folds, horizon)
        ahead = fold_horizon(wins) or horizon
        if len(wins) < folds or ahead < horizon:
            short.setdefault((len(wins), ahead, series.freq), []).append(series)
    if not short:
        return None
    count = sum(len(group) for group in short.values())
    groups = "; ".join(
        f"{len(group)} on {got} fold{'' if got == 1 else 's'}"
        + (f" {ahead} {_unit(freq)} ahead" if ahead < horizon else "")
        + f" (e.g. {group[0].unique_id!r}, {len(group[0].y)} {_unit(freq)} of history)"
        for (got, ahead, freq), group in sorted(short.items(), reverse=True)
    )
    needs = ", ".join(
        f"{min_train_length(SEASON_LENGTH[freq]) + folds * horizon} {_unit(freq)}"
        for freq in sorted({s.freq for group in short.values() for s in group})
    )
    return (
        f"{count} of {total} series backtested on fewer folds than the {folds} asked, or "
        f"shorter ones: {groups}. "
        f"Each fold holds out --horizon {horizon} periods after at least a season plus two "
        f"periods of training, so {folds} fold{'' if folds == 1 else 's'} "
        f"need{'s' if folds == 1 else ''} {needs} of history; a shorter --horizon, "
        "fewer --folds or more history gives every series all its folds (the metrics' "
        "'folds' column says how many each model was scored on)"
    )


def _unit(freq: str) -> str:
    return "weeks" if freq == "W-MON" else "months"


def _write_outputs(args: argparse.Namespace, run: ForecastRun, settings: ForecastSettings) -> None:
    """The forecasts, and the metrics, shifts and sample paths if asked for: all written, or
    none changed."""
    writes = {args.output: _csv_writer(run.forecasts, "%.4f")}
    if args.metrics:
        writes[args.metrics] = _csv_writer(_whole(run.metrics, "folds"), "%.5f")
    if args.shifts:
        writes[args.shifts] = _csv_writer(run.level_shifts, "%.4f")
    if args.paths_output and run.sample_paths is not None:
        writes[args.paths_output] = _csv_writer(run.sample_paths, "%.4f")
    _write_all_or_none(writes)


def _whole(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    """``frame`` with ``column`` as whole numbers when every value is one (a count of backtest
    folds held as float reads "3", not "3.00000"); otherwise ``frame`` as it is."""
    if column not in frame or not bool((frame[column].dropna() % 1 == 0).all()):
        return frame
    return frame.astype({column: "Int64"})


def _csv_writer(frame: pd.DataFrame, float_format: str) -> Callable[[str], None]:
    # booleans (--metrics' `chosen`) as true/false, as GET /v1/metrics.csv writes them
    ready = json_booleans(frame.copy())

    def write(path: str) -> None:
        target = sys.stdout if path == STDOUT else path
        ready.to_csv(target, index=False, date_format="%Y-%m-%d", float_format=float_format)
        if path == STDOUT:
            sys.stdout.flush()

    return write


def _read_hierarchy(path: str) -> dict[str, tuple[str, ...]]:
    """Parent/child rows from a CSV; the run checks the ids against the history before it fits
    anything, and reconciles the backtests too, so parents get calibrated intervals."""
    try:
        rows = pd.read_csv(path, dtype=str, keep_default_na=False)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"{path}: expected a CSV with columns parent_id, child_id, found an empty file"
        ) from None
    tree = hierarchy_from_frame(rows)
    return {parent: tuple(children) for parent, children in tree.items()}


def _check_hierarchy_ids(
    args: argparse.Namespace, tree: dict[str, tuple[str, ...]], history_ids: set[str]
) -> None:
    """Every id the hierarchy names that needs history must have rows in --input: a leaf
    always, a parent too under wls_struct (bottom_up sums its children instead). Named with
    its row of the hierarchy file (header = row 1), before anything is fitted."""
    rows = pd.read_csv(args.hierarchy, dtype=str, keep_default_na=False)
    needs_history = {c for kids in tree.values() for c in kids if c not in tree}
    if args.reconcile == "wls_struct":
        needs_history |= set(tree) | {c for kids in tree.values() for c in kids}
    for line, (parent, child) in enumerate(
        zip(rows["parent_id"].str.strip(), rows["child_id"].str.strip(), strict=True), start=2
    ):
        for column, node in (("parent_id", parent), ("child_id", child)):
            if node in needs_history and node not in history_ids:
                why = (
                    "a leaf is forecast from its own history"
                    if node not in tree
                    else "--reconcile wls_struct forecasts every parent from its own history; "
                    "bottom_up sums its children instead"
                )
                raise ValueError(
                    f"--hierarchy {args.hierarchy} row {line}, column {column!r}: expected a "
                    f"series of --input {args.input}, found {node!r}, which has no rows there "
                    f"({why})"
                )


def _check_sample_path_options(args: argparse.Namespace) -> None:
    """--paths says how many, --paths-output where: one without the other is a mistake to
    name, not a run to make and throw away (or to end without the file asked for)."""
    if args.seed is not None and args.paths is None:
        raise ValueError(
            f"--seed only sets the sample paths' seed: expected --paths N with it, found "
            f"--seed {args.seed} without --paths"
        )
    if (args.paths is None) == (args.paths_output is None):
        return
    given = f"--paths {args.paths}" if args.paths_output is None else "--paths-output"
    missing = "--paths-output FILE" if args.paths_output is None else "--paths N"
    raise ValueError(
        f"--paths and --paths-output go together: expected both, found {given} without {missing}"
    )


def _check_paths(args: argparse.Namespace) -> None:
    """Fail before minutes of forecasting, not after: every input a readable file, every
    output a writable place, and no output the same file as an input or another output."""
    taken: dict[str, str] = {}  # flag -> path, in the order given
    for flag, path in (("--input", args.input), ("--hierarchy", args.hierarchy)):
        if path:
            _require_file(flag, path)
            taken[flag] = path
    for flag, path in (
        ("--output", args.output),
        ("--metrics", args.metrics),
        ("--shifts", args.shifts),
        ("--paths-output", args.paths_output),
    ):
        if path == STDOUT:
            if flag != "--output":  # two CSVs on one stream could not be told apart
                raise ValueError(
                    f"cannot write {flag} -: expected a file name ('-', standard output, is "
                    "for --output only, so the forecasts CSV is the only thing on it), found '-'"
                )
            # standard output is /dev/stdout: another output there, or at the file stdout is
            # redirected to, would truncate or interleave the forecasts
            taken[flag] = "/dev/stdout"
            continue
        if path:
            _require_writable(flag, path)
            _refuse_same_file(flag, path, taken)
            taken[flag] = path


def _require_file(flag: str, path: str, expected: str = "a CSV file") -> None:
    if not Path(path).is_file():
        found = "a folder" if Path(path).is_dir() else "nothing there"
        raise ValueError(f"cannot read {flag} {path}: expected {expected}, found {found}")


def _require_writable(flag: str, path: str) -> None:
    folder = Path(path).resolve().parent
    if not folder.is_dir():
        raise ValueError(
            f"cannot write {flag} {path}: expected an existing folder, found no folder "
            f"{str(folder)!r}"
        )
    if Path(path).is_dir():
        raise ValueError(f"cannot write {flag} {path}: expected a file name, found a folder")


def _refuse_same_file(flag: str, path: str, taken: dict[str, str]) -> None:
    """Writing over the history (or one output over another) would lose it without a word."""
    for other_flag, other in taken.items():
        same = Path(path).resolve() == Path(other).resolve()
        if same or (Path(path).exists() and Path(path).samefile(other)):
            raise ValueError(
                f"cannot write {flag} {path}: expected a file apart from {other_flag} {other}, "
                "found the same file"
            )


def _write_all_or_none(writes: dict[str, Callable[[str], None]]) -> None:
    """Write every file beside its target, then move each into place: a failed write leaves
    every target as it was and no partial file behind. Pipes and devices (/dev/stdout, or
    '-' for standard output) cannot be replaced, so they are written last, straight through."""
    staged: dict[Path, Path] = {}  # real target -> its part file
    direct = {t: w for t, w in writes.items() if t == STDOUT or _unreplaceable(Path(t))}
    try:
        for target, write in writes.items():
            if target not in direct:
                real = Path(target).resolve()  # through a symlink: replace its file, not it
                staged[real] = real.with_name(f".{real.name}.{secrets.token_hex(4)}.part")
                write(str(staged[real]))
        for real, part in staged.items():
            os.replace(part, real)
    finally:
        for part in staged.values():
            part.unlink(missing_ok=True)
    for target, write in direct.items():
        write(target)


def _unreplaceable(path: Path) -> bool:
    """A pipe, a device, or a name in /dev such as /dev/stdout (its file is the shell's)."""
    return (path.exists() and not path.is_file()) or path.absolute().parts[1:2] == ("dev",)


def _progress(done: int, total: int) -> None:
    if done == total or done % max(1, total // 20) == 0:
        log.info("%d/%d series done", done, total)


def plan_cmd(args: argparse.Namespace) -> int:
    """`homeward plan`: solve a config against demand and print the plan."""
    body = (
        _read_json("--config", args.config) if args.config else demo_config.demo_planning_config()
    )
    config = PlanningConfig.model_validate(body)
    warnings = planning.config_level_warnings(config)
    if args.demand:
        _require_file("--demand", args.demand)
        history = _plan_history(args.history) if args.history else None
        read = read_demand_file(Path(args.demand), config, history)
        demand = read.demand
        warnings += (*read.warnings, planning.NO_RISK_FROM_FILE)  # no low or high year
    else:
        if args.history:
            raise ValueError(
                "--history: expected with --demand (the observations its forecasts were made "
                "from), found it alone; the demo plan reads the demo's own history"
            )
        _refuse_beyond_the_demo(config)
        demand, demo_warnings = _demo_demand(config)
        warnings += demo_warnings
    folder = _csv_folder(args.csv) if args.csv else None
    inputs = build_inputs(config, demand)
    source = planning.FROM_FILE if args.demand else planning.FROM_DEMO
    warnings += planning.start_notes(demand, inputs, source) + planning.winter_notes(config, inputs)
    if args.write_mps:
        write_mps(inputs, args.write_mps)
        log.info("wrote the LP to %s", args.write_mps)
    result = plan(inputs, solver=args.solver)
    result = result.with_extras(warnings=result.warnings + warnings)
    print(result.summary_table())
    if args.json:
        Path(args.json).write_text(json.dumps(result.to_dict(), indent=1))
    if folder is not None:
        names = _write_tables(result, folder, body)
        print(f"wrote {len(names)} tables to {folder}: {', '.join(names)}", file=sys.stderr)
    return 0 if result.status.value == "optimal" else 1


def _plan_history(path: str) -> pd.DataFrame:
    """`homeward plan --history`: the observations the forecasts in --demand were made from,
    validated as `homeward forecast --input` is (gaps allowed: a centred year over a gap is
    skipped for the nearest whole one)."""
    _require_file("--history", path)
    return read_observations_csv(Path(path), source=path, allow_gaps=True)


def _refuse_beyond_the_demo(config: PlanningConfig) -> None:
    """Without --demand the synthetic demo's referrals are forecast and planned: a config of a
    council's own services or districts is refused at once, naming what the demo lacks,
    rather than after a minute of forecasting the demo with a missing-row error."""
    demo = PlanningConfig.model_validate(demo_config.demo_planning_config())
    services = [s.id for s in config.services if s.id not in {x.id for x in demo.services}]
    districts = [d.id for d in config.districts if d.id not in {x.id for x in demo.districts}]
    if not services and not districts:
        return
    lacks = "; ".join(
        f"{kind} {', '.join(ids)}"
        for kind, ids in (("service", services), ("district", districts))
        if ids
    )
    raise ValueError(
        "--demand: expected a demand file for a config of your own (service,district,ds,cases, "
        "or the CSV `homeward forecast --output` writes of your referral histories); without "
        f"it the synthetic demo's referrals are planned, and they have no {lacks} (the demo's "
        f"districts: {', '.join(d.id for d in demo.districts)})"
    )


def _csv_folder(name: str) -> Path:
    """`--csv DIR`, made if missing; refused before any solving if it cannot hold files."""
    folder = Path(name)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise ValueError(f"cannot write --csv {name}: expected a folder, found a file") from None
    except OSError as exc:
        raise ValueError(f"cannot make the --csv folder {name}: {exc.strerror}") from None
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write --csv {name}: the folder is not writable")
    return folder


def _write_tables(result: PlanResult, folder: Path, body: dict[str, Any]) -> list[str]:
    """Each table of the plan as folder/<name>.csv, as GET /v1/plans/{id}/{table}.csv serves
    it (every column of its schema, whatever the plan holds: staffing's `fte` without
    `hours_per_fte`), dates as YYYY-MM-DD, and the pack's two, summary.csv (less the rows
    only a stored plan has: its id, config id and runs) and warnings.csv; returns the file
    names. `body`: the plan's config."""
    from api.plan_tables import PlanTable, table_columns  # the API's columns, loaded for --csv

    stored = with_year_periods(result.to_dict())  # revenue_by_year's as served
    tables = {f.name: stored[f.name] for f in fields(result)}
    tables = {
        name: rows
        for name, rows in tables.items()
        if isinstance(getattr(result, name), pd.DataFrame)  # not a scalar or the warnings
    }
    tables[PlanTable.summary.value] = plan_summary.unstored_summary_rows(
        result.status.value, result.objective_weighted_wait_days, stored, body
    )
    tables[PlanTable.warnings.value] = plan_summary.warning_rows(stored)
    names = []
    for name, rows in tables.items():
        frame = rows_frame(rows, table_columns(PlanTable(name), rows))
        (folder / f"{name}.csv").write_text(csv_text(frame))
        names.append(f"{name}.csv")
    return names


def _read_json(flag: str, name: str) -> Any:
    _require_file(flag, name, "a readable JSON file")
    path = Path(name)
    try:
        text = path.read_text()
    except (OSError, UnicodeDecodeError) as exc:
        found = (
            (exc.strerror or str(exc)).lower()
            if isinstance(exc, OSError)
            else "bytes that are not UTF-8 text"
        )
        raise ValueError(
            f"cannot read {flag} {name}: expected a readable JSON file, found {found}"
        ) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path}: expected JSON, found {exc.msg.lower()} "
            f"at line {exc.lineno} column {exc.colno}"
        ) from None


def demo_observations(settings: Settings) -> pd.DataFrame:
    """The synthetic demo to the end of HOMEWARD_DEMO_LAST_YEAR, or by default to the last
    complete week (and month), so its plan starts this week and covers the coming winter, as
    a council's own data to its latest week would, not a year mostly past."""
    if settings.demo_last_year is not None:
        return generate_demo_observations(last_year=settings.demo_last_year)
    return generate_demo_through(demo_history_end(utcnow().date()))


def _demo_newest_week(settings: Settings) -> pd.Timestamp:
    """The Monday of the newest week `demo_observations` holds (its newest period of all)."""
    if settings.demo_last_year is not None:
        last_day = pd.Timestamp(f"{settings.demo_last_year}-12-31")
        return last_day - pd.Timedelta(days=last_day.dayofweek)
    return pd.Timestamp(demo_history_end(utcnow().date())) - pd.Timedelta(days=6)


def _newer_demo(session: Session, settings: Settings) -> pd.DataFrame | None:
    """The demo to a later week than the one stored, when the database holds only the synthetic
    demo (a `var/homeward.db` or Docker volume kept from a week or a year before), so a restart
    plans from this week on; None when it is current (a restart the same week), or any series
    holds a council's own data."""
    sources = repository.newest_import_sources(session)
    if not sources or set(sources.values()) != {repository.SYNTHETIC_DEMO_SOURCE}:
        return None
    stored = pd.Timestamp(max(row.last_ds for row in repository.list_series(session)))
    if stored >= _demo_newest_week(settings):  # current: not generated again at every start
        return None
    frame = demo_observations(settings)
    return frame if set(sources) <= set(frame["unique_id"]) else None


def _demo_demand(config: PlanningConfig) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Demand for the demo plan: forecast the synthetic demo referrals (no database), and the
    winter pressure series when the config names one of the demo's, with the pipeline's
    forecast settings (its backtest horizons, pooling, models and folds), and each district's
    normal level read over its referral history too, so the plan is the one the pipeline makes
    of the same data and config."""
    settings = get_settings()
    demo = demo_observations(settings)
    history = demo[demo["unique_id"].str.startswith(planning.REFERRALS_PREFIX)]
    horizon = config.horizon_periods
    winter = config.winter
    pressure_id = None if winter is None else winter.pressure_series
    # a weekly pressure series (one of the referrals) is forecast half a year past the plan
    # in the referrals' run, as the pipeline forecasts it (pipeline.forecast_by_frequency);
    # the referrals' demand is cut back to the plan
    weekly_pressure = pressure_id is not None and pressure_id in set(history["unique_id"])
    extra = half_year_periods("W-MON") if weekly_pressure else 0
    log.info(
        "forecasting demo referrals: %d series, %d weeks ahead",
        history["unique_id"].nunique(),
        horizon + extra,
    )
    weekly = forecast_settings(settings, "W-MON", horizon + extra)
    run = run_forecasts(history, weekly, progress=_progress)
    first = run.forecasts.groupby("unique_id")["ds"].transform("min")
    planned = run.forecasts[run.forecasts["ds"] < first + pd.Timedelta(weeks=horizon)]
    demand, warnings = planning.with_usable_factors(
        planning.demand_from_forecasts(planned, run.metrics)
    )
    if winter is None or pressure_id is None:
        return demand, warnings
    pressure = demo[demo["unique_id"] == pressure_id]
    if pressure.empty:
        raise ValueError(
            f"winter.pressure_series: expected a series of the demo data, found {pressure_id!r}; "
            "give --demand a file with winter_index and normal_cases columns instead"
        )
    if weekly_pressure:
        ahead = run.forecasts[run.forecasts["unique_id"] == pressure_id]
    else:
        log.info("forecasting %s for the winter index", pressure_id)
        # as far as the pipeline forecasts it, half a year past the plan's last month so that
        # month has a whole centred year around it for its winter index (planning.
        # pressure_index), so this plan is the pipeline's of the same data and config
        reach = settings.model_copy(update={"forecast_horizon_weeks": horizon})
        months = monthly_reach(pressure, history, reach) + half_year_periods("MS")
        ahead = run_forecasts(pressure, forecast_settings(settings, "MS", months)).forecasts
    demand, winter_warnings = planning.winter_pressure(demand, winter, ahead, pressure, history)
    return demand, warnings + winter_warnings


def serve(args: argparse.Namespace) -> int:
    """`homeward serve`: the API with the scheduler, until interrupted. The database is
    migrated first, so one that is down or too new is a one-line error (as for every other
    command), not a traceback from inside the server's start-up."""
    settings = get_settings()
    # before touching the database: a bad --host ("" is no host either), or keys off beyond
    # loopback, is refused without migrating anything
    host = _host_option(args.host) if args.host is not None else settings.host
    refuse_open_api_off_loopback(settings.auth, host)
    # and a port another server listens on: found only once the server starts, it would
    # have migrated, closed runs as cut off and started a pipeline run first
    refuse_port_in_use(host, args.port or settings.port)
    _factory(settings).kw["bind"].dispose()
    return _serve(settings, args)


class PortInUse(HomewardError):
    """The port to serve on cannot be listened on (another server has it, or it is not ours)."""


def refuse_port_in_use(host: str, port: int) -> None:
    """PortInUse naming the port if a server could not listen on `host`:`port` now, found by
    binding it as uvicorn binds (SO_REUSEADDR, so a port in TIME_WAIT after a stop is free)
    and letting it go again."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET  # as uvicorn chooses
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(
                    f"expected port {port} on {host} to be free to serve on, found it in use "
                    "(another `homeward serve`?); stop that server, or choose another port "
                    "with --port or HOMEWARD_PORT"
                ) from None
            raise PortInUse(f"cannot serve on {host} port {port}: {exc.strerror}") from None


def _host_option(value: str) -> str:
    try:
        return listen_host(value)
    except ValueError as exc:
        raise ValueError(f"--host {exc}") from None


def _serve(base: Settings, args: argparse.Namespace, run_on_start: RunTrigger | None = None) -> int:
    """Serve until interrupted; `run_on_start`: a pipeline run's trigger, to start it in the
    background as the server starts."""
    from api.app import create_app  # the web stack loads only when serving

    settings = base.model_copy(
        update={
            "scheduler_enabled": base.scheduler_enabled and not args.no_scheduler,
            "host": _host_option(args.host) if args.host is not None else base.host,
            "port": args.port or base.port,
        }
    )
    refuse_open_api_off_loopback(settings.auth, settings.host)
    # the settings were checked as read, but `homeward demo` may have turned keys off since
    refuse_auth_off_behind_proxy(settings.auth, settings.forwarded_allow_ips)
    refuse_any_host_with_auth_off(settings.auth, settings.allowed_hosts)
    log.info(
        "serving on http://%s:%d (docs at /docs); scheduler %s",
        settings.host,
        settings.port,
        f"on, cron {settings.schedule_cron!r} in {settings.schedule_timezone}"
        if settings.scheduler_enabled
        else "off",
    )
    app = create_app(settings, run_on_start=run_on_start)
    # log_config=None: uvicorn's start-up and access lines go through the same handler and
    # format (UTC date-time, level, logger) as the rest of the log (cli.configure_logging),
    # not its own untimed "INFO:     " lines, at the level the log is set to
    # (HOMEWARD_LOG_LEVEL, -q). access_log=False: the app logs each request itself, with its
    # duration and a 401's or 403's reason (api/access_log.py). proxy_headers: a request's
    # client and scheme are those X-Forwarded-For and -Proto give when (and only when) the
    # peer is a proxy HOMEWARD_FORWARDED_ALLOW_IPS trusts (None: uvicorn's default).
    # timeout_keep_alive: longer than a pooling proxy keeps an idle connection (settings.py)
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        log_level=logging.getLogger().getEffectiveLevel(),
        log_config=None,
        access_log=False,
        proxy_headers=True,
        timeout_keep_alive=settings.keepalive_s,
        forwarded_allow_ips=(
            None if settings.forwarded_allow_ips is None else list(settings.forwarded_allow_ips)
        ),
    )
    return 0


def store_demo_config(session: Session) -> None:
    """The demo's own config, brought up to date (save_config keeps an unchanged one), unless
    a config stored since (POST /v1/configs, another name) is the user's. Stored as POST
    /v1/configs stores a config (defaults filled in), so the active config sent back
    unchanged is the same config, not a new version."""
    active = repository.active_config(session)
    if active is None or active.name == demo_config.DEMO_CONFIG_NAME:
        raw = demo_config.demo_planning_config()
        body = PlanningConfig.model_validate(raw).model_dump(mode="json")
        repository.save_config(session, body, planning.config_hash(body), created_by=audit.CLI)


def demo(args: argparse.Namespace) -> int:
    """`homeward demo`: load the synthetic demo into an empty database and store the current
    demo config unless the active config is the user's, run the pipeline once, optionally
    serve. With `--serve` and a plan already stored, the run is in the background and the
    stored plan is served meanwhile; with none, the API starts when the run is done."""
    settings = get_settings()
    if args.serve:  # before the minutes a first run takes, not after them
        host = _host_option(args.host) if args.host is not None else settings.host
        refuse_port_in_use(host, args.port or settings.port)
    factory = _factory(settings)
    with transaction(factory) as session:
        if repository.count_observations(session) == 0:
            frame = demo_observations(settings)
            log.info(
                "loading the synthetic demo: %d series, %d rows, history to %s",
                frame["unique_id"].nunique(),
                len(frame),
                f"{frame['ds'].max():%Y-%m-%d}",
            )
            repository.store_observations(
                session,
                frame,
                repository.SYNTHETIC_DEMO_SOURCE,
                observations_hash(frame),
                created_by=audit.CLI,
            )
        elif (newer := _newer_demo(session, settings)) is not None:
            log.info(
                "replacing the stored synthetic demo by the demo to %s, to plan the weeks after",
                f"{newer['ds'].max():%Y-%m-%d}",
            )
            repository.store_observations(
                session,
                newer,
                repository.SYNTHETIC_DEMO_SOURCE,
                observations_hash(newer),
                replace=True,
                created_by=audit.CLI,
            )
        store_demo_config(session)
        if not repository.list_series(session, planning.REFERRALS_PREFIX):
            print(
                "demo: the database holds series of its own and no referral histories: the "
                "synthetic demo loads only into an empty database, so the pipeline forecasts "
                "the stored series and makes no plan (set DATABASE_URL to a new database for "
                "the demo)"
            )
    current = "--rerun" if args.rerun else freshness(factory, settings)
    if isinstance(current, UpToDate):
        # a restart (`docker restart`, a second `make run`): the same minutes would only make
        # the same plan again
        print(
            f"demo: plan {current.plan_id} (run {current.run_id}, {current.finished_at}) is up "
            "to date with the stored data, config, settings and release; not run again "
            "(--rerun to run it anyway)"
        )
    elif args.serve and (stored := _stored_plan_id(factory)) is not None:
        # a restart after an upload or an upgrade: serve the stored plan while the run works
        # (minutes with a whole country's series), not nothing
        print(
            f"demo: serving plan {stored} while the pipeline runs in the background ({current}); "
            "GET /v1/runs shows its progress, and /v1/plans/latest moves to the new plan when "
            "it is done"
        )
        return _serve(demo_auth(settings, args.host or settings.host, factory), args, "demo")
    else:
        then = "; the API starts when it is done" if args.serve else ""
        print(f"demo: running the pipeline ({current}){then}")
        try:
            with _sigterm_stops():
                outcome = run_pipeline(factory, settings, trigger="demo", report=log.info)
        except PipelineBusy as exc:
            if not args.serve:
                raise
            # another process (or one killed moments ago, until its lease ends) is running it:
            # serving what is stored beats staying down until it finishes
            log.warning("demo pipeline not run: %s; serving what is stored", exc)
            print(f"warning: demo pipeline not run: {exc}; serving what is stored", file=sys.stderr)
        except EXPECTED_FAILURES as exc:  # the data's or the config's fault, recorded on the run
            if not args.serve:
                raise
            # an active config no plan can meet, say: exiting would only start again into the
            # same failure (a container's restart policy), while serving lets the user read why
            # (GET /v1/runs, the dashboard) and send a config that can be met
            log.warning("demo pipeline run failed: %s; serving what is stored", exc)
            print(
                f"warning: demo pipeline run failed: {exc}; serving what is stored (GET /v1/runs "
                "says why; after a config that can be met, POST /v1/runs or the schedule plans it)",
                file=sys.stderr,
            )
        except (Stopped, KeyboardInterrupt) as stop:
            return _stopped(factory, stop)
        else:
            print(f"demo pipeline run {outcome.run_id}: {outcome.status}; plan {outcome.plan_id}")
    if not args.serve:
        return 0
    return _serve(demo_auth(settings, args.host or settings.host, factory), args)


def _stored_plan_id(factory: Any) -> int | None:
    with transaction(factory) as session:
        plan = repository.latest_plan(session)
        return None if plan is None else plan.id


class Stopped(BaseException):  # like KeyboardInterrupt: not an error to catch
    """SIGTERM (`docker stop`) arrived during a command's pipeline run."""


@contextmanager
def _sigterm_stops() -> Iterator[None]:
    """SIGTERM raises `Stopped` in the block, as Ctrl-C raises KeyboardInterrupt, so the
    pipeline run gives back its lock and its forecast workers are ended on the way out
    (the default SIGTERM ends the process on the spot, lock held for a whole lease)."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread; nothing to change elsewhere
        return

    def stop(_signum: int, _frame: object) -> None:
        raise Stopped

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stopped(factory: Any, stop: BaseException) -> int:
    """The exit after a stop during the demo's run: its lock is back (run_pipeline's finally),
    so recovery closes the run as interrupted now, not at the next start."""
    closed = close_interrupted_runs(factory, LOCK_NAME)
    log.warning("stopped during the demo pipeline run; runs %s marked interrupted", closed)
    return 143 if isinstance(stop, Stopped) else 130


def demo_auth(settings: Settings, host: str, factory: Any) -> Settings:
    """The settings the demo serves with: no keys on loopback unless HOMEWARD_AUTH is set, or
    HOMEWARD_FORWARDED_ALLOW_IPS says a proxy passes others' requests on, or
    HOMEWARD_ALLOWED_HOSTS allows any host; otherwise keys, with an admin key made (and
    printed once) if no key is active."""
    exposed = settings.forwarded_allow_ips is not None or "*" in (settings.allowed_hosts or ())
    if "auth" not in settings.model_fields_set and is_loopback(host) and not exposed:
        log.warning(
            "API keys are OFF for this demo because it serves on loopback (%s) only; "
            "`homeward serve`, HOMEWARD_AUTH=keys or another host require keys",
            host,
        )
        return settings.model_copy(update={"auth": "off"})
    if settings.auth == "keys":
        _ensure_an_active_key(factory, settings.data_dir / DEMO_KEY_FILE)
    return settings


DEMO_KEY_FILE = "demo-admin.key"


def _ensure_an_active_key(factory: Any, path: Path) -> None:
    """An admin key when no key is active, written to `path` (readable by its owner only)
    rather than to the log: `docker logs` and log shippers keep what a container prints. If the
    file cannot be written, the key is printed once as `keys create` prints it."""
    with transaction(factory) as session:
        keys = repository.list_api_keys(session)
        now = utcnow()
        usable = [k for k in keys if k.revoked_at is None]
        if any(api_keys.when_expired(k, now) is None for k in usable):
            return
        if any(k.name == DEMO_KEY_NAME for k in keys):
            expired = f" ({len(usable)} expired)" if usable else ""
            log.warning(
                "no active API key%s: `homeward keys create --name NAME --role admin`, or "
                "`homeward keys rotate NAME --expires-in DAYS` for an expired one",
                expired,
            )
            return
        new = api_keys.create_key(session, DEMO_KEY_NAME, Role.ADMIN)
        try:
            _write_secret(path, new.secret)
        except OSError as exc:
            log.warning("could not write %s (%s); printing the key instead", path, exc)
            _print_new_key(new)
            return
    print(
        f"created API key {new.name!r} with role {new.role.value}, written to {path.resolve()} "
        "(readable by this user only; not printed, so logs never hold it). Read it with `cat` "
        "(in Docker: `docker exec CONTAINER cat /data/demo-admin.key`), send it as "
        "'Authorization: Bearer <key>', and delete the file once it is kept elsewhere.",
        file=sys.stderr,
        flush=True,
    )


def _write_secret(path: Path, secret: str) -> None:
    """`secret` to a new file only its owner can read (replacing an old one)."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(secret + "\n")


def keys_create(args: argparse.Namespace) -> int:
    """`homeward keys create --name N --role R`: the key goes to stdout alone, once."""
    role = parse_role(args.role)
    with transaction(_factory(get_settings())) as session:
        new = api_keys.create_key(session, args.name, role, args.expires_in)
    _print_new_key(new)
    return 0


def keys_rotate(args: argparse.Namespace) -> int:
    """`homeward keys rotate NAME`: a new key for NAME, its role kept, printed as `keys create`
    prints one; the old key is revoked in the same transaction."""
    with transaction(_factory(get_settings())) as session:
        new = api_keys.rotate_key(session, args.name, args.expires_in, args.no_expiry)
    _print_new_key(new, rotated=True)
    return 0


def _print_new_key(new: api_keys.NewKey, rotated: bool = False) -> None:
    done = "rotated" if rotated else "created"
    old = " (its old key is revoked)" if rotated else ""
    expires = (
        f", expiring at {api_keys.utc_minute(new.expires_at)}"
        if new.expires_at is not None
        else ", never expiring"
    )
    print(
        f"{done} API key {new.name!r} with role {new.role.value}{expires}{old}. It is stored "
        "only as a "
        "hash and will not be shown again; send it as 'Authorization: Bearer <key>':",
        file=sys.stderr,
    )
    print(new.secret, flush=True)


def purge(args: argparse.Namespace) -> int:
    """`homeward purge`: delete old runs with their forecasts, metrics and plans (never those
    served or planned from) and print one line saying what went and what was kept, and why."""
    rules = retention.Retention(args.keep_runs, args.older_than)  # refuses neither given
    settings = get_settings()
    lease = timedelta(seconds=settings.pipeline_lock_ttl_s)
    purged = retention.purge(_factory(settings), rules, args.dry_run, lease)
    print(retention.summary(purged))
    return 0


def keys_list(args: argparse.Namespace) -> int:
    """`homeward keys list`: names, roles and dates (an expired key marked so); never a
    secret."""
    with transaction(_factory(get_settings())) as session:
        rows = repository.list_api_keys(session)
    if not rows:
        print("no API keys yet: `homeward keys create --name NAME --role ROLE`")
        return 0
    print(
        f"{'name':<30} {'role':<8} {'created (UTC)':<16} {'last used (UTC)':<16} "
        f"{'expires (UTC)':<26} revoked (UTC)"
    )
    now = utcnow()
    for row in rows:
        used = _minute(row.last_used_at) if row.last_used_at else "never"
        expires = _minute(row.expires_at) if row.expires_at else "never"
        if api_keys.when_expired(row, now) is not None:
            expires += " (expired)"
        revoked = _minute(row.revoked_at) if row.revoked_at else "-"
        print(
            f"{row.name:<30} {row.role:<8} {_minute(row.created_at):<16} {used:<16} "
            f"{expires:<26} {revoked}"
        )
    return 0


def _minute(moment: datetime) -> str:
    """'2026-11-22 21:32' for a stored moment, in UTC (the listing's headings say so)."""
    return api_keys.utc_minute(moment).removesuffix(" UTC")


def keys_revoke(args: argparse.Namespace) -> int:
    """`homeward keys revoke NAME`: requests with that key get 401 from now on."""
    with transaction(_factory(get_settings())) as session:
        row = api_keys.revoke_key(session, args.name)
    print(f"revoked API key {row.name!r} (role {row.role})")
    return 0
