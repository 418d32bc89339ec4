"""the team and area totals a pipeline run reconciled, each with the series it summed

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # null in older rows: which districts a run left out of a total (one out of step with the
    # rest) was said only in its message, so the active config's teams would be a guess
    op.add_column("runs", sa.Column("totals", sa.JSON(), nullable=True))


def downgrade() -> None:
    drop_column_in_place("runs", "totals")
