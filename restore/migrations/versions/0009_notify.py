"""Notifications: users' Apprise channels, single-use links (invite, reset, check-in),
the delivery log, reminders sent, alert subscriptions and the alert queue.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

from restore.store import UTCDateTime

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

USER = "users.id"
BRANCH = "branches.id"


def upgrade() -> None:
    op.create_table(
        "notify_channels",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(USER), nullable=False),
        sa.Column("url", sa.Text, nullable=False),
        sa.Column("masked", sa.String(300), nullable=False),
        sa.Column("added_at", UTCDateTime, nullable=False),
        sa.Column("added_by", sa.String(80), nullable=False),
    )
    op.create_index("ix_notify_channels_user", "notify_channels", ["user_id"])
    op.create_table(
        "notify_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("purpose", sa.String(10), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(USER), nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey(BRANCH)),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("expires_at", UTCDateTime, nullable=False),
        sa.Column("used_at", UTCDateTime),
        sa.Column("revoked_at", UTCDateTime),
        sa.Column("created_by", sa.String(80), nullable=False),
    )
    op.create_table(
        "notify_log",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("username", sa.String(80), nullable=False),
        sa.Column("channel", sa.String(300), nullable=False),
        sa.Column("purpose", sa.String(20), nullable=False),
        sa.Column("branch", sa.String(60)),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
    )
    op.create_index("ix_notify_log_at", "notify_log", ["at"])
    op.create_table(
        "notify_reminders",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey(BRANCH), nullable=False),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(USER), nullable=False),
        sa.Column("link_id", sa.Integer, sa.ForeignKey("notify_links.id")),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("sent_by", sa.String(80), nullable=False),
    )
    op.create_index("ix_notify_reminders_branch", "notify_reminders", ["branch_id", "at"])
    op.create_table(
        "notify_subscriptions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(USER), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("branch_id", sa.Integer, sa.ForeignKey(BRANCH)),
    )
    op.create_table(
        "notify_alert_queue",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("user_id", sa.Integer, sa.ForeignKey(USER), nullable=False),
        sa.Column("key", sa.String(120), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("branch", sa.String(60), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("sent_at", UTCDateTime),
        sa.Column("outcome", sa.String(12)),
        sa.UniqueConstraint("user_id", "key"),
    )
    op.create_index("ix_notify_queue_pending", "notify_alert_queue", ["sent_at", "created_at"])


def downgrade() -> None:
    for name in (
        "notify_alert_queue", "notify_subscriptions", "notify_reminders", "notify_log",
        "notify_links", "notify_channels",
    ):  # fmt: skip
        op.drop_table(name)
