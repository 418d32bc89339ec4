"""runs and plans never give an id out twice on SQLite (AUTOINCREMENT) though purged

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

# the tables whose ids the API serves and `homeward purge` deletes, newest included (configs,
# imports and audit events are never deleted, so their next id is always a new one)
_TABLES = ("runs", "plans")


def upgrade() -> None:
    # A SQLite rowid table gives the next row the largest id stored plus one, so after a purge
    # of the newest plan (or run) the next one took its id, and a link, bookmark or cached
    # answer naming the old plan named the new one. AUTOINCREMENT never gives an id out twice,
    # but only a table made with it has it: each is rebuilt (batch mode), its rows copied with
    # their ids, so sqlite_sequence starts at the largest stored and new ids continue above it.
    # PostgreSQL's sequences never give an id out twice: nothing to do there.
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return
    _refuse_with_foreign_keys_on(bind)
    for table in _TABLES:
        # SQLite commits a CREATE TABLE outside any transaction: a rebuild refused or cut off
        # after it (homeward.storage's broken-references check) rolled back the copy but left
        # the empty batch table, on which every later migrate failed
        bind.exec_driver_sql(f"DROP TABLE IF EXISTS _alembic_tmp_{table}")
        if not _autoincrement(bind, table):
            with op.batch_alter_table(
                table, recreate="always", table_kwargs={"sqlite_autoincrement": True}
            ):
                pass


def _refuse_with_foreign_keys_on(bind: sa.Connection) -> None:
    # rebuilding drops the old `runs`, which with foreign keys on deletes every forecast,
    # metric, level shift and plan that refers to it (ON DELETE CASCADE);
    # homeward.storage.upgrade migrates a SQLite database with them off, as SQLite's own
    # procedure for rebuilding a table does (https://www.sqlite.org/lang_altertable.html)
    if bind.exec_driver_sql("PRAGMA foreign_keys").scalar_one():
        raise RuntimeError(
            "migration 0018 rebuilds `runs` and `plans`, which with SQLite's foreign keys on "
            "would delete every row that refers to a run: migrate with homeward.storage.upgrade "
            "(`homeward migrate`), which turns them off while it migrates"
        )


def _autoincrement(bind: sa.Connection, table: str) -> bool:
    sql = bind.execute(
        sa.text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :name"),
        {"name": table},
    ).scalar_one()
    return "AUTOINCREMENT" in str(sql).upper()


def downgrade() -> None:
    # nothing to undo: a release before this one reads and writes the rebuilt tables alike,
    # and ids it then gives out stay new ones
    pass
