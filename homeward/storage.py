"""Database plumbing: engines, sessions and Alembic migrations for SQLite or any DATABASE_URL."""

from __future__ import annotations

import fcntl
import logging
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.util import asbool

from homeward.errors import HomewardError

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# PostgreSQL advisory lock key held while migrating ('hwmg'), so that processes starting at
# once on an empty database (replicas, the service and a `homeward keys create`) take turns
MIGRATION_LOCK_KEY = 0x68776D67


class SchemaTooNew(HomewardError):
    """The database was migrated by a newer Homeward than this one (an image rolled back)."""


CONNECT_TIMEOUT_S = 10
# The longest any one statement may run on PostgreSQL unless the caller says otherwise
# (HOMEWARD_DB_STATEMENT_TIMEOUT_S): the slowest of ours on the demo, storing a plan's rows,
# takes well under a second, so a minute is never reached by honest work, and a server that
# accepts a query and then hangs (a stalled disk, a lock nobody releases) fails the request
# with a 503 instead of holding its thread for as long as the hang lasts.
STATEMENT_TIMEOUT_S = 60.0
# libpq's TCP settings (https://www.postgresql.org/docs/current/libpq-connect.html): an idle
# pooled connection to a host that has gone (a partition, a failover) is probed after 30 s and
# dropped after three unanswered probes 10 s apart; a query sent and never acknowledged fails
# after 30 s. Without them such a connection waits for the operating system's ~2 hours (15
# minutes of retransmits for a sent query). A server that is slow but reachable answers the
# probes at the TCP level, so they never cut a long query short.
POSTGRES_KEEPALIVES: dict[str, int] = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
    "tcp_user_timeout": 30_000,  # milliseconds
}


def make_engine(url: str, statement_timeout_s: float = STATEMENT_TIMEOUT_S) -> Engine:
    """An engine for `url`; SQLite gets its parent folder created, foreign keys and WAL;
    PostgreSQL sessions are in UTC, each statement is cancelled by the server after
    `statement_timeout_s` seconds (0: no limit, the server's own setting applies), and a
    connection to a host that stopped answering is dropped (`POSTGRES_KEEPALIVES`). A
    parameter the URL itself gives (`?connect_timeout=5`) wins over ours."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        _private_sqlite_file(url)
    engine = create_engine(url, pool_pre_ping=True, connect_args=_connect_args(url))
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    if engine.dialect.name == "postgresql":
        event.listen(engine, "connect", _postgres_in_utc)
        if statement_timeout_s > 0:
            event.listen(engine, "connect", _statement_timeout(statement_timeout_s))
    return engine


def _private_sqlite_file(url: str) -> None:
    """The folder of a SQLite database, made readable by its owner only (0700) when made here;
    the database itself is made 0600 when its first connection creates it (`_sqlite_pragmas`).
    A `uri=true` URL's `file:` name is SQLite's to read."""
    parsed = make_url(url)
    uri = parsed.query.get("uri")
    if not (isinstance(uri, str) and asbool(uri)):
        Path(parsed.database or "").parent.mkdir(mode=0o700, parents=True, exist_ok=True)


def _connect_args(url: str) -> dict[str, int]:
    """libpq's parameters for a PostgreSQL URL, less those the URL sets; none for others."""
    if not url.startswith("postgres"):
        return {}
    # a PostgreSQL host that does not answer (a partition, a firewall dropping packets) fails
    # a connection in seconds, not after the operating system's two minutes
    ours = {"connect_timeout": CONNECT_TIMEOUT_S, **POSTGRES_KEEPALIVES}
    given = make_url(url).query
    return {name: value for name, value in ours.items() if name not in given}


def _statement_timeout(seconds: float) -> Callable[[Any, Any], None]:
    """A connect hook setting the session's statement_timeout (whole milliseconds, at least 1:
    PostgreSQL reads 0 as no limit)."""
    milliseconds = max(1, round(seconds * 1000))

    def set_timeout(dbapi_connection: Any, _record: Any) -> None:
        autocommit = dbapi_connection.autocommit
        dbapi_connection.autocommit = True  # a SET outside any transaction, kept by the session
        with dbapi_connection.cursor() as cursor:
            cursor.execute(f"SET statement_timeout = {milliseconds}")
        dbapi_connection.autocommit = autocommit

    return set_timeout


def _postgres_in_utc(dbapi_connection: Any, _record: Any) -> None:
    """Times come back in UTC, as everything Homeward shows is labelled, whatever the
    server's TimeZone (often Europe/London): the stored instants are the same either way."""
    autocommit = dbapi_connection.autocommit
    dbapi_connection.autocommit = True  # a SET outside any transaction, kept by the session
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    dbapi_connection.autocommit = autocommit


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    # the wait first: switching a new file to WAL takes a lock, and another process starting
    # at the same moment holds it, which without a busy timeout is 'database is locked' at once
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    _private_if_new(cursor)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _private_if_new(cursor: Any) -> None:
    """A database file this connection has just created (still empty) made 0600 before WAL is
    switched on, so SQLite gives its -wal and -shm files that mode too: it holds the council's
    series and the API keys' hashes, and was made -rw-r--r--. One that exists keeps the mode
    its operator gave it; an in-memory database has no file."""
    path = next((row[2] for row in cursor.execute("PRAGMA database_list") if row[1] == "main"), "")
    with suppress(OSError):
        if path and os.path.getsize(path) == 0:
            os.chmod(path, 0o600)


def drop_column_in_place(table: str, column: str) -> None:
    """A migration's downgrade dropping a plain column. Alembic's batch mode rebuilds a SQLite
    table and drops the old one, which, with foreign keys on (as every connection here has
    them), cascades to every row that refers to it: downgrading `runs` deleted every forecast
    and plan. SQLite 3.35 and later drop a plain column in place instead."""
    from alembic import op

    if op.get_bind().dialect.name == "sqlite":
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN "{column}"')
    else:
        op.drop_column(table, column)


def alembic_config(url: str) -> Config:
    """An Alembic config pointing at our migrations and at `url`."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> str | None:
    """Bring the database to the newest schema (idempotent); the revision it was at, read
    under the migration lock (None: never migrated). Processes doing it at once take turns:
    the first migrates, the others then find the schema current, and the revision they
    found is the newest."""
    cfg = alembic_config(engine.url.render_as_string(hide_password=False))
    chatter = logging.getLogger("alembic.runtime.migration")
    with (
        _quiet(chatter),
        _sqlite_file_lock(engine),
        engine.connect() as connection,
        _sqlite_foreign_keys_off(connection),
        connection.begin(),
    ):
        _postgres_lock(connection)
        _refuse_a_newer_schema(connection, ScriptDirectory.from_config(cfg))
        before = MigrationContext.configure(connection).get_current_revision()
        cfg.attributes["connection"] = connection
        broken = _broken_references(connection)
        command.upgrade(cfg, "head")
        _refuse_more_broken_references(connection, broken)
    return before


@contextmanager
def _sqlite_foreign_keys_off(connection: Connection) -> Iterator[None]:
    """SQLite's foreign keys off while migrating, as its procedure for rebuilding a table asks
    (https://www.sqlite.org/lang_altertable.html): with them on, dropping the old `runs` in a
    rebuild (migration 0018) deletes every row that refers to a run. Set before the migration's
    transaction begins (inside one SQLite ignores it), and on again after it ends, as every
    connection here has them (_sqlite_pragmas)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    connection.commit()  # the PRAGMA began SQLAlchemy's transaction (nothing to commit)
    try:
        yield
    finally:
        connection.exec_driver_sql("PRAGMA foreign_keys=ON")
        connection.commit()


def _broken_references(connection: Connection) -> int | None:
    """On SQLite with migrations to run, how many rows refer to a row that is not stored
    (none, unless something wrote with foreign keys off); None when nothing is to be checked."""
    if connection.dialect.name != "sqlite":
        return None
    if MigrationContext.configure(connection).get_current_revision() == all_revisions()[-1]:
        return None  # nothing to migrate: no need to read every row that refers to another
    return len(connection.exec_driver_sql("PRAGMA foreign_key_check").all())


def _refuse_more_broken_references(connection: Connection, before: int | None) -> None:
    """A SQLite database migrated with its foreign keys off: no reference it held has been
    broken, checked before the migration commits. A failure rolls back its rows and the
    revision; SQLite commits a CREATE TABLE at once, so a rebuild's empty batch table may be
    left, which the migration drops when it runs again (0018)."""
    if before is None:
        return
    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    if len(broken) > before:
        table, rowid, parent, _ = broken[0]
        raise RuntimeError(
            f"migrating left {len(broken) - before} more rows referring to rows that are not "
            f"stored (e.g. {table} rowid {rowid}, to {parent}); the migration was rolled back"
        )


def schema_revision(engine: Engine) -> str | None:
    """The database's Alembic revision ('0009'); None for a database never migrated."""
    chatter = logging.getLogger("alembic.runtime.migration")
    with _quiet(chatter), engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def all_revisions() -> list[str]:
    """Every revision this code knows, oldest first."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    return [script.revision for script in reversed(list(scripts.walk_revisions()))]


def pending_revisions(engine: Engine) -> list[str]:
    """The revisions `upgrade` would apply, oldest first; changes nothing. SchemaTooNew if
    the database's revision is none this code knows."""
    scripts = ScriptDirectory(str(MIGRATIONS_DIR))
    chatter = logging.getLogger("alembic.runtime.migration")
    with _quiet(chatter), engine.connect() as connection:
        _refuse_a_newer_schema(connection, scripts)
        current = MigrationContext.configure(connection).get_current_revision()
    ahead = scripts.iterate_revisions("head", current or "base")
    return [script.revision for script in reversed(list(ahead))]


def _refuse_a_newer_schema(connection: Connection, scripts: ScriptDirectory) -> None:
    """SchemaTooNew if the database's revision is none this code knows (Alembic would fail
    with "Can't locate revision" and a traceback)."""
    current = MigrationContext.configure(connection).get_current_revision()
    known = [script.revision for script in scripts.walk_revisions()]
    if current is not None and current not in known:
        raise SchemaTooNew(
            f"the database's schema is at revision {current!r}, which this Homeward "
            f"({', '.join(reversed(known))}) does not know: a newer release migrated it. "
            "Run that release again, or restore a backup taken before it"
        )


class _AlembicChatter(logging.Filter):
    """Drops Alembic's 'Context impl SQLiteImpl.' and 'Will assume transactional DDL.', logged
    at every start and command; keeps 'Running upgrade 0005 -> 0006, ...'."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.msg).startswith(("Context impl", "Will assume"))


@contextmanager
def _quiet(logger: logging.Logger) -> Iterator[None]:
    chatter = _AlembicChatter()
    logger.addFilter(chatter)
    try:
        yield
    finally:
        logger.removeFilter(chatter)


def lift_statement_timeout(db: Connection | Session) -> None:
    """On PostgreSQL, no statement timeout for the rest of this transaction (SET LOCAL): for
    work that waits its turn or is long by nature (a migration, an upload waiting for another
    to be stored, a purge of a year's runs), which HOMEWARD_DB_STATEMENT_TIMEOUT_S, a bound
    for a hung server, would otherwise cancel. Nothing elsewhere."""
    bind = db if isinstance(db, Connection) else db.get_bind()
    if bind.dialect.name == "postgresql":
        db.execute(text("SET LOCAL statement_timeout = 0"))


def _postgres_lock(connection: Connection) -> None:
    """On PostgreSQL, wait for the migration lock; it is released when the transaction ends.
    Neither the wait (for another process's migration) nor a migration rewriting a large table
    is held to the statement timeout."""
    if connection.dialect.name == "postgresql":
        lift_statement_timeout(connection)
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK_KEY})


@contextmanager
def _sqlite_file_lock(engine: Engine) -> Iterator[None]:
    """On a SQLite file, hold an exclusive lock on `<file>.migrate.lock` (SQLite runs each
    CREATE TABLE on its own, outside any transaction another process would wait for)."""
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        yield
        return
    lock = os.open(f"{database}.migrate.lock", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(lock, "a") as lock_file:  # 0600 when made, as the database
        fcntl.flock(lock_file, fcntl.LOCK_EX)  # released when the file closes
        yield


@contextmanager
def brief_lock_wait(engine: Engine, seconds: float) -> Iterator[Connection]:
    """A transaction whose statements give up after `seconds` waiting for another's lock
    (SQLite's busy timeout, PostgreSQL's lock_timeout) rather than the usual 30 s (SQLite) or
    statement timeout: for a write that may be skipped, so that a long import holding SQLite's
    write lock never holds up the request the write was made for."""
    milliseconds = max(1, round(seconds * 1000))
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                connection.exec_driver_sql(f"SET LOCAL lock_timeout = {milliseconds}")
                yield connection
            return
        usual = connection.exec_driver_sql("PRAGMA busy_timeout").scalar_one()
        connection.exec_driver_sql(f"PRAGMA busy_timeout={milliseconds}")
        connection.commit()  # the PRAGMAs began SQLAlchemy's transaction (nothing to commit)
        try:
            with connection.begin():
                yield connection
        finally:  # the connection goes back to the pool: give it its usual wait again
            connection.exec_driver_sql(f"PRAGMA busy_timeout={int(usual)}")
            connection.commit()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions that keep loaded values usable after commit."""
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    with factory() as session, session.begin():
        yield session
