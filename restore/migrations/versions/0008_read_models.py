"""Incremental read models (day counts, state spans, outages, date moves, daily board
pointers, incident systems, per-topic versions), filled from the log.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

from restore.store import EventId, UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

BS = "branch_systems.id"


def upgrade() -> None:
    op.create_table(
        "rm_state_days",
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("system_id", sa.Integer, primary_key=True),
        sa.Column("region", sa.String(60), primary_key=True),
        sa.Column("incident_id", sa.Integer, primary_key=True),
        sa.Column("state", sa.String(20), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    op.create_table(
        "rm_state_spans",
        sa.Column("event_id", EventId, primary_key=True, autoincrement=False),
        sa.Column("bs_id", sa.Integer, sa.ForeignKey(BS), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("incident_id", sa.Integer, nullable=False),
        sa.Column("prev_state", sa.String(20)),
        sa.Column("prev_incident_id", sa.Integer),
    )
    op.create_index("ix_rm_spans_bs", "rm_state_spans", ["bs_id", "started_at"])
    op.create_index("ix_rm_spans_started", "rm_state_spans", ["started_at"])
    op.create_table(
        "rm_outages",
        sa.Column("bs_id", sa.Integer, sa.ForeignKey(BS), primary_key=True),
        sa.Column("down_at", UTCDateTime, primary_key=True),
        sa.Column("restored_at", UTCDateTime),
    )
    op.create_table(
        "rm_eta_moves",
        sa.Column("event_id", EventId, primary_key=True, autoincrement=False),
        sa.Column("bs_id", sa.Integer, sa.ForeignKey(BS), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("from_eta", sa.Date, nullable=False),
        sa.Column("to_eta", sa.Date, nullable=False),
    )
    op.create_table(
        "rm_board_days",
        sa.Column("bs_id", sa.Integer, sa.ForeignKey(BS), primary_key=True),
        sa.Column("day", sa.Date, primary_key=True),
        sa.Column("event_id", EventId, nullable=False),
        sa.Column("since", UTCDateTime, nullable=False),
        sa.Column("note_event_id", EventId),
    )
    op.create_table(
        "rm_incident_systems",
        sa.Column("incident_id", sa.Integer, primary_key=True),
        sa.Column("bs_id", sa.Integer, primary_key=True),
    )
    op.create_table(
        "rm_versions",
        sa.Column("topic", sa.String(20), primary_key=True),
        sa.Column("region", sa.String(60), primary_key=True),
        sa.Column("n", sa.Integer, nullable=False),
    )
    from restore.readmodels import rebuild_in  # the log is replayed by today's code

    rebuild_in(op.get_bind())


def downgrade() -> None:
    for name in (
        "rm_versions", "rm_incident_systems", "rm_board_days", "rm_eta_moves", "rm_outages",
        "rm_state_spans", "rm_state_days",
    ):  # fmt: skip
        op.drop_table(name)
