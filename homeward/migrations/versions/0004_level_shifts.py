"""level shifts the forecasting engine found, stored with each run

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "level_shifts",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.String(length=200), nullable=False),
        sa.Column("ds", sa.DateTime(), nullable=False),
        sa.Column("ratio", sa.Float(), nullable=False),
        sa.Column("t_stat", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"], ["runs.id"], name=op.f("fk_level_shifts_run_id_runs"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("run_id", "series_id", "ds", name=op.f("pk_level_shifts")),
    )


def downgrade() -> None:
    op.drop_table("level_shifts")
