"""The `homeward` command line: import, forecast, plan, serve, demo, keys, migrate, purge."""

from __future__ import annotations

import argparse
import copy
import json
import logging
import re
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy.exc import SQLAlchemyError

from forecast import RECOMMENDED_MODELS
from forecast.engine import check_model_names
from forecast.errors import ForecastInputError
from homeward import commands
from homeward.api_keys import MAX_EXPIRY_DAYS, mask_keys
from homeward.errors import HomewardError, json_text, unknown_field_expected
from homeward.roles import Role
from homeward.settings import LogSettings
from optimise.config import PlanningConfig, refused_value

Handler = Callable[[argparse.Namespace], int]
MAX_PORT = 65535
MAX_PATHS = 1000  # sample paths per series: the CSV has a row per path, series and period


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="homeward",
        description="Forecast social-care demand and plan staff hours and DFG capital. "
        "Settings come from HOMEWARD_* environment variables and DATABASE_URL.",
    )
    parser.add_argument(
        "-q", "--quiet", action="store_true", help="print only warnings and results"
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_import(sub)
    _add_forecast(sub)
    _add_plan(sub)
    _add_serve(sub)
    _add_demo(sub)
    _add_keys(sub)
    _add_migrate(sub)
    _add_purge(sub)
    return parser


def _add_import(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "import",
        help="validate a CSV of history and store it whole (or not at all)",
        description="Import long-format history (unique_id, ds, y) or an NHS England "
        "DTOC file (detected from its header) into the database. A file whose observations "
        "are already stored whole by an earlier import is not stored again. Series holding "
        "the synthetic demo's history are refused unless --replace is given.",
    )
    p.add_argument("file", help="path to a CSV file")
    p.add_argument(
        "--replace",
        action="store_true",
        help="replace the stored history of every series in the file with the file's, in one "
        "transaction (periods the file lacks are deleted; other series are untouched): a "
        "restated history, or your own figures in place of the synthetic demo's",
    )
    p.add_argument(
        "--format",
        choices=("auto", "long", "nhs-dtoc"),
        default="auto",
        help="file format (default: detect from the header)",
    )
    p.add_argument(
        "--encoding",
        default="utf-8",
        help="the file's character set for a long CSV: utf-8 (the default; a BOM is fine), "
        "windows-1252 (Excel's 'CSV (Comma delimited)' on Windows, with a GBP sign), "
        "iso-8859-1, iso-8859-15 or us-ascii, as the API's Content-Type charset",
    )
    p.set_defaults(handler=commands.import_file)


def _add_forecast(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "forecast",
        help="forecast a long CSV to a CSV (no database needed)",
        description="Backtest candidate models per series, choose the best by MASE, and "
        "write unique_id, ds, model, mean, lo-80, hi-80, lo-95, hi-95. Bad input is refused "
        "before any fitting; --output, --metrics, --shifts and --paths-output are all written "
        "or none is. Model choice leans on, and interval widths are calibrated from, the "
        "backtest errors of all the file's series of the same frequency (three folds of one "
        "series are too few to size an interval), so forecast unrelated collections (other "
        "councils, other measures) in files of their own.",
    )
    p.add_argument(
        "--input",
        required=True,
        help="long CSV with the header unique_id,ds,y: ids lower-case, ds YYYY-MM-DD (every "
        "Monday for weekly series, every 1st for monthly; YYYY-MM also means the 1st), y a "
        "count of 0 or more, one row per series and period, no gaps (see --fill-gaps), at "
        "least 2 per series",
    )
    p.add_argument(
        "--fill-gaps",
        action="store_true",
        help="accept missing weeks or months inside a series and interpolate them linearly "
        "(each such series is named in the log), as long as at most half of a series' "
        "periods are missing; quarterly or annual figures are still refused",
    )
    p.add_argument("--horizon", type=_positive_int, required=True, help="periods ahead")
    p.add_argument(
        "--output",
        required=True,
        help="where to write the forecasts CSV ('-' for standard output; the summary then goes "
        "to stderr)",
    )
    p.add_argument("--metrics", help="also write every model's backtest metrics to this CSV")
    p.add_argument(
        "--shifts",
        help="also write the level shifts found (unique_id, ds, ratio, t_stat) to this CSV",
    )
    p.add_argument(
        "--paths",
        type=_path_count,
        metavar="N",
        help="with --paths-output: also write N sample paths per series, scenarios whose "
        "periods move together as the backtest errors did (with --hierarchy each parent's path "
        f"is the sum of its children's). 1 to {MAX_PATHS}: each path is a row per series and "
        "period, so 1000 paths of 100 weekly series a year ahead are already 5.2 million rows",
    )
    p.add_argument(
        "--paths-output",
        metavar="FILE",
        help="with --paths: where to write the sample paths CSV (unique_id, ds, path, y)",
    )
    p.add_argument(
        "--seed",
        type=_non_negative_int,
        help="with --paths: seed of the sample paths; the same seed and input give the same "
        "paths (default 0)",
    )
    p.add_argument(
        "--adjust-level-shifts",
        action="store_true",
        help="rescale history before each detected level shift to the level after it before "
        "fitting (default: fit the history as it is)",
    )
    p.add_argument(
        "--hierarchy",
        help="CSV of parent_id, child_id rows: reconcile so that every parent is the sum of its "
        "children, in the backtest too, so parents get intervals and metrics of their own "
        "(see --reconcile)",
    )
    p.add_argument(
        "--reconcile",
        choices=("wls_struct", "bottom_up"),
        default="wls_struct",
        help="with --hierarchy: 'wls_struct' combines each parent's own forecast with its "
        "children's sum (every parent must be in --input); 'bottom_up' sums the children "
        "(a parent need not be in --input; one that is, far from its children's sum, is "
        "refused as wls_struct refuses it) (default wls_struct)",
    )
    p.add_argument(
        "--folds", type=_positive_int, default=3, help="rolling-origin folds (default 3)"
    )
    p.add_argument("--jobs", type=_positive_int, default=2, help="worker processes (default 2)")
    p.add_argument(
        "--models",
        type=_model_list,
        help="comma-separated candidates, e.g. seasonal_naive,ets,prophet "
        f"(default: {','.join(RECOMMENDED_MODELS)})",
    )
    p.set_defaults(handler=commands.forecast_file)


def _add_plan(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "plan",
        help="solve an allocation plan (with no arguments: the demo)",
        description="Solve the allocation LP and print hours, capital, waits and "
        "shadow prices. With no arguments it plans the synthetic demo "
        "with no server and no database.",
    )
    p.add_argument("--config", help="planning config JSON (default: the demo config)")
    p.add_argument(
        "--demand",
        help="demand CSV: service, district, ds, cases [, q90 and other quantiles; winter_index "
        "and normal_cases for a config's winter.pressure_series], or the CSV `homeward forecast "
        "--output` writes (each referrals/<service>/<district> series' mean is its demand); "
        "default: forecast the synthetic demo's history, for the demo's districts only",
    )
    p.add_argument(
        "--history",
        help="with --demand from `homeward forecast --output`: the long CSV (unique_id, ds, y) "
        "the forecasts were made from (its --input), read before the forecasts for the winter "
        "index, a bad winter (pressure_level q90, q975) and each district's normal level, as "
        "the pipeline reads its stored history",
    )
    p.add_argument(
        "--solver",
        choices=("highs", "pulp-highs", "cbc"),
        default="highs",
        help="the LP solver: highs (the default: HiGHS in memory, with shadow prices' ranges), "
        "pulp-highs (HiGHS through PuLP) or cbc (CBC through PuLP), both without ranges; "
        "HOMEWARD_SOLVER is not read",
    )
    p.add_argument("--write-mps", metavar="PATH", help="also write the LP as an MPS file")
    p.add_argument("--json", metavar="PATH", help="also write the whole plan as JSON")
    p.add_argument(
        "--csv",
        metavar="DIR",
        help="also write each of the plan's tables (hours, capital, backlog, revenue, ...) as "
        "DIR/<table>.csv for a spreadsheet (DIR is made if missing)",
    )
    p.set_defaults(handler=commands.plan_cmd)


def _add_serve(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser("serve", help="serve the API (and the scheduler) on HOST:PORT")
    p.add_argument("--host", help="default from HOMEWARD_HOST (127.0.0.1)")
    p.add_argument("--port", type=_port, help="default from HOMEWARD_PORT (8000)")
    p.add_argument(
        "--no-scheduler", action="store_true", help="do not start the pipeline scheduler"
    )
    p.set_defaults(handler=commands.serve)


def _add_demo(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "demo",
        help="create the database, load the synthetic demo, run the pipeline",
        description="Migrate the database, load the synthetic Warwickshire demo "
        "(if not loaded), store its planning config, run the pipeline once (unless the "
        "newest run's plan is still what a run would make: same data, config, settings and "
        "release); with --serve, then serve the API with the scheduler.",
    )
    p.add_argument("--serve", action="store_true", help="serve the API afterwards")
    p.add_argument(
        "--rerun",
        action="store_true",
        help="run the pipeline even when the newest run's plan is up to date",
    )
    p.add_argument(
        "--host",
        help="with --serve: default from HOMEWARD_HOST (127.0.0.1); on loopback the demo "
        "serves without API keys unless HOMEWARD_AUTH is set",
    )
    p.add_argument("--port", type=_port, help="with --serve: default from HOMEWARD_PORT (8000)")
    p.set_defaults(handler=commands.demo, no_scheduler=False)


def _add_keys(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "keys",
        help="create, list, rotate and revoke API keys",
        description="API keys for the HTTP API. A key is shown once when created and "
        "stored only as its sha256. Roles: viewer reads; planner also runs the pipeline and "
        "plans; finance also plans what-ifs and stores configs; admin does everything.",
    )
    keys = p.add_subparsers(dest="keys_command", required=True, metavar="ACTION")
    create = keys.add_parser("create", help="make a key and print it (once)")
    create.add_argument("--name", required=True, help="a unique name, e.g. finance-dashboard")
    create.add_argument(
        "--role",
        required=True,
        choices=[r.value for r in Role],
        help="what the key may do (the roles above)",
    )
    create.add_argument(
        "--expires-in",
        type=_expiry_days,
        metavar="DAYS",
        help=f"the key expires (gets 401) this many days from now, 1 to {MAX_EXPIRY_DAYS}; "
        "without it the key never expires",
    )
    create.set_defaults(handler=commands.keys_create)
    listing = keys.add_parser(
        "list", help="every key: name, role, created, last used, expires, revoked"
    )
    listing.set_defaults(handler=commands.keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by name (requests with it get 401)")
    revoke.add_argument("name", help="the key's name, as `keys list` shows it")
    revoke.set_defaults(handler=commands.keys_revoke)
    rotate = keys.add_parser(
        "rotate",
        help="replace a key by name: print a new key (once) with the same role, and revoke "
        "the old one",
    )
    rotate.add_argument("name", help="the key's name, as `keys list` shows it")
    expiry = rotate.add_mutually_exclusive_group()
    expiry.add_argument(
        "--expires-in",
        type=_expiry_days,
        metavar="DAYS",
        help="the new key expires this many days from now (without it, or --no-expiry, it "
        "expires when the old one would have)",
    )
    expiry.add_argument("--no-expiry", action="store_true", help="the new key never expires")
    rotate.set_defaults(handler=commands.keys_rotate)


def _add_migrate(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "migrate",
        help="apply pending database migrations, or check for them (--check)",
        description="Bring the database (DATABASE_URL) to the newest schema and print its "
        "revision before and after; every other command that uses the database migrates it "
        "too as it starts, so this is for migrating as a release step of its own. With "
        "--check, change nothing: exit 0 if the database is at the newest revision, 1 naming "
        "the revisions still to apply.",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing: exit 0 if the database is at head, 1 naming the pending "
        "revisions (a SQLite file that does not exist is not created)",
    )
    p.set_defaults(handler=commands.migrate)


def _add_purge(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    p = sub.add_parser(
        "purge",
        help="delete old runs with their forecasts, metrics and plans (never those served)",
        description="Delete stored runs that --keep-runs and --older-than both let go (one "
        "of them is required), with their forecasts, backtest metrics, level shifts and "
        "plans, in one transaction holding the pipeline lock. Never deleted: a queued or "
        "running run, the run serving each series' newest forecasts, the latest plan's and "
        "the active config's plan's runs, the runs a kept plan read its forecasts from, and "
        "a kept sweep's plan runs. Prints one line: what went, what was kept and why.",
    )
    p.add_argument(
        "--keep-runs",
        type=_non_negative_int,
        metavar="N",
        help="keep the N newest runs (a sweep with its plans counts as one)",
    )
    p.add_argument(
        "--older-than",
        type=_non_negative_int,
        metavar="DAYS",
        help="delete only runs that started more than DAYS days ago",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="delete nothing: print what would go (runs, forecast and metric rows, plans)",
    )
    p.set_defaults(handler=commands.purge)


def _model_list(text: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(
            f"expected model names separated by commas, found {text!r}"
        )
    try:  # a typo is named with every accepted model before the file is read
        check_model_names(names)
    except ForecastInputError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix("models: ")) from None
    return names


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, found {value}")
    return value


def _port(text: str) -> int:
    """A TCP port: uvicorn would take 99999 as 34463 (modulo 65536) and say 99999."""
    value = _positive_int(text)
    if value > MAX_PORT:
        raise argparse.ArgumentTypeError(f"expected a port from 1 to {MAX_PORT}, found {value}")
    return value


def _expiry_days(text: str) -> int:
    """`--expires-in DAYS`: whole days, 1 to MAX_EXPIRY_DAYS (a key expiring later is, for
    any policy, one that does not expire)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of days, found {text!r}"
        ) from None
    if not 1 <= value <= MAX_EXPIRY_DAYS:
        raise argparse.ArgumentTypeError(
            f"expected a whole number of days from 1 to {MAX_EXPIRY_DAYS} (ten years; leave "
            f"--expires-in out for a key that never expires), found {value}"
        )
    return value


def _path_count(text: str) -> int:
    value = _positive_int(text)
    if value > MAX_PATHS:
        raise argparse.ArgumentTypeError(
            f"expected at most {MAX_PATHS} paths per series, found {value}"
        )
    return value


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, found {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected a whole number of 0 or more, found {value}")
    return value


# what an interrupted command leaves (each writes its files, or stores its rows, all at once
# at its end)
_INTERRUPTED = {
    "forecast": "nothing written; files already at the output paths are as they were",
    "import": "nothing stored",
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `homeward` command; returns the exit status."""
    args = _parser().parse_args(argv)
    try:  # before anything logs: a refused HOMEWARD_LOG_* is said once, as other settings are
        logs = LogSettings()
    except ValidationError as exc:
        print(f"homeward {args.command}: {_invalid(exc)}", file=sys.stderr)
        return 2
    level = logging.getLevelNamesMapping()[logs.log_level]
    configure_logging(max(level, logging.WARNING) if args.quiet else level, logs.log_format)
    handler: Handler = args.handler
    try:
        return handler(args)
    except KeyboardInterrupt:
        # said, or a forecast stopped at "35/151 series done" leaves an older output file in
        # place looking like the result
        print(f"homeward {args.command}: interrupted; {_INTERRUPTED.get(args.command, '')}"
              .rstrip("; "), file=sys.stderr)  # fmt: skip
        return 130
    except Exception as exc:
        message = _user_error(exc)
        if message is None:
            raise
        print(f"homeward {args.command}: {message}", file=sys.stderr)
        return 2


LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
LOG_DATE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"
LINE_BREAK = re.compile(r"\s*\n\s*")
# uvicorn logs its server's start-up and shutdown as "uvicorn.error", at INFO: not errors
SHOWN_NAMES = {"uvicorn.error": "uvicorn"}


class _KeysMaskedInTracebacks(logging.Formatter):
    """A traceback's text with any API key in it as `hw_****`: an exception's message can quote
    what a request sent (a series id taken from the path, a header), and a traceback is logged
    whole, unlike the messages, which are masked where they are made."""

    def formatException(self, ei: Any) -> str:
        return mask_keys(super().formatException(ei))

    def format(self, record: logging.LogRecord) -> str:
        written = record.exc_text  # a traceback another handler's formatter wrote first
        if written:
            record = copy.copy(record)
            record.exc_text = mask_keys(written)
        return super().format(record)


class UtcFormatter(_KeysMaskedInTracebacks):
    """Log times in UTC, ISO 8601 with 'Z', as runs are: a host's local time
    without a date or zone cannot be matched to a run's start, or to another host's log. A
    message's own line breaks (a migration's two-line title, a rejected file's listing) become
    ' | ', so that each record is one line to grep and ship and its items stay apart; a
    traceback still follows on lines of its own."""

    def converter(self, seconds: float | None) -> time.struct_time:
        return time.gmtime(seconds)

    def formatMessage(self, record: logging.LogRecord) -> str:
        if record.name in SHOWN_NAMES:
            record = copy.copy(record)  # the record is shared with any other handler
            record.name = SHOWN_NAMES[record.name]
        return LINE_BREAK.sub(" | ", super().formatMessage(record))


# what every LogRecord has: any other attribute was passed as `extra` (the access log's fields)
# (and uvicorn's `color_message`, its message again with terminal colours)
_RECORD_FIELDS = frozenset(vars(logging.makeLogRecord({}))) | {
    "message",
    "asctime",
    "taskName",
    "color_message",
}


class JsonFormatter(_KeysMaskedInTracebacks):
    """One JSON object per line, for a log shipper: `time` (UTC, ISO 8601 with 'Z', to the
    millisecond), `level`, `logger`, `message` (its own line breaks kept, escaped by JSON),
    `exc_info` (the traceback as text) when there is one, and whatever the record was given as
    `extra` (the access log's `client`, `method`, `status`, ...). The message is the text
    line's: a password is masked where a message is made (settings.masked_url), not by the
    formatter, so it is masked here too."""

    def format(self, record: logging.LogRecord) -> str:
        moment = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        entry: dict[str, object] = {
            "time": moment.replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": SHOWN_NAMES.get(record.name, record.name),
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exc_info"] = mask_keys(record.exc_text)
        # a record's extras go beside these, never over them (an extra `level` forged one)
        entry |= {k: v for k, v in vars(record).items() if k not in _RECORD_FIELDS | entry.keys()}
        # ASCII only: a raw U+2028 in a message would split the line for some readers
        return json.dumps(entry, default=str)


def configure_logging(level: int, log_format: str = "text") -> None:
    """One line per record on stderr: `2026-11-24T06:00:01Z INFO homeward.scheduler: ...`, or
    with `log_format` "json" one JSON object (JsonFormatter). The server's own lines (uvicorn's
    start-up and access log) use this too (commands._serve passes log_config=None)."""
    handler = logging.StreamHandler()
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(UtcFormatter(LOG_FORMAT, LOG_DATE_FORMAT))
    logging.basicConfig(level=level, handlers=[handler])
    for noisy in ("cmdstanpy", "prophet", "apscheduler.executors.default", "distributed"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _user_error(exc: Exception) -> str | None:
    """What to tell the user about an error their input or environment caused (None: a bug,
    which keeps its traceback)."""
    if isinstance(exc, ValidationError):
        return _invalid(exc)
    if isinstance(exc, SQLAlchemyError):
        # The first line names the problem; the rest is SQL and a link to SQLAlchemy's docs.
        return f"database error (check DATABASE_URL): {str(exc).splitlines()[0]}"
    if isinstance(exc, HomewardError | ValueError | OSError):
        return str(exc)
    return None


def _invalid(exc: ValidationError) -> str:
    """A pydantic error on one line per field: where, expected, found (no docs links)."""
    settings = exc.title in ("Settings", LogSettings.__name__)
    parts = []
    for err in exc.errors():
        refused = refused_value(err)  # a config validator's: the field it names, its value
        loc = refused.loc if refused is not None else err["loc"]
        where = ".".join(str(p) for p in loc) or "(the whole input)"
        if settings and not where.isupper():  # an alias (DATABASE_URL) is named as it was set
            where = "HOMEWARD_" + where.upper()
        if refused is not None:
            parts.append(f"{where}: expected {refused.expected}, found {refused.found}")
        elif err["type"] == "missing":
            parts.append(f"{where}: expected a value (it is required), found nothing")
        elif err["type"] == "value_error":  # our own validators say expected and found
            parts.append(f"{where}: {err['msg'].removeprefix('Value error, ')}")
        elif err["type"] == "extra_forbidden" and not settings:
            model = PlanningConfig if exc.title == PlanningConfig.__name__ else None
            expected = unknown_field_expected(model, err["loc"])
            parts.append(f"{where}: expected {expected}, found {json_text(err['input'], 80)}")
        else:  # an environment variable's value is text; a config's is JSON
            found = repr(err["input"])[:80] if settings else json_text(err["input"], 80)
            parts.append(f"{where}: {err['msg']}, found {found}")
    what = "settings (environment variables or a .env file here)" if settings else exc.title
    return f"invalid {what}: " + "; ".join(parts)


if __name__ == "__main__":
    sys.exit(main())
