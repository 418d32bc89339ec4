"""a pipeline run's forecast and solver settings, hashed, so a restart can tell whether the
stored plan is still what a run would make

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("runs", sa.Column("settings_hash", sa.String(64), nullable=True))


def downgrade() -> None:
    drop_column_in_place("runs", "settings_hash")
