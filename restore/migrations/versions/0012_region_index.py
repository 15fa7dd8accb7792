"""An index on branches.region: the overview reads the board one region at a time (a write
re-reads only its own region's part). Without it SQLite scanned every branch system for each
region: twelve scans of 100,000 rows at 4,000 sites.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_branches_region", "branches", ["region"])


def downgrade() -> None:
    op.drop_index("ix_branches_region", table_name="branches")
