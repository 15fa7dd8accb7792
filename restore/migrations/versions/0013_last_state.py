"""Each branch system keeps its last event's state, time and expected date beside the pointer
to it, moved in the same transaction: the overview's status of 100,000 branch systems then
reads one table, not a lookup into a 2,000,000-row log for each (restore.queries.status).

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from restore.store import UTCDateTime

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COPIED = (("last_state", "state"), ("last_at", "effective_at"), ("last_eta", "eta"))


def upgrade() -> None:
    op.add_column("branch_systems", sa.Column("last_state", sa.String(20)))
    op.add_column("branch_systems", sa.Column("last_at", UTCDateTime))
    op.add_column("branch_systems", sa.Column("last_eta", sa.Date))
    sets = ", ".join(
        f"{mine} = (SELECT e.{theirs} FROM events e WHERE e.id = branch_systems.last_event_id)"
        for mine, theirs in COPIED
    )
    op.execute(f"UPDATE branch_systems SET {sets} WHERE last_event_id IS NOT NULL")


def downgrade() -> None:
    for mine, _ in reversed(COPIED):
        op.drop_column("branch_systems", mine)
