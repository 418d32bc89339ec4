"""an import that replaced its series' history whole: how many stored values it deleted, and
how many of those were at periods it did not have (both null for a merged upload)

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("imports", sa.Column("replaced", sa.Integer(), nullable=True))
    op.add_column("imports", sa.Column("removed", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("imports") as batch:
        batch.drop_column("removed")
        batch.drop_column("replaced")
