"""A branch may name the area (or parent site) it belongs to, for organisations' own site lists.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("branches") as batch:
        batch.add_column(sa.Column("area", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("branches") as batch:
        batch.drop_column("area")
