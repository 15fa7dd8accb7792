"""Recovery: checklist items, ticks and evidence files, dependencies, clocks and their
notifications, and the closing of incidents (restore.recovery).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from restore.store import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BS = "branch_systems.id"
INCIDENT = "incidents.id"


def upgrade() -> None:
    op.create_table(
        "recovery_items",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("key", sa.String(40), nullable=False, unique=True),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("gate", sa.String(10), nullable=False),
        sa.Column("applies_to", sa.Text, nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False, server_default="0"),
        sa.Column("retired", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.create_table(
        "recovery_ticks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_system_id", sa.Integer, sa.ForeignKey(BS), nullable=False),
        sa.Column("item_key", sa.String(40), nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_index("ix_recovery_ticks_bs", "recovery_ticks", ["branch_system_id", "item_key"])
    op.create_table(
        "recovery_evidence",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tick_id", sa.Integer, sa.ForeignKey("recovery_ticks.id"), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
    )
    op.create_index("ix_recovery_evidence_tick", "recovery_evidence", ["tick_id"])
    op.create_table(
        "recovery_depends",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("branch_system_id", sa.Integer, sa.ForeignKey(BS), nullable=False),
        sa.Column("on_id", sa.Integer, sa.ForeignKey(BS), nullable=False),
        sa.Column("added_by", sa.String(80), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.UniqueConstraint("branch_system_id", "on_id"),
    )
    op.create_table(
        "recovery_clocks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("incident_id", sa.Integer, sa.ForeignKey(INCIDENT), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("started_at", UTCDateTime, nullable=False),
        sa.Column("due_hours", sa.Integer, nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(80), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
    )
    op.create_table(
        "recovery_clock_events",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("clock_id", sa.Integer, sa.ForeignKey("recovery_clocks.id"), nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor", sa.String(80), nullable=False),
        sa.Column("reference", sa.String(200), nullable=False),
        sa.Column("note", sa.Text, nullable=False, server_default=""),
    )
    op.create_table(
        "recovery_closings",
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey(INCIDENT),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("reinfection_days", sa.Integer, nullable=False, server_default="14"),
        sa.Column("proposed_by", sa.String(80)),
        sa.Column("proposed_at", UTCDateTime),
        sa.Column("lessons", sa.Text, nullable=False, server_default=""),
        sa.Column("actions", sa.Text, nullable=False, server_default="[]"),
        sa.Column("confirmed_by", sa.String(80)),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("report_md", sa.Text),
        sa.Column("report_pdf", sa.LargeBinary),
        sa.Column("figures", sa.Text),
    )


def downgrade() -> None:
    for name in (
        "recovery_closings",
        "recovery_clock_events",
        "recovery_clocks",
        "recovery_depends",
        "recovery_evidence",
        "recovery_ticks",
        "recovery_items",
    ):
        op.drop_table(name)
