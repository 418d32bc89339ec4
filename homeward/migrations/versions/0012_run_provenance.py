"""when a run was queued (kept apart from when it started) and which sweep made a plan run

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # both nullable and left null in older rows: a queued run's queue time was overwritten
    # when it started, and which sweep made a plan run was never recorded, so a copied
    # `started_at` or a guess from timestamps would state what is not known
    op.add_column("runs", sa.Column("queued_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("runs", sa.Column("parent_run_id", sa.Integer(), nullable=True))


def downgrade() -> None:
    drop_column_in_place("runs", "parent_run_id")
    drop_column_in_place("runs", "queued_at")
