"""the models each combination (mean_best2, ...) combined, stored with its backtest metrics

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # nullable: runs stored before this did not record them, and a guess would mislead
    op.add_column("forecast_metrics", sa.Column("members", sa.JSON(), nullable=True))


def downgrade() -> None:
    drop_column_in_place("forecast_metrics", "members")
