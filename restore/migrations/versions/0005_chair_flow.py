"""The last note stays in view, never-reported systems count from when they exist, form
submissions are idempotent, and users have a phone number.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from restore.store import EventId, UTCDateTime

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("branch_systems") as batch:
        batch.add_column(sa.Column("note_event_id", EventId))
        batch.add_column(sa.Column("created_at", UTCDateTime))
    op.execute(
        "UPDATE branch_systems SET note_event_id = (SELECT max(e.id) FROM events e "
        "WHERE e.branch_system_id = branch_systems.id AND e.note <> '')"
    )
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("phone", sa.String(40)))
    # SQLite's batch mode would copy the append-only events table; a plain ALTER adds in place.
    op.add_column("events", sa.Column("submission", sa.String(64)))
    op.create_index("ux_events_submission", "events", ["submission"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_events_submission", "events")
    op.drop_column("events", "submission")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("phone")
    with op.batch_alter_table("branch_systems") as batch:
        batch.drop_column("created_at")
        batch.drop_column("note_event_id")
