"""Indexes on lower(name), lower(slug) and lower(key): every write finds its branch system by
name or slug and system key, case-insensitively. Without them, at 4,000 sites, PostgreSQL
walked every branch system to find one (50 ms a write for the last branches).

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

LOOKUPS = (
    ("ix_branches_lower_name", "branches", "name"),
    ("ix_branches_lower_slug", "branches", "slug"),
    ("ix_systems_lower_key", "systems", "key"),
)


def upgrade() -> None:
    for name, table, column in LOOKUPS:
        op.create_index(name, table, [sa.text(f"lower({column})")])


def downgrade() -> None:
    for name, table, _ in LOOKUPS:
        op.drop_index(name, table_name=table)
