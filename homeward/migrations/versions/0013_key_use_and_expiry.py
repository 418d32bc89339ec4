"""when each API key was last used, and an optional moment it expires

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from homeward.storage import drop_column_in_place

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # both null in older rows: when a key was last used was never recorded (a guess from the
    # access log would state what is not known), and a key made before expiry existed never
    # expires, as it did not before the upgrade
    op.add_column("api_keys", sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("api_keys", sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    # the older schema cannot expire a key, so a key that would have expired is revoked now
    # rather than left working for ever (a contractor's 90-day key outliving the contract)
    op.execute(
        "UPDATE api_keys SET revoked_at = CURRENT_TIMESTAMP "
        "WHERE revoked_at IS NULL AND expires_at IS NOT NULL"
    )
    drop_column_in_place("api_keys", "expires_at")
    drop_column_in_place("api_keys", "last_used_at")
