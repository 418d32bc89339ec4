"""who stored each import, config, run and plan, and an append-only audit trail

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_TABLES = ("imports", "planning_configs", "runs", "plans")


def upgrade() -> None:
    # null in older rows: who stored them was never recorded (the access log's `key=` names
    # a key but not the id it made, and is not kept with the data), so a guess would state
    # what is not known
    for table in _TABLES:
        op.add_column(table, sa.Column("created_by", sa.String(length=100), nullable=True))
    op.create_table(
        "audit_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_events")),
    )


def downgrade() -> None:
    op.drop_table("audit_events")
    for table in reversed(_TABLES):
        drop_column_in_place(table, "created_by")
