"""an index on runs' status, kind and end, for GET /metrics' reads at every scrape

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_runs_status_kind_finished_at", "runs", ["status", "kind", "finished_at"])


def downgrade() -> None:
    op.drop_index("ix_runs_status_kind_finished_at", table_name="runs")
