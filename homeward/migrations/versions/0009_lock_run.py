"""the run a lock's holder is working on, and the process running each pipeline run, so
recovery can close a running run that the lock does not name while another run holds it

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("locks", sa.Column("run_id", sa.Integer(), nullable=True))
    op.add_column("runs", sa.Column("holder", sa.String(200), nullable=True))


def downgrade() -> None:
    drop_column_in_place("runs", "holder")
    drop_column_in_place("locks", "run_id")
