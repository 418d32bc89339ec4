"""a key name is unique among active keys only, so `keys rotate` can replace a key by name

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

ACTIVE = sa.text("revoked_at IS NULL")


def upgrade() -> None:
    # api_keys is referred to by no other table, so batch mode's SQLite rebuild cascades nowhere
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_constraint("uq_api_keys_name", type_="unique")
    op.create_index(
        "uq_api_keys_active_name",
        "api_keys",
        ["name"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    # a name is unique again: each rotated name keeps its newest key's row, and its older
    # (revoked) rows, which the older schema cannot hold, are deleted
    op.execute("DELETE FROM api_keys WHERE id NOT IN (SELECT MAX(id) FROM api_keys GROUP BY name)")
    op.drop_index("uq_api_keys_active_name", table_name="api_keys")
    with op.batch_alter_table("api_keys") as batch:
        batch.create_unique_constraint("uq_api_keys_name", ["name"])
